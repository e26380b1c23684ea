/**
 * Faults from the app (SPEC §4 Failures): the built binary syncs a SQLite CRM
 * with the HubSpot emulator while the emulator misbehaves — 5xx bursts,
 * dropped connections, slow answers, 429 storms, 207 partial failures, an
 * OAuth token that expires in the middle of a run, an outage longer than the
 * retries. Whatever happens, every contact ends in sync on both sides or
 * failed with the app's reason (`health --failed`), and none is lost or
 * duplicated.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Emulator, FaultSpec } from '../../fixtures/hubspot-emulator/server.js';
import {
  admin, cli, duplicateEmails, emulator, EMU_TOKEN, show, spawnCli, tableRows, useTempDirs, waitFor, withDb, writePeople, type Person,
} from './support.js';

const tempDir = useTempDirs();
const emulators: Emulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

const N = 240;
/** crm holds p0…p(N-1), HubSpot p(N/2)…p(3N/2-1): a third only in each, a third in both. */
const ALL = Array.from({ length: N * 1.5 }, (_, i) => `p${i}@example.com`);

function crmPerson(i: number): Person {
  return { email: `p${i}@example.com`, first_name: `Ann${i}`, last_name: i % 5 === 0 ? null : `Lee${i}`, job_title: i % 3 === 0 ? `Crm ${i}` : null };
}

/** A folder with crm.db and sync.yaml, and its own emulator (tests of this file run concurrently). */
async function setup(opts: { people?: (i: number) => Person; oauth?: { clientId: string; clientSecret: string } } = {}) {
  const contacts = Array.from({ length: N }, (_, k) => {
    const i = k + N / 2;
    return { properties: { email: `p${i}@example.com`, firstname: `H${i}`, jobtitle: i % 4 === 0 ? `Hub ${i}` : null } };
  });
  const emu = await emulator({ seed: { contacts }, oauth: opts.oauth });
  emulators.push(emu);
  const dir = tempDir();
  writePeople(join(dir, 'crm.db'), Array.from({ length: N }, (_, i) => (opts.people ?? crmPerson)(i)));
  return {
    dir,
    emu,
    writeConfig(hubspot: Record<string, unknown>): void {
      writeFileSync(join(dir, 'sync.yaml'), [
        'version: 1',
        'connections:',
        `  hubspot: ${JSON.stringify({ app: 'hubspot', base_url: emu.url, ...hubspot })}`,
        '  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people, id: id, updated_at: modified_at } } }',
        'syncs:',
        '  - { name: contacts, object: contacts, between: [hubspot, crm], direction: two-way, default_app: hubspot }',
        '',
      ].join('\n'));
    },
    faults: (specs: FaultSpec[]) => admin(emu, 'POST', '/_emulator/faults', specs),
    queued: async () => ((await admin(emu, 'GET', '/_emulator/faults')) as { faults: unknown[] }).faults,
    accountFor: (emails: string[]) => accountFor(dir, emu, emails),
  };
}

interface FailedRecord { connection: string; id: string; detail: string }

/**
 * Every contact of `emails` is either in sync (same mapped values in both
 * apps) or failed with a reason; no app holds a duplicate. Returns the failed
 * contacts by email with their reason.
 */
