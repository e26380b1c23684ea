/** The one table (and the JSON) of a bench run, with issue 8's targets marked met / missed. */
import type { IdleResult } from './hubspot-idle.js';
import type { WebhooksResult } from './webhooks.js';
import type { DynamicsResult } from './dynamics.js';
import type { PostgresResult } from './postgres.js';
import type { ContactsResult, HubSpotResult } from './workloads.js';
import { append, largest } from '../src/lists.js';

export interface BenchResult {
  mode: 'quick' | 'full' | 'large';
  cores: number;
  node: string;
  platform: string;
  seed: number;
  /** Set by --batch-size (a what-if); otherwise the engine's default. */
  batchSize?: number;
  startedAt: string;
  contacts: ContactsResult[];
  hubspot?: HubSpotResult;
  /** W4 at 50,000 contacts + 10,000 companies (full mode). */
  hubspotLarge?: HubSpotResult;
  hubspotIdle?: IdleResult;
  /** W7: HubSpot webhooks into `watch` (bench/webhooks.ts). */
  webhooks?: WebhooksResult;
  dynamics?: DynamicsResult;
  /** W1-W3 between SQLite and PostgreSQL (bench/postgres.ts); absent without PostgreSQL or with --no-postgres. */
  postgres?: PostgresResult;
  large?: ContactsResult;
  verdicts: Verdict[];
}

export interface Verdict { target: string; figure: string; met: boolean | null }

type Row = [workload: string, n: string, figure: string, value: string, target: string, status: string];

const int = (n: number) => Math.round(n).toLocaleString('en');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const status = (met: boolean | null) => (met === null ? '' : met ? 'met' : 'MISSED');
/** MB with a decimal below 100 (figures of small runs), whole above. */
const mbs = (v: number) => (v < 100 ? v.toFixed(1) : int(v));
const mb = (v: number | null) => (v === null ? '? MB' : `${mbs(v)} MB`);
/** W3's disk writes beside the CSV file's size (issue 15: one rewrite at most, ≤ 2× the CSV in total). */
const w3Ratio = (r: ContactsResult) => (r.w3?.diskWrittenMb == null || !r.sizes.afterW3?.csvMb ? null : r.w3.diskWrittenMb / r.sizes.afterW3.csvMb);
const w3Written = (r: ContactsResult) => {
  const ratio = w3Ratio(r);
  return `${mb(r.w3!.diskWrittenMb)} (CSV ${r.sizes.afterW3 ? mbs(r.sizes.afterW3.csvMb) : '?'} MB${ratio === null ? '' : `, ${ratio.toFixed(2)}×`})`;
};

/** The 1,000,000 row of every workload (`--large`), with issue 15's targets. */
function largeRows(l: ContactsResult, verdicts: Verdict[]): Row[] {
  const n = int(l.n);
  const check = (target: string, figure: string, met: boolean | null): [string, string] => {
    verdicts.push({ target: `${target} (N=${n})`, figure, met });
    return [target, status(met)];
  };
  const rows: Row[] = [];
  const b = l.baseline;
  rows.push(['Scale: baseline (script)', n, 'peak RSS · wall · disk written', `${b.peakRssMb} MB · ${secs(b.wallMs)} · ${mb(b.diskWrittenMb)}`, '', '']);
  rows.push(['Scale: W1 initial sync', n, 'peak RSS', `${l.w1.peakRssMb} MB`, ...check('W1 peak RSS < 400 MB', `${l.w1.peakRssMb} MB`, l.w1.peakRssMb < 400)]);
  const ratio = l.w1.wallMs / b.wallMs;
  rows.push(['', n, 'wall (× baseline)', `${secs(l.w1.wallMs)} (${ratio.toFixed(1)}×)`, ...check('W1 ≤ 3× baseline', `${ratio.toFixed(1)}×`, ratio <= 3)]);
  const { csvMb, stateMb } = l.sizes.afterW1;
  const w1Disk = l.w1.diskWrittenMb;
  rows.push(['', n, 'disk written · CSV + state', `${mb(w1Disk)} · ${mbs(csvMb)} + ${mbs(stateMb)} MB`,
    ...check('W1 writes ≤ 3× (CSV + state)', mb(w1Disk), w1Disk === null ? null : w1Disk <= 3 * (csvMb + stateMb))]);
  if (l.w2) {
    rows.push(['Scale: W2 no-op', n, 'wall · peak RSS', `${secs(l.w2.wallMs)} · ${l.w2.peakRssMb} MB`,
      ...check('W2 < 1.5 s and < 150 MB', `${secs(l.w2.wallMs)} · ${l.w2.peakRssMb} MB`, l.w2.wallMs < 1500 && l.w2.peakRssMb < 150)]);
    rows.push(['', n, 'disk written · read sqlite · csv', `${mb(l.w2.diskWrittenMb)} · ${int(l.w2.read.a)} · ${int(l.w2.read.b)}`, '', '']);
  }
  if (l.w2again) rows.push(['Scale: W2 again', n, 'wall · peak RSS · disk written', `${secs(l.w2again.wallMs)} · ${l.w2again.peakRssMb} MB · ${mb(l.w2again.diskWrittenMb)}`, '', '']);
  if (l.w3) {
    rows.push(['Scale: W3 1% edited', n, 'wall · peak RSS', `${secs(l.w3.wallMs)} · ${l.w3.peakRssMb} MB`, ...check('W3 < 15 s', secs(l.w3.wallMs), l.w3.wallMs < 15_000)]);
    const r3 = w3Ratio(l);
    rows.push(['', n, 'disk written (× CSV size)', w3Written(l), ...check('W3 writes ≤ 2× the CSV', r3 === null ? '?' : `${r3.toFixed(2)}×`, r3 === null ? null : r3 <= 2)]);
  }
  return rows;
}

