/**
 * Resolves the field mappings of one sync (SPEC §5): the default pairs the two
 * connectors' standard fields make, then the custom mappings of the YAML, each
 * checked against the type rules, read-only flags, option lists and directions.
 */
import type { FieldSpec, ObjectSpec } from '../connector.js';
import type { CustomMapping, SyncConfig } from '../config/types.js';
import { checkOptions, optionGaps } from './options.js';
import {
  alternativesFor, customTypeRule, defaultTypeRule, flowText, fromDirection, fromRule, intersect,
  parseMappingDirection, toFlow, within, type FlowSet,
} from './rules.js';
import { unknownFieldHint } from './suggest.js';
import { isReference } from './references.js';
import type { FieldMapping } from './types.js';
import { append } from '../lists.js';

export interface ResolvedMappings {
  mappings: FieldMapping[];
  /** Configuration errors, each `<where>: mapping a.x ↔ b.y: <rule broken>; <what is allowed instead>`. */
  problems: string[];
  /** Default pairs left out, with the reason (not errors: for `health` and dry runs). */
  skipped: string[];
}

type Verdict = { ok: true; mapping: FieldMapping } | { ok: false; rule: string; instead: string };

interface Ctx {
  sync: SyncConfig;
  a: ObjectSpec;
  b: ObjectSpec;
  out: ResolvedMappings;
  /** Where each custom mapping was written, for "already mapped" messages. */
  where: Map<FieldMapping, string>;
}

export function resolveMappings(sync: SyncConfig, a: ObjectSpec, b: ObjectSpec): ResolvedMappings {
  const ctx: Ctx = { sync, a, b, out: { mappings: [], problems: [], skipped: [] }, where: new Map() };
  if (sync.mappings.defaults) addDefaults(ctx);
  if (sync.mappings.custom) for (const m of sync.mappings.fields) addCustom(ctx, m);
  return ctx.out;
}

// ---- default mappings ------------------------------------------------------

/** Pairs by role first, then by name (case-insensitive) among fields not yet paired. */
export function defaultPairs(a: ObjectSpec, b: ObjectSpec): Array<[FieldSpec, FieldSpec]> {
  const pairs: Array<[FieldSpec, FieldSpec]> = [];
  const usedA = new Set<string>(), usedB = new Set<string>();
  const take = (fa: FieldSpec, match: (fb: FieldSpec) => boolean) => {
    if (usedA.has(fa.name)) return;
    const fb = b.fields.find((f) => !usedB.has(f.name) && match(f));
    if (!fb) return;
    pairs.push([fa, fb]);
    usedA.add(fa.name);
    usedB.add(fb.name);
  };
  // A reference (company_id ↔ company_id) pairs ids of two id spaces: never by default (references.ts).
  for (const fa of a.fields) if (fa.role && !isReference(fa)) take(fa, (fb) => fb.role === fa.role && !isReference(fb));
  for (const fa of a.fields) {
    if (isReference(fa)) continue;
    take(fa, (fb) => !isReference(fb) && fb.name.toLowerCase() === fa.name.toLowerCase() && !(fa.role && fb.role && fa.role !== fb.role));
  }
  return pairs;
}

function addDefaults(ctx: Ctx): void {
  for (const [fa, fb] of defaultPairs(ctx.a, ctx.b)) {
    const v = judge(ctx, fa, fb, 'default');
    if (v.ok) ctx.out.mappings.push(v.mapping);
    else ctx.out.skipped.push(`${label(ctx, 'a', fa.name)} ↔ ${label(ctx, 'b', fb.name)}: ${v.rule}`);
  }
}

// ---- custom mappings -------------------------------------------------------