async function accountFor(dir: string, emu: Emulator, emails: string[]): Promise<Map<string, string>> {
  const hub = emu.store.list('contacts');
  const crm = tableRows(join(dir, 'crm.db'), 'people', []);
  expect(duplicateEmails(hub.map((r) => r.properties)), 'duplicates in HubSpot').toEqual([]);
  expect(duplicateEmails(crm), 'duplicates in the CRM').toEqual([]);

  const health = await cli(dir, ['health', '--failed', '--json']);
  const report = JSON.parse(health.stdout) as { syncs: { failed?: { reason: string; records: FailedRecord[] }[] }[] };
  const failed = new Map<string, string>();
  for (const group of report.syncs[0]!.failed ?? []) {
    for (const r of group.records) {
      const email = r.connection === 'crm'
        ? crm.find((p) => String(p.id) === r.id)?.email
        : hub.find((h) => h.id === r.id)?.properties.email;
      expect(email, `failed record ${r.connection}:${r.id} is in neither app`).toBeTruthy();
      expect(r.detail.trim(), `failed record ${email} has no reason`).not.toBe('');
      failed.set(String(email), r.detail);
    }
  }

  const v = (x: unknown) => (x === null || x === undefined ? '' : String(x));
  const problems: string[] = [];
  for (const email of emails) {
    if (failed.has(email)) continue;
    const h = hub.find((r) => r.properties.email === email);
    const c = crm.find((p) => p.email === email);
    if (!h || !c) {
      problems.push(`${email}: lost (in HubSpot: ${!!h}, in the CRM: ${!!c}) and not failed`);
      continue;
    }
    const pairs: [string, string][] = [['firstname', 'first_name'], ['lastname', 'last_name'], ['jobtitle', 'job_title']];
    for (const [hp, cc] of pairs) {
      if (v(h.properties[hp]) !== v(c[cc])) problems.push(`${email}: ${hp} "${v(h.properties[hp]).slice(0, 40)}" ≠ ${cc} "${v(c[cc]).slice(0, 40)}"`);
    }
  }
  expect(problems.slice(0, 10), `${problems.length} contacts neither in sync nor failed`).toEqual([]);
  return failed;
}

async function runOk(dir: string) {
  const r = await cli(dir, ['run', '--json'], { timeoutMs: 120_000 });
  expect(r.exitCode, show(r)).toBe(0);
  return r;
}

