/** The `csv` connection block (see index.ts): every key, its type and default. */
import { z } from 'zod';
import { batchSize, objectBaseShape } from '../shared/options.js';

export const csvOptions = z.strictObject({
  app: z.literal('csv'),
  dir: z.string().min(1).default('.').describe('the folder of the files, relative to the sync file (default: its folder)'),
  delimiter: z.string().length(1).default(',').describe('the one character between values (default ,)'),
  batch_size: batchSize,
  objects: z.record(z.string(), z.strictObject({
    ...objectBaseShape,
    file: z.string().min(1).optional().describe('the file, relative to dir (default: OBJECT.csv)'),
    create: z.boolean().default(false).describe('true: create the file (header from the mappings) when it is missing'),
  }).describe('one CSV file per object; changes are found by content hash, then by a hash per row kept beside the state (docs/finding-changes.md)')).optional().describe('object name (contacts, companies, …) → its file (required to sync; `datasync connect` writes it)'),
}).describe('CSV files: one per object, header row = field names; a run reads only the rows changed, added or removed since the last (docs/finding-changes.md)');
