/**
 * The CSV file's id → row number in flat memory (connectors/csv/row-index.ts):
 * it must answer as the Map it replaced did for every id a file can hold.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, test } from 'vitest';
import { indexCsv } from '../../connectors/csv/file.js';
import { countColumn, fnv1a, offsetColumn, RowIndex } from '../../connectors/csv/row-index.js';

describe('RowIndex', () => {
  test('numbers ids in the order added and finds them; an id not added is not there', () => {
    const index = new RowIndex();
    expect(index.size).toBe(0);
    expect(index.get('1')).toBeUndefined();
    expect(['1', '2', '10', 'a@example.com'].map((id) => index.add(id))).toEqual([0, 1, 2, 3]);
    expect(index.size).toBe(4);
    expect(index.get('10')).toBe(2);
    expect(index.get('a@example.com')).toBe(3);
    expect(index.has('1')).toBe(true);
    expect(index.has('3')).toBe(false);
    // A prefix, an extension or another case of an id is another id.
    for (const other of ['', '100', 'a@example.co', 'A@example.com', '1 ']) expect(index.has(other)).toBe(false);
    expect([...index.keys()]).toEqual(['1', '2', '10', 'a@example.com']);
    // Cut to size for the pass, it still takes more (a save appends the rows it created).
    index.trim();
    expect(index.get('a@example.com')).toBe(3);
    expect(index.add('11')).toBe(4);
    expect([...index.keys()]).toEqual(['1', '2', '10', 'a@example.com', '11']);
    const empty = new RowIndex();
    empty.trim();
    expect(empty.add('x')).toBe(0);
    expect(empty.get('x')).toBe(0);
  });

  test('ids in any script compare by their UTF-8 bytes', () => {
    const ids = ['Zoë', 'Zoe\u0308', 'Müller', 'İstanbul', 'istanbul', '東京', '😀', '😀😀', 'ab\u0000c', 'x'.repeat(5000) + 'é'];
    const index = new RowIndex();
    ids.forEach((id) => index.add(id));
    ids.forEach((id, row) => expect(index.get(id)).toBe(row));
    expect([...index.keys()]).toEqual(ids);
    // The composed and decomposed ë are different bytes, so different ids, as they were in a Map.
    expect(index.get('Zoë')).not.toBe(index.get('Zoe\u0308'));
    expect(index.has('😁')).toBe(false);
    expect(index.has('東')).toBe(false);
  });

  test('grows to 300,000 ids (its bytes, rows and table) and finds every one', () => {
    const index = new RowIndex();
    const id = (k: number) => (k % 3 === 0 ? `person.${k}@example.com` : k % 3 === 1 ? String(k) : `ü-${k}`);
    const wrong: number[] = [];
    for (let k = 0; k < 300_000; k++) if (index.add(id(k)) !== k) wrong.push(k);
    expect(index.size).toBe(300_000);
    for (let k = 0; k < 300_000; k++) if (index.get(id(k)) !== k) wrong.push(k);
    expect(wrong).toEqual([]);
    expect(index.has(id(300_000))).toBe(false);
    let n = 0;
    for (const key of index.keys()) if (key !== id(n++)) wrong.push(n);
    expect(wrong).toEqual([]);
    expect(n).toBe(300_000);
  });

  test('ids whose hashes collide are told apart by their bytes', () => {
    // 400 ids whose hashes agree in their low 12 bits: all land on one slot of the first tables
    // (2,048 then 4,096 slots), so each lookup probes past the others.
    const low = (id: string) => { const b = Buffer.from(id); return fnv1a(b, 0, b.length) & 0xfff; };
    const ids: string[] = [];
    for (let k = 0; ids.length < 400; k++) if (low(`c${k}`) === 0x5a5) ids.push(`c${k}`);
    const index = new RowIndex();
    ids.forEach((id) => index.add(id));
    ids.forEach((id, row) => expect(index.get(id)).toBe(row));
    let stranger = 0;
    while (low(`d${stranger}`) !== 0x5a5) stranger++;
    expect(index.has(`d${stranger}`)).toBe(false);
  });

  test('adding an id twice is refused (the scan reports a duplicate id before it adds)', () => {
    const index = new RowIndex();
    index.add('7');
    expect(() => index.add('7')).toThrow(/already row 0/);
    expect(index.size).toBe(1);
    expect(index.add('8')).toBe(1);
  });
});

describe('GrowingColumn', () => {
  test('grows past its first capacity and is cut to its length', () => {
    const offsets = offsetColumn();
    for (let k = 0; k < 5000; k++) offsets.push(k * 2 ** 33);
    expect(offsets.length).toBe(5000);
    expect(offsets.at(4999)).toBe(4999 * 2 ** 33);
    const done = offsets.done();
    expect(done).toBeInstanceOf(Float64Array);
    expect(done.length).toBe(5000);
    expect(done[1]).toBe(2 ** 33); // a byte offset past 4 GB kept exactly
  });

  test('a count past 2^32 is refused rather than wrapped', () => {
    const lines = countColumn();
    lines.push(0xffffffff);
    expect(() => lines.push(2 ** 32)).toThrow(RangeError);
    expect([...lines.done()]).toEqual([0xffffffff]);
  });
});

describe('the index of a file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('of 250,000 rows with e-mail ids holds its ids and positions, and no piece of the file\'s text', async () => {
    // As a Map, each id of 13+ characters was a slice of the 1 MB piece decoded around it, so the index
    // held the file's whole text (~50 MB here) besides ~85 bytes a row of Map and number[].
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    dir = mkdtempSync(join(tmpdir(), 'csv-row-index-'));
    const cfg = { object: 'contacts', file: join(dir, 'contacts.csv'), id: 'id', delimiter: ',', create: false, initialHeader: [] };
    const note = 'n'.repeat(120);
    const write = (n: number) => writeFileSync(cfg.file, `id,firstname,lastname,phone,note\n${Array.from({ length: n },
      (_, i) => `person.${i}@example-company.com,First${i},Last${i},+1555${String(i).padStart(7, '0')},${note}`).join('\n')}\n`);
    write(1000);
    await indexCsv(cfg); // code compiled before the measure
    write(250_000);
    const held = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
    const before = held();
    const idx = await indexCsv(cfg);
    const mb = (held() - before) / 1e6;
    // Flat: ~29 bytes of id, 4 of end, ~8 of table and 16 of positions a row: ~14 MB.
    expect(mb).toBeLessThan(25);
    expect(idx.index.get('person.249999@example-company.com')).toBe(249_999);
    expect(idx.lines[249_999]).toBe(250_001);
  });
});
