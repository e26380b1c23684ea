/**
 * Lost answers (issue 12): HubSpot did the work, then the answer was lost (a
 * 502/504 from the gateway, a reset connection, a timeout). The built CLI
 * must not send the create again blindly: every record ends in HubSpot once,
 * linked, and a second run creates nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../fixtures/hubspot-emulator/server.js';
import { datasync, failures, runJson, startHub, type Hub } from './hubspot-support.js';
import { OLD, requireBuild, total, Workspace, type SqliteFile } from './support.js';

const SCHEMA = `
  CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, modified_at TEXT);
  CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, modified_at TEXT);
  CREATE TABLE deals (id INTEGER PRIMARY KEY, dealname TEXT, pipeline TEXT, dealstage TEXT, amount REAL, modified_at TEXT);`;

const hubs: Hub[] = [];
const dirs: Workspace[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  for (const w of dirs.splice(0)) w.dispose();
});

async function setup(hubspot: Record<string, unknown> = {}): Promise<{ hub: Hub; w: Workspace; crm: SqliteFile }> {
  requireBuild();
  const hub = await startHub();
  hubs.push(hub);
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', SCHEMA);
  crm.insert('orgs', [
    { name: 'Acme North', domain: 'north.acme.example', modified_at: OLD },
    { name: 'Acme South', domain: 'south.acme.example', modified_at: OLD },
    { name: 'Globex', domain: 'globex.example', modified_at: OLD },
  ]);
  crm.insert('people', [1, 2, 3, 4].map((i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, last_name: 'Lee', modified_at: OLD })));
  crm.insert('deals', [1, 2, 3].map((i) => ({ dealname: `Deal ${i}`, pipeline: 'default', dealstage: 'qualifiedtobuy', amount: 100 * i, modified_at: OLD })));
  const two = (name: string, object: string) => ({ name, object, between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' });
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url, ...hubspot })}`,
    '  crm:',
    '    app: sqlite',
    '    path: ./crm.db',
    `    objects: ${JSON.stringify({
      companies: { table: 'orgs', id: 'id', updated_at: 'modified_at' },
      contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
      deals: {
        table: 'deals', id: 'id', updated_at: 'modified_at',
        fields: { pipeline: { type: 'select', options: ['default'] }, dealstage: { type: 'radio', options: ['qualifiedtobuy', 'closedwon'] } },
      },
    })}`,
    `syncs: ${JSON.stringify([two('companies', 'companies'), two('contacts', 'contacts'), two('deals', 'deals')])}`,
    '',
  ].join('\n'));
  return { hub, w, crm };
}

/** Both apps hold each record once, and a second run changes nothing. */
async function expectEachOnce(hub: Hub, w: Workspace, crm: SqliteFile): Promise<void> {
  const names = (object: 'companies' | 'contacts' | 'deals', prop: string) => hub.emu.store.list(object).map((r) => r.properties[prop]).sort();
  expect(names('deals', 'dealname')).toEqual(['Deal 1', 'Deal 2', 'Deal 3']);
  expect(names('contacts', 'email')).toEqual(['p1@example.com', 'p2@example.com', 'p3@example.com', 'p4@example.com']);
  expect(names('companies', 'name')).toEqual(['Acme North', 'Acme South', 'Globex']);
  const again = await runJson(w);
  expect(again.exitCode, again.stderr).toBe(0);
  expect(total(again.json, 'created')).toBe(0);
  expect(total(again.json, 'failed')).toBe(0);
  expect([crm.count('orgs'), crm.count('people'), crm.count('deals')]).toEqual([3, 4, 3]);
  expect(hub.emu.store.list('deals')).toHaveLength(3);
}

describe('creates whose answer was lost', () => {
  it('a 504, a 502 and a reset connection after the creates were applied: each record once, linked', async () => {
    const { hub, w, crm } = await setup();
    const lost: FaultSpec[] = [
      { lose: 504, path: '/deals/batch/create' },
      { lose: 502, path: '/companies/batch/create' },
      { lose: 'reset', path: '/contacts/batch/create' },
    ];
    await hub.faults(lost);
    const r = await runJson(w);
    expect(r.exitCode, (await datasync(w, ['health', '--failed'])).stdout).toBe(0);
    expect(hub.emu.stats().lost).toBe(3);
    expect(total(r.json, 'failed')).toBe(0);
    await expectEachOnce(hub, w, crm);
  });

  it('a create that times out after it was applied: each record once, linked', async () => {
    const { hub, w, crm } = await setup({ timeout_ms: 1500 });
    await hub.faults([{ lose: 'timeout', path: '/deals/batch/create' }, { lose: 'timeout', path: '/contacts/batch/create' }]);
    const r = await runJson(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(hub.emu.stats().lost).toBe(2);
    await expectEachOnce(hub, w, crm);
  });

  it('a create lost twice in a row, then a gateway that keeps failing: nothing is created twice', async () => {
    const { hub, w, crm } = await setup();
    await hub.faults([{ lose: 502, count: 2, path: '/deals/batch/create' }, { status: 503, count: 2, path: '/deals/batch/read' }]);
    const r = await runJson(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectEachOnce(hub, w, crm);
    const check = await datasync(w, ['health', '--json']);
    expect(check.exitCode).toBe(0);
  });
});
