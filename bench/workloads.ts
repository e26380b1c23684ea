/**
 * The workloads of issue 8. Each sync runs in a child process (child.ts) on
 * its own workspace, so wall time and peak RSS are those of one run.
 */
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../fixtures/hubspot-emulator/server.js';
import type { ContactCounts } from './contacts.js';
import { hubspotInput, writeHubSpotWorkspace } from './hubspot.js';
import { runChild, type Measured } from './measure.js';
import { editCsvRows, editSqliteRows, writeContactsWorkspace } from './workspace.js';

export interface RunFigures {
  /** Spawn to exit (what a cron job waits for). */
  wallMs: number;
  /** The job inside the process (config load + runOnce, or the script). */
  jobMs: number;
  peakRssMb: number;
  /** MB the child process wrote to disk (/proc/self/io write_bytes); null where unknown. */
  diskWrittenMb: number | null;
  read: { a: number; b: number };
  written: number;
  failed: number;
  /** Per sync and side, as `run --json` counts them. */
  sides: { sync: string; connection: string; read: number; created: number; updated: number; failed: number; excluded: number }[];
  raw: Measured;
}

export interface ContactsResult {
  n: number;
  counts: ContactCounts;
  baseline: RunFigures;
  w1: RunFigures;
  w2?: RunFigures;
  /** The run after W2: W1's own writes are no longer news (steady state). */
  w2again?: RunFigures;
  w3?: RunFigures & { edited: { sqlite: number; csv: number } };
  /** MB of the CSV file and of the state after W1 and after W3 (what a run's bytes written are compared with). */
  sizes: { afterW1: { csvMb: number; stateMb: number }; afterW3?: { csvMb: number; stateMb: number } };
}

const mb = (kb: number) => Math.round(kb / 1024);
const diskMb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? null : Math.round(bytes / 2 ** 20 * 10) / 10);
/** MB of a file, or of the state (its -wal and -shm beside it); 0 when absent. */
const fileMb = (...files: string[]) => Math.round(files.reduce((t, f) => t + (existsSync(f) ? statSync(f).size : 0), 0) / 2 ** 20 * 10) / 10;

export function figures(m: Measured): RunFigures {
  const sides = m.syncs?.flatMap((s) => s.sides) ?? [];
  const sync = m.syncs?.[0];
  return {
    wallMs: m.processMs, jobMs: m.ms, peakRssMb: mb(m.maxRssKb), diskWrittenMb: diskMb(m.diskWrittenBytes),
    read: sync ? { a: sync.sides[0]!.read, b: sync.sides[1]!.read } : { a: m.read ?? 0, b: 0 },
    written: m.syncs ? sides.reduce((t, s) => t + s.created + s.updated, 0) : m.written ?? 0,
    failed: sides.reduce((t, s) => t + s.failed, 0),
    sides: (m.syncs ?? []).flatMap((s) => s.sides.map(({ connection, read, created, updated, failed, excluded }) =>
      ({ sync: s.name, connection, read, created, updated, failed, excluded }))),
    raw: m,
  };
}

export interface ContactsOptions {
  n: number;
  seed: number;
  root: string;
  /** W1 only (the --large scale run). */
  onlyInitial?: boolean;
  withBaseline?: boolean;
  profileDir?: string;
  log: (line: string) => void;
}

export async function runContacts(o: ContactsOptions): Promise<ContactsResult> {
  const dir = join(o.root, `contacts-${o.n}`);
  const baseDir = join(o.root, `baseline-${o.n}`);
  mkdirSync(dir, { recursive: true });
  let t = performance.now();
  const counts = writeContactsWorkspace(dir, o.n, o.seed);
  o.log(`  generated ${o.n.toLocaleString('en')} contacts (${counts.sqliteRows} SQLite rows, ${counts.csvRows} CSV rows) in ${Math.round(performance.now() - t)} ms`);
  let baseline: RunFigures | undefined;
  if (o.withBaseline !== false) {
    cpSync(dir, baseDir, { recursive: true });
    baseline = figures(await runChild('baseline', baseDir));
    o.log(`  baseline: ${Math.round(baseline.wallMs)} ms`);
  }
  const profile = (name: string) => (o.profileDir ? { profileDir: o.profileDir, profileName: `${name}-${o.n}.cpuprofile` } : {});
  const w1 = figures(await runChild('sync', dir, profile('w1')));
  o.log(`  W1: ${Math.round(w1.wallMs)} ms, peak ${w1.peakRssMb} MB, wrote ${w1.diskWrittenMb ?? '?'} MB to disk`);
  const state = join(dir, '.datasync', 'state.db');
  const sizesNow = () => ({ csvMb: fileMb(join(dir, 'contacts.csv')), stateMb: fileMb(state, `${state}-wal`, `${state}-shm`) });
  const sizes: ContactsResult['sizes'] = { afterW1: sizesNow() };
  if (o.onlyInitial) return { n: o.n, counts, baseline: baseline!, w1, sizes };
  const w2 = figures(await runChild('sync', dir, profile('w2')));
  o.log(`  W2: ${Math.round(w2.wallMs)} ms, read ${w2.read.a} + ${w2.read.b}`);
  const w2again = figures(await runChild('sync', dir));
  o.log(`  W2 again: ${Math.round(w2again.wallMs)} ms, read ${w2again.read.a} + ${w2again.read.b}`);
  t = performance.now();
  const edited = { sqlite: editSqliteRows(join(dir, 'crm.db'), 0.01, o.seed + 3), csv: editCsvRows(join(dir, 'contacts.csv'), 0.01, o.seed + 4) };
  const w3 = { ...figures(await runChild('sync', dir, profile('w3'))), edited };
  o.log(`  W3: ${Math.round(w3.wallMs)} ms, wrote ${w3.written} records, ${w3.diskWrittenMb ?? '?'} MB to disk`);
  sizes.afterW3 = sizesNow();
  return { n: o.n, counts, baseline: baseline!, w1, w2, w2again, w3, sizes };
}

