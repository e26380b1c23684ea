/**
 * The `hubspot` connector: HubSpot CRM v3 (objects, batch, search, properties)
 * and v4 (associations) over the shared HTTP client (src/http).
 *
 * Config keys: see config.ts. The CLI passes a stored credential as
 * `credential: { token } | { oauth: {...} }` and may pass
 * `onCredentialRefresh(tokens)` (in the config block or the options below) to
 * store refreshed OAuth tokens at once.
 */
import type { Dispatcher } from 'undici';
import type {
  Connector, ConnectorContext, ConnectorFactory, ConnectionConfig, Departure, FieldSpec, FieldType, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { appError, configError, DatasyncError } from '../../src/errors.js';
import { HttpClient, type HttpStats } from '../../src/http/client.js';
import { realClock, type Clock } from '../../src/http/clock.js';
import { HttpError } from '../../src/http/errors.js';
import type { PacerOptions } from '../../src/http/pacer.js';
import type { RetryPolicy } from '../../src/http/retry.js';
import { tokenProvider, type CredentialRefreshHook } from './auth.js';
import { parseSettings, type HubSpotSettings } from './config.js';
import { expectAnswer, hasResults } from './answers.js';
import { findDepartures } from './departures.js';
import { OwnerDirectory } from './owners.js';
import { PIPELINED, readPipelines, withPipelineOptions } from './pipelines.js';
import { customObject, names as schemaNames, readSchemas, type HubSpotSchema } from './schemas.js';
import { OBJECTS, toFieldSpecs, type HubSpotObject, type HubSpotProperty } from './properties.js';
import { changesSince, DEFAULT_TUNING, fullScan, readByIds, V3, type ReadPlan, type ReadTuning } from './read.js';
import { pastOwnWrites } from './cursor.js';
import { CREATION_KEY, writeRecords } from './write.js';

export type { CredentialRefreshHook, OAuthTokens } from './auth.js';

/** Options a caller (the CLI, tests, benchmarks) can add to the YAML block. */
export interface HubSpotOptions {
  onCredentialRefresh?: CredentialRefreshHook;
  /** Tuning of page sizes, the search cap and the overlap. */
  tuning?: Partial<ReadTuning>;
  retry?: Partial<RetryPolicy>;
  limits?: Pick<PacerOptions, 'limits' | 'routes'>;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  clock?: Clock;
}

export class HubSpotConnector implements Connector {
  readonly app = 'hubspot';
  private readonly http: HttpClient;
  private readonly settings: HubSpotSettings;
  private readonly tuning: ReadTuning;
  /** Per object: its spec, read from its property catalogue once. */
  private readonly specs = new Map<string, Promise<Described>>();
  /** Owner ids ↔ emails, read once per connector (owners.ts). */
  private readonly owners: OwnerDirectory;
  private schemaList?: Promise<HubSpotSchema[]>;
  /** Per object: records written since its last read, with the modified time each answer gave (null: unknown). */
  private readonly written = new Map<string, Map<string, number | null>>();

  constructor(config: ConnectionConfig, ctx: ConnectorContext, options: HubSpotOptions = {}) {
    this.settings = parseSettings(config);
    this.tuning = { ...DEFAULT_TUNING, overlapMs: this.settings.overlapMs, ...options.tuning };
    const clock = options.clock ?? realClock;
    const hook = options.onCredentialRefresh ?? (typeof config.onCredentialRefresh === 'function' ? (config.onCredentialRefresh as CredentialRefreshHook) : undefined);
    const auth = tokenProvider(this.settings.credential, { client: () => this.http, clock, onRefresh: hook });
    this.http = new HttpClient({
      app: 'HubSpot', baseUrl: this.settings.baseUrl, auth, limits: options.limits, retry: options.retry,
      timeoutMs: options.timeoutMs ?? this.settings.timeoutMs, dailyReserve: this.settings.dailyReserve, maxTotalWaitMs: this.settings.maxWaitMs, onWait: ctx.onWait, signal: ctx.signal, dispatcher: options.dispatcher, clock,
    });
    this.owners = new OwnerDirectory(this.http);
  }

  /** API calls per class and 429s received, for benchmarks and `health`. */
  stats(): HttpStats {
    return this.http.stats();
  }

  async check(): Promise<void> {
    try {
      await this.http.get(`${V3}/contacts`, { class: 'read', query: { limit: 1, properties: 'hs_object_id' } });
    } catch (err) {
      // The credential is good (a bad one is a 401); it only lacks contact scopes, which a sync may not need.
      if (err instanceof DatasyncError && err.code === 'MISSING_SCOPES') return;
      if (err instanceof HttpError) {
        throw appError('APP_CHECK_FAILED', `HubSpot at ${this.settings.baseUrl} did not accept the check: ${err.message}`, { transient: err.transient });
      }
      throw err;
    }
  }

  /**
   * The objects' specs from their property catalogues. Given `objects` (the
   * ones a run syncs), only their catalogues are read, and a catalogue the
   * credential may not read stops with MISSING_SCOPES naming the scope.
   * Without (connect, configure), every object the credential may read.
   */
  async describe(objects?: string[]): Promise<ObjectSpec[]> {
    if (objects) return Promise.all([...new Set(objects)].map(async (o) => (await this.described(o)).spec));
    const out: ObjectSpec[] = [];
    // Custom objects by name, after the standard ones (none listed without the schemas scope).
    for (const name of [...Object.keys(OBJECTS), ...(await this.schemas()).map((s) => s.name)]) {
      try {
        out.push((await this.described(name)).spec);
      } catch (err) {
        if (!(err instanceof DatasyncError && err.code === 'MISSING_SCOPES')) throw err;
      }
    }
    return out;
  }

  async *read(object: string, opts: ReadOptions): AsyncGenerator<ReadBatch> {
    const plan = await this.readPlan(object, opts);
    const owners = ownerFields(await this.specOf(object), opts.fields);
    // Writes before this read are the read's to see.
    this.written.delete(plan.object.name);
    for await (const batch of opts.since === null ? fullScan(plan) : changesSince(plan, opts.since)) {
      const warnings = await this.owners.toEmails(batch.records, owners, object);
      yield warnings.length > 0 ? { ...batch, warnings: [...(batch.warnings ?? []), ...warnings] } : batch;
    }
  }

  private async readPlan(object: string, opts: Omit<ReadOptions, 'since'>): Promise<ReadPlan> {
    const obj = await this.objectOf(object);
    const spec = await this.specOf(object);
    return {
      http: this.http, object: obj, fields: opts.fields, types: typesOf(spec), tuning: this.tuning,
      associations: obj.associations.filter((a) => opts.associations?.includes(a.name)),
    };
  }

  /** Records by id (batch read); ids that no longer exist are left out. */
  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    const records = await readByIds(await this.readPlan(object, opts), ids);
    await this.owners.toEmails(records, ownerFields(await this.specOf(object), opts.fields), object);
    return records;
  }

  /**
   * Batch read by id (100 per call): ids HubSpot no longer returns are
   * archived, deleted or merged away. Search cannot tell (it hides archived
   * records and archiving keeps the modified date), and the `archived=true`
   * listing costs a call per 100 archived records of the whole portal.
   */
  async missing(object: string, ids: string[]): Promise<string[]> {
    const found = await readByIds(await this.readPlan(object, { fields: ['hs_object_id'] }), ids);
    const present = new Set(found.map((r) => r.id));
    return [...new Set(ids)].filter((id) => !present.has(id));
  }

  /** How linked records left (departures.ts); the engine runs it once per `deletion_check` at most. */
  async departures(object: string, ids: string[]): Promise<Departure[]> {
    return findDepartures(this.http, (await this.objectOf(object)).name, ids);
  }

  get deletionCheckIntervalMs(): number {
    return this.settings.deletionCheckMs;
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    const obj = await this.objectOf(object);
    const spec = await this.specOf(object);
    const { creationKey } = await this.described(object);
    // Owner emails → owner ids; an email no active owner has fails its record here.
    const owned = await this.owners.toIds(ops, ownerFields(spec, []));
    let log = this.written.get(obj.name);
    if (!log) this.written.set(obj.name, (log = new Map()));
    const own = log;
    const written = await writeRecords({ http: this.http, object: obj, types: typesOf(spec), creationKey, log: (id, modified) => own.set(id, modified) }, owned.ops);
    return [...owned.failed, ...written];
  }

  /**
   * `since` with this connector's writes since that read among the records
   * the next read passes over (cursor.ts `seen`), each at the modified time
   * its answer gave. The cursor's time is not moved: a read from it still
   * searches from the same moment (less the overlap), so anyone else's
   * change since, a change to a record we wrote included (it has another
   * modified time), and a record changed in the same millisecond as one of
   * ours, are read. A write whose answer did not show it as written is read
   * back.
   */
  async cursorAfterWrites(object: string, since: string | null): Promise<string | null> {
    const name = (await this.objectOf(object)).name;
    const written = this.written.get(name);
    this.written.delete(name);
    if (since === null || !written || written.size === 0) return since;
    return pastOwnWrites(since, written, this.tuning.overlapMs);
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async objectOf(object: string): Promise<HubSpotObject> {
    return (await this.described(object)).object;
  }

  /** The portal's custom objects, read once (schemas.ts). */
  private schemas(): Promise<HubSpotSchema[]> {
    this.schemaList ??= readSchemas(this.http).catch((err: unknown) => { this.schemaList = undefined; throw err; });
    return this.schemaList;
  }

  /** A standard object by name, else a custom object by name, fully qualified name or type id. */
  private async resolve(object: string): Promise<HubSpotObject> {
    const standard = OBJECTS[object];
    if (standard) return standard;
    const schemas = await this.schemas();
    const schema = schemas.find((s) => schemaNames(s, object));
    if (schema) return customObject(schema);
    throw configError('UNKNOWN_OBJECT', `HubSpot connection "${this.settings.name}" has no object "${object}"`, {
      hint: `use one of: ${[...Object.keys(OBJECTS), ...schemas.map((s) => s.name)].join(', ')} (a custom object also by its 2-… type id)`,
    });
  }

  private async specOf(object: string): Promise<ObjectSpec> {
    return (await this.described(object)).spec;
  }

  /** Per name the sync uses (a custom object's spec carries that name, which the engine looks it up by). */
  private described(object: string): Promise<Described> {
    let p = this.specs.get(object);
    if (!p) {
      p = this.resolve(object).then((obj) => this.loadSpec(obj, object)).catch((err: unknown) => { this.specs.delete(object); throw err; });
      this.specs.set(object, p);
    }
    return p;
  }

  /** Deals and tickets: pipeline and stage options from the Pipelines API (pipelines.ts). */
  private async withPipelines(obj: HubSpotObject, fields: FieldSpec[]): Promise<FieldSpec[]> {
    const names = PIPELINED[obj.name];
    if (!names) return fields;
    const pipelines = await readPipelines(this.http, obj.name);
    return pipelines ? withPipelineOptions(fields, pipelines, names) : fields;
  }

  private async loadSpec(obj: HubSpotObject, name: string): Promise<Described> {
    // Not a property list (`{}`, an HTML page): say what came back, not "maps no field" later (answers.ts).
    const raw = await expectAnswer(this.http, 'GET', `/crm/v3/properties/${obj.name}`, { class: 'read' },
      hasResults, (body) => body.results as HubSpotProperty[]);
    return {
      object: obj,
      spec: {
        name,
        label: obj.label,
        fields: await this.withPipelines(obj, toFieldSpecs(obj.name, raw)),
        associations: obj.associations.map(({ name, object, single }) => ({ name, object, single })),
        // Conditional by a read by id just before the write (write.ts checkExpected).
        capabilities: { create: true, update: true, changeCursor: true, conditionalUpdate: true },
      },
      // Hidden or not, the property makes creates idempotent (write.ts).
      creationKey: raw.some((p) => p?.name === CREATION_KEY),
    };
  }
}

interface Described { object: HubSpotObject; spec: ObjectSpec; creationKey: boolean }

/** The owner fields among `fields` (all of them when empty). */
function ownerFields(spec: ObjectSpec, fields: string[]): string[] {
  return spec.fields.filter((f) => f.type === 'owner' && (fields.length === 0 || fields.includes(f.name))).map((f) => f.name);
}

function typesOf(spec: ObjectSpec): Map<string, FieldType> {
  return new Map(spec.fields.map((f) => [f.name, f.type]));
}

export function createHubSpotConnector(config: ConnectionConfig, ctx: ConnectorContext = {}, options: HubSpotOptions = {}): HubSpotConnector {
  return new HubSpotConnector(config, ctx, options);
}

export const factory: ConnectorFactory = {
  app: 'hubspot',
  create: (config, ctx) => createHubSpotConnector(config, ctx),
};

