/**
 * SPEC §8 "one run at a time per state file" and SPEC §6 `watch`: two runs
 * on one state, a lock left by a dead process, a `run` while `watch` holds
 * the state, and `watch` stopped by SIGTERM — all through the built binary.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli, contactsOf, duplicateEmails, emails, exitWithin, hashTree, seedContacts, show, spawnCli, stateIntegrity, useTempDirs, waitFor, withDb,
} from './support.js';

const tempDir = useTempDirs();
const STATE = join('.datasync', 'state.db');

/** A process that has exited: its pid is free (and not reused this soon). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

function expectNoDuplicates(dir: string): void {
  const { crm, exp } = contactsOf(dir);
  expect(duplicateEmails(crm)).toEqual([]);
  expect(duplicateEmails(exp)).toEqual([]);
  expect(emails(crm)).toEqual(emails(exp));
}

describe('two runs on one state file', () => {
  it('exactly one proceeds; the other exits 4 naming the process that holds the lock, and changes nothing', async () => {
    const dir = tempDir();
    seedContacts(dir, 3000);
    const first = spawnCli(dir, ['run', '--json']);
    const second = spawnCli(dir, ['run', '--json']);
    const results = [await first.done, await second.done];
    const pids = [first.child.pid, second.child.pid];

    const codes = results.map((r) => r.exitCode);
    expect([...codes].sort(), results.map(show).join('\n=====\n')).toEqual([0, 4]);
    const loser = codes.indexOf(4);
    const winnerPid = pids[1 - loser];
    expect(results[loser]!.stderr).toContain(`process ${winnerPid} on ${hostname()}`);
    expect(results[loser]!.stderr).toMatch(/another datasync run holds the lock/);
    expect(results[loser]!.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
    expectNoDuplicates(dir);
    expect(emails(contactsOf(dir).crm).size).toBe(4500);
    expect(stateIntegrity(join(dir, STATE))).toBe('ok');
    expect(existsSync(join(dir, `${STATE}.lock`))).toBe(false);
  }, 90_000);

  it('a run refused because a live process holds the lock leaves the apps and the state byte for byte as they were', async () => {
    const dir = tempDir();
    seedContacts(dir, 50);
    expect((await cli(dir, ['run'])).exitCode).toBe(0);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(join(dir, `${STATE}.lock`), JSON.stringify({ pid: holder.pid, host: hostname(), command: 'datasync run --once', startedAt: new Date().toISOString() }));
      withDb(join(dir, 'crm.db'), (db) => db.prepare(`UPDATE people SET job_title = 'changed', modified_at = ? WHERE id = 1`).run(new Date().toISOString()));
      const before = hashTree(dir);
      const r = await cli(dir, ['run']);
      expect(r.exitCode, show(r)).toBe(4);
      expect(r.stderr).toContain(`process ${holder.pid}`);
      expect(r.stderr).toContain('datasync run --once');
      expect(hashTree(dir)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('a lock left by a dead process', () => {
  it('is taken over: the run proceeds and removes the lock when done', async () => {
    const dir = tempDir();
    seedContacts(dir, 50);
    const pid = await deadPid();
    mkdirSync(join(dir, '.datasync'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, `${STATE}.lock`), JSON.stringify({ pid, host: hostname(), command: 'datasync run', startedAt: '2024-01-01T00:00:00.000Z' }));
    const r = await cli(dir, ['run', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(existsSync(join(dir, `${STATE}.lock`))).toBe(false);
    expectNoDuplicates(dir);
  });

  it('left by a datasync run killed with SIGKILL is taken over by the next run', async () => {
    const dir = tempDir();
    seedContacts(dir, 800);
    const killed = spawnCli(dir, ['run']);
    await waitFor('the lock file', () => existsSync(join(dir, `${STATE}.lock`)));
    killed.child.kill('SIGKILL');
    await killed.done;
    const lock = JSON.parse(readFileSync(join(dir, `${STATE}.lock`), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(killed.child.pid);
    const r = await cli(dir, ['run', '--json']);
    expect(r.exitCode, show(r)).toBe(0);
    expect(existsSync(join(dir, `${STATE}.lock`))).toBe(false);
    expectNoDuplicates(dir);
  });

  it('left by a run killed the moment its state file appeared: the next run takes over and completes (the state is never half made)', async () => {
    const dir = tempDir();
    seedContacts(dir, 200);
    const state = join(dir, STATE);
    const killed = spawnCli(dir, ['run']);
    let ended = false;
    void killed.done.then(() => { ended = true; });
    while (!ended && !existsSync(state)) await new Promise((r) => setImmediate(r));
    killed.child.kill('SIGKILL');
    await killed.done;
    for (const args of [['health', '--json'], ['run', '--json']]) {
      const r = await cli(dir, args);
      expect(r.exitCode, `${args.join(' ')}\n${show(r)}`).toBe(0);
    }
    expectNoDuplicates(dir);
    expect(emails(contactsOf(dir).exp).size).toBe(300);
  });
});

describe('watch', () => {
  it('a run while watch holds the state gets a pass from the watcher and exits with its result; SIGTERM stops watch with exit 0 and a sound state', async () => {
    const dir = tempDir();
    seedContacts(dir, 100);
    const watch = spawnCli(dir, ['watch', '--interval', '1h']);
    try {
      await waitFor("watch's first pass", () => /pass 1: /.test(watch.stderr()), 60_000);
      expect(readFileSync(join(dir, `${STATE}.lock`), 'utf8')).toContain(`"pid":${watch.child.pid}`);

      withDb(join(dir, 'crm.db'), (db) => db.prepare('INSERT INTO people (email, first_name, modified_at) VALUES (?, ?, ?)')
        .run('late@example.com', 'Late', new Date().toISOString()));
      const r = await cli(dir, ['run', '--json'], { timeoutMs: 60_000 });
      expect(r.exitCode, `${show(r)}\n--- watch stderr:\n${watch.stderr()}`).toBe(0);
      expect(r.stderr).toContain(`datasync watch is running on this state (process ${watch.child.pid})`);
      const json = JSON.parse(r.stdout) as { exitCode: number; syncs: { name: string; sides: { connection: string; created: number }[] }[] };
      expect(json.exitCode).toBe(0);
      expect(json.syncs[0]!.sides.find((s) => s.connection === 'exp')!.created).toBe(1);
      expect(contactsOf(dir).exp.some((c) => c.email === 'late@example.com')).toBe(true);
      expect(watch.stderr()).toMatch(/pass 2: /);

      watch.child.kill('SIGTERM');
      const w = await exitWithin(watch, 15_000, 'watch after SIGTERM');
      expect(w.exitCode, show(w)).toBe(0);
      expect(w.stderr).toContain('stopped: state saved');
      expect(existsSync(join(dir, `${STATE}.lock`))).toBe(false);
      expect(stateIntegrity(join(dir, STATE))).toBe('ok');
    } finally {
      watch.child.kill('SIGKILL');
    }
  }, 120_000);

  it('SIGTERM in the middle of a large pass: watch exits 0 soon, the state is sound, and the next run completes it without duplicates', async () => {
    const dir = tempDir();
    seedContacts(dir, 2000);
    const crm = join(dir, 'crm.db');
    const mtime = statSync(crm).mtimeMs;
    const watch = spawnCli(dir, ['watch', '--interval', '1h']);
    // The pass is applying changes once the SQLite side was first written.
    await waitFor('the first write of the pass', () => statSync(crm).mtimeMs !== mtime, 60_000);
    watch.child.kill('SIGTERM');
    const w = await exitWithin(watch, 15_000, 'watch after SIGTERM in the middle of a pass');
    expect(w.exitCode, show(w)).toBe(0);
    expect(w.stderr).toContain('stopped: state saved');
    expect(existsSync(join(dir, `${STATE}.lock`))).toBe(false);
    expect(stateIntegrity(join(dir, STATE))).toBe('ok');

    const r = await cli(dir, ['run', '--json'], { timeoutMs: 90_000 });
    expect(r.exitCode, show(r)).toBe(0);
    expectNoDuplicates(dir);
    expect(emails(contactsOf(dir).exp).size).toBe(3000);
  }, 120_000);
});
