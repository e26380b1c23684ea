/**
 * Value conversions along a mapping, and value equality per field type
 * (SPEC §5). Values are in the canonical forms of `Value` (connector.ts).
 */
import type { FieldSpec, FieldType, Value } from '../connector.js';
import { DatasyncError } from '../errors.js';
import { normalizeDomain, normalizeEmail } from '../engine/keys.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isEnum = (t: FieldType) => t === 'select' || t === 'radio';

/**
 * Converts a value of field `from` for field `to`. `values` is the option map
 * of the direction travelled (FieldMapping.valuesAtoB or valuesBtoA).
 *
 * - null stays null; same types pass unchanged (select/radio go through `values`,
 *   unmapped values unchanged);
 * - date -> datetime: midnight UTC ('2024-03-05' -> '2024-03-05T00:00:00.000Z');
 *   datetime -> date: the UTC date;
 * - multi -> a single-value field: its first value;
 * - into text: numbers as the shortest decimal that reads back the same
 *   (`1`, `0.1`; JavaScript's exponent form only beyond 1e21 / below 1e-6),
 *   booleans 'true'/'false', dates 'YYYY-MM-DD', datetimes
 *   'YYYY-MM-DDTHH:mm:ss.sssZ', checkboxes joined with ';', owner/calculation/
 *   score as their string.
 * Any other pair is a bug (resolveMappings never makes it) and throws.
 */
export function convertValue(v: Value, from: FieldSpec, to: FieldSpec, values?: Record<string, string>): Value {
  if (v === null) return null;
  if (from.type === 'multi' && to.type !== 'multi') return Array.isArray(v) ? (v[0] ?? null) : v;
  if (isEnum(from.type) && typeof v === 'string') {
    const mapped = values && Object.hasOwn(values, v) ? values[v]! : v;
    if (to.type === from.type || to.type === 'text') return mapped;
  }
  if (from.type === to.type) return v;
  if (from.type === 'date' && to.type === 'datetime') return dateToDatetime(v);
  if (from.type === 'datetime' && to.type === 'date') return datetimeToDate(v);
  if (to.type === 'text') return asText(v, from.type);
  // Text into an owner field: the owner's email (the connector finds the owner).
  if (from.type === 'text' && to.type === 'owner') return String(v);
  throw new DatasyncError('internal', 'unsupported_conversion', `no conversion from ${from.type} (${from.name}) to ${to.type} (${to.name})`);
}

/** The shortest decimal that reads back as the same number; -0 is '0'. */
export function numberToText(n: number): string {
  return String(n);
}

function asText(v: Value, type: FieldType): string {
  if (Array.isArray(v)) return type === 'multi' ? (v[0] ?? '') : v.join(';');
  switch (type) {
    case 'number': case 'calculation': case 'score':
      return typeof v === 'number' ? numberToText(v) : String(v);
    case 'date': return typeof v === 'string' ? (toDate(v) ?? v) : String(v);
    case 'datetime': return typeof v === 'string' ? (toIso(v) ?? v) : String(v);
    default: return String(v);
  }
}

function dateToDatetime(v: Value): Value {
  if (typeof v !== 'string') return v;
  return DATE.test(v) ? `${v}T00:00:00.000Z` : (toIso(v) ?? v);
}

function datetimeToDate(v: Value): Value {
  return typeof v === 'string' ? (toDate(v) ?? v) : v;
}

/** 'YYYY-MM-DD' of a date or of the UTC day of a datetime; null when unreadable. */
export function toDate(s: string): string | null {
  if (DATE.test(s)) return s;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t).toISOString().slice(0, 10);
}

/** Milliseconds since the epoch; a bare date is midnight UTC. */
export function toInstant(s: string): number | null {
  const t = Date.parse(DATE.test(s) ? `${s}T00:00:00.000Z` : s);
  return Number.isNaN(t) ? null : t;
}

function toIso(s: string): string | null {
  const t = toInstant(s);
  return t === null ? null : new Date(t).toISOString();
}

