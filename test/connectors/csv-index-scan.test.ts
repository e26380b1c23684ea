/**
 * Indexing a CSV file parses only its ids (parse.ts `recordIds`), reading
 * the rest of each row for its structure alone. It must find exactly what a
 * full parse finds: the same rows, ids, lines, positions and row hashes, and
 * the same error, on the same line, for every file a full parse refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indexCsv, scanRows, type CsvIndex, type CsvObjectConfig } from '../../connectors/csv/file.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'datasync-csv-index-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (file: string): CsvObjectConfig => ({ object: 'contacts', file, id: 'id', delimiter: ',', create: false, initialHeader: [] });

/** What an index holds, or the error that refused the file. */
async function outcome(read: () => Promise<CsvIndex>) {
  try {
    const idx = await read();
    return { ids: [...idx.index.keys()], offsets: [...idx.offsets], lengths: [...idx.lengths], lines: [...idx.lines], hashes: [...idx.hashes], hash: idx.hash };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function fullParse(file: string): Promise<CsvIndex> {
  const out: { index?: CsvIndex } = {};
  for await (const _ of scanRows(cfg(file), out, true, true)) { /* every row parsed whole */ }
  return out.index!;
}

// Pieces of CSV text, some of them wrong on purpose: quotes left open or followed by text, blank and
// whitespace-only rows, rows with no id, with a value too many, ids twice, CR-only line ends.
const piece = fc.constantFrom('1', '2', '3', ' ', '', 'a', 'é', ',', '"', '""', '"x"', '"a,b"', '"l1\nl2"', '"l1\r\nl2"', '\n', '\r\n', '\r', ' \n');

describe('indexing a CSV file by its ids', () => {
  it('finds what a full parse finds, and refuses what it refuses with the same message', async () => {
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(piece, { maxLength: 40 }), async (bom, pieces) => {
      const file = join(dir, 'contacts.csv');
      writeFileSync(file, `${bom ? '\ufeff' : ''}id,email\n${pieces.join('')}`);
      expect(await outcome(() => indexCsv(cfg(file)))).toEqual(await outcome(() => fullParse(file)));
    }), { numRuns: Number(process.env.DATASYNC_PROPERTY_RUNS ?? 500) });
  });

  it('on rows built to be valid (the case that matters most), including quoted ids and line breaks in values', async () => {
    const value = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r\n', ' '), maxLength: 4 });
    const q = (v: string, always: boolean) => (always || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ email: value, quoteId: fc.boolean(), blank: fc.boolean() }), { maxLength: 12 }),
      fc.constantFrom('\n', '\r\n', '\r'), async (rows, eol) => {
        const file = join(dir, 'contacts.csv');
        writeFileSync(file, `id,email${eol}${rows.map((r, k) => `${q(String(k + 1), r.quoteId)},${q(r.email, false)}${eol}${r.blank ? eol : ''}`).join('')}`);
        const got = await outcome(() => indexCsv(cfg(file)));
        expect(got).toEqual(await outcome(() => fullParse(file)));
        if (!('error' in got)) expect(got.ids).toEqual(rows.map((_, k) => String(k + 1)));
      }), { numRuns: Number(process.env.DATASYNC_PROPERTY_RUNS ?? 300) });
  });
});
