/** `datasync run`: one pass, a table (or JSON), the documented exit code. */
import { loadConfig } from '../../config/load.js';
import { runOnce } from '../../engine/run.js';
import type { GlobalOptions } from '../main.js';
import { renderError } from '../errors.js';
import { startProgress } from '../progress.js';
import { renderOutcomes, renderPlan, renderSummaryTable } from '../render/run.js';
import { makeStyle } from '../render/style.js';
import { toJson } from '../render/json.js';

export interface RunFlags {
  sync?: string[];
  dryRun?: boolean;
  retryFailed?: boolean;
  json?: boolean;
}

export default async function run(flags: RunFlags, global: GlobalOptions): Promise<number> {
  const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
      if (flags.dryRun) for (const s of result.summaries) out.push(...renderPlan(s, style));
      out.push(renderSummaryTable(result, style), ...renderOutcomes(result, style, flags.dryRun ?? false));
      process.stdout.write(`${out.join('\n')}\n`);
    }
    return result.interrupted ? 130 : result.exitCode;
  } catch (err) {
    progress.stop();
    return renderError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
