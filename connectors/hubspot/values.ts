/**
 * HubSpot sends and takes every property value as a string (reference §2.8);
 * the engine sees canonical values (`Value` in src/connector.ts). These two
 * functions are the only place that knows both forms.
 */
import type { FieldType, Value } from '../../src/connector.js';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const EPOCH_RE = /^-?\d{10,}$/;

/** A HubSpot property string as a canonical value. Unparseable input is kept as text. */
export function fromHubSpot(raw: string | null | undefined, type: FieldType | undefined): Value {
  if (raw === null || raw === undefined) return null;
  const s = String(raw);
  if (s === '') return null;
  switch (type) {
    case 'number':
    case 'calculation':
    case 'score': {
      const n = Number(s.trim());
      return s.trim() !== '' && Number.isFinite(n) ? n : s;
    }
    case 'boolean':
      if (/^true$/i.test(s)) return true;
      if (/^false$/i.test(s)) return false;
      return s;
    case 'date':
      return toDate(s) ?? s;
    case 'datetime':
      return toDatetime(s) ?? s;
    case 'checkboxes':
    case 'multi': {
      const list = s.split(';').map((v) => v.trim()).filter((v) => v !== '');
      return list.length === 0 ? null : list;
    }
    default:
      return s;
  }
}

/** A canonical value as the string HubSpot expects; null clears the property. */
export function toHubSpot(value: Value, type: FieldType | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    // Never start with ';': HubSpot reads a leading ';' as "append" (§2.8).
    return value.map((v) => String(v).trim()).filter((v) => v !== '').join(';');
  }
  switch (type) {
    case 'boolean':
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      return /^(true|1|yes)$/i.test(String(value).trim()) ? 'true' : String(value).trim() === '' ? '' : 'false';
    case 'number':
      return typeof value === 'number' ? formatNumber(value) : String(value).trim();
    case 'date':
      return toDate(String(value)) ?? String(value);
    case 'datetime':
      return toDatetime(String(value)) ?? String(value);
    default:
      return typeof value === 'number' ? formatNumber(value) : String(value);
  }
}

/** 'YYYY-MM-DD' from a date, a datetime or epoch milliseconds (the UTC date). */
export function toDate(s: string): string | undefined {
  const t = s.trim();
  if (DATE_RE.test(t)) return t;
  const ms = EPOCH_RE.test(t) ? Number(t) : Date.parse(t);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 10);
}

/** ISO 8601 UTC with milliseconds from ISO text, a bare date (midnight UTC) or epoch ms. */
export function toDatetime(s: string): string | undefined {
  const t = s.trim();
  let ms: number;
  if (EPOCH_RE.test(t)) ms = Number(t);
  else if (DATE_RE.test(t)) ms = Date.parse(`${t}T00:00:00.000Z`);
  else ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** Epoch ms of a HubSpot timestamp (ISO or epoch ms), or undefined. */
export function timestampMs(s: string | null | undefined): number | undefined {
  if (s === null || s === undefined || s === '') return undefined;
  const ms = EPOCH_RE.test(s) ? Number(s) : Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Decimal digits only: HubSpot rejects exponent notation (§2.8). */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return Math.abs(n) >= 1 ? BigInt(Math.round(n)).toString() : n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}