function contactRows(r: ContactsResult, verdicts: Verdict[]): Row[] {
  const n = int(r.n);
  const rows: Row[] = [];
  const check = (target: string, figure: string, met: boolean): [string, string] => {
    verdicts.push({ target: `${target} (N=${n})`, figure, met });
    return [target, status(met)];
  };
  const b = r.baseline;
  rows.push(['baseline (script)', n, 'wall (job) · peak RSS', `${secs(b.wallMs)} (${secs(b.jobMs)}) · ${b.peakRssMb} MB`, '', '']);
  const read = r.w1.read.a + r.w1.read.b;
  rows.push(['W1 initial sync', n, 'wall (job)', `${secs(r.w1.wallMs)} (${secs(r.w1.jobMs)})`,
    ...(r.n === 100_000 ? check('< 10 s', secs(r.w1.wallMs), r.w1.wallMs < 10_000) : ['', ''] as [string, string])]);
  rows.push(['', n, 'records/s (read, both sides)', `${int(read / (r.w1.wallMs / 1000))} (${int(read)} read)`, '', '']);
  const ratio = r.w1.wallMs / b.wallMs;
  rows.push(['', n, '× baseline (wall; job)', `${ratio.toFixed(1)}× ; ${(r.w1.jobMs / b.jobMs).toFixed(1)}×`,
    ...check('≤ 5× baseline', `${ratio.toFixed(1)}×`, ratio <= 5)]);
  rows.push(['', n, 'peak RSS · written · failed', `${r.w1.peakRssMb} MB · ${int(r.w1.written)} · ${r.w1.failed}`, '', '']);
  rows.push(['', n, 'disk written (baseline) · CSV + state', `${mb(r.w1.diskWrittenMb)} (${mb(b.diskWrittenMb)}) · ${mbs(r.sizes.afterW1.csvMb)} + ${mbs(r.sizes.afterW1.stateMb)} MB`, '', '']);
  if (r.w2) {
    rows.push(['W2 no-op incremental', n, 'wall (job)', `${secs(r.w2.wallMs)} (${secs(r.w2.jobMs)})`,
      ...(r.n === 100_000 ? check('< 1 s', secs(r.w2.wallMs), r.w2.wallMs < 1000) : ['', ''] as [string, string])]);
    rows.push(['', n, 'records read sqlite · csv', `${int(r.w2.read.a)} · ${int(r.w2.read.b)}`, '', '']);
    rows.push(['', n, 'peak RSS · disk written', `${r.w2.peakRssMb} MB · ${mb(r.w2.diskWrittenMb)}`, '', '']);
  }
  if (r.w2again) {
    rows.push(['W2 again (steady state)', n, 'wall (job) · read sqlite · csv',
      `${secs(r.w2again.wallMs)} (${secs(r.w2again.jobMs)}) · ${int(r.w2again.read.a)} · ${int(r.w2again.read.b)}`, '', '']);
  }
  if (r.w3) {
    rows.push(['W3 1% edited each side', n, 'wall (job)', `${secs(r.w3.wallMs)} (${secs(r.w3.jobMs)})`, '', '']);
    rows.push(['', n, 'edited sqlite · csv → written', `${int(r.w3.edited.sqlite)} · ${int(r.w3.edited.csv)} → ${int(r.w3.written)}`, '', '']);
    rows.push(['', n, 'peak RSS · disk written (× CSV size)', `${r.w3.peakRssMb} MB · ${w3Written(r)}`, '', '']);
  }
  return rows;
}

