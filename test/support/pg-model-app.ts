/**
 * The model property test's app on a real PostgreSQL table, behind the real
 * postgres connector (connectors/postgres/). A person's changes are plain SQL
 * from another connection (SyncPg); the table lives in a schema of its own
 * per world, dropped by `dispose`.
 *
 * The table, as a CRM's might be:
 * - `id text`, given by the person (`u1`, `u2`, … as MemoryApp does) or by
 *   the database on datasync's insert (`e1`, `e2`, … from a counter row, so
 *   an insert that is refused or rolled back takes no number: the same
 *   commands give the same ids whatever batches the engine made);
 * - one text column per field of the spec;
 * - a trigger refusing the value REJECT in a column datasync's write sets
 *   (a business rule for the integration's writes), so such a write fails as
 *   a record the database refused, like MemoryApp's REJECT;
 * - with `changes: triggers` the change log of `install-triggers`; with
 *   `updated_at` a column the person's SQL bumps (`clock_timestamp()`).
 *
 * Interruptions (FaultPlan) are made around the real connector's calls, as
 * MemoryApp makes them: a crash before a write call, after its COMMIT, while
 * a page is read, or an abort of the run's signal.
 */
import type { ConnectionConfig, Connector, ConnectorContext, Fields, ObjectSpec, ReadBatch, Value, WriteOp } from '../../src/connector.js';
import { installSql } from '../../connectors/postgres/changelog.js';
import { qualified, quoteIdent, WRITER_SETTING } from '../../connectors/postgres/database.js';
import { factory as postgresFactory } from '../../connectors/postgres/index.js';
import { checkCanonical, toCanonical } from '../../connectors/shared/values.js';
import { FAR_FUTURE, REJECT, SimulatedCrash, type FaultPlan, type ModelApp, type StoredRecord } from './memory-connector.js';
import type { SyncPg } from './sync-pg.js';

export type PgChanges = 'triggers' | 'updated_at' | 'scan';

export class PgModelApp implements ModelApp {
  readonly conditional = true;
  readonly writes = { calls: 0, ops: 0, fields: new Map<string, number>() };
  fault: FaultPlan | null = null;
  beforeWrite: ((ops: WriteOp[]) => void) | null = null;
  private readonly table: string;
  private readonly columns: string[];
  /** Ids a person gave (MemoryApp's origin `user`); every other row was made by datasync. */
  private readonly byUser = new Set<string>();
  private userIds = 0;

  constructor(readonly name: string, private readonly spec: ObjectSpec, private readonly sql: SyncPg, private readonly url: string,
    private readonly schema: string, private readonly pageSize: number, readonly changes: PgChanges) {
    this.table = qualified(schema, spec.name);
    this.columns = spec.fields.map((f) => f.name);
    const cols = this.columns.map((c) => `${quoteIdent(c)} text`);
    const counter = qualified(schema, 'model_ids');
    const next = qualified(schema, 'model_next_id');
    const refuse = qualified(schema, 'model_refuse');
    const set = (c: string) => `NEW.${quoteIdent(c)} = '${REJECT}' AND (TG_OP = 'INSERT' OR NEW.${quoteIdent(c)} IS DISTINCT FROM OLD.${quoteIdent(c)})`;
    const statements = [
      `CREATE SCHEMA ${quoteIdent(schema)}`,
      `CREATE TABLE ${counter} (n integer NOT NULL)`,
      `INSERT INTO ${counter} VALUES (0)`,
      `CREATE FUNCTION ${next}() RETURNS text LANGUAGE sql VOLATILE AS $$ UPDATE ${counter} SET n = n + 1 RETURNING 'e' || n $$`,
      `CREATE TABLE ${this.table} (id text PRIMARY KEY DEFAULT ${next}(), ${cols.join(', ')}${changes === 'updated_at' ? ', updated_at timestamptz' : ''})`,
      `CREATE FUNCTION ${refuse}() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN
         IF coalesce(current_setting('${WRITER_SETTING}', true), '') <> '' AND (${this.columns.map(set).join(' OR ')}) THEN
           RAISE EXCEPTION 'the value ${REJECT} is not allowed';
         END IF;
         RETURN NEW;
       END $fn$`,
      `CREATE TRIGGER model_refuse BEFORE INSERT OR UPDATE ON ${this.table} FOR EACH ROW EXECUTE FUNCTION ${refuse}()`,
      ...(changes === 'triggers' ? installSql(schema, spec.name, 'id') : []),
    ];
    for (const s of statements) this.sql.query(s);
  }

