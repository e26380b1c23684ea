/**
 * The connector conformance suite: every connector passes the same tests
 * (after vdirsyncer's tests/storage). A connector's test file is a few lines:
 * `runConformanceSuite('sqlite', makeSqliteApp)`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fields, ReadBatch, SourceRecord, WriteOp } from '../../src/connector.js';
import { TYPED, type ConformanceApp, type MakeHarness } from './harness.js';

export type { ConformanceApp, MakeHarness } from './harness.js';

interface Listing { records: SourceRecord[]; batches: ReadBatch[]; cursor: string | null }

/** Reads to the end, keeping the last non-null cursor as the engine would. */
export async function readAll(app: ConformanceApp, object: string, since: string | null): Promise<Listing> {
  const batches: ReadBatch[] = [];
  for await (const batch of app.connector.read(object, { since, fields: fieldNames(app, object), associations: object === 'contacts' ? [app.companyAssociation] : [] })) {
    batches.push(batch);
  }
  const cursor = batches.reduce<string | null>((c, b) => b.cursor ?? c, since);
  return { records: batches.flatMap((b) => b.records), batches, cursor };
}

function fieldNames(app: ConformanceApp, object: string): string[] {
  if (object === 'companies') return [app.fields.companyName];
  return [app.fields.email, ...Object.values(app.fields.typed)];
}

/** Canonical values of every typed field the app has, varied by `i`. */
export function sampleContact(app: ConformanceApp, i: number): Fields {
  const f = app.fields;
  const values: Record<(typeof TYPED)[number], Fields[string]> = {
    text: `Person ${i}`,
    number: 20 + (i % 50),
    date: `2024-0${1 + (i % 9)}-1${i % 10}`,
    datetime: `2024-05-0${1 + (i % 9)}T1${i % 10}:30:00.000Z`,
    boolean: i % 2 === 0,
  };
  const out: Fields = { [f.email]: `person${i}@example.com` };
  for (const t of TYPED) if (f.typed[t]) out[f.typed[t]!] = values[t];
  return out;
}

const byId = (records: SourceRecord[]) => new Map(records.map((r) => [r.id, r]));

export interface SuiteOptions {
  /** The connector implements `cursorAfterWrites` (optional in the contract). */
  cursorAfterWrites?: boolean;
}

