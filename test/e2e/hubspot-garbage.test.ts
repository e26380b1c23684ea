/**
 * Failed reads are never deletions (issue 14.5): HubSpot (or a proxy in front
 * of it) answers `{}`, an HTML page or an HTML 404 during the deletion check,
 * or to the properties call. The run stops with exit 3 naming what came
 * back; no link is marked deleted, and once HubSpot answers properly again
 * everything is as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Garbage } from '../../fixtures/hubspot-emulator/faults.js';
import { CRM_SCHEMA, datasync, runJson, startHub, writeHubConfig, type Hub } from './hubspot-support.js';
import { OLD, total, useWorkspaces, type Workspace } from './support.js';
import { stateRows } from './crm-csv.js';

const workspace = useWorkspaces();
let hub: Hub;
beforeAll(async () => {
  hub = await startHub({ seed: { contacts: Array.from({ length: 250 }, (_, i) => ({ properties: { email: `g${i}@example.com`, firstname: `G${i}`, lastmodifieddate: OLD, createdate: OLD } })) } });
});
afterAll(async () => hub?.close());

const liveLinks = (w: Workspace) => stateRows<{ n: number }>(w.path('.datasync', 'state.db'), `SELECT count(*) AS n FROM links WHERE deleted IS NULL`)[0]!.n;

/** A CRM in step with the 250 seeded contacts; `suspect_deletions: 100%` so only the answer check stands between garbage and deletions. */
async function inStep(): Promise<Workspace> {
  const w = workspace();
  w.sqlite('crm.db', CRM_SCHEMA);
  writeHubConfig(w, hub.url, { objects: ['contacts'], contacts: { suspect_deletions: '100%' } });
  // The deletion check on every pass (its default is once an hour).
  w.writeText('sync.yaml', w.readText('sync.yaml').replace('    app: hubspot\n', '    app: hubspot\n    deletion_check: 0\n'));
  const first = await runJson(w);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(liveLinks(w)).toBe(250);
  return w;
}

describe('answers that are not the API', () => {
  it.each<[Garbage, RegExp]>([
    ['empty', /answered 200 with \{\} to POST \/crm\/v3\/objects\/contacts\/batch\/read/],
    ['html', /answered 200 with an HTML page \("Maintenance"\) to POST \/crm\/v3\/objects\/contacts\/batch\/read/],
    ['html-404', /answered 404 with an HTML page \("404 Not Found"\) to POST \/crm\/v3\/objects\/contacts\/batch\/read/],
  ])('%s during the deletion check: exit 3 naming it, nothing marked deleted, and nothing after HubSpot recovers', async (garbage, said) => {
    const w = await inStep();
    await hub.faults({ path: '/batch/read', garbage, count: 3 });
    const bad = await runJson(w);
    await hub.clearFaults();

    expect(bad.exitCode, bad.stdout).toBe(3);
    expect([bad.stderr, ...bad.json.syncs.map((s) => s.error?.message ?? '')].join('\n')).toMatch(said);
    expect(total(bad.json, 'deleted')).toBe(0);
    expect(liveLinks(w)).toBe(250);

    const good = await runJson(w);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(total(good.json, 'deleted')).toBe(0);
    expect(liveLinks(w)).toBe(250);
  });

  it('a batch read that answers garbage once is asked again, and the pass goes on', async () => {
    const w = await inStep();
    await hub.faults({ path: '/batch/read', garbage: 'empty', count: 1 });
    const r = await runJson(w);
    await hub.clearFaults();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(total(r.json, 'deleted')).toBe(0);
    expect(liveLinks(w)).toBe(250);
  });

  it.each<Garbage>(['empty', 'html'])('%s to the properties call: exit 3 naming what HubSpot answered, not a config error', async (garbage) => {
    const w = workspace();
    w.sqlite('crm.db', CRM_SCHEMA);
    writeHubConfig(w, hub.url, { objects: ['contacts'] });
    await hub.faults({ path: '/crm/v3/properties/', garbage, count: 3 });
    const r = await datasync(w, ['run']);
    await hub.clearFaults();
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/HubSpot answered 200 with .* to GET \/crm\/v3\/properties\//);
    expect(r.stderr).not.toMatch(/maps no field/);
  });
});
