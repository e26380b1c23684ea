/**
 * The type rules of SPEC §5 as data: which pairs of field types map two-way,
 * which only one-way into text, and the flow algebra used to narrow a mapping
 * by read-only flags and directions.
 */
import type { FieldType } from '../connector.js';
import type { Direction } from '../config/types.js';
import type { Flow } from './types.js';

export type TypeRule =
  | { kind: 'two-way' }
  | { kind: 'one-way'; from: 'a' | 'b'; note: string }
  | { kind: 'refused' };

const TWO_WAY = new Set([
  'text|text', 'number|number', 'date|date', 'datetime|datetime', 'date|datetime',
  'datetime|date', 'boolean|boolean', 'select|select', 'radio|radio',
  // An owner's value is its email (HubSpot's connector resolves ids by email, issue 19).
  'owner|owner', 'owner|text', 'text|owner',
]);

/** Types that may be written one-way, as text, into a text field. */
export const INTO_TEXT: ReadonlySet<FieldType> = new Set<FieldType>([
  'number', 'date', 'datetime', 'boolean', 'select', 'radio', 'checkboxes', 'owner', 'calculation', 'score',
]);

/** The rule for a custom mapping between a field of type `a` (side a) and one of type `b` (side b). */
export function customTypeRule(a: FieldType, b: FieldType): TypeRule {
  if (a === 'multi' || b === 'multi') return { kind: 'refused' };
  if (TWO_WAY.has(`${a}|${b}`)) return { kind: 'two-way' };
  if (b === 'text' && INTO_TEXT.has(a)) return { kind: 'one-way', from: 'a', note: `${a} written as text, never back` };
  if (a === 'text' && INTO_TEXT.has(b)) return { kind: 'one-way', from: 'b', note: `${b} written as text, never back` };
  return { kind: 'refused' };
}

/**
 * Default mappings follow the custom rules, plus: multi↔multi two-way, and a
 * multi field feeding a text field with its first value (never back). Text is
 * the only single-value type a multi's values (emails, phones, addresses) fit.
 */
export function defaultTypeRule(a: FieldType, b: FieldType): TypeRule {
  if (a === 'multi' && b === 'multi') return { kind: 'two-way' };
  const note = 'first value of the multi field, never back';
  if (a === 'multi' && b === 'text') return { kind: 'one-way', from: 'a', note };
  if (b === 'multi' && a === 'text') return { kind: 'one-way', from: 'b', note };
  return customTypeRule(a, b);
}

/** What a field of this type may be custom-mapped with, for error messages. */
export function alternativesFor(t: FieldType): string {
  switch (t) {
    case 'text': return 'text maps two-way with text or owner, and receives one-way from number, date, datetime, boolean, select, radio, checkboxes, calculation or score';
    case 'owner': return 'owner maps two-way with owner or text (the owner\'s email)';
    case 'number': return 'number maps two-way with number, or one-way into text';
    case 'date': return 'date maps two-way with date or datetime, or one-way into text';
    case 'datetime': return 'datetime maps two-way with datetime or date, or one-way into text';
    case 'boolean': return 'boolean maps two-way with boolean, or one-way into text';
    case 'select': return 'select maps two-way with select (every option with a counterpart), or one-way into text';
    case 'radio': return 'radio maps two-way with radio (every option with a counterpart), or one-way into text';
    case 'checkboxes': case 'calculation': case 'score':
      return `${t} maps only one-way, into text`;
    case 'multi': return 'multi cannot be custom-mapped';
  }
}

/** A flow as two independent permissions. */
export interface FlowSet { ab: boolean; ba: boolean }

export const BOTH: FlowSet = { ab: true, ba: true };

export function flowSet(f: Flow): FlowSet {
  return { ab: f !== 'b-to-a', ba: f !== 'a-to-b' };
}

export function fromRule(rule: TypeRule): FlowSet {
  if (rule.kind === 'refused') return { ab: false, ba: false };
  if (rule.kind === 'two-way') return BOTH;
  return { ab: rule.from === 'a', ba: rule.from === 'b' };
}

export function fromDirection(d: Direction): FlowSet {
  return flowSet(d === 'two-way' ? 'both' : d);
}

export function intersect(x: FlowSet, y: FlowSet): FlowSet {
  return { ab: x.ab && y.ab, ba: x.ba && y.ba };
}

/** True when every permission of `x` is also in `y`. */
export function within(x: FlowSet, y: FlowSet): boolean {
  return (!x.ab || y.ab) && (!x.ba || y.ba);
}

export function toFlow(s: FlowSet): Flow | null {
  if (s.ab && s.ba) return 'both';
  if (s.ab) return 'a-to-b';
  if (s.ba) return 'b-to-a';
  return null;
}

/** 'two-way', 'hubspot -> crm', or 'nothing', in connection names. */
export function flowText(s: FlowSet, aName: string, bName: string): string {
  const f = toFlow(s);
  if (f === 'both') return 'two-way';
  if (f === 'a-to-b') return `${aName} -> ${bName}`;
  if (f === 'b-to-a') return `${bName} -> ${aName}`;
  return 'nothing';
}

/** Parses a mapping's `direction:` ('two-way' or 'A -> B' in connection names); null when not understood. */
export function parseMappingDirection(text: string, aName: string, bName: string): FlowSet | null {
  const t = text.trim();
  if (t === 'two-way') return BOTH;
  const m = /^(\S+)\s*(?:->|→)\s*(\S+)$/.exec(t);
  if (m && m[1] === aName && m[2] === bName) return { ab: true, ba: false };
  if (m && m[1] === bName && m[2] === aName) return { ab: false, ba: true };
  return null;
}
