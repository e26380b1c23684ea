/**
 * The seed's scenario through the BUILT binary (issue 17): two Dynamics
 * organisations and one HubSpot portal, contacts and companies two-way, with
 * a conflict, duplicates in Dynamics, a lookup change, a deletion in each
 * app, a 429 storm and an expired delta token; then `health` shows each
 * sync's records.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';
import { startHub, type Hub } from './hubspot-support.js';
import { dsync, dynamicsConnection, parentOf, rowsBy, runJson, SECRETS, startOrg } from './dynamics-support.js';
import { REPO, requireBuild, useWorkspaces, type Workspace } from './support.js';

requireBuild();
const workspace = useWorkspaces();

let hub: Hub | undefined;
let orgs: DynamicsEmulator[] = [];
afterEach(async () => {
  await hub?.close();
  await Promise.all(orgs.map((o) => o.close()));
  hub = undefined;
  orgs = [];
});

const syncsFor = (org: string, extraCompanies: Record<string, unknown> = {}) => [
  { name: `${org}-companies`, object: 'companies', between: [org, 'hubspot'], direction: 'two-way', default_app: 'hubspot', ...extraCompanies },
  { name: `${org}-contacts`, object: 'contacts', between: [org, 'hubspot'], direction: 'two-way', default_app: 'hubspot', associations: true },
];

function writeConfig(w: Workspace, org1: DynamicsEmulator, org2: DynamicsEmulator, hubUrl: string): void {
  w.writeConfig({
    connections: {
      org1: dynamicsConnection(org1, 'org1'),
      org2: dynamicsConnection(org2, 'org2'),
      // deletion_check 0: HubSpot's deletion check runs every pass (default hourly), so this test's archived contact is seen at once.
      hubspot: { app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hubUrl, deletion_check: 0 },
    },
    syncs: [
      ...syncsFor('org1'),
      // org2 calls Computer Software "Software": the label differs, so a values: map pairs it.
      ...syncsFor('org2', { mappings: { fields: [{ org2: 'industrycode', hubspot: 'industry', values: { '4': 'COMPUTER_SOFTWARE' } }] } }),
    ],
  });
}

const emails = (emu: DynamicsEmulator) => emu.store.list('contacts').map((r) => String(r.attrs.emailaddress1)).sort();

describe('two Dynamics organisations and one HubSpot portal (issue 17)', () => {
  it('syncs both ways through conflicts, duplicates, a lookup change, deletions, a 429 storm and an expired delta token', async () => {
    const w = workspace();
    hub = await startHub();
    const org1 = await startOrg('org1');
    const org2 = await startOrg('org2');
    orgs = [org1, org2];

    // HubSpot already knows Contoso and Alice (with another job title: a conflict at the first match).
    const hubContoso = hub.emu.store.create('companies', { name: 'Contoso', domain: 'contoso.com', industry: 'ACCOUNTING' }).id;
    hub.emu.store.create('contacts', { email: 'alice@contoso.com', firstname: 'Alice', jobtitle: 'Controller' }, { companies: [hubContoso] });
    // org1: Contoso (the same company by domain) and Initech; Alice, Bob, and Dave entered twice (Dataverse allows it).
    const contoso1 = org1.store.create('accounts', { name: 'Contoso', websiteurl: 'https://www.contoso.com', industrycode: 100_000_000 });
    const initech1 = org1.store.create('accounts', { name: 'Initech', websiteurl: 'https://initech.com' });
    org1.store.create('contacts', { emailaddress1: 'alice@contoso.com', firstname: 'Alice', lastname: 'Ames', jobtitle: 'CFO', 'parentcustomerid_account@odata.bind': `/accounts(${contoso1})` });
    const bob1 = org1.store.create('contacts', { emailaddress1: 'bob@initech.com', firstname: 'Bob', 'parentcustomerid_account@odata.bind': `/accounts(${initech1})` });
    org1.store.create('contacts', { emailaddress1: 'dave@example.com', firstname: 'Dave' });
    org1.store.create('contacts', { emailaddress1: 'DAVE@example.com', firstname: 'David' });
    // org2: Globex (Software) with Carol and Erin.
    const globex2 = org2.store.create('accounts', { name: 'Globex', websiteurl: 'globex.com', industrycode: 4 });
    for (const [email, first] of [['carol@globex.com', 'Carol'], ['erin@globex.com', 'Erin']]) {
      org2.store.create('contacts', { emailaddress1: email, firstname: first, 'parentcustomerid_account@odata.bind': `/accounts(${globex2})` });
    }
    writeConfig(w, org1, org2, hub.url);

    const first = await runJson(w);
    const second = await runJson(w);
    for (const r of [first, second]) {
      expect(r.stdout + r.stderr).not.toContain(SECRETS.org1);
      expect(r.stdout + r.stderr).not.toContain(SECRETS.org2);
      expect(r.json.syncs.every((s) => s.outcome !== 'error'), JSON.stringify(r.json.syncs.map((s) => [s.name, s.outcome, s.error]))).toBe(true);
    }
    // The duplicates are reported, never paired or copied.
    const dup = first.json.syncs.find((s) => s.name === 'org1-contacts')!;
    expect(dup.sides.find((x) => x.connection === 'org1')!.failed).toBe(2);

    // HubSpot: one record per person and per company; Dave is not there.
    const hubEmails = hub.list('contacts').map((c) => c.properties.email).sort();
    expect(hubEmails).toEqual(['alice@contoso.com', 'bob@initech.com', 'carol@globex.com', 'erin@globex.com']);
    expect(hub.list('companies').map((c) => c.properties.name).sort()).toEqual(['Contoso', 'Globex', 'Initech']);
    // Each organisation gets the others' people through the portal (org1 keeps its two Daves).
    expect(emails(org1)).toEqual(['DAVE@example.com', 'alice@contoso.com', 'bob@initech.com', 'carol@globex.com', 'dave@example.com', 'erin@globex.com']);
    expect(emails(org2)).toEqual(['alice@contoso.com', 'bob@initech.com', 'carol@globex.com', 'erin@globex.com']);
    // The conflict at the first match: HubSpot (the default app) wins Alice's job title.
    expect(rowsBy(org1, 'contacts', 'emailaddress1').get('alice@contoso.com')![0]!.attrs.jobtitle).toBe('Controller');
    // Picklists: org1's "Accounting" (100000000) is HubSpot's ACCOUNTING by label; org2's "Software" (4) is COMPUTER_SOFTWARE by values:.
    const hubCompanies = new Map(hub.list('companies').map((c) => [c.properties.name, c]));
    expect(hubCompanies.get('Globex')!.properties.industry).toBe('COMPUTER_SOFTWARE');
    expect(rowsBy(org1, 'accounts', 'name').get('globex')![0]!.attrs.industrycode).toBe(100_000_003);
    expect(rowsBy(org2, 'accounts', 'name').get('contoso')![0]!.attrs.industrycode).toBe(1);
    // Lookups: parentcustomerid is the contact's company, in every app.
    const primary = await hub.primaryCompanies();
    const hubIdOf = (email: string) => hub!.list('contacts').find((c) => c.properties.email === email)!.id;
    expect(primary.get(hubIdOf('bob@initech.com'))).toBe(hubCompanies.get('Initech')!.id);
    const org2Accounts = rowsBy(org2, 'accounts', 'name');
    expect(parentOf(rowsBy(org2, 'contacts', 'emailaddress1').get('bob@initech.com')![0])).toBe(org2Accounts.get('initech')![0]!.id);

    // Then: a conflict, a lookup change, a deletion in each app, a 429 storm and an expired delta token.
    const alice1 = rowsBy(org1, 'contacts', 'emailaddress1').get('alice@contoso.com')![0]!.id;
    org1.store.update('contacts', alice1, { jobtitle: 'VP Finance' });
    hub.emu.store.update('contacts', hubIdOf('alice@contoso.com'), { jobtitle: 'Head of Finance' });
    org1.store.update('contacts', bob1, { 'parentcustomerid_account@odata.bind': `/accounts(${contoso1})` });
    org2.store.remove('contacts', rowsBy(org2, 'contacts', 'emailaddress1').get('erin@globex.com')![0]!.id);
    hub.emu.store.archive('contacts', hubIdOf('carol@globex.com'));
    for (const org of orgs) org.faults.add({ status: 429, retryAfter: 1, share: 0.5, count: 6 });
    await hub.faults({ status: 429, retryAfter: 1, share: 0.3, count: 4 });
    org2.expireDeltaTokens();

    const third = await runJson(w);
    expect(third.json.syncs.every((s) => s.outcome !== 'error'), JSON.stringify(third.json.syncs.map((s) => [s.name, s.outcome, s.error]))).toBe(true);
    expect(org1.stats().throttled + org2.stats().throttled).toBeGreaterThanOrEqual(6);
    // The conflict: HubSpot wins in the contact's two-way sync with org1.
    expect(rowsBy(org1, 'contacts', 'emailaddress1').get('alice@contoso.com')![0]!.attrs.jobtitle).toBe('Head of Finance');
    expect(hub.list('contacts').find((c) => c.properties.email === 'alice@contoso.com')!.properties.jobtitle).toBe('Head of Finance');
    // The lookup change in org1 reaches HubSpot (and from there org2, on the next pass at the latest).
    expect((await hub.primaryCompanies()).get(hubIdOf('bob@initech.com'))).toBe(hubContoso);
    // Deletions are not propagated, and nothing deleted comes back.
    expect(hub.list('contacts').map((c) => c.properties.email)).toContain('erin@globex.com');
    expect(rowsBy(org2, 'contacts', 'emailaddress1').has('erin@globex.com')).toBe(false);
    expect(hub.list('contacts').map((c) => c.properties.email)).not.toContain('carol@globex.com');
    expect(emails(org1)).toContain('carol@globex.com');
    // The expired token re-indexed org2 safely: nothing created twice, nothing lost.
    const fourth = await runJson(w);
    expect(fourth.json.syncs.every((s) => s.outcome !== 'error')).toBe(true);
    expect(parentOf(rowsBy(org2, 'contacts', 'emailaddress1').get('bob@initech.com')![0])).toBe(org2Accounts.get('contoso')![0]!.id);
    expect(emails(org2)).toEqual(['alice@contoso.com', 'bob@initech.com', 'carol@globex.com']);
    expect(hub.list('contacts').map((c) => c.properties.email).sort()).toEqual(['alice@contoso.com', 'bob@initech.com', 'erin@globex.com']);
    expect(hub.list('companies')).toHaveLength(3);
    expect(org2.store.list('accounts')).toHaveLength(3);
    for (const s of fourth.json.syncs) for (const side of s.sides) expect(side.created, `${s.name} ${side.connection}`).toBe(0);

    // health: each sync with its records in sync.
    const health = await dsync(w, ['health', '--json']);
    const report = JSON.parse(health.stdout) as { syncs: Array<{ name: string; counts: { inSync: number; failed: number } }> };
    const counts = new Map(report.syncs.map((s) => [s.name, s.counts]));
    expect([...counts.keys()].sort()).toEqual(['org1-companies', 'org1-contacts', 'org2-companies', 'org2-contacts']);
    expect(counts.get('org1-companies')!.inSync).toBe(3);
    expect(counts.get('org2-companies')!.inSync).toBe(3);
    expect(counts.get('org1-contacts')).toMatchObject({ inSync: 3, failed: 2 });
    expect(counts.get('org2-contacts')!.inSync).toBe(2);
    expect(health.stdout + health.stderr).not.toContain(SECRETS.org1);
  }, 120_000);
});

describe('sync.dynamics.example.yaml', () => {
  it('runs (dry run) against two organisation emulators and the HubSpot emulator', async () => {
    const w = workspace();
    hub = await startHub();
    const org1 = await startOrg('org1');
    const org2 = await startOrg('org2');
    orgs = [org1, org2];
    const example = readFileSync(join(REPO, 'sync.dynamics.example.yaml'), 'utf8');
    w.writeText('sync.yaml', example.replace('state: example/.datasync/dynamics-state.db', 'state: .datasync/state.db'));
    const env: Record<string, string> = { HUBSPOT_BASE_URL: hub.url };
    for (const [name, emu] of [['ORG1', org1], ['ORG2', org2]] as const) {
      Object.assign(env, { [`${name}_URL`]: emu.url, [`${name}_TENANT`]: emu.tenant, [`${name}_CLIENT_ID`]: emu.clientId, [`${name}_TOKEN_URL`]: emu.tokenUrl });
    }
    org2.store.create('contacts', { emailaddress1: 'zoe@example.com', firstname: 'Zoe' });
    const r = await dsync(w, ['run', '--dry-run', '--json'], env);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { dryRun: boolean; syncs: Array<{ name: string; outcome: string; mappings: Array<{ a: string; b: string }> }> };
    expect(json.dryRun).toBe(true);
    expect(json.syncs.map((s) => s.name)).toEqual(['org1-companies', 'org2-companies', 'org1-contacts', 'org2-contacts']);
    expect(json.syncs.find((s) => s.name === 'org2-companies')!.mappings).toContainEqual(expect.objectContaining({ a: 'industrycode', b: 'industry' }));
    expect(hub.list('contacts')).toHaveLength(0);
    expect(r.stdout + r.stderr).not.toContain(SECRETS.org2);
  }, 60_000);
});
