/**
 * The SQLite change listing against a model of what another program did
 * (read.ts): random edits with the times programs write (a millisecond
 * clock, whole seconds that may fall behind a millisecond cursor in the same
 * second, the very millisecond of the last row, an edit that leaves the time
 * alone), a bulk import now and then that fills the cursor's window past
 * what `seen` holds, and reads from each cursor. After every read:
 *
 *  - every row changed since the last read is read when its change time is
 *    inside the cursor's window and the cursor holds `seen`, or after the
 *    cursor's last row when it holds none (what read.ts promises; older
 *    change times are the full comparison's, `reconcile:`);
 *  - a read with nothing changed since the one before reads nothing, and a
 *    third read gives the cursor back as it was (no pass after a bulk write
 *    reads its window again and again);
 *  - what is read is the row as it is now.
 *
 * DATASYNC_PROPERTY_RUNS (default 40) and DATASYNC_PROPERTY_SEED tune it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import type { Connector, ReadBatch } from '../../src/connector.js';
import { factory } from '../../connectors/sqlite/index.js';
import { propertySeed } from '../engine/model-world.js';

const dir = mkdtempSync(join(tmpdir(), 'datasync-sqlite-cursor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const numRuns = Number(process.env['DATASYNC_PROPERTY_RUNS'] ?? 40);
const seed = propertySeed('sqlite cursor property', numRuns);

type Step =
  | { kind: 'edit'; row: number; time: 'tick' | 'whole second' | 'same ms' | 'untouched'; advance: number }
  | { kind: 'bulk'; rows: number; advance: number }
  | { kind: 'read' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('edit' as const), row: fc.integer({ min: 1, max: 40 }),
    time: fc.constantFrom('tick' as const, 'whole second' as const, 'same ms' as const, 'untouched' as const),
    advance: fc.integer({ min: 0, max: 1500 }),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bulk' as const), rows: fc.integer({ min: 10_001, max: 10_300 }), advance: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'read' as const }) },
);

interface Cursor { ts: string; id: number; from: string; seen?: Record<string, string> }

const iso = (ms: number) => new Date(ms).toISOString();
/** The change time read.ts gives a stored value: ISO to the ms. */
const changeTime = (stored: string) => iso(Date.parse(stored.includes('T') ? stored : `${stored.replace(' ', 'T')}Z`));

async function readAll(c: Connector, since: string | null) {
  const batches: ReadBatch[] = [];
  for await (const b of c.read('contacts', { since, fields: [] })) batches.push(b);
  return { records: batches.flatMap((b) => b.records), cursor: batches.reduce<string | null>((cur, b) => b.cursor ?? cur, since) };
}

let cases = 0;
async function runCase(steps: Step[]): Promise<void> {
  const path = join(dir, `crm-${cases++}.db`);
  const db = new Database(path);
  db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, title TEXT, modified_at TEXT)');
  const c = factory.create({ name: 'crm', app: 'sqlite', baseDir: dir, path, objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } }, batch_size: 500 }, {});
  const upsert = db.prepare(`INSERT INTO people (id, title, modified_at) VALUES (?, ?, ?)
                             ON CONFLICT (id) DO UPDATE SET title = excluded.title, modified_at = excluded.modified_at`);
  const retitle = db.prepare('UPDATE people SET title = ? WHERE id = ?');
  // A clock an hour behind now: every time is believed (read.ts futureHorizon).
  let clock = Date.now() - 3_600_000;
  let edits = 0;
  let nextBulkId = 1000;
  /** Rows changed since the last read: id → its change time now. */
  const changed = new Map<number, string>();
  let cursor: string | null = null;
  let quiet = false; // nothing changed since the last read
  try {
    for (const step of steps) {
      if (step.kind === 'edit') {
        clock += step.advance;
        const title = `t${++edits}`;
        const exists = db.prepare('SELECT modified_at FROM people WHERE id = ?').pluck().get(step.row) as string | undefined;
        if (step.time === 'untouched' && exists !== undefined) {
          retitle.run(title, step.row);
          changed.set(step.row, changeTime(exists));
        } else {
          const stored = step.time === 'whole second' ? iso(Math.floor(clock / 1000) * 1000).slice(0, 19).replace('T', ' ')
            : step.time === 'same ms' ? (db.prepare('SELECT max(modified_at) FROM people').pluck().get() as string | null) ?? iso(clock)
              : iso(clock);
          upsert.run(step.row, title, stored);
          changed.set(step.row, changeTime(stored));
        }
        quiet = false;
      } else if (step.kind === 'bulk') {
        clock += step.advance;
        const at = iso(clock);
        const insert = db.prepare('INSERT INTO people (id, title, modified_at) VALUES (?, ?, ?)');
        db.transaction(() => { for (let i = 0; i < step.rows; i++) insert.run(nextBulkId + i, 'bulk', at); })();
        for (let i = 0; i < step.rows; i++) changed.set(nextBulkId + i, at);
        nextBulkId += step.rows;
        quiet = false;
      } else {
        const before = cursor === null ? null : (JSON.parse(cursor) as Cursor);
        const read = await readAll(c, cursor);
        const got = new Map(read.records.map((r) => [Number(r.id), r.fields.title]));
        for (const [id, at] of changed) {
          const promised = before === null ? true
            : before.seen ? at >= before.from : at > before.ts || (at === before.ts && id > before.id);
          if (promised) expect(got.has(id), `row ${id} changed at ${at}, cursor ${JSON.stringify({ ...before, seen: before?.seen && Object.keys(before.seen).length })}`).toBe(true);
        }
        for (const [id, title] of got) {
          expect(title).toBe(db.prepare('SELECT title FROM people WHERE id = ?').pluck().get(id));
        }
        if (quiet) {
          expect(read.records.map((r) => r.id), 'a read with nothing changed since the last').toEqual([]);
          // The cursor settles: the read after this one gives it back unchanged.
          const again = await readAll(c, read.cursor);
          expect(again.records).toEqual([]);
          expect(again.cursor).toBe(read.cursor);
        }
        cursor = read.cursor;
        changed.clear();
        quiet = true;
      }
    }
  } finally {
    await c.close();
    db.close();
    rmSync(path, { force: true });
  }
}

test('a listing from each cursor reads every change it promises to, and nothing twice when nothing changed', async () => {
  await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 30 }), runCase), { numRuns, seed, verbose: 1 });
}, Math.max(60_000, numRuns * 3000));
