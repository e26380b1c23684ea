/**
 * The dynamics connector's own promises, against the emulator over HTTP:
 * no duplicate after a lost answer, deletions from $deletedEntity, a full
 * re-listing after an expired delta token, waits on 429 Retry-After,
 * picklists as select fields, and no secret in any error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamicsConnector, type DynamicsConnector } from '../../connectors/dynamics/index.js';
import { startDynamicsEmulator, type DynamicsEmulator, type DynamicsEmulatorOptions } from '../../fixtures/dynamics-emulator/server.js';
import type { ReadBatch } from '../../src/connector.js';

let emu: DynamicsEmulator | undefined;
let conn: DynamicsConnector | undefined;
afterEach(async () => { await conn?.close(); await emu?.close(); conn = undefined; emu = undefined; });

async function setup(opts: DynamicsEmulatorOptions = {}, secret?: string): Promise<{ emu: DynamicsEmulator; conn: DynamicsConnector }> {
  emu = await startDynamicsEmulator({ port: 0, ...opts });
  conn = createDynamicsConnector(
    { name: 'org1', app: 'dynamics', baseDir: '.', url: emu.url, tenant: emu.tenant, client_id: emu.clientId, client_secret: secret ?? emu.clientSecret, token_url: emu.tokenUrl },
    {}, { pageSize: 3, retry: { baseDelayMs: 5, maxDelayMs: 20 } },
  );
  return { emu, conn };
}

async function readAll(c: DynamicsConnector, since: string | null, fields = ['emailaddress1']): Promise<{ batches: ReadBatch[]; cursor: string | null }> {
  const batches: ReadBatch[] = [];
  for await (const b of c.read('contacts', { since, fields, associations: ['company'] })) batches.push(b);
  return { batches, cursor: batches.reduce<string | null>((x, b) => b.cursor ?? x, since) };
}

describe('dynamics connector', () => {
  it('creates each record once when the answer to the $batch is lost and the batch is sent again', async () => {
    const { emu, conn } = await setup();
    emu.faults.add({ lose: true, path: '$batch' });
    const results = await conn.write('contacts', [0, 1, 2].map((i) => ({ kind: 'create' as const, ref: `c${i}`, fields: { emailaddress1: `lost${i}@example.com` } })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emu.stats().lost).toBe(1);
    expect(emu.store.list('contacts').map((r) => r.attrs.emailaddress1).sort()).toEqual(['lost0@example.com', 'lost1@example.com', 'lost2@example.com']);
    const ids = results.map((r) => (r.ok ? r.id : ''));
    expect(emu.store.list('contacts').map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it('answers per record in one $batch with continue-on-error, and does not re-create a row deleted meanwhile', async () => {
    const { emu, conn } = await setup();
    const gone = emu.store.create('contacts', { emailaddress1: 'gone@example.com' });
    emu.store.remove('contacts', gone);
    emu.stats();
    const results = new Map((await conn.write('contacts', [
      { kind: 'create', ref: 'bad', fields: { emailaddress1: 'x'.repeat(101) } },
      { kind: 'create', ref: 'good', fields: { emailaddress1: 'good@example.com' } },
      { kind: 'update', ref: 'gone', id: gone, fields: { emailaddress1: 'back@example.com' } },
    ])).map((r) => [r.ref, r]));
    expect(results.get('bad')).toMatchObject({ ok: false, reason: expect.stringMatching(/maximum allowed length/) });
    expect(results.get('good')).toMatchObject({ ok: true });
    expect(results.get('gone')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not found/) });
    expect(emu.store.list('contacts').map((r) => r.attrs.emailaddress1)).toEqual(['good@example.com']);
    expect(emu.stats().batches).toBe(1);
  });

  it('reports deletions from $deletedEntity, and relists everything after an expired delta token', async () => {
    const { emu, conn } = await setup();
    const ids = [1, 2, 3, 4].map((i) => emu.store.create('contacts', { emailaddress1: `p${i}@example.com` }));
    const first = await readAll(conn, null);
    expect(first.batches.length).toBe(2);
    expect(first.cursor).toMatch(/^delta:/);
    emu.store.remove('contacts', ids[1]!);
    emu.store.update('contacts', ids[2]!, { emailaddress1: 'changed@example.com' });
    const next = await readAll(conn, first.cursor);
    expect(next.batches.flatMap((b) => b.records.map((r) => r.id))).toEqual([ids[2]]);
    expect(next.batches.flatMap((b) => b.deleted ?? [])).toEqual([ids[1]]);
    expect(next.batches.some((b) => b.relisted)).toBe(false);
    emu.expireDeltaTokens();
    const again = await readAll(conn, next.cursor);
    expect(again.batches.every((b) => b.relisted)).toBe(true);
    expect(again.batches.flatMap((b) => b.records.map((r) => r.id)).sort()).toEqual([ids[0], ids[2], ids[3]].sort());
    expect(again.cursor).toMatch(/^delta:/);
    expect((await readAll(conn, again.cursor)).batches.flatMap((b) => b.records)).toEqual([]);
  });

  it('waits out 429 Retry-After and finishes the read', async () => {
    const { emu, conn } = await setup({ limits: { requests: 8, windowMs: 1000 } });
    for (let i = 0; i < 10; i++) emu.store.create('contacts', { emailaddress1: `r${i}@example.com` });
    const listing = await readAll(conn, null);
    expect(listing.batches.flatMap((b) => b.records)).toHaveLength(10);
    expect(emu.stats().throttled).toBeGreaterThan(0);
    expect(conn.stats().rateLimited).toBe(emu.stats().throttled);
  });

  it('describes picklists as select fields with their integer values and labels, and writes them back as integers', async () => {
    const { emu, conn } = await setup({ seed: { optionSets: { accounts: { customertypecode: [[8, 'Prospect'], [5, 'Partner']] } } } });
    const companies = (await conn.describe()).find((s) => s.name === 'companies')!;
    const type = companies.fields.find((f) => f.name === 'customertypecode')!;
    expect(type).toMatchObject({ type: 'select', options: [{ value: '8', label: 'Prospect' }, { value: '5', label: 'Partner' }] });
    expect(companies.fields.find((f) => f.name === 'name')).toMatchObject({ role: 'name', type: 'text' });
    const contacts = (await conn.describe()).find((s) => s.name === 'contacts')!;
    expect(contacts.fields.find((f) => f.name === 'birthdate')?.type).toBe('date');
    expect(contacts.fields.find((f) => f.name === 'emailaddress1')).toMatchObject({ role: 'email' });
    expect(contacts.fields.find((f) => f.name === 'emailaddress1')?.unique).toBeUndefined();
    const [made] = await conn.write('companies', [{ kind: 'create', ref: 'a', fields: { name: 'Contoso', customertypecode: '5' } }]);
    expect(emu.store.list('accounts')[0]!.attrs.customertypecode).toBe(5);
    const [read] = await conn.get('companies', [made!.ok ? made!.id : ''], { fields: ['customertypecode'] });
    expect(read!.fields.customertypecode).toBe('5');
  });

  it('deals are opportunities: amount, close date and the account as company round-trip', async () => {
    const { emu, conn } = await setup();
    const account = emu.store.create('accounts', { name: 'Contoso' });
    const deals = (await conn.describe()).find((s) => s.name === 'deals')!;
    expect(deals.fields.find((f) => f.name === 'estimatedvalue')).toMatchObject({ type: 'number', role: 'amount' });
    expect(deals.associations).toEqual([{ name: 'company', object: 'companies', single: true }]);
    const [made] = await conn.write('deals', [{ kind: 'create', ref: 'd', fields: { name: 'Big deal', estimatedvalue: 5000, estimatedclosedate: '2025-03-31' }, associations: { company: [account] } }]);
    expect(made).toMatchObject({ ok: true });
    const [deal] = await conn.get('deals', [made!.ok ? made!.id : ''], { fields: ['name', 'estimatedvalue', 'estimatedclosedate'], associations: ['company'] });
    expect(deal).toMatchObject({ fields: { name: 'Big deal', estimatedvalue: 5000, estimatedclosedate: '2025-03-31' }, associations: { company: [account] } });
  });

  it('keeps the client secret out of errors', async () => {
    const secret = 'super-secret-value-1234';
    await setup({}, secret);
    const err = await conn!.check().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/Microsoft Entra ID refused/);
    expect(JSON.stringify({ message: err!.message, stack: err!.stack })).not.toContain(secret);
  });
});
