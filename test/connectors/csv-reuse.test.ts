/**
 * The csv connector keeps the file it parsed (or wrote) between calls of one
 * run; a file changed by another program in between must be read again, and
 * a read after the connector's own write must report the written file's hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Connector } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';

let dir: string;
const file = () => join(dir, 'contacts.csv');
const connect = (): Connector =>
  factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv' } } }, {});

async function readAll(c: Connector, since: string | null = null) {
  let cursor = since;
  const records = [];
  for await (const b of c.read('contacts', { since, fields: [] })) {
    records.push(...b.records);
    cursor = b.cursor ?? cursor;
  }
  return { records, cursor };
}

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'datasync-csv-reuse-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

it('a file another program rewrote between two write batches is read again, and its edit is kept', async () => {
  writeFileSync(file(), 'id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n');
  const c = connect();
  await readAll(c);
  await c.write('contacts', [{ kind: 'update', ref: 'u1', id: '1', fields: { jobtitle: 'Chief' } }]);
  await c.flush!('contacts');
  // Someone edits the file between batches (same length, so only the stamp's times and inode tell).
  writeFileSync(file(), readFileSync(file(), 'utf8').replace('bob@example.com,CTO', 'bob@example.com,CIO'));
  await c.write('contacts', [{ kind: 'update', ref: 'u2', id: '1', fields: { email: 'ann@example.org' } }]);
  await c.flush!('contacts');
  expect(readFileSync(file(), 'utf8')).toBe('id,email,jobtitle\n1,ann@example.org,Chief\n2,bob@example.com,CIO\n');
  await c.close();
});

it('after its own write, a read reports the hash of the file as written, so the next read from it is empty', async () => {
  writeFileSync(file(), 'id,email\n1,ann@example.com\n');
  const c = connect();
  await readAll(c);
  await c.write('contacts', [{ kind: 'create', ref: 'c1', fields: { email: 'bob@example.com' } }]);
  const { records, cursor } = await readAll(c);
  expect(records.map((r) => r.fields.email)).toEqual(['ann@example.com', 'bob@example.com']);
  expect(cursor).toBe(`sha256:${createHash('sha256').update(readFileSync(file())).digest('hex')}`);
  expect((await readAll(c, cursor)).records).toEqual([]);
  await c.close();
});

it('check() finds a broken row anywhere in the file, like a read', async () => {
  writeFileSync(file(), 'id,email\n1,ann@example.com\n2,bob@example.com,extra\n');
  await expect(connect().check()).rejects.toThrow(/contacts\.csv:3: row has 3 values but the header has 2 columns/);
  writeFileSync(file(), 'id,email\n1,ann@example.com\n1,bob@example.com\n');
  await expect(connect().check()).rejects.toThrow(/contacts\.csv:3: duplicate id "1" \(also on line 2\)/);
});

it('what check() found is used only while the file is that version: a file changed after it is described and read anew', async () => {
  writeFileSync(file(), 'id,email\n1,ann@example.com\n');
  const c = connect();
  await c.check();
  const first = await readAll(c);
  expect(first.cursor).toBe(`sha256:${createHash('sha256').update(readFileSync(file())).digest('hex')}`);
  writeFileSync(file(), 'id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n');
  const spec = (await c.describe()).find((s) => s.name === 'contacts')!;
  expect(spec.fields.map((f) => f.name)).toContain('jobtitle');
  const next = await readAll(c, first.cursor);
  expect(next.records.map((r) => r.id)).toEqual(['1', '2']);
  await c.close();
});

it('check() takes a version a saved cursor names as checked, and checks any other version whole', async () => {
  // A duplicate id, so a whole check would refuse the file: only the cursor hint lets it pass.
  writeFileSync(file(), 'id,email\n1,ann@example.com\n1,bob@example.com\n');
  const hash = `sha256:${createHash('sha256').update(readFileSync(file())).digest('hex')}`;
  await expect(connect().check(new Map([['contacts', [hash]]]))).resolves.toBeUndefined();
  await expect(connect().check(new Map([['contacts', ['sha256:another-version']]]))).rejects.toThrow(/duplicate id "1"/);
  const c = connect();
  await c.check(new Map([['contacts', [hash]]]));
  expect((await c.describe()).find((s) => s.name === 'contacts')!.fields.map((f) => f.name)).toEqual(['email']);
  await c.close();
});
