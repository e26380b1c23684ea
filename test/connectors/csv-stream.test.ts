/**
 * The csv connector never holds a file whole (issue 15, "Files stream"): it
 * reads 1 MB pieces cut at record ends, keeps an index of where each row
 * is, reads rows back by position, and streams the file through on a save.
 * These files put multi-byte text, quoted line breaks and delimiters on
 * both sides of the piece boundaries.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';
import { parseCsv } from '../../connectors/csv/parse.js';

let dir: string;
let c: Connector;
const file = () => join(dir, 'contacts.csv');
const connect = (): Connector =>
  factory.create({ name: 'export', app: 'csv', baseDir: dir, batch_size: 500, objects: { contacts: { file: 'contacts.csv' } } }, {});

/** Row i: every few rows a multi-byte name, a quoted line break, a quoted delimiter and quote. */
function value(i: number): { name: string; note: string } {
  const name = i % 3 === 0 ? `Åsa Zoë ${i} 日本` : `Ann ${i}`;
  const note = i % 7 === 0 ? `line one ${i}\nline "two", ${i}` : i % 5 === 0 ? `plain, with comma ${i}` : `n${i}`;
  return { name, note };
}
const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

async function readAll() {
  const pages: SourceRecord[][] = [];
  let cursor: string | null = null;
  for await (const b of c.read('contacts', { since: null, fields: [] })) {
    pages.push(b.records);
    cursor = b.cursor ?? cursor;
  }
  return { records: pages.flat(), pages, cursor };
}

const N = 80_000;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-csv-stream-'));
  const lines = ['\ufeffid,name,note'];
  for (let i = 1; i <= N; i++) {
    const { name, note } = value(i);
    lines.push(`${i},${quote(name)},${quote(note)}`);
  }
  writeFileSync(file(), `${lines.join('\r\n')}\r\n`);
  c = connect();
});
afterEach(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the csv connector streams its file', () => {
  it('a file of several 1 MB pieces reads page by page, every value exact, whatever piece it was cut in', async () => {
    expect(readFileSync(file()).length).toBeGreaterThan(2 << 20);
    const { records, pages, cursor } = await readAll();
    expect(pages.every((p) => p.length === 500)).toBe(true);
    expect(records).toHaveLength(N);
    records.forEach((r, k) => expect(r).toEqual({ id: String(k + 1), fields: value(k + 1) }));
    expect(cursor).toMatch(/^sha256:/);
  });

  it('a quote inside an unquoted value (taken as text) before quoted line breaks does not cut a record in two', async () => {
    const lines = ['id,name,note'];
    const want: Record<string, string>[] = [];
    for (let i = 1; i <= 50_000; i++) {
      const name = i % 2 === 0 ? `say "hi ${i}` : `Ann ${i}`;
      const note = i % 3 === 0 ? `one ${i}\ntwo ${i}` : `n${i}`;
      lines.push(`${i},${name},${i % 3 === 0 ? `"${note}"` : note}`);
      want.push({ name, note });
    }
    writeFileSync(file(), `${lines.join('\n')}\n`);
    expect(readFileSync(file()).length).toBeGreaterThan(1 << 20);
    const { records } = await readAll();
    expect(records.map((r) => r.fields)).toEqual(want);
    expect((await c.get('contacts', ['49998', '49999'], { fields: [] })).map((r) => r.fields)).toEqual([want[49_997], want[49_998]]);
  });

  it('rows read back by id from their position are the rows read (multi-byte text before them, quoted line breaks)', async () => {
    await readAll();
    const ids = ['1', '3', '7', '21', '9999', '12345', '61000', '79999', String(N), 'nope'];
    const got = await c.get('contacts', ids, { fields: [] });
    expect(got.map((r) => r.id)).toEqual(ids.slice(0, -1));
    for (const r of got) expect(r.fields).toEqual(value(Number(r.id)));
    expect(await c.missing('contacts', ['5', 'nope', String(N + 1)])).toEqual(['nope', String(N + 1)]);
  });

  it('a save streams every row through, keeping BOM, CRLF and values, with the writes applied and the created rows last', async () => {
    await readAll();
    const r = await c.write('contacts', [
      { kind: 'update', ref: 'u', id: '21', fields: { note: 'ändrad, "ny"\nrad' } },
      { kind: 'create', ref: 'c', fields: { name: 'Ny Åsa' } },
    ]);
    expect(r.find((x) => x.ref === 'c')).toMatchObject({ ok: true, id: String(N + 1) });
    await c.flush!('contacts');
    const text = readFileSync(file(), 'utf8');
    expect(text.startsWith('\ufeffid,name,note\r\n')).toBe(true);
    const parsed = parseCsv(text, 'contacts.csv', ',');
    expect(parsed.rows).toHaveLength(N + 1);
    parsed.rows.slice(0, N).forEach((row, k) => {
      const i = k + 1;
      expect(row).toEqual([String(i), value(i).name, i === 21 ? 'ändrad, "ny"\nrad' : value(i).note]);
    });
    expect(parsed.rows[N]).toEqual([String(N + 1), 'Ny Åsa', '']);
    // The index of the file as written serves reads by id at once.
    const again = await c.get('contacts', ['21', '22', String(N + 1)], { fields: [] });
    expect(again.map((x) => x.fields.note)).toEqual(['ändrad, "ny"\nrad', value(22).note, null]);
  });
});
