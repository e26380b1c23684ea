/**
 * The csv connector's change listing (row-hashes.ts): a read from the cursor
 * of a version whose row hashes are kept lists the rows new or changed since
 * and reports the ids gone; any doubt (no row hashes, other ones, a damaged
 * file, another header) lists the whole file, `relisted`. Checked case by
 * case and, in the property test, against a model of a person editing the
 * file in a spreadsheet between reads: every record that differs is read,
 * every id gone is reported, nothing else is, and a read after nothing
 * changed reads nothing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, ReadBatch, SourceRecord } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';

let dir: string;
let c: Connector;
const file = () => join(dir, 'contacts.csv');
const cacheDir = () => join(dir, 'cache');
const connect = (write = true): Connector => factory.create(
  { name: 'export', app: 'csv', baseDir: dir, batch_size: 2, objects: { contacts: { file: 'contacts.csv' } } },
  { cache: { dir: cacheDir(), write } },
);
const kept = () => readdirSync(cacheDir()).filter((n) => n.endsWith('.rows')).sort();

async function readAll(since: string | null, conn: Connector = c) {
  const batches: ReadBatch[] = [];
  for await (const b of conn.read('contacts', { since, fields: [] })) batches.push(b);
  const records: SourceRecord[] = batches.flatMap((b) => b.records);
  return {
    ids: records.map((r) => r.id).sort(),
    emails: new Map(records.map((r) => [r.id, r.fields.email])),
    byId: new Map(records.map((r) => [r.id, r])),
    deleted: batches.flatMap((b) => b.deleted ?? []).sort(),
    relisted: batches.some((b) => b.relisted),
    cursor: batches.at(-1)?.cursor ?? since,
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-csv-changes-'));
  writeFileSync(file(), 'id,email,city\n1,ann@example.com,Oslo\n2,bob@example.com,Rome\n3,cid@example.com,Lima\n4,dee@example.com,Kyiv\n');
  c = connect();
});
afterEach(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the csv change listing', () => {
  it('lists the rows edited and added since the cursor, and reports the rows removed as deleted', async () => {
    const first = await readAll(null);
    expect(first.ids).toEqual(['1', '2', '3', '4']);
    expect(kept()).toHaveLength(1);
    writeFileSync(file(), 'id,email,city\n1,ann@example.com,Oslo\n2,bob@example.org,Rome\n4,dee@example.com,Kyiv\n5,eve@example.com,Baku\n');
    const next = await readAll(first.cursor);
    expect(next).toMatchObject({ ids: ['2', '5'], deleted: ['3'], relisted: false });
    expect(next.emails.get('2')).toBe('bob@example.org');
    expect((await readAll(next.cursor)).ids).toEqual([]);
  });

  it('a row moved, or the same row written with other bytes (quoted), is read; one left alone is not', async () => {
    const first = await readAll(null);
    writeFileSync(file(), 'id,email,city\n4,dee@example.com,Kyiv\n1,ann@example.com,Oslo\n2,"bob@example.com",Rome\n3,cid@example.com,Lima\n');
    const next = await readAll(first.cursor);
    // Row 2's bytes changed (its value did not: the engine finds it unchanged); rows 4, 1, 3 only moved.
    expect(next).toMatchObject({ ids: ['2'], deleted: [], relisted: false });
  });

  it('after its own writes, the row hashes of the version it saved are kept: another program\'s edit after them is read alone', async () => {
    const first = await readAll(null);
    await c.write('contacts', [{ kind: 'update', ref: 'u', id: '1', fields: { email: 'ours@example.com' } }]);
    const after = await c.cursorAfterWrites!('contacts', first.cursor);
    expect(after).not.toBe(first.cursor);
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Lima', 'Quito'));
    const next = await readAll(after);
    expect(next).toMatchObject({ ids: ['3'], deleted: [], relisted: false });
  });

  it('without row hashes of the cursor\'s version (none kept, damaged, another header), lists the file whole, relisted', async () => {
    const first = await readAll(null);
    const [name] = kept();
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Oslo', 'Bergen'));
    // Damaged: cut short.
    const whole = readFileSync(join(cacheDir(), name!));
    writeFileSync(join(cacheDir(), name!), whole.subarray(0, whole.length - 3));
    expect(await readAll(first.cursor)).toMatchObject({ ids: ['1', '2', '3', '4'], relisted: true });
    // Another header: every row reads otherwise.
    const second = await readAll(null);
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('id,email,city', 'id,email,town'));
    expect(await readAll(second.cursor)).toMatchObject({ ids: ['1', '2', '3', '4'], relisted: true });
    // None kept: a connector without a cache.
    const bare = factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv' } } }, {});
    const third = await readAll(null, bare);
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Rome', 'Pisa'));
    expect(await readAll(third.cursor, bare)).toMatchObject({ ids: ['1', '2', '3', '4'], relisted: true });
    await bare.close();
  });

  it('a dry run (cache not written) reads from the row hashes kept and keeps none of its own', async () => {
    const first = await readAll(null);
    const before = kept();
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Kyiv', 'Lviv'));
    const dry = connect(false);
    expect(await readAll(first.cursor, dry)).toMatchObject({ ids: ['4'], relisted: false });
    await dry.close();
    expect(kept()).toEqual(before);
  });

  it('a read removes the row hashes of versions no saved cursor names, and keeps those named; check alone removes nothing', async () => {
    const first = await readAll(null);
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Kyiv', 'Lviv'));
    const second = await readAll(first.cursor);
    expect(kept()).toHaveLength(2);
    // No cursor known (a state that could not be read, a sync reset): nothing removed.
    const reset = connect();
    await reset.check(new Map());
    await readAll(null, reset);
    expect(kept()).toHaveLength(2);
    // A run refused by the lock gets as far as check: nothing removed either.
    const later = connect();
    await later.check(new Map([['contacts', [second.cursor!]]]));
    expect(kept()).toHaveLength(2);
    writeFileSync(file(), readFileSync(file(), 'utf8').replace('Lviv', 'Odesa'));
    expect(await readAll(second.cursor, later)).toMatchObject({ ids: ['4'], relisted: false });
    // The first version went; the second (still the saved cursor) and the third (the next one) stay.
    expect(kept()).toHaveLength(2);
    expect(await readAll(first.cursor, later)).toMatchObject({ relisted: true });
    await Promise.all([reset.close(), later.close()]);
  });
});

/** A person's edits to the file between two reads. */
type Edit =
  | { kind: 'set'; row: number; col: 1 | 2; text: string }
  | { kind: 'add'; email: string }
  | { kind: 'remove'; row: number }
  | { kind: 'move'; from: number; to: number }
  | { kind: 'requote'; row: number };

