/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile DIR`): the
 * functions with the most self time, and the most inclusive time, by
 * file:function, as a share of the profile.
 *
 *   node dist/bench/profile.js DIR/w1-100000.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export function summarise(file: string, top = 25): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = p.endTime - p.startTime;
  const label = (n: Node) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? `${relative(process.cwd(), url).replace(/^dist\//, '')}:${n.callFrame.lineNumber + 1}` : '';
    return `${where} ${n.callFrame.functionName || '(anonymous)'}`.trim();
  };
  const selfBy = new Map<string, number>();
  const inclBy = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + t);
    // Inclusive: every distinct frame on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclBy.set(l, (inclBy.get(l) ?? 0) + t);
    }
  }
  const fmt = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]).slice(0, top)
    .map(([l, t]) => `${(t / 1000).toFixed(0).padStart(8)} ms ${((t / total) * 100).toFixed(1).padStart(5)}%  ${l}`);
  return [`${file}: ${(total / 1000).toFixed(0)} ms profiled`, '-- self time', ...fmt(selfBy), '-- inclusive time', ...fmt(inclBy)].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  for (const f of args) process.stdout.write(`${summarise(f, top)}\n\n`);
}
