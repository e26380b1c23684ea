/**
 * HubSpot end to end (issue 5): the built `datasync` CLI keeping the HubSpot
 * emulator (on a free loopback port, with a rate limit) and a SQLite CRM in
 * step. Each scenario checks both apps afterwards, not only the CLI's report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeedRecord } from '../../fixtures/hubspot-emulator/server.js';
import {
  bulkInsert, CRM_SCHEMA, crmIndex, datasync, emailCounts, failures, noisyNeighbour, nowIso, runJson, startHub, writeHubConfig, type Hub,
} from './hubspot-support.js';
import { OLD, requireBuild, total, useWorkspaces, Workspace, type SqliteFile } from './support.js';

const workspace = useWorkspaces();

/** The big scenarios run the CLI on thousands of records, paced by the emulator's limits. */
const SLOW = 180_000;

/** Before every seeded change time (HubSpot and SQLite alike). */
const SEEDED = OLD;

// The two-way data set: 5,000 contacts and 300 companies, a third / half of
// them on both sides (matched by domain / by email in another case), the rest
// on one side only; most contacts have a primary company.
const COMPANIES = 300;
const CONTACTS = 5_000;
type Where = 'both' | 'hubspot' | 'crm';
const companyWhere = (i: number): Where => (['both', 'hubspot', 'crm'] as const)[i % 3]!;
const contactWhere = (i: number): Where => (['both', 'both', 'hubspot', 'crm'] as const)[i % 4]!;
const companyOf = (i: number): number | null => (i % 10 === 9 ? null : (i * 7) % COMPANIES);
const domainOf = (c: number) => `company${c}.example.com`;
/** A domain as matching reads it (SPEC §4): lower-case, no scheme, `www.`, path or port. */
const bareDomain = (d: string | null | undefined) => (d ? d.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/^www\./, '').replace(/[/:].*$/, '') : null);
const emailOf = (i: number) => `person${i}@example.com`;
const on = (where: Where, side: 'hubspot' | 'crm') => where === 'both' || where === side;
/** The company a contact ends with on both sides: its company, if the two were together on some side at the start. */
const expectedCompany = (i: number): number | null => {
  const c = companyOf(i);
  if (c === null) return null;
  const together = (side: 'hubspot' | 'crm') => on(contactWhere(i), side) && on(companyWhere(c), side);
  return together('hubspot') || together('crm') ? c : null;
};
const hubCompanyId = (c: number) => String(1_000 + c);
const crmOrgId = (c: number) => c + 1;

function hubSeed() {
  const companies: SeedRecord[] = [];
  for (let c = 0; c < COMPANIES; c++) {
    if (!on(companyWhere(c), 'hubspot')) continue;
    companies.push({ id: hubCompanyId(c), properties: { name: `Company ${c} AB`, domain: domainOf(c), hs_lastmodifieddate: SEEDED, createdate: SEEDED } });
  }
  const contacts: SeedRecord[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    if (!on(contactWhere(i), 'hubspot')) continue;
    const c = companyOf(i);
    contacts.push({
      properties: { email: emailOf(i), firstname: `First${i}`, lastname: `Last${i}`, lastmodifieddate: SEEDED, createdate: SEEDED },
      ...(c !== null && on(companyWhere(c), 'hubspot') ? { associations: { companies: [hubCompanyId(c)] } } : {}),
    });
  }
  return { companies, contacts };
}