function addCustom(ctx: Ctx, m: CustomMapping): void {
  const [aName, bName] = ctx.sync.between;
  const aField = m.fields[aName], bField = m.fields[bName];
  const head = `${m.where}: mapping ${label(ctx, 'a', aField ?? '?')} ↔ ${label(ctx, 'b', bField ?? '?')}`;
  const problem = (rule: string, instead: string) => ctx.out.problems.push(`${head}: ${rule}; ${instead}`);
  const fa = findField(ctx, 'a', aField, problem);
  const fb = findField(ctx, 'b', bField, problem);
  if (!fa || !fb) return;

  const mappings = ctx.out.mappings;
  const repeat = mappings.findIndex((x) => x.origin === 'default' && x.a.name === fa.name && x.b.name === fb.name);
  // Repeating a default pair as it is changes nothing; with direction/values it refines it.
  if (repeat >= 0 && m.direction === undefined && m.values === undefined) return;
  const clash = alreadyMapped(ctx, fa, fb, repeat);
  if (clash) return void problem(clash, 'a field is mapped at most once on each side; remove one of the two mappings');

  const v = judge(ctx, fa, fb, 'custom', m);
  if (!v.ok) return void problem(v.rule, v.instead);
  ctx.where.set(v.mapping, m.where);
  if (repeat >= 0) mappings[repeat] = v.mapping;
  else mappings.push(v.mapping);
}

function findField(ctx: Ctx, side: 'a' | 'b', name: string | undefined,
  problem: (rule: string, instead: string) => void): FieldSpec | undefined {
  const conn = side === 'a' ? ctx.sync.between[0] : ctx.sync.between[1];
  const spec = side === 'a' ? ctx.a : ctx.b;
  if (name === undefined) return void problem(`no field given for ${conn}`, `name one field of ${conn} and one of the other connection`);
  const f = spec.fields.find((x) => x.name === name);
  if (!f) problem(`${conn} has no field "${name}" on ${spec.name}`, unknownFieldHint(name, spec.fields));
  return f;
}

function alreadyMapped(ctx: Ctx, fa: FieldSpec, fb: FieldSpec, skip: number): string | null {
  const by = (x: FieldMapping) => (x.origin === 'default' ? 'a default mapping' : `the mapping at ${ctx.where.get(x) ?? '?'}`);
  const clashes: string[] = [];
  ctx.out.mappings.forEach((x, i) => {
    if (i === skip) return;
    if (x.a.name === fa.name) clashes.push(`${label(ctx, 'a', fa.name)} is already mapped to ${label(ctx, 'b', x.b.name)} by ${by(x)}`);
    if (x.b.name === fb.name) clashes.push(`${label(ctx, 'b', fb.name)} is already mapped to ${label(ctx, 'a', x.a.name)} by ${by(x)}`);
  });
  return clashes.length ? clashes.join(', and ') : null;
}

// ---- the rules for one pair ------------------------------------------------

const refuse = (rule: string, instead: string): Verdict => ({ ok: false, rule, instead });

/** Applies every rule of SPEC §5 to one pair, narrowing its flow step by step. */
function judge(ctx: Ctx, fa: FieldSpec, fb: FieldSpec, origin: 'default' | 'custom', m?: CustomMapping): Verdict {
  const [aName, bName] = ctx.sync.between;
  const names = { a: label(ctx, 'a', fa.name), b: label(ctx, 'b', fb.name) };
  const fieldCheck = checkFields(fa, fb, origin, names);
  if (fieldCheck) return fieldCheck;

  const rule = (origin === 'custom' ? customTypeRule : defaultTypeRule)(fa.type, fb.type);
  if (rule.kind === 'refused') {
    return refuse(`${fa.type} cannot be mapped to ${fb.type}`, `${alternativesFor(fa.type)}; ${alternativesFor(fb.type)}`);
  }
  const notes: string[] = rule.kind === 'one-way' ? [rule.note] : [];
  let flow = fromRule(rule);

  const ro = readOnlyFlow(fa, fb, flow, names);
  if (!ro.ok) return ro;
  flow = ro.flow;
  append(notes, ro.notes);

  const typeFlow = flow;
  flow = intersect(flow, fromDirection(ctx.sync.direction));
  if (!toFlow(flow)) {
    const why = notes.length ? ` (${notes.join('; ')})` : '';
    return refuse(`the sync runs ${flowText(fromDirection(ctx.sync.direction), aName, bName)} but this pair can only flow ${flowText(typeFlow, aName, bName)}${why}`,
      'remove the mapping, or change the sync\'s direction');
  }

  if (m?.direction !== undefined) {
    const asked = parseMappingDirection(m.direction, aName, bName);
    if (!asked) return refuse(`direction: ${m.direction} is not understood`, `use two-way, ${aName} -> ${bName} or ${bName} -> ${aName}`);
    if (!within(asked, flow)) {
      const why = notes.length ? notes.join('; ') : `the sync runs ${flowText(fromDirection(ctx.sync.direction), aName, bName)}`;
      return refuse(`direction: ${m.direction} asks for more than this pair allows (${why})`,
        `use direction: ${flowText(flow, aName, bName)}, or leave direction: out`);
    }
    if (asked.ab !== flow.ab || asked.ba !== flow.ba) notes.push(`narrowed by direction: ${m.direction}`);
    flow = asked;
  }
  return finish(fa, fb, origin, flow, notes, m, names);
}

