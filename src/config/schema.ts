/**
 * The shape of `sync.yaml` (SPEC §3) as zod schemas. They check one node at a
 * time; rules that relate two keys (a direction naming the sync's own
 * connections, unique sync names, …) live in `rules.ts`. The same schemas give
 * the JSON Schema for editor completion.
 */
import { z } from 'zod';
import { CONNECTOR_OPTIONS } from './connector-options.js';
import { DURATION_HINT, parseDuration } from './duration.js';

export const CONNECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export const FILTER_OPS = [
  'eq', 'neq', 'in', 'not_in', 'contains', 'gt', 'gte', 'lt', 'lte', 'is_empty', 'is_not_empty',
] as const;
const LIST_OPS = new Set<string>(['in', 'not_in']);
const NO_VALUE_OPS = new Set<string>(['is_empty', 'is_not_empty']);

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const connectionSchema = z
  .looseObject({
    app: z.string().min(1).describe('the app of this connection: hubspot, sqlite, csv, …'),
  })
  .describe('one account of an app; the other keys belong to the app (token, path, base_url, objects, …)');

export const filterConditionSchema = z
  .strictObject({
    field: z.string().min(1).describe('the field of this side to test'),
    op: z.enum(FILTER_OPS).describe(`one of ${FILTER_OPS.join(', ')}`),
    value: z.union([scalar, z.array(scalar)]).optional()
      .describe('a list for in/not_in, nothing for is_empty/is_not_empty, one value otherwise'),
  })
  .superRefine((cond, ctx) => {
    const has = cond.value !== undefined;
    if (NO_VALUE_OPS.has(cond.op)) {
      if (has) ctx.addIssue({ code: 'custom', path: ['value'], message: `op ${cond.op} takes no value; remove 'value'` });
    } else if (LIST_OPS.has(cond.op)) {
      if (!Array.isArray(cond.value)) {
        ctx.addIssue({ code: 'custom', path: has ? ['value'] : [], message: `op ${cond.op} needs a list value, like [SE, NO]` });
      }
    } else if (!has || Array.isArray(cond.value)) {
      ctx.addIssue({ code: 'custom', path: has ? ['value'] : [], message: `op ${cond.op} needs one value (text, number or true/false)` });
    }
  });

export const mappingFieldSchema = z
  .looseObject({
    values: z.record(z.string(), scalar.transform(String)).optional()
      .describe("option values of the first connection's field → the second's"),
    direction: z.string().optional().describe("'two-way' or 'A -> B' in connection names"),
  })
  .catchall(z.string().min(1))
  .describe('{ <connection A>: field, <connection B>: field, values?, direction? }');

const mappingsSchema = z.strictObject({
  defaults: z.boolean().default(true).describe("use the connectors' default mappings"),
  custom: z.boolean().default(true).describe('false switches every custom mapping off'),
  fields: z.array(mappingFieldSchema).default([]).describe('custom mappings'),
});

export const syncSchema = z
  .strictObject({
    name: z.string().min(1).describe('a unique name of the sync'),
    object: z.string().min(1).describe('contacts, companies, deals or a custom object: its name, or for HubSpot also its fully qualified name or 2-… type id'),
    between: z.tuple([z.string().min(1), z.string().min(1)], {
      error: 'expected two connection names, like [hubspot, crm]',
    }).describe('the two connections, [A, B]'),
    direction: z.string().min(1).describe("two-way, 'A -> B' or 'B -> A' in connection names"),
    default_app: z.string().min(1).optional().describe('the connection whose value wins when the two differ (default: the first of between)'),
    match: z.union([z.enum(['default', 'none']), z.record(z.string(), z.string().min(1))], {
      error: 'expected default, none or { <connection A>: field, <connection B>: field }',
    }).default('default').describe('how records that exist on both sides are paired'),
    mappings: mappingsSchema.default({ defaults: true, custom: true, fields: [] }),
    rules: z.strictObject({
      only_with_email: z.boolean().optional().describe('contacts only: skip contacts without a valid email (default true)'),
    }).default({}),
    filters: z.record(z.string(), z.array(filterConditionSchema)).default({})
      .describe('per connection, conditions a record must all pass'),
    associations: z.boolean().default(true).describe('keep links to records of other synced objects'),
    clears: z.enum(['keep', 'propagate']).default('keep').describe('whether clearing a field clears it in the other app'),
    suspect_deletions: z.string().regex(/^\d{1,3}(\.\d+)?%$/, { error: 'expected a percentage, like 10%' }).default('10%')
      .describe('more of a side\'s linked records vanishing in one pass than this is a suspect listing: nothing is marked deleted'),
    reconcile: z.union([z.string(), z.number()], { error: `expected ${DURATION_HINT}` })
      .refine((v) => parseDuration(v) !== null, { message: `expected ${DURATION_HINT}` })
      .default('1h').describe('at most this long between full comparisons of an app whose change cursor can miss edits (a SQLite updated_at column another program must keep current)'),
    enabled: z.boolean().default(true).describe('false while the sync is stopped'),
  })
  .describe('one object kept in step between two connections');

export const fileSchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected 1 (the only version of this format so far)' }).describe('format version, always 1'),
    state: z.string().min(1).default('.datasync/state.db').describe('the state file, relative to this file'),
    interval: z.union([z.string(), z.number()], { error: `expected ${DURATION_HINT}` })
      .refine((v) => parseDuration(v) !== null, { message: `expected ${DURATION_HINT}` })
      .default('5m').describe('polling interval of `datasync watch`'),
    connections: z.record(z.string().regex(CONNECTION_NAME), connectionSchema).default({})
      .describe('connection name → its app and settings'),
    syncs: z.array(syncSchema).default([]),
  })
  .describe('datasync sync definition (sync.yaml)');

export type SyncInput = z.output<typeof syncSchema>;

/** JSON Schema of `sync.yaml` for editors (yaml-language-server, VS Code). */
export function configJsonSchema(): Record<string, unknown> {
  // Each connection block as its app declares it (src/config/connector-options.ts), told apart by `app`.
  const [first, ...others] = Object.values(CONNECTOR_OPTIONS);
  const byApp = others.length === 0 ? first! : z.discriminatedUnion('app', [first!, ...others] as never);
  const described = fileSchema.extend({
    connections: z.record(z.string().regex(CONNECTION_NAME), byApp).default({}).describe('connection name → its app and settings'),
  });
  const schema = z.toJSONSchema(described, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'datasync sync definition',
    ...schema,
  };
}