function crmSeed(crm: SqliteFile): void {
  const orgs: Record<string, unknown>[] = [];
  for (let c = 0; c < COMPANIES; c++) {
    const where = companyWhere(c);
    if (!on(where, 'crm')) continue;
    // The same company written the way people write it: scheme, www, capitals.
    orgs.push({ id: crmOrgId(c), name: `Company ${c} AB`, domain: where === 'both' ? `https://www.Company${c}.example.com/` : domainOf(c), city: `City ${c % 17}`, modified_at: SEEDED });
  }
  bulkInsert(crm, 'orgs', orgs);
  const people: Record<string, unknown>[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    const where = contactWhere(i);
    if (!on(where, 'crm')) continue;
    const c = companyOf(i);
    people.push({
      email: where === 'both' ? emailOf(i).toUpperCase().replace('@EXAMPLE.COM', '@Example.com') : emailOf(i),
      first_name: `First${i}`, last_name: `Last${i}`, job_title: `Title ${i % 13}`,
      company_id: c !== null && on(companyWhere(c), 'crm') ? crmOrgId(c) : null,
      modified_at: SEEDED,
    });
  }
  bulkInsert(crm, 'people', people);
}

describe('a two-way contacts + companies sync between HubSpot and a SQLite CRM, under a rate limit shared with another app', () => {
  let hub: Hub;
  let w: Workspace;
  let crm: SqliteFile;

  beforeAll(async () => {
    requireBuild();
    hub = await startHub({ rateLimit: { max: 40, windowMs: 2_000 }, seed: hubSeed() });
    w = Workspace.create();
    crm = w.sqlite('crm.db', CRM_SCHEMA);
    crmSeed(crm);
    writeHubConfig(w, hub.url);
  });
  afterAll(async () => {
    await hub?.close();
    w?.dispose();
  });

  it('the initial sync puts all 5,000 contacts and 300 companies on both sides exactly once, each contact with its primary company', async () => {
    const started = Date.now();
    const neighbour = noisyNeighbour(hub, 4);
    const { exitCode, json, stderr } = await runJson(w);
    const other = await neighbour.stop();
    const stats = hub.emu.stats();
    const seconds = (Date.now() - started) / 1000;

    expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(0);
    expect(total(json, 'failed')).toBe(0);
    expect(json.syncs.map((s) => [s.name, s.outcome])).toEqual([['companies', 'ok'], ['contacts', 'ok']]);

    const hubContacts = hub.list('contacts');
    const hubCompanies = hub.list('companies');
    const local = crmIndex(crm);
    // Every record on both sides exactly once.
    for (const counts of [emailCounts(hubContacts.map((r) => r.properties.email)), emailCounts(local.people.map((p) => p.email))]) {
      expect(counts.size).toBe(CONTACTS);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    }
    expect(hubContacts).toHaveLength(CONTACTS);
    expect(local.people).toHaveLength(CONTACTS);
    expect(new Set(hubCompanies.map((r) => r.properties.domain?.toLowerCase())).size).toBe(COMPANIES);
    expect(hubCompanies).toHaveLength(COMPANIES);
    expect(local.orgs).toHaveLength(COMPANIES);

    // Each contact's primary company is the same company on both sides.
    const hubDomainById = new Map(hubCompanies.map((r) => [r.id, r.properties.domain!.toLowerCase()]));
    const primary = await hub.primaryCompanies();
    let linked = 0;
    for (const r of hubContacts) {
      const i = Number(/^person(\d+)@/.exec(r.properties.email!)![1]);
      const c = expectedCompany(i);
      const person = local.personByEmail.get(emailOf(i))!;
      const hubDomain = primary.get(r.id) ? hubDomainById.get(primary.get(r.id)!) : null;
      const crmDomain = person.company_id === null ? null : bareDomain(local.orgById.get(person.company_id)?.domain);
      expect({ email: emailOf(i), hubDomain, crmDomain }).toEqual({
        email: emailOf(i), hubDomain: c === null ? null : domainOf(c), crmDomain: c === null ? null : domainOf(c),
      });
      if (c !== null) linked++;
    }
    expect(linked).toBeGreaterThan(3_500);
    // Values merged: the CRM's job title fills HubSpot's empty one.
    expect(local.personByEmail.get(emailOf(0))).toMatchObject({ job_title: 'Title 0' });
    expect(hubContacts.find((r) => r.properties.email === emailOf(0))!.properties.jobtitle).toBe('Title 0');

    // API calls per record of the initial sync (the neighbour's calls left out).
    const records = CONTACTS + COMPANIES;
    const calls = stats.total - other.sent;
    const syncLimited = stats.rateLimited - other.limited;
    console.log(`initial sync of ${CONTACTS} contacts + ${COMPANIES} companies: ${calls} HubSpot API calls `
      + `(${(calls / records).toFixed(3)} per record), ${syncLimited} of them answered 429 (absorbed), ${seconds.toFixed(1)} s; `
      + `another app on the portal sent ${other.sent} calls meanwhile, ${other.limited} answered 429\n`
      + `  by endpoint: ${JSON.stringify(stats.requests)}`);
  }, SLOW);

  it('edits on both sides flow on the next run', async () => {
    const hubContacts = hub.list('contacts');
    const hubId = (i: number) => hubContacts.find((r) => r.properties.email === emailOf(i))!.id;
    const hubEdited = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];
    const crmEdited = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    for (const i of hubEdited) hub.emu.store.update('contacts', hubId(i), { jobtitle: `Hub title ${i}` });
    for (const i of crmEdited) {
      crm.run('UPDATE people SET job_title = ?, modified_at = ? WHERE lower(email) = ?', `CRM title ${i}`, nowIso(), emailOf(i));
    }
    // A company renamed in HubSpot, a contact moved to another company in the CRM.
    const renamed = hub.list('companies').find((r) => r.properties.domain === domainOf(5))!;
    hub.emu.store.update('companies', renamed.id, { name: 'Company Five Renamed AB' });
    const movedTo = crmIndex(crm).orgs.find((o) => bareDomain(o.domain) === domainOf(42))!.id;
    crm.run('UPDATE people SET company_id = ?, modified_at = ? WHERE lower(email) = ?', movedTo, nowIso(), emailOf(21));

    const before = hub.emu.stats();
    const started = Date.now();
    const { exitCode, json, stderr } = await runJson(w);
    const after = hub.emu.stats();
    console.log(`next run: ${after.total - before.total} calls, ${after.rateLimited - before.rateLimited} answered 429, ${((Date.now() - started) / 1000).toFixed(1)} s`);

    expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(0);
    expect(total(json, 'created')).toBe(0);
    const local = crmIndex(crm);
    const hubNow = new Map(hub.list('contacts').map((r) => [r.properties.email!, r]));
    for (const i of hubEdited) expect(local.personByEmail.get(emailOf(i))!.job_title).toBe(`Hub title ${i}`);
    for (const i of crmEdited) expect(hubNow.get(emailOf(i))!.properties.jobtitle).toBe(`CRM title ${i}`);
    expect(local.orgs.find((o) => bareDomain(o.domain) === domainOf(5))!.name).toBe('Company Five Renamed AB');
    const primary = await hub.primaryCompanies();
    const hub42 = hub.list('companies').find((r) => r.properties.domain === domainOf(42))!;
    expect(primary.get(hubNow.get(emailOf(21))!.id)).toBe(hub42.id);
    expect(hub.list('contacts')).toHaveLength(CONTACTS);
    expect(crm.count('people')).toBe(CONTACTS);
  }, SLOW);
});