export interface HubSpotResult {
  contacts: number;
  companies: number;
  rate: { max: number; windowMs: number };
  run: RunFigures;
  calls: { read: number; write: number; total: number; byRoute: Record<string, number> };
  records: number;
  perRecord: { read: number; write: number; total: number };
  /** Calls per window achieved ÷ allowed, mean over the span of API traffic. */
  budgetShare: number;
  /** The busiest window ÷ allowed. */
  peakShare: number;
  apiSpanMs: number;
  rateLimited: number;
  failed: number;
  /**
   * One call per 100 records read from or written to HubSpot, per object
   * (issue 15): what the initial sync cannot go below.
   */
  floor: number;
  /** The pass right after the initial sync: calls by route. */
  after: { total: number; byRoute: Record<string, number>; read: number };
}

/** Reads: GETs, batch reads and search; everything else writes. */
const isRead = (route: string) => route.startsWith('GET ') || /\/batch\/read$|\/search$/.test(route);

export async function runHubSpot(o: { contacts: number; companies: number; seed: number; root: string; rate: { max: number; windowMs: number };
  profileDir?: string; log: (line: string) => void }): Promise<HubSpotResult> {
  const dir = join(o.root, `hubspot-${o.contacts}`);
  mkdirSync(dir, { recursive: true });
  const input = hubspotInput(o.contacts, o.companies, o.seed);
  const token = 'pat-na1-bench-token';
  const emu = await startEmulator({ port: 0, token, rateLimit: o.rate, seed: input.seed, dailyLimit: 10_000_000 });
  try {
    writeHubSpotWorkspace(dir, input, emu.url, token);
    // The emulator lives in this process: sample its request count to find the API span and the busiest window.
    const samples: [number, number][] = [];
    const t0 = performance.now();
    const timer = setInterval(() => samples.push([performance.now() - t0, emu.stats().total]), 20);
    let m: Measured;
    try {
      m = await runChild('sync', dir, o.profileDir ? { profileDir: o.profileDir, profileName: `w4-${o.contacts}.cpuprofile` } : {});
    } finally {
      clearInterval(timer);
    }
    samples.push([performance.now() - t0, emu.stats().total]);
    const stats = emu.stats();
    let read = 0, write = 0;
    for (const [route, count] of Object.entries(stats.requests)) {
      if (isRead(route)) read += count;
      else write += count;
    }
    const first = samples.find(([, n]) => n > 0)?.[0] ?? 0;
    const lastTotal = samples[samples.length - 1]![1];
    const last = samples.find(([, n]) => n === lastTotal)?.[0] ?? first;
    const apiSpanMs = Math.max(1, last - first);
    let peak = 0;
    for (let i = 0, j = 0; i < samples.length; i++) {
      while (samples[j]![0] < samples[i]![0] - o.rate.windowMs) j++;
      peak = Math.max(peak, samples[i]![1] - samples[j]![1]);
    }
    const run = figures(m);
    const records = o.contacts + o.companies;
    const total = read + write;
    const hubspotSides = run.sides.filter((x) => x.connection === 'hubspot');
    const floor = hubspotSides.reduce((t, x) => t + Math.ceil(x.read / 100) + Math.ceil((x.created + x.updated) / 100), 0);
    o.log(`  W4: ${Math.round(run.wallMs)} ms, ${total} calls (floor ${floor}), ${stats.rateLimited} 429s`);
    // The pass right after: what the sync's own writes cost to pass over.
    await fetch(`${emu.url}/_emulator/stats/reset`, { method: 'POST' });
    const next = figures(await runChild('sync', dir));
    const afterStats = emu.stats();
    const after = { total: afterStats.total, byRoute: afterStats.requests, read: next.sides.filter((x) => x.connection === 'hubspot').reduce((t, x) => t + x.read, 0) };
    o.log(`  W4 pass after: ${after.total} calls, ${after.read} HubSpot records read`);
    return {
      contacts: o.contacts, companies: o.companies, rate: o.rate, run, records,
      calls: { read, write, total, byRoute: stats.requests },
      perRecord: { read: read / records, write: write / records, total: total / records },
      budgetShare: total / (apiSpanMs / o.rate.windowMs) / o.rate.max,
      peakShare: peak / o.rate.max,
      apiSpanMs,
      rateLimited: stats.rateLimited,
      failed: run.failed + next.failed,
      floor,
      after,
    };
  } finally {
    await emu.close();
  }
}