function hubspotRows(h: HubSpotResult, verdicts: Verdict[]): Row[] {
  const n = `${int(h.contacts)}+${int(h.companies)}`;
  const check = (target: string, figure: string, met: boolean): [string, string] => {
    verdicts.push({ target: `W4 ${n} ${target}`, figure, met });
    return [target, status(met)];
  };
  const pr = h.perRecord;
  return [
    ['W4 HubSpot ⇄ SQLite', n, `wall · rate limit`, `${secs(h.run.wallMs)} · ${h.rate.max}/${h.rate.windowMs / 1000}s (HubSpot: 190/10s${h.rate.windowMs === 10_000 ? '' : `, window ×${(10_000 / h.rate.windowMs).toFixed(1)} shorter`}${h.rate.max * 10_000 / h.rate.windowMs === 190 ? ', same rate' : ''})`, '', ''],
    ['', n, 'API calls/record read · write', `${pr.read.toFixed(4)} · ${pr.write.toFixed(4)} (${h.calls.read} + ${h.calls.write} calls)`,
      ...check('≤ 0.025 calls/record', pr.total.toFixed(4), pr.total <= 0.025)],
    ['', n, 'initial calls · floor (1 per 100 read or written)', `${h.calls.total} · ${h.floor} (×${(h.calls.total / h.floor).toFixed(2)})`,
      ...check('≤ 1.15 × floor', `×${(h.calls.total / h.floor).toFixed(2)}`, h.calls.total <= 1.15 * h.floor)],
    ['', n, 'pass after: calls (HubSpot records read)', `${h.after.total} (${h.after.read}): ${Object.entries(h.after.byRoute).map(([k, v]) => `${v} ${k.replace(/^(GET|POST) \/crm\/v[34]\//, '')}`).join(', ')}`,
      ...check('pass after ≤ 6 calls', String(h.after.total), h.after.total <= 6)],
    ['', n, 'rate budget used (mean · peak window)', `${(h.budgetShare * 100).toFixed(0)}% · ${(h.peakShare * 100).toFixed(0)}% over ${secs(h.apiSpanMs)}`,
      ...check('≥ 80% of budget', `${(h.budgetShare * 100).toFixed(0)}%`, h.budgetShare >= 0.8)],
    ['', n, '429s · failed records', `${h.rateLimited} · ${h.failed}`, ...check('0 failed', String(h.failed), h.failed === 0)],
  ];
}

function idleRows(h: IdleResult, verdicts: Verdict[]): Row[] {
  const n = int(h.contacts);
  const perChange = Math.ceil(h.changed.records / 100);
  const idleMet = h.idle.total <= 6;
  const changedMet = h.changed.total <= 6 + perChange;
  verdicts.push({ target: 'W5 idle pass ≤ 6 calls', figure: String(h.idle.total), met: idleMet });
  verdicts.push({ target: `W5 ${h.changed.records} changed ≤ 6 + 1 per 100 changed`, figure: String(h.changed.total), met: changedMet });
  return [
    ['W5 HubSpot idle (linked)', n, 'API calls: idle pass', `${h.idle.total} (${Object.entries(h.idle.byRoute).map(([k, v]) => `${v} ${k.replace('/crm/v3/', '')}`).join(', ')})`, '≤ 6', status(idleMet)],
    ['', n, `API calls: ${h.changed.records} changed in HubSpot`, String(h.changed.total), `≤ ${6 + perChange}`, status(changedMet)],
    ['', n, 'API calls: deletion check pass (hourly)', String(h.check.total), '', ''],
    ['', n, 'calls a day, watch --interval 5m', `${int(h.dailyWatch5m)} (every pass checking: ${int(h.dailyEveryPassCheck)})`, '', ''],
  ];
}

function webhookRows(h: WebhooksResult, verdicts: Verdict[]): Row[] {
  const n = int(h.contacts);
  const met = h.missed === 0 && h.latency.p95 < 5000;
  verdicts.push({ target: `W7 edit → SQLite p95 < 5 s (${h.edits} edits, webhooks, 10 min poll)`, figure: `${h.latency.p95} ms`, met });
  const saved = h.searchPerHour.polling5m - h.searchPerHour.webhooksHourlyPoll;
  return [
    ['W7 HubSpot webhooks → watch', n, `edit → SQLite p50 · p95 · max (${h.edits} edits)`, `${h.latency.p50} · ${h.latency.p95} · ${h.latency.max} ms${h.missed ? ` (${h.missed} missed)` : ''}`, 'p95 < 5 s', status(met)],
    ['', n, 'targeted passes · their calls', `${h.targetedPasses} · ${Object.entries(h.targetedCalls).map(([k, v]) => `${v} ${k.replace('/crm/v3/', '')}`).join(', ') || 'none'}`, '', ''],
    ['', n, 'search calls/h: poll 5m alone → webhooks + hourly poll', `${h.searchPerHour.polling5m} → ${h.searchPerHour.webhooksHourlyPoll} (saved ${saved}/h; polling every ${Math.max(1, h.latency.p95 / 1000).toFixed(1)} s for about the same latency: ${int(h.searchPerHour.pollingAtWebhookLatency)}/h)`, '', ''],
  ];
}

function dynamicsRows(d: DynamicsResult, verdicts: Verdict[]): Row[] {
  const n = `${int(d.contacts)}+${int(d.companies)}`;
  const under = d.calls.api <= d.limits.requests;
  verdicts.push({ target: 'W6 0 failed', figure: String(d.failed), met: d.failed === 0 });
  return [
    ['W6 Dynamics ⇄ SQLite (initial)', n, 'wall (job) · limits', `${secs(d.run.wallMs)} (${secs(d.run.jobMs)}) · ${int(d.limits.requests)} requests/${d.limits.windowMs / 1000}s, ${d.limits.concurrent} concurrent`, '', ''],
    ['', n, 'calls/record (Web API + token)', `${d.perRecord.toFixed(4)} (${d.calls.api} + ${d.calls.token}; ${d.calls.batches} $batch with ${int(d.calls.batchOperations)} operations)`, '', under ? 'within one window' : ''],
    ['', n, '429s · failed records', `${d.rateLimited} · ${d.failed}`, '0 failed', status(d.failed === 0)],
  ];
}

export function buildRows(r: BenchResult): { rows: Row[]; verdicts: Verdict[] } {
  const verdicts: Verdict[] = [];
  const rows: Row[] = [];
  for (const c of r.contacts) append(rows, contactRows(c, verdicts));
  if (r.hubspot) append(rows, hubspotRows(r.hubspot, verdicts));
  if (r.hubspotLarge) append(rows, hubspotRows(r.hubspotLarge, verdicts));
  if (r.hubspotIdle) append(rows, idleRows(r.hubspotIdle, verdicts));
  if (r.webhooks) append(rows, webhookRows(r.webhooks, verdicts));
  if (r.dynamics) append(rows, dynamicsRows(r.dynamics, verdicts));
  if (r.large) append(rows, largeRows(r.large, verdicts));
  return { rows, verdicts };
}

export function renderTable(r: BenchResult, rows: Row[]): string {
  const head: Row = ['workload', 'N', 'figure', 'value', 'target', 'status'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => largest(all.map((row) => row[i]!.length), 0));
  const line = (row: Row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `datasync bench (${r.mode}) · ${r.cores} cores (os.availableParallelism) · node ${r.node} · ${r.platform} · seed ${r.seed} · write batch ${r.batchSize ?? 'engine default'} · ${r.startedAt}`,
    '',
    line(head), rule, ...rows.map(line),
    '',
    'wall = spawn to exit of a child process (node start-up included); job = config load + runOnce (or the script) inside it.',
    'N = distinct contacts: 50% on both sides, 25% SQLite only, 25% CSV only; 12 mapped fields; W4, W6 N = contacts+companies.',
  ].join('\n');
}
