/**
 * What a real HubSpot portal has (issue 19), end to end with the built CLI
 * against the emulator and a SQLite CRM:
 * - owners synced by email both ways, an unknown email failed with its reason;
 * - deals in two pipelines (custom stages with numeric ids) mapped by label,
 *   with a stage outside its pipeline refused by HubSpot as a failed record;
 * - a custom object `projects` two-way with a SQLite table, with its company;
 * - tickets (status by label, company) two-way and products one-way.
 * Each scenario checks both apps afterwards, not only the CLI's report.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorOptions, SchemaSeed, SeedData } from '../../fixtures/hubspot-emulator/server.js';
import { datasync, failures, runJson, startHub, TOKEN, type Hub } from './hubspot-support.js';
import { OLD, requireBuild, side, total, Workspace, type SqliteFile } from './support.js';

const hubs: Hub[] = [];
const dirs: Workspace[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  for (const w of dirs.splice(0)) w.dispose();
});

const ADA = { id: '41629779', email: 'ada.owner@example.com' };
const BO = { id: '41629780', email: 'bo.seller@example.com' };
const GONE = { id: '41629781', email: 'gone.user@example.com' };

const RENEWALS = {
  id: '7001', label: 'Renewals', stages: [
    { id: '9001', label: 'Renewal Due', probability: 0.3 },
    { id: '9002', label: 'Renewed', probability: 1 },
    { id: '9003', label: 'Churned', probability: 0 },
  ],
};
const SALES_STAGES = ['Appointment Scheduled', 'Qualified To Buy', 'Presentation Scheduled', 'Decision Maker Bought-In', 'Contract Sent', 'Closed Won', 'Closed Lost'];

const SCHEMA = `
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, owner_email TEXT, modified_at TEXT);
  CREATE TABLE deals (id INTEGER PRIMARY KEY, dealname TEXT, amount REAL, pipeline TEXT, stage TEXT, owner_email TEXT, modified_at TEXT);`;

interface Setup { hub: Hub; w: Workspace; crm: SqliteFile }

async function setup(objects: Array<'contacts' | 'deals'>, seed: SeedData, opts: EmulatorOptions = {}): Promise<Setup> {
  requireBuild();
  const hub = await startHub({ seed, pipelines: [RENEWALS], ...opts });
  hubs.push(hub);
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', SCHEMA);
  const crmObjects: Record<string, unknown> = {
    contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
    deals: {
      table: 'deals', id: 'id', updated_at: 'modified_at',
      // The CRM keeps stage and pipeline names, as people write them.
      fields: { pipeline: { type: 'select', options: ['Sales Pipeline', 'Renewals'] }, stage: { type: 'radio', options: [...SALES_STAGES, ...RENEWALS.stages.map((s) => s.label)] } },
    },
  };
  const owner = { fields: [{ hubspot: 'hubspot_owner_id', crm: 'owner_email' }] };
  const syncs = objects.map((object) => ({ name: object, object, between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot', mappings: owner }));
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url })}`,
    '  crm:',
    '    app: sqlite',
    '    path: ./crm.db',
    `    objects: ${JSON.stringify(Object.fromEntries(objects.map((o) => [o, crmObjects[o]])))}`,
    `syncs: ${JSON.stringify(syncs)}`,
    '',
  ].join('\n'));
  return { hub, w, crm };
}

const later = () => new Date(Date.now() + 1000).toISOString();

describe('owners by email', () => {
  it('HubSpot owner ids arrive as emails, emails go back as owner ids, and an email no owner has fails with its reason', async () => {
    const { hub, w, crm } = await setup(['contacts'], {
      contacts: [
        { properties: { email: 'one@example.com', firstname: 'One', hubspot_owner_id: ADA.id, lastmodifieddate: OLD, createdate: OLD } },
        // Owned by a user since deactivated: still read as their email.
        { properties: { email: 'two@example.com', firstname: 'Two', hubspot_owner_id: GONE.id, lastmodifieddate: OLD, createdate: OLD } },
      ],
    });
    crm.insert('people', [
      { email: 'three@example.com', first_name: 'Three', owner_email: 'Bo.Seller@Example.com', modified_at: OLD },
      { email: 'four@example.com', first_name: 'Four', owner_email: 'nobody@example.com', modified_at: OLD },
      { email: 'five@example.com', first_name: 'Five', owner_email: GONE.email, modified_at: OLD },
    ]);

    const r = await runJson(w);
    expect(r.exitCode, failures(r.json)).toBe(1);
    const crmRows = new Map(crm.all<{ email: string; owner_email: string | null }>('SELECT email, owner_email FROM people').map((p) => [p.email, p.owner_email]));
    expect(crmRows.get('one@example.com')).toBe(ADA.email);
    expect(crmRows.get('two@example.com')).toBe(GONE.email);
    const hubOwners = new Map(hub.list('contacts').map((c) => [c.properties.email, c.properties.hubspot_owner_id ?? null]));
    expect(hubOwners.get('three@example.com')).toBe(BO.id);
    // Never a wrong owner: neither the unknown email nor the deactivated user's made a contact.
    expect(hubOwners.has('four@example.com')).toBe(false);
    expect(hubOwners.has('five@example.com')).toBe(false);
    expect(side(r.json, 'contacts', 'crm').failed).toBe(2);
    const health = await datasync(w, ['health', '--failed']);
    expect(health.stdout).toContain('no HubSpot owner has the email "nobody@example.com"');
    expect(health.stdout).toContain('the HubSpot owner "gone.user@example.com" is deactivated');

    // A new owner in HubSpot flows to the CRM as an email; a new email in the CRM to HubSpot as an id.
    const one = hub.list('contacts').find((c) => c.properties.email === 'one@example.com')!;
    hub.emu.store.update('contacts', one.id, { hubspot_owner_id: BO.id });
    crm.exec(`UPDATE people SET owner_email = '${ADA.email}', modified_at = '${later()}' WHERE email = 'three@example.com'`);
    crm.exec(`UPDATE people SET owner_email = '${BO.email}', modified_at = '${later()}' WHERE email = 'four@example.com'`);
    const again = await runJson(w);
    expect(again.exitCode, failures(again.json)).toBe(1);
    expect(crm.all<{ owner_email: string }>(`SELECT owner_email FROM people WHERE email = 'one@example.com'`)[0]!.owner_email).toBe(BO.email);
    const now = new Map(hub.list('contacts').map((c) => [c.properties.email, c.properties.hubspot_owner_id ?? null]));
    expect(now.get('three@example.com')).toBe(ADA.id);
    expect(now.get('four@example.com')).toBe(BO.id);
    // The deactivated owner's contact is still failed (and still not in HubSpot); the fixed one is not.
    const still = await datasync(w, ['health', '--failed']);
    expect(still.stdout).toContain('is deactivated');
    expect(still.stdout).not.toContain('nobody@example.com');
    expect(now.has('five@example.com')).toBe(false);
  });
});

describe('deal pipelines and stages', () => {
  it('deals in two pipelines sync to SQLite and back by label; a stage outside its pipeline is a failed record with HubSpot\'s reason', async () => {
    const { hub, w, crm } = await setup(['deals'], {
      deals: [
        { properties: { dealname: 'D1', amount: '100', pipeline: 'default', dealstage: 'qualifiedtobuy', hubspot_owner_id: ADA.id, hs_lastmodifieddate: OLD, createdate: OLD } },
        { properties: { dealname: 'D2', amount: '200', pipeline: '7001', dealstage: '9001', hubspot_owner_id: BO.id, hs_lastmodifieddate: OLD, createdate: OLD } },
      ],
    });
    crm.insert('deals', [
      { dealname: 'D3', amount: 300, pipeline: 'Renewals', stage: 'Renewed', owner_email: BO.email, modified_at: OLD },
      { dealname: 'D4', amount: 400, pipeline: 'Sales Pipeline', stage: 'Closed Won', owner_email: ADA.email, modified_at: OLD },
      // "Closed Won" is a stage of the Sales Pipeline, not of Renewals.
      { dealname: 'D5', amount: 500, pipeline: 'Renewals', stage: 'Closed Won', owner_email: ADA.email, modified_at: OLD },
    ]);

    const r = await runJson(w);
    expect(r.exitCode, failures(r.json)).toBe(1);
    const rows = () => new Map(crm.all<{ dealname: string; pipeline: string; stage: string; owner_email: string }>('SELECT * FROM deals').map((d) => [d.dealname, d]));
    const deals = () => new Map(hub.emu.store.list('deals').map((d) => [d.properties.dealname, d.properties]));
    expect(rows().get('D1')).toMatchObject({ pipeline: 'Sales Pipeline', stage: 'Qualified To Buy', owner_email: ADA.email });
    expect(rows().get('D2')).toMatchObject({ pipeline: 'Renewals', stage: 'Renewal Due', owner_email: BO.email });
    expect(deals().get('D3')).toMatchObject({ pipeline: '7001', dealstage: '9002', hubspot_owner_id: BO.id });
    expect(deals().get('D4')).toMatchObject({ pipeline: 'default', dealstage: 'closedwon', hubspot_owner_id: ADA.id });
    expect(deals().has('D5')).toBe(false);
    expect(side(r.json, 'deals', 'crm').failed).toBe(1);
    const health = await datasync(w, ['health', '--failed']);
    expect(health.stdout).toMatch(/closedwon was not one of the allowed options for pipeline 7001/);

    // Moving a deal to the other pipeline writes pipeline and stage together; a move inside one is the stage alone.
    const d2 = hub.emu.store.list('deals').find((d) => d.properties.dealname === 'D2')!;
    hub.emu.store.update('deals', d2.id, { dealstage: '9002' });
    crm.exec(`UPDATE deals SET pipeline = 'Renewals', stage = 'Churned', modified_at = '${later()}' WHERE dealname = 'D1'`);
    const again = await runJson(w);
    expect(again.exitCode, failures(again.json)).toBe(1);
    expect(deals().get('D1')).toMatchObject({ pipeline: '7001', dealstage: '9003' });
    expect(rows().get('D2')).toMatchObject({ pipeline: 'Renewals', stage: 'Renewed' });

    // Fixed in the CRM, the failed deal goes through.
    crm.exec(`UPDATE deals SET pipeline = 'Sales Pipeline', modified_at = '${later()}' WHERE dealname = 'D5'`);
    const fixed = await runJson(w);
    expect(fixed.exitCode, failures(fixed.json)).toBe(0);
    expect(deals().get('D5')).toMatchObject({ pipeline: 'default', dealstage: 'closedwon' });
    expect(total(fixed.json, 'failed')).toBe(0);
  });
});

const PROJECTS: SchemaSeed = {
  name: 'projects', labels: { singular: 'Project', plural: 'Projects' }, primaryDisplayProperty: 'project_name', requiredProperties: ['project_name'],
  properties: [
    { name: 'project_name', label: 'Project name' },
    { name: 'budget', label: 'Budget', type: 'number', fieldType: 'number' },
  ],
  associatedObjects: ['companies'],
  records: [{ properties: { project_name: 'Bridge', budget: '1000', hs_lastmodifieddate: OLD, hs_createdate: OLD }, associations: { companies: ['5'] } }],
};

const PROJECT_SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT);
  CREATE TABLE projects (id INTEGER PRIMARY KEY, project_name TEXT, budget REAL, company_id INTEGER, modified_at TEXT);`;

/** HubSpot (companies 5 Acme, 6 Globex; the `projects` schema) and a CRM with the same two companies; `object` names the custom object in the sync. */
async function projectSetup(object: (typeId: string) => string): Promise<Setup & { typeId: string }> {
  requireBuild();
  const hub = await startHub({
    schemas: [PROJECTS],
    seed: { companies: [
      { id: '5', properties: { name: 'Acme', domain: 'acme.example', hs_lastmodifieddate: OLD, createdate: OLD } },
      { id: '6', properties: { name: 'Globex', domain: 'globex.example', hs_lastmodifieddate: OLD, createdate: OLD } },
    ] },
  });
  hubs.push(hub);
  const typeId = ((await (await fetch(`${hub.url}/crm-object-schemas/v3/schemas/p_projects`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { objectTypeId: string }).objectTypeId;
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', PROJECT_SCHEMA);
  crm.insert('orgs', [{ id: 1, name: 'Acme', domain: 'acme.example', modified_at: OLD }, { id: 2, name: 'Globex', domain: 'globex.example', modified_at: OLD }]);
  crm.insert('projects', [{ project_name: 'Tunnel', budget: 2500, company_id: 2, modified_at: OLD }]);
  const name = object(typeId);
  const two = (n: string, o: string) => ({ name: n, object: o, between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' });
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url })}`,
    '  crm:',
    '    app: sqlite',
    '    path: ./crm.db',
    `    objects: ${JSON.stringify({
      companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
      [name]: { table: 'projects', id: 'id', updated_at: 'modified_at', associations: { company: { field: 'company_id', object: 'companies' } } },
    })}`,
    `syncs: ${JSON.stringify([two('companies', 'companies'), two('projects', name)])}`,
    '',
  ].join('\n'));
  return { hub, w, crm, typeId };
}

/** HubSpot project name → its companies' ids, through the admin records dump. */
async function projectCompanies(hub: Hub, typeId: string): Promise<Map<string, string[]>> {
  const res = await fetch(`${hub.url}/_emulator/records/${typeId}?archived=false`);
  const body = await res.json() as { results: Array<{ properties: { project_name: string }; associations?: { companies?: { results: Array<{ id: string }> } } }> };
  return new Map(body.results.map((r) => [r.properties.project_name, [...new Set((r.associations?.companies?.results ?? []).map((a) => a.id))]]));
}

describe('custom objects', () => {
  it('a custom object `projects` syncs two-way with a SQLite table, with its company', async () => {
    const { hub, w, crm, typeId } = await projectSetup(() => 'projects');
    const r = await runJson(w);
    expect(r.exitCode, failures(r.json)).toBe(0);
    const rows = () => new Map(crm.all<{ project_name: string; budget: number; company_id: number | null }>('SELECT * FROM projects').map((p) => [p.project_name, p]));
    expect(rows().get('Bridge')).toMatchObject({ budget: 1000, company_id: 1 });
    const inHub = () => new Map(hub.emu.store.list(typeId).map((p) => [p.properties.project_name, p]));
    expect(inHub().get('Tunnel')?.properties.budget).toBe('2500');
    expect((await projectCompanies(hub, typeId)).get('Tunnel')).toEqual(['6']);

    // Both ways again: a budget edited in HubSpot, a project moved to another company in the CRM.
    hub.emu.store.update(typeId, inHub().get('Bridge')!.id, { budget: '1200' });
    crm.exec(`UPDATE projects SET company_id = 1, modified_at = '${later()}' WHERE project_name = 'Tunnel'`);
    const again = await runJson(w);
    expect(again.exitCode, failures(again.json)).toBe(0);
    expect(rows().get('Bridge')?.budget).toBe(1200);
    expect((await projectCompanies(hub, typeId)).get('Tunnel')).toEqual(['5']);
    const quiet = await runJson(w);
    expect(total(quiet.json, 'created') + total(quiet.json, 'updated')).toBe(0);
  });

  it('a sync may name the custom object by its 2-… type id', async () => {
    const { hub, w, crm, typeId } = await projectSetup((id) => id);
    const r = await runJson(w);
    expect(r.exitCode, failures(r.json)).toBe(0);
    expect(crm.all<{ project_name: string }>('SELECT project_name FROM projects ORDER BY project_name').map((p) => p.project_name)).toEqual(['Bridge', 'Tunnel']);
    expect(hub.emu.store.list(typeId).map((p) => p.properties.project_name).sort()).toEqual(['Bridge', 'Tunnel']);
  });
});

describe('tickets and products', () => {
  it('tickets sync two-way with their status by label and their company; products one-way into a price list', async () => {
    requireBuild();
    const hub = await startHub({
      seed: {
        companies: [{ id: '5', properties: { name: 'Acme', domain: 'acme.example', hs_lastmodifieddate: OLD, createdate: OLD } }],
        tickets: [{ properties: { subject: 'Printer on fire', hs_pipeline: '0', hs_pipeline_stage: '2', hs_lastmodifieddate: OLD, createdate: OLD }, associations: { companies: ['5'] } }],
        products: [{ properties: { name: 'Toner', price: '49.5', hs_sku: 'T-1', hs_lastmodifieddate: OLD, createdate: OLD } }],
      },
    });
    hubs.push(hub);
    const w = Workspace.create();
    dirs.push(w);
    const crm = w.sqlite('crm.db', `
      CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT);
      CREATE TABLE issues (id INTEGER PRIMARY KEY, subject TEXT, status TEXT, hs_pipeline TEXT, company_id INTEGER, modified_at TEXT);
      CREATE TABLE prices (id INTEGER PRIMARY KEY, name TEXT, price REAL, hs_sku TEXT, modified_at TEXT);`);
    crm.insert('orgs', [{ id: 1, name: 'Acme', domain: 'acme.example', modified_at: OLD }]);
    crm.insert('issues', [{ subject: 'Login broken', status: 'New', company_id: 1, modified_at: OLD }]);
    const two = (name: string, extra: Record<string, unknown> = {}) => ({ name, object: name, between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot', ...extra });
    w.writeText('sync.yaml', [
      'version: 1',
      'connections:',
      `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url })}`,
      '  crm:',
      '    app: sqlite',
      '    path: ./crm.db',
      `    objects: ${JSON.stringify({
        companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
        tickets: {
          table: 'issues', id: 'id', updated_at: 'modified_at', associations: { company: { field: 'company_id', object: 'companies' } },
          fields: { status: { type: 'select', options: ['New', 'Waiting on contact', 'Waiting on us', 'Closed'] }, hs_pipeline: { type: 'select', options: ['0'] } },
        },
        products: { table: 'prices', id: 'id', updated_at: 'modified_at' },
      })}`,
      `syncs: ${JSON.stringify([
        two('companies'),
        // A CRM without pipelines: every ticket goes to the support pipeline, its status maps by label.
        two('tickets', { mappings: { fields: [{ hubspot: 'hs_pipeline_stage', crm: 'status' }] } }),
        { ...two('products'), direction: 'hubspot -> crm' },
      ])}`,
      '',
    ].join('\n'));
    const r = await runJson(w);
    // The CRM's ticket has no pipeline yet: HubSpot requires hs_pipeline, so it fails with HubSpot's reason.
    expect(r.exitCode, failures(r.json)).toBe(1);
    const issues = () => new Map(crm.all<{ subject: string; status: string; company_id: number | null }>('SELECT * FROM issues').map((i) => [i.subject, i]));
    expect(issues().get('Printer on fire')).toMatchObject({ status: 'Waiting on contact', company_id: 1 });
    expect(crm.all<{ name: string; price: number; hs_sku: string }>('SELECT * FROM prices')).toMatchObject([{ name: 'Toner', price: 49.5, hs_sku: 'T-1' }]);
    expect((await datasync(w, ['health', '--failed'])).stdout).toMatch(/hs_pipeline/);

    // With the pipeline given, the ticket goes through, stage by label, with its company.
    crm.exec(`UPDATE issues SET hs_pipeline = '0', modified_at = '${later()}'`);
    const fixed = await runJson(w);
    expect(fixed.exitCode, failures(fixed.json)).toBe(0);
    const ticket = hub.emu.store.list('tickets').find((t) => t.properties.subject === 'Login broken');
    expect(ticket?.properties).toMatchObject({ hs_pipeline: '0', hs_pipeline_stage: '1' });
    const dump = await (await fetch(`${hub.url}/_emulator/records/tickets?archived=false`)).json() as { results: Array<{ id: string; associations?: { companies?: { results: Array<{ id: string; type: string }> } } }> };
    expect(dump.results.find((t) => t.id === ticket!.id)?.associations?.companies?.results).toContainEqual({ id: '5', type: 'ticket_to_company' });
  });
});
