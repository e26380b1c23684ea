/**
 * The `dynamics` connector: Microsoft Dynamics 365 / Dataverse Web API v9.2
 * over the shared HTTP client (src/http), signed in with the OAuth 2.0
 * client credentials grant. Change tracking is the cursor (read.ts), writes
 * go through `$batch` (write.ts), 429s wait out `Retry-After`.
 */
import type { Dispatcher } from 'undici';
import type {
  Connector, ConnectorContext, ConnectorFactory, ConnectionConfig, FieldType, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { appError, configError } from '../../src/errors.js';
import { HttpClient, type HttpStats } from '../../src/http/client.js';
import { realClock, type Clock } from '../../src/http/clock.js';
import { HttpError } from '../../src/http/errors.js';
import type { PacerOptions } from '../../src/http/pacer.js';
import type { RetryPolicy } from '../../src/http/retry.js';
import { ClientCredentials } from './auth.js';
import { parseSettings, type DynamicsSettings } from './config.js';
import { OBJECTS, toFieldSpecs, type AttributeMetadata, type DynamicsObject } from './objects.js';
import { API, changesSince, fullScan, ODATA_HEADERS, readByIds, type ReadPlan } from './read.js';
import { writeRecords } from './write.js';

/**
 * Service protection (api-limits.md): 6,000 requests per user in a 5-minute
 * sliding window. Paced a little under it; 429s still wait `Retry-After`.
 */
export const DYNAMICS_LIMITS: Pick<PacerOptions, 'limits' | 'routes'> = {
  limits: { requests: { max: 5900, windowMs: 300_000 } },
  routes: { read: ['requests'], write: ['requests'], associations: ['requests'], search: ['requests'], auth: [] },
};

export interface DynamicsOptions {
  retry?: Partial<RetryPolicy>;
  limits?: Pick<PacerOptions, 'limits' | 'routes'>;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  clock?: Clock;
  /** Overrides page_size / batch_size (tests). */
  pageSize?: number;
  batchSize?: number;
}

export class DynamicsConnector implements Connector {
  readonly app = 'dynamics';
  private readonly http: HttpClient;
  private readonly login: HttpClient;
  private readonly settings: DynamicsSettings;
  private specs?: Promise<ObjectSpec[]>;
  /** Per object, the ETag of each row as last read (conditional updates). */
  private readonly etags = new Map<string, Map<string, string>>();

  constructor(config: ConnectionConfig, ctx: ConnectorContext, options: DynamicsOptions = {}) {
    this.settings = parseSettings(config);
    if (options.pageSize) this.settings.pageSize = options.pageSize;
    if (options.batchSize) this.settings.batchSize = options.batchSize;
    const clock = options.clock ?? realClock;
    const common = {
      retry: options.retry, timeoutMs: options.timeoutMs ?? this.settings.timeoutMs, maxTotalWaitMs: this.settings.maxWaitMs,
      onWait: ctx.onWait, signal: ctx.signal, clock, rateLimitHeaders: null,
    };
    this.login = new HttpClient({ ...common, app: 'Microsoft Entra ID', baseUrl: new URL(this.settings.tokenUrl).origin, limits: { limits: {}, routes: DYNAMICS_LIMITS.routes } });
    const auth = new ClientCredentials(this.settings, () => this.login, clock);
    this.http = new HttpClient({ ...common, app: 'Dynamics', baseUrl: `${this.settings.url}${API}`, auth, limits: options.limits ?? DYNAMICS_LIMITS, dispatcher: options.dispatcher });
  }

  stats(): HttpStats {
    return this.http.stats();
  }

  async check(): Promise<void> {
    try {
      await this.http.get('/WhoAmI', { class: 'read', headers: ODATA_HEADERS });
    } catch (err) {
      if (err instanceof HttpError) {
        throw appError('APP_CHECK_FAILED', `Dynamics at ${this.settings.url} did not accept the check: ${err.message}`, { transient: err.transient });
      }
      throw err;
    }
  }

  describe(): Promise<ObjectSpec[]> {
    this.specs ??= this.loadSpecs().catch((err) => { this.specs = undefined; throw err; });
    return this.specs;
  }

  async *read(object: string, opts: ReadOptions): AsyncGenerator<ReadBatch> {
    const plan = await this.readPlan(object, opts);
    yield* opts.since === null ? fullScan(plan) : changesSince(plan, opts.since);
  }

  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    return readByIds(await this.readPlan(object, opts), ids);
  }

  async missing(object: string, ids: string[]): Promise<string[]> {
    const found = new Set((await readByIds(await this.readPlan(object, { fields: [] }), ids)).map((r) => r.id.toLowerCase()));
    return [...new Set(ids)].filter((id) => !found.has(id.toLowerCase()));
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    const obj = this.objectOf(object);
    return writeRecords({
      http: this.http, obj, types: typesOf(await this.specOf(object)), batchSize: this.settings.batchSize,
      entitySetOf: (o) => this.objectOf(o).entitySet,
      etagOf: (id) => this.etagsOf(object).get(id.toLowerCase()),
      forget: (id) => { this.etagsOf(object).delete(id.toLowerCase()); },
    }, ops);
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.login.close()]);
  }

  private async readPlan(object: string, opts: Omit<ReadOptions, 'since'>): Promise<ReadPlan> {
    const obj = this.objectOf(object);
    return {
      http: this.http, obj, fields: opts.fields, types: typesOf(await this.specOf(object)), pageSize: this.settings.pageSize,
      lookups: obj.lookups.filter((l) => opts.associations?.includes(l.name)),
      onEtag: (id, etag) => { this.etagsOf(object).set(id.toLowerCase(), etag); },
    };
  }

  private etagsOf(object: string): Map<string, string> {
    let m = this.etags.get(object);
    if (!m) this.etags.set(object, (m = new Map()));
    return m;
  }

  private objectOf(object: string): DynamicsObject {
    const obj = OBJECTS[object];
    if (!obj) {
      throw configError('UNKNOWN_OBJECT', `Dynamics connection "${this.settings.name}" has no object "${object}"`, { hint: `use one of: ${Object.keys(OBJECTS).join(', ')}` });
    }
    return obj;
  }

  private async specOf(object: string): Promise<ObjectSpec> {
    this.objectOf(object);
    return (await this.describe()).find((s) => s.name === object)!;
  }

  private async loadSpecs(): Promise<ObjectSpec[]> {
    const specs: ObjectSpec[] = [];
    for (const obj of Object.values(OBJECTS)) {
      const base = `/EntityDefinitions(LogicalName='${obj.logicalName}')/Attributes`;
      const get = async (path: string) => (await this.http.get<{ value?: AttributeMetadata[] }>(path, { class: 'read', headers: ODATA_HEADERS })).body?.value ?? [];
      const [all, dates, picklists] = await Promise.all([
        get(`${base}?$select=LogicalName,AttributeType,DisplayName,IsValidForCreate,IsValidForUpdate`),
        get(`${base}/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,Format`),
        get(`${base}/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)`),
      ]);
      const formats = new Map(dates.map((d) => [d.LogicalName, d.Format]));
      const attributes = all.map((a) => (formats.has(a.LogicalName) ? { ...a, Format: formats.get(a.LogicalName) } : a));
      specs.push({
        name: obj.name, label: obj.label,
        fields: toFieldSpecs(obj, attributes, new Map(picklists.map((p) => [p.LogicalName, p]))),
        associations: obj.lookups.map((l) => ({ name: l.name, object: l.object, single: true })),
        capabilities: { create: true, update: true, changeCursor: true, reportsDeletions: true, conditionalUpdate: true },
      });
    }
    return specs;
  }
}

function typesOf(spec: ObjectSpec): Map<string, FieldType> {
  return new Map(spec.fields.map((f) => [f.name, f.type]));
}

export function createDynamicsConnector(config: ConnectionConfig, ctx: ConnectorContext = {}, options: DynamicsOptions = {}): DynamicsConnector {
  return new DynamicsConnector(config, ctx, options);
}

export const factory: ConnectorFactory = {
  app: 'dynamics',
  create: (config, ctx) => createDynamicsConnector(config, ctx),
};
