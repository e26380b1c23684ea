/**
 * Matching in two parts (issue 15): the set queries of
 * `PassState.settleSimpleMatches` settle the records no other record can
 * touch, and `matchRecords` matches the rest in memory. Together they must
 * decide exactly what `matchRecords` decides over every record at once:
 * random records on both sides draw their keys from a small pool (so keys
 * collide, within a side and across), some are linked, some were read
 * unchanged, and the state holds keys of records from earlier runs.
 *
 *   DATASYNC_PROPERTY_RUNS=2000 npx vitest run test/engine/match-settle.test.ts
 */
import { describe, expect, test } from 'vitest';
import { matchRecords, type KeyedRecord, type MatchOutcome } from '../../src/engine/match.js';
import { openMemoryState } from '../../src/state/open.js';
import { PassState } from '../../src/state/pass.js';
import { StateStore, type Side } from '../../src/state/store.js';

const RUNS = Number(process.env.DATASYNC_PROPERTY_RUNS ?? 300);
const SEED = Number(process.env.DATASYNC_PROPERTY_SEED ?? Date.now() % 1_000_000_000);

/** mulberry32: the same seed gives the same worlds. */
function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  /** Records read in this pass, per side: keys, linked (to whom), unchanged since the last sync. */
  read: Record<Side, { id: string; keys: string[]; linkedTo: string | null; same: boolean }[]>;
  /** Keys stored from earlier runs: [side, id, key]. */
  stored: [Side, string, string][];
  claimed: Set<string>;
}

function world(rand: () => number): World {
  const pool = Array.from({ length: 2 + Math.floor(rand() * 10) }, (_, i) => `email:k${i}`);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const keysOf = () => {
    const n = rand() < 0.1 ? 0 : rand() < 0.7 ? 1 : 2;
    return [...new Set(Array.from({ length: n }, () => pick(pool)))];
  };
  const read: World['read'] = { a: [], b: [] };
  for (const side of ['a', 'b'] as const) {
    const n = Math.floor(rand() * 9);
    for (let i = 0; i < n; i++) read[side].push({ id: `${side}${i}`, keys: keysOf(), linkedTo: null, same: false });
  }
  // Links between read records (and to records not read), some read unchanged.
  for (const r of read.a) {
    if (rand() < 0.25) {
      const partner = rand() < 0.5 ? read.b.find((b) => b.linkedTo === null) : undefined;
      r.linkedTo = partner ? partner.id : `bx${r.id}`;
      if (partner) partner.linkedTo = r.id;
      r.same = rand() < 0.3;
    }
  }
  for (const r of read.b) if (r.linkedTo === null && rand() < 0.2) r.linkedTo = `ax${r.id}`;
  const stored: World['stored'] = [];
  for (const side of ['a', 'b'] as const) {
    // Keys of records not read now, and old keys of records read now (replaced by their fresh ones).
    for (let i = 0; i < Math.floor(rand() * 3); i++) stored.push([side, `${side}old${i}`, pick(pool)]);
    for (const r of read[side]) if (rand() < 0.2) stored.push([side, r.id, pick(pool)]);
  }
  const claimed = new Set<string>();
  for (const side of ['a', 'b'] as const) for (const r of read[side]) if (r.linkedTo === null && rand() < 0.05) claimed.add(`${side}:${r.id}`);
  return { read, stored, claimed };
}

const SYNC = 'contacts';