const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', 'é'), maxLength: 6 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), row: fc.nat(), col: fc.constantFrom(1 as const, 2 as const), text }),
  fc.record({ kind: fc.constant('add' as const), email: text }),
  fc.record({ kind: fc.constant('remove' as const), row: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), from: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('requote' as const), row: fc.nat() }),
);

const quote = (v: string, always: boolean) => (always || /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

describe('the csv change listing, against a model of a person editing the file between reads', () => {
  it('reads every record that differs and every id gone, nothing else, and nothing when nothing changed', async () => {
    const ours = fc.option(fc.record({ row: fc.nat(), text }), { nil: undefined });
    const round = fc.record({ ours, edits: fc.array(edit, { maxLength: 6 }) });
    await fc.assert(fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 6 }), async (rounds) => {
      let next = 1;
      let rows: { id: string; email: string; city: string; quoted: boolean }[] = [];
      for (; next <= 5; next++) rows.push({ id: String(next), email: `p${next}@example.com`, city: 'x', quoted: false });
      const line = (r: (typeof rows)[number]) => [r.id, quote(r.email, r.quoted), quote(r.city, false)].join(',');
      const save = () => writeFileSync(file(), `id,email,city\n${rows.map(line).join('\n')}\n`);
      save();
      const conn = connect();
      const bare = factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv' } } }, {});
      let last = await readAll(null, conn);
      let model = new Map(rows.map((r) => [r.id, line(r)]));
      for (const { ours: write, edits } of rounds) {
        const at = (n: number) => (rows.length === 0 ? -1 : n % rows.length);
        let since = last.cursor;
        if (write && at(write.row) >= 0) {
          // The connector's own write, passed over by the cursor after it; its save copies the other rows byte for byte.
          const row = rows[at(write.row)]!;
          const [answer] = await conn.write('contacts', [{ kind: 'update', ref: 'w', id: row.id, fields: { email: write.text === '' ? null : write.text } }]);
          expect(answer!.ok).toBe(true);
          since = await conn.cursorAfterWrites!('contacts', since);
          row.email = write.text;
          row.quoted = false;
          model = new Map(rows.map((r) => [r.id, line(r)]));
        }
        for (const e of edits) {
          if (e.kind === 'set' && at(e.row) >= 0) rows[at(e.row)]![e.col === 1 ? 'email' : 'city'] = e.text;
          else if (e.kind === 'add') rows.push({ id: String(next++), email: e.email, city: '', quoted: false });
          else if (e.kind === 'remove' && at(e.row) >= 0) rows.splice(at(e.row), 1);
          else if (e.kind === 'move' && at(e.from) >= 0) rows.splice(e.to % rows.length, 0, ...rows.splice(at(e.from), 1));
          else if (e.kind === 'requote' && at(e.row) >= 0) rows[at(e.row)]!.quoted = !rows[at(e.row)]!.quoted;
        }
        save();
        // Exactly the rows whose bytes changed are read.
        const now = new Map(rows.map((r) => [r.id, line(r)]));
        const read = await readAll(since, conn);
        expect(read.relisted).toBe(false);
        expect(read.ids).toEqual([...now].filter(([id, v]) => model.get(id) !== v).map(([id]) => id).sort());
        expect(read.deleted).toEqual([...model.keys()].filter((id) => !now.has(id)).sort());
        // Each record read is the row as a whole read gives it now.
        const whole = (await readAll(null, bare)).byId;
        for (const [id, record] of read.byId) expect(record).toEqual(whole.get(id));
        expect((await readAll(read.cursor, conn)).ids).toEqual([]);
        last = read;
        model = now;
      }
      await conn.close();
      await bare.close();
    }), { numRuns: Number(process.env.DATASYNC_PROPERTY_RUNS ?? 40) });
  });
});