describe.concurrent('faults from HubSpot during a run', () => {
  it('5xx bursts on reads, property lookups and batch writes are retried: every contact in sync', async () => {
    const t = await setup();
    t.writeConfig({ token: EMU_TOKEN });
    await t.faults([
      { status: 503, count: 2, path: '/crm/v3/objects/contacts?' },
      { status: 504, count: 1, path: '/crm/v3/properties' },
      { status: 502, count: 3, path: '/batch/create' },
      { status: 500, count: 2, path: '/batch/update' },
    ]);
    await runOk(t.dir);
    expect(await t.queued()).toEqual([]); // every fault fired
    const s = t.emu.stats().byStatus;
    expect([s['500'], s['502'], s['503'], s['504']]).toEqual([2, 3, 2, 1]);
    expect((await t.accountFor(ALL)).size).toBe(0);
  });

  it('dropped connections (no answer at all) are retried: every contact in sync, none created twice', async () => {
    const t = await setup();
    t.writeConfig({ token: EMU_TOKEN });
    await t.faults([
      { drop: true, count: 2, path: '/batch/create' },
      { drop: true, count: 1, path: '/batch/update' },
      { drop: true, count: 1, path: '/crm/v3/objects/contacts?' },
    ]);
    await runOk(t.dir);
    expect(t.emu.stats().dropped).toBe(4);
    expect((await t.accountFor(ALL)).size).toBe(0);
  });

  it('slow answers are waited for: every contact in sync', async () => {
    const t = await setup();
    t.writeConfig({ token: EMU_TOKEN });
    await t.faults([{ delayMs: 1500, count: 2, path: '/batch/' }, { delayMs: 700, count: 3 }]);
    await runOk(t.dir);
    expect(await t.queued()).toEqual([]);
    expect((await t.accountFor(ALL)).size).toBe(0);
  });

  it('a 429 storm (a burst, then every other request) is waited out: every contact in sync', async () => {
    const t = await setup();
    t.writeConfig({ token: EMU_TOKEN });
    await t.faults([{ status: 429, count: 6, retryAfter: 0 }, { status: 429, share: 0.5, retryAfter: 0 }]);
    const r = await runOk(t.dir);
    expect(t.emu.stats().byStatus['429']).toBeGreaterThanOrEqual(10);
    expect((await t.accountFor(ALL)).size).toBe(0);
    // Still storming: a second run reads and writes nothing new and fails nothing.
    const again = await runOk(t.dir);
    const sides = (JSON.parse(again.stdout) as { syncs: { sides: { created: number; updated: number; failed: number }[] }[] }).syncs[0]!.sides;
    expect(sides.map((x) => x.created + x.updated + x.failed), show(r)).toEqual([0, 0]);
  });

  it('a 207 partial failure fails only the refused contacts, with HubSpot\'s reason; once fixed they sync', async () => {
    // Job titles HubSpot refuses (over 65,536 characters): two CRM-only contacts (batch create)
    // and two in both apps whose HubSpot title is empty (batch update).
    const bad = new Set([7, 35, 125, 130]);
    const huge = 'x'.repeat(70_000);
    const t = await setup({ people: (i) => ({ ...crmPerson(i), job_title: bad.has(i) ? `${huge}${i}` : crmPerson(i).job_title }) });
    t.writeConfig({ token: EMU_TOKEN });
    const r = await cli(t.dir, ['run', '--json']);
    expect(r.exitCode, show(r)).toBe(1);
    expect(t.emu.stats().byStatus['207']).toBeGreaterThanOrEqual(2);
    const failed = await t.accountFor(ALL);
    expect([...failed.keys()].sort()).toEqual([...bad].map((i) => `p${i}@example.com`).sort());
    for (const reason of failed.values()) expect(reason).toMatch(/longer than 65536 characters/);

    // Retried now: still refused, still nothing duplicated.
    const retried = await cli(t.dir, ['run', '--retry-failed', '--json']);
    expect(retried.exitCode, show(retried)).toBe(1);
    expect((await t.accountFor(ALL)).size).toBe(4);

    // Fixed in the CRM: the next run syncs them.
    withDb(join(t.dir, 'crm.db'), (db) => db.prepare(`UPDATE people SET job_title = 'fixed ' || id, modified_at = ? WHERE length(job_title) > 65536`)
      .run(new Date().toISOString()));
    await runOk(t.dir);
    expect((await t.accountFor(ALL)).size).toBe(0);
  });

  it('an OAuth access token that expires in the middle of a run is refreshed: every contact in sync', async () => {
    const client = { clientId: 'robust-client', clientSecret: 'robust-client-secret' };
    const t = await setup({ oauth: client });
    const redirect = 'http://127.0.0.1:9/callback';
    const auth = await fetch(`${t.emu.url}/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, redirect_uri: redirect, scope: 'oauth' })}`, { redirect: 'manual' });
    const code = new URL(auth.headers.get('location')!).searchParams.get('code')!;
    const granted = await (await fetch(`${t.emu.url}/oauth/v1/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirect, code }).toString(),
    })).json() as { refresh_token: string };
    t.writeConfig({ oauth: { client_id: client.clientId, client_secret: client.clientSecret, refresh_token: granted.refresh_token } });
    // The first batch write is held for a while; the tokens expire while it waits.
    await t.faults([{ delayMs: 1500, count: 1, path: '/batch/create' }]);

    const run = spawnCli(t.dir, ['run', '--json']);
    const creates = () => t.emu.stats().requests['POST /crm/v3/objects/{objectType}/batch/create'] ?? 0;
    await waitFor('the first batch create', () => creates() > 0);
    await admin(t.emu, 'POST', '/_emulator/tokens/expire');
    const r = await run.done;

    expect(r.exitCode, show(r)).toBe(0);
    const stats = t.emu.stats();
    expect(stats.byStatus['401'], 'no request met the expired token').toBeGreaterThanOrEqual(1);
    expect(stats.requests['POST /oauth/v1/token']).toBeGreaterThanOrEqual(2); // the first token, then the refresh
    expect((await t.accountFor(ALL)).size).toBe(0);
  });

  it('an outage longer than the retries stops the run with exit 3 and a clear message; the next run completes, nothing lost or duplicated', async () => {
    const t = await setup();
    t.writeConfig({ token: EMU_TOKEN });
    await t.faults([{ status: 503, share: 1, path: '/batch/create' }]);
    const down = await cli(t.dir, ['run'], { timeoutMs: 120_000 });
    expect(down.exitCode, show(down)).toBe(3);
    expect(down.stdout).toMatch(/HubSpot answered 503 SERVICE_UNAVAILABLE to POST \/crm\/v3\/objects\/contacts\/batch\/create/);
    expect(down.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
    await admin(t.emu, 'DELETE', '/_emulator/faults');
    await runOk(t.dir);
    expect((await t.accountFor(ALL)).size).toBe(0);
  }, 120_000);
});
