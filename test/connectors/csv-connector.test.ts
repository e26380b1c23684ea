/** CSV parsing edge cases and the csv connector's file handling. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, ReadBatch } from '../../src/connector.js';
import { DatasyncError, exitCodeFor } from '../../src/errors.js';
import { factory } from '../../connectors/csv/index.js';
import { parseCsv } from '../../connectors/csv/parse.js';

let dir: string;
const file = (name = 'contacts.csv') => join(dir, name);

function connect(contacts: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Connector {
  return factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv', ...contacts } }, ...extra }, {});
}

async function readAll(c: Connector, since: string | null = null) {
  const batches: ReadBatch[] = [];
  for await (const b of c.read('contacts', { since, fields: [] })) batches.push(b);
  return { batches, records: batches.flatMap((b) => b.records), cursor: batches.reduce<string | null>((cur, b) => b.cursor ?? cur, since) };
}

async function failure(p: Promise<unknown>): Promise<DatasyncError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DatasyncError);
  return err as DatasyncError;
}

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'datasync-csv-unit-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

describe('parsing', () => {
  it('strips a BOM, reads CRLF and quoted values with delimiters, quotes and line breaks', () => {
    const csv = parseCsv('\ufeffid,note\r\n1,"a, ""b""\r\nc"\r\n2,plain\r\n', 'f.csv', ',');
    expect(csv.header).toEqual(['id', 'note']);
    expect(csv.rows).toEqual([['1', 'a, "b"\r\nc'], ['2', 'plain']]);
    expect(csv).toMatchObject({ bom: true, eol: '\r\n' });
  });

  it('skips blank lines and rows with no values at all', () => {
    expect(parseCsv('id,a\n\n1,x\n,\n', 'f.csv', ',').rows).toEqual([['1', 'x']]);
  });

  it.each([
    ['a ragged row', 'id,a,b\n1,x,y\n2,x\n', /f\.csv:3: row has 2 values but the header has 3 columns/, 'data'],
    ['an unclosed quote', 'id,a\n1,"x\n2,y\n', /f\.csv:\d+: a quoted value is never closed/, 'data'],
    ['text after a closing quote', 'id,a\n1,"x"y\n', /f\.csv:2: text follows a closing quote/, 'data'],
    ['duplicate headers', 'id,email,Email,email\n', /f\.csv:1: duplicate column "email" \(columns 2 and 4\)/, 'config'],
    ['an unnamed column', 'id,,b\n', /f\.csv:1: column 2 of the header has no name/, 'config'],
    ['no header', '', /f\.csv:1: the file has no header row/, 'config'],
  ])('refuses %s naming file:line', (_what, text, message, kind) => {
    let err: unknown;
    try { parseCsv(text, 'f.csv', ','); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DatasyncError);
    expect((err as DatasyncError).message).toMatch(message);
    expect((err as DatasyncError).kind).toBe(kind);
  });
});

describe('the csv connector', () => {
  it('a missing file is an app error, never an empty listing', async () => {
    const err = await failure(readAll(connect()));
    expect(exitCodeFor(err)).toBe(3);
    expect(err.message).toContain(file());
  });

  it('reads a missing file as empty when create: true, and makes it with a header from the config at the first write', async () => {
    const c = connect({ create: true, fields: { email: { type: 'text' }, score: { type: 'number' } }, associations: { company: { field: 'company_id', object: 'companies' } } });
    expect((await readAll(c)).records).toEqual([]);
    // Not before: a run that fails after reading (issue 13.5) must leave no file behind.
    expect(existsSync(file())).toBe(false);
    const [r] = await c.write('contacts', [{ kind: 'create', ref: 'a', fields: { email: 'a@x.se', score: 3 } }]);
    expect(r).toEqual({ ref: 'a', ok: true, id: '1' });
    // Written once for all the batches of a pass, when the engine flushes (Connector.flush).
    expect(existsSync(file())).toBe(false);
    await c.flush!('contacts');
    expect(readFileSync(file(), 'utf8')).toBe('id,email,score,company_id\n1,a@x.se,3,\n');
  });

  it('a missing id column or a duplicate id is an error naming file:line', async () => {
    writeFileSync(file(), 'key,email\n1,a@x.se\n');
    let err = await failure(readAll(connect()));
    expect(err.message).toMatch(/contacts\.csv:1: no id column "id"/);
    expect(exitCodeFor(err)).toBe(2);
    writeFileSync(file(), 'id,email\n1,"a\nb"\n2,x\n1,y\n');
    err = await failure(readAll(connect()));
    expect(err.message).toMatch(/contacts\.csv:5: duplicate id "1" \(also on line 2\)/);
  });

  it('reads with a custom delimiter and types from the fields block', async () => {
    writeFileSync(file(), 'id;Email;First Name;vip;since\n7;a@x.se;Ann;yes;2024-01-02\n');
    const c = connect({ fields: { vip: { type: 'boolean' }, since: { type: 'date' } } }, { delimiter: ';' });
    const [spec] = await c.describe();
    expect(spec!.fields.map((f) => [f.name, f.type, f.role])).toEqual([
      ['Email', 'text', 'email'], ['First Name', 'text', 'firstname'], ['vip', 'boolean', undefined], ['since', 'date', undefined],
    ]);
    expect((await readAll(c)).records).toEqual([{ id: '7', fields: { Email: 'a@x.se', 'First Name': 'Ann', vip: true, since: '2024-01-02' } }]);
  });

  it('writes atomically, keeping column order, BOM and CRLF, appending a column only when needed', async () => {
    writeFileSync(file(), '\ufeffname,id,email\r\nAnn,a1,a@x.se\r\n');
    const c = connect();
    const results = await c.write('contacts', [
      { kind: 'update', ref: 'u', id: 'a1', fields: { email: 'new@x.se', phone: null } },
      { kind: 'create', ref: 'c', fields: { name: 'Bo, "B"', phone: '+46 1' } },
    ]);
    const created = results.find((r) => r.ref === 'c');
    expect(created).toMatchObject({ ok: true, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const id = created!.ok ? created!.id : '';
    await c.flush!('contacts');
    expect(readFileSync(file(), 'utf8')).toBe(`\ufeffname,id,email,phone\r\nAnn,a1,new@x.se,\r\n"Bo, ""B""",${id},,+46 1\r\n`);
    expect(readdirSync(dir)).toEqual(['contacts.csv']);
  });

  it('a read from the current hash yields nothing; any change lists everything again', async () => {
    writeFileSync(file(), 'id,email\n1,a@x.se\n2,b@x.se\n');
    const c = connect();
    const first = await readAll(c);
    expect(first.cursor).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await readAll(c, first.cursor)).batches).toEqual([]);
    await c.write('contacts', [{ kind: 'update', ref: 'u', id: '2', fields: { email: 'c@x.se' } }]);
    expect((await readAll(c, first.cursor)).records.map((r) => r.id)).toEqual(['1', '2']);
  });

  it('reads and writes a 100,000-row file (speed is measured by npm run bench, not here)', async () => {
    const lines = ['id,email,firstname,lastname,phone,jobtitle,city,country,company_id'];
    for (let i = 1; i <= 100_000; i++) lines.push(`${i},user${i}@example.com,Anna,"Berg, Jr",+46 70 ${i},Engineer,Stockholm,SE,${i % 250}`);
    writeFileSync(file(), `${lines.join('\n')}\n`);
    const c = connect({ associations: { company: { field: 'company_id', object: 'companies' } } });
    const { records, batches } = await readAll(c);
    expect(records.length).toBe(100_000);
    expect(batches.length).toBe(100);
    const results = await c.write('contacts', [{ kind: 'update', ref: 'u', id: '5', fields: { city: 'Lund' } }, { kind: 'create', ref: 'c', fields: { email: 'new@x.se' } }]);
    expect(results.find((r) => r.ref === 'c')).toMatchObject({ id: '100001' });
    expect(existsSync(file())).toBe(true);
  });
});
