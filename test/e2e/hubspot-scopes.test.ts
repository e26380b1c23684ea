/**
 * Scopes (issue 12): a private app grants only some scopes. A contacts sync
 * needs only contact scopes (datasync reads only the catalogues of the
 * objects it syncs); a write the token may not make stops the run with exit
 * 3 and a message naming the missing scope.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { datasync, runJson, startHub, type Hub } from './hubspot-support.js';
import { OLD, requireBuild, Workspace, type SqliteFile } from './support.js';

const hubs: Hub[] = [];
const dirs: Workspace[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  for (const w of dirs.splice(0)) w.dispose();
});

async function setup(scopes: string[], direction: 'two-way' | 'hubspot-to-crm' = 'two-way'): Promise<{ hub: Hub; w: Workspace; crm: SqliteFile }> {
  requireBuild();
  const hub = await startHub({ scopes, seed: { contacts: [1, 2].map((i) => ({ properties: { email: `hub${i}@example.com`, firstname: `H${i}`, lastmodifieddate: OLD, createdate: OLD } })) } });
  hubs.push(hub);
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
  crm.insert('people', [{ email: 'crm1@example.com', first_name: 'C1', modified_at: OLD }]);
  const sync = direction === 'two-way'
    ? { name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' }
    : { name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'one-way', from: 'hubspot' };
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url })}`,
    `  crm: ${JSON.stringify({ app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } })}`,
    `syncs: ${JSON.stringify([sync])}`,
    '',
  ].join('\n'));
  return { hub, w, crm };
}

describe('a private app with only some scopes', () => {
  it('contact scopes only: a contacts sync runs (no company or deal catalogue is read)', async () => {
    const { hub, w, crm } = await setup(['crm.objects.contacts.read', 'crm.objects.contacts.write']);
    const r = await runJson(w);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(crm.count('people')).toBe(3);
    expect(hub.list('contacts')).toHaveLength(3);
    const asked = Object.keys(hub.emu.stats().requests).filter((k) => k.includes('/properties/'));
    expect(asked.length).toBeGreaterThan(0);
    expect(hub.emu.stats().byStatus['403'] ?? 0).toBe(0);
  });

  it('read-only contact scope on a two-way sync: exit 3, the message names crm.objects.contacts.write', async () => {
    const { w } = await setup(['crm.objects.contacts.read']);
    const r = await datasync(w, ['run']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/crm\.objects\.contacts\.write/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('no contact scope at all: exit 3 naming the read scope', async () => {
    const { w } = await setup(['crm.objects.companies.read']);
    const r = await datasync(w, ['run']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/crm\.objects\.contacts\.read/);
  });
});
