/**
 * Option values of select and radio mappings (SPEC §5): a pair is two-way only
 * when every option of each side has a counterpart on the other, either the
 * same value or one paired in the mapping's `values:` map (side a -> side b).
 */
import type { FieldOption, FieldSpec } from '../connector.js';
import type { FlowSet } from './rules.js';

export type OptionCheck =
  | { ok: true; valuesAtoB?: Record<string, string>; valuesBtoA?: Record<string, string> }
  | { ok: false; rule: string; instead: string };

/** Labels such as 'hubspot.status', used in messages. */
export interface PairNames { a: string; b: string }

const isEnum = (f: FieldSpec) => f.type === 'select' || f.type === 'radio';
/** Options we can check against; a connector that lists none leaves the values unchecked. */
const knownOptions = (f: FieldSpec): string[] | null =>
  isEnum(f) && f.options && f.options.length > 0 ? f.options.map((o) => o.value) : null;
const quoted = (xs: string[]) => xs.map((x) => `"${x}"`).join(', ');

/**
 * Checks the `values:` map against both option lists, and that every option of
 * a side values flow from (per `flow`) has a counterpart on the side they flow to.
 */
export function checkOptions(a: FieldSpec, b: FieldSpec, values: Record<string, string> | undefined,
  flow: FlowSet, names: PairNames): OptionCheck {
  if (values && !isEnum(a) && !isEnum(b)) {
    return { ok: false, rule: 'values: only applies to select or radio fields', instead: 'remove values: from this mapping' };
  }
  const bad = badMapEntries(values ?? {}, knownOptions(a), knownOptions(b), names);
  if (bad) return bad;
  const map = withLabelPairs(a, b, values ?? {});
  if (a.type === b.type && isEnum(a)) {
    const missing = missingCounterparts(optionGaps(a, b, map), flow, names);
    if (missing) return missing;
  }
  if (Object.keys(map).length === 0) return { ok: true };
  return { ok: true, valuesAtoB: { ...map }, valuesBtoA: invert(map, knownOptions(a)) };
}

function badMapEntries(map: Record<string, string>, aOpts: string[] | null, bOpts: string[] | null,
  names: PairNames): OptionCheck | null {
  const badKeys = aOpts ? Object.keys(map).filter((k) => !aOpts.includes(k)) : [];
  const badValues = bOpts ? [...new Set(Object.values(map))].filter((v) => !bOpts.includes(v)) : [];
  if (badKeys.length === 0 && badValues.length === 0) return null;
  const rule = [
    badKeys.length ? `values: ${quoted(badKeys)} not an option of ${names.a}` : '',
    badValues.length ? `values: ${quoted(badValues)} not an option of ${names.b}` : '',
  ].filter(Boolean).join(' and ');
  const instead = [
    badKeys.length && aOpts ? `keys must be options of ${names.a} (${quoted(aOpts)})` : '',
    badValues.length && bOpts ? `values must be options of ${names.b} (${quoted(bOpts)})` : '',
  ].filter(Boolean).join('; ');
  return { ok: false, rule, instead };
}

/** Options of each side with no counterpart on the other (equal value or via the map). */
export function optionGaps(a: FieldSpec, b: FieldSpec, given: Record<string, string> = {}): { a: string[]; b: string[] } {
  const aOpts = knownOptions(a), bOpts = knownOptions(b);
  if (!aOpts || !bOpts) return { a: [], b: [] };
  const map = withLabelPairs(a, b, given);
  const mapped = new Set(Object.values(map));
  return {
    a: aOpts.filter((o) => !Object.hasOwn(map, o) && !bOpts.includes(o)),
    b: bOpts.filter((o) => !mapped.has(o) && !aOpts.includes(o)),
  };
}

const normLabel = (l: string | undefined) => (l ?? '').normalize('NFC').trim().toLowerCase().replace(/\s+/g, ' ');
/** An option without a label is labelled by its value (a database column's plain list of stage names). */
const labelOf = (o: FieldOption) => o.label ?? o.value;

/**
 * The map with options of equal labels paired, where values differ: a
 * Dynamics picklist's '8' and a HubSpot dropdown's 'PROSPECT' are both
 * "Prospect"; a SQLite column's plain option "Renewed" and HubSpot's deal
 * stage '9002' labelled "Renewed" (issue 19). Only unambiguous pairs (one option of that label each side,
 * neither paired already by value or by the map); `given` entries win.
 */
export function withLabelPairs(a: FieldSpec, b: FieldSpec, given: Record<string, string>): Record<string, string> {
  if (!isEnum(a) || !isEnum(b) || !a.options?.length || !b.options?.length) return given;
  const aValues = new Set(a.options.map((o) => o.value));
  const bValues = new Set(b.options.map((o) => o.value));
  const taken = new Set(Object.values(given));
  const byLabel = (opts: FieldOption[]) => {
    const m = new Map<string, FieldOption[]>();
    for (const o of opts) if (labelOf(o)) m.set(normLabel(labelOf(o)), [...(m.get(normLabel(labelOf(o))) ?? []), o]);
    return m;
  };
  const aByLabel = byLabel(a.options), bByLabel = byLabel(b.options);
  const pairs: Record<string, string> = {};
  for (const o of a.options) {
    if (Object.hasOwn(given, o.value) || bValues.has(o.value) || !labelOf(o)) continue;
    const mine = aByLabel.get(normLabel(labelOf(o))) ?? [];
    const theirs = (bByLabel.get(normLabel(labelOf(o))) ?? []).filter((x) => !aValues.has(x.value) && !taken.has(x.value));
    if (mine.length === 1 && theirs.length === 1) pairs[o.value] = theirs[0]!.value;
  }
  return Object.keys(pairs).length === 0 ? given : { ...pairs, ...given };
}

function missingCounterparts(gaps: { a: string[]; b: string[] }, flow: FlowSet, names: PairNames): OptionCheck | null {
  const lonelyA = flow.ab ? gaps.a : [], lonelyB = flow.ba ? gaps.b : [];
  if (lonelyA.length === 0 && lonelyB.length === 0) return null;
  const parts = [
    lonelyA.length ? `${names.a} ${quoted(lonelyA)}` : '',
    lonelyB.length ? `${names.b} ${quoted(lonelyB)}` : '',
  ].filter(Boolean).join('; ');
  return {
    ok: false,
    rule: `options without a counterpart: ${parts}`,
    instead: `pair them in values: (from ${names.a}'s values to ${names.b}'s), or map the field one-way into a text field`,
  };
}

/**
 * The way back. When several a-values map to one b-value, the b-value goes
 * back to the a-value equal to it if a has one that is not remapped itself,
 * else to the first key listed.
 */
function invert(map: Record<string, string>, aOpts: string[] | null): Record<string, string> {
  const back: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    const identityWins = !Object.hasOwn(map, v) && (aOpts ? aOpts.includes(v) : false);
    if (identityWins) back[v] = v;
    else if (!Object.hasOwn(back, v)) back[v] = k;
  }
  return back;
}
