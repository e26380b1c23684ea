/**
 * How much the JavaScript heap may grow past what a full collection left
 * alive before the next one (issue 15). V8 lets it grow up to 4× for a
 * busy process: a pass that keeps ~60 MB alive ran in ~600 MB at 100,000
 * records, because each page read, merged and written is garbage a moment
 * later. Capped at 1.25×, the same pass peaks near 300 MB for ~15% more
 * CPU time — the trade a sync that must fit a small VM or a cron box next to
 * other work wants. Only the growth factor is set: the heap's limit stays
 * V8's own, so a pass that really needs more memory still gets it.
 *
 * The young generation (where every page's garbage is made) is kept at the
 * size it starts with: V8 grows it up to 32 MB when much of it survives a
 * scavenge, and a pass's pages do survive one scavenge (they live for a
 * batch), so it grew to its maximum and stayed there. Measured W1 (initial
 * sync, SQLite ⇄ CSV; `node dist/bench/child.js sync` on the bench's
 * workspace, the flag set at run time as here): peak RSS 224 vs 254 MB at
 * 100,000 contacts, CPU time within the noise; 323 MB at 1,000,000 against
 * 367 MB in an earlier run of the same code without it.
 *
 * `DATASYNC_HEAP_GROWTH` (a percentage; 0: V8's own choice for both) overrides it.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWTH_PERCENT = 25;

export function keepHeapSmall(env: NodeJS.ProcessEnv = process.env): void {
  const raw = env.DATASYNC_HEAP_GROWTH;
  const percent = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : HEAP_GROWTH_PERCENT;
  if (percent === 0) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  setFlagsFromString('--semi-space-growth-factor=1');
}
