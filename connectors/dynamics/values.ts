/**
 * Canonical values ↔ Dataverse JSON. Option set (picklist) values are
 * integers on the wire and their decimal text in datasync (`'8'`), so a
 * `values:` map or the option labels pair them with another app's options.
 * Date-and-time columns come back in UTC without milliseconds.
 */
import type { FieldType, Value } from '../../src/connector.js';

export function fromDataverse(raw: unknown, type: FieldType | undefined): Value {
  if (raw === null || raw === undefined || raw === '') return null;
  switch (type) {
    case 'select':
      return String(raw);
    case 'datetime': {
      const t = Date.parse(String(raw));
      return Number.isNaN(t) ? String(raw) : new Date(t).toISOString();
    }
    case 'date':
      return String(raw).slice(0, 10);
    case 'number':
      return typeof raw === 'number' ? raw : Number(raw);
    case 'boolean':
      return typeof raw === 'boolean' ? raw : raw === 'true';
    default:
      return typeof raw === 'string' ? raw : String(raw);
  }
}

/** A value the app is sent; one that does not fit is sent as it is, for the app to refuse that one op. */
export function toDataverse(value: Value, type: FieldType | undefined): unknown {
  if (value === null) return null;
  if (type === 'select' && typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (type === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (Array.isArray(value)) return value.join(';');
  return value;
}