describe('incremental reads', () => {
  it('more than 10,000 HubSpot contacts changed since the cursor all reach the CRM', async () => {
    const w = workspace();
    const seeded = 10_200;
    const hub = await startHub({
      seed: { contacts: Array.from({ length: seeded }, (_, i) => ({ properties: { email: emailOf(i), firstname: `First${i}`, jobtitle: 'Seeded', lastmodifieddate: SEEDED, createdate: SEEDED } })) },
    });
    try {
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      const first = await runJson(w);
      expect(first.exitCode, failures(first.json)).toBe(0);
      expect(crm.count('people')).toBe(seeded);

      // After the cursor: every contact edited and 300 new ones, 10,500 changes.
      for (const r of hub.list('contacts')) hub.emu.store.update('contacts', r.id, { jobtitle: `Changed ${r.properties.email}` });
      for (let i = seeded; i < seeded + 300; i++) hub.emu.store.create('contacts', { email: emailOf(i), firstname: `First${i}`, jobtitle: `Changed ${emailOf(i)}` });
      const before = hub.emu.stats();
      const started = Date.now();

      const { exitCode, json, stderr } = await runJson(w);
      const seconds = (Date.now() - started) / 1000;

      expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(0);
      const people = crmIndex(crm).people;
      expect(people).toHaveLength(seeded + 300);
      const stale = people.filter((p) => p.job_title !== `Changed ${String(p.email).toLowerCase()}`);
      expect(stale.map((p) => p.email).slice(0, 5)).toEqual([]);
      expect(emailCounts(people.map((p) => p.email)).size).toBe(seeded + 300);
      const after = hub.emu.stats();
      const search = 'POST /crm/v3/objects/{objectType}/search';
      console.log(`10,500 changes since the cursor: ${after.total - before.total} calls, ${(after.requests[search] ?? 0) - (before.requests[search] ?? 0)} of them searches, `
        + `${after.rateLimited - before.rateLimited} answered 429, ${seconds.toFixed(1)} s`);
    } finally {
      await hub.close();
    }
  }, SLOW);
});

