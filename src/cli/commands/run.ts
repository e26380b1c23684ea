/** `datasync run`: one pass, a table (or JSON), the documented exit code. */
import { loadConfig } from '../../config/load.js';
import { runOnce } from '../../engine/run.js';
import type { GlobalOptions } from '../main.js';
import { commandFailed } from '../errors.js';
import { startProgress } from '../progress.js';
import { renderOutcomes, renderPlan, renderSummaryTable } from '../render/run.js';
import { makeStyle } from '../render/style.js';
import { toJson } from '../render/json.js';
import { DatasyncError, EXIT } from '../../errors.js';
import { isAlive, readLock } from '../../state/lock.js';
import type { Config } from '../../config/types.js';
import type { SyncSummary } from '../../engine/types.js';
import { requestPass } from '../../watch.js';
import { append } from '../../lists.js';


/** A watcher holds the lock: ask it for a pass now ("sync now") and report that pass. */
async function askWatcher(config: Config, flags: RunFlags, signal: AbortSignal): Promise<number> {
  process.stderr.write(`datasync watch is running on this state (process ${readLock(config.state)?.pid}); asking it for a pass now…\n`);
  const pass = await requestPass(config, signal);
  if (!pass) {
    process.stderr.write('datasync: the watcher did not report a pass in time; see its log\n');
    return EXIT.app;
  }
  const summaries = pass.summary as SyncSummary[];
  const exitCode = pass.outcome === 'error' ? EXIT.app : pass.outcome === 'failed-records' ? EXIT.recordsFailed : EXIT.ok;
  const result = { runId: null, summaries, exitCode, interrupted: pass.outcome === 'interrupted' };
  process.stdout.write(flags.json
    ? `${JSON.stringify(toJson(result, false), null, 2)}\n`
    : `${[renderSummaryTable(result, makeStyle()), ...renderOutcomes(result, makeStyle(), false)].join('\n')}\n`);
  return exitCode;
}

export interface RunFlags {
  sync?: string[];
  dryRun?: boolean;
  /** With --dry-run: every planned action, not a summary and a sample. */
  full?: boolean;
  retryFailed?: boolean;
  json?: boolean;
}

export default async function run(flags: RunFlags, global: GlobalOptions): Promise<number> {
  let config: Config;
  try {
    config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
  } catch (err) {
    return commandFailed(err, flags.json);
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  // `on`, not `once`: ora's signal-exit re-raises a signal nobody else listens to, and a `once`
  // listener is gone by the time it looks, so the process died at once with no state saved.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const progress = await startProgress(!flags.json);
  try {
    const result = await runOnce(config, {
      syncs: flags.sync, dryRun: flags.dryRun, retryFailed: flags.retryFailed,
      signal: controller.signal, progress: (e) => progress.update(e),
    });
    progress.stop();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(toJson(result, flags.dryRun ?? false), null, 2)}\n`);
    } else {
      const style = makeStyle();
      const out: string[] = [];
      if (flags.dryRun) for (const s of result.summaries) append(out, renderPlan(s, style, flags.full ?? false));
      append(out, [renderSummaryTable(result, style), ...renderOutcomes(result, style, flags.dryRun ?? false)]);
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return result.interrupted ? EXIT.interrupted : result.exitCode;
  } catch (err) {
    progress.stop();
    // Ctrl-C while an app was being asked (its request aborted): an interruption, not a crash.
    if (controller.signal.aborted) {
      process.stderr.write('datasync: interrupted before any record was written; the next run starts again\n');
      return 130;
    }
    const watcher = err instanceof DatasyncError && err.kind === 'lock' ? readLock(config.state) : null;
    if (watcher?.watch && isAlive(watcher)) return askWatcher(config, flags, controller.signal);
    return commandFailed(err, flags.json);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
