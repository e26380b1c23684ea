/** `datasync watch [--interval 5m] [--listen HOST:PORT]` */
import { durationMs } from '../../config/duration.js';
import { watch } from '../../watch.js';
import type { GlobalOptions } from '../main.js';
import { renderError } from '../errors.js';

export default async function watchCommand(flags: { interval?: string; listen?: string }, global: GlobalOptions): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  // `on`, not `once`: ora's signal-exit re-raises a signal nobody else listens to, and a `once`
  // listener is gone by the time it looks, so the process died at once with no state saved.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const interval = flags.interval === undefined ? undefined : durationMs(flags.interval, '--interval');
    return await watch({
      configFile: global.config, cwd: process.cwd(), env: process.env, interval, listen: flags.listen, signal: controller.signal,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (err) {
    return renderError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
