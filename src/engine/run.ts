/**
 * A run (SPEC §6 `run`): one pass of every active sync, in dependency order,
 * under the state's lock, recorded in the state's run history.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Config, SyncConfig } from '../config/types.js';
import { DatasyncError, EXIT, exitCodeFor } from '../errors.js';
import { acquireLock, isAlive, readLock, type Lock } from '../state/lock.js';
import { openMemoryState, openState, stateDamage } from '../state/open.js';
import { stateTrouble } from '../state/trouble.js';
import { checkIdentity } from './identity.js';
import { StateStore, type Side } from '../state/store.js';
import { describeMappings } from '../mapping/describe.js';
import { buildBridge } from './associations.js';
import { prepare, selectSyncs, syncOrder, type PreparedSync } from './prepare.js';
import { emptySummary, runSync } from './run-sync.js';
import { Interrupted, Stopped } from './scan.js';
import type { ProgressEvent, SyncContext, SyncSummary } from './types.js';

export interface RunOptions {
  syncs?: string[];
  dryRun?: boolean;
  retryFailed?: boolean;
  signal?: AbortSignal;
  progress?: (e: ProgressEvent) => void;
  /** Already holding the lock (watch). */
  lock?: Lock | null;
  batchSize?: number;
  /**
   * A targeted pass (watch's webhooks): connection → object → record ids to
   * read; only syncs with a side among them run, reading just those records
   * (engine/targeted.ts). Not recorded in the run history.
   */
  targets?: Targets;
}

export type Targets = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

export interface RunResult {
  runId: number | null;
  summaries: SyncSummary[];
  exitCode: number;
  interrupted: boolean;
}

