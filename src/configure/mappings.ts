/**
 * The mapping steps of `configure` as pure functions over a draft and the two
 * objects' field lists: which fields may still be mapped, which fields of the
 * other side are compatible with one (SPEC §5 type rules, read-only flags, the
 * sync's direction), which options need a `values:` map, and how to keep only
 * some default mappings. Every verdict comes from the same `resolveMappings`
 * the engine uses, so what the wizard offers is what `run` accepts.
 */
import type { FieldSpec, ObjectSpec } from '../connector.js';
import { optionGaps } from '../mapping/options.js';
import { resolveMappings, type ResolvedMappings } from '../mapping/resolve.js';
import { flowSet } from '../mapping/rules.js';
import type { FieldMapping, Flow } from '../mapping/types.js';
import { toSyncConfig, type Draft, type DraftMapping } from './draft.js';

export interface Specs { a: ObjectSpec; b: ObjectSpec }

export function resolveDraft(d: Draft, specs: Specs): ResolvedMappings {
  return resolveMappings(toSyncConfig(d), specs.a, specs.b);
}

/** The default mappings the two connectors make for this draft (whatever `defaults` says). */
export function defaultMappings(d: Draft, specs: Specs): FieldMapping[] {
  return resolveDraft({ ...d, defaults: true, fields: [] }, specs).mappings;
}

/** Field names already mapped on each side by the draft (defaults included). */
export function mappedFields(d: Draft, specs: Specs): { a: Set<string>; b: Set<string> } {
  const { mappings } = resolveDraft(d, specs);
  return { a: new Set(mappings.map((m) => m.a.name)), b: new Set(mappings.map((m) => m.b.name)) };
}

export interface Candidate {
  field: FieldSpec;
  flow: Flow;
  note?: string;
  /** Options of a select/radio pair without a counterpart, per direction values flow. */
  gaps?: { a: string[]; b: string[] };
}

const withoutOptions = (f: FieldSpec): FieldSpec => ({ ...f, options: undefined });

/** The verdict on one custom pair, option lists aside (those are settled with a `values:` map). */
function trial(d: Draft, specs: Specs, fa: FieldSpec, fb: FieldSpec): Candidate | null {
  const probe: Draft = { ...d, defaults: false, custom: true, fields: [{ a: fa.name, b: fb.name }] };
  const bare = {
    a: { ...specs.a, fields: specs.a.fields.map((f) => (f.name === fa.name ? withoutOptions(f) : f)) },
    b: { ...specs.b, fields: specs.b.fields.map((f) => (f.name === fb.name ? withoutOptions(f) : f)) },
  };
  const r = resolveDraft(probe, bare);
  const m = r.mappings[0];
  if (r.problems.length > 0 || !m) return null;
  const c: Candidate = { field: fb, flow: m.flow };
  if (m.note) c.note = m.note;
  if (fa.type === fb.type && (fa.type === 'select' || fa.type === 'radio')) {
    const all = optionGaps(fa, fb);
    const f = flowSet(m.flow);
    const gaps = { a: f.ab ? all.a : [], b: f.ba ? all.b : [] };
    if (gaps.a.length > 0 || gaps.b.length > 0) c.gaps = gaps;
  }
  return c;
}

/** Fields of side b that `fa` may be custom-mapped with, none of them mapped already. */
export function compatibleFields(d: Draft, specs: Specs, fa: FieldSpec): Candidate[] {
  const used = mappedFields(d, specs);
  return specs.b.fields.filter((fb) => !used.b.has(fb.name))
    .map((fb) => trial(d, specs, fa, fb))
    .filter((c): c is Candidate => c !== null);
}

/** Fields of side a not mapped yet that have at least one compatible field on side b. */
export function mappableFields(d: Draft, specs: Specs): FieldSpec[] {
  const used = mappedFields(d, specs);
  return specs.a.fields.filter((fa) => !used.a.has(fa.name) && compatibleFields(d, specs, fa).length > 0);
}

/** Problems of one custom mapping added to the draft (empty when `run` will accept it). */
export function checkMapping(d: Draft, specs: Specs, m: DraftMapping): string[] {
  const r = resolveDraft({ ...d, custom: true, fields: [...d.fields, m] }, specs);
  const where = `custom mapping ${d.fields.length + 1}: `;
  return r.problems.map((p) => (p.startsWith(where) ? p.slice(where.length) : p));
}

/**
 * Keeps only some default mappings: `defaults` goes off and each kept pair
 * becomes a custom mapping with the flow it had (a default narrowed by option
 * gaps stays one-way). Pairs that a custom mapping cannot express (a `multi`
 * field) are returned as `lost`.
 */
export function keepSomeDefaults(d: Draft, specs: Specs, keep: FieldMapping[]): { draft: Draft; lost: FieldMapping[] } {
  const [aName, bName] = d.between;
  const lost: FieldMapping[] = [];
  const fields: DraftMapping[] = [];
  for (const m of keep) {
    if (m.a.type === 'multi' || m.b.type === 'multi') {
      lost.push(m);
      continue;
    }
    const direction = m.flow === 'both' ? undefined : m.flow === 'a-to-b' ? `${aName} -> ${bName}` : `${bName} -> ${aName}`;
    const candidate: DraftMapping = direction && d.direction === 'two-way' ? { a: m.a.name, b: m.b.name, direction } : { a: m.a.name, b: m.b.name };
    const problems = checkMapping({ ...d, defaults: false, fields }, specs, candidate);
    if (problems.length > 0) lost.push(m);
    else fields.push(candidate);
  }
  return { draft: { ...d, defaults: false, custom: true, fields: [...fields, ...d.fields] }, lost };
}
