/** The sqlite connector's own behaviour beyond the conformance suite: config, errors, types, cursors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Connector, ReadBatch } from '../../src/connector.js';
import { DatasyncError, exitCodeFor } from '../../src/errors.js';
import { factory } from '../../connectors/sqlite/index.js';

let dir: string;
let db: Database.Database;

const SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE people (
    id INTEGER PRIMARY KEY, email TEXT UNIQUE, first_name TEXT, LastName TEXT, title TEXT,
    status TEXT, score INTEGER, created DATETIME, emails TEXT, vip BOOLEAN,
    amount REAL CHECK (amount >= 0), joined DATE, company_id INTEGER, modified_at TEXT);
  CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT NOT NULL, changed INTEGER);
`;

const CONTACTS = {
  table: 'people', id: 'id', updated_at: 'modified_at',
  fields: {
    status: { type: 'select', options: ['new', 'open', { value: 'won', label: 'Won' }] },
    score: { type: 'score' }, created: { type: 'datetime', read_only: true }, emails: { type: 'multi' },
  },
  associations: { company: { field: 'company_id', object: 'companies' } },
};

function connect(objects: Record<string, unknown> = { contacts: CONTACTS, companies: { table: 'orgs' } }, path = './crm.db'): Connector {
  return factory.create({ name: 'crm', app: 'sqlite', baseDir: dir, path, objects, batch_size: 2 }, {});
}

async function readAll(c: Connector, object: string, since: string | null, fields: string[] = []) {
  const batches: ReadBatch[] = [];
  for await (const b of c.read(object, { since, fields })) batches.push(b);
  return { records: batches.flatMap((b) => b.records), cursor: batches.reduce<string | null>((cur, b) => b.cursor ?? cur, since) };
}

async function failure(p: Promise<unknown>): Promise<DatasyncError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DatasyncError);
  return err as DatasyncError;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-sqlite-unit-'));
  db = new Database(join(dir, 'crm.db'));
  db.exec(SCHEMA);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('describe', () => {
  it('derives types from columns, applies the fields block and guesses roles', async () => {
    const c = connect();
    const [contacts] = await c.describe();
    const f = new Map(contacts!.fields.map((x) => [x.name, x]));
    expect([...f.keys()]).not.toContain('id');
    expect([...f.keys()]).not.toContain('company_id');
    expect(f.get('email')).toMatchObject({ type: 'text', role: 'email', unique: true, readOnly: false });
    expect(f.get('first_name')).toMatchObject({ role: 'firstname', label: 'First name' });
    expect(f.get('LastName')?.role).toBe('lastname');
    expect(f.get('title')?.role).toBe('jobtitle');
    expect(f.get('status')).toMatchObject({ type: 'select', options: [{ value: 'new' }, { value: 'open' }, { value: 'won', label: 'Won' }] });
    expect(f.get('score')).toMatchObject({ type: 'score', readOnly: true });
    expect(f.get('created')).toMatchObject({ type: 'datetime', readOnly: true });
    expect(f.get('vip')?.type).toBe('boolean');
    expect(f.get('amount')?.type).toBe('number');
    expect(f.get('joined')?.type).toBe('date');
    expect(f.get('modified_at')).toMatchObject({ type: 'datetime', readOnly: true });
    expect(contacts!.associations).toEqual([{ name: 'company', object: 'companies', single: true }]);
    expect(contacts!.capabilities).toEqual({ create: true, update: true, changeCursor: true, conditionalUpdate: true, cursorMisses: true });
    await c.close();
  });
});

describe('errors', () => {
  it('a missing database file is an app error naming the path', async () => {
    const err = await failure(connect(undefined, './nope.db').check());
    expect(exitCodeFor(err)).toBe(3);
    expect(err.message).toContain(join(dir, 'nope.db'));
  });

  it('a file that is not SQLite is an app error', async () => {
    writeFileSync(join(dir, 'notes.db'), 'just some text, not a database at all '.repeat(40));
    const err = await failure(connect(undefined, './notes.db').check());
    expect(err.code).toBe('SQLITE_NOT_A_DATABASE');
    expect(exitCodeFor(err)).toBe(3);
  });

  it('a database locked by another writer is a transient app error', async () => {
    const c = factory.create({ name: 'crm', app: 'sqlite', baseDir: dir, path: './crm.db', busy_timeout: 50, objects: { companies: { table: 'orgs' } } }, {});
    db.exec('BEGIN EXCLUSIVE');
    const err = await failure(c.write('companies', [{ kind: 'create', ref: 'a', fields: { name: 'X' } }]));
    db.exec('ROLLBACK');
    expect(err).toMatchObject({ code: 'SQLITE_LOCKED', transient: true });
    await c.close();
  });

  it('a table or column named in the config but missing is a config error naming it', async () => {
    let err = await failure(connect({ contacts: { table: 'persons' } }).describe());
    expect(exitCodeFor(err)).toBe(2);
    expect(err.message).toMatch(/crm.*contacts.*persons/);
    err = await failure(connect({ contacts: { table: 'people', updated_at: 'changed_on' } }).describe());
    expect(err.message).toMatch(/crm.*contacts.*people.*changed_on/);
    err = await failure(connect({ contacts: { table: 'people', fields: { nickname: { type: 'text' } } } }).describe());
    expect(err.message).toContain('nickname');
    // A malformed block is refused as soon as the connector is made, before any file is opened.
    expect(() => connect({ contacts: { table: 'people', fields: { email: { type: 'colour' } } } }))
      .toThrow(/crm, object contacts, field email: unknown type 'colour'/);
  });
});

describe('reading', () => {
  it('turns stored values into canonical ones', async () => {
    db.prepare(`INSERT INTO people (id, email, status, score, created, emails, vip, amount, joined, modified_at)
      VALUES (1, 'a@x.se', 'open', '12', '2024-03-01 10:20:30', 'a@x.se; b@x.se', 1, 2.5, '2024-02-29', '2024-03-01 10:20:30')`).run();
    db.prepare(`INSERT INTO people (id, email, emails, vip, first_name, modified_at) VALUES (2, '', '["c@x.se"]', 'false', '', NULL)`).run();
    const { records } = await readAll(connect(), 'contacts', null);
    const [none, one] = records; // a NULL change time sorts first
    expect(one!.fields).toMatchObject({
      email: 'a@x.se', status: 'open', score: 12, created: '2024-03-01T10:20:30.000Z', emails: ['a@x.se', 'b@x.se'],
      vip: true, amount: 2.5, joined: '2024-02-29', modified_at: '2024-03-01T10:20:30.000Z', first_name: null,
    });
    expect(none!.fields).toMatchObject({ email: null, emails: ['c@x.se'], vip: false, first_name: null, modified_at: null });
  });

  it('returns only the fields asked for', async () => {
    db.prepare(`INSERT INTO people (id, email, title) VALUES (1, 'a@x.se', 'CEO')`).run();
    const { records } = await readAll(connect(), 'contacts', null, ['title']);
    expect(records[0]!.fields).toEqual({ title: 'CEO' });
  });

  it('does not miss a row changed in the same second as the cursor, with a lower id', async () => {
    const insert = db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)');
    insert.run(5, 'five@x.se', '2024-06-01 12:00:00');
    insert.run(9, 'nine@x.se', '2024-06-01 12:00:00');
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    expect(first.records.map((r) => r.id)).toEqual(['5', '9']);
    insert.run(3, 'three@x.se', '2024-06-01T12:00:00Z'); // other format, same instant
    db.prepare(`UPDATE people SET title = 'CTO' WHERE id = 5`).run(); // same id, time left unchanged by a careless writer
    const next = await readAll(c, 'contacts', first.cursor);
    expect(next.records.map((r) => r.id).sort()).toEqual(['3', '5']);
    expect((await readAll(c, 'contacts', next.cursor)).records).toEqual([]);
  });

  it('does not miss a whole-second write landing just behind a millisecond cursor', async () => {
    const insert = db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)');
    insert.run(1, 'one@x.se', '2024-06-01T12:00:00.900Z'); // written by datasync, ms precision
    insert.run(2, 'two@x.se', '2024-06-01T11:00:00.000Z');
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    db.prepare(`UPDATE people SET title = 'CFO', modified_at = '2024-06-01 12:00:00' WHERE id = 2`).run(); // another app, whole seconds
    const next = await readAll(c, 'contacts', first.cursor);
    expect(next.records.map((r) => [r.id, r.fields.title])).toEqual([['2', 'CFO']]);
  });

  it('orders mixed time formats and epoch numbers by instant', async () => {
    db.prepare(`CREATE TABLE ev (id INTEGER PRIMARY KEY, at)`).run();
    const insert = db.prepare('INSERT INTO ev (id, at) VALUES (?, ?)');
    insert.run(1, '2024-01-01T00:00:02+01:00'); // 2023-12-31T23:00:02Z
    insert.run(2, 1704067201); // 2024-01-01T00:00:01Z in seconds
    insert.run(3, 1704067200500); // 2024-01-01T00:00:00.500Z in ms
    insert.run(4, '2024-01-01 00:00:03');
    const { records } = await readAll(connect({ ev: { table: 'ev', updated_at: 'at' } }), 'ev', null);
    expect(records.map((r) => [r.id, r.fields.at])).toEqual([
      ['1', '2023-12-31T23:00:02.000Z'], ['3', '2024-01-01T00:00:00.500Z'], ['2', '2024-01-01T00:00:01.000Z'], ['4', '2024-01-01T00:00:03.000Z'],
    ]);
  });
});

describe('writing', () => {
  it('stamps a write batch with one ms time after the newest in the table, the next batch later', async () => {
    // The clock in 2999 too: a change time after now is not believed (read.ts FUTURE_SKEW_MS).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2999-01-01T00:00:00.000Z') });
    onTestFinished(() => { vi.useRealTimers(); });
    db.prepare(`INSERT INTO people (id, email, modified_at) VALUES (1, 'a@x.se', '2999-01-01 00:00:00')`).run();
    const c = connect();
    const ops = [1, 2, 3].map((i) => ({ kind: 'create' as const, ref: `r${i}`, fields: { email: `n${i}@x.se` } }));
    await c.write('contacts', ops);
    await c.write('contacts', [{ kind: 'create', ref: 'r4', fields: { email: 'n4@x.se' } }]);
    const times = (db.prepare('SELECT modified_at FROM people WHERE id > 1 ORDER BY id').all() as { modified_at: string }[]).map((r) => r.modified_at);
    expect(times).toEqual(['2999-01-01T00:00:00.001Z', '2999-01-01T00:00:00.001Z', '2999-01-01T00:00:00.001Z', '2999-01-01T00:00:00.002Z']);
  });

  it('after a read, stamps a write after the newest change time the listing saw (the bound that spares a scan of the table)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2999-01-01T00:00:00.000Z') });
    onTestFinished(() => { vi.useRealTimers(); });
    const insert = db.prepare('INSERT INTO people (id, email, modified_at) VALUES (?, ?, ?)');
    insert.run(1, 'a@x.se', '2999-01-01 00:00:00');
    insert.run(2, 'b@x.se', '2999-01-01T00:02:00.000Z'); // two minutes ahead of the clock: believed (FUTURE_SKEW_MS)
    insert.run(3, 'c@x.se', '3999-01-01T00:00:00.000Z'); // past the horizon: not believed, not followed
    const c = connect();
    const first = await readAll(c, 'contacts', null);
    // Another program's row, older than the newest: the listing's bound still holds for the stamp.
    insert.run(4, 'd@x.se', '2999-01-01 00:01:00');
    await c.write('contacts', [{ kind: 'create', ref: 'r5', fields: { email: 'n5@x.se' } }]);
    const stamp = (id: number) => (db.prepare('SELECT modified_at AS t FROM people WHERE id = ?').get(id) as { t: string }).t;
    expect(stamp(5)).toBe('2999-01-01T00:02:00.001Z');
    // From a cursor, the listing starts at its last row (row 4, older, is for the full comparison): the bound is
    // the newest row listed, here our own write, or where the listing began.
    const again = connect();
    expect((await readAll(again, 'contacts', first.cursor)).records.map((r) => r.id)).toEqual(['5', '3']);
    await again.write('contacts', [{ kind: 'create', ref: 'r6', fields: { email: 'n6@x.se' } }]);
    expect(stamp(6)).toBe('2999-01-01T00:02:00.002Z');
  });

  it('does not run ahead of the clock on a bulk write', async () => {
    const c = connect();
    const ops = Array.from({ length: 5000 }, (_, i) => ({ kind: 'create' as const, ref: `r${i}`, fields: { email: `bulk${i}@x.se` } }));
    const before = Date.now();
    await c.write('contacts', ops);
    const newest = (db.prepare('SELECT max(modified_at) AS t FROM people').get() as { t: string }).t;
    // One stamp for the batch: within a few ms of the clock, not 5,000 ms ahead of it.
    expect(Date.parse(newest) - Date.now()).toBeLessThanOrEqual(2);
    expect(Date.parse(newest)).toBeGreaterThanOrEqual(before);
  });

  it('refuses constraint violations, wrong types, read-only and unknown fields per op', async () => {
    db.prepare(`INSERT INTO people (id, email) VALUES (1, 'taken@x.se')`).run();
    const c = connect();
    const results = await c.write('contacts', [
      { kind: 'create', ref: 'unique', fields: { email: 'taken@x.se' } },
      { kind: 'create', ref: 'check', fields: { email: 'c@x.se', amount: -1 } },
      { kind: 'create', ref: 'type', fields: { email: 'd@x.se', amount: 'lots' } },
      { kind: 'create', ref: 'option', fields: { email: 'e@x.se', status: 'lost' } },
      { kind: 'create', ref: 'readonly', fields: { email: 'f@x.se', created: '2024-01-01T00:00:00.000Z' } },
      { kind: 'create', ref: 'unknown', fields: { email: 'g@x.se', shoe_size: 42 } },
      { kind: 'create', ref: 'fine', fields: { email: 'h@x.se', status: 'won', emails: ['h@x.se', 'h2@x.se'], vip: true, joined: '2024-01-31' } },
    ]);
    const reasons = Object.fromEntries(results.map((r) => [r.ref, r.ok ? 'ok' : r.reason]));
    expect(reasons).toEqual({
      unique: 'UNIQUE constraint failed: people.email',
      check: expect.stringMatching(/CHECK constraint failed/),
      type: "invalid value for amount: expected a number, got 'lots'",
      option: "invalid option 'lost' for status (allowed: new, open, won)",
      readonly: 'created is read-only',
      unknown: 'table people has no column named shoe_size',
      fine: 'ok',
    });
    expect(db.prepare(`SELECT email, status, emails, vip, joined FROM people WHERE id > 1`).all())
      .toEqual([{ email: 'h@x.se', status: 'won', emails: 'h@x.se;h2@x.se', vip: 1, joined: '2024-01-31' }]);
    const notNull = await connect().write('companies', [{ kind: 'create', ref: 'n', fields: {} }]);
    expect(notNull[0]).toMatchObject({ ok: false, reason: 'NOT NULL constraint failed: orgs.name' });
  });

  it('generates ids for a TEXT id column and epoch times for a numeric change column', async () => {
    db.prepare(`INSERT INTO tags (code, label, changed) VALUES ('a', 'A', 1700000000)`).run();
    const c = connect({ tags: { table: 'tags', id: 'code', updated_at: 'changed' } });
    const [r] = await c.write('tags', [{ kind: 'create', ref: 'x', fields: { label: 'New' } }]);
    expect(r).toMatchObject({ ok: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const row = db.prepare('SELECT changed FROM tags WHERE label = ?').get('New') as { changed: number };
    expect(row.changed).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5); // keeps the column's seconds
    expect(row.changed).toBeLessThan(100_000_000_000);
  });
});

describe('missing', () => {
  /** Lists under 10,000 ids are looked up by id; a list at least half the table's size reads the whole id column. */
  async function bothWays(c: Connector, object: string, asked: string[]) {
    const whole = await c.missing(object, asked);
    const byId: string[] = [];
    for (let i = 0; i < asked.length; i += 1000) byId.push(...(await c.missing(object, asked.slice(i, i + 1000))));
    expect(byId).toEqual(whole);
    return whole;
  }

  it('gives the same answer for a long list as for short ones, integer ids compared as the strings a read gives', async () => {
    const insert = db.prepare('INSERT INTO people (id, email) VALUES (?, ?)');
    db.transaction(() => { for (let i = 1; i <= 12_000; i++) insert.run(i, `p${i}@x.se`); })();
    db.prepare('DELETE FROM people WHERE id % 7 = 0').run();
    const odd = ['007', '7.0', '14.0', ' 5', '+5', '5 ', '5.0', 'abc', '0', '-1', '1e3', '12001', ''];
    const asked = [...Array.from({ length: 12_000 }, (_, i) => String(i + 1)), ...odd, '3'];
    const expected = [...Array.from({ length: 12_000 }, (_, i) => i + 1).filter((i) => i % 7 === 0).map(String), ...odd];
    expect(await bothWays(connect(), 'contacts', asked)).toEqual(expected);
  });

  it('gives the same answer both ways for text ids, numeric-looking ones included', async () => {
    const insert = db.prepare('INSERT INTO tags (code, label) VALUES (?, ?)');
    db.transaction(() => { for (let i = 1; i <= 11_000; i++) insert.run(`t${i}`, 'x'); })();
    insert.run('007', 'x');
    insert.run('42', 'x');
    db.prepare(`DELETE FROM tags WHERE code IN ('t5', 't10999')`).run();
    const asked = [...Array.from({ length: 11_000 }, (_, i) => `t${i + 1}`), '007', '7', '42', '42.0', 'T1'];
    const c = connect({ tags: { table: 'tags', id: 'code' } });
    expect(await bothWays(c, 'tags', asked)).toEqual(['t5', 't10999', '7', '42.0', 'T1']);
  });
});
