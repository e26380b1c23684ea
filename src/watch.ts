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
import { acquireLock } from './state/lock.js';
import { openState } from './state/open.js';
import { StateStore } from './state/store.js';

export const requestPath = (statePath: string) => `${statePath}.run-request`;

export interface WatchOptions {
  configFile?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Overrides the YAML's `interval` (ms). */
  interval?: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function watch(opts: WatchOptions): Promise<number> {
  let config = await loadConfig({ file: opts.configFile, cwd: opts.cwd, env: opts.env });
  const lock = acquireLock(config.state, 'datasync watch', { watch: true });
  const interval = () => opts.interval ?? config.interval;
  opts.log(`watching ${config.file}: a pass every ${Math.round(interval() / 1000)} s (Ctrl-C to stop)`);
  try {
    for (let pass = 1; !opts.signal.aborted; pass++) {
      rmSync(requestPath(config.state), { force: true });
      const started = Date.now();
      try {
        config = await loadConfig({ file: opts.configFile, cwd: opts.cwd, env: opts.env });
        const result = await runOnce(config, { lock, signal: opts.signal, progress: (e) => { if (e.phase === 'wait') opts.log(waitLine(e)); } });
        opts.log(passLine(pass, result, Date.now() - started));
      } catch (err) {
        // Stopped while a pass waited on an app: the abort is ours, not a failure to report.
        if (opts.signal.aborted) break;
        // An app that is down, a config being edited: log it and try again next pass.
        opts.log(`pass ${pass} failed: ${failureText(err)}; retrying in ${Math.round(interval() / 1000)} s`);
      }
      await nextPass(config.state, interval(), opts.signal);
    }
    opts.log('stopped: state saved');
    return 0;
  } finally {
    lock.release();
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

function passLine(pass: number, result: RunResult, ms: number): string {
  const parts = result.summaries.map((s) => {
    const t = (k: 'read' | 'created' | 'updated' | 'failed') => `${s.sides.a[k]}/${s.sides.b[k]}`;
    return `${s.sync} ${s.outcome} (read ${t('read')}, created ${t('created')}, updated ${t('updated')}, failed ${t('failed')})`;
  });
  return `pass ${pass}: ${parts.join('; ') || 'no active syncs'} in ${ms} ms`;
}

/** Waits for the interval, a "sync now" request, or the stop signal. */
function nextPass(statePath: string, ms: number, signal: AbortSignal): Promise<void> {
  // Stopped during the pass: its 'abort' event has fired already and would never wake this wait.
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearInterval(poll);
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const poll = setInterval(() => {
      try {
        readFileSync(requestPath(statePath));
        done();
      } catch { /* no request */ }
    }, 250);
    signal.addEventListener('abort', done, { once: true });
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
