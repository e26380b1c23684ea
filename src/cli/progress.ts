/**
 * Progress of long steps on stderr: a spinner with records and rate on a
 * terminal, nothing on a pipe (results go to stdout, logs to stderr).
 */
import type { ProgressEvent } from '../engine/types.js';

export interface Progress {
  update(e: ProgressEvent): void;
  stop(): void;
}

/** A wait or retry as a log line: on a pipe, in a cron mail, in `watch`'s log, as it happens. */
export function waitLine(e: Extract<ProgressEvent, { phase: 'wait' }>): string {
  return `datasync: ${e.sync ? `${e.sync}: ` : ''}waiting ${Math.max(1, Math.round(e.ms / 1000))} s (${e.reason}), then retrying`;
}

/** Only the waits, each as a line: minutes of silence while an app hangs look like a hang of datasync. */
const waitsOnly = (): Progress => ({ update: (e) => { if (e.phase === 'wait') process.stderr.write(`${waitLine(e)}\n`); }, stop: () => undefined });

export async function startProgress(enabled: boolean): Promise<Progress> {
  // A terminal of 0 columns (a pseudo-terminal nobody sized) made ora clear an endless number of lines.
  if (!enabled || !process.stderr.isTTY || !process.stderr.columns) return waitsOnly();
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
