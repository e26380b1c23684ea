/**
 * Driving the built CLI on a pseudo-terminal through util-linux `script`:
 * wait for each question to show, then type the keys one at a time, as a
 * person would (selects take a choice's number or its first letters).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, type Workspace } from './support.js';

export const ENTER = '\r';

export const hasScript = existsSync('/usr/bin/script') || existsSync('/bin/script');

/** Drives the CLI on a pseudo-terminal: waits for each question, then types the keys. */
export async function onTerminal(w: Workspace, args: string[], steps: Array<[string, string]>, env: Record<string, string> = {},
  columns?: number): Promise<{ code: number; screen: string }> {
  // `script` without a terminal of its own gives the pseudo-terminal 0 columns; a person's has a size.
  const size = columns ? `stty cols ${columns} rows 40; exec ` : '';
  const cmd = size + ['node', BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...env };
  delete childEnv.DATASYNC_CONFIG;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: w.dir, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let seen = 0;
  const waiters: Array<() => void> = [];
  const onData = (b: Buffer) => {
    screen += b.toString();
    waiters.splice(0).forEach((f) => f());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const at = screen.indexOf(text, seen);
      if (at >= 0) {
        seen = at + text.length;
        return;
      }
      if (Date.now() > deadline && process.env.PTY_DEBUG) (await import('node:fs')).writeFileSync(process.env.PTY_DEBUG, screen);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}"; screen so far:\n${screen.slice(-3000)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  try {
    for (const [text, keys] of steps) {
      await waitFor(text);
      // One key at a time, as a person types (selects take the number of a choice).
      await new Promise((r) => setTimeout(r, 250));
      for (const key of keys) {
        await new Promise((r) => setTimeout(r, 120));
        child.stdin.write(key);
      }
    }
    const code = await exited;
    if (process.env.PTY_DEBUG) (await import('node:fs')).writeFileSync(process.env.PTY_DEBUG, screen);
    return { code, screen };
  } finally {
    child.kill();
  }
}

