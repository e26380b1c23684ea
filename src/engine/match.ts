/**
 * Matching (SPEC §4): pairs unlinked records of the two sides by match key,
 * before anything is created. Pure: earlier runs' keys come in through
 * `MatchLookups`, so this is testable without a state file.
 */
import { type Side, otherSide } from '../state/store.js';

export interface KeyedRecord {
  id: string;
  /** Match keys, primary first (companies: domain, then name). */
  keys: string[];
  linked: boolean;
}

export interface MatchLookups {
  /**
   * Ids on `side` holding `key` from earlier runs, leaving out records read
   * in this run (their fresh keys are in the input) and deleted ones.
   */
  knownIds(side: Side, key: string): string[];
  isLinked(side: Side, id: string): boolean;
}

export type MatchOutcome =
  | { kind: 'pair'; a: string; b: string; key: string }
  | { kind: 'duplicate'; side: Side; id: string; key: string; others: string[];
      /**
       * Present when only linked records hold the key (on either side). Their
       * pair may drop it in this very pass (a person changed the partner's
       * email): the engine looks again after the pairs are written.
       */
      linkedHolders?: { side: Side; id: string }[] }
  | { kind: 'unmatched'; side: Side; id: string };

type Index = Map<string, string[]>;

function indexByKey(records: KeyedRecord[]): Index {
  const index: Index = new Map();
  for (const r of records) {
    for (const key of r.keys) {
      const ids = index.get(key);
      if (ids) ids.push(r.id);
      else index.set(key, [r.id]);
    }
  }
  return index;
}

/**
 * `records` holds every record read in this run that takes part in matching
 * (linked ones too: their keys make a new record with the same key a duplicate).
 */
export function matchRecords(records: { a: KeyedRecord[]; b: KeyedRecord[] }, lookups: MatchLookups): MatchOutcome[] {
  const index = { a: indexByKey(records.a), b: indexByKey(records.b) };
  const holders = (side: Side, key: string): Set<string> =>
    new Set([...(index[side].get(key) ?? []), ...lookups.knownIds(side, key)]);

  const outcomes: MatchOutcome[] = [];
  const duplicate = new Set<string>(); // `${side}:${id}`
  // 1. Several records on one side with the same primary key: none is paired.
  for (const side of ['a', 'b'] as const) {
    for (const r of records[side]) {
      if (r.linked || r.keys.length === 0) continue;
      const key = r.keys[0]!;
      const others = [...holders(side, key)].filter((id) => id !== r.id);
      if (others.length > 0) {
        duplicate.add(`${side}:${r.id}`);
        const linked = others.every((id) => lookups.isLinked(side, id));
        outcomes.push({ kind: 'duplicate', side, id: r.id, key, others, ...(linked ? { linkedHolders: others.map((id) => ({ side, id })) } : {}) });
      }
    }
  }
  // 2. Pair each unlinked record with the one unlinked record of the other side sharing a key.
  const consumed = new Set<string>();
  for (const side of ['a', 'b'] as const) {
    const there = otherSide(side);
    for (const r of [...records[side]].sort((x, y) => (x.id < y.id ? -1 : 1))) {
      const me = `${side}:${r.id}`;
      if (r.linked || duplicate.has(me) || consumed.has(me)) continue;
      const candidates = new Map<string, string>(); // id -> key
      const linkedThere: string[] = [];
      for (const key of r.keys) {
        for (const id of holders(there, key)) {
          const them = `${there}:${id}`;
          if (lookups.isLinked(there, id)) {
            if (key === r.keys[0]) linkedThere.push(id);
            continue;
          }
          if (consumed.has(them)) continue;
          if (!candidates.has(id)) candidates.set(id, key);
        }
      }
      // A candidate that is itself a duplicate cannot be paired, and it still
      // holds the key: creating this record there would add one more.
      const pairable = [...candidates.keys()].filter((id) => !duplicate.has(`${there}:${id}`));
      if (candidates.size === 1 && pairable.length === 1) {
        const [id, key] = [...candidates][0]!;
        consumed.add(me);
        consumed.add(`${there}:${id}`);
        outcomes.push(side === 'a' ? { kind: 'pair', a: r.id, b: id, key } : { kind: 'pair', a: id, b: r.id, key });
      } else if (candidates.size > 0) {
        duplicate.add(me);
        outcomes.push({ kind: 'duplicate', side, id: r.id, key: r.keys[0]!, others: [...candidates.keys()] });
      } else if (linkedThere.length > 0) {
        // The other app has a record with this primary key already, paired
        // with another: creating this one there would put the key on two.
        duplicate.add(me);
        outcomes.push({ kind: 'duplicate', side, id: r.id, key: r.keys[0]!, others: linkedThere.map((id) => `${there}:${id}`),
          linkedHolders: linkedThere.map((id) => ({ side: there, id })) });
      } else if (side === 'a' || !consumed.has(me)) {
        outcomes.push({ kind: 'unmatched', side, id: r.id });
      }
    }
  }
  return outcomes;
}