/** Both ways of matching one world: every record in memory, and settled by set queries first. */
function bothWays(w: World): { whole: MatchOutcome[]; split: MatchOutcome[]; settled: number } {
  const db = openMemoryState();
  const store = new StateStore(db);
  store.ensureSync(SYNC, 'contacts', 'crm', 'exp');
  for (const r of w.read.a) if (r.linkedTo) store.insertLink(SYNC, r.id, r.linkedTo, {}, { a: r.same ? `fp-${r.id}` : 'other', b: null });
  for (const r of w.read.b) if (r.linkedTo && !w.read.a.some((a) => a.id === r.linkedTo)) store.insertLink(SYNC, r.linkedTo, r.id, {});
  for (const [side, id, key] of w.stored) store.addKeys(SYNC, side, id, [key]);

  const pass = new PassState(db, SYNC);
  for (const side of ['a', 'b'] as const) {
    const recs = w.read[side].map((r) => ({ id: r.id, fields: {} }));
    pass.put(side, recs, { fp: (rec) => `fp-${rec.id}`, rest: (rec) => ({ keys: w.read[side].find((r) => r.id === rec.id)!.keys, reason: null }) });
  }
  pass.sortRead({ compareFingerprints: true });
  const isLinked = (side: Side, id: string) => store.linkBy(SYNC, side, id) !== undefined || w.claimed.has(`${side}:${id}`);
  const storedIds = (side: Side, key: string) => w.stored.filter(([s, , k]) => s === side && k === key).map(([, id]) => id);

  // In memory, every record the engine keys (still to look at, link not deleted), as before issue 15.
  const keyed = { a: [] as KeyedRecord[], b: [] as KeyedRecord[] };
  for (const side of ['a', 'b'] as const) {
    for (const page of pass.pages(side, 'changed')) {
      for (const r of page) keyed[side].push({ id: r.id, keys: r.keys, linked: r.linkA !== null || w.claimed.has(`${side}:${r.id}`) });
    }
  }
  const fresh = { a: new Set(keyed.a.map((r) => r.id)), b: new Set(keyed.b.map((r) => r.id)) };
  const whole = matchRecords(keyed, { knownIds: (side, key) => storedIds(side, key).filter((id) => !fresh[side].has(id)), isLinked });

  // Split: the set queries first, then the records left, as matchUnlinked does.
  const settled = pass.settleSimpleMatches([...w.claimed].map((c) => [c.slice(0, 1) as Side, c.slice(2)] as const));
  const rest = { a: [] as KeyedRecord[], b: [] as KeyedRecord[] };
  for (const side of ['a', 'b'] as const) {
    for (const page of pass.pages(side, 'unsettled')) {
      for (const r of page) rest[side].push({ id: r.id, keys: r.keys, linked: r.linkA !== null || w.claimed.has(`${side}:${r.id}`) });
    }
  }
  const split = matchRecords(rest, { knownIds: (side, key) => storedIds(side, key).filter((id) => !pass.isKeyed(side, id)), isLinked });
  for (const page of pass.settledMatches()) split.push(...page);
  db.close();
  return { whole, split, settled };
}

const canonical = (outcomes: MatchOutcome[]) => outcomes.map((o) => JSON.stringify(o, Object.keys(o).sort())).sort();

describe('matching settled by set queries, then in memory', () => {
  test(`decides as matchRecords over every record (seed ${SEED}, ${RUNS} worlds)`, () => {
    const rand = prng(SEED);
    let settledSome = 0;
    for (let run = 0; run < RUNS; run++) {
      const w = world(rand);
      const { whole, split, settled } = bothWays(w);
      if (settled > 0) settledSome++;
      expect(canonical(split), `world ${run} of seed ${SEED}: ${JSON.stringify(w, (_k, v) => (v instanceof Set ? [...v] : v))}`)
        .toEqual(canonical(whole));
    }
    // The worlds must exercise the set queries, not leave everything to matchRecords.
    expect(settledSome).toBeGreaterThan(RUNS / 3);
  });

  test('a pair alone with its key, a record alone, and a duplicate left to matchRecords', () => {
    const w: World = {
      read: {
        a: [{ id: 'a1', keys: ['email:ann'], linkedTo: null, same: false }, { id: 'a2', keys: ['email:bo'], linkedTo: null, same: false },
          { id: 'a3', keys: ['email:cy'], linkedTo: null, same: false }, { id: 'a4', keys: ['email:cy'], linkedTo: null, same: false }],
        b: [{ id: 'b1', keys: ['email:ann'], linkedTo: null, same: false }],
      },
      stored: [],
      claimed: new Set(),
    };
    const { split, settled } = bothWays(w);
    expect(settled).toBe(3); // a1, b1 and a2; a3 and a4 share a key
    expect(canonical(split)).toEqual(canonical([
      { kind: 'pair', a: 'a1', b: 'b1', key: 'email:ann' },
      { kind: 'unmatched', side: 'a', id: 'a2' },
      { kind: 'duplicate', side: 'a', id: 'a3', key: 'email:cy', others: ['a4'] },
      { kind: 'duplicate', side: 'a', id: 'a4', key: 'email:cy', others: ['a3'] },
    ]));
  });
});
