/**
 * W5: what keeping a large HubSpot sync in step costs in API calls (issue
 * 12). N contacts, the same on both sides (HubSpot and a SQLite CRM), are
 * linked by a first pass; then the bench counts the calls of
 *
 * - an idle pass (nothing changed),
 * - a pass after CHANGED contacts changed in HubSpot,
 * - a pass whose deletion check is due (it reads every linked record),
 *
 * and works out the calls a day of `watch --interval 5m` spends: 288 passes,
 * of which one an hour (the default `deletion_check: 1h`) checks deletions.
 * Seeded modified dates are a second apart, so the 30 s look-back of each
 * incremental read sees about 30 records, as in a portal where changes are
 * spread over time.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startEmulator, type SeedRecord } from '../fixtures/hubspot-emulator/server.js';
import { runChild } from './measure.js';
import { figures } from './workloads.js';
import { writeBenchConfig } from './workspace.js';

export const CHANGED = 250;
const PASSES_PER_DAY = (24 * 60) / 5;
const CHECKS_PER_DAY = 24;

export interface IdleResult {
  contacts: number;
  /** API calls of each pass, by route. */
  idle: { total: number; byRoute: Record<string, number> };
  changed: { total: number; records: number; byRoute: Record<string, number> };
  check: { total: number; byRoute: Record<string, number> };
  /** A 5-minute watch for a day: idle passes plus one deletion check an hour. */
  dailyWatch5m: number;
  /** The same day if every pass checked deletions (the design before issue 12). */
  dailyEveryPassCheck: number;
  failed: number;
}

function writeWorkspace(dir: string, baseUrl: string, token: string, deletionCheck: string): void {
  writeBenchConfig(dir, {
    hubspot: { app: 'hubspot', token, base_url: baseUrl, deletion_check: deletionCheck },
    crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'contacts', id: 'id', updated_at: 'updated_at' } } },
  }, [{ object: 'contacts', between: ['hubspot', 'crm'], default_app: 'hubspot' }]);
}

export async function runHubSpotIdle(o: { contacts: number; root: string; rate: { max: number; windowMs: number }; log: (line: string) => void }): Promise<IdleResult> {
  const dir = join(o.root, `hubspot-idle-${o.contacts}`);
  mkdirSync(dir, { recursive: true });
  const start = Date.UTC(2024, 0, 1);
  const at = (i: number) => new Date(start + i * 1000).toISOString();
  const contacts: SeedRecord[] = [];
  const db = new Database(join(dir, 'crm.db'));
  db.exec('CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, updated_at TEXT)');
  const insert = db.prepare('INSERT INTO contacts VALUES (?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < o.contacts; i++) {
      const email = `idle${i}@w5.example.com`;
      contacts.push({ id: String(i + 1), properties: { email, firstname: `First${i}`, lastname: `Last${i}`, createdate: at(i), lastmodifieddate: at(i) } });
      insert.run(i + 1, email, `First${i}`, `Last${i}`, at(i));
    }
  })();
  db.close();
  const token = 'pat-na1-bench-token';
  const emu = await startEmulator({ port: 0, token, rateLimit: o.rate, seed: { contacts }, dailyLimit: 100_000_000 });
  const pass = async (deletionCheck: string) => {
    writeWorkspace(dir, emu.url, token, deletionCheck);
    const before = emu.stats().requests;
    const m = await runChild('sync', dir);
    const byRoute: Record<string, number> = {};
    for (const [route, n] of Object.entries(emu.stats().requests)) if (n - (before[route] ?? 0) > 0) byRoute[route] = n - (before[route] ?? 0);
    return { total: Object.values(byRoute).reduce((a, b) => a + b, 0), byRoute, failed: figures(m).failed };
  };
  try {
    const first = await pass('1h');
    o.log(`  W5 first pass (links ${o.contacts}): ${first.total} calls`);
    // The passes below come within the hour of the first pass's deletion check, so they skip it, as
    // 11 of 12 passes of a 5-minute watch do; the last one is told to check (deletion_check: 0).
    await pass('1h');
    emu.clock.advance(60_000);
    const idle = await pass('1h');
    for (let i = 0; i < CHANGED; i++) {
      const id = String(1 + Math.floor((i * o.contacts) / CHANGED));
      emu.store.update('contacts', id, { lastname: `Changed${i}` });
    }
    const changed = await pass('1h');
    const check = await pass('0');
    const dailyWatch5m = (PASSES_PER_DAY - CHECKS_PER_DAY) * idle.total + CHECKS_PER_DAY * check.total;
    const dailyEveryPassCheck = PASSES_PER_DAY * check.total;
    o.log(`  W5 idle ${idle.total} · ${CHANGED} changed ${changed.total} · deletion check ${check.total} calls`);
    return {
      contacts: o.contacts, idle, changed: { ...changed, records: CHANGED }, check, dailyWatch5m, dailyEveryPassCheck,
      failed: first.failed + idle.failed + changed.failed + check.failed,
    };
  } finally {
    await emu.close();
  }
}
