/**
 * Each connector declares the options of its connection block as a zod
 * schema in its own `options.ts`; this is the one list of them. The config
 * loader checks every key of every connection against its app's schema
 * (unknown keys and wrong types reported at FILE:LINE:COLUMN), and the JSON
 * Schema for editors is built from the same list. A new connector adds one
 * line here (and one in src/connectors.ts).
 */
import type { z } from 'zod';
import { csvOptions } from '../../connectors/csv/options.js';
import { dynamicsOptions } from '../../connectors/dynamics/options.js';
import { hubspotOptions } from '../../connectors/hubspot/options.js';
import { postgresOptions } from '../../connectors/postgres/options.js';
import { sqliteOptions } from '../../connectors/sqlite/options.js';

export const CONNECTOR_OPTIONS: Record<string, z.ZodObject> = {
  csv: csvOptions,
  dynamics: dynamicsOptions,
  hubspot: hubspotOptions,
  postgres: postgresOptions,
  sqlite: sqliteOptions,
};
