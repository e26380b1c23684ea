/**
 * The sqlite connector's cursorAfterWrites beyond the conformance suite: a
 * cursor past its own writes must still lead to every change another program
 * made, whatever time format, id type or batch layout.
 *
 * Rows are seeded at times in 2999 so this connector's change times are
 * known: one ms after the newest, then one ms per write batch. The clock
 * reads 2999 too: a change time after now (plus a few minutes' skew) is not
 * believed (read.ts FUTURE_SKEW_MS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connector, ReadBatch, WriteOp } from '../../src/connector.js';
import { factory } from '../../connectors/sqlite/index.js';

let dir: string;
let db: Database.Database;

const SCHEMA = `
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE, title TEXT, modified_at TEXT);
  CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT, changed INTEGER);
  CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
`;
const SECOND = '2999-01-01 00:00:00';

function connect(objects: Record<string, unknown> = { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } }): Connector {
  return factory.create({ name: 'crm', app: 'sqlite', baseDir: dir, path: './crm.db', objects, batch_size: 100 }, {});
}

async function readAll(c: Connector, object: string, since: string | null) {
  const batches: ReadBatch[] = [];
  for await (const b of c.read(object, { since, fields: [] })) batches.push(b);
  return { records: batches.flatMap((b) => b.records), cursor: batches.reduce<string | null>((cur, b) => b.cursor ?? cur, since) };
}

const ids = (records: { id: string }[]) => records.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
const creates = (from: number, n: number): WriteOp[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'create', ref: `c${from + i}`, fields: { email: `new${from + i}@x.se` } }));
const update = (id: string, email: string): WriteOp => ({ kind: 'update', ref: `u${id}`, id, fields: { email } });

/** Another program's edit: the way SQLite users stamp rows, whole seconds. */
function theirEdit(id: number, title: string, at = SECOND) {
  db.prepare('UPDATE people SET title = ?, modified_at = ? WHERE id = ?').run(title, at, id);
}

