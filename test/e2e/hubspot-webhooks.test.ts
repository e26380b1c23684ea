/**
 * Issue 18 through the BUILT binary: `datasync watch` receives the HubSpot
 * emulator's webhooks over real HTTP, checks their v3 signature, and reads
 * the records they name in a targeted pass, while polling stays the source
 * of truth. Timings are never asserted (bench/webhooks.ts measures them):
 * the tests wait for outcomes with a generous deadline and assert on what
 * happened (rows, pass counts, refusals).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signV3 } from '../../fixtures/hubspot-emulator/webhooks.js';
import { cli, type Running, spawnCli, sleep } from '../robustness/support.js';
import { datasync, startHub, TOKEN, writeHubConfig, type Hub } from './hubspot-support.js';
import { explain, OLD, useWorkspaces, type SqliteFile, type Workspace } from './support.js';

const workspace = useWorkspaces();
const SECRET = 'app-client-secret-e2e-4242';

interface WebhookHealth {
  connection: string; live: boolean; url: string; events: number; duplicates: number; signatureFailures: number;
  lastEventAt: string | null; eventsPerMinute: number; targetedPasses: number; lastFailure: string | null;
}

interface Setup { hub: Hub; w: Workspace; crm: SqliteFile; watch: Running; url: string; stop(): Promise<void> }

/** N contacts in HubSpot, none in the CRM; `watch` with webhooks on 127.0.0.1:0; its first pass done. */
async function setup(n: number, interval: string, extra: { hubspot?: Record<string, unknown>; secret?: string } = {}): Promise<Setup> {
  const hub = await startHub({
    rateLimit: { max: 10_000, windowMs: 10_000 }, searchPerSecond: 100,
    seed: { contacts: Array.from({ length: n }, (_, i) => ({ properties: { email: `c${i}@example.com`, firstname: `C${i}`, jobtitle: 'Seeded', lastmodifieddate: OLD, createdate: OLD } })) },
  });
  const w = workspace();
  const crm = w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT,
    lead_status TEXT, company_id INTEGER, modified_at TEXT)`);
  writeHubConfig(w, hub.url, {
    objects: ['contacts'],
    hubspot: { webhooks: { client_secret: '${HUBSPOT_CLIENT_SECRET}', listen: '127.0.0.1:0' }, ...extra.hubspot },
  });
  const watch = spawnCli(w.dir, ['watch', '--interval', interval], { HUBSPOT_TOKEN: TOKEN, HUBSPOT_CLIENT_SECRET: SECRET });
  const deadline = Date.now() + 60_000;
  while (!/pass 1: /.test(watch.stderr()) && Date.now() < deadline) await sleep(100);
  const url = /listening on (http:\/\/\S+)/.exec(watch.stderr())?.[1];
  if (!url || !/pass 1: /.test(watch.stderr())) throw new Error(`watch did not start:\n${watch.stderr()}`);
  expect(crm.count('people')).toBe(n);
  await subscribe(hub, url, extra.secret ?? SECRET);
  return {
    hub, w, crm, watch, url,
    async stop() {
      watch.child.kill('SIGTERM');
      const r = await watch.done;
      await hub.close();
      expect(r.exitCode, r.stderr).toBe(0);
    },
  };
}

async function subscribe(hub: Hub, url: string, secret: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await fetch(`${hub.url}/_emulator/webhooks`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: url, clientSecret: secret, retryMs: 100, ...extra }),
  });
  if (!res.ok) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
}

async function faults(hub: Hub, f: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${hub.url}/_emulator/webhooks/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

async function until(what: string, ok: () => boolean, ms = 30_000, log?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${log ? `\n${log()}` : ''}`);
    await sleep(50);
  }
}

