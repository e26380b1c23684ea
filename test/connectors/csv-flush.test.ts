/**
 * The csv connector defers its writes (issue 15, "Files stream"): `write`
 * answers from the rows in hand and `flush` saves the file once for every
 * batch since (Connector.flush). Another program's change made before the
 * flush is kept, cell by cell, and a flush that cannot save as answered
 * throws, so the engine records none of those writes.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
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
const update = (id: string, fields: Record<string, string>): WriteOp => ({ kind: 'update', ref: `u${id}`, id, fields });
const text = () => readFileSync(file(), 'utf8');
const inode = () => statSync(file()).ino;

async function readAll() {
  const records = [];
  for await (const b of c.read('contacts', { since: null, fields: [] })) records.push(...b.records);
  return records;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-csv-flush-'));
  writeFileSync(file(), 'id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n');
  c = connect();
});
afterEach(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('deferred writes of the csv connector', () => {
  it('write batches leave the file untouched; one flush saves them all in one rewrite', async () => {
    await readAll();
    const before = inode();
    const original = text();
    for (let i = 0; i < 5; i++) {
      const r = await c.write('contacts', [update('1', { jobtitle: `Chief ${i}` }), { kind: 'create', ref: `c${i}`, fields: { email: `new${i}@example.com` } }]);
      expect(r.every((x) => x.ok)).toBe(true);
    }
    expect(text()).toBe(original);
    expect(inode()).toBe(before);
    // Reads by id see the writes answered (get, missing), before the flush too.
    expect((await c.get('contacts', ['1', '7'], { fields: [] })).map((r) => r.fields.jobtitle)).toEqual(['Chief 4', null]);
    expect(await c.missing('contacts', ['3', '7', '8'])).toEqual(['8']);
    await c.flush!('contacts');
    expect(inode()).not.toBe(before);
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.com,Chief 4\n2,bob@example.com,CTO\n'
      + [3, 4, 5, 6, 7].map((id, i) => `${id},new${i}@example.com,\n`).join(''));
    // Nothing left to save: a second flush writes nothing.
    const saved = inode();
    await c.flush!('contacts');
    expect(inode()).toBe(saved);
  });

  it('rows another program appends before the flush are kept, and the writes applied to them too', async () => {
    await readAll();
    await c.write('contacts', [update('2', { jobtitle: 'Chief' }), { kind: 'create', ref: 'c', fields: { email: 'ours@example.com' } }]);
    appendFileSync(file(), '900,theirs@example.com,Writer\n');
    await c.flush!('contacts');
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,Chief\n900,theirs@example.com,Writer\n3,ours@example.com,\n');
  });

  it('a cell another program changed before the flush keeps its value; the other cells written stay written', async () => {
    await readAll();
    await c.write('contacts', [update('1', { email: 'ann@example.org', jobtitle: 'Chief' })]);
    writeFileSync(file(), text().replace('ann@example.com,CEO', 'ann@example.com,Founder'));
    await c.flush!('contacts');
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.org,Founder\n2,bob@example.com,CTO\n');
  });

  it('a row another program deleted before the flush stays deleted', async () => {
    await readAll();
    await c.write('contacts', [update('2', { jobtitle: 'Chief' })]);
    writeFileSync(file(), 'id,email,jobtitle\n1,ann@example.com,CEO\n');
    await c.flush!('contacts');
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.com,CEO\n');
  });

  it('another program taking the id of a row created: the flush throws, the file is left as that program saved it, and the writes are dropped', async () => {
    await readAll();
    await c.write('contacts', [{ kind: 'create', ref: 'c', fields: { email: 'ours@example.com' } }]);
    appendFileSync(file(), '3,theirs@example.com,Writer\n');
    const theirs = text();
    await expect(c.flush!('contacts')).rejects.toThrow(/another program added a row with id 3/);
    expect(text()).toBe(theirs);
    // Dropped, not saved later: the next flush has nothing to write.
    await c.flush!('contacts');
    expect(text()).toBe(theirs);
  });

  it('a flush that cannot save drops the writes and throws: the file is as before, and nothing is saved later', async () => {
    await readAll();
    await c.write('contacts', [update('1', { jobtitle: 'Chief' })]);
    const original = text();
    rmSync(file());
    await expect(c.flush!('contacts')).rejects.toThrow(/does not exist/);
    writeFileSync(file(), original);
    await c.flush!('contacts');
    expect(text()).toBe(original);
  });

  it('writes never flushed are dropped at close (the engine recorded none of them)', async () => {
    await readAll();
    await c.write('contacts', [update('1', { jobtitle: 'Chief' })]);
    const original = text();
    await c.close();
    expect(text()).toBe(original);
    c = connect();
  });
});
