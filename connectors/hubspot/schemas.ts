/**
 * Custom objects (issue 19): HubSpot's schemas API
 * (`GET /crm-object-schemas/v3/schemas`) lists a portal's custom objects,
 * each with its object type id (`2-…`), name, fully qualified name, labels
 * and its associations to the standard objects. A sync names one by its
 * name (`projects`), its fully qualified name (`p123456_projects`, or
 * `p_projects`) or its type id; the connector reads and writes it like
 * contacts (list, search on `hs_lastmodifieddate`, batch, v4 associations)
 * with the type id in every path. Tickets and products are the same kind of
 * object under their own names (properties.ts).
 */
import type { HttpClient } from '../../src/http/client.js';
import { DatasyncError } from '../../src/errors.js';
import { expectAnswer, hasResults } from './answers.js';
import type { HubSpotObject } from './properties.js';

export const SCHEMAS_PATH = '/crm-object-schemas/v3/schemas';

export interface HubSpotSchema {
  objectTypeId: string;
  name: string;
  fullyQualifiedName?: string;
  labels?: { singular?: string; plural?: string };
  archived?: boolean;
  associations?: Array<{ id: string | number; fromObjectTypeId: string; toObjectTypeId: string; name?: string }>;
}

/** Standard objects a custom object may be associated with, and the association's name on records. */
const TARGETS: Record<string, { object: string; name: string; single: boolean }> = {
  '0-1': { object: 'contacts', name: 'contacts', single: false },
  '0-2': { object: 'companies', name: 'company', single: true },
  '0-3': { object: 'deals', name: 'deals', single: false },
};

/** The portal's custom objects; none when the credential may not read schemas (then they are not listed). */
export async function readSchemas(http: HttpClient): Promise<HubSpotSchema[]> {
  try {
    // HubSpot's own 404 (a portal without custom objects): none.
    const list = await expectAnswer(http, 'GET', SCHEMAS_PATH, { class: 'read' }, hasResults, (b) => b.results as HubSpotSchema[], () => []);
    return list.filter((s) => s && typeof s.objectTypeId === 'string' && typeof s.name === 'string' && s.archived !== true);
  } catch (err) {
    if (err instanceof DatasyncError && err.code === 'MISSING_SCOPES') return [];
    throw err;
  }
}

/** Whether `name` names this schema: its name, fully qualified name, `p_{name}` or type id. */
export function names(schema: HubSpotSchema, name: string): boolean {
  const n = name.toLowerCase();
  return [schema.name, schema.fullyQualifiedName, `p_${schema.name}`, schema.objectTypeId].some((x) => x?.toLowerCase() === n);
}

/**
 * A custom object as the connector reads and writes it: paths by type id,
 * changes by `hs_lastmodifieddate`, associations from the schema. The
 * company association is single (the first company: custom objects have no
 * primary label), so it pairs with a database's company column.
 */
export function customObject(schema: HubSpotSchema): HubSpotObject {
  const associations: HubSpotObject['associations'] = [];
  for (const a of schema.associations ?? []) {
    const target = a.fromObjectTypeId === schema.objectTypeId ? TARGETS[a.toObjectTypeId] : undefined;
    if (!target || associations.some((x) => x.name === target.name)) continue;
    associations.push({ ...target, typeIds: [Number(a.id)], category: 'USER_DEFINED' });
  }
  return { name: schema.objectTypeId, label: schema.labels?.plural ?? schema.name, modifiedProperty: 'hs_lastmodifieddate', associations };
}
