/**
 * `datasync health` as data (SPEC §6): per sync its status, counts, last run,
 * and on request the failed records grouped by reason and the excluded ones.
 * Read-only: it never takes the lock and never writes the state.
 */
import { describeGone } from './engine/departures.js';
import { existsSync } from 'node:fs';
import type { Config } from './config/types.js';
import type { MappingRow } from './mapping/describe.js';
import { isAlive, readLock } from './state/lock.js';
import { openState } from './state/open.js';
import { StateStore, type StatusRow, type SyncRow } from './state/store.js';

export type StatusName = 'No active syncs' | 'Scanning' | 'In progress' | 'Active and listening' | 'Queued';

export interface SyncHealth {
  name: string;
  object: string;
  between: [string, string];
  enabled: boolean;
  status: StatusName;
  /** The status as HubSpot shows it, with its detail: `Scanning (1200 scanned)`, `Queued (rate limit)`. */
  statusText: string;
  counts: { inSync: number; failed: number; excluded: number; deletedLinks: number };
  lastRun: { at: string; outcome: string; ageSeconds: number } | null;
  lastSuccessAt: string | null;
  /** True when the last successful pass is older than three intervals. */
  stale: boolean;
  mappings: MappingRow[];
  /** Connection → how it finds changes in the object, as `connect` found it (postgres). */
  changes?: Record<string, string>;
  failed?: HealthGroup[];
  excluded?: HealthGroup[];
  /** `how`: `deleted in hubspot`, or why where the app said (`merged in hubspot into #12`, `deleted in hubspot (privacy): …`). */
  deleted?: { a: string; b: string; deletedIn: string; how: string }[];
  /** What the last run warned about in the apps' data (a row with a change time in the future, …). */
  warnings?: string[];
}

export interface HealthRecord {
  connection: string;
  id: string;
  /** What a person recognises the record by: its email, domain or name (from its match keys), when known. */
  label?: string;
  /** The full reason, e.g. the app's message. */
  detail: string;
  attempts?: number;
  nextRetryAt?: string | null;
}

export interface HealthGroup {
  reason: string;
  /** What to do about records failed or excluded for this reason. */
  advice: string;
  count: number;
  records: HealthRecord[];
}

/** A webhook receiver of `watch` (issue 18), per HubSpot connection. */
export interface WebhookHealth {
  connection: string;
  /** True while the watcher that receives them runs. */
  live: boolean;
  url: string;
  events: number;
  duplicates: number;
  signatureFailures: number;
  lastEventAt: string | null;
  /** Events a minute over the last 10 minutes the receiver listened (at most). */
  eventsPerMinute: number;
  targetedPasses: number;
  lastPassAt: string | null;
  lastFailureAt: string | null;
  lastFailure: string | null;
  startedAt: string;
  stoppedAt: string | null;
}

export interface HealthReport {
  version: 1;
  state: string;
  syncs: SyncHealth[];
  /** Webhook receivers `watch` ran or runs (present once one has). */
  webhooks?: WebhookHealth[];
  /** 0 healthy; 1 a sync has failed records or its last successful pass is older than three intervals. */
  exitCode: number;
}

