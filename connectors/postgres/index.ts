/**
 * The postgres connector: one table per object, on the `pg` package (loaded
 * only when a connection uses this app). Settings in config.ts; how changes
 * are found in read.ts and changelog.ts; writes in write.ts.
 */
import { randomUUID } from 'node:crypto';
import type {
  ConnectionConfig, Connector, ConnectorFactory, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { configError } from '../../src/errors.js';
import { parseLogCursor, triggerInstalled } from './changelog.js';
import { parseSettings, type PgSettings } from './config.js';
import { Db, quoteIdent } from './database.js';
import { rowToRecord } from '../shared/rows.js';
import { fetchRows, readTable, RowVersions, scanCursorAfterWrites } from './read.js';
import { objectSpec, resolveTable, type TableSchema } from './schema.js';
import { TableWriter } from './write.js';

/** Tokens of earlier runs a cursor keeps skipping: their entries can lie past the horizon a read reached. */
const SKIP_KEPT = 4;

class PostgresConnector implements Connector {
  readonly app = 'postgres';
  private readonly cfg: PgSettings;
  private readonly db: Db;
  private readonly schemas = new Map<string, TableSchema>();
  private readonly versions = new Map<string, RowVersions>();
  /** Tags this run's writes in the change log (changelog.ts). */
  private readonly token = `datasync-${randomUUID()}`;
  private readonly wrote = new Set<string>();

  constructor(private readonly config: ConnectionConfig) {
    this.cfg = parseSettings(config);
    this.db = new Db(this.cfg, config.name);
  }

  async check(): Promise<void> {
    await this.schemaAll();
  }

  async describe(): Promise<ObjectSpec[]> {
    return (await this.schemaAll()).map(objectSpec);
  }

  async *read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch> {
    const s = await this.schema(object);
    yield* readTable(this.db, s, opts, this.cfg.batchSize, this.rowVersions(object));
  }

  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    const s = await this.schema(object);
    return (await fetchRows(this.db, s, ids, this.rowVersions(object), this.cfg.batchSize)).map((r) => rowToRecord(r, s, opts));
  }

  async missing(object: string, ids: string[]): Promise<string[]> {
    const s = await this.schema(object);
    const present = new Set<string>();
    const sql = `SELECT (t.${quoteIdent(s.id.name)})::text AS id FROM ${s.qname} t WHERE t.${quoteIdent(s.id.name)} = ANY($1::${s.id.declared}[])`;
    for (let i = 0; i < ids.length; i += 10_000) {
      for (const r of (await this.db.query<{ id: string }>(sql, [ids.slice(i, i + 10_000)])).rows) present.add(r.id);
    }
    return ids.filter((id) => !present.has(id));
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    if (ops.length === 0) return [];
    const s = await this.schema(object);
    this.wrote.add(object);
    return new TableWriter(this.db, s, this.rowVersions(object), this.token).write(ops);
  }

  /**
   * With the change log: the cursor also passes over the entries this run's writes left (tagged
   * with its token). With a scan: the table's hash after them, when no one else changed it.
   */
  async cursorAfterWrites(object: string, since: string | null): Promise<string | null> {
    const s = await this.schema(object);
    if (s.mode === 'scan') return this.wrote.has(object) ? scanCursorAfterWrites(this.db, s, this.rowVersions(object), since) : since;
    const log = parseLogCursor(since);
    if (s.mode !== 'triggers' || !log || !this.wrote.has(object)) return since;
    return JSON.stringify({ ...log, skip: [...(log.skip ?? []), this.token].slice(-SKIP_KEPT) });
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private rowVersions(object: string): RowVersions {
    let v = this.versions.get(object);
    if (!v) this.versions.set(object, (v = new RowVersions()));
    return v;
  }

  private async schema(object: string): Promise<TableSchema> {
    let schema = this.schemas.get(object);
    if (!schema) {
      const cfg = this.cfg.objects.get(object);
      if (!cfg) {
        throw configError('UNKNOWN_OBJECT', `connection ${this.config.name} has no object ${object}`, {
          hint: `add \`objects.${object}\` to connection ${this.config.name} (it has: ${[...this.cfg.objects.keys()].join(', ')})`,
        });
      }
      const triggers = cfg.changes === 'auto' || cfg.changes === 'triggers' ? await triggerInstalled(this.db, cfg.schema, cfg.table) : false;
      schema = await resolveTable(this.db, this.config.name, cfg, triggers);
      this.schemas.set(object, schema);
    }
    return schema;
  }

  private async schemaAll(): Promise<TableSchema[]> {
    const out: TableSchema[] = [];
    for (const o of this.cfg.objects.keys()) out.push(await this.schema(o));
    return out;
  }
}

export const factory: ConnectorFactory = {
  app: 'postgres',
  create: (config) => new PostgresConnector(config),
};