describe('writes HubSpot answers per record', () => {
  it('a new CRM contact whose email HubSpot already holds (in another case) is linked to that contact, not duplicated', async () => {
    const w = workspace();
    const hub = await startHub({ seed: { contacts: [0, 1, 2].map((i) => ({ properties: { email: emailOf(i), firstname: `First${i}`, lastmodifieddate: SEEDED, createdate: SEEDED } })) } });
    try {
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      bulkInsert(crm, 'people', [3, 4].map((i) => ({ email: emailOf(i), first_name: `First${i}`, modified_at: SEEDED })));
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      expect((await runJson(w)).exitCode).toBe(0);

      // A contact HubSpot has, but that the next incremental read cannot see:
      // its last change is older than the cursor (e.g. imported with history).
      const hidden = hub.emu.store.create('contacts', { email: 'late@example.com', firstname: 'Late', lastmodifieddate: '2020-01-01T00:00:00.000Z', createdate: '2020-01-01T00:00:00.000Z' });
      crm.run('INSERT INTO people (email, first_name, last_name, job_title, modified_at) VALUES (?, ?, ?, ?, ?)', 'LATE@Example.com', 'Late', 'Comer', 'Engineer', nowIso());
      const before = hub.emu.stats();

      const { exitCode, json, stderr } = await runJson(w);

      expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(0);
      expect(total(json, 'failed')).toBe(0);
      // The engine did try to create it, and HubSpot answered with its duplicate-email conflict.
      const after = hub.emu.stats();
      const creates = 'POST /crm/v3/objects/{objectType}/batch/create';
      expect((after.requests[creates] ?? 0) - (before.requests[creates] ?? 0)).toBeGreaterThan(0);
      const refused = (s: typeof after) => (s.byStatus['409'] ?? 0) + (s.byStatus['207'] ?? 0);
      expect(refused(after) - refused(before)).toBeGreaterThan(0);
      const late = hub.list('contacts').filter((r) => r.properties.email?.toLowerCase() === 'late@example.com');
      expect(late.map((r) => r.id)).toEqual([hidden.id]);
      // Linked and merged: the CRM's values filled the HubSpot contact.
      expect(late[0]!.properties).toMatchObject({ firstname: 'Late', lastname: 'Comer', jobtitle: 'Engineer' });
      expect(crm.count('people')).toBe(6);
      expect(hub.list('contacts')).toHaveLength(6);

      // And it stays linked: an edit in HubSpot reaches that CRM row.
      hub.emu.store.update('contacts', hidden.id, { jobtitle: 'Staff Engineer' });
      const next = await runJson(w);
      expect(next.exitCode, failures(next.json)).toBe(0);
      expect(total(next.json, 'created')).toBe(0);
      expect(crm.all('SELECT job_title FROM people WHERE lower(email) = ?', 'late@example.com')).toEqual([{ job_title: 'Staff Engineer' }]);
    } finally {
      await hub.close();
    }
  }, SLOW);

  it('a batch HubSpot answers with a 207 fails only its bad records, with HubSpot\'s message in health', async () => {
    const w = workspace();
    const hub = await startHub();
    try {
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      const statuses = ['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED'];
      const bad = new Set([17, 58, 133]);
      bulkInsert(crm, 'people', Array.from({ length: 150 }, (_, i) => ({
        id: i + 1, email: emailOf(i), first_name: `First${i}`, lead_status: bad.has(i) ? 'MAYBE_LATER' : statuses[i % statuses.length], modified_at: SEEDED,
      })));
      writeHubConfig(w, hub.url, {
        objects: ['contacts'],
        // The CRM column declares HubSpot's lead statuses, so the two-way mapping is allowed;
        // three rows hold a value outside them, which only HubSpot refuses.
        people: { fields: { lead_status: { type: 'select', options: ['NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', 'UNQUALIFIED', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'BAD_TIMING'] } } },
        contacts: { mappings: { fields: [{ hubspot: 'hs_lead_status', crm: 'lead_status' }] } },
      });

      const { exitCode, json, stderr } = await runJson(w);

      expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(1);
      expect(json.syncs[0]).toMatchObject({ outcome: 'failed-records' });
      expect(total(json, 'failed')).toBe(3);
      expect(total(json, 'created')).toBe(147);
      const hubEmails = hub.list('contacts').map((r) => r.properties.email);
      expect(hubEmails).toHaveLength(147);
      for (const i of bad) expect(hubEmails).not.toContain(emailOf(i));
      expect(hub.list('contacts').find((r) => r.properties.email === emailOf(1))!.properties.hs_lead_status).toBe('OPEN');
      expect(hub.emu.stats().byStatus['207']).toBeGreaterThan(0);

      const health = await datasync(w, ['health', '--failed', '--json']);
      expect(health.exitCode).toBe(1);
      const report = JSON.parse(health.stdout) as { syncs: Array<{ counts: { failed: number }; failed?: Array<{ reason: string; records: Array<{ connection: string; id: string; detail: string }> }> }> };
      const sync = report.syncs[0]!;
      expect(sync.counts.failed).toBe(3);
      const records = (sync.failed ?? []).flatMap((g) => g.records);
      expect(records.map((r) => `${r.connection}:${r.id}`).sort()).toEqual([...bad].map((i) => `crm:${i + 1}`).sort());
      for (const r of records) expect(r.detail).toContain('MAYBE_LATER was not one of the allowed options');
    } finally {
      await hub.close();
    }
  });
});

