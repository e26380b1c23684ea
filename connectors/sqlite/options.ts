/** The `sqlite` connection block (see index.ts): every key, its type and default. */
import { z } from 'zod';
import { batchSize, objectBaseShape } from '../shared/options.js';

export const sqliteOptions = z.strictObject({
  app: z.literal('sqlite'),
  path: z.string().min(1).describe('the database file, relative to the sync file'),
  busy_timeout: z.number().int().min(1).default(5000).describe('ms to wait for another writer (default 5000)'),
  batch_size: batchSize,
  objects: z.record(z.string(), z.strictObject({
    ...objectBaseShape,
    table: z.string().min(1).optional().describe('the table (default: the object name)'),
    updated_at: z.string().min(1).nullable().optional()
      .describe('a column holding each row\'s change time, read as the change cursor; without it every run compares every row'),
  }).describe('one table per object')).optional().describe('object name (contacts, companies, …) → its table (required to sync; `datasync connect` writes it)'),
}).describe('a SQLite database file: one table per object');
