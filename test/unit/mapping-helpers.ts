/** Small builders for ObjectSpecs and syncs in the mapping, keys and filter tests. */
import type { FieldSpec, FieldType, ObjectSpec } from '../../src/connector.js';
import type { CustomMapping, SyncConfig } from '../../src/config/types.js';

export function field(name: string, type: FieldType, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, label: name, type, readOnly: false, ...extra };
}

export const options = (...values: string[]) => values.map((value) => ({ value }));

export function object(fields: FieldSpec[], name = 'contacts'): ObjectSpec {
  return { name, label: name, fields, associations: [], capabilities: { create: true, update: true, changeCursor: true } };
}

/** A custom mapping between hubspot (side a) and crm (side b). */
export function custom(a: string, b: string, extra: Partial<CustomMapping> = {}, line = 20): CustomMapping {
  return { fields: { hubspot: a, crm: b }, where: `sync.yaml:${line}:11`, ...extra };
}

export function sync(fields: CustomMapping[] = [], over: Partial<SyncConfig> = {}): SyncConfig {
  return {
    name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way',
    defaultApp: 'hubspot', match: 'default',
    mappings: { defaults: false, custom: true, fields },
    rules: { onlyWithEmail: true }, filters: {}, associations: false, clears: 'keep', enabled: true,
    where: 'sync.yaml:12:5',
    ...over,
  };
}

/** The same sync with default mappings switched on. */
export const withDefaults = (fields: CustomMapping[] = [], over: Partial<SyncConfig> = {}) =>
  sync(fields, { ...over, mappings: { defaults: true, custom: true, fields } });
