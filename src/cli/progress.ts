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
  // A terminal of 0 columns (a pseudo-terminal nobody sized) made ora clear an endless number of lines.
  if (!enabled || !process.stderr.isTTY || !process.stderr.columns) return { update: () => undefined, stop: () => undefined };
  const { default: ora } = await import('ora');
  // discardStdin would put the terminal in raw mode, where Ctrl-C is a keystroke and never a SIGINT.
  const spinner = ora({ stream: process.stderr, text: 'starting…', discardStdin: false }).start();
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
