/** `health` for people: one table of syncs, then the lists asked for. */
import Table from 'cli-table3';
import type { HealthGroup, HealthReport, SyncHealth } from '../../health.js';
import type { Style } from './style.js';
import { append } from '../../lists.js';

function age(seconds: number): string {
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function colourStatus(s: SyncHealth, style: Style): string {
  switch (s.status) {
    case 'Active and listening': return style.green(s.statusText);
    case 'Queued': return style.yellow(s.statusText);
    case 'No active syncs': return style.dim(s.statusText);
    default: return style.cyan(s.statusText);
  }
}

export function renderHealth(report: HealthReport, style: Style): string {
  const table = new Table({
    head: ['sync', 'between', 'status', 'in sync', 'failed', 'excluded', 'last run'],
    style: { head: [], border: [] },
  });
  for (const s of report.syncs) {
    const last = s.lastRun ? `${s.lastRun.outcome}, ${age(s.lastRun.ageSeconds)}` : 'never';
    table.push([s.name, `${s.between[0]} ↔ ${s.between[1]}`, colourStatus(s, style), s.counts.inSync,
      s.counts.failed > 0 ? style.red(String(s.counts.failed)) : '0', s.counts.excluded,
      s.stale ? style.red(`${last} (stale)`) : last]);
  }
  const out = [table.toString()];
  for (const s of report.syncs) {
    // One sync named: show its effective mappings too (SPEC §5: a read-only field shows as one-way).
    if (report.syncs.length === 1 && s.mappings.length > 0) {
      out.push(style.bold(`${s.name}: mappings (as of the last run)`));
      for (const m of s.mappings) {
        const arrow = m.direction === '↔' ? '↔' : m.direction.startsWith(`${s.between[0]} `) ? '→' : '←';
        out.push(`  ${s.between[0]}.${m.a} ${arrow} ${s.between[1]}.${m.b}  (${m.types}${m.note ? `; ${m.note}` : ''})`);
      }
    }
    for (const [conn, how] of Object.entries(s.changes ?? {})) out.push(`${s.name}: ${conn} finds changes by ${how}`);
    if (s.failed) append(out, groups(`${s.name}: failed records`, s.failed, style, true));
    if (s.excluded) append(out, groups(`${s.name}: excluded records`, s.excluded, style, false));
    if (s.deleted && s.deleted.length > 0) {
      out.push(style.bold(`${s.name}: ${s.deleted.length} link${s.deleted.length === 1 ? '' : 's'} with a deleted record`));
      for (const d of s.deleted.slice(0, 20)) out.push(`  ${s.between[0]}#${d.a} ↔ ${s.between[1]}#${d.b}: ${d.how}`);
      if (s.deleted.length > 20) out.push(`  … and ${s.deleted.length - 20} more (--json lists all)`);
    }
  }
  for (const h of report.webhooks ?? []) {
    const last = h.lastEventAt ? `last event ${age(Math.max(0, Math.round((Date.now() - Date.parse(h.lastEventAt)) / 1000)))}` : 'no event yet';
    const failures = h.signatureFailures > 0
      ? style.red(`${h.signatureFailures} signature failure${h.signatureFailures === 1 ? '' : 's'} (last: ${h.lastFailure ?? '?'})`) : '0 signature failures';
    const state = h.live ? style.green(`live on ${h.url}`) : style.dim(`not listening (the watcher stopped${h.stoppedAt ? ` ${h.stoppedAt}` : ''})`);
    out.push(`webhooks ${h.connection}: ${state}; ${last}; ${h.eventsPerMinute} events/min; ${h.events} events, ${h.duplicates} duplicates, ${h.targetedPasses} targeted passes; ${failures}`);
  }
  return out.join('\n');
}

function groups(title: string, list: HealthGroup[], style: Style, failed: boolean): string[] {
  if (list.length === 0) return [style.bold(`${title}: none`)];
  const out = [style.bold(title)];
  for (const g of list) {
    out.push(`  ${failed ? style.red(g.reason) : g.reason} (${g.count})`, `    ${style.dim('what to do:')} ${g.advice}`);
    for (const r of g.records.slice(0, 20)) {
      const retry = failed && r.nextRetryAt ? `, attempt ${r.attempts}, next retry ${r.nextRetryAt}` : '';
      out.push(`    ${r.connection}#${r.id}${r.label ? ` (${r.label})` : ''}${r.detail !== g.reason ? `: ${r.detail}` : ''}${retry}`);
    }
    if (g.records.length > 20) out.push(`    … and ${g.records.length - 20} more (--json lists all)`);
  }
  return out;
}
