/**
 * A save from the index of the file on disk copies the rows no write touches
 * byte for byte (file.ts `writeCopied`). Checked against the two things it
 * must agree with, on files a spreadsheet or a script could write (BOM or
 * not, CRLF or LF, quoted values with line breaks, blank lines, no line break
 * at the end): the index it answers is the one a fresh read of the written
 * file makes (positions, lines, row hashes, the file's hash), and the rows
 * it writes are those of the save that streams and re-writes every row.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyOverlay, indexCsv, saveCsv, type CsvIndex, type CsvObjectConfig } from '../../connectors/csv/file.js';
import { parseCsv } from '../../connectors/csv/parse.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'datasync-csv-copy-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = (file: string): CsvObjectConfig => ({ object: 'contacts', file, id: 'id', delimiter: ',', create: false, initialHeader: [] });
const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', 'é'), maxLength: 5 });
const quoted = (v: string, always: boolean) => (always || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

const file = fc.record({
  rows: fc.array(fc.record({ a: text, b: text, quoteA: fc.boolean(), blankAfter: fc.boolean() }), { minLength: 1, maxLength: 8 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  endsWithBreak: fc.boolean(),
  updates: fc.array(fc.record({ row: fc.nat(), column: fc.constantFrom('a', 'b'), to: text }), { maxLength: 5 }),
});

const shape = (idx: CsvIndex) => ({
  hash: idx.hash, ids: [...idx.index.keys()], offsets: [...idx.offsets], lengths: [...idx.lengths], lines: [...idx.lines], hashes: [...idx.hashes],
});

describe('a save that copies the rows no write touches', () => {
  it('answers the index a fresh read of what it wrote gives, and writes the rows the streaming save writes', async () => {
    await fc.assert(fc.asyncProperty(file, async (f) => {
      const eol = f.crlf ? '\r\n' : '\n';
      const lines = f.rows.map((r, k) => `${k + 1},${quoted(r.a, r.quoteA)},${quoted(r.b, false)}${r.blankAfter ? eol : ''}`);
      const body = `${f.bom ? '\ufeff' : ''}id,a,b${eol}${lines.join(eol)}${f.endsWithBreak ? eol : ''}`;
      const copied = join(dir, 'copied.csv');
      const streamed = join(dir, 'streamed.csv');
      writeFileSync(copied, body);
      copyFileSync(copied, streamed);
      // The writes: each cell's text before and after (`applyCells` writes it where the row still holds the text before).
      const cells = new Map<string, string[]>();
      for (const u of f.updates) {
        const k = u.row % f.rows.length;
        const row = f.rows[k]!;
        const flat = cells.get(String(k + 1)) ?? [];
        if (flat.includes(u.column)) continue;
        flat.push(u.column, row[u.column], u.to);
        cells.set(String(k + 1), flat);
      }
      const overlay = (path: string) => {
        const o = emptyOverlay(path);
        for (const [id, flat] of cells) o.updates.set(id, JSON.stringify(flat));
        return o;
      };
      const from = await indexCsv(config(copied));
      const fast = await saveCsv(config(copied), overlay(copied), from);
      const slow = await saveCsv(config(streamed), overlay(streamed));
      expect(fast).not.toBeNull();
      expect(slow).not.toBeNull();
      expect(shape(fast!.index)).toEqual(shape(await indexCsv(config(copied))));
      const rows = (path: string) => parseCsv(readFileSync(path, 'utf8'), path, ',').rows;
      expect(rows(copied)).toEqual(rows(streamed));
      // Rows no write touched are as they were, byte for byte.
      const untouched = f.rows.map((_, k) => k).filter((k) => !cells.has(String(k + 1)) && (k < f.rows.length - 1 || f.endsWithBreak || f.rows[k]!.blankAfter));
      const written = readFileSync(copied, 'utf8');
      for (const k of untouched) expect(written).toContain(lines[k]);
    }), { numRuns: Number(process.env.DATASYNC_PROPERTY_RUNS ?? 200) });
  });
});