const jobOf = (crm: SqliteFile, email: string) => crm.one<{ job_title: string }>('SELECT job_title FROM people WHERE email = ?', email)?.job_title;
const targetedPasses = (stderr: string) => (stderr.match(/targeted pass \d+ \(/g) ?? []).length;
const polls = (stderr: string) => (stderr.match(/ pass \d+: /g) ?? []).length;

async function webhookHealth(w: Workspace): Promise<WebhookHealth> {
  const r = await health(w, '--json');
  const json = JSON.parse(r.stdout) as { webhooks?: WebhookHealth[] };
  const row = json.webhooks?.find((x) => x.connection === 'hubspot');
  if (!row) throw new Error(`health --json has no webhooks row\n${r.stdout}\n${r.stderr}`);
  return row;
}

/** `datasync health` with the environment the sync file needs. */
function health(w: Workspace, ...args: string[]) {
  return cli(w.dir, ['health', ...args], { env: { HUBSPOT_TOKEN: TOKEN, HUBSPOT_CLIENT_SECRET: SECRET } });
}

function contactId(hub: Hub, email: string): string {
  return hub.list('contacts').find((c) => c.properties.email === email)!.id;
}

describe('watch receives HubSpot webhooks', () => {
  it('an edit in HubSpot reaches the CRM through a webhook while the next poll is 10 minutes away', async () => {
    const s = await setup(5, '10m');
    try {
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c2@example.com'), { jobtitle: 'Pushed' });
      await until('the edit in the CRM', () => jobOf(s.crm, 'c2@example.com') === 'Pushed', 30_000, s.watch.stderr);
      // A new contact too: created in the CRM by the targeted pass.
      s.hub.emu.store.create('contacts', { email: 'new@example.com', firstname: 'New', jobtitle: 'Fresh' });
      await until('the new contact in the CRM', () => jobOf(s.crm, 'new@example.com') === 'Fresh', 30_000, s.watch.stderr);
      expect(polls(s.watch.stderr())).toBe(1);
      expect(targetedPasses(s.watch.stderr())).toBeGreaterThanOrEqual(1);
      await sleep(1500); // the receiver's counters reach the state within a second
      const h = await webhookHealth(s.w);
      expect(h).toMatchObject({ live: true, signatureFailures: 0 });
      expect(h.events).toBeGreaterThanOrEqual(2);
      expect(h.lastEventAt).not.toBeNull();
      expect(h.eventsPerMinute).toBeGreaterThan(0);
      const text = await health(s.w);
      expect(text.stdout).toMatch(/webhooks hubspot: live on http:\/\/127\.0\.0\.1:\d+\/hubspot\/webhooks/);
    } finally {
      await s.stop();
    }
    const after = await webhookHealth(s.w);
    expect(after.live).toBe(false);
  }, 120_000);

  it('with every delivery dropped, the change still arrives at the next poll', async () => {
    const s = await setup(5, '4s');
    try {
      await faults(s.hub, { drop: 1 });
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c1@example.com'), { jobtitle: 'Polled' });
      await until('the edit in the CRM', () => jobOf(s.crm, 'c1@example.com') === 'Polled', 30_000, s.watch.stderr);
      await until('the poll\'s log line', () => polls(s.watch.stderr()) >= 2, 10_000, s.watch.stderr);
      expect(s.hub.emu.webhooks.describe().stats.dropped).toBeGreaterThan(0);
      expect(targetedPasses(s.watch.stderr())).toBe(0);
      expect(polls(s.watch.stderr())).toBeGreaterThanOrEqual(2);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('a targeted pass saves no cursor: a change whose event was lost is read by the next poll', async () => {
    // No look-back (overlap_ms: 0): the next poll reads exactly from the saved cursor.
    const s = await setup(5, '10m', { hubspot: { overlap_ms: 0 } });
    try {
      await faults(s.hub, { drop: 1 });
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c1@example.com'), { jobtitle: 'Lost event' });
      await s.hub.emu.webhooks.idle(10_000);
      await faults(s.hub, {});
      await sleep(1100); // HubSpot's modified dates are in ms: the next edit is clearly later
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c2@example.com'), { jobtitle: 'Pushed' });
      await until('the pushed edit in the CRM', () => jobOf(s.crm, 'c2@example.com') === 'Pushed', 30_000, s.watch.stderr);
      await until('the targeted pass\'s log line', () => targetedPasses(s.watch.stderr()) >= 1, 10_000, s.watch.stderr);
      expect(jobOf(s.crm, 'c1@example.com')).toBe('Seeded');
      // `datasync run` asks the watcher for a poll now: it reads from the last poll's cursor, so the lost change comes.
      const run = await cli(s.w.dir, ['run'], { env: { HUBSPOT_TOKEN: TOKEN, HUBSPOT_CLIENT_SECRET: SECRET } });
      expect(run.exitCode, run.stderr).toBe(0);
      await until('the lost edit in the CRM', () => jobOf(s.crm, 'c1@example.com') === 'Lost event', 30_000, s.watch.stderr);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('a forged signature is refused with 401 and nothing is written', async () => {
    const s = await setup(3, '10m', { secret: 'not-the-app-secret' });
    try {
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c0@example.com'), { jobtitle: 'Forged' });
      await until('a refusal', () => /refused a request .* 401: bad signature/.test(s.watch.stderr()), 30_000, s.watch.stderr);
      await s.hub.emu.webhooks.idle(10_000);
      expect(s.hub.emu.webhooks.describe().stats.answers['401']).toBeGreaterThan(0);
      // A POST of our own, signed with another secret, is refused the same way.
      const body = JSON.stringify([{ eventId: 999, subscriptionType: 'contact.propertyChange', objectId: 1, occurredAt: Date.now() }]);
      const ts = String(Date.now());
      const res = await fetch(s.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'X-HubSpot-Request-Timestamp': ts, 'X-HubSpot-Signature-v3': signV3('guess', 'POST', s.url, body, ts) } });
      expect(res.status).toBe(401);
      await sleep(1500);
      expect(jobOf(s.crm, 'c0@example.com')).toBe('Seeded');
      expect(targetedPasses(s.watch.stderr())).toBe(0);
      const h = await webhookHealth(s.w);
      expect(h.signatureFailures).toBeGreaterThanOrEqual(2);
      expect(h.events).toBe(0);
      expect(h.lastFailure).toMatch(/bad signature/);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('a replayed request (timestamp older than 5 minutes) is refused with 401', async () => {
    const s = await setup(3, '10m');
    try {
      await faults(s.hub, { timestampOffsetMs: -6 * 60_000 });
      s.hub.emu.store.update('contacts', contactId(s.hub, 'c0@example.com'), { jobtitle: 'Replayed' });
      await until('a refusal', () => /refused a request .* 401: timestamp \d+ s old/.test(s.watch.stderr()), 30_000, s.watch.stderr);
      await sleep(1000);
      expect(jobOf(s.crm, 'c0@example.com')).toBe('Seeded');
      expect(targetedPasses(s.watch.stderr())).toBe(0);
      // Correctly signed but five minutes and a second old, by hand: still refused.
      const body = JSON.stringify([{ eventId: 7, subscriptionType: 'contact.propertyChange', objectId: 1, occurredAt: Date.now() }]);
      const ts = String(Date.now() - 301_000);
      const res = await fetch(s.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'X-HubSpot-Request-Timestamp': ts, 'X-HubSpot-Signature-v3': signV3(SECRET, 'POST', s.url, body, ts) } });
      expect(res.status).toBe(401);
      // The same request with a fresh timestamp is taken.
      const fresh = String(Date.now());
      const ok = await fetch(s.url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'X-HubSpot-Request-Timestamp': fresh, 'X-HubSpot-Signature-v3': signV3(SECRET, 'POST', s.url, body, fresh) } });
      expect(ok.status).toBe(204);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('duplicate and out-of-order deliveries: each event counted once, the CRM ends with the last value', async () => {
    const s = await setup(5, '10m');
    try {
      await faults(s.hub, { duplicate: 1, reorder: true, seed: 7 });
      const id = contactId(s.hub, 'c3@example.com');
      for (let i = 1; i <= 5; i++) {
        s.hub.emu.store.update('contacts', id, { jobtitle: `Step ${i}` });
        await sleep(80);
      }
      await s.hub.emu.webhooks.idle(10_000);
      await until('the last value in the CRM', () => jobOf(s.crm, 'c3@example.com') === 'Step 5', 30_000, s.watch.stderr);
      await sleep(1500);
      const stats = s.hub.emu.webhooks.describe().stats;
      expect(stats.duplicated).toBeGreaterThan(0);
      const h = await webhookHealth(s.w);
      expect(h.events).toBe(stats.events);
      expect(h.duplicates).toBeGreaterThan(0);
      expect(jobOf(s.crm, 'c3@example.com')).toBe('Step 5');
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('a merge event: the survivor takes over a link, nothing is created or deleted in the CRM', async () => {
    const s = await setup(4, '10m');
    try {
      const primary = contactId(s.hub, 'c0@example.com');
      const other = contactId(s.hub, 'c1@example.com');
      const survivor = s.hub.emu.store.merge('contacts', primary, other);
      await until('the targeted pass of the merge', () => targetedPasses(s.watch.stderr()) >= 1, 30_000, s.watch.stderr);
      s.hub.emu.store.update('contacts', survivor.id, { jobtitle: 'After merge' });
      await until('the survivor\'s edit in the CRM', () => jobOf(s.crm, 'c0@example.com') === 'After merge', 30_000, s.watch.stderr);
      expect(s.crm.count('people')).toBe(4);
      expect(jobOf(s.crm, 'c1@example.com')).toBe('Seeded');
      expect(polls(s.watch.stderr())).toBe(1);
      const events = s.hub.emu.webhooks.describe().stats.events;
      expect(events).toBeGreaterThanOrEqual(2);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('deletion, restore and privacy deletion events take the deletion paths: nothing deleted in the CRM, a GDPR delete purged', async () => {
    const s = await setup(4, '10m');
    const deleted = async () => {
      const r = await health(s.w, '--json');
      return (JSON.parse(r.stdout) as { syncs: Array<{ name: string; deleted?: Array<{ a: string; how: string }> }> }).syncs.find((x) => x.name === 'contacts')!.deleted ?? [];
    };
    try {
      const archived = contactId(s.hub, 'c0@example.com');
      const erased = contactId(s.hub, 'c1@example.com');
      s.hub.emu.store.archive('contacts', archived);
      await until('the targeted pass of the archive', () => targetedPasses(s.watch.stderr()) >= 1, 30_000, s.watch.stderr);
      expect(await deleted()).toEqual([expect.objectContaining({ a: archived, how: 'deleted in hubspot (archived)' })]);
      s.hub.emu.store.restore('contacts', archived);
      await until('the targeted pass of the restore', () => targetedPasses(s.watch.stderr()) >= 2, 30_000, s.watch.stderr);
      expect(await deleted()).toEqual([]);
      s.hub.emu.store.update('contacts', archived, { jobtitle: 'Back' });
      await until('the restored contact\'s edit in the CRM', () => jobOf(s.crm, 'c0@example.com') === 'Back', 30_000, s.watch.stderr);
      s.hub.emu.store.gdprDelete(erased);
      await until('the targeted pass of the GDPR delete', () => targetedPasses(s.watch.stderr()) >= 4, 30_000, s.watch.stderr);
      // The link stays deleted with its data purged (nothing of the person's values stays in the state); the CRM row is not deleted.
      expect(await deleted()).toEqual([expect.objectContaining({ a: erased, how: expect.stringMatching(/^deleted in hubspot \(privacy\)/) })]);
      const link = s.w.sqlite('.datasync/state.db').one<{ base: string; gone: string }>("SELECT base, gone FROM links WHERE sync = 'contacts' AND a_id = ?", erased);
      expect(link).toEqual({ base: '{}', gone: 'privacy' });
      expect(s.crm.count('people')).toBe(4);
      expect(polls(s.watch.stderr())).toBe(1);
    } finally {
      await s.stop();
    }
  }, 120_000);

  it('a burst of 10,000 events: few targeted passes (not one per event or per request), bounded memory, every change in', async () => {
    const N = 1000;
    const s = await setup(N, '10m');
    try {
      const ids = s.hub.list('contacts').map((c) => c.id);
      // 10 rounds of an edit to each of 1,000 contacts: 10,000 propertyChange events, 100 requests of 100.
      for (let round = 1; round <= 10; round++) {
        for (const id of ids) s.hub.emu.store.update('contacts', id, { jobtitle: `Round ${round}` });
      }
      await s.hub.emu.webhooks.idle(60_000);
      const sent = s.hub.emu.webhooks.describe().stats;
      expect(sent.events).toBe(10 * N);
      expect(sent.delivered).toBe(sent.deliveries);
      await until('every contact at round 10', () => s.crm.one<{ n: number }>("SELECT count(*) AS n FROM people WHERE job_title = 'Round 10'")!.n === N, 90_000, s.watch.stderr);
      // The pass logs its line once it is done; then no hint is left waiting.
      await until('a targeted pass\'s log line', () => targetedPasses(s.watch.stderr()) >= 1, 10_000, s.watch.stderr);
      await sleep(1500);
      const passes = targetedPasses(s.watch.stderr());
      expect(passes, s.watch.stderr()).toBeGreaterThanOrEqual(1);
      expect(passes).toBeLessThan(sent.deliveries / 4);
      await sleep(1500);
      const h = await webhookHealth(s.w);
      expect(h.events).toBe(10 * N);
      expect(h.targetedPasses).toBe(passes);
      // The watcher's peak resident memory (Linux): a hint per record, not per event.
      const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${s.watch.child.pid}/status`, 'utf8'))?.[1] ?? 0);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb).toBeLessThan(400 * 1024);
      expect(polls(s.watch.stderr())).toBe(1);
    } finally {
      await s.stop();
    }
  }, 240_000);
});

describe('watch --listen', () => {
  it('needs a secret: without a webhooks block or HUBSPOT_CLIENT_SECRET it stops with exit 2', async () => {
    const hub = await startHub();
    try {
      const w = workspace();
      w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, job_title TEXT, lead_status TEXT, company_id INTEGER, modified_at TEXT)');
      writeHubConfig(w, hub.url, { objects: ['contacts'] });
      const r = await datasync(w, ['watch', '--listen', '127.0.0.1:0']);
      expect(r.exitCode, explain(r)).toBe(2);
      expect(r.stderr).toMatch(/HUBSPOT_CLIENT_SECRET is not set/);
      const bad = await datasync(w, ['watch', '--listen', 'nowhere']);
      expect(bad.exitCode, explain(bad)).toBe(2);
      expect(bad.stderr).toMatch(/--listen: expected HOST:PORT/);
    } finally {
      await hub.close();
    }
  }, 60_000);
});
