/**
 * HubSpot's property catalogue → SPEC §5 fields (reference §5.3, §5.4).
 */
import { STANDARD_ROLES, type AssociationSpec, type FieldSpec, type FieldType, type StandardRole } from '../../src/connector.js';

/** The fields of HubSpot's `Property` shape that describe() uses. */
export interface HubSpotProperty {
  name: string;
  label?: string;
  type?: string;
  fieldType?: string;
  options?: Array<{ label?: string; value: string; hidden?: boolean }>;
  calculated?: boolean;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  archived?: boolean;
  referencedObjectType?: string;
  modificationMetadata?: { readOnlyValue?: boolean };
}

export interface HubSpotObject {
  /** The name in paths: contacts, companies, deals, or a custom object's type id (schemas.ts). */
  name: string;
  label: string;
  /** The object's last-modified property (contacts differ, §2.4). */
  modifiedProperty: string;
  associations: Array<AssociationSpec & { primaryTypeId?: number; typeIds: number[]; category?: 'HUBSPOT_DEFINED' | 'USER_DEFINED' }>;
}

/** Association type ids from reference §6.4; `typeIds` are what a write sends. */
export const OBJECTS: Record<string, HubSpotObject> = {
  contacts: {
    name: 'contacts', label: 'Contacts', modifiedProperty: 'lastmodifieddate',
    associations: [{ name: 'company', object: 'companies', single: true, primaryTypeId: 1, typeIds: [1, 279] }],
  },
  companies: { name: 'companies', label: 'Companies', modifiedProperty: 'hs_lastmodifieddate', associations: [] },
  deals: {
    name: 'deals', label: 'Deals', modifiedProperty: 'hs_lastmodifieddate',
    associations: [
      { name: 'company', object: 'companies', single: true, primaryTypeId: 5, typeIds: [5, 341] },
      { name: 'contacts', object: 'contacts', single: false, typeIds: [3] },
    ],
  },
  // Tickets and products (issue 19): standard objects HubSpot data sync also covers.
  tickets: {
    name: 'tickets', label: 'Tickets', modifiedProperty: 'hs_lastmodifieddate',
    associations: [
      { name: 'company', object: 'companies', single: true, primaryTypeId: 26, typeIds: [26, 339] },
      { name: 'contacts', object: 'contacts', single: false, typeIds: [16] },
    ],
  },
  products: { name: 'products', label: 'Products', modifiedProperty: 'hs_lastmodifieddate', associations: [] },
};

/** Built-in unique identifiers besides `hasUniqueValue` properties (§5.4). */
const BUILT_IN_UNIQUE: Record<string, string[]> = { contacts: ['email'], companies: ['domain'] };

const ROLES = new Set<string>(STANDARD_ROLES);

export interface TypeTranslation {
  type: FieldType;
  readOnly: boolean;
  unreliable?: string;
}

/** Translates HubSpot `type`/`fieldType` per the reference table (§5.3). */
export function translateType(p: HubSpotProperty): TypeTranslation {
  const fieldType = p.fieldType ?? '';
  const readOnly = p.modificationMetadata?.readOnlyValue === true || p.calculated === true;
  if (isScore(p)) return { type: 'score', readOnly: true };
  // Formula fields, and calculated numbers (rollups, counts), are calculations.
  // Other calculated properties (a datetime, a bool) keep their own type,
  // read-only, so their values canonicalise as dates and booleans.
  if (fieldType.startsWith('calculation_') || (p.calculated === true && (p.type === 'number' || p.type === undefined))) {
    return { type: 'calculation', readOnly: true };
  }
  if (p.referencedObjectType === 'OWNER' || p.name === 'hubspot_owner_id') return { type: 'owner', readOnly };
  switch (p.type) {
    case 'number': return { type: 'number', readOnly };
    case 'date': return { type: 'date', readOnly };
    case 'datetime': return { type: 'datetime', readOnly };
    case 'bool': return { type: 'boolean', readOnly };
    case 'enumeration':
      if (fieldType === 'booleancheckbox') return { type: 'boolean', readOnly };
      if (fieldType === 'radio') return { type: 'radio', readOnly };
      if (fieldType === 'checkbox') return { type: 'checkboxes', readOnly };
      return { type: 'select', readOnly };
    case 'string':
    case 'phone_number':
      if (fieldType === 'file') return { type: 'text', readOnly, unreliable: 'a file property holds a file ID, which means nothing in another app' };
      return { type: 'text', readOnly };
    default:
      return { type: 'text', readOnly: true, unreliable: `HubSpot property type "${p.type ?? '?'}" cannot be synced` };
  }
}

/** HubSpot score properties: `fieldType: score`, or calculated numbers named like a score. */
function isScore(p: HubSpotProperty): boolean {
  if (p.fieldType === 'score' || p.type === 'score') return true;
  const calculated = p.calculated === true || p.modificationMetadata?.readOnlyValue === true;
  return calculated && p.type === 'number' && /score/i.test(p.name);
}

export function toFieldSpec(object: string, p: HubSpotProperty): FieldSpec {
  const t = translateType(p);
  const spec: FieldSpec = { name: p.name, label: p.label || p.name, type: t.type, readOnly: t.readOnly };
  if (t.unreliable) spec.unreliable = t.unreliable;
  if (['select', 'radio', 'checkboxes'].includes(t.type) || (p.options?.length ?? 0) > 0) {
    const options = (p.options ?? []).filter((o) => o.hidden !== true).map((o) => ({ value: o.value, label: o.label ?? o.value }));
    if (options.length > 0 || t.type !== 'boolean') spec.options = options;
  }
  if (t.type === 'boolean') delete spec.options;
  if (ROLES.has(p.name)) spec.role = p.name as StandardRole;
  if (p.hasUniqueValue === true || BUILT_IN_UNIQUE[object]?.includes(p.name)) spec.unique = true;
  return spec;
}

/** Fields of one object: archived and hidden properties are left out. */
export function toFieldSpecs(object: string, props: HubSpotProperty[]): FieldSpec[] {
  return props
    .filter((p) => p && typeof p.name === 'string' && p.archived !== true && p.hidden !== true)
    .map((p) => toFieldSpec(object, p));
}
