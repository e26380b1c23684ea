/**
 * Value conversion between an app's stored values and the canonical `Value`
 * form of the connector contract. Shared by the sqlite and csv connectors:
 * reading is lenient (accepts the formats people and tools actually store),
 * writing is strict (a value that does not fit the field type rejects the op).
 */
import type { FieldSpec, FieldType, Value } from '../../src/connector.js';

/** A single op the app refuses; becomes `{ ok: false, reason }` for that op only. */
export class RowRejection extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RowRejection';
  }
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
// 'YYYY-MM-DD HH:MM[:SS[.fff]]' or with 'T', optional 'Z' or ±HH[:]MM
const DATETIME_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2})?$/i;
/** Epoch numbers above this are milliseconds, below it seconds (year 5138 in seconds). */
export const EPOCH_MS_THRESHOLD = 100_000_000_000;

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 't', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'f', 'off']);

/** ms since epoch → 'YYYY-MM-DDTHH:mm:ss.sssZ'. */
export const isoMs = (ms: number): string => new Date(ms).toISOString();

export function epochToMs(n: number): number {
  return Math.abs(n) >= EPOCH_MS_THRESHOLD ? n : n * 1000;
}

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** Parses a stored datetime (ISO, SQLite 'YYYY-MM-DD HH:MM:SS' = UTC, date only, epoch). */
export function parseDatetime(raw: unknown): number | null {
  if (typeof raw === 'number' || typeof raw === 'bigint') {
    const ms = epochToMs(Number(raw));
    return Number.isFinite(ms) ? ms : null;
  }
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  const d = DATE_RE.exec(s);
  if (d) return validDate(+d[1]!, +d[2]!, +d[3]!) ? Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!) : null;
  const m = DATETIME_RE.exec(s);
  if (!m) return /^-?\d+(\.\d+)?$/.test(s) ? epochToMs(Number(s)) : null;
  const [, day, time, zone] = m;
  const [y, mo, dd] = day!.split('-').map(Number) as [number, number, number];
  if (!validDate(y, mo, dd)) return null;
  let tz = (zone ?? 'Z').toUpperCase();
  if (tz !== 'Z' && !tz.includes(':')) tz = `${tz.slice(0, 3)}:${tz.slice(3)}`;
  const t = time!.length === 5 ? `${time}:00` : time!;
  const ms = Date.parse(`${day}T${t}${tz}`);
  return Number.isNaN(ms) ? null : ms;
}

function parseList(raw: unknown): string[] | null {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else {
    const s = String(raw).trim();
    if (s.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(s);
        items = Array.isArray(parsed) ? parsed : [s];
      } catch {
        items = s.split(';');
      }
    } else items = s.split(';');
  }
  const out = items.filter((v) => v !== null && v !== undefined).map((v) => String(v).trim()).filter((v) => v !== '');
  return out.length === 0 ? null : out;
}

/**
 * Stored value → canonical value. A stored value that cannot be read as the
 * field's type (e.g. 'n/a' in a number column) reads as null rather than as a
 * wrongly typed value.
 */
/** An integer with more digits than a double holds exactly: kept as its decimal string. */
const BIG_INTEGER = /^[-+]?\d{16,}$/;

/**
 * An integer as SQLite gives it with `safeIntegers` (a BigInt): a number when
 * a double holds it exactly, else its decimal string, digit for digit
 * (12345678901234567 as a double is …568).
 */
export function exactInteger(v: bigint): number | string {
  const n = Number(v);
  const digits = v.toString();
  // A double that prints as these digits reads back as them (2^53, -113457233717048820): a number.
  return Number.isSafeInteger(n) || String(n) === digits ? n : digits;
}

/** A number as the canonical model holds it: a double, or the decimal string of an integer a double would round. */
function toCanonicalNumber(raw: unknown): Value {
  if (typeof raw === 'bigint') return exactInteger(raw);
  if (typeof raw === 'string' && BIG_INTEGER.test(raw.trim())) return exactInteger(BigInt(raw.trim()));
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  return Number.isFinite(n) ? n : null;
}

/** Whether a canonical value is such a decimal string (see `toCanonicalNumber`). */
export const isBigInteger = (v: Value): v is string => typeof v === 'string' && BIG_INTEGER.test(v) && typeof exactInteger(BigInt(v)) === 'string';

export function toCanonical(raw: unknown, type: FieldType): Value {
  if (raw === null || raw === undefined) return null;
  if (Buffer.isBuffer(raw)) raw = raw.toString('utf8');
  if (typeof raw === 'string' && !/\S/.test(raw)) return null;
  switch (type) {
    case 'text': case 'select': case 'radio': case 'owner':
      return String(raw);
    case 'number': case 'calculation': case 'score':
      return toCanonicalNumber(raw);
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'number' || typeof raw === 'bigint') return Number(raw) !== 0;
      const w = String(raw).trim().toLowerCase();
      return TRUE_WORDS.has(w) ? true : FALSE_WORDS.has(w) ? false : null;
    }
    case 'date': {
      const ms = parseDatetime(raw);
      return ms === null ? null : isoMs(ms).slice(0, 10);
    }
    case 'datetime': {
      const ms = parseDatetime(raw);
      return ms === null ? null : isoMs(ms);
    }
    case 'checkboxes': case 'multi':
      return parseList(raw);
  }
}

const describeValue = (v: unknown) => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? 'a list' : String(v));

/**
 * Checks a canonical value from the engine against the field and returns it
 * normalised (datetimes to UTC with ms). Throws RowRejection when it does not fit.
 */
export function checkCanonical(field: FieldSpec, value: Value): Value {
  if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) return null;
  const bad = (expected: string) =>
    new RowRejection(`invalid value for ${field.name}: expected ${expected}, got ${describeValue(value)}`);
  switch (field.type) {
    case 'text': case 'owner':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw bad('text');
    case 'select': case 'radio': {
      if (typeof value !== 'string') throw bad('one option value');
      const opts = field.options;
      if (opts && opts.length > 0 && !opts.some((o) => o.value === value)) {
        throw new RowRejection(`invalid option '${value}' for ${field.name} (allowed: ${opts.map((o) => o.value).join(', ')})`);
      }
      return value;
    }
    case 'number': case 'calculation': case 'score':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (isBigInteger(value)) return value;
      throw bad('a number');
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw bad('true or false');
    case 'date': {
      const m = typeof value === 'string' ? DATE_RE.exec(value) : null;
      if (m && validDate(+m[1]!, +m[2]!, +m[3]!)) return value;
      throw bad('a date YYYY-MM-DD');
    }
    case 'datetime': {
      const ms = typeof value === 'string' ? parseDatetime(value) : null;
      if (ms !== null && DATETIME_RE.test(String(value).trim())) return isoMs(ms);
      throw bad('an ISO datetime');
    }
    case 'checkboxes': case 'multi':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      if (typeof value === 'string') return [value];
      throw bad('a list of values');
  }
}

/** Canonical list → stored text: `a;b`, or a JSON array when that would read back differently. */
export function listToText(list: string[]): string {
  const plain = list.join(';');
  return list.some((v) => v.includes(';')) || plain.trimStart().startsWith('[') ? JSON.stringify(list) : plain;
}

/** Checked canonical value → text, for text storage (CSV cells, TEXT columns). */
export function canonicalToText(value: Value): string {
  if (value === null) return '';
  if (Array.isArray(value)) return listToText(value);
  return String(value);
}
