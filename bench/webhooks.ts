/**
 * W7: how soon a HubSpot edit reaches the other app with webhooks (issue
 * 18), and the search calls they save. The BUILT `datasync watch` runs with
 * a 10-minute poll and its webhook receiver on loopback; the emulator holds
 * CONTACTS contacts and is subscribed to the receiver. Then, one after the
 * other, EDITS contacts are edited in the emulator and the time from each
 * edit until its SQLite row holds the new value is taken (p50/p95).
 *
 * Search calls: a poll of an idle sync is measured (`datasync run` asks the
 * watcher for one); the targeted passes' own calls are counted by route
 * over the edits. Polling alone every 5 minutes spends 12 polls an hour;
 * with webhooks a poll an hour keeps the source of truth, and a targeted
 * pass spends batch reads, no search. To match the webhook latency by
 * polling alone, a poll would be due every p95 seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startEmulator, type SeedRecord } from '../fixtures/hubspot-emulator/server.js';

export interface WebhooksResult {
  contacts: number;
  edits: number;
  /** ms from an edit in HubSpot to its SQLite row changed. */
  latency: { p50: number; p95: number; max: number };
  /** Edits that did not arrive within the deadline. */
  missed: number;
  targetedPasses: number;
  /** Calls the targeted passes made, by route (no search). */
  targetedCalls: Record<string, number>;
  /** Search calls of one poll of the idle sync. */
  searchPerPoll: number;
  /** Search calls the targeted passes made over all the edits (expected 0: they read by id). */
  targetedSearches: number;
  /** Search calls an hour: polling alone every 5 min; webhooks with a poll an hour; polling alone every p95. */
  searchPerHour: { polling5m: number; webhooksHourlyPoll: number; pollingAtWebhookLatency: number };
}

const SEARCH = 'POST /crm/v3/objects/{objectType}/search';
const SECRET = 'bench-webhook-client-secret';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export async function runWebhooks(o: { contacts: number; edits: number; root: string; bin: string; log: (line: string) => void }): Promise<WebhooksResult> {
  const dir = join(o.root, `webhooks-${o.contacts}`);
  mkdirSync(dir, { recursive: true });
  const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
  const contacts: SeedRecord[] = Array.from({ length: o.contacts }, (_, i) => ({
    id: String(i + 1), properties: { email: `w${i}@w7.example.com`, firstname: `First${i}`, jobtitle: 'Seeded', createdate: at(i), lastmodifieddate: at(i) },
  }));
  const db = new Database(join(dir, 'crm.db'));
  db.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, job_title TEXT, updated_at TEXT)');
  db.close();
  const token = 'pat-na1-bench-token';
  const emu = await startEmulator({ port: 0, token, rateLimit: { max: 190, windowMs: 10_000 }, seed: { contacts }, dailyLimit: 100_000_000 });
  writeFileSync(join(dir, 'sync.yaml'), `version: 1
state: .datasync/state.db
connections:
  hubspot:
    app: hubspot
    token: ${token}
    base_url: ${emu.url}
    webhooks: { client_secret: "\${HUBSPOT_CLIENT_SECRET}", listen: "127.0.0.1:0" }
  crm:
    app: sqlite
    path: ./crm.db
    objects:
      contacts: { table: contacts, id: id, updated_at: updated_at }
syncs:
  - name: contacts
    object: contacts
    between: [hubspot, crm]
    direction: two-way
    default_app: hubspot
`);
  const env: NodeJS.ProcessEnv = { ...process.env, HUBSPOT_CLIENT_SECRET: SECRET, NO_COLOR: '1' };
  delete env.DATASYNC_CONFIG;
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, [o.bin, 'watch', '--interval', '10m'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise((r) => child.once('close', r));
  const waitFor = async (what: string, ok: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`W7: timed out waiting for ${what}\n${stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const crm = new Database(join(dir, 'crm.db'), { readonly: true });
  try {
    await waitFor('the first pass', () => / pass 1: /.test(stderr), 120_000);
    const url = /listening on (http:\/\/\S+)/.exec(stderr)![1]!;
    emu.webhooks.configure({ targetUrl: url, clientSecret: SECRET });
    const job = crm.prepare('SELECT job_title FROM contacts WHERE email = ?').pluck();
    const before = { ...emu.stats().requests };
    const latencies: number[] = [];
    let missed = 0;
    for (let i = 0; i < o.edits; i++) {
      const n = Math.floor((i * o.contacts) / o.edits);
      const value = `Edit ${i}`;
      const t0 = performance.now();
      emu.store.update('contacts', String(n + 1), { jobtitle: value });
      try {
        await waitFor(`edit ${i}`, () => job.get(`w${n}@w7.example.com`) === value, 30_000);
        latencies.push(performance.now() - t0);
      } catch {
        missed++;
      }
    }
    const targetedCalls: Record<string, number> = {};
    for (const [route, k] of Object.entries(emu.stats().requests)) if (k - (before[route] ?? 0) > 0) targetedCalls[route] = k - (before[route] ?? 0);
    const targetedPasses = (stderr.match(/targeted pass \d+ \(/g) ?? []).length;
    // One poll of the idle sync, asked of the watcher by `datasync run`.
    const pollBefore = emu.stats().requests[SEARCH] ?? 0;
    await new Promise<void>((resolve, reject) => {
      const run = spawn(process.execPath, [o.bin, 'run'], { cwd: dir, env, stdio: 'ignore' });
      run.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`W7: datasync run exited ${code}`))));
    });
    const searchPerPoll = (emu.stats().requests[SEARCH] ?? 0) - pollBefore;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = percentile(sorted, 95);
    const result: WebhooksResult = {
      contacts: o.contacts, edits: o.edits, missed, targetedPasses, targetedCalls, searchPerPoll, targetedSearches: targetedCalls[SEARCH] ?? 0,
      latency: { p50: Math.round(percentile(sorted, 50)), p95: Math.round(p95), max: Math.round(sorted[sorted.length - 1] ?? 0) },
      searchPerHour: {
        polling5m: 12 * searchPerPoll,
        webhooksHourlyPoll: searchPerPoll,
        pollingAtWebhookLatency: Math.round((3_600_000 / Math.max(p95, 1000)) * searchPerPoll),
      },
    };
    o.log(`  W7 ${o.edits} edits: p50 ${result.latency.p50} ms, p95 ${result.latency.p95} ms, ${targetedPasses} targeted passes, ${searchPerPoll} searches per poll`);
    return result;
  } finally {
    crm.close();
    child.kill('SIGTERM');
    await exited;
    await emu.close();
  }
}
