/**
 * The Dataverse emulator on the wire: each documented behaviour the README
 * lists, through real HTTP on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../fixtures/dynamics-emulator/main.js';
import { startDynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';
import { batch, getToken, partStatuses, wire, type Wire } from './helpers.js';

let w: Wire | undefined;
afterEach(async () => { await w?.close(); w = undefined; });

const ID = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

describe('OAuth client credentials (Microsoft Entra ID stand-in)', () => {
  it('answers a bearer token for the right client and scope, and refuses the rest', async () => {
    const emu = await startDynamicsEmulator({ port: 0 });
    try {
      const ok = await getToken(emu);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599, access_token: expect.any(String) });
      expect((await getToken(emu, { client_secret: 'wrong' })).status).toBe(401);
      expect(await (await getToken(emu, { client_secret: 'wrong' })).json()).toMatchObject({ error: 'invalid_client' });
      expect(await (await getToken(emu, { scope: 'https://other.crm.dynamics.com/.default' })).json()).toMatchObject({ error: 'invalid_scope' });
      const anon = await fetch(`${emu.url}/api/data/v9.2/contacts`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    } finally { await emu.close(); }
  });

  it('a token stops working when it expires', async () => {
    w = await wire({ tokenTtlSeconds: 60 });
    expect((await w.api('GET', 'WhoAmI')).status).toBe(200);
    w.emu.clock.advance(61_000);
    expect((await w.api('GET', 'WhoAmI')).status).toBe(401);
  });
});

describe('create, update, upsert and ETags', () => {
  it('POST answers 204 with OData-EntityId, or 201 with the row on return=representation', async () => {
    w = await wire();
    const a = await w.api('POST', 'contacts', { body: { firstname: 'Ann', emailaddress1: 'ann@example.com' } });
    expect(a.status).toBe(204);
    expect(a.headers.get('odata-entityid')).toMatch(/\/api\/data\/v9\.2\/contacts\([0-9a-f-]{36}\)$/);
    const b = await w.api('POST', 'contacts', { body: { firstname: 'Bob' }, headers: { Prefer: 'return=representation' } });
    expect(b.status).toBe(201);
    expect(b.json).toMatchObject({ firstname: 'Bob', fullname: 'Bob', '@odata.etag': expect.stringMatching(/^W\/"\d+"$/) });
  });

  it('PATCH is an upsert; If-Match: * refuses to create (404), If-None-Match: * refuses to update (412), an old ETag gets 412', async () => {
    w = await wire();
    const missing = await w.api('PATCH', `contacts(${ID(1)})`, { body: { firstname: 'X' }, headers: { 'If-Match': '*' } });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toMatch(/Does Not Exist/);
    expect((await w.api('PATCH', `contacts(${ID(1)})`, { body: { firstname: 'X' } })).status).toBe(204);
    expect(w.emu.store.get('contacts', ID(1))?.attrs.firstname).toBe('X');
    const again = await w.api('PATCH', `contacts(${ID(1)})`, { body: { firstname: 'Y' }, headers: { 'If-None-Match': '*' } });
    expect(again.status).toBe(412);
    expect(again.json.error.message).toBe('A record with matching key values already exists.');
    const etag = (await w.api('GET', `contacts(${ID(1)})`)).json['@odata.etag'] as string;
    expect((await w.api('PATCH', `contacts(${ID(1)})`, { body: { firstname: 'Z' }, headers: { 'If-Match': etag } })).status).toBe(204);
    const stale = await w.api('PATCH', `contacts(${ID(1)})`, { body: { firstname: 'W' }, headers: { 'If-Match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.json.error.message).toMatch(/RowVersion/);
    const current = (await w.api('GET', `contacts(${ID(1)})`)).json['@odata.etag'] as string;
    expect((await w.api('GET', `contacts(${ID(1)})`, { headers: { 'If-None-Match': current } })).status).toBe(304);
  });

  it('upserts by alternate key, and refuses bad values with Dataverse error bodies', async () => {
    w = await wire();
    expect((await w.api('PATCH', "accounts(accountnumber='A-1')", { body: { name: 'Contoso' } })).status).toBe(204);
    expect((await w.api('PATCH', "accounts(accountnumber='A-1')", { body: { name: 'Contoso Ltd' } })).status).toBe(204);
    expect(w.emu.store.list('accounts').map((r) => r.attrs.name)).toEqual(['Contoso Ltd']);
    const bad = await w.api('POST', 'contacts', { body: { numberofchildren: 'many' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toMatch(/^0x[0-9a-f]{8}$/);
    const long = await w.api('POST', 'contacts', { body: { firstname: 'x'.repeat(51) } });
    expect(long.json.error).toMatchObject({ code: '0x80044331', message: expect.stringMatching(/maximum allowed length of '50'/) });
    expect((await w.api('POST', 'contacts', { body: { nosuchcolumn: 1 } })).json.error.message).toMatch(/Could not find a property named 'nosuchcolumn'/);
    expect((await w.api('POST', 'accounts', { body: { customertypecode: 99 } })).status).toBe(400);
  });

  it('lookups read as _name_value (with the table on request), bind with @odata.bind, and clear when the account is deleted', async () => {
    w = await wire();
    const account = w.emu.store.create('accounts', { name: 'Fabrikam' });
    await w.api('PATCH', `contacts(${ID(2)})`, { body: { lastname: 'Lee', 'parentcustomerid_account@odata.bind': `/accounts(${account})` } });
    const row = await w.api('GET', `contacts(${ID(2)})?$select=lastname,_parentcustomerid_value`, { headers: { Prefer: 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"' } });
    expect(row.json).toMatchObject({ _parentcustomerid_value: account, '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account' });
    await w.api('DELETE', `accounts(${account})`);
    expect((await w.api('GET', `contacts(${ID(2)})?$select=_parentcustomerid_value`)).json._parentcustomerid_value).toBeNull();
  });
});

describe('paging and change tracking', () => {
  it('pages with odata.maxpagesize and an opaque nextLink; $skip is refused', async () => {
    w = await wire();
    for (let i = 0; i < 5; i++) w.emu.store.create('contacts', { emailaddress1: `p${i}@example.com` });
    const seen: string[] = [];
    let path: string | undefined = 'contacts?$select=emailaddress1';
    let pages = 0;
    while (path) {
      const page = await w.api('GET', path, { headers: { Prefer: 'odata.maxpagesize=2' } });
      expect(page.headers.get('preference-applied')).toBe('odata.maxpagesize=2');
      pages++;
      seen.push(...(page.json.value as Array<{ emailaddress1: string }>).map((r) => r.emailaddress1));
      const next = page.json['@odata.nextLink'] as string | undefined;
      if (next) expect(next).toMatch(/\$skiptoken=/);
      path = next?.slice(`${w.emu.url}/api/data/v9.2/`.length);
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4'].map((p) => `${p}@example.com`));
    expect((await w.api('GET', 'contacts?$skip=2')).status).toBe(400);
  });

  it('track-changes gives a delta link; the link answers changed rows, then $deletedEntity, then a fresh link', async () => {
    w = await wire();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => w!.emu.store.create('contacts', { firstname: n }));
    const first = await w.api('GET', 'contacts?$select=firstname', { headers: { Prefer: 'odata.track-changes' } });
    expect(first.headers.get('preference-applied')).toBe('odata.track-changes');
    expect(first.json.value).toHaveLength(3);
    const deltaLink = first.json['@odata.deltaLink'] as string;
    expect(deltaLink).toMatch(/\$deltatoken=\d+!/);
    w.emu.store.update('contacts', b!, { firstname: 'B' });
    w.emu.store.remove('contacts', c!);
    const d = w.emu.store.create('contacts', { firstname: 'd' });
    const delta = await w.api('GET', deltaLink.slice(`${w.emu.url}/api/data/v9.2/`.length));
    expect(delta.json['@odata.context']).toMatch(/\/\$delta$/);
    const values = delta.json.value as Array<Record<string, unknown>>;
    expect(values.slice(0, 2).map((v) => v.contactid)).toEqual([b, d]);
    expect(values[2]).toMatchObject({ id: c, reason: 'deleted', '@odata.context': expect.stringMatching(/contacts\/\$deletedEntity$/) });
    expect(values.map((v) => v.contactid)).not.toContain(a);
    const next = await w.api('GET', (delta.json['@odata.deltaLink'] as string).slice(`${w.emu.url}/api/data/v9.2/`.length));
    expect(next.json.value).toEqual([]);
  });

  it('refuses $filter, $orderby, $expand and $top with track-changes, and an expired token with the documented message', async () => {
    w = await wire();
    for (const q of ['$filter=firstname eq \'a\'', '$top=1', '$orderby=firstname', '$expand=x']) {
      const res = await w.api('GET', `contacts?${q}`, { headers: { Prefer: 'odata.track-changes' } });
      expect(res.status, q).toBe(400);
      expect(res.json.error.message).toMatch(/query parameter isn't supported when Change Tracking is enabled/);
    }
    const first = await w.api('GET', 'contacts', { headers: { Prefer: 'odata.track-changes' } });
    w.emu.expireDeltaTokens();
    const expired = await w.api('GET', (first.json['@odata.deltaLink'] as string).slice(`${w.emu.url}/api/data/v9.2/`.length));
    expect(expired.status).toBe(400);
    expect(expired.json.error).toEqual({ code: '0x80044352', message: 'Version stamp associated with the client has expired. Please perform a full sync.' });
  });

  it('a delta token also expires with age (7 days by default)', async () => {
    w = await wire({ tokenTtlSeconds: 30 * 86_400 });
    const first = await w.api('GET', 'contacts', { headers: { Prefer: 'odata.track-changes' } });
    const link = (first.json['@odata.deltaLink'] as string).slice(`${w.emu.url}/api/data/v9.2/`.length);
    w.emu.clock.advance(6 * 86_400_000);
    expect((await w.api('GET', link)).status).toBe(200);
    w.emu.clock.advance(2 * 86_400_000);
    expect((await w.api('GET', link)).json.error.code).toBe('0x80044352');
  });
});

describe('$batch', () => {
  it('without continue-on-error stops at the first failure; with it answers every part (200)', async () => {
    w = await wire();
    const parts: Parameters<typeof batch>[0] = [
      ['POST', 'contacts', { firstname: 'x'.repeat(60) }],
      ['POST', 'contacts', { firstname: 'ok1' }],
      ['POST', 'contacts', { firstname: 'ok2' }],
    ];
    const body = batch(parts);
    const stop = await w.api('POST', '$batch', { raw: body.raw, headers: { 'content-type': body.contentType } });
    expect(stop.status).toBe(400);
    expect(partStatuses(stop.text)).toEqual([400]);
    expect(w.emu.store.list('contacts')).toHaveLength(0);
    const go = await w.api('POST', '$batch', { raw: body.raw, headers: { 'content-type': body.contentType, Prefer: 'odata.continue-on-error' } });
    expect(go.status).toBe(200);
    expect(partStatuses(go.text)).toEqual([400, 204, 204]);
    expect(go.text).toMatch(/"code":"0x80044331"/);
    expect(w.emu.store.list('contacts').map((r) => r.attrs.firstname).sort()).toEqual(['ok1', 'ok2']);
  });

  it('a change set is atomic, and $1 refers to the row its Content-ID 1 created', async () => {
    w = await wire();
    const ok = batch([[['POST', 'accounts', { name: 'Parent' }], ['POST', 'contacts', { lastname: 'Child', 'parentcustomerid_account@odata.bind': '$1' }]]]);
    const res = await w.api('POST', '$batch', { raw: ok.raw, headers: { 'content-type': ok.contentType } });
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/changesetresponse_/);
    const [account] = w.emu.store.list('accounts');
    expect((w.emu.store.list('contacts')[0]!.attrs.parentcustomerid as { id: string }).id).toBe(account!.id);
    const bad = batch([[['POST', 'accounts', { name: 'Rolled back' }], ['POST', 'contacts', { numberofchildren: 'x' }]]]);
    const failed = await w.api('POST', '$batch', { raw: bad.raw, headers: { 'content-type': bad.contentType, Prefer: 'odata.continue-on-error' } });
    expect(partStatuses(failed.text)).toEqual([400]);
    expect(w.emu.store.list('accounts').map((r) => r.attrs.name)).toEqual(['Parent']);
  });

  it('refuses more than 1,000 operations', async () => {
    w = await wire();
    const big = batch(Array.from({ length: 1001 }, () => ['POST', 'contacts', { firstname: 'n' }] as [string, string, unknown]));
    const res = await w.api('POST', '$batch', { raw: big.raw, headers: { 'content-type': big.contentType } });
    expect(res.status).toBe(400);
    expect(w.emu.store.list('contacts')).toHaveLength(0);
  });
});

describe('service protection limits and faults', () => {
  it('the request after the limit gets 429 with Retry-After in seconds and the documented code', async () => {
    w = await wire({ limits: { requests: 3, windowMs: 300_000 } });
    for (let i = 0; i < 3; i++) expect((await w.api('GET', 'WhoAmI')).status).toBe(200);
    const over = await w.api('GET', 'WhoAmI');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(200);
    expect(over.json.error).toEqual({ code: '0x80072322', message: 'Number of requests exceeded the limit of 3 over time window of 300 seconds.' });
    w.emu.clock.advance(300_000);
    expect((await w.api('GET', 'WhoAmI')).status).toBe(200);
  });

  it('too many concurrent requests get 429 at once; combined execution time has its own limit', async () => {
    w = await wire({ limits: { concurrent: 1, executionMs: 10, costMs: 4 } });
    w.emu.faults.add({ delayMs: 150, path: 'WhoAmI' });
    const [slow, fast] = await Promise.all([w.api('GET', 'WhoAmI'), new Promise((r) => setTimeout(r, 30)).then(() => w!.api('GET', 'contacts'))]);
    expect(slow.status).toBe(200);
    expect(fast.status).toBe(429);
    expect(fast.json.error.code).toBe('0x80072326');
    await w.api('GET', 'contacts');
    await w.api('GET', 'contacts');
    const tired = await w.api('GET', 'contacts');
    expect(tired.status).toBe(429);
    expect(tired.json.error.code).toBe('0x80072321');
  });

  it('a lost answer: the write is made, the connection closes without a reply', async () => {
    w = await wire();
    w.emu.faults.add({ lose: true, method: 'POST' });
    await expect(w.api('POST', 'contacts', { body: { firstname: 'Ghost' } })).rejects.toThrow();
    expect(w.emu.store.list('contacts').map((r) => r.attrs.firstname)).toEqual(['Ghost']);
    expect(w.emu.stats().lost).toBe(1);
  });
});

describe('metadata', () => {
  it('describes columns and picklist options with localized labels', async () => {
    w = await wire({ seed: { optionSets: { accounts: { customertypecode: [[8, 'Prospect'], [5, 'Partner']] } } } });
    const cols = await w.api('GET', "EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName,AttributeType");
    expect(cols.json.value).toContainEqual(expect.objectContaining({ LogicalName: 'emailaddress1', AttributeType: 'String' }));
    const picklists = await w.api('GET', "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)");
    const type = (picklists.json.value as Array<{ LogicalName: string; OptionSet: { Options: Array<{ Value: number; Label: { UserLocalizedLabel: { Label: string } } }> } }>)
      .find((p) => p.LogicalName === 'customertypecode')!;
    expect(type.OptionSet.Options.map((o) => [o.Value, o.Label.UserLocalizedLabel.Label])).toEqual([[8, 'Prospect'], [5, 'Partner']]);
    const one = await w.api('GET', "EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='preferredcontactmethodcode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet");
    expect(one.json.OptionSet.Options).toHaveLength(5);
  });
});

describe('command line', () => {
  it('parses the flags', () => {
    const opts = parseCliArgs(['--port', '0', '--requests', '600/300s', '--concurrent', '4', '--client-id', 'c', '--client-secret', 's', '--tenant', 't', '--seed', 's.json'], () => '{"contacts":[]}');
    expect(opts).toMatchObject({ port: 0, tenant: 't', clientId: 'c', clientSecret: 's', limits: { requests: 600, windowMs: 300_000, concurrent: 4 }, seed: { contacts: [] } });
    expect(() => parseCliArgs(['--requests', 'lots'])).toThrow(/6000\/300s/);
    expect(() => parseCliArgs(['salesforce'])).toThrow(/dynamics/);
  });
});
