/**
 * An in-memory app behind the connector contract, for engine tests.
 *
 * Records have ids, a change time and a change sequence; `read` lists them
 * in (time, sequence) order and the cursor is the position of the last one
 * read, so a read from it returns exactly what changed since. A change time
 * past now plus the skew allowed (a person's `9999-12-31`, `poison`) is not
 * believed, as in every connector whose cursor is a change time
 * (connectors/shared/change-times.ts): the record is read on every pass,
 * never moves the cursor, and the read warns about it. The test
 * changes records "as a person would" (`insert`, `edit`, `remove`), can make
 * the app refuse values (`REJECT`) and can inject one interruption per run:
 * a crash in `write` before or after the ops are applied, a crash while
 * reading, or an abort of the run's signal (the engine then stops between
 * batches). Every write is counted per field, so tests can prove a one-way
 * source is never written.
 */
import type {
  ConnectionConfig, Connector, ConnectorContext, ConnectorFactory, Fields, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, Value, WriteOp,
  WriteResult,
} from '../../src/connector.js';
import { futureHorizonMs, futureRowWarning } from '../../connectors/shared/change-times.js';

/** A value the app refuses to store (any field, create or update). */
export const REJECT = 'REJECT';

/** The change time a person gave a row by hand (issue 14.7): 9999-12-31. */
export const FAR_FUTURE = Date.UTC(9999, 11, 31);

/** A read position: change time and sequence of the last record read ('t:seq'). */
const position = (r: { at: number; seq: number }) => `${r.at}:${r.seq}`;
function parsePosition(cursor: string | null): { at: number; seq: number } {
  if (cursor === null) return { at: -Infinity, seq: 0 };
  const [at, seq] = cursor.split(':').map(Number);
  if (!Number.isFinite(at) || !Number.isFinite(seq)) throw new Error(`not a memory cursor: ${cursor}`);
  return { at: at!, seq: seq! };
}
const after = (r: { at: number; seq: number }, p: { at: number; seq: number }) => r.at > p.at || (r.at === p.at && r.seq > p.seq);

export interface StoredRecord {
  id: string;
  fields: Fields;
  /** Change sequence of the last change. */
  seq: number;
  /** Change time of the last change (ms), as an `updated_at` column holds it. */
  at: number;
  /** Made by a person (the test) or by the engine's create. */
  origin: 'user' | 'engine';
}

export type FaultKind = 'crash-before-write' | 'crash-after-write' | 'crash-on-read' | 'abort';

/**
 * One interruption for one run, shared by both apps: it fires at the first
 * event of its kind from event number `at` on (events: read pages and write
 * calls of either app, counted from 0).
 */
export class FaultPlan {
  private events = 0;
  fired = false;
  constructor(readonly kind: FaultKind, readonly at: number, readonly controller: AbortController) {}

  /** Called at each event; returns what to do. */
  hit(event: 'read' | 'write'): 'crash-before' | 'crash-after' | 'abort' | null {
    const n = this.events++;
    if (this.fired || n < this.at) return null;
    const fire = (what: 'crash-before' | 'crash-after' | 'abort') => {
      this.fired = true;
      return what;
    };
    if (this.kind === 'abort') return fire('abort');
    if (event === 'read' && this.kind === 'crash-on-read') return fire('crash-before');
    if (event === 'write' && this.kind === 'crash-before-write') return fire('crash-before');
    if (event === 'write' && this.kind === 'crash-after-write') return fire('crash-after');
    return null;
  }
}

