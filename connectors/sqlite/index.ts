/**
 * The sqlite connector: one table per object.
 *
 *   crm:
 *     app: sqlite
 *     path: ./crm.db            # relative to the sync file
 *     busy_timeout: 5000        # ms to wait for another writer (optional)
 *     batch_size: 1000          # records per read page (optional)
 *     objects:
 *       contacts: { table: people, id: id, updated_at: modified_at,
 *                   fields: { score: { type: number, read_only: true } },
 *                   associations: { company: { field: company_id, object: companies } } }
 */
import { resolve } from 'node:path';
import type {
  ConnectionConfig, Connector, ConnectorFactory, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { configError } from '../../src/errors.js';
import { ConfigReader } from '../shared/object-config.js';
import { databaseError, openDatabase, type Db } from './database.js';
import { missingIds } from './missing.js';
import { cursorPastOwnWrites, WriteLog } from './own-writes.js';
import { rowToRecord } from '../shared/rows.js';
import { parseDatetime } from '../shared/values.js';
import { fetchRows, readTable } from './read.js';
import { bindId, objectSpec, resolveTable, type SqliteObjectConfig, type TableSchema } from './schema.js';
import { ChangeClock, newestFact, TableWriter } from './write.js';

function parseConfig(config: ConnectionConfig) {
  const reader = new ConfigReader(config);
  const path = resolve(config.baseDir, reader.string(config.path, '', 'path'));
  const objects = new Map<string, SqliteObjectConfig>();
  for (const [name, base] of reader.objects()) {
    const table = base.raw.table === undefined ? name : reader.string(base.raw.table, `object ${name}`, `objects.${name}.table`);
    const updatedAt = reader.optionalString(base.raw.updated_at, `object ${name}`, `objects.${name}.updated_at`);
    objects.set(name, { ...base, table, updatedAt });
  }
  return { path, objects, busyTimeout: reader.positiveInt('busy_timeout', 5000), batchSize: reader.positiveInt('batch_size', 1000) };
}

class SqliteConnector implements Connector {
  readonly app = 'sqlite';
  private db: Db | undefined;
  private readonly schemas = new Map<string, TableSchema>();
  private readonly clock = new ChangeClock();
  private readonly writes = new WriteLog();
  private readonly cfg: ReturnType<typeof parseConfig>;

  constructor(private readonly config: ConnectionConfig) {
    this.cfg = parseConfig(config);
  }

  async check(): Promise<void> {
    this.guard(() => this.schemaAll());
  }

  async describe(): Promise<ObjectSpec[]> {
    return this.guard(() => this.schemaAll().map(objectSpec));
  }

  async *read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch> {
    const [db, schema] = this.guard(() => [this.open(), this.schema(object)] as const);
    // The table's newest change time, as a full listing leaves it, spares the first write batch a scan of the table.
    const pages = readTable(db, schema, opts, this.cfg.batchSize,
      (ts) => this.clock.learn(newestFact(schema.table), ts === '' ? 0 : parseDatetime(ts) ?? 0));
    for (;;) {
      const next = await this.guardAsync(() => pages.next());
      if (next.done) return;
      yield next.value;
    }
  }

  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    return this.guard(() => {
      const s = this.schema(object);
      const rows = fetchRows(this.open(), s, ids.map((id) => bindId(id, s.id)));
      return [...rows.values()].map((row) => rowToRecord(row, s, opts));
    });
  }

  async missing(object: string, ids: string[]): Promise<string[]> {
    return this.guard(() => missingIds(this.open(), this.schema(object), ids));
  }

  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    if (ops.length === 0) return [];
    return this.guard(() => new TableWriter(this.open(), this.schema(object), this.clock, this.writes).write(ops));
  }

  /** Past this connector's writes since the last read, when a change cursor can tell them from others' (own-writes.ts). */
  async cursorAfterWrites(object: string, since: string | null): Promise<string | null> {
    return this.guard(() => {
      const s = this.schema(object);
      const written = this.writes.take(s);
      if (since === null || !s.updatedAt) return since;
      return cursorPastOwnWrites(this.open(), s, since, written, this.cfg.batchSize);
    });
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private open(): Db {
    this.db ??= openDatabase(this.cfg.path, this.config.name, this.cfg.busyTimeout);
    return this.db;
  }

  private schema(object: string): TableSchema {
    let schema = this.schemas.get(object);
    if (!schema) {
      const cfg = this.cfg.objects.get(object);
      if (!cfg) {
        throw configError('UNKNOWN_OBJECT', `connection ${this.config.name} has no object ${object}`, {
          hint: `add \`objects.${object}\` to connection ${this.config.name} (it has: ${[...this.cfg.objects.keys()].join(', ')})`,
        });
      }
      schema = resolveTable(this.open(), this.config.name, this.cfg.path, cfg);
      this.schemas.set(object, schema);
    }
    return schema;
  }

  private schemaAll(): TableSchema[] {
    return [...this.cfg.objects.keys()].map((o) => this.schema(o));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw databaseError(err, this.cfg.path, this.config.name);
    }
  }

  private async guardAsync<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw databaseError(err, this.cfg.path, this.config.name);
    }
  }
}

export const factory: ConnectorFactory = {
  app: 'sqlite',
  create: (config) => new SqliteConnector(config),
};
