/** How a run's result looks to a person: the plan of a dry run, then one table. */
import Table from 'cli-table3';
import type { Value } from '../../connector.js';
import type { PlannedAction, SyncSummary } from '../../engine/types.js';
import type { RunResult } from '../../engine/run.js';
import { otherSide } from '../../state/store.js';
import type { Style } from './style.js';

const show = (v: Value): string => (v === null ? '(empty)' : Array.isArray(v) ? v.join(';') : JSON.stringify(v));

export function renderPlan(s: SyncSummary, style: Style): string[] {
  const name = (side: 'a' | 'b') => s.sides[side].connection;
  const lines: string[] = [];
  if (s.mappings && s.mappings.length > 0) {
    lines.push(style.bold(`${s.sync}: mappings`));
    for (const m of s.mappings) {
      lines.push(`  ${name('a')}.${m.a} ${m.direction === '↔' ? '↔' : m.direction.startsWith(name('a')) ? '→' : '←'} ${name('b')}.${m.b}  (${m.types}${m.note ? `; ${m.note}` : ''})`);
    }
  }
  const plan = s.plan ?? [];
  if (plan.length > 0) lines.push(style.bold(`${s.sync}: ${plan.length} planned action${plan.length === 1 ? '' : 's'}`));
  for (const a of plan) lines.push(...describeAction(a, name, style));
  return lines;
}

function describeAction(a: PlannedAction, name: (s: 'a' | 'b') => string, style: Style): string[] {
  switch (a.kind) {
    case 'create':
      return [`  ${style.green('create')} in ${name(a.in)} from ${name(otherSide(a.in))}#${a.from}: ` +
        Object.entries(a.fields).map(([k, v]) => `${k}=${show(v)}`).join(', ')];
    case 'update':
      return [`  ${style.yellow('update')} ${name(a.in)}#${a.id}:`,
        ...a.changes.map((c) => `      ${c.field}: ${show(c.from)} → ${show(c.to)}  (${c.why.replace(/changed in (a|b)/, (_, s: 'a' | 'b') => `changed in ${name(s)}`)})`)];
    case 'link':
      return [`  ${style.cyan('link')} ${name('a')}#${a.a} ↔ ${name('b')}#${a.b} (${a.key})`];
    case 'fail':
      return [`  ${style.red('fail')} ${name(a.side)}#${a.id}: ${a.reason}`];
    case 'exclude':
      return [`  ${style.dim('exclude')} ${name(a.side)}#${a.id}: ${a.reason}`];
    case 'deleted':
      return [`  ${style.dim('deleted')} in ${name(a.side)}: #${a.id} (not deleted in ${name(otherSide(a.side))}, not re-created)`];
  }
}

export function renderSummaryTable(result: RunResult, style: Style): string {
  const table = new Table({
    head: ['sync', 'connection', 'read', 'created', 'updated', 'unchanged', 'failed', 'excluded', 'deleted'],
    style: { head: [], border: [] },
  });
  for (const s of result.summaries) {
    for (const side of ['a', 'b'] as const) {
      const c = s.sides[side];
      table.push([side === 'a' ? s.sync : '', c.connection, c.read, c.created, c.updated, c.unchanged,
        c.failed > 0 ? style.red(String(c.failed)) : c.failed, c.excluded, c.deleted]);
    }
  }
  return table.toString();
}

export function renderOutcomes(result: RunResult, style: Style, dryRun: boolean): string[] {
  const lines: string[] = [];
  for (const s of result.summaries) {
    const extra = `${s.linked} newly linked, ${s.conflicts} conflict${s.conflicts === 1 ? '' : 's'} resolved`;
    switch (s.outcome) {
      case 'ok': lines.push(`${style.green('✔')} ${s.sync}: in sync (${extra})`); break;
      case 'failed-records': lines.push(`${style.yellow('!')} ${s.sync}: some records failed (${extra}); see \`datasync health ${s.sync} --failed\``); break;
      case 'interrupted': lines.push(`${style.yellow('!')} ${s.sync}: interrupted; the next run picks up where this one stopped`); break;
      case 'stopped': lines.push(`${style.dim('-')} ${s.sync}: stopped`); break;
      case 'error': lines.push(`${style.red('✖')} ${s.sync}: ${s.error?.message ?? 'failed'}${s.error?.hint ? `\n  hint: ${s.error.hint}` : ''}`); break;
    }
    for (const w of s.warnings ?? []) lines.push(`${style.yellow('!')} ${s.sync}: ${w}`);
  }
  if (dryRun) lines.push(style.dim('dry run: nothing was written to the apps or the state'));
  return lines;
}