/** Unreliable and (for custom mappings) multi fields cannot be mapped at all. */
function checkFields(fa: FieldSpec, fb: FieldSpec, origin: string, names: { a: string; b: string }): Verdict | null {
  for (const [f, n] of [[fa, names.a], [fb, names.b]] as const) {
    if (f.unreliable) return refuse(`${n} cannot be read reliably (${f.unreliable})`, 'a field the app cannot read reliably cannot be mapped; map another field');
  }
  for (const [f, n] of [[fa, names.a], [fb, names.b]] as const) {
    if (origin === 'custom' && f.type === 'multi') {
      return refuse(`${n} holds several labelled values (multi) and cannot be custom-mapped`,
        'a default mapping may feed its first value into a text field; map a single-value field instead');
    }
  }
  return null;
}

/** A read-only field is only a source; two read-only fields cannot be mapped. */
function readOnlyFlow(fa: FieldSpec, fb: FieldSpec, flow: FlowSet, names: { a: string; b: string }):
  { ok: true; flow: FlowSet; notes: string[] } | { ok: false; rule: string; instead: string } {
  if (fa.readOnly && fb.readOnly) return { ok: false, rule: 'both fields are read-only, so neither can receive a value', instead: 'map a read-only field to a writable one' };
  if (!fa.readOnly && !fb.readOnly) return { ok: true, flow, notes: [] };
  const [ro, other] = fa.readOnly ? [names.a, fb] : [names.b, fa];
  const narrowed = intersect(flow, { ab: fa.readOnly, ba: fb.readOnly });
  if (!toFlow(narrowed)) {
    return { ok: false, rule: `${ro} is read-only and can only be a source, but ${other.type} can only flow into it here`,
      instead: `map ${ro} into a writable field it can feed (${alternativesFor(fa.readOnly ? fa.type : fb.type)})` };
  }
  const changed = narrowed.ab !== flow.ab || narrowed.ba !== flow.ba;
  return { ok: true, flow: narrowed, notes: changed ? [`${ro} is read-only`] : [] };
}

/** Option lists last: they are checked only in the directions values still flow. */
function finish(fa: FieldSpec, fb: FieldSpec, origin: 'default' | 'custom', flow: FlowSet, notes: string[],
  m: CustomMapping | undefined, names: { a: string; b: string }): Verdict {
  if (origin === 'default' && fa.type === fb.type && (fa.type === 'select' || fa.type === 'radio')) {
    const gaps = optionGaps(fa, fb);
    const kept = { ab: flow.ab && gaps.a.length === 0, ba: flow.ba && gaps.b.length === 0 };
    if (!toFlow(kept)) return refuse(`options without a counterpart in either direction`, 'map it with values:');
    if (kept.ab !== flow.ab || kept.ba !== flow.ba) notes.push('some options have no counterpart on the other side');
    flow = kept;
  }
  const opts = checkOptions(fa, fb, m?.values, flow, names);
  if (!opts.ok) return opts;
  const mapping: FieldMapping = { a: fa, b: fb, flow: toFlow(flow)!, origin };
  if (notes.length) mapping.note = notes.join('; ');
  if (opts.valuesAtoB) mapping.valuesAtoB = opts.valuesAtoB;
  if (opts.valuesBtoA) mapping.valuesBtoA = opts.valuesBtoA;
  return { ok: true, mapping };
}

function label(ctx: Ctx, side: 'a' | 'b', field: string): string {
  return `${side === 'a' ? ctx.sync.between[0] : ctx.sync.between[1]}.${field}`;
}
