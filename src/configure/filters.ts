/**
 * The filter step of `configure`: which operators fit a field (SPEC §4
 * Filters), turning typed text into a condition's value, and the engine's own
 * check of the result.
 */
import type { FieldSpec, FieldType, ObjectSpec } from '../connector.js';
import type { FilterOp } from '../config/types.js';
import { validateFilters } from '../engine/filters.js';
import type { DraftFilter } from './draft.js';

const ORDERED: readonly FieldType[] = ['number', 'date', 'datetime', 'score', 'calculation'];
const CONTAINS: readonly FieldType[] = ['text', 'checkboxes', 'multi', 'select'];
const LISTS: readonly FieldType[] = ['checkboxes', 'multi'];
const NUMERIC: readonly FieldType[] = ['number', 'score', 'calculation'];

export const OP_LABELS: Record<FilterOp, string> = {
  eq: 'is', neq: 'is not', in: 'is any of', not_in: 'is none of', contains: 'contains',
  gt: 'is greater than', gte: 'is at least', lt: 'is less than', lte: 'is at most',
  is_empty: 'is empty', is_not_empty: 'is not empty',
};

/** The operators that make sense for a field of this type. */
export function opsFor(field: FieldSpec): FilterOp[] {
  const ops: FilterOp[] = [];
  if (!LISTS.includes(field.type)) ops.push('eq', 'neq', 'in', 'not_in');
  if (CONTAINS.includes(field.type)) ops.push('contains');
  if (ORDERED.includes(field.type)) ops.push('gt', 'gte', 'lt', 'lte');
  ops.push('is_empty', 'is_not_empty');
  return ops;
}

export const needsValue = (op: FilterOp) => op !== 'is_empty' && op !== 'is_not_empty';
export const needsList = (op: FilterOp) => op === 'in' || op === 'not_in';

/** One typed value: numbers for number fields, true/false for booleans, text otherwise. */
function typed(text: string, field: FieldSpec): string | number | boolean {
  const t = text.trim();
  if (NUMERIC.includes(field.type) && t !== '' && Number.isFinite(Number(t))) return Number(t);
  if (field.type === 'boolean' && /^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  return t;
}

/** The condition for `field op text` (`in`/`not_in` take a comma- or |-separated list). */
export function makeFilter(field: FieldSpec, op: FilterOp, text = ''): DraftFilter {
  if (!needsValue(op)) return { field: field.name, op };
  if (needsList(op)) return { field: field.name, op, value: text.split(/[,|]/).map((s) => s.trim()).filter(Boolean).map((s) => typed(s, field)) };
  return { field: field.name, op, value: typed(text, field) };
}

/** Problems with a condition, as the engine will report them (empty when fine). */
export function checkFilter(cond: DraftFilter, spec: ObjectSpec, connection: string): string[] {
  return validateFilters([{ ...cond, where: 'filter' }], spec, connection)
    .map((p) => p.replace(/^filter: /, ''));
}

/** How a condition reads on screen: `country is SE`. */
export function filterText(c: DraftFilter): string {
  const v = c.value === undefined ? '' : ` ${Array.isArray(c.value) ? c.value.join(', ') : String(c.value)}`;
  return `${c.field} ${OP_LABELS[c.op]}${v}`;
}

/** Values given as text (flags) typed by their field: `42` for a number, `true` for a boolean, `01234` stays text. */
export function retypeFilters(filters: Record<string, DraftFilter[]>, specs: Record<string, ObjectSpec>): Record<string, DraftFilter[]> {
  const out: Record<string, DraftFilter[]> = {};
  for (const [conn, conds] of Object.entries(filters)) {
    out[conn] = conds.map((c) => {
      const field = specs[conn]?.fields.find((f) => f.name === c.field);
      if (!field || c.value === undefined) return c;
      const text = Array.isArray(c.value) ? c.value.map(String).join(',') : String(c.value);
      return makeFilter(field, c.op, text);
    });
  }
  return out;
}
