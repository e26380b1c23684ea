/**
 * The YAML options the sqlite and csv connectors share, as zod schemas: an
 * object's `id`, its `fields:` overrides and its `associations:`. Each
 * connector's `options.ts` builds its connection block from these; the config
 * loader validates every key with its position, and the JSON Schema for
 * editors comes from the same schemas.
 */
import { z } from 'zod';
import { FIELD_TYPES, STANDARD_ROLES } from '../../src/connector.js';

const optionValue = z.union([z.string(), z.number(), z.boolean()]);

export const fieldOverrideSchema = z.strictObject({
  type: z.enum(FIELD_TYPES).optional().describe('the field type, overriding the one read from the app'),
  role: z.enum(STANDARD_ROLES).optional().describe('the standard meaning of the field, for default mappings'),
  label: z.string().min(1).optional().describe('the label shown in datasync'),
  read_only: z.boolean().optional().describe('true: datasync only reads this field'),
  unreliable: z.union([z.boolean(), z.string()]).optional().describe('true or a reason: the field cannot be read reliably and cannot be mapped'),
  options: z.array(z.union([optionValue, z.strictObject({ value: optionValue, label: z.string().optional() })])).optional()
    .describe('the option values of a select/radio/checkboxes field'),
}).describe('overrides of what the app says about a field');

export const associationSchema = z.strictObject({
  field: z.string().min(1).describe('the column holding the related record\'s id'),
  object: z.string().min(1).describe('the related object, e.g. companies'),
}).describe('a reference to a record of another object');

/** Keys every sqlite/csv object block takes. */
export const objectBaseShape = {
  id: z.string().min(1).default('id').describe('the id column (default: id)'),
  fields: z.record(z.string(), fieldOverrideSchema).optional().describe('field name → overrides of its type, role, label, …'),
  associations: z.record(z.string(), associationSchema).optional().describe('association name (e.g. company) → { field, object }'),
};

export const batchSize = z.number().int().min(1).default(1000).describe('records per read page (default 1000)');
