/**
 * `datasync watch`: a pass, then one every interval, never overlapping. It
 * holds the state's lock for its whole life; a `datasync run` from another
 * terminal drops a request file and the watcher runs a pass at once. Ctrl-C
 * or SIGTERM ends the pass at the next batch boundary, with the state saved.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { DatasyncError } from './errors.js';
import { runOnce, type RunResult } from './engine/run.js';
import { waitLine } from './cli/progress.js';
import { acquireLock, type Lock } from './state/lock.js';
import { openState, type StateDb } from './state/open.js';
import { StateStore } from './state/store.js';
import { configError } from './errors.js';
import { WebhookHub } from './webhooks.js';
import { parseListen, parseWebhookSettings, type WebhookSettings } from '../connectors/hubspot/webhooks.js';

export const requestPath = (statePath: string) => `${statePath}.run-request`;

/** Hints gather this long before a targeted pass starts, so a burst of events is one pass. */
export const COALESCE_MS = 200;
/** Record ids read by one targeted pass at most (a batch read per 100); the rest wait for the next. */
export const MAX_TARGETED = 10_000;

export interface WatchOptions {
  configFile?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Overrides the YAML's `interval` (ms). */
  interval?: number;
  /** `--listen HOST:PORT`: where the webhook receiver listens (overrides each `webhooks.listen`). */
  listen?: string;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function watch(opts: WatchOptions): Promise<number> {
  let config = await loadConfig({ file: opts.configFile, cwd: opts.cwd, env: opts.env });
  const endpoints = webhookEndpoints(config, opts.listen, opts.env);
  const lock = acquireLock(config.state, 'datasync watch', { watch: true });
  const interval = () => opts.interval ?? config.interval;
  opts.log(`watching ${config.file}: a pass every ${Math.round(interval() / 1000)} s (Ctrl-C to stop)`);
  const hub = endpoints.length > 0 ? new WebhookHub(opts.log) : null;
  let stats: WebhookStatsWriter | null = null;
  try {
    if (hub) {
      const urls = await hub.start(endpoints).catch((err: Error) => {
        throw configError('CONFIG_INVALID', `webhooks: cannot listen on ${endpoints.map((e) => `${e.host}:${e.port}`).join(', ')}: ${err.message}`, {
          hint: 'another program holds the port; set webhooks.listen (or --listen HOST:PORT) to a free one',
        });
      });
      for (const [i, url] of urls.entries()) opts.log(`webhooks ${endpoints[i]!.connection}: listening on ${url} (HubSpot events trigger a targeted pass; polling goes on)`);
      stats = new WebhookStatsWriter(config.state, hub);
    }
    let nextPoll = 0;
    let requested = false;
    let targetedPass = 0;
    for (let pass = 1; !opts.signal.aborted;) {
      if (requested || Date.now() >= nextPoll || hub?.overflowed) {
        rmSync(requestPath(config.state), { force: true });
        hub?.clearOverflow();
        const started = Date.now();
        try {
          config = await loadConfig({ file: opts.configFile, cwd: opts.cwd, env: opts.env });
          const result = await runOnce(config, { lock, signal: opts.signal, progress: (e) => { if (e.phase === 'wait') opts.log(waitLine(e)); } });
          opts.log(passLine(`pass ${pass}`, result, Date.now() - started));
        } catch (err) {
          // Stopped while a pass waited on an app: the abort is ours, not a failure to report.
          if (opts.signal.aborted) break;
          // An app that is down, a config being edited: log it and try again next pass.
          opts.log(`pass ${pass} failed: ${failureText(err)}; retrying in ${Math.round(interval() / 1000)} s`);
        }
        pass++;
        nextPoll = Date.now() + interval();
      } else if (hub && hub.waiting > 0) {
        targetedPass++;
        await runTargeted(config, hub, targetedPass, lock, opts);
        if (opts.signal.aborted) break;
      }
      stats?.write();
      requested = (await nextWake(config.state, nextPoll - Date.now(), opts.signal, hub)) === 'request';
    }
    opts.log('stopped: state saved');
    return 0;
  } finally {
    await hub?.close();
    stats?.close();
    lock.release();
  }
}

/** One targeted pass over the records the webhooks named (engine/targeted.ts). */
async function runTargeted(config: Config, hub: WebhookHub, n: number, lock: Lock, opts: WatchOptions): Promise<void> {
  const targets = hub.drain(MAX_TARGETED);
  const count = [...targets.values()].reduce((sum, objects) => sum + [...objects.values()].reduce((k, ids) => k + ids.length, 0), 0);
  const started = Date.now();
  try {
    const result = await runOnce(config, { lock, signal: opts.signal, targets, progress: (e) => { if (e.phase === 'wait') opts.log(waitLine(e)); } });
    hub.passDone(targets.keys());
    opts.log(passLine(`targeted pass ${n} (${count} records from webhooks)`, result, Date.now() - started));
  } catch (err) {
    if (opts.signal.aborted) return;
    hub.passDone(targets.keys());
    // The hints are dropped, not lost: the next poll reads every change since the last one.
    opts.log(`targeted pass ${n} failed: ${failureText(err)}; the next poll reads those changes`);
  }
}

/**
 * The webhook receivers to start: each HubSpot connection's `webhooks:`
 * block; `--listen` sets their address, and without any block it receives
 * for every HubSpot connection with the secret in HUBSPOT_CLIENT_SECRET.
 */
export function webhookEndpoints(config: Config, listen: string | undefined, env: NodeJS.ProcessEnv): WebhookSettings[] {
  const address = listen === undefined ? undefined : parseListen(listen);
  if (listen !== undefined && !address) throw configError('BAD_ARGUMENT', `--listen: expected HOST:PORT, e.g. 127.0.0.1:8480, got "${listen}"`);
  const hubspot = Object.values(config.connections).filter((c) => c.app === 'hubspot');
  let out = hubspot.flatMap((c) => parseWebhookSettings(c.name, c.webhooks) ?? []);
  if (out.length === 0 && address) {
    const secret = env.HUBSPOT_CLIENT_SECRET;
    if (hubspot.length === 0) throw configError('BAD_ARGUMENT', '--listen: no HubSpot connection to receive webhooks for', { hint: 'webhooks come from HubSpot connections only' });
    if (!secret) {
      throw configError('BAD_ARGUMENT', '--listen: no HubSpot connection has a webhooks: block with client_secret, and HUBSPOT_CLIENT_SECRET is not set', {
        hint: 'add webhooks: { client_secret: ${HUBSPOT_CLIENT_SECRET} } to the HubSpot connection, or set HUBSPOT_CLIENT_SECRET',
      });
    }
    out = hubspot.map((c) => parseWebhookSettings(c.name, { client_secret: secret })!);
  }
  if (address) out = out.map((s) => ({ ...s, ...address }));
  const seen = new Set<string>();
  for (const s of out) {
    const key = `${s.host}:${s.port}${s.port === 0 ? `#${s.connection}` : ''} ${s.path}`;
    if (seen.has(key)) throw configError('CONFIG_INVALID', `connections.${s.connection}.webhooks: ${s.host}:${s.port}${s.path} is the endpoint of another connection too`, { hint: 'give each connection its own webhooks.path' });
    seen.add(key);
  }
  return out;
}

/** Writes the receivers' counters to the state for `health`, at most once a second. */
class WebhookStatsWriter {
  private readonly db: StateDb;
  private readonly store: StateStore;
  private readonly started = new Date().toISOString();
  private readonly timer: NodeJS.Timeout;
  constructor(statePath: string, private readonly hub: WebhookHub) {
    this.db = openState(statePath);
    this.store = new StateStore(this.db);
    this.hub.dirty = true;
    this.write();
    this.timer = setInterval(() => this.write(), 1000);
  }
  write(): void {
    if (!this.hub.dirty) return;
    this.hub.dirty = false;
    try {
      this.store.saveWebhooks(this.hub.stats(), process.pid, this.started);
    } catch { /* a busy state: the next second writes it */ this.hub.dirty = true; }
  }
  close(): void {
    clearInterval(this.timer);
    this.hub.dirty = true;
    this.write();
    this.store.stopWebhooks(process.pid);
    this.db.close();
  }
}

/** An error as one log entry: every config problem on its own line with its position, never a stack. */
export function failureText(err: unknown): string {
  if (!(err instanceof DatasyncError)) {
    const e = err as Error;
    const stack = process.env.DATASYNC_DEBUG ? `\n${e?.stack ?? ''}` : ' (set DATASYNC_DEBUG=1 for its stack)';
    return `unexpected error: ${e?.message ?? String(err)}${stack}`;
  }
  const problems = (err.problems ?? []).map((p) => `\n  ${p}`).join('');
  return `${err.message}${problems.length > 0 ? ':' : ''}${problems}${err.hint ? `\n  hint: ${err.hint}` : ''}`;
}

function passLine(label: string, result: RunResult, ms: number): string {
  const parts = result.summaries.map((s) => {
    const t = (k: 'read' | 'created' | 'updated' | 'failed') => `${s.sides.a[k]}/${s.sides.b[k]}`;
    return `${s.sync} ${s.outcome} (read ${t('read')}, created ${t('created')}, updated ${t('updated')}, failed ${t('failed')})`;
  });
  return `${label}: ${parts.join('; ') || 'no active syncs'} in ${ms} ms`;
}

/**
 * Waits for the next poll, a "sync now" request, the stop signal, or
 * webhook hints (then a little longer, so a burst is one targeted pass).
 */
function nextWake(statePath: string, ms: number, signal: AbortSignal, hub: WebhookHub | null): Promise<'poll' | 'request' | 'hint' | 'stop'> {
  // Stopped during the pass: its 'abort' event has fired already and would never wake this wait.
  if (signal.aborted) return Promise.resolve('stop');
  return new Promise((resolve) => {
    let gather: NodeJS.Timeout | undefined;
    let finished = false;
    const done = (why: 'poll' | 'request' | 'hint' | 'stop') => {
      finished = true;
      clearInterval(poll);
      clearTimeout(timer);
      clearTimeout(gather);
      hub?.cancelWait();
      signal.removeEventListener('abort', stop);
      resolve(why);
    };
    const stop = () => done('stop');
    const timer = setTimeout(() => done('poll'), Math.max(0, ms));
    const poll = setInterval(() => {
      try {
        readFileSync(requestPath(statePath));
        done('request');
      } catch { /* no request */ }
    }, 250);
    signal.addEventListener('abort', stop, { once: true });
    hub?.nextHint().then(() => {
      if (finished) return;
      gather = setTimeout(() => done('hint'), hub.overflowed ? 0 : Math.max(0, COALESCE_MS - hub.waitingFor()));
    });
  });
}

/**
 * From `datasync run` while a watcher holds the lock: ask it for a pass now
 * and wait for that pass to be recorded.
 */
export async function requestPass(config: Config, signal?: AbortSignal, timeoutMs = 30 * 60_000): Promise<{ outcome: string; summary: unknown } | null> {
  const asked = new Date().toISOString();
  writeFileSync(requestPath(config.state), JSON.stringify({ pid: process.pid, at: asked }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    const db = openState(config.state, { readonly: true });
    try {
      const run = new StateStore(db).lastRun();
      if (run && run.started_at >= asked && run.finished_at) return { outcome: run.outcome ?? 'ok', summary: JSON.parse(run.summary ?? '[]') };
    } finally {
      db.close();
    }
  }
  return null;
}
