/**
 * Progress of long steps on stderr: a spinner with records and rate on a
 * terminal, nothing on a pipe (results go to stdout, logs to stderr).
 */
import type { ProgressEvent } from '../engine/types.js';

export interface Progress {
  update(e: ProgressEvent): void;
  stop(): void;
}

export async function startProgress(enabled: boolean): Promise<Progress> {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr, text: 'starting…' }).start();
  let since = Date.now();
  let key = '';
  return {
    update(e) {
      const k = `${e.sync}:${e.phase}:${'side' in e ? e.side : ''}`;
      if (k !== key) {
        key = k;
        since = Date.now();
      }
      const rate = (n: number) => `${Math.round(n / Math.max((Date.now() - since) / 1000, 0.001))}/s`;
      switch (e.phase) {
        case 'scan': spinner.text = `${e.sync}: scanning ${e.connection}… ${e.records} records (${rate(e.records)})`; break;
        case 'apply': spinner.text = `${e.sync}: in progress… ${e.done}/${e.total} (${rate(e.done)})`; break;
        case 'wait': spinner.text = `${e.sync}: queued (${e.reason}), resuming in ${Math.ceil(e.ms / 1000)} s`; break;
      }
    },
    stop: () => spinner.stop(),
  };
}
