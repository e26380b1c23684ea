/**
 * Search lag (issue 12): HubSpot's search index shows a write a while after
 * it, and not in the order of the writes. Edits made in HubSpot between runs,
 * each surfacing in search after a random delay of up to two minutes, must
 * all reach the CRM, and reading the look-back window again must not cost a
 * write.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runJson, startHub, type Hub } from './hubspot-support.js';
import { OLD, requireBuild, total, Workspace, type SqliteFile } from './support.js';

const N = 40;
const STEPS = 12;
const MAX_LAG_MS = 120_000;

let hub: Hub | undefined;
let w: Workspace | undefined;
afterAll(async () => {
  await hub?.close();
  w?.dispose();
});

describe('search that lags behind writes', () => {
  it('edits that surface in search up to 2 minutes late, out of order, all reach the CRM; re-reading the window writes nothing', async () => {
    requireBuild();
    hub = await startHub({
      seed: { contacts: Array.from({ length: N }, (_, i) => ({ properties: { email: `p${i}@example.com`, firstname: `P${i}`, jobtitle: 'start', lastmodifieddate: OLD, createdate: OLD } })) },
      searchLag: { ms: MAX_LAG_MS, random: true, seed: 12 },
    });
    w = Workspace.create();
    const crm: SqliteFile = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT, modified_at TEXT)');
    w.writeText('sync.yaml', [
      'version: 1',
      'connections:',
      `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url })}`,
      `  crm: ${JSON.stringify({ app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } })}`,
      `syncs: ${JSON.stringify([{ name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' }])}`,
      '',
    ].join('\n'));
    const first = await runJson(w);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(crm.count('people')).toBe(N);

    const byEmail = (e: string) => hub!.emu.store.list('contacts').find((r) => r.properties.email === e)!;
    const updatesBefore = hub.emu.stats().requests['POST /crm/v3/objects/{objectType}/batch/update'] ?? 0;
    for (let step = 0; step < STEPS; step++) {
      // Someone edits four contacts in HubSpot, a few seconds apart; then the next pass runs 20 s later.
      for (let k = 0; k < 4; k++) {
        const i = (step * 7 + k * 11) % N;
        hub.emu.store.update('contacts', byEmail(`p${i}@example.com`).id, { jobtitle: `edit ${step}.${k}` });
        hub.emu.clock.advance(3_000);
      }
      hub.emu.clock.advance(8_000);
      const r = await runJson(w);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    // Everything has surfaced by now; two more passes.
    hub.emu.clock.advance(MAX_LAG_MS);
    const settle = await runJson(w);
    expect(settle.exitCode, settle.stderr).toBe(0);
    const idle = await runJson(w);
    expect(total(idle.json, 'updated') + total(idle.json, 'created')).toBe(0);

    const crmTitle = new Map(crm.all<{ email: string; job_title: string }>('SELECT email, job_title FROM people').map((p) => [p.email, p.job_title]));
    const lost = hub.emu.store.list('contacts')
      .filter((h) => crmTitle.get(h.properties.email!) !== h.properties.jobtitle)
      .map((h) => `${h.properties.email}: HubSpot "${h.properties.jobtitle}", CRM "${crmTitle.get(h.properties.email!)}"`);
    expect(lost).toEqual([]);
    // The CRM never changed: re-reading HubSpot's look-back window never wrote back to HubSpot.
    expect(hub.emu.stats().requests['POST /crm/v3/objects/{objectType}/batch/update'] ?? 0).toBe(updatesBefore);
  }, 120_000);
});
