/**
 * Progress of long steps on stderr: a spinner with records and rate on a
 * terminal; on a pipe (cron, systemd) a plain line per phase and then one
 * every 10 s (DATASYNC_PROGRESS_EVERY, in ms), so logs show long work.
 * Results go to stdout.
 */
import type { ProgressEvent } from '../engine/types.js';

export interface Progress {
  update(e: ProgressEvent): void;
  stop(): void;
}

/** What one progress event says, with a rate only once a second has passed (no `10000000/s` at the start). */
export function describeProgress(e: ProgressEvent, elapsedMs: number): string {
  const perSecond = (n: number) => (elapsedMs >= 1000 ? n / (elapsedMs / 1000) : null);
  const rate = (n: number) => { const r = perSecond(n); return r === null ? '' : ` (${Math.round(r)}/s`; };
  switch (e.phase) {
    case 'scan': {
      const r = rate(e.records);
      return `${e.sync}: scanning ${e.connection}… ${e.records} records${r ? `${r})` : ''}`;
    }
    case 'apply': {
      const r = perSecond(e.done);
      const eta = r && r > 0 && e.total > e.done ? `, about ${Math.ceil((e.total - e.done) / r)} s left` : '';
      return `${e.sync}: in progress, writing ${e.done}/${e.total}${r === null ? '' : ` (${Math.round(r)}/s${eta})`}`;
    }
    case 'wait': return `${e.sync}: queued (${e.reason}), resuming in ${Math.ceil(e.ms / 1000)} s`;
  }
}

function phaseTimer() {
  let since = Date.now();
  let key = '';
  return (e: ProgressEvent): { elapsed: number; changed: boolean } => {
    const k = `${e.sync}:${e.phase}:${'side' in e ? e.side : ''}`;
    const changed = k !== key;
    if (changed) {
      key = k;
      since = Date.now();
    }
    return { elapsed: Date.now() - since, changed };
  };
}

/** A wait or retry as a log line: on a pipe, in a cron mail, in `watch`'s log, as it happens. */
export function waitLine(e: Extract<ProgressEvent, { phase: 'wait' }>): string {
  return `datasync: ${e.sync ? `${e.sync}: ` : ''}waiting ${Math.max(1, Math.round(e.ms / 1000))} s (${e.reason}), then retrying`;
}

/** Only the waits, each as a line: minutes of silence while an app hangs look like a hang of datasync. */
const waitsOnly = (): Progress => ({ update: (e) => { if (e.phase === 'wait') process.stderr.write(`${waitLine(e)}\n`); }, stop: () => undefined });

export async function startProgress(enabled: boolean): Promise<Progress> {
  // --json: stdout is for the JSON; waits still go to stderr as they happen.
  if (!enabled) return waitsOnly();
  // A terminal of 0 columns (a pseudo-terminal nobody sized) made ora clear an endless number of lines.
  // Under CI (the CI variable set) ora draws no frames at all, even on a terminal: plain lines say what happens.
  if (!process.stderr.isTTY || !process.stderr.columns || 'CI' in process.env) return plainLines();
  const { default: ora } = await import('ora');
  // discardStdin would put the terminal in raw mode, where Ctrl-C is a keystroke and never a SIGINT.
  const spinner = ora({ stream: process.stderr, text: 'starting…', discardStdin: false }).start();
  const timer = phaseTimer();
  return {
    update(e) {
      const { elapsed, changed } = timer(e);
      spinner.text = describeProgress(e, elapsed);
      // A new phase shows at once: the spinner's own frames wait for a timer that busy synchronous work can hold back.
      if (changed) spinner.render();
    },
    stop: () => spinner.stop(),
  };
}

function plainLines(): Progress {
  const every = Number(process.env.DATASYNC_PROGRESS_EVERY ?? 10_000);
  const timer = phaseTimer();
  let last = 0;
  return {
    update(e) {
      const { elapsed, changed } = timer(e);
      // Waits always (they explain a silence), else the first event of each phase, then one line per period.
      if (e.phase === 'wait') return void process.stderr.write(`${waitLine(e)}\n`);
      if (!changed && Date.now() - last < every) return;
      last = Date.now();
      process.stderr.write(`datasync: ${describeProgress(e, elapsed)}\n`);
    },
    stop: () => undefined,
  };
}
