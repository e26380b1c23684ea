/** Spawns a measured child (child.ts) and times the whole process. */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { ChildReport } from './child.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export interface Measured extends ChildReport {
  /** Spawn to exit, node start-up included. */
  processMs: number;
}

export interface ChildOptions {
  /** Write a V8 CPU profile (.cpuprofile) of the child into this folder. */
  profileDir?: string;
  profileName?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Writes what earlier steps left in the page cache (the generated data, the
 * last run's files) to disk before a measured run: otherwise the kernel
 * flushes it during the run, and a run that syncs its own files waits for
 * that too (W1 at 100,000 varied from 9.7 s to 12.6 s without it).
 */
function settle(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

export function runChild(kind: 'sync' | 'baseline' | 'pg-baseline', dir: string, opts: ChildOptions = {}): Promise<Measured> {
  settle();
  const args = [
    ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, ...(opts.profileName ? [`--cpu-prof-name=${opts.profileName}`] : [])] : []),
    CHILD, kind, dir,
  ];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = performance.now() - t0;
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`bench child "${kind} ${dir}" exited with ${code}: ${err.trim() || out.trim()}`));
        return;
      }
      resolve({ ...(JSON.parse(line) as ChildReport), processMs });
    });
  });
}
