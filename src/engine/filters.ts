/**
 * Per-side filters (SPEC §4 Filters): a record takes part in a sync only while
 * it passes every condition of its own side's filter.
 *
 * Semantics chosen here:
 * - text, select, radio and owner compare case-insensitively and trimmed, for
 *   eq/neq/in/not_in/contains (people type `se` for `SE`);
 * - numbers compare numerically, dates as days, datetimes as instants (a bare
 *   date in the filter is midnight UTC), booleans as booleans;
 * - an empty value (null, blank text, empty list) fails every operator except
 *   is_empty, neq and not_in;
 * - contains: a substring for text and select; for checkboxes, having that
 *   option; for multi, any of its values containing the text.
 */
import type { FieldSpec, FieldType, Fields, ObjectSpec, Value } from '../connector.js';
import type { FilterCondition, FilterOp } from '../config/types.js';
import { isEmpty, sameValue, toDate, toInstant, toNumber } from '../mapping/convert.js';
import { unknownFieldHint } from '../mapping/suggest.js';
import type { Side } from '../state/store.js';
import { emailRule } from './keys.js';
import type { SyncContext } from './types.js';

const ORDERED: readonly FieldType[] = ['number', 'date', 'datetime', 'score', 'calculation'];
const CONTAINS: readonly FieldType[] = ['text', 'checkboxes', 'multi', 'select'];
const LISTS: readonly FieldType[] = ['checkboxes', 'multi'];
const TEXTUAL: readonly FieldType[] = ['text', 'select', 'radio', 'owner'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export type FilterResult = { pass: true } | { pass: false; failed: FilterCondition; reason: string };

/** Problems with one side's filter, each `<where>: filter on <connection>.<field>: …`. */
export function validateFilters(conditions: FilterCondition[], spec: ObjectSpec, connection: string): string[] {
  const problems: string[] = [];
  for (const c of conditions) {
    const head = `${c.where}: filter on ${connection}.${c.field}`;
    const field = spec.fields.find((f) => f.name === c.field);
    const problem = field
      ? (opProblem(c.op, field) ?? valueProblem(c, field))
      : `${connection} has no field "${c.field}" on ${spec.name}; ${unknownFieldHint(c.field, spec.fields)}`;
    if (problem) problems.push(`${head}: ${problem}`);
  }
  return problems;
}

function opProblem(op: FilterOp, f: FieldSpec): string | null {
  switch (op) {
    case 'is_empty': case 'is_not_empty':
      return null;
    case 'gt': case 'gte': case 'lt': case 'lte':
      return ORDERED.includes(f.type) ? null : `${op} compares numbers, dates and datetimes, and ${f.name} is ${f.type}; use eq, neq, in, not_in${CONTAINS.includes(f.type) ? ', contains' : ''} or is_empty`;
    case 'contains':
      return CONTAINS.includes(f.type) ? null : `contains works on text, select, checkboxes and multi fields, and ${f.name} is ${f.type}; use eq or in`;
    case 'eq': case 'neq': case 'in': case 'not_in':
      return LISTS.includes(f.type) ? `${op} needs a single-value field, and ${f.name} is ${f.type} (several values); use contains, is_empty or is_not_empty` : null;
  }
}

function valueProblem(c: FilterCondition, f: FieldSpec): string | null {
  switch (c.op) {
    case 'is_empty': case 'is_not_empty':
      return c.value === undefined ? null : `${c.op} takes no value; remove value:`;
    case 'in': case 'not_in':
      if (!Array.isArray(c.value) || c.value.length === 0) return `${c.op} needs a non-empty list of values, e.g. [A, B]`;
      return c.value.map((v) => scalarProblem(v, f)).find((p) => p !== null) ?? null;
    case 'contains':
      if (typeof c.value !== 'string' || c.value === '') return 'contains needs a non-empty text value';
      return f.type === 'checkboxes' ? optionProblem(c.value, f) : null;
    default:
      return scalarProblem(c.value, f);
  }
}

/** Whether a filter value fits the field's type (and options, when the connector lists them). */
function scalarProblem(v: unknown, f: FieldSpec): string | null {
  if (v === undefined || v === null) return 'needs a value (use is_empty / is_not_empty to test for no value)';
  switch (f.type) {
    case 'number': case 'calculation': case 'score':
      return typeof v === 'number' && Number.isFinite(v) ? null : `needs a number, ${f.name} is ${f.type} (got ${show(v)})`;
    case 'date': {
      const day = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
      return isRealDate(day) ? null : `needs a date YYYY-MM-DD, ${f.name} is a date (got ${show(v)})`;
    }
    case 'datetime':
      return v instanceof Date || (typeof v === 'string' && toInstant(v) !== null) ? null : `needs a date or an ISO datetime, ${f.name} is a datetime (got ${show(v)})`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `needs true or false, ${f.name} is a boolean (got ${show(v)})`;
    case 'select': case 'radio':
      return typeof v === 'string' ? optionProblem(v, f) : `needs one of the options of ${f.name} (got ${show(v)})`;
    default:
      return ['string', 'number', 'boolean'].includes(typeof v) ? null : `needs a text value (got ${show(v)})`;
  }
}

function optionProblem(v: string, f: FieldSpec): string | null {
  const opts = f.options ?? [];
  if (opts.length === 0 || optionValue(v, f) !== null) return null;
  const shown = opts.map((o) => (o.label && fold(o.label) !== fold(o.value) ? `${o.value} (${o.label})` : o.value));
  return `"${v}" is not an option of ${f.name}; options: ${shown.join(', ')}`;
}

/**
 * The option value a filter names, by its value or by the label the app shows
 * (HubSpot's "Marketing Qualified Lead" is `marketingqualifiedlead`); null
 * when it names none. Values win over labels.
 */
function optionValue(v: string, f: FieldSpec | undefined): string | null {
  const opts = f?.options ?? [];
  return opts.find((o) => fold(o.value) === fold(v))?.value ?? opts.find((o) => o.label !== undefined && fold(o.label) === fold(v))?.value ?? null;
}

/** The first condition the record fails, with a reason such as `filter: country eq SE (was DE)`. */
export function evaluateFilters(conditions: FilterCondition[], fields: Fields, spec: ObjectSpec): FilterResult {
  for (const c of conditions) {
    const field = spec.fields.find((f) => f.name === c.field);
    const v = fields[c.field] ?? null;
    if (!holds(c, v, field)) return { pass: false, failed: c, reason: reasonFor(c, v) };
  }
  return { pass: true };
}

function holds(c: FilterCondition, v: Value, field: FieldSpec | undefined): boolean {
  const type = field?.type ?? 'text';
  if (c.op === 'is_empty') return isEmpty(v);
  if (c.op === 'is_not_empty') return !isEmpty(v);
  if (isEmpty(v)) return c.op === 'neq' || c.op === 'not_in';
  const wanted = Array.isArray(c.value) ? (c.value as unknown[]) : [c.value];
  switch (c.op) {
    case 'eq': return equals(v, c.value, type, field);
    case 'neq': return !equals(v, c.value, type, field);
    case 'in': return wanted.some((w) => equals(v, w, type, field));
    case 'not_in': return !wanted.some((w) => equals(v, w, type, field));
    case 'contains': return contains(v, wantText(c.value), type);
    case 'gt': return test(compare(v, c.value, type), (n) => n > 0);
    case 'gte': return test(compare(v, c.value, type), (n) => n >= 0);
    case 'lt': return test(compare(v, c.value, type), (n) => n < 0);
    case 'lte': return test(compare(v, c.value, type), (n) => n <= 0);
  }
}

const fold = (s: string) => s.trim().toLowerCase();
const test = (n: number | null, ok: (n: number) => boolean) => n !== null && ok(n);

function equals(v: Value, want: unknown, type: FieldType, field: FieldSpec | undefined): boolean {
  if (want === undefined || want === null) return false;
  if (TEXTUAL.includes(type) && !Array.isArray(v)) {
    const named = type === 'select' || type === 'radio' ? optionValue(wantText(want), field) : null;
    return sameValue(fold(String(v)), fold(named ?? wantText(want)), field ?? type);
  }
  const w: Value = Array.isArray(want) ? want.map(String) : typeof want === 'number' || typeof want === 'boolean' ? want : wantText(want);
  return sameValue(v, w, field ?? type);
}

function contains(v: Value, want: string, type: FieldType): boolean {
  const values = Array.isArray(v) ? v : [String(v)];
  if (type === 'checkboxes') return values.some((x) => fold(x) === fold(want));
  return values.some((x) => fold(x).includes(fold(want)));
}

/** Sign of v - want on the field's scale; null when either cannot be read. */
function compare(v: Value, want: unknown, type: FieldType): number | null {
  if (type === 'date') return order(toDate(String(v)), toDate(wantText(want)));
  if (type === 'datetime') return order(toInstant(String(v)), toInstant(wantText(want)));
  return order(toNumber(v), typeof want === 'number' ? want : toNumber(wantText(want)));
}

function order<T extends string | number>(a: T | null, b: T | null): number | null {
  if (a === null || b === null) return null;
  return a < b ? -1 : a > b ? 1 : 0;
}

function wantText(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function isRealDate(s: string): boolean {
  return DATE.test(s) && toDate(`${s}T00:00:00.000Z`) === s;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return v instanceof Date ? v.toISOString() : String(v);
}

function reasonFor(c: FilterCondition, v: Value): string {
  const wanted = c.op === 'is_empty' || c.op === 'is_not_empty' ? '' : ` ${show(c.value)}`;
  return `filter: ${c.field} ${c.op}${wanted} (was ${isEmpty(v) ? 'empty' : show(v)})`;
}

/** Why a record of `side` with these fields takes no part in the sync (SPEC §4 rules, then filters), or null. */
export function exclusionReason(ctx: SyncContext, side: Side, fields: Fields): string | null {
  const { sync, sides } = ctx;
  const spec = sides[side].spec;
  if (sync.object === 'contacts' && sync.rules.onlyWithEmail) {
    const reason = emailRule(fields, spec);
    if (reason) return reason;
  }
  const filters = sync.filters[sides[side].connection] ?? [];
  if (filters.length === 0) return null;
  const verdict = evaluateFilters(filters, fields, spec);
  return verdict.pass ? null : verdict.reason;
}