function seed(n: number, at = SECOND) {
  const insert = db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)');
  db.transaction(() => { for (let i = 1; i <= n; i++) insert.run(i, `p${i}@x.se`, at); })();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2999-01-01T00:00:00.000Z') });
  dir = mkdtempSync(join(tmpdir(), 'datasync-sqlite-after-'));
  db = new Database(join(dir, 'crm.db'));
  db.exec(SCHEMA);
});
afterEach(() => {
  vi.useRealTimers();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cursorAfterWrites', () => {
  it('passes over a create and an update, and the next read yields nothing', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    const results = await c.write('contacts', [update('2', 'ours@x.se'), ...creates(1, 1)]);
    expect(results.every((r) => r.ok)).toBe(true);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).not.toBe(first.cursor);
    expect((await readAll(c, 'contacts', cursor)).records).toEqual([]);
    expect(JSON.parse(cursor!)).toMatchObject({ ts: '2999-01-01T00:00:00.001Z', id: 4 });
  });

  it('reads a row we wrote that another program changed in the same second with a whole-second time', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se')]); // stamped 2999-01-01T00:00:00.001Z
    theirEdit(2, 'CEO'); // 2999-01-01T00:00:00.000Z: older than our stamp, same second
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).toBe(first.cursor);
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.map((r) => [r.id, r.fields.email, r.fields.title])).toEqual([['2', 'ours@x.se', 'CEO']]);
  });

  it('reads that same edit when it comes after the cursor was made', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se'), ...creates(1, 1)]);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    theirEdit(2, 'CEO');
    // A careless writer that leaves the time alone, on the row we created.
    db.prepare(`UPDATE people SET title = 'CTO' WHERE id = 4`).run();
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.map((r) => [r.id, r.fields.title])).toEqual([['2', 'CEO'], ['4', 'CTO']]);
  });

  it('reads a row we created that a writer changed after the cursor without touching its time', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', creates(1, 2));
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    db.prepare(`UPDATE people SET title = 'CTO' WHERE id = 4`).run();
    expect((await readAll(c, 'contacts', cursor)).records.map((r) => [r.id, r.fields.title])).toEqual([['4', 'CTO']]);
  });

  it('never stamps a whole hundredth, so a centisecond writer in the same instant is not taken for us', async () => {
    seed(3, '2999-01-01 00:00:00.009');
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se')]);
    const stamp = (db.prepare('SELECT modified_at FROM people WHERE id = 2').get() as { modified_at: string }).modified_at;
    expect(stamp).toBe('2999-01-01T00:00:00.011Z'); // .010 skipped
    theirEdit(2, 'CEO', '2999-01-01 00:00:00.01');
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).toBe(first.cursor);
    expect(ids((await readAll(c, 'contacts', cursor)).records)).toEqual(['2']);
  });

  it('keeps the cursor it was given when another program created a row', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('1', 'ours@x.se')]);
    db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)').run(9, 'theirs@x.se', SECOND);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).toBe(first.cursor);
    expect(ids((await readAll(c, 'contacts', cursor)).records)).toEqual(['1', '9']);
  });

  it('keeps the cursor when a row another program changed before the writes is left alone by them', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    theirEdit(1, 'CFO', '2998-12-31 23:59:59'); // within the cursor's window, older than its last row
    await c.write('contacts', [update('3', 'ours@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('passes over a row another program deleted (the deletion check finds it, not the cursor)', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se')]);
    db.prepare('DELETE FROM people WHERE id = 3').run();
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).not.toBe(first.cursor);
    expect((await readAll(c, 'contacts', cursor)).records).toEqual([]);
    expect(await c.missing('contacts', ['1', '2', '3'])).toEqual(['3']);
  });

  it('passes over many rows written in several batches, and still reads a same-second edit of one of them', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    // 12,000 rows within one second: more than a cursor's `seen` holds (10,000).
    await c.write('contacts', creates(1, 5000));
    await c.write('contacts', [...creates(5001, 5000), update('1', 'ours@x.se')]);
    await c.write('contacts', [...creates(10001, 2000), update('5', 'again@x.se')]);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).not.toBe(first.cursor);
    expect(JSON.parse(cursor!)).toMatchObject({ ts: '2999-01-01T00:00:00.003Z', id: 12003 });
    const again = await readAll(c, 'contacts', cursor);
    expect(again.records).toEqual([]);
    expect((await readAll(c, 'contacts', again.cursor)).records).toEqual([]);
    theirEdit(7, 'CEO');
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.find((r) => r.id === '7')?.fields.title).toBe('CEO');
    expect(next.records.filter((r) => r.fields.title === 'CEO').map((r) => r.id)).toEqual(['7']);
  });

  /** Rows 4–6003 at 2999-01-01T00:00:00.001Z, rows 6004–11003 at .002: too many for a cursor's `seen`. */
  async function bulkAfterRead() {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', creates(1, 6000));
    await c.write('contacts', creates(6001, 5000));
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(Object.keys(JSON.parse(cursor!).own)).toEqual(['2999-01-01T00:00:00.001Z', '2999-01-01T00:00:00.002Z']);
    return { c, cursor };
  }

  it('reads the whole batch again when another program gives a row exactly our change time after the cursor', async () => {
    const { c, cursor } = await bulkAfterRead();
    expect((await readAll(c, 'contacts', cursor)).records).toEqual([]);
    db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)').run(20_000, 'theirs@x.se', '2999-01-01T00:00:00.002Z');
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.length).toBe(5001);
    expect(next.records.find((r) => r.id === '20000')?.fields.email).toBe('theirs@x.se');
  });

  it('reads a batch again when rows of it were deleted or changed, and the other batch not', async () => {
    const { c, cursor } = await bulkAfterRead();
    db.prepare('DELETE FROM people WHERE id = 10').run();
    theirEdit(100, 'CEO', '2999-01-01 00:00:01');
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.length).toBe(5999); // rows 4–6003 but the deleted one
    expect(next.records.find((r) => r.id === '100')?.fields.title).toBe('CEO');
    expect((await readAll(c, 'contacts', next.cursor)).records).toEqual([]);
  });

  it('keeps the newest rows of an oversized window in `seen` rather than dropping it, so a same-second edit is read', async () => {
    seed(10_500); // a bulk import by another program: the read's cursor has no `seen`
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    expect(JSON.parse(first.cursor!).seen).toBeUndefined();
    await c.write('contacts', [update('2', 'ours@x.se')]);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(Object.keys(JSON.parse(cursor!).seen)).toHaveLength(10_000);
    theirEdit(9000, 'CEO'); // whole second, before our .001 stamp
    const next = await readAll(c, 'contacts', cursor);
    expect(next.records.find((r) => r.id === '9000')?.fields.title).toBe('CEO');
  });

  it('keeps the cursor when one row among many written in several batches was changed by another program', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', creates(1, 3000));
    await c.write('contacts', creates(3001, 3000));
    theirEdit(100, 'CEO', '2999-01-01 00:00:01'); // after our stamps
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('keeps the cursor when we update a row another program changed since the read: our time hides theirs', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    theirEdit(3, 'CEO', '2999-01-01 00:00:01');
    await c.write('contacts', [update('3', 'ours@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
    const next = await readAll(c, 'contacts', first.cursor);
    expect(next.records.map((r) => [r.id, r.fields.email, r.fields.title])).toEqual([['3', 'ours@x.se', 'CEO']]);
  });

  it('keeps the cursor when the row we update was changed by a writer that left its time alone', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    db.prepare(`UPDATE people SET title = 'CTO' WHERE id = 2`).run();
    await c.write('contacts', [update('2', 'ours@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('keeps the cursor when another program changed a row between two of our writes to it', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se'), ...creates(1, 1)]);
    theirEdit(2, 'CEO', '2999-01-01 00:00:01');
    theirEdit(4, 'CFO', '2999-01-01 00:00:01');
    await c.write('contacts', [update('2', 'ours-again@x.se'), update('4', 'ours-too@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('passes over a row written twice, and a row updated twice in one batch, when nobody else touched them', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se'), ...creates(1, 1)]);
    await c.write('contacts', [update('2', 'ours-again@x.se'), update('4', 'ours-too@x.se'), update('3', 'a@x.se'), update('3', 'b@x.se')]);
    const cursor = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(cursor).not.toBe(first.cursor);
    expect((await readAll(c, 'contacts', cursor)).records).toEqual([]);
  });

  it('passes over writes to a table with epoch milliseconds', async () => {
    db.prepare(`INSERT INTO tags (code, label, changed) VALUES ('a', 'A', 32472144000000)`).run(); // 2999-01-01T00:00:00Z in ms
    const c = connect({ tags: { table: 'tags', id: 'code', updated_at: 'changed' } });
    const first = await readAll(c, 'tags', null);
    const [made] = await c.write('tags', [{ kind: 'create', ref: 'x', fields: { label: 'New' } }, { kind: 'update', ref: 'a', id: 'a', fields: { label: 'AA' } }]);
    const cursor = await c.cursorAfterWrites!('tags', first.cursor);
    expect(cursor).not.toBe(first.cursor);
    expect((await readAll(c, 'tags', cursor)).records).toEqual([]);
    db.prepare(`UPDATE tags SET label = 'theirs', changed = changed WHERE code = ?`).run(made!.ok ? made!.id : '');
    db.prepare(`UPDATE tags SET label = 'theirs too', changed = 32472144000000 WHERE code = 'a'`).run();
    expect((await readAll(c, 'tags', cursor)).records.map((r) => r.fields.label).sort()).toEqual(['theirs', 'theirs too']);
  });

  it('cannot tell its writes apart in a column of whole epoch seconds, so keeps the cursor', async () => {
    db.prepare(`INSERT INTO tags (code, label, changed) VALUES ('a', 'A', 1700000000)`).run();
    const c = connect({ tags: { table: 'tags', id: 'code', updated_at: 'changed' } });
    const first = await readAll(c, 'tags', null);
    await c.write('tags', [{ kind: 'update', ref: 'a', id: 'a', fields: { label: 'AA' } }]);
    expect(await c.cursorAfterWrites!('tags', first.cursor)).toBe(first.cursor);
  });

  it('answers null for a table never read, and the content hash for a table without a change column', async () => {
    seed(1);
    db.prepare(`INSERT INTO notes (id, body) VALUES (1, 'x')`).run();
    const c = connect({ contacts: { table: 'people', id: 'id', updated_at: 'modified_at' }, notes: { table: 'notes' } });
    await c.write('contacts', [update('1', 'ours@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', null)).toBeNull();
    const first = await readAll(c, 'notes', null);
    expect(first.cursor).toMatch(/^sha256:/);
    await c.write('notes', [{ kind: 'update', ref: 'n', id: '1', fields: { body: 'y' } }]);
    expect(await c.cursorAfterWrites!('notes', first.cursor)).toBe(first.cursor);
  });

  it('passes over only writes made through the same object, not through another object over the same table', async () => {
    seed(3);
    const people = { table: 'people', id: 'id', updated_at: 'modified_at' };
    const c = connect({ contacts: people, leads: people });
    const first = await readAll(c, 'contacts', null);
    await c.write('leads', [update('2', 'lead@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('forgets the writes once it has answered', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    await c.write('contacts', [update('2', 'ours@x.se')]);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).not.toBe(first.cursor);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });

  it('does not take a refused op for its own write', async () => {
    seed(3);
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    theirEdit(2, 'CEO', '2999-01-01 00:00:01');
    const [refused] = await c.write('contacts', [update('2', 'p1@x.se')]); // UNIQUE email: refused, row 2 keeps their edit
    expect(refused!.ok).toBe(false);
    expect(await c.cursorAfterWrites!('contacts', first.cursor)).toBe(first.cursor);
  });
});

describe('a read after a cursor whose window was too big for `seen`', () => {
  /**
   * 11,000 rows in one whole second and one row half a second later: the first read's window holds more
   * rows than `seen` can, so its cursor has none. The read from it lists only the last row; the cursor it
   * makes must not name the 11,000 rows it did not list as changed (they were read again every other pass).
   */
  async function oversizedWindow() {
    seed(11_000);
    db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)').run(11_001, 'late@x.se', '2999-01-01T00:00:00.500Z');
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    expect(first.records).toHaveLength(11_001);
    expect(JSON.parse(first.cursor!).seen).toBeUndefined();
    return { c, first };
  }

  it('reads nothing on every pass after, and its cursor settles', async () => {
    const { c, first } = await oversizedWindow();
    const second = await readAll(c, 'contacts', first.cursor);
    expect(second.records).toEqual([]);
    const third = await readAll(c, 'contacts', second.cursor);
    expect(third.records).toEqual([]);
    expect(third.cursor).toBe(second.cursor);
    expect((await readAll(c, 'contacts', third.cursor)).records).toEqual([]);
  });

  it('still reads an edit made after the cursor, at the last row\'s time or later', async () => {
    const { c, first } = await oversizedWindow();
    const second = await readAll(c, 'contacts', first.cursor);
    theirEdit(5, 'CEO', '2999-01-01 00:00:01');
    db.prepare(`UPDATE people SET title = 'CFO' WHERE id = 11001`).run(); // its time left alone: told by content
    const third = await readAll(c, 'contacts', second.cursor);
    expect(third.records.map((r) => [r.id, r.fields.title]).sort()).toEqual([['11001', 'CFO'], ['5', 'CEO']]);
    expect((await readAll(c, 'contacts', third.cursor)).records).toEqual([]);
  });
});
