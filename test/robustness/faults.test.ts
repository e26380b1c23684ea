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
import { startDynamicsEmulator, type DynamicsEmulator, type DynamicsEmulatorOptions } from '../../fixtures/dynamics-emulator/server.js';
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

// --- HubSpot ↔ Dynamics: faults from the Dataverse emulator ------------------------

/** HubSpot holds p(N/2)…; the Dynamics organisation p0…p(N-1); a folder syncing them two-way. */
async function dynamicsSetup(limits: DynamicsEmulatorOptions['limits'] = {}) {
  const contacts = Array.from({ length: N }, (_, k) => {
    const i = k + N / 2;
    return { properties: { email: `p${i}@example.com`, firstname: `H${i}`, jobtitle: i % 4 === 0 ? `Hub ${i}` : null } };
  });
  const emu = await emulator({ seed: { contacts } });
  emulators.push(emu);
  const org = await startDynamicsEmulator({ port: 0, limits, seed: {
    contacts: Array.from({ length: N }, (_, i) => ({ emailaddress1: `p${i}@example.com`, firstname: `Ann${i}`, lastname: i % 5 === 0 ? null : `Lee${i}`, jobtitle: i % 3 === 0 ? `Crm ${i}` : null })),
  } });
  orgs.push(org);
  const dir = tempDir();
  writeFileSync(join(dir, 'sync.yaml'), [
    'version: 1',
    'connections:',
    `  hubspot: ${JSON.stringify({ app: 'hubspot', base_url: emu.url, token: EMU_TOKEN })}`,
    `  org: ${JSON.stringify({ app: 'dynamics', url: org.url, tenant: org.tenant, client_id: org.clientId, client_secret: org.clientSecret, token_url: org.tokenUrl, page_size: 100, batch_size: 40 })}`,
    'syncs:',
    '  - { name: contacts, object: contacts, between: [hubspot, org], direction: two-way, default_app: hubspot }',
    '',
  ].join('\n'));
  /** Every contact in both apps with the same mapped values, none twice. */
  const inSync = () => {
    const hub = emu.store.list('contacts');
    const rows = org.store.list('contacts');
    expect(duplicateEmails(hub.map((r) => r.properties)), 'duplicates in HubSpot').toEqual([]);
    expect(duplicateEmails(rows.map((r) => ({ email: r.attrs.emailaddress1 }))), 'duplicates in Dynamics').toEqual([]);
    const v = (x: unknown) => (x === null || x === undefined ? '' : String(x));
    const problems: string[] = [];
    for (const email of ALL) {
      const h = hub.find((r) => r.properties.email === email);
      const d = rows.find((r) => r.attrs.emailaddress1 === email);
      if (!h || !d) { problems.push(`${email}: lost (in HubSpot: ${!!h}, in Dynamics: ${!!d})`); continue; }
      for (const [hp, dc] of [['firstname', 'firstname'], ['lastname', 'lastname'], ['jobtitle', 'jobtitle']] as const) {
        if (v(h.properties[hp]) !== v(d.attrs[dc])) problems.push(`${email}: ${hp} "${v(h.properties[hp])}" ≠ "${v(d.attrs[dc])}"`);
      }
    }
    expect(problems.slice(0, 10), `${problems.length} contacts not in sync`).toEqual([]);
  };
  return { dir, emu, org, inSync };
}

const orgs: DynamicsEmulator[] = [];
afterAll(async () => {
  await Promise.all(orgs.map((o) => o.close()));
});

describe.concurrent('faults from Dynamics during a run (HubSpot ↔ Dynamics)', () => {
  it('5xx, dropped connections, lost $batch answers and slow answers: every contact in sync, none created twice', async () => {
    const t = await dynamicsSetup();
    for (const f of [
      { status: 503, count: 2, path: '/contacts?' },
      { status: 500, count: 1, path: 'EntityDefinitions' },
      // Spread over the batches (share), so no one batch meets more failures in a row than the retries allow.
      { status: 502, count: 2, share: 0.25, path: '$batch' },
      { drop: true, count: 1, share: 0.25, path: '$batch' },
      { lose: true, count: 3, share: 0.5, path: '$batch' },
      { delayMs: 800, count: 2 },
    ]) t.org.faults.add(f);
    await runOk(t.dir);
    expect(t.org.faults.list()).toEqual([]);
    expect(t.org.stats()).toMatchObject({ lost: 3, dropped: 1 });
    t.inSync();
  });

  it('a 429 storm with Retry-After (fault 429s and the service protection limit itself) is waited out', async () => {
    const t = await dynamicsSetup({ requests: 12, windowMs: 2_000 });
    t.org.faults.add({ status: 429, retryAfter: 1, count: 3 });
    t.org.faults.add({ status: 429, retryAfter: 1, share: 0.3, count: 3 });
    await runOk(t.dir);
    expect(t.org.stats().throttled).toBeGreaterThanOrEqual(6);
    t.inSync();
  });

  it('an OAuth token that expires during a run is fetched again; an expired delta token re-indexes without duplicates', async () => {
    const t = await dynamicsSetup();
    await runOk(t.dir);
    t.inSync();
    // Between runs: a person edits in Dynamics and the delta token expires; mid-run the bearer token expires.
    const rows = t.org.store.list('contacts');
    t.org.store.update('contacts', rows.find((r) => r.attrs.emailaddress1 === 'p3@example.com')!.id, { jobtitle: 'changed in Dynamics' });
    t.org.expireDeltaTokens();
    // The first read of the run is held for a while; the bearer token expires while it waits.
    t.org.faults.add({ delayMs: 1500, count: 1, path: '/contacts?' });
    const tokensBefore = t.org.stats().tokenRequests;
    const running = spawnCli(t.dir, ['run', '--json']);
    await waitFor('the first contacts read', () => t.org.faults.list().length === 0);
    await fetch(`${t.org.url}/_emulator/tokens/expire`, { method: 'POST' });
    const r = await running.done;
    expect(r.exitCode, show(r)).toBe(0);
    const sides = (JSON.parse(r.stdout) as { syncs: { sides: { connection: string; created: number; updated: number }[] }[] }).syncs[0]!.sides;
    expect(sides.map((x) => x.created)).toEqual([0, 0]);
    expect(t.emu.store.list('contacts').find((c) => c.properties.email === 'p3@example.com')!.properties.jobtitle).toBe('changed in Dynamics');
    expect(t.org.stats().unauthorized, 'no request met the expired token').toBeGreaterThanOrEqual(1);
    expect(t.org.stats().tokenRequests - tokensBefore).toBeGreaterThanOrEqual(2);
    t.inSync();
  });
});