  private disposed = false;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sql.query(`DROP SCHEMA IF EXISTS ${quoteIdent(this.schema)} CASCADE`);
  }

  // --- a person's changes (plain SQL, another connection) ------------------------
  private bump(): string {
    return this.changes === 'updated_at' ? ', updated_at = clock_timestamp()' : '';
  }
  insert(fields: Fields, id = `u${++this.userIds}`): string {
    const cols = Object.keys(fields);
    const names = ['id', ...cols, ...(this.changes === 'updated_at' ? ['updated_at'] : [])].map(quoteIdent);
    const values = ['$1', ...cols.map((_, i) => `$${i + 2}`), ...(this.changes === 'updated_at' ? ['clock_timestamp()'] : [])];
    this.sql.query(`INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${values.join(', ')})`, [id, ...cols.map((c) => text(fields[c]))]);
    this.byUser.add(id);
    return id;
  }
  restore(r: StoredRecord): void {
    this.insert(r.fields, r.id);
    if (r.at === FAR_FUTURE) this.poison(r.id);
    if (r.origin !== 'user') this.byUser.delete(r.id);
  }
  edit(id: string, fields: Fields): void {
    const cols = Object.keys(fields);
    if (cols.length === 0) return;
    const sets = cols.map((c, i) => `${quoteIdent(c)} = $${i + 2}`).join(', ');
    this.sql.query(`UPDATE ${this.table} SET ${sets}${this.bump()} WHERE id = $1`, [id, ...cols.map((c) => text(fields[c]))]);
  }
  /** With `updated_at`: the column set to 9999-12-31 by hand; the other modes have no change time. */
  poison(id: string): void {
    if (this.changes === 'updated_at') this.sql.query(`UPDATE ${this.table} SET updated_at = $2 WHERE id = $1`, [id, new Date(FAR_FUTURE).toISOString()]);
  }
  remove(id: string): void {
    this.sql.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
  }

  // --- what the table holds ---------------------------------------------------------
  private rows(where = '', params: unknown[] = []): StoredRecord[] {
    const list = this.columns.map((c) => `${quoteIdent(c)}`).join(', ');
    const at = this.changes === 'updated_at' ? '(extract(epoch FROM updated_at) * 1000)::float8' : '0';
    const rows = this.sql.query<Record<string, string | number | null>>(
      `SELECT id, ${at} AS "model at", ${list} FROM ${this.table} ${where} ORDER BY id`, params);
    return rows.map((row) => ({
      id: String(row['id']),
      fields: Object.fromEntries(this.columns.map((c) => [c, (row[c] ?? null) as Value])),
      seq: 0,
      at: Number(row['model at'] ?? 0),
      origin: this.byUser.has(String(row['id'])) ? 'user' : 'engine',
    }));
  }
  has(id: string): boolean {
    return this.record(id) !== undefined;
  }
  record(id: string): StoredRecord | undefined {
    return this.rows('WHERE id = $1', [id])[0];
  }
  all(): StoredRecord[] {
    return this.rows();
  }
  snapshot(): Map<string, Fields> {
    return new Map(this.rows().map((r) => [r.id, r.fields]));
  }
  /** The updated_at cursor's time; the change log's and the scan's cursors hold none. */
  cursorTime(cursor: string): number {
    if (!cursor.startsWith('{')) return -Infinity;
    const c = JSON.parse(cursor) as { m?: string; ts?: string };
    return c.m === 'u' && c.ts ? Date.parse(`${c.ts.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')}`) : -Infinity;
  }
  writeCount(): number {
    return [...this.writes.fields.values()].reduce((s, n) => s + n, 0);
  }
  /** The connector writes a text field's canonical value; an empty one is NULL. */
  stored(v: Value): Value {
    return checkCanonical({ name: 'model', label: 'model', type: 'text', readOnly: false }, v);
  }
  /** The connector reads a text column's canonical value: an empty text is null. */
  read(v: Value): Value {
    return toCanonical(v, 'text');
  }

  // --- the real connector, with the run's interruption around it -------------------------
  connection(name: string, baseDir: string): ConnectionConfig {
    return { name, app: 'memory', baseDir, instance: this };
  }
  connect(ctx: ConnectorContext): Connector {
    const roles = Object.fromEntries(this.spec.fields.filter((f) => f.role).map((f) => [f.name, { role: f.role }]));
    const real = postgresFactory.create({
      name: this.name, app: 'postgres', baseDir: '/', url: this.url, schema: this.schema, batch_size: this.pageSize,
      objects: { [this.spec.name]: { table: this.spec.name, changes: this.changes, ...(this.changes === 'updated_at' ? { updated_at: 'updated_at' } : {}), fields: roles } },
    }, ctx);
    const app = this;
    const connector: Connector = {
      app: real.app,
      check: (known) => real.check(known),
      describe: (objects) => real.describe(objects),
      async *read(object, opts): AsyncIterable<ReadBatch> {
        for await (const batch of real.read(object, opts)) {
          app.event('read');
          yield batch;
        }
      },
      get: (object, ids, opts) => real.get(object, ids, opts),
      missing: (object, ids) => real.missing(object, ids),
      async write(object, ops) {
        if (ops.length === 0) return [];
        const what = app.event('write');
        if (what === 'crash-before') throw new SimulatedCrash(`before ${app.name} applied ${ops.length} op(s)`);
        app.beforeWrite?.(ops);
        app.writes.calls++;
        app.writes.ops += ops.length;
        const results = await real.write(object, ops);
        for (const r of results) {
          const op = ops.find((o) => o.ref === r.ref);
          if (!r.ok || !op) continue;
          for (const f of Object.keys(op.fields)) app.writes.fields.set(f, (app.writes.fields.get(f) ?? 0) + 1);
        }
        if (what === 'crash-after') throw new SimulatedCrash(`after ${app.name} applied ${ops.length} op(s)`);
        return results;
      },
      close: () => real.close(),
    };
    if (real.cursorAfterWrites) connector.cursorAfterWrites = (object, since) => real.cursorAfterWrites!(object, since);
    return connector;
  }

  private event(kind: 'read' | 'write'): 'crash-before' | 'crash-after' | null {
    const what = this.fault?.hit(kind) ?? null;
    if (what === 'abort') {
      this.fault!.controller.abort();
      return null;
    }
    if (what === 'crash-before' && kind === 'read') throw new SimulatedCrash(`while ${this.name} was read`);
    return what;
  }
}

/** A person's value as the text a column holds (numbers as their digits). */
const text = (v: Value | undefined): string | null => (v === null || v === undefined ? null : Array.isArray(v) ? v.join(';') : String(v));