describe('errors the sync absorbs and errors it stops on', () => {
  it('a token HubSpot refuses stops the run with exit 3 and a message that does not show the token', async () => {
    const w = workspace();
    const hub = await startHub({ seed: { contacts: [{ properties: { email: emailOf(0) } }] } });
    try {
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      bulkInsert(crm, 'people', [{ email: emailOf(1), modified_at: SEEDED }]);
      writeHubConfig(w, hub.url);
      const wrong = 'pat-na1-11111111-2222-3333-4444-revoked12345';

      const human = await datasync(w, ['run'], wrong);
      const machine = await datasync(w, ['run', '--json'], wrong);

      for (const r of [human, machine]) {
        expect(r.exitCode, r.stderr).toBe(3);
        expect(`${r.stdout}\n${r.stderr}`).not.toContain(wrong);
        expect(`${r.stdout}\n${r.stderr}`).not.toContain(wrong.slice(0, 20));
      }
      expect(human.stderr).toMatch(/HubSpot/);
      expect(human.stderr).toMatch(/token|authenticat|credential/i);
      expect(crm.count('people')).toBe(1);
      expect(hub.list('contacts')).toHaveLength(1);
    } finally {
      await hub.close();
    }
  });

  it('injected 5xx answers, 429s and dropped connections are retried: no failed records, no duplicates', async () => {
    const w = workspace();
    const n = 600;
    const companies = 60;
    const hubContacts: SeedRecord[] = [];
    const hubCompanies: SeedRecord[] = [];
    for (let c = 0; c < companies; c++) if (c % 2 === 0) hubCompanies.push({ id: hubCompanyId(c), properties: { name: `Company ${c} AB`, domain: domainOf(c), hs_lastmodifieddate: SEEDED } });
    for (let i = 0; i < n; i++) {
      if (i % 3 === 2) continue; // CRM only
      const c = i % companies;
      hubContacts.push({ properties: { email: emailOf(i), firstname: `First${i}`, lastmodifieddate: SEEDED }, ...(c % 2 === 0 ? { associations: { companies: [hubCompanyId(c)] } } : {}) });
    }
    const hub = await startHub({ seed: { contacts: hubContacts, companies: hubCompanies } });
    try {
      const crm = w.sqlite('crm.db', CRM_SCHEMA);
      bulkInsert(crm, 'orgs', Array.from({ length: companies }, (_, c) => c).filter((c) => c % 2 === 1 || c % 4 === 0)
        .map((c) => ({ id: crmOrgId(c), name: `Company ${c} AB`, domain: domainOf(c), modified_at: SEEDED })));
      bulkInsert(crm, 'people', Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => {
        const c = i % companies;
        return { email: emailOf(i).toUpperCase(), last_name: `Last${i}`, company_id: c % 2 === 1 || c % 4 === 0 ? crmOrgId(c) : null, modified_at: SEEDED };
      }));
      writeHubConfig(w, hub.url);
      await hub.faults([
        { drop: true, share: 0.1 },
        { status: 503, share: 0.1 },
        { status: 502, count: 2 },
        { status: 500, count: 2, path: '/batch/create' },
        { status: 429, count: 2, retryAfter: 1 },
      ]);

      const { exitCode, json, stderr } = await runJson(w);

      const stats = hub.emu.stats();
      expect(exitCode, `${failures(json)}\n${stderr.slice(-2000)}`).toBe(0);
      expect(total(json, 'failed')).toBe(0);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.byStatus['503']).toBeGreaterThan(0);
      expect(stats.byStatus['500']).toBe(2);
      expect(stats.byStatus['502']).toBe(2);
      expect(stats.rateLimited).toBeGreaterThanOrEqual(2);

      const hubNow = hub.list('contacts');
      const local = crmIndex(crm);
      for (const counts of [emailCounts(hubNow.map((r) => r.properties.email)), emailCounts(local.people.map((p) => p.email))]) {
        expect(counts.size).toBe(n);
        expect([...counts.values()].filter((x) => x !== 1)).toEqual([]);
      }
      expect(hubNow).toHaveLength(n);
      expect(local.people).toHaveLength(n);
      expect(hub.list('companies')).toHaveLength(companies);
      expect(local.orgs).toHaveLength(companies);
      // Every contact's primary company is the same on both sides.
      const primary = await hub.primaryCompanies();
      const hubDomain = new Map(hub.list('companies').map((r) => [r.id, r.properties.domain]));
      for (const r of hubNow) {
        const person = local.personByEmail.get(r.properties.email!.toLowerCase())!;
        const crmDomain = person.company_id === null ? null : local.orgById.get(person.company_id)!.domain;
        expect([r.properties.email, hubDomain.get(primary.get(r.id) ?? '') ?? null]).toEqual([r.properties.email, crmDomain]);
      }

      // A second pass with the faults still on changes nothing and creates nothing.
      const again = await runJson(w);
      expect(again.exitCode, failures(again.json)).toBe(0);
      expect(total(again.json, 'created') + total(again.json, 'updated') + total(again.json, 'failed')).toBe(0);
      expect(hub.list('contacts')).toHaveLength(n);
      expect(crm.count('people')).toBe(n);
    } finally {
      await hub.close();
    }
  }, SLOW);
});
