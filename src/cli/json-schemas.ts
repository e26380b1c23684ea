/**
 * The `--json` output of each command, as zod schemas: the one description
 * that `npm run schema` writes to schema/json/*.schema.json and that the e2e
 * tests parse every printed object with. Objects are strict, so a field that
 * is renamed, added or dropped without updating this file fails the tests.
 * Version 1: fields are only ever added (docs/json.md).
 */
import { z } from 'zod';

const version = z.literal(1).describe('the version of this shape; fields are only ever added');
const side = z.enum(['a', 'b']);
const value = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);

/** What every command prints with `--json` when it fails before a result (docs/exit-codes.md). */
export const errorOutput = z.strictObject({
  version,
  exitCode: z.number().int(),
  error: z.strictObject({
    code: z.string(),
    kind: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    problems: z.array(z.string()).optional(),
  }),
}).describe('a command that failed before its result');

const mappingRow = z.strictObject({
  a: z.string(), b: z.string(), types: z.string(), direction: z.string(), origin: z.string(), note: z.string().optional(),
});

const sideCounts = z.strictObject({
  connection: z.string(),
  read: z.number().int(), created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(),
  failed: z.number().int(), excluded: z.number().int(), deleted: z.number().int(),
});

const fieldChange = z.strictObject({ side, field: z.string(), from: value, to: value, why: z.string() });

const plannedAction = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('create'), in: side, from: z.string(), fields: z.record(z.string(), value) }),
  z.strictObject({ kind: z.literal('update'), in: side, id: z.string(), changes: z.array(fieldChange) }),
  z.strictObject({ kind: z.literal('link'), a: z.string(), b: z.string(), key: z.string() }),
  z.strictObject({ kind: z.literal('fail'), side, id: z.string(), reason: z.string() }),
  z.strictObject({ kind: z.literal('exclude'), side, id: z.string(), reason: z.string() }),
  z.strictObject({ kind: z.literal('deleted'), side, id: z.string() }),
]);

export const runOutput = z.strictObject({
  version,
  runId: z.number().int().nullable().describe('the run number in the state; null on a dry run (nothing is recorded)'),
  dryRun: z.boolean(),
  exitCode: z.number().int(),
  syncs: z.array(z.strictObject({
    name: z.string(),
    object: z.string(),
    outcome: z.enum(['ok', 'failed-records', 'stopped', 'error', 'interrupted']),
    linked: z.number().int(),
    conflicts: z.number().int().describe('records edited on both sides'),
    sides: z.tuple([sideCounts, sideCounts]),
    mappings: z.array(mappingRow),
    error: z.strictObject({ code: z.string(), message: z.string(), hint: z.string().optional() }).optional(),
    warnings: z.array(z.string()).optional(),
    plan: z.array(plannedAction).optional().describe('only with --dry-run'),
  })),
}).describe('datasync run --json');

const healthGroup = z.strictObject({
  reason: z.string(),
  advice: z.string(),
  count: z.number().int(),
  records: z.array(z.strictObject({
    connection: z.string(), id: z.string(), label: z.string().optional(), detail: z.string(),
    attempts: z.number().int().optional(), nextRetryAt: z.string().nullable().optional(),
  })),
});