export async function runOnce(config: Config, opts: RunOptions = {}): Promise<RunResult> {
  const dryRun = opts.dryRun ?? false;
  const selected = syncOrder(selectSyncs(config, opts.syncs));
  // Nothing is written before everything that can be checked is checked.
  let waiting: { sync: string; reason: string; ms: number } | null = null;
  let current: string | null = null;
  const status: { store: StateStore | null; queued: boolean } = { store: null, queued: false };
  const scanned = new Map<string, number>(); // `${sync}:${side}` -> records
  let lastWrite = 0;
  const progress = (e: ProgressEvent) => {
    if (status.store && e.phase !== 'wait' && (status.queued || Date.now() - lastWrite > 1000)) {
      // Keep `health` current: "Scanning (N scanned)", or back from Queued.
      if (e.phase === 'scan') scanned.set(`${e.sync}:${e.side}`, e.records);
      const total = (scanned.get(`${e.sync}:a`) ?? 0) + (scanned.get(`${e.sync}:b`) ?? 0);
      status.store.setSyncStatus(e.sync, e.phase === 'scan' ? 'scanning' : 'in-progress', null, e.phase === 'scan' ? total : undefined);
      status.queued = false;
      lastWrite = Date.now();
    }
    opts.progress?.(e);
  };
  const stored = storedFacts(config, selected);
  const prepared = await prepare(config, selected.filter((s) => s.enabled), {
    signal: opts.signal,
    // What connectors derive from an app to find its changes (the csv connector's row hashes), beside the state,
    // one folder per state file (two configs may keep their states in one folder, as the example does).
    cache: { dir: join(dirname(config.state), 'cache', basename(config.state).replace(/\.db$/, '')), write: !dryRun },
    onWait: (reason, ms) => {
      waiting = { sync: current ?? '', reason, ms };
      opts.progress?.({ phase: 'wait', sync: current ?? '', reason, ms });
      // A wait a person would notice shows in `health` as Queued, after HubSpot.
      if (ms >= 1000 && current && status.store) {
        status.store.setSyncStatus(current, 'queued', `${reason}; resumes by itself in ${Math.ceil(ms / 1000)} s`);
        status.queued = true;
      }
    },
  }, (name) => stored.credentials.get(name), (name) => stored.cursors.get(name)).catch((err: unknown) => {
    // An app down or refusing before any sync started: `health` shows the syncs as Queued (error), not as listening.
    if (!dryRun && err instanceof DatasyncError && (err.kind === 'app' || err.kind === 'data')) recordAppDown(config, selected, err, opts.lock != null);
    throw err;
  });
  const lock = dryRun || opts.lock ? null : acquireLock(config.state, `datasync ${process.argv.slice(2).join(' ')}`.trim());
  const db = dryRun && !existsSync(config.state) ? openMemoryState() : openState(config.state);
  const store = new StateStore(db);
  if (!dryRun && !opts.targets) status.store = store;
  const runId = dryRun || opts.targets ? null : store.startRun();
  const summaries: SyncSummary[] = [];
  let appError: DatasyncError | null = null;
  let interrupted = false;
  try {
    for (const sync of selected) {
      // Before ensureSync overwrites the stored sides: links belong to what each side pointed at.
      checkIdentity(store, sync, config.connections, dryRun);
      const row = dryRun ? store.getSync(sync.name) : store.ensureSync(sync.name, sync.object, sync.between[0], sync.between[1]);
      if (!dryRun && row && !row.identities) checkIdentity(store, sync, config.connections, dryRun);
      if (!sync.enabled || row?.enabled === 0) {
        if (!dryRun) store.setSyncStatus(sync.name, 'stopped');
        continue;
      }
      if (!dryRun && !opts.targets) {
        for (const later of selected.slice(selected.indexOf(sync) + 1)) {
          if (store.getSync(later.name)) store.setSyncStatus(later.name, 'queued', `waiting for ${sync.name}`);
        }
      }
    }
    for (const p of prepared.syncs) {
      const { sync } = p;
      current = sync.name;
      const ctx: SyncContext = {
        sync,
        sides: {
          a: { side: 'a', connection: sync.between[0], connector: prepared.connectors.get(sync.between[0])!, spec: p.specs.a },
          b: { side: 'b', connection: sync.between[1], connector: prepared.connectors.get(sync.between[1])!, spec: p.specs.b },
        },
        mappings: p.mappings,
        store,
        dryRun,
        retryFailed: opts.retryFailed ?? false,
        signal: opts.signal,
        progress,
        batchSize: opts.batchSize,
        ownWrites: { a: !sharedObject(prepared.syncs, p, 0), b: !sharedObject(prepared.syncs, p, 1) },
      };
      if (opts.targets) {
        const ids = (i: 0 | 1) => opts.targets!.get(sync.between[i])?.get(sync.object);
        ctx.targets = { a: ids(0), b: ids(1) };
        if (!ctx.targets.a?.length && !ctx.targets.b?.length) continue;
      }
      if (!store.isEnabled(sync.name)) {
        summaries.push({ ...emptySummary(ctx), outcome: 'stopped' });
        continue;
      }
      ctx.associations = buildBridge(prepared.syncs, p, store);
      if (ctx.associations) ctx.mappings = [...p.mappings, ...ctx.associations.mappings];
      const fingerprint = settingsFingerprint(ctx);
      const before = store.getSync(sync.name)?.settings;
      ctx.rescan = before !== null && before !== undefined && before !== fingerprint;
      const partial = emptySummary(ctx);
      try {
        const summary = await runSync(ctx, partial);
        summary.mappings = describeMappings(ctx.mappings, sync.between[0], sync.between[1]);
        // A targeted pass leaves the settings fingerprint to the poll: a change of settings still rescans then.
        if (!dryRun && !opts.targets) {
          store.setMappings(sync.name, summary.mappings);
          store.setSettings(sync.name, fingerprint);
        }
        summaries.push(summary);
      } catch (err) {
        if (err instanceof Stopped) {
          summaries.push({ ...partial, outcome: 'stopped' });
          store.setSyncStatus(sync.name, 'stopped', 'stopped by `datasync stop`');
          continue;
        }
        // Ctrl-C between batches, or while an app was being asked (its request aborted): what was done is reported.
        if (err instanceof Interrupted || opts.signal?.aborted) {
          interrupted = true;
          summaries.push({ ...partial, outcome: 'interrupted' });
          if (!dryRun) store.setSyncStatus(sync.name, 'idle', 'interrupted: the next run resumes it');
          break;
        }
        // An app down, or its data unreadable (a malformed CSV): this sync stops, the others go on.
        if (!(err instanceof DatasyncError) || (err.kind !== 'app' && err.kind !== 'data')) throw err;
        appError = err;
        const w = waiting as { reason: string } | null;
        summaries.push({ ...emptySummary(ctx), outcome: 'error', error: { code: err.code, message: err.message, hint: err.hint } });
        if (!dryRun) {
          // Out of the day's calls (HubSpot's limit, or the reserve kept for other apps): it waits, it is not broken.
          const daily = err.code === 'DAILY_BUDGET_RESERVE' || err.code === 'RATE_LIMIT_DAILY';
          const queued = daily || (err.transient && w !== null && /rate limit/i.test(w.reason));
          store.setSyncStatus(sync.name, queued ? 'queued' : 'error', daily ? `daily budget: ${err.message}` : queued ? `rate limit: ${err.message}` : err.message);
        }
      }
    }
    const failedRecords = summaries.some((s) => s.outcome === 'failed-records');
    const exitCode = appError ? exitCodeFor(appError) : failedRecords ? EXIT.recordsFailed : EXIT.ok;
    if (runId !== null) {
      const outcome = interrupted ? 'interrupted' : appError ? 'error' : failedRecords ? 'failed-records' : 'ok';
      store.finishRun(runId, outcome, summaries, appError?.message);
    }
    return { runId, summaries, exitCode, interrupted };
  } catch (err) {
    const damaged = stateDamage(err, config.state) ?? stateTrouble(err, config.state);
    if (runId !== null && !damaged) store.finishRun(runId, 'error', summaries, (err as Error).message);
    throw damaged ?? err;
  } finally {
    await prepared.close();
    db.close();
    lock?.release();
  }
}

