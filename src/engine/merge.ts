/**
 * Per-field merge of one pair of linked records (SPEC §4): pure, no I/O.
 *
 * For each mapping it compares both sides with the base (the values both
 * sides held after the last successful sync) and decides what to write where.
 */
import type { Fields, Value } from '../connector.js';
import { convertValue, isEmpty, sameValue } from '../mapping/convert.js';
import type { FieldMapping } from '../mapping/types.js';
import { type Base, type Side, otherSide } from '../state/store.js';

export type Why =
  | 'changed in a'
  | 'changed in b'
  | 'fills an empty value'
  | 'first match: default app wins'
  | 'conflict: default app wins'
  | 'cleared (clears: propagate)';

export interface FieldChange {
  /** The side written. */
  side: Side;
  field: string;
  from: Value;
  to: Value;
  why: Why;
}

export interface MergePolicy {
  defaultSide: Side;
  clears: 'keep' | 'propagate';
}

export interface MergeResult {
  write: { a: Fields; b: Fields };
  changes: FieldChange[];
  conflicts: number;
  /** The base once every write has succeeded. */
  base: Base;
}

export const mappingKey = (m: FieldMapping) => `${m.a.name}|${m.b.name}`;

export const canFlow = (m: FieldMapping, from: Side) =>
  m.flow === 'both' || m.flow === (from === 'a' ? 'a-to-b' : 'b-to-a');

/** A value of side `from` as the other side would hold it. */
export function carry(m: FieldMapping, from: Side, v: Value): Value {
  return from === 'a' ? convertValue(v, m.a, m.b, m.valuesAtoB) : convertValue(v, m.b, m.a, m.valuesBtoA);
}

/** Do the two sides hold the same value, compared in the direction values may flow? */
export function agree(m: FieldMapping, va: Value, vb: Value): boolean {
  if (isEmpty(va) && isEmpty(vb)) return true;
  return canFlow(m, 'a')
    ? sameValue(carry(m, 'a', va), vb, m.b)
    : sameValue(carry(m, 'b', vb), va, m.a);
}

/**
 * Merges a pair. `a`/`b` are the current fields of each side, or null when
 * that side was not read in this run (it did not change: its base stands).
 */
export function mergePair(
  mappings: FieldMapping[], a: Fields | null, b: Fields | null, base: Base | null, policy: MergePolicy,
): MergeResult {
  const result: MergeResult = { write: { a: {}, b: {} }, changes: [], conflicts: 0, base: {} };
  for (const m of mappings) {
    const key = mappingKey(m);
    const prior = base?.[key];
    const va = a ? (a[m.a.name] ?? null) : (prior?.[0] ?? null);
    const vb = b ? (b[m.b.name] ?? null) : (prior?.[1] ?? null);
    // Most fields of most pairs are exactly their base: nothing to decide.
    if (prior && va === prior[0] && vb === prior[1]) {
      result.base[key] = prior;
      continue;
    }
    const cur = { a: va, b: vb };
    const set = (side: Side, why: Why, conflict = false) => {
      const from = otherSide(side);
      const to = carry(m, from, cur[from]);
      result.write[side][side === 'a' ? m.a.name : m.b.name] = to;
      result.changes.push({ side, field: side === 'a' ? m.a.name : m.b.name, from: cur[side], to, why });
      if (conflict) result.conflicts++;
      cur[side] = to;
    };
    if (!prior) firstMatch(m, cur, policy, set);
    else incremental(m, cur, prior, policy, set);
    result.base[key] = [cur.a, cur.b];
  }
  return result;
}

type Setter = (side: Side, why: Why, conflict?: boolean) => void;

/** No base yet: equal stays, one-sided fills the empty side, else the default app wins. */
function firstMatch(m: FieldMapping, cur: { a: Value; b: Value }, policy: MergePolicy, set: Setter): void {
  if (agree(m, cur.a, cur.b)) return;
  const emptyA = isEmpty(cur.a);
  const emptyB = isEmpty(cur.b);
  if (emptyA && !emptyB) {
    if (canFlow(m, 'b')) set('a', 'fills an empty value');
    return;
  }
  if (emptyB && !emptyA) {
    if (canFlow(m, 'a')) set('b', 'fills an empty value');
    return;
  }
  const winner = policy.defaultSide;
  if (canFlow(m, winner)) set(otherSide(winner), 'first match: default app wins', true);
}

function incremental(m: FieldMapping, cur: { a: Value; b: Value }, prior: [Value, Value], policy: MergePolicy, set: Setter): void {
  const changedA = !sameValue(cur.a, prior[0], m.a);
  const changedB = !sameValue(cur.b, prior[1], m.b);
  if (!changedA && !changedB) return;
  if (agree(m, cur.a, cur.b)) return;
  if (changedA !== changedB) {
    const from: Side = changedA ? 'a' : 'b';
    if (!canFlow(m, from)) return;
    if (isEmpty(cur[from])) {
      // A clear stays local unless the sync propagates clears.
      if (policy.clears === 'propagate') set(otherSide(from), 'cleared (clears: propagate)');
      return;
    }
    set(otherSide(from), from === 'a' ? 'changed in a' : 'changed in b');
    return;
  }
  // Changed on both sides to different values: the default app wins, unless
  // its value is empty, and never against the direction.
  const winner = policy.defaultSide;
  if (isEmpty(cur[winner]) || !canFlow(m, winner)) return;
  set(otherSide(winner), 'conflict: default app wins', true);
}

/**
 * The fields to send when creating the record of `from` on the other side,
 * and the base to store once it is created.
 */
export function createFields(mappings: FieldMapping[], from: Side, fields: Fields): { fields: Fields; base: Base } {
  const out: Fields = {};
  const base: Base = {};
  for (const m of mappings) {
    const v = fields[from === 'a' ? m.a.name : m.b.name] ?? null;
    // Not sent, so the new record holds nothing there: that is its base too
    // (else a later change of the source side would be merged as a first match).
    if (!canFlow(m, from)) {
      base[mappingKey(m)] = from === 'a' ? [v, null] : [null, v];
      continue;
    }
    const to = carry(m, from, v);
    if (!isEmpty(to)) out[from === 'a' ? m.b.name : m.a.name] = to;
    base[mappingKey(m)] = from === 'a' ? [v, isEmpty(to) ? null : to] : [isEmpty(to) ? null : to, v];
  }
  return { fields: out, base };
}