/** A number from a number or a numeric string ('1.0', ' 2 '); null otherwise. */
/**
 * A number compared digit for digit: an integer string longer than a double
 * holds exactly ('12345678901234567', from an INTEGER column or a CSV) by its
 * digits, anything else as `toNumber` reads it.
 */
function exactNumber(v: Value): string | number | null {
  const n = toNumber(v);
  if (typeof v !== 'string' || !/^[-+]?\d{16,}$/.test(v.trim())) return n;
  const digits = BigInt(v.trim()).toString();
  return n !== null && String(n) === digits ? n : digits;
}

export function toNumber(v: Value): number | null {
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function toBoolean(v: Value): boolean | null {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return null;
}

/** null, blank text, and lists with no non-blank entry are empty. */
export function isEmpty(v: Value | undefined): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.every((x) => x.trim() === '');
  return false;
}

/**
 * Whether two values of one field type are the same. `field` is the type, or
 * the FieldSpec when its role matters (text with role email compares as
 * normalised emails; role domain or website as normalised domains).
 *
 * Two empty values are equal. Numbers compare numerically (1, 1.0 and '1'),
 * dates as calendar days, datetimes as instants (any zone), booleans as
 * booleans ('true' = true), checkboxes as sets (order and repeats ignored),
 * multi as ordered lists (the first value is the primary one). Other text
 * compares exactly.
 */
export function sameValue(x: Value, y: Value, field: FieldType | FieldSpec): boolean {
  if (isEmpty(x) || isEmpty(y)) return isEmpty(x) && isEmpty(y);
  const spec = typeof field === 'string' ? undefined : field;
  const type = spec ? spec.type : (field as FieldType);
  switch (type) {
    case 'number': case 'calculation': case 'score':
      return sameBy(x, y, exactNumber);
    case 'date': return sameBy(x, y, (v) => (typeof v === 'string' ? toDate(v) : null));
    case 'datetime': return sameBy(x, y, (v) => (typeof v === 'string' ? toInstant(v) : null));
    case 'boolean': return sameBy(x, y, toBoolean);
    case 'checkboxes': return sameSet(list(x), list(y));
    case 'multi': return list(x).join('\u0000') === list(y).join('\u0000');
    // Owners are compared by email, which ignores case.
    case 'owner': return String(x).trim().toLowerCase() === String(y).trim().toLowerCase();
    default: return sameText(x, y, spec);
  }
}

/** Compares by a reading of both values; if either cannot be read, as text. */
function sameBy<T>(x: Value, y: Value, read: (v: Value) => T | null): boolean {
  const a = read(x), b = read(y);
  return a !== null && b !== null ? a === b : String(x) === String(y);
}

function textNorm(spec?: FieldSpec): (s: string) => string {
  return spec?.role === 'email' ? normalizeEmail
    : spec?.role === 'domain' || spec?.role === 'website' ? normalizeDomain
      : (s: string) => s;
}

function sameText(x: Value, y: Value, spec?: FieldSpec): boolean {
  const norm = textNorm(spec);
  return norm(String(x)) === norm(String(y));
}

const NOT_TEXT = new Set<string>(['number', 'calculation', 'score', 'date', 'datetime', 'boolean', 'checkboxes', 'multi', 'owner']);

/**
 * For a field `sameValue` compares as text: a key that two values share
 * whenever `sameValue` calls them the same ('' for an empty value), so
 * values can be looked up by it. Undefined for fields compared otherwise.
 */
export function textKey(v: Value, field: FieldType | FieldSpec): string | undefined {
  const spec = typeof field === 'string' ? undefined : field;
  if (NOT_TEXT.has(spec ? spec.type : (field as FieldType))) return undefined;
  return isEmpty(v) ? '' : `=${textNorm(spec)(String(v))}`;
}

const list = (v: Value): string[] => (Array.isArray(v) ? v : [String(v)]).filter((s) => s.trim() !== '');

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a), sb = new Set(b);
  return sa.size === sb.size && [...sa].every((s) => sb.has(s));
}