export function runConformanceSuite(name: string, makeHarness: MakeHarness, options: SuiteOptions = {}): void {
  describe(`${name} connector conformance`, () => {
    let app: ConformanceApp;
    beforeEach(async () => { app = await makeHarness(); });
    afterEach(async () => {
      await app.connector.close();
      await app.dispose();
    });

    const contact = (i: number) => sampleContact(app, i);
    const create = (ref: string, fields: Fields, associations?: Record<string, string[]>): WriteOp =>
      ({ kind: 'create', ref, fields, ...(associations ? { associations } : {}) });

    it('describes contacts and companies with typed fields and capabilities', async () => {
      const specs = await app.connector.describe();
      const contacts = specs.find((s) => s.name === 'contacts');
      expect(contacts).toBeDefined();
      expect(specs.find((s) => s.name === 'companies')).toBeDefined();
      expect(contacts!.capabilities).toMatchObject({ create: true, update: true });
      expect(typeof contacts!.capabilities.changeCursor).toBe('boolean');
      const fields = new Map(contacts!.fields.map((f) => [f.name, f]));
      expect(fields.get(app.fields.email)?.type).toBe('text');
      for (const t of TYPED) if (app.fields.typed[t]) expect(fields.get(app.fields.typed[t]!)?.type, t).toBe(t);
      for (const f of contacts!.fields) expect(f.label.length, f.name).toBeGreaterThan(0);
      expect(contacts!.associations).toContainEqual({ name: app.companyAssociation, object: 'companies', single: true });
    });

    it('lists every record in pages with canonical values', async () => {
      const count = app.pageSize * 2 + 3;
      const ids = await app.seed('contacts', Array.from({ length: count }, (_, i) => ({ fields: contact(i) })));
      const listing = await readAll(app, 'contacts', null);
      expect(listing.batches.length).toBeGreaterThan(1);
      expect(listing.records.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(listing.cursor).not.toBeNull();
      const records = byId(listing.records);
      ids.forEach((id, i) => expect(records.get(id)!.fields).toEqual(contact(i)));
    });

    it('creates records and reads back exactly what was written', async () => {
      const ops = [0, 1, 2].map((i) => create(`c${i}`, contact(i)));
      const results = await app.connector.write('contacts', ops);
      expect(results.every((r) => r.ok)).toBe(true);
      const ids = ops.map((op) => results.find((r) => r.ref === op.ref)!).map((r) => (r.ok ? r.id : ''));
      expect(new Set(ids).size).toBe(3);
      const records = byId((await readAll(app, 'contacts', null)).records);
      ids.forEach((id, i) => expect(records.get(id)?.fields).toEqual(contact(i)));
    });

    it('an update changes only the given fields, and null clears one', async () => {
      const [id] = await app.seed('contacts', [{ fields: contact(1) }]);
      const text = app.fields.typed.text ?? app.fields.email;
      const number = app.fields.typed.number;
      const change: Fields = { [text]: 'Changed' };
      if (number) change[number] = null;
      const [result] = await app.connector.write('contacts', [{ kind: 'update', ref: 'u', id: id!, fields: change }]);
      expect(result).toEqual({ ref: 'u', ok: true, id });
      const [record] = await app.connector.get('contacts', [id!], { fields: fieldNames(app, 'contacts') });
      expect(record!.fields).toEqual({ ...contact(1), ...change });
    });

    it('with conditionalUpdate, an update applies only while the record holds `expect`; a record changed since is left alone and answered changed', async () => {
      const specs = await app.connector.describe();
      if (!specs.find((s) => s.name === 'contacts')!.capabilities.conditionalUpdate) return; // HubSpot: no conditional update (docs)
      const [kept, moved] = await app.seed('contacts', [{ fields: contact(1) }, { fields: contact(2) }]);
      const text = app.fields.typed.text ?? app.fields.email;
      const read = byId((await readAll(app, 'contacts', null)).records);
      // A person changes `moved` after the engine read it.
      await app.edit('contacts', moved!, { [app.fields.email]: 'person@example.com' });
      const results = await app.connector.write('contacts', [
        { kind: 'update', ref: 'k', id: kept!, fields: { [text]: 'Ours' }, expect: read.get(kept!)!.fields },
        { kind: 'update', ref: 'm', id: moved!, fields: { [text]: 'Ours' }, expect: read.get(moved!)!.fields },
      ]);
      expect(results.find((r) => r.ref === 'k')).toEqual({ ref: 'k', ok: true, id: kept });
      expect(results.find((r) => r.ref === 'm')).toMatchObject({ ref: 'm', ok: false, changed: true });
      const now = byId(await app.connector.get('contacts', [kept!, moved!], { fields: fieldNames(app, 'contacts') }));
      expect(now.get(kept!)!.fields[text]).toBe('Ours');
      expect(now.get(moved!)!.fields).toEqual({ ...contact(2), [app.fields.email]: 'person@example.com' });
    });

    it('a refused op fails alone with a reason while the rest of the batch is applied', async () => {
      const [id] = await app.seed('contacts', [{ fields: contact(1) }]);
      const number = app.fields.typed.number ?? app.fields.typed.date ?? app.fields.typed.boolean;
      const ops: WriteOp[] = [
        create('good', contact(2)),
        create('bad', { ...contact(3), ...(number ? { [number]: 'not a valid value' } : {}) }),
        { kind: 'update', ref: 'upd', id: id!, fields: { [app.fields.email]: 'new@example.com' } },
        { kind: 'update', ref: 'gone', id: '987654321', fields: { [app.fields.email]: 'x@example.com' } },
      ];
      const results = new Map((await app.connector.write('contacts', ops)).map((r) => [r.ref, r]));
      expect(results.size).toBe(4);
      expect(results.get('good')!.ok).toBe(true);
      expect(results.get('upd')!.ok).toBe(true);
      if (number) expect(results.get('bad')).toMatchObject({ ok: false, reason: expect.any(String) });
      expect(results.get('gone')).toMatchObject({ ok: false, reason: expect.stringMatching(/not found/i) });
      const emails = (await readAll(app, 'contacts', null)).records.map((r) => r.fields[app.fields.email]);
      expect(emails).toContain('person2@example.com');
      expect(emails).toContain('new@example.com');
      if (number) expect(emails).not.toContain('person3@example.com');
    });

    it('reads nothing from the cursor of an unchanged app', async () => {
      await app.seed('contacts', [{ fields: contact(1) }, { fields: contact(2) }]);
      const first = await readAll(app, 'contacts', null);
      const again = await readAll(app, 'contacts', first.cursor);
      expect(again.records).toEqual([]);
    });

    it('reads the records changed since the cursor (only those, when the app has a change cursor)', async () => {
      const ids = await app.seed('contacts', [1, 2, 3, 4].map((i) => ({ fields: contact(i) })));
      const changeCursor = (await app.connector.describe()).find((s) => s.name === 'contacts')!.capabilities.changeCursor;
      const first = await readAll(app, 'contacts', null);
      await app.edit('contacts', ids[1]!, { [app.fields.email]: 'edited@example.com' });
      await app.connector.write('contacts', [{ kind: 'update', ref: 'u', id: ids[2]!, fields: { [app.fields.email]: 'written@example.com' } }]);
      const next = await readAll(app, 'contacts', first.cursor);
      const seen = byId(next.records);
      expect(seen.get(ids[1]!)?.fields[app.fields.email]).toBe('edited@example.com');
      expect(seen.get(ids[2]!)?.fields[app.fields.email]).toBe('written@example.com');
      if (changeCursor) expect([...seen.keys()].sort()).toEqual([ids[1], ids[2]].sort());
      expect((await readAll(app, 'contacts', next.cursor)).records).toEqual([]);
    });

    it('sees a record changed right after a read, from the cursor of that read', async () => {
      const ids = await app.seed('contacts', [1, 2, 3].map((i) => ({ fields: contact(i) })));
      const first = await readAll(app, 'contacts', null);
      // Same second (often same millisecond) as the records just read, and a lower id than the last one.
      await app.edit('contacts', ids[0]!, { [app.fields.email]: 'quick@example.com' });
      const next = await readAll(app, 'contacts', first.cursor);
      expect(byId(next.records).get(ids[0]!)?.fields[app.fields.email]).toBe('quick@example.com');
      await app.edit('contacts', ids[0]!, { [app.fields.email]: 'quicker@example.com' });
      const third = await readAll(app, 'contacts', next.cursor);
      expect(byId(third.records).get(ids[0]!)?.fields[app.fields.email]).toBe('quicker@example.com');
    });

    // Registered for connectors that say they have it, so a connector without it has no skipped tests.
    if (options.cursorAfterWrites) describe('cursorAfterWrites', () => {
      const after = (since: string | null) => app.connector.cursorAfterWrites!('contacts', since);
      it('is implemented', () => expect(typeof app.connector.cursorAfterWrites).toBe('function'));

      it('passes over the connector\'s own writes since the read', async () => {
        const ids = await app.seed('contacts', [1, 2, 3].map((i) => ({ fields: contact(i) })));
        const first = await readAll(app, 'contacts', null);
        const results = await app.connector.write('contacts', [
          { kind: 'update', ref: 'u', id: ids[1]!, fields: { [app.fields.email]: 'ours@example.com' } },
          create('c', contact(9)),
        ]);
        expect(results.every((r) => r.ok)).toBe(true);
        const cursor = await after(first.cursor);
        expect((await readAll(app, 'contacts', cursor)).records).toEqual([]);
        // Changed by someone else afterwards: read again, the record written included.
        await app.edit('contacts', ids[1]!, { [app.fields.email]: 'theirs@example.com' });
        const next = await readAll(app, 'contacts', cursor);
        expect(byId(next.records).get(ids[1]!)?.fields[app.fields.email]).toBe('theirs@example.com');
      });

      it('still yields a change another program made between the read and the writes', async () => {
        const ids = await app.seed('contacts', [1, 2, 3].map((i) => ({ fields: contact(i) })));
        const first = await readAll(app, 'contacts', null);
        await app.edit('contacts', ids[0]!, { [app.fields.email]: 'meanwhile@example.com' });
        await app.connector.write('contacts', [{ kind: 'update', ref: 'u', id: ids[2]!, fields: { [app.fields.email]: 'ours@example.com' } }]);
        const next = await readAll(app, 'contacts', await after(first.cursor));
        expect(byId(next.records).get(ids[0]!)?.fields[app.fields.email]).toBe('meanwhile@example.com');
      });

      it('still yields a change another program made after the writes', async () => {
        const ids = await app.seed('contacts', [1, 2, 3].map((i) => ({ fields: contact(i) })));
        const first = await readAll(app, 'contacts', null);
        await app.connector.write('contacts', [{ kind: 'update', ref: 'u', id: ids[2]!, fields: { [app.fields.email]: 'ours@example.com' } }]);
        await app.edit('contacts', ids[0]!, { [app.fields.email]: 'later@example.com' });
        const next = await readAll(app, 'contacts', await after(first.cursor));
        expect(byId(next.records).get(ids[0]!)?.fields[app.fields.email]).toBe('later@example.com');
      });

      it('answers the cursor it was given when nothing was written', async () => {
        await app.seed('contacts', [1, 2].map((i) => ({ fields: contact(i) })));
        const first = await readAll(app, 'contacts', null);
        expect(await after(first.cursor)).toBe(first.cursor);
      });
    });

    it('missing() reports deleted ids and not live ones; get() leaves them out', async () => {
      const ids = await app.seed('contacts', [1, 2, 3].map((i) => ({ fields: contact(i) })));
      await app.remove('contacts', ids[1]!);
      expect(await app.connector.missing('contacts', ids)).toEqual([ids[1]]);
      expect(await app.connector.missing('contacts', [])).toEqual([]);
      const got = await app.connector.get('contacts', ids, { fields: fieldNames(app, 'contacts') });
      expect(got.map((r) => r.id).sort()).toEqual([ids[0], ids[2]].sort());
    });

    it('associations round-trip through create, update and read', async () => {
      const assoc = app.companyAssociation;
      const [seededCompany] = await app.seed('companies', [{ fields: { [app.fields.companyName]: 'Seeded Co' } }]);
      const [seededContact] = await app.seed('contacts', [{ fields: contact(1), associations: { [assoc]: [seededCompany!] } }]);
      const made = await app.connector.write('companies', [create('co', { [app.fields.companyName]: 'Acme' })]);
      const companyId = made[0]!.ok ? made[0]!.id : '';
      const [c] = await app.connector.write('contacts', [create('p', contact(2), { [assoc]: [companyId] })]);
      const contactId = c!.ok ? c!.id : '';
      let records = byId((await readAll(app, 'contacts', null)).records);
      expect(records.get(seededContact!)?.associations?.[assoc]).toEqual([seededCompany]);
      expect(records.get(contactId)?.associations?.[assoc]).toEqual([companyId]);
      await app.connector.write('contacts', [{ kind: 'update', ref: 'u', id: contactId, fields: {}, associations: { [assoc]: [seededCompany!] } }]);
      records = byId((await readAll(app, 'contacts', null)).records);
      expect(records.get(contactId)?.associations?.[assoc]).toEqual([seededCompany]);
      expect(records.get(contactId)?.fields).toEqual(contact(2));
      const companies = (await readAll(app, 'companies', null)).records.map((r) => r.fields[app.fields.companyName]);
      expect(companies.sort()).toEqual(['Acme', 'Seeded Co']);
    });
  });
}
