/**
 * Runs one measured job in its own process, so its peak memory is its own:
 *
 *   node dist/bench/child.js sync DIR       # runOnce on DIR/sync.yaml
 *   node dist/bench/child.js baseline DIR   # the hand-written script
 *   node dist/bench/child.js pg-baseline DIR   # the SQLite ↔ Postgres COPY script ($BENCH_PG_URL)
 *
 * Prints one JSON line: { ms, maxRssKb, ... }. `ms` is the job itself; the
 * parent also times the whole process (start-up included).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.js';
import { keepHeapSmall } from '../src/cli/heap.js';
import { runOnce } from '../src/engine/run.js';
import { baseline } from './baseline.js';

export interface ChildSide { connection: string; read: number; created: number; updated: number; unchanged: number; failed: number; excluded: number }
export interface ChildReport {
  ms: number;
  maxRssKb: number;
  exitCode?: number;
  syncs?: { name: string; outcome: string; linked: number; conflicts: number; sides: ChildSide[] }[];
  read?: number;
  written?: number;
  /** Bytes this process had the kernel write to disk (/proc/self/io write_bytes); null where there is no such file. */
  diskWrittenBytes?: number | null;
}

/** write_bytes of /proc/self/io: what the process sent to the storage layer (files written, the state, fsyncs). */
function diskWritten(): number | null {
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const [kind, dir] = process.argv.slice(2);
  if (!dir || (kind !== 'sync' && kind !== 'baseline' && kind !== 'pg-baseline')) throw new Error('usage: child.js sync|baseline|pg-baseline DIR');
  // As the CLI runs (src/cli/main.ts): the measured job is the one a user runs. Not for the baseline script.
  if (kind === 'sync') keepHeapSmall();
  const t0 = performance.now();
  let report: ChildReport;
  if (kind === 'pg-baseline') {
    // Loaded here only: the other kinds need no pg.
    const { postgresBaseline } = await import('./postgres-baseline.js');
    const r = await postgresBaseline(dir, process.env.BENCH_PG_URL!);
    report = { ms: performance.now() - t0, maxRssKb: 0, ...r };
  } else if (kind === 'baseline') {
    const r = baseline(dir);
    report = { ms: performance.now() - t0, maxRssKb: 0, ...r };
  } else {
    const config = await loadConfig({ file: join(dir, 'sync.yaml'), cwd: dir, env: process.env });
    // BENCH_BATCH_SIZE: what-if runs with another write batch size (the engine's default otherwise).
    const batchSize = process.env.BENCH_BATCH_SIZE ? Number(process.env.BENCH_BATCH_SIZE) : undefined;
    const result = await runOnce(config, { batchSize });
    report = {
      ms: performance.now() - t0,
      maxRssKb: 0,
      exitCode: result.exitCode,
      syncs: result.summaries.map((s) => ({
        name: s.sync, outcome: s.outcome, linked: s.linked, conflicts: s.conflicts,
        sides: [s.sides.a, s.sides.b].map(({ connection, read, created, updated, unchanged, failed, excluded }) =>
          ({ connection, read, created, updated, unchanged, failed, excluded })),
      })),
    };
  }
  report.maxRssKb = process.resourceUsage().maxRSS;
  report.diskWrittenBytes = diskWritten();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
