/**
 * The parts of an object's YAML block that the sqlite, postgres and csv connectors share:
 * `id`, the `fields:` override block and `associations:`. Problems are config
 * errors naming the connection, the object and the key.
 */
import {
  FIELD_TYPES, STANDARD_ROLES,
  type ConnectionConfig, type FieldOption, type FieldSpec, type FieldType, type StandardRole,
} from '../../src/connector.js';
import { configError } from '../../src/errors.js';
import { guessRole, labelFor } from './roles.js';

export interface FieldOverride {
  type?: FieldType;
  options?: FieldOption[];
  readOnly?: boolean;
  label?: string;
  role?: StandardRole;
  unreliable?: string;
}

export interface AssociationConfig {
  /** Name in SourceRecord.associations, e.g. 'company'. */
  name: string;
  /** The column holding the related id. */
  field: string;
  object: string;
}

export interface ObjectConfigBase {
  name: string;
  id: string;
  fields: Record<string, FieldOverride>;
  associations: AssociationConfig[];
  raw: Record<string, unknown>;
}

const ALWAYS_READ_ONLY: FieldType[] = ['calculation', 'score'];
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class ConfigReader {
  constructor(readonly conn: ConnectionConfig) {}

  fail(where: string, message: string, key?: string): never {
    throw configError('CONNECTOR_CONFIG', `connection ${this.conn.name}${where ? `, ${where}` : ''}: ${message}`, {
      hint: key ? `check \`${key}\` under connections.${this.conn.name} in the sync file` : undefined,
    });
  }

  string(value: unknown, where: string, key: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(where, `\`${key}\` must be a non-empty string`, key);
    return value;
  }

  /** A string key that may be left out (or null). */
  optionalString(value: unknown, where: string, key: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, where, key);
  }

  positiveInt(key: string, fallback: number): number {
    const v = this.conn[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail('', `\`${key}\` must be a positive whole number`, key);
    return v;
  }

  objects(): Map<string, ObjectConfigBase> {
    const raw = this.conn.objects;
    if (!isMap(raw) || Object.keys(raw).length === 0) {
      this.fail('', '`objects` must map object names (contacts, companies, …) to their settings', 'objects');
    }
    const out = new Map<string, ObjectConfigBase>();
    for (const [name, block] of Object.entries(raw)) out.set(name, this.object(name, block));
    return out;
  }

  private object(name: string, block: unknown): ObjectConfigBase {
    const where = `object ${name}`;
    if (!isMap(block)) this.fail(where, 'settings must be a mapping', `objects.${name}`);
    const id = block.id === undefined ? 'id' : this.string(block.id, where, `objects.${name}.id`);
    const fields: Record<string, FieldOverride> = {};
    if (block.fields !== undefined) {
      if (!isMap(block.fields)) this.fail(where, '`fields` must map field names to settings', `objects.${name}.fields`);
      for (const [field, spec] of Object.entries(block.fields)) fields[field] = this.override(name, field, spec);
    }
    const associations: AssociationConfig[] = [];
    if (block.associations !== undefined) {
      if (!isMap(block.associations)) this.fail(where, '`associations` must map names to { field, object }', `objects.${name}.associations`);
      for (const [assoc, spec] of Object.entries(block.associations)) {
        const key = `objects.${name}.associations.${assoc}`;
        if (!isMap(spec)) this.fail(where, `association ${assoc} must be { field: COLUMN, object: OBJECT }`, key);
        associations.push({
          name: assoc,
          field: this.string(spec.field, where, `${key}.field`),
          object: this.string(spec.object, where, `${key}.object`),
        });
      }
    }
    return { name, id, fields, associations, raw: block };
  }

  private override(object: string, field: string, spec: unknown): FieldOverride {
    const where = `object ${object}, field ${field}`;
    const key = `objects.${object}.fields.${field}`;
    if (!isMap(spec)) this.fail(where, 'settings must be a mapping like { type: number }', key);
    const out: FieldOverride = {};
    if (spec.type !== undefined) {
      if (!FIELD_TYPES.includes(spec.type as FieldType)) this.fail(where, `unknown type '${String(spec.type)}' (one of ${FIELD_TYPES.join(', ')})`, `${key}.type`);
      out.type = spec.type as FieldType;
    }
    if (spec.role !== undefined) {
      if (!STANDARD_ROLES.includes(spec.role as StandardRole)) this.fail(where, `unknown role '${String(spec.role)}' (one of ${STANDARD_ROLES.join(', ')})`, `${key}.role`);
      out.role = spec.role as StandardRole;
    }
    if (spec.label !== undefined) out.label = this.string(spec.label, where, `${key}.label`);
    if (spec.read_only !== undefined) {
      if (typeof spec.read_only !== 'boolean') this.fail(where, '`read_only` must be true or false', `${key}.read_only`);
      out.readOnly = spec.read_only;
    }
    if (spec.unreliable !== undefined && spec.unreliable !== false) {
      out.unreliable = typeof spec.unreliable === 'string' ? spec.unreliable : 'marked unreliable in the sync file';
    }
    if (spec.options !== undefined) out.options = this.options(where, `${key}.options`, spec.options);
    return out;
  }

  private options(where: string, key: string, raw: unknown): FieldOption[] {
    if (!Array.isArray(raw)) this.fail(where, '`options` must be a list of values or { value, label }', key);
    return raw.map((o): FieldOption => {
      if (typeof o === 'string' || typeof o === 'number' || typeof o === 'boolean') return { value: String(o) };
      if (isMap(o) && o.value !== undefined && o.value !== null) {
        return o.label === undefined ? { value: String(o.value) } : { value: String(o.value), label: String(o.label) };
      }
      return this.fail(where, 'each option must be a value or { value, label }', key);
    });
  }
}

/** A field spec from the column's own type, with the `fields:` block on top. */
export function fieldSpec(column: string, baseType: FieldType, override: FieldOverride | undefined,
  extra: { readOnly?: boolean; unique?: boolean } = {}): FieldSpec {
  const type = override?.type ?? baseType;
  const spec: FieldSpec = {
    name: column,
    label: override?.label ?? labelFor(column),
    type,
    readOnly: ALWAYS_READ_ONLY.includes(type) || (override?.readOnly ?? extra.readOnly ?? false),
  };
  if (override?.options) spec.options = override.options;
  if (override?.unreliable) spec.unreliable = override.unreliable;
  if (override?.role) spec.role = override.role;
  if (extra.unique) spec.unique = true;
  return spec;
}

/**
 * A table column's field spec (`fieldSpec`); the change-time column
 * (`updated_at`) is a read-only datetime, whatever its type.
 */
export function columnFieldSpec(cfg: { fields: Record<string, FieldOverride>; updatedAt?: string }, column: string, baseType: FieldType,
  extra: { readOnly?: boolean; unique?: boolean }): FieldSpec {
  const isCursor = column === cfg.updatedAt;
  return fieldSpec(column, isCursor ? 'datetime' : baseType, isCursor ? { ...cfg.fields[column], type: 'datetime', readOnly: true } : cfg.fields[column], extra);
}

/** Fills in guessed roles; each role goes to one field only, explicit roles first. */
export function assignRoles(object: string, fields: FieldSpec[]): FieldSpec[] {
  const taken = new Set(fields.flatMap((f) => (f.role ? [f.role] : [])));
  for (const f of fields) {
    if (f.role) continue;
    const role = guessRole(object, f.name);
    if (role && !taken.has(role)) {
      f.role = role;
      taken.add(role);
    }
  }
  return fields;
}