export function health(config: Config, opts: { sync?: string; failed?: boolean; excluded?: boolean; now?: Date } = {}): HealthReport {
  const now = opts.now ?? new Date();
  const defined = config.syncs.filter((s) => !opts.sync || s.name === opts.sync);
  const store = existsSync(config.state) ? new StateStore(openState(config.state, { readonly: true, untouched: true })) : null;
  try {
    const lock = readLock(config.state);
    const running = lock !== null && isAlive(lock);
    const watcher = running && lock.watch === true;
    const syncs = defined.map((s): SyncHealth => {
      const row = store?.getSync(s.name);
      const enabled = s.enabled && (row?.enabled ?? 1) === 1;
      const statuses = store?.countStatuses(s.name) ?? { failed: 0, excluded: 0 };
      const links = store?.countLinks(s.name) ?? { live: 0, deleted: { a: 0, b: 0 } };
      const last = store?.lastRunOf(s.name);
      const sinceSuccess = row?.last_success_at ? now.getTime() - Date.parse(row.last_success_at) : null;
      const listening = watcher || (sinceSuccess !== null && sinceSuccess <= LISTENING_SLACK * config.interval);
      const { status, text } = statusOf(row, enabled, running, listening, sinceSuccess, config.interval);
      // A sync being scanned or written is not stale, even before its first success.
      const busy = running && (status === 'Scanning' || status === 'In progress');
      const stale = enabled && !busy && row !== undefined && (sinceSuccess === null
        ? last !== undefined
        : sinceSuccess > 3 * config.interval);
      const side = (x: 'a' | 'b') => (x === 'a' ? s.between[0] : s.between[1]);
      const h: SyncHealth = {
        name: s.name, object: s.object, between: s.between, enabled, status, statusText: text,
        counts: { inSync: store?.countInSync(s.name) ?? 0, failed: statuses.failed, excluded: statuses.excluded, deletedLinks: links.deleted.a + links.deleted.b },
        lastRun: last ? { at: last.started_at, outcome: last.outcome, ageSeconds: Math.round((now.getTime() - Date.parse(last.started_at)) / 1000) } : null,
        lastSuccessAt: row?.last_success_at ?? null,
        stale,
        mappings: row?.mappings ? JSON.parse(row.mappings) as MappingRow[] : [],
      };
      for (const conn of s.between) {
        const info = store?.getConnection(conn)?.info as { objects?: { name: string; changes?: string }[] } | null | undefined;
        const found = info?.objects?.find((o) => o.name === s.object)?.changes;
        if (found) (h.changes ??= {})[conn] = found;
      }
      const warned = lastWarnings(last?.warnings ?? null);
      if (warned.length > 0) h.warnings = warned;
      const label = (x: 'a' | 'b', id: string, reason: string) => labelOf(store!.keysOfRecord(s.name, x, id), reason);
      if (opts.failed && store) h.failed = group(store.listStatuses(s.name, 'failed'), side, true, label);
      if (opts.excluded && store) h.excluded = group(store.listStatuses(s.name, 'excluded'), side, false, label);
      if (store && h.counts.deletedLinks > 0) {
        h.deleted = store.deletedLinks(s.name).map((l) => ({ a: l.a_id, b: l.b_id, deletedIn: side(l.deleted), how: describeGone(l.gone, side(l.deleted)) }));
      }
      return h;
    });
    const exitCode = syncs.some((s) => s.counts.failed > 0 || s.stale) ? 1 : 0;
    const webhooks = store ? webhookHealth(store, now) : [];
    return { version: 1, state: config.state, syncs, ...(webhooks.length > 0 ? { webhooks } : {}), exitCode };
  } finally {
    store?.db.close();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The receivers' rows (a state from before migration 8 has none). */
function webhookHealth(store: StateStore, now: Date): WebhookHealth[] {
  let rows: ReturnType<StateStore['listWebhooks']>;
  try {
    rows = store.listWebhooks();
  } catch {
    return [];
  }
  return rows.map((r) => {
    const live = r.stoppedAt === null && pidAlive(r.pid);
    // Over the last 10 minutes, or the time the receiver has listened if shorter (at least a minute).
    const minute = Math.floor(now.getTime() / 60_000);
    const recent = Object.entries(r.minutes).filter(([m]) => Number(m) > minute - 10).reduce((sum, [, n]) => sum + n, 0);
    const listenedMin = Math.min(10, Math.max(1, (now.getTime() - Date.parse(r.startedAt)) / 60_000));
    return {
      connection: r.connection, live, url: r.url, events: r.events, duplicates: r.duplicates, signatureFailures: r.signatureFailures,
      lastEventAt: r.lastEventAt, eventsPerMinute: Math.round((recent / listenedMin) * 10) / 10, targetedPasses: r.targetedPasses,
      lastPassAt: r.lastPassAt, lastFailureAt: r.lastFailureAt, lastFailure: r.lastFailure, startedAt: r.startedAt, stoppedAt: r.stoppedAt,
    };
  });
}

/**
 * Listening without a watcher means a schedule (cron, a timer) runs passes at
 * about the interval: the last success is at most this many intervals old.
 */
const LISTENING_SLACK = 1.5;

function statusOf(row: SyncRow | undefined, enabled: boolean, running: boolean, listening: boolean,
  sinceSuccess: number | null, interval: number): { status: StatusName; text: string } {
  if (!row || !enabled) return { status: 'No active syncs', text: enabled ? 'No active syncs (never run)' : 'No active syncs (stopped)' };
  switch (row.status) {
    case 'scanning':
      return running ? { status: 'Scanning', text: `Scanning (${row.scanned} scanned)` } : interrupted();
    case 'in-progress':
      return running ? { status: 'In progress', text: 'In progress' } : interrupted();
    case 'listening': {
        // What the last pass noticed and did not act on (a suspect listing).
        const noted = row.status_detail ? `; warning: ${row.status_detail}` : '';
        if (listening) return { status: 'Active and listening', text: `Active and listening${noted ? ` (${noted.slice(2)})` : ''}` };
        return {
          status: 'No active syncs',
          text: `No active syncs (up to date as of ${ago(sinceSuccess ?? 0)}, but nothing listens: no \`datasync watch\` runs `
            + `and no pass came within the interval (${ago(interval).replace(' ago', '')}); start \`datasync watch\` or schedule \`datasync run\`${noted})`,
        };
    }
    case 'queued':
      return { status: 'Queued', text: `Queued (${row.status_detail ?? 'waiting'})` };
    case 'error':
      return { status: 'Queued', text: `Queued (${row.status_detail ?? 'error'}; retried on the next run)` };
    case 'stopped':
      return { status: 'No active syncs', text: 'No active syncs (stopped)' };
    case 'idle':
      return row.status_detail ? { status: 'Queued', text: `Queued (${row.status_detail})` } : { status: 'No active syncs', text: 'No active syncs (never run)' };
  }
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return s < 172800 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} days ago`;
}

/** The warnings a sync's last run stored (a JSON list in its summary). */
function lastWarnings(json: string | null): string[] {
  if (!json) return [];
  try {
    const list = JSON.parse(json) as unknown;
    return Array.isArray(list) ? list.filter((w): w is string => typeof w === 'string') : [];
  } catch {
    return [];
  }
}

const interrupted = () => ({ status: 'Queued' as const, text: 'Queued (the last run was interrupted; the next run resumes it)' });

function group(rows: StatusRow[], side: (x: 'a' | 'b') => string, withRetry: boolean,
  label: (x: 'a' | 'b', id: string, reason: string) => string | undefined): HealthGroup[] {
  const byReason = new Map<string, StatusRow[]>();
  for (const r of rows) {
    // Group "duplicate match key (email:x): also on 7" under one reason.
    const reason = r.reason.replace(/ \(.*$/, '');
    byReason.set(reason, [...(byReason.get(reason) ?? []), r]);
  }
  // Natural order: crm#2 before crm#10.
  const order = new Intl.Collator('en', { numeric: true });
  return [...byReason].sort((x, y) => y[1].length - x[1].length).map(([reason, list]) => ({
    reason,
    advice: adviceFor(reason, list[0] ? side(list[0].side) : '', list[0]?.reason ?? reason),
    count: list.length,
    records: list
      .sort((x, y) => order.compare(x.side, y.side) || order.compare(x.record_id, y.record_id))
      .map((r): HealthRecord => {
        const known = label(r.side, r.record_id, r.reason);
        const base = { connection: side(r.side), id: r.record_id, ...(known ? { label: known } : {}), detail: r.reason };
        return withRetry ? { ...base, attempts: r.attempts, nextRetryAt: r.next_retry_at } : base;
      }),
  }));
}

/** The email, domain or name among a record's match keys (or named in its reason), for people. */
function labelOf(keys: string[], reason: string): string | undefined {
  const fromReason = /\((email|domain|name):([^)]*)\)/.exec(reason);
  for (const kind of ['email', 'domain', 'name']) {
    const key = keys.find((k) => k.startsWith(`${kind}:`));
    if (key) return key.slice(kind.length + 1);
  }
  return fromReason?.[2];
}

/** For each reason, what a person can do about it. */
function adviceFor(reason: string, connection: string, example: string): string {
  const kind = /\((email|domain|name|[^:)]+):/.exec(example)?.[1] ?? 'key';
  if (reason.startsWith('duplicate match key')) return `two or more ${connection} records share this ${kind}: merge them or change one; the next run pairs the one left`;
  if (reason === 'no email') return `add an email to the record in ${connection}, or set rules.only_with_email: false for this sync`;
  if (reason === 'invalid email') return `correct the email in ${connection}; the next run picks the change up`;
  if (reason.startsWith('filter')) return `it does not pass this sync's filter for ${connection}: change the record or the filter in the sync file`;
  if (/rejected it/.test(reason)) return 'fix the value the app refuses (its message is beside each record); the record is retried at the next run, or now with `datasync run --retry-failed`';
  return 'see the reason beside each record; failed records are retried at the next run, or now with `datasync run --retry-failed`';
}
