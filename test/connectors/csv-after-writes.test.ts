/**
 * The csv connector's `cursorAfterWrites`: the hash of the file as it saved
 * it, but only while the file is the version the last read gave plus this
 * connector's own writes; any change by another program in between or since
 * leaves the cursor where the read put it, so the next read lists the file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, WriteOp } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';

let dir: string;
let c: Connector;
const file = () => join(dir, 'contacts.csv');
const connect = (): Connector =>
  factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv' } } }, {});
const fileHash = () => `sha256:${createHash('sha256').update(readFileSync(file())).digest('hex')}`;
const after = (since: string | null) => c.cursorAfterWrites!('contacts', since);
const update = (id: string, email: string): WriteOp => ({ kind: 'update', ref: `u${id}`, id, fields: { email } });
/** Another program's edit; the text gets longer, so the file's stamp changes whatever the clock's resolution. */
const editElsewhere = (from: string, to: string) => writeFileSync(file(), readFileSync(file(), 'utf8').replace(from, to));

async function readAll(since: string | null = null) {
  let cursor = since;
  const records = [];
  for await (const b of c.read('contacts', { since, fields: [] })) {
    records.push(...b.records);
    cursor = b.cursor ?? cursor;
  }
  return { records, cursor: cursor!, emails: new Map(records.map((r) => [r.id, r.fields.email])) };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-csv-after-'));
  writeFileSync(file(), 'id,email\n1,ann@example.com\n2,bob@example.com\n3,cid@example.com\n');
  c = connect();
});
afterEach(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cursorAfterWrites of the csv connector', () => {
  it('after its own writes alone, answers the hash of the file as written: the next read from it is empty', async () => {
    const { cursor } = await readAll();
    await c.write('contacts', [update('2', 'ours@example.com'), { kind: 'create', ref: 'c', fields: { email: 'new@example.com' } }]);
    const next = await after(cursor);
    expect(next).toBe(fileHash());
    expect((await readAll(next)).records).toEqual([]);
  });

  it('answers the cursor it was given when nothing was written, when it is null, or when it is not the last read\'s', async () => {
    const { cursor } = await readAll();
    expect(await after(cursor)).toBe(cursor);
    expect(await after(null)).toBeNull();
    await c.write('contacts', [update('1', 'ours@example.com')]);
    expect(await after('sha256:not-the-last-read')).toBe('sha256:not-the-last-read');
    expect(await after(null)).toBeNull();
  });

  it('a fresh connector that never read answers the cursor it was given', async () => {
    await c.write('contacts', [update('1', 'ours@example.com')]);
    const cursor = fileHash();
    await c.close();
    c = connect();
    await c.write('contacts', [update('2', 'ours@example.com')]);
    expect(await after(cursor)).toBe(cursor);
  });

  it('another program rewriting the file between the read and a write breaks the chain: the answer is the read\'s cursor', async () => {
    const { cursor } = await readAll();
    editElsewhere('ann@example.com', 'ann.meanwhile@example.com');
    await c.write('contacts', [update('3', 'ours@example.com')]);
    expect(await after(cursor)).toBe(cursor);
    const next = await readAll(cursor);
    expect(next.emails.get('1')).toBe('ann.meanwhile@example.com');
    expect(next.emails.get('3')).toBe('ours@example.com');
  });

  it('another program rewriting the file between two write batches breaks the chain too', async () => {
    const { cursor } = await readAll();
    await c.write('contacts', [update('1', 'ours@example.com')]);
    editElsewhere('bob@example.com', 'bob.between@example.com');
    await c.write('contacts', [update('3', 'ours@example.com')]);
    expect(await after(cursor)).toBe(cursor);
    expect((await readAll(cursor)).emails.get('2')).toBe('bob.between@example.com');
  });

  it('another program changing the file after the last write: a read from the answer yields its change', async () => {
    const { cursor } = await readAll();
    await c.write('contacts', [update('3', 'ours@example.com')]);
    editElsewhere('ann@example.com', 'ann.later@example.com');
    const next = await after(cursor);
    expect(next).toBe(cursor);
    expect((await readAll(next)).emails.get('1')).toBe('ann.later@example.com');
  });

  it('another program changing a record this connector wrote, after the write: a read from the answer yields it', async () => {
    const { cursor } = await readAll();
    await c.write('contacts', [update('3', 'ours@example.com')]);
    await c.flush!('contacts');
    editElsewhere('ours@example.com', 'theirs.after.ours@example.com');
    expect((await readAll(await after(cursor))).emails.get('3')).toBe('theirs.after.ours@example.com');
  });

  it('another program deleting the file after the last write answers the read\'s cursor', async () => {
    const { cursor } = await readAll();
    await c.write('contacts', [update('3', 'ours@example.com')]);
    await c.flush!('contacts');
    rmSync(file());
    expect(await after(cursor)).toBe(cursor);
  });

  it('a file replaced with byte-identical content by another program is harmless, before or after the writes', async () => {
    const { cursor } = await readAll();
    writeFileSync(file(), readFileSync(file()));
    await c.write('contacts', [update('1', 'ours@example.com')]);
    // Same bytes between the read and the write: the write still follows the version read.
    const answer = await after(cursor);
    expect(answer).toBe(fileHash());
    writeFileSync(file(), readFileSync(file()));
    // Same bytes after the write: the answer is either cursor, and neither hides anything.
    const again = await after(cursor);
    expect([cursor, fileHash()]).toContain(again);
    expect((await readAll(fileHash())).records).toEqual([]);
  });

  it('several write batches to a large file: the answer is the hash after the last batch, and a later change still shows', async () => {
    const lines = ['id,email,city'];
    for (let i = 1; i <= 30_000; i++) lines.push(`${i},user${i}@example.com,"Stockholm, SE"`);
    writeFileSync(file(), `${lines.join('\n')}\n`);
    const { cursor, records } = await readAll();
    expect(records.length).toBe(30_000);
    for (let batch = 0; batch < 5; batch++) {
      const results = await c.write('contacts', [
        update(String(1 + batch * 1000), `batch${batch}@example.com`),
        { kind: 'create', ref: `c${batch}`, fields: { email: `created${batch}@example.com` } },
      ]);
      expect(results.every((r) => r.ok)).toBe(true);
    }
    // An all-refused batch changes nothing and keeps the chain.
    expect((await c.write('contacts', [update('999999', 'nobody@example.com')]))[0]!.ok).toBe(false);
    expect(readFileSync(file()).length).toBeGreaterThan(1 << 20); // more than one 1 MB piece hashed while written
    const next = await after(cursor);
    expect(next).toBe(fileHash());
    expect((await readAll(next)).records).toEqual([]);
    editElsewhere('user17@example.com', 'user17.edited@example.com');
    expect((await readAll(next)).emails.get('17')).toBe('user17.edited@example.com');
  });

  it('a second read restarts the chain from the cursor it gives', async () => {
    const first = await readAll();
    await c.write('contacts', [update('1', 'ours@example.com')]);
    const second = await readAll(first.cursor);
    expect(second.cursor).toBe(fileHash());
    await c.write('contacts', [update('2', 'ours@example.com')]);
    expect(await after(first.cursor)).toBe(first.cursor);
    expect(await after(second.cursor)).toBe(fileHash());
  });

  it('a read from the current cursor that yields nothing starts the chain as well (the next run)', async () => {
    const { cursor } = await readAll();
    await c.close();
    c = connect();
    expect((await readAll(cursor)).records).toEqual([]);
    await c.write('contacts', [update('2', 'ours@example.com')]);
    const next = await after(cursor);
    expect(next).toBe(fileHash());
    expect((await readAll(next)).records).toEqual([]);
  });
});