export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash ${where}`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * An app as the model property test drives it: a person's changes, what it
 * holds, the writes it took, and a connector to it. MemoryApp is one; the
 * Postgres variant (pg-model-app.ts) is a real table behind the real connector.
 */
export interface ModelApp {
  readonly name: string;
  /** Updates carrying `expect` are made only while the record holds those values (the app answers `changed`). */
  readonly conditional: boolean;
  /** Write calls with at least one op, ops received, and ops applied per field name. */
  readonly writes: { calls: number; ops: number; fields: Map<string, number> };
  fault: FaultPlan | null;
  beforeWrite: ((ops: WriteOp[]) => void) | null;
  insert(fields: Fields, id?: string): string;
  restore(r: StoredRecord): void;
  edit(id: string, fields: Fields): void;
  /** A person sets the record's change time by hand to 9999-12-31 (where the app has one). */
  poison(id: string): void;
  remove(id: string): void;
  has(id: string): boolean;
  record(id: string): StoredRecord | undefined;
  all(): StoredRecord[];
  snapshot(): Map<string, Fields>;
  writeCount(): number;
  /** The change time a read from this app's `cursor` stands at (ms; -Infinity for a cursor of no time). */
  cursorTime(cursor: string): number;
  /** What the app holds once the engine wrote `v` (a database may keep an empty text as NULL). */
  stored(v: Value): Value;
  /** What its connector reports for a value the app holds (an empty text may read as null). */
  read(v: Value): Value;
  /** The connection block of a sync file for this app. */
  connection(name: string, baseDir: string): ConnectionConfig;
  connect(ctx: ConnectorContext): Connector;
  dispose?(): void;
}

export class MemoryApp implements ModelApp {
  private records = new Map<string, StoredRecord>();
  private seq = 0;
  /** The app's clock: never runs backwards, so a change always sorts after the ones before it. */
  private clock = 0;
  private userIds = 0;
  private engineIds = 0;
  /** Write calls with at least one op, ops received, and ops applied per field name. */
  readonly writes = { calls: 0, ops: 0, fields: new Map<string, number>() };
  /** The interruption of the current run, if any. */
  fault: FaultPlan | null = null;
  /**
   * Called with each write batch before it is applied: a person's edit made
   * between the engine's read and its write (with `conditional`, the app then
   * answers `changed` for the record, as SQLite's connector does).
   */
  beforeWrite: ((ops: WriteOp[]) => void) | null = null;

  /**
   * With `ownCursor`, its connectors implement `cursorAfterWrites`; with
   * `conditional`, updates carrying `expect` are made only while the record
   * still holds those values (capabilities.conditionalUpdate).
   */
  constructor(readonly name: string, spec: ObjectSpec, readonly pageSize = 3, readonly ownCursor = false, readonly conditional = false) {
    this.spec = conditional ? { ...spec, capabilities: { ...spec.capabilities, conditionalUpdate: true } } : spec;
  }
  readonly spec: ObjectSpec;

  // --- a person's changes --------------------------------------------------
  /** A new record; `id` gives it an id of the person's choosing (an app reusing a deleted record's id). */
  insert(fields: Fields, id = `u${++this.userIds}`): string {
    if (this.records.has(id)) throw new Error(`${this.name} holds ${id} already`);
    this.records.set(id, { id, fields: { ...fields }, seq: ++this.seq, at: this.stamp(), origin: 'user' });
    return id;
  }
  /** A removed record put back as it was, id and all (a table reloaded): it reads as changed. */
  restore(r: StoredRecord): void {
    if (this.records.has(r.id)) throw new Error(`${this.name} holds ${r.id} already`);
    this.records.set(r.id, { ...r, fields: { ...r.fields }, seq: ++this.seq, at: r.at > futureHorizonMs() ? r.at : this.stamp() });
  }
  edit(id: string, fields: Fields): void {
    const r = this.records.get(id);
    if (!r) return;
    r.fields = { ...r.fields, ...fields };
    r.seq = ++this.seq;
    r.at = this.stamp();
  }
  /** A person sets the record's change time by hand to `at` (a bad `UPDATE … SET modified_at = '9999-12-31'`). */
  poison(id: string, at = FAR_FUTURE): void {
    const r = this.records.get(id);
    if (!r) return;
    r.seq = ++this.seq;
    r.at = at;
  }
  remove(id: string): void {
    this.records.delete(id);
  }

  // --- inspection ----------------------------------------------------------
  has(id: string): boolean {
    return this.records.has(id);
  }
  record(id: string): StoredRecord | undefined {
    return this.records.get(id);
  }
  all(): StoredRecord[] {
    return [...this.records.values()].sort((x, y) => x.seq - y.seq);
  }
  /** Records in read order: by change time, then sequence. */
  private byTime(): StoredRecord[] {
    return [...this.records.values()].sort((x, y) => x.at - y.at || x.seq - y.seq);
  }
  /** The change time a read from `cursor` stands at (ms), to check it never passes now + the skew allowed. */
  static cursorTime(cursor: string): number {
    return parsePosition(cursor).at;
  }
  cursorTime(cursor: string): number {
    return MemoryApp.cursorTime(cursor);
  }
  /** Every record's fields by id (a copy). */
  snapshot(): Map<string, Fields> {
    return new Map([...this.records].map(([id, r]) => [id, { ...r.fields }]));
  }
  writeCount(): number {
    return [...this.writes.fields.values()].reduce((s, n) => s + n, 0);
  }
  stored(v: Value): Value {
    return v;
  }
  read(v: Value): Value {
    return v;
  }
  connection(name: string, baseDir: string): ConnectionConfig {
    return { name, app: 'memory', baseDir, instance: this };
  }

  // --- the connector ---------------------------------------------------------
  connect(_ctx: ConnectorContext): Connector {
    const app = this;
    const pick = (r: StoredRecord, fields: string[]): SourceRecord => ({
      id: r.id,
      fields: Object.fromEntries((fields.length > 0 ? fields : app.spec.fields.map((f) => f.name)).map((f) => [f, r.fields[f] ?? null])),
    });
    const checkObject = (object: string) => {
      if (object !== app.spec.name) throw new Error(`${app.name} has no object ${object}`);
    };
    /** Records this connector wrote, with the change sequence its write gave them. */
    const ours = new Map<string, number>();
    const connector: Connector = {
      app: 'memory',
      async check() {},
      async describe() {
        return [app.spec];
      },
      async *read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch> {
        checkObject(object);
        const since = parsePosition(opts.since);
        const changed = app.byTime().filter((r) => after(r, since));
        if (changed.length === 0) {
          app.event('read');
          yield { records: [], cursor: opts.since ?? '0:0' };
          return;
        }
        const horizon = futureHorizonMs();
        let cursor = opts.since;
        for (let i = 0; i < changed.length; i += app.pageSize) {
          const page = changed.slice(i, i + app.pageSize);
          app.event('read');
          // A change time past the horizon (they sort last) is read but moves no cursor.
          const believed = page.filter((r) => r.at <= horizon);
          if (believed.length > 0) cursor = position(believed[believed.length - 1]!);
          const future = page.filter((r) => r.at > horizon);
          const warnings = future.map((r) => futureRowWarning(r.id, 'changed_at', new Date(r.at).toISOString()));
          yield { records: page.map((r) => pick(r, opts.fields)), cursor, ...(warnings.length > 0 ? { warnings } : {}) };
        }
      },
      async get(object, ids, opts) {
        checkObject(object);
        return ids.flatMap((id) => {
          const r = app.records.get(id);
          return r ? [pick(r, opts.fields)] : [];
        });
      },
      async missing(object, ids) {
        checkObject(object);
        return ids.filter((id) => !app.records.has(id));
      },
      async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
        checkObject(object);
        if (ops.length === 0) return [];
        const what = app.event('write');
        if (what === 'crash-before') throw new SimulatedCrash(`before ${app.name} applied ${ops.length} op(s)`);
        app.beforeWrite?.(ops);
        app.writes.calls++;
        const results = ops.map((op) => app.apply(op));
        for (const r of results) if (r.ok) ours.set(r.id, app.records.get(r.id)!.seq);
        if (what === 'crash-after') throw new SimulatedCrash(`after ${app.name} applied ${ops.length} op(s)`);
        return results;
      },
      async close() {},
    };
    if (this.ownCursor) {
      connector.cursorAfterWrites = async (object, since) => {
        checkObject(object);
        // Records past the horizon are read on every pass whatever the cursor: they are not in its way.
        const horizon = futureHorizonMs();
        const changed = since === null ? [] : app.byTime().filter((r) => after(r, parsePosition(since)) && r.at <= horizon);
        const foreign = changed.some((r) => ours.get(r.id) !== r.seq);
        ours.clear();
        return changed.length === 0 || foreign ? since : position(changed[changed.length - 1]!);
      };
    }
    return connector;
  }

  /** Now, or the last change time given out if the clock went back. */
  private stamp(): number {
    this.clock = Math.max(this.clock, Date.now());
    return this.clock;
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

  private apply(op: WriteOp): WriteResult {
    this.writes.ops++;
    for (const [name, v] of Object.entries(op.fields)) {
      const f = this.spec.fields.find((x) => x.name === name);
      if (!f) return { ref: op.ref, ok: false, reason: `${this.name} has no field ${name}` };
      if (f.readOnly) return { ref: op.ref, ok: false, reason: `${name} is read-only` };
      if (v === REJECT) return { ref: op.ref, ok: false, reason: `${name}: the value ${REJECT} is not allowed` };
    }
    let id: string;
    if (op.kind === 'create') {
      id = `e${++this.engineIds}`;
      this.records.set(id, { id, fields: { ...op.fields }, seq: ++this.seq, at: this.stamp(), origin: 'engine' });
    } else {
      const r = this.records.get(op.id);
      if (!r) return { ref: op.ref, ok: false, reason: `no record ${op.id}` };
      const held = (x: Value | undefined) => JSON.stringify(x ?? null);
      if (this.conditional && op.expect && Object.entries(op.expect).some(([k, v]) => held(r.fields[k]) !== held(v))) {
        return { ref: op.ref, ok: false, changed: true, reason: `${op.id} changed since it was read` };
      }
      id = op.id;
      r.fields = { ...r.fields, ...op.fields };
      r.seq = ++this.seq;
      // The engine's write stamps the time of now, never the row's future one (as the SQLite connector does).
      r.at = this.stamp();
    }
    for (const name of Object.keys(op.fields)) this.writes.fields.set(name, (this.writes.fields.get(name) ?? 0) + 1);
    return { ref: op.ref, ok: true, id };
  }
}

/** Connections name their app (a MemoryApp, or another ModelApp) in `instance`. */
export const memoryFactory: ConnectorFactory = {
  app: 'memory',
  create(config, ctx) {
    const app = config['instance'] as ModelApp | undefined;
    if (typeof app?.connect !== 'function') throw new Error(`connection ${config.name}: no MemoryApp in \`instance\``);
    return app.connect(ctx);
  },
};
