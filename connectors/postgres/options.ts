/** The `postgres` connection block (see config.ts): every key, its type and default. */
import { z } from 'zod';
import { batchSize, objectBaseShape } from '../shared/options.js';

const sslMode = z.enum(['disable', 'require', 'verify-full']);

export const postgresOptions = z.strictObject({
  app: z.literal('postgres'),
  url: z.string().min(1).optional().describe('postgres://USER:PASSWORD@HOST:PORT/DATABASE, e.g. ${DATABASE_URL} (or the parts below)'),
  host: z.string().min(1).default('localhost').optional().describe('without url: the server (default localhost)'),
  port: z.union([z.number().int().min(1).max(65535), z.string()]).optional().describe('without url: the port (default 5432)'),
  database: z.string().min(1).optional().describe('without url: the database (default postgres)'),
  user: z.string().min(1).optional().describe('without url: the user'),
  password: z.string().optional().describe('without url: the password, e.g. ${PGPASSWORD} (or stored by `datasync connect`)'),
  ssl: z.union([z.boolean(), sslMode, z.strictObject({
    mode: sslMode.optional(), ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(),
  })]).optional().describe('disable | require | verify-full | { mode, ca, cert, key } (files relative to the sync file)'),
  schema: z.string().min(1).default('public').describe('the schema of tables named without one (default public)'),
  batch_size: batchSize,
  statement_timeout: z.number().int().min(0).default(30000).describe('ms per statement (default 30000; 0: the server\'s own)'),
  objects: z.record(z.string(), z.strictObject({
    ...objectBaseShape,
    table: z.string().min(1).optional().describe('the table, schema.table or table (default: the object name)'),
    updated_at: z.string().min(1).nullable().optional().describe('a column holding each row\'s change time'),
    changes: z.enum(['auto', 'triggers', 'updated_at', 'scan']).default('auto')
      .describe('how changes are found: triggers (change log), updated_at (the column as cursor), scan (fingerprints), auto'),
  }).describe('one table per object')).optional().describe('object name (contacts, companies, …) → its table'),
}).describe('a PostgreSQL database: one table per object');
