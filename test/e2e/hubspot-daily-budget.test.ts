/**
 * The daily budget (issue 12): HubSpot's daily allowance is shared by every
 * app of the account. Below the reserve (daily_reserve, default 10% of the
 * allowance) datasync sends nothing more: the sync waits as Queued, health
 * says why, and after the reset the next run finishes the work.
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

const N = 600;

async function setup(dailyLimit: number, hubspot: Record<string, unknown> = {}): Promise<{ hub: Hub; w: Workspace; crm: SqliteFile }> {
  requireBuild();
  const hub = await startHub({ dailyLimit });
  hubs.push(hub);
  const w = Workspace.create();
  dirs.push(w);
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
  crm.insert('people', Array.from({ length: N }, (_, i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, modified_at: OLD })));
  w.writeText('sync.yaml', [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', token: '${HUBSPOT_TOKEN}', base_url: hub.url, ...hubspot })}`,
    `  crm: ${JSON.stringify({ app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } })}`,
    `syncs: ${JSON.stringify([{ name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot' }])}`,
    '',
  ].join('\n'));
  return { hub, w, crm };
}

const remaining = async (hub: Hub) => Number((await fetch(`${hub.url}/crm/v3/objects/contacts?limit=1`, { headers: { authorization: 'Bearer pat-na1-e2e-0000-1111-secret-token' } }))
  .headers.get('x-hubspot-ratelimit-daily-remaining'));

describe('the daily budget', () => {
  it('below the reserve (default 10%) the sync stops spending calls, waits as Queued with the reason, and resumes after the reset', async () => {
    // 100 calls a day, 85 spent by the account's other apps: 15 left, 10 of them the reserve.
    // The sync needs 9 (check, catalogue, list, 6 batch creates): it may spend 5.
    const { hub, w } = await setup(100);
    for (let i = 0; i < 84; i++) await remaining(hub);
    expect(await remaining(hub)).toBe(15);
    const first = await runJson(w);
    expect(first.exitCode, JSON.stringify(hub.emu.stats().requests) + first.stderr).toBe(3);
    expect(first.json.syncs[0]!.error?.code).toBe('DAILY_BUDGET_RESERVE');
    expect(await remaining(hub)).toBe(10 - 1); // never below the reserve; this probe spent one
    const health = await datasync(w, ['health']);
    expect(health.stdout).toMatch(/Queued \(daily budget: HubSpot's daily API budget is down to 10 of 100 calls, within the reserve of 10 kept for the account's other apps/);
    // Another run the same day spends one call (to learn the budget), no more.
    const again = await runJson(w);
    expect(again.exitCode).toBe(3);
    expect(await remaining(hub)).toBe(9 - 1 - 1);

    // The allowance resets at midnight: the next run finishes the work, no record created twice.
    hub.emu.clock.advance(86_400_000);
    const next = await runJson(w);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(hub.list('contacts')).toHaveLength(N);
    expect((await datasync(w, ['health'])).stdout).not.toMatch(/Queued/);
  });

  it('daily_reserve takes a number of calls', async () => {
    const { hub, w } = await setup(50, { daily_reserve: 45 });
    const r = await runJson(w);
    expect(r.exitCode, r.stdout).toBe(3);
    expect(r.json.syncs[0]!.error?.message).toMatch(/down to 45 of 50 calls, within the reserve of 45 kept/);
    expect(await remaining(hub)).toBe(44);
  });
});