/** Whether the app object on side `i` of `p` is written by another side of a sync of this run too. */
function sharedObject(syncs: PreparedSync[], p: PreparedSync, i: 0 | 1): boolean {
  const conn = p.sync.between[i];
  const users = syncs.flatMap((q) => q.sync.between.filter((c) => c === conn && q.sync.object === p.sync.object));
  return users.length > 1;
}

/** What decides which records take part and how: when it changes, the next pass reads everything. */
function settingsFingerprint(ctx: SyncContext): string {
  const { sync } = ctx;
  const filters = Object.fromEntries(Object.entries(sync.filters).map(([k, v]) => [k, v.map(({ field, op, value }) => ({ field, op, value }))]));
  const mappings = ctx.mappings.map((m) => [m.a.name, m.a.type, m.b.name, m.b.type, m.flow, m.valuesAtoB ?? null]);
  const text = JSON.stringify([sync.object, sync.between, sync.direction, sync.defaultApp, sync.match, sync.rules, filters, sync.clears, sync.associations, mappings]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * Credentials stored by `datasync connect`, by connection name. A value in
 * the YAML (e.g. `token: ${HUBSPOT_TOKEN}`) wins over a stored one.
 */
/**
 * What earlier runs stored that a run needs before it takes the lock (one
 * read-only look at the state): the credentials of connections, and per
 * connection and object the cursors saved for the given syncs (a hint for
 * `Connector.check`).
 */
export function storedFacts(config: Config, syncs: SyncConfig[]): {
  credentials: Map<string, Record<string, unknown>>; cursors: Map<string, Map<string, string[]>>;
} {
  const credentials = new Map<string, Record<string, unknown>>();
  const cursors = new Map<string, Map<string, string[]>>();
  if (!existsSync(config.state)) return { credentials, cursors };
  const db = openState(config.state, { readonly: true, untouched: true });
  try {
    const store = new StateStore(db);
    for (const c of store.listConnections()) {
      const oauth = c.credential.oauth as Record<string, unknown> | undefined;
      // A refreshed OAuth token is stored at once (HubSpot: refresh tokens are long-lived, access tokens 30 min).
      const onCredentialRefresh = oauth && ((t: { accessToken: string; refreshToken: string; expiresAt: number | string }) => {
        const state = openState(config.state);
        try {
          new StateStore(state).updateCredential(c.name, {
            ...c.credential, oauth: { ...oauth, access_token: t.accessToken, refresh_token: t.refreshToken, expires_at: t.expiresAt },
          });
        } finally {
          state.close();
        }
      });
      credentials.set(c.name, onCredentialRefresh ? { ...c.credential, onCredentialRefresh } : c.credential);
    }
    for (const sync of syncs) {
      for (const [i, side] of (['a', 'b'] as const).entries()) {
        const cursor = store.getCursor(sync.name, side);
        if (cursor === null) continue;
        const conn = sync.between[i]!;
        const objects = cursors.get(conn) ?? cursors.set(conn, new Map()).get(conn)!;
        (objects.get(sync.object) ?? objects.set(sync.object, []).get(sync.object)!).push(cursor);
      }
    }
  } finally {
    db.close();
  }
  return { credentials, cursors };
}

export type { Side };

/** Marks the syncs of a run that could not start because an app failed its check (never while another process runs). */
function recordAppDown(config: Config, syncs: { name: string; enabled: boolean }[], err: DatasyncError, holdsLock: boolean): void {
  const holder = readLock(config.state);
  if (!existsSync(config.state) || (!holdsLock && holder !== null && isAlive(holder))) return;
  const db = openState(config.state);
  try {
    const store = new StateStore(db);
    const daily = err.code === 'DAILY_BUDGET_RESERVE' || err.code === 'RATE_LIMIT_DAILY';
    for (const s of syncs) {
      if (!s.enabled || !store.isEnabled(s.name) || !store.getSync(s.name)) continue;
      store.setSyncStatus(s.name, daily ? 'queued' : 'error', daily ? `daily budget: ${err.message}` : err.message);
    }
  } finally {
    db.close();
  }
}