export const healthOutput = z.strictObject({
  version,
  state: z.string(),
  exitCode: z.number().int(),
  syncs: z.array(z.strictObject({
    name: z.string(),
    object: z.string(),
    between: z.tuple([z.string(), z.string()]),
    enabled: z.boolean(),
    status: z.enum(['No active syncs', 'Scanning', 'In progress', 'Active and listening', 'Queued']),
    statusText: z.string(),
    counts: z.strictObject({ inSync: z.number().int(), failed: z.number().int(), excluded: z.number().int(), deletedLinks: z.number().int() }),
    lastRun: z.strictObject({ at: z.string(), outcome: z.string(), ageSeconds: z.number() }).nullable(),
    lastSuccessAt: z.string().nullable(),
    stale: z.boolean(),
    mappings: z.array(mappingRow),
    changes: z.record(z.string(), z.string()).optional().describe('connection → how it finds changes in the object'),
    failed: z.array(healthGroup).optional(),
    excluded: z.array(healthGroup).optional(),
    deleted: z.array(z.strictObject({ a: z.string(), b: z.string(), deletedIn: z.string(), how: z.string() })).optional(),
    warnings: z.array(z.string()).optional(),
  })),
  webhooks: z.array(z.strictObject({
    connection: z.string(),
    live: z.boolean().describe('the watcher receiving them runs'),
    url: z.string(),
    events: z.number().int(),
    duplicates: z.number().int(),
    signatureFailures: z.number().int(),
    lastEventAt: z.string().nullable(),
    eventsPerMinute: z.number().describe('over the last 10 minutes'),
    targetedPasses: z.number().int(),
    lastPassAt: z.string().nullable(),
    lastFailureAt: z.string().nullable(),
    lastFailure: z.string().nullable(),
    startedAt: z.string(),
    stoppedAt: z.string().nullable(),
  })).optional().describe("`watch`'s HubSpot webhook receivers, once one has run"),
}).describe('datasync health --json');

export const validateOutput = z.strictObject({
  version,
  config: z.string(),
  valid: z.literal(true),
  connections: z.array(z.strictObject({
    name: z.string(),
    app: z.string(),
    objects: z.array(z.strictObject({ name: z.string(), fields: z.number().int(), changeCursor: z.boolean() })),
  })),
  syncs: z.array(z.strictObject({ name: z.string(), object: z.string(), between: z.tuple([z.string(), z.string()]), mappings: z.number().int() })),
}).describe('datasync validate --json');

export const doctorOutput = z.strictObject({
  version,
  config: z.string(),
  findings: z.array(z.strictObject({
    level: z.enum(['ok', 'warning', 'problem']),
    check: z.string(),
    message: z.string(),
    fix: z.string().optional(),
  })),
  exitCode: z.number().int(),
}).describe('datasync doctor --json');

const connectedObject = z.strictObject({
  name: z.string(),
  fields: z.number().int(),
  changes: z.string().optional().describe('how changes are found in it'),
  associations: z.array(z.string()).optional(),
});
const secret = z.string().nullable().describe('at most the last four characters of the secret');

export const connectOutput = z.union([
  z.strictObject({
    version,
    connection: z.strictObject({
      name: z.string(), app: z.string(), secret, objects: z.array(connectedObject), state: z.string(), configUpdated: z.string().nullable(),
    }),
  }).describe('datasync connect APP --json'),
  z.strictObject({
    version,
    connections: z.array(z.strictObject({
      name: z.string(), app: z.string(), secret, created: z.string(), objects: z.array(connectedObject), inConfig: z.boolean(),
    })),
  }).describe('datasync connect --list --json'),
  z.strictObject({ version, removed: z.string() }).describe('datasync connect --remove NAME --json'),
]);

/** Command → the schema of what it prints with --json: its result, or the error shape. */
export const jsonOutputs = {
  run: z.union([runOutput, errorOutput]),
  health: z.union([healthOutput, errorOutput]),
  validate: z.union([validateOutput, errorOutput]),
  doctor: z.union([doctorOutput, errorOutput]),
  connect: z.union([connectOutput, errorOutput]),
  error: errorOutput,
} as const;

export type JsonCommand = keyof typeof jsonOutputs;

/** The JSON Schema written to schema/json/COMMAND.schema.json. */
export function outputJsonSchema(command: JsonCommand): Record<string, unknown> {
  const schema = z.toJSONSchema(jsonOutputs[command], { io: 'output' }) as Record<string, unknown>;
  return { $schema: schema.$schema, $id: `schema/json/${command}.schema.json`, title: `datasync ${command} --json`, ...schema };
}
