/**
 * Rows created in a pass are not held in memory until the flush (issue 15,
 * "a million records in flat memory"): each write batch's created rows go
 * to a temp file beside the CSV file, which the flush copies after the
 * file's own rows and then removes. These tests look at that temp file: it
 * exists and grows with each batch before the flush, has the file's mode,
 * is gone after the flush, after a failed flush and at close, and one left
 * by a killed process is removed by the next run.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, WriteOp } from '../../src/connector.js';
import { factory } from '../../connectors/csv/index.js';
import { useMounts } from '../e2e/mounts.js';

let dir: string;
let c: Connector;
const file = () => join(dir, 'contacts.csv');
const connect = (): Connector =>
  factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'contacts.csv' } } }, {});
const create = (n: number, fields: Record<string, string> = {}): WriteOp =>
  ({ kind: 'create', ref: `c${n}`, fields: { email: `new${n}@example.com`, ...fields } });
const update = (id: string, fields: Record<string, string>): WriteOp => ({ kind: 'update', ref: `u${id}`, id, fields });
const text = () => readFileSync(file(), 'utf8');
const temps = () => readdirSync(dir).filter((n) => n.startsWith('.contacts.csv.') && n.endsWith('.spill'));

async function readAll() {
  const records = [];
  for await (const b of c.read('contacts', { since: null, fields: [] })) records.push(...b.records);
  return records;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-csv-spill-'));
  writeFileSync(file(), 'id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n');
  c = connect();
});
afterEach(async () => {
  await c.close();
  rmSync(dir, { recursive: true, force: true });
});
// Registered after the clean-up above, so it runs before it: the disk is unmounted before its folder goes.
const { mountTmpfs } = useMounts();

describe('rows created before the flush', () => {
  it('are in a temp file beside the file from their write on, growing batch by batch, and it is gone after the flush', async () => {
    await readAll();
    const sizes: number[] = [];
    for (let b = 0; b < 20; b++) {
      const r = await c.write('contacts', Array.from({ length: 500 }, (_, k) => create(b * 500 + k)));
      expect(r.every((x) => x.ok)).toBe(true);
      expect(temps()).toHaveLength(1);
      sizes.push(statSync(join(dir, temps()[0]!)).size);
    }
    // Every batch's rows were on the disk when its write answered, not only at the flush.
    expect(sizes.every((s, k) => k === 0 || s > sizes[k - 1]!)).toBe(true);
    const spilled = readFileSync(join(dir, temps()[0]!), 'utf8');
    expect(spilled.split('\n').filter(Boolean)).toHaveLength(10_000);
    expect(spilled).toContain('new9999@example.com');
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n');
    await c.flush!('contacts');
    expect(temps()).toEqual([]);
    const lines = text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(10_003);
    expect(lines[2 + 1]).toBe('3,new0@example.com,');
    expect(lines[10_002]).toBe('10002,new9999@example.com,');
  });

  it('read back by id (get, missing, an update in a later batch), with a column added after they were written', async () => {
    await readAll();
    await c.write('contacts', [create(0), create(1, { jobtitle: 'Dev, "senior"\nnight shift' })]);
    // A later batch updates a row created before (a new column for it) and the file's row 1.
    const r = await c.write('contacts', [update('3', { phone: '+44 1', jobtitle: 'Ops' }), update('1', { jobtitle: 'Chief' }), create(2, { phone: '+44 2' })]);
    expect(r.every((x) => x.ok)).toBe(true);
    await c.write('contacts', [update('3', { email: 'renamed@example.com' })]);
    const got = await c.get('contacts', ['4', '3', '1', '5'], { fields: [] });
    expect(got.map((g) => [g.id, g.fields.email, g.fields.jobtitle, g.fields.phone])).toEqual([
      ['4', 'new1@example.com', 'Dev, "senior"\nnight shift', null],
      ['3', 'renamed@example.com', 'Ops', '+44 1'],
      ['1', 'ann@example.com', 'Chief', null],
      ['5', 'new2@example.com', null, '+44 2'],
    ]);
    expect(await c.missing('contacts', ['2', '3', '4', '5', '6'])).toEqual(['6']);
    await c.flush!('contacts');
    expect(text()).toBe('id,email,jobtitle,phone\n1,ann@example.com,Chief,\n2,bob@example.com,CTO,\n'
      + '3,renamed@example.com,Ops,+44 1\n4,new1@example.com,"Dev, ""senior""\nnight shift",\n5,new2@example.com,,+44 2\n');
    expect(temps()).toEqual([]);
  });

  it('are saved in text of any script, and a file another program appended to meanwhile keeps its row', async () => {
    await readAll();
    const names = ['Zoë', 'Ålesund', '東京', '🙂 emoji', 'x'.repeat(3 << 20)];
    await c.write('contacts', names.map((n, k) => create(k, { jobtitle: n })));
    appendFileSync(file(), '900,theirs@example.com,Writer\n');
    await c.flush!('contacts');
    const rows = text().split('\n').filter(Boolean);
    expect(rows[3]).toBe('900,theirs@example.com,Writer');
    // Ids were taken before the other program's row appeared: 3.., after its row in the file.
    expect(rows.slice(4)).toEqual(names.map((n, k) => `${3 + k},new${k}@example.com,${n}`));
  });

  it('the temp file has the file\'s mode, and is removed by a failed flush and at close', async () => {
    chmodSync(file(), 0o600);
    await readAll();
    await c.write('contacts', [create(0)]);
    expect(statSync(join(dir, temps()[0]!)).mode & 0o777).toBe(0o600);
    appendFileSync(file(), '3,theirs@example.com,Writer\n');
    await expect(c.flush!('contacts')).rejects.toThrow(/another program added a row with id 3/);
    expect(temps()).toEqual([]);
    await readAll();
    await c.write('contacts', [create(1)]);
    expect(temps()).toHaveLength(1);
    await c.close();
    expect(temps()).toEqual([]);
    expect(text()).toBe('id,email,jobtitle\n1,ann@example.com,CEO\n2,bob@example.com,CTO\n3,theirs@example.com,Writer\n');
  });
});

describe('a disk too full for the rows created', () => {
  it('the write batch that does not fit throws, naming the file and the full disk; the batches before it are dropped too, and the file is as it was', async () => {
    await mountTmpfs(join(dir, 'small'), '256k');
    writeFileSync(join(dir, 'small', 'contacts.csv'), 'id,email,jobtitle\n1,ann@example.com,CEO\n');
    await c.close();
    c = factory.create({ name: 'export', app: 'csv', baseDir: dir, objects: { contacts: { file: 'small/contacts.csv' } } }, {});
    await readAll();
    const small = () => readdirSync(join(dir, 'small'));
    let answered = 0;
    let thrown: Error | undefined;
    for (let b = 0; b < 40 && !thrown; b++) {
      // ~40 KB a batch: the disk is full after a few.
      await c.write('contacts', Array.from({ length: 100 }, (_, k) => create(b * 100 + k, { jobtitle: 'x'.repeat(400) })))
        .then(() => { answered++; }, (err: Error) => { thrown = err; });
    }
    expect(answered).toBeGreaterThan(0);
    expect(thrown?.message).toMatch(/small\/contacts\.csv: no space left on the disk \(ENOSPC\)/);
    expect(small(), 'no temp file left').toEqual(['contacts.csv']);
    // The batches answered before it are not saved: the flush says why, so the engine records none of them.
    await expect(c.flush!('contacts')).rejects.toThrow(/no space left/);
    expect(readFileSync(join(dir, 'small', 'contacts.csv'), 'utf8')).toBe('id,email,jobtitle\n1,ann@example.com,CEO\n');
    // Once said, nothing is left to save.
    await c.flush!('contacts');
    expect(small()).toEqual(['contacts.csv']);
  });
});

const BUILT = resolve(import.meta.dirname, '../../dist/connectors/csv/index.js');

describe('a process killed between its writes and the flush', () => {
  it.skipIf(!existsSync(BUILT))('leaves the file as it was and a temp file, which the next run removes (at its read, or else its first write)', async () => {
    const original = text();
    // The built connector in a child process: it writes 2,000 rows in 4 batches, says so, and waits to be killed.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      const { factory } = await import(${JSON.stringify(pathToFileURL(BUILT).href)});
      const c = factory.create({ name: 'export', app: 'csv', baseDir: ${JSON.stringify(dir)}, objects: { contacts: { file: 'contacts.csv' } } }, {});
      for await (const _ of c.read('contacts', { since: null, fields: [] }));
      for (let b = 0; b < 4; b++) await c.write('contacts', Array.from({ length: 500 }, (_, k) => ({ kind: 'create', ref: 'r' + k, fields: { email: 'killed' + (b * 500 + k) + '@example.com' } })));
      process.stdout.write('written\\n');
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((done) => child.on('exit', done));
    try {
      await new Promise<void>((done, fail) => {
        child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('written')) done(); });
        child.on('exit', () => fail(new Error('the child ended before writing')));
      });
      expect(temps()).toHaveLength(1);
      expect(readFileSync(join(dir, temps()[0]!), 'utf8')).toContain('killed1999@example.com');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(text()).toBe(original);
    expect(temps()).toHaveLength(1);

    await readAll();
    await c.write('contacts', [create(0)]);
    // The killed run's temp file is gone; the one left is this run's.
    const left = temps();
    expect(left).toHaveLength(1);
    expect(left[0]!.startsWith(`.contacts.csv.${process.pid}.`)).toBe(true);
    await c.flush!('contacts');
    expect(temps()).toEqual([]);
    expect(text()).toBe(`${original}3,new0@example.com,\n`);
  });
});
