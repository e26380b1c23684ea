/** How a run's result looks to a person: the plan of a dry run, then one table. */
import Table from 'cli-table3';
import type { Value } from '../../connector.js';
import type { PlannedAction, SyncSummary } from '../../engine/types.js';
import type { RunResult } from '../../engine/run.js';
import { otherSide } from '../../state/store.js';
import type { Style } from './style.js';
import { append, largest } from '../../lists.js';

const show = (v: Value): string => (v === null ? '(empty)' : Array.isArray(v) ? v.join(';') : JSON.stringify(v));

/** Up to this many actions a dry run lists them all; above, a summary and a sample (`--full` lists them all). */
export const PLAN_LISTED = 50;
const SAMPLE = 10;

export function renderPlan(s: SyncSummary, style: Style, full = false): string[] {
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
  if (full || plan.length <= PLAN_LISTED) {
    for (const a of plan) append(lines, describeAction(a, name, style));
    return lines;
  }
  for (const [what, n] of planCounts(plan, name)) lines.push(`  ${String(n).padStart(7)}  ${what}`);
  lines.push(style.bold(`${s.sync}: a sample of ${SAMPLE}`));
  for (const a of planSample(plan, SAMPLE)) append(lines, describeAction(a, name, style));
  lines.push(style.dim(`  … ${plan.length - SAMPLE} more: \`datasync run --dry-run --full\` lists every one (--json gives them as data)`));
  return lines;
}

/** Counts per action and side, e.g. "create in export" → 1200, sorted by what they count. */
function planCounts(plan: PlannedAction[], name: (s: 'a' | 'b') => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of plan) {
    const what = a.kind === 'create' || a.kind === 'update' ? `${a.kind} in ${name(a.in)}`
      : a.kind === 'link' ? 'link (on both sides already)' : `${a.kind} in ${name(a.side)}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return new Map([...counts].sort((x, y) => x[0].localeCompare(y[0])));
}

/** The first actions of each kind in turn, so a sample of a big plan shows every kind there is. */
function planSample(plan: PlannedAction[], size: number): PlannedAction[] {
  const byKind = new Map<string, PlannedAction[]>();
  for (const a of plan) {
    const list = byKind.get(a.kind) ?? byKind.set(a.kind, []).get(a.kind)!;
    if (list.length < size) list.push(a);
  }
  const out: PlannedAction[] = [];
  for (let i = 0; out.length < size && i < size; i++) {
    for (const list of byKind.values()) if (list[i] && out.length < size) out.push(list[i]!);
  }
  return out;
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

/**
 * A pass that changed nothing anywhere: one line says so instead of a table of zeros. Records that
 * failed in an earlier pass and still do not change that (they get a line of their own).
 */
export function nothingChanged(result: RunResult): boolean {
  return !result.interrupted && result.summaries.length > 0 && result.summaries.every((s) => (s.outcome === 'ok' || s.outcome === 'failed-records')
    && s.linked === 0 && !s.warnings?.length
    && (['a', 'b'] as const).every((x) => { const c = s.sides[x]; return c.created + c.updated + c.failed + c.excluded + c.deleted === 0; }));
}

export function renderSummaryTable(result: RunResult, style: Style, width = process.stdout.columns): string {
  if (nothingChanged(result)) {
    const read = result.summaries.reduce((n, s) => n + s.sides.a.read + s.sides.b.read, 0);
    return `${style.green('✔')} everything up to date (${result.summaries.map((s) => s.sync).join(', ')}: ${read} changed record${read === 1 ? '' : 's'} read, nothing to write)`;
  }
  const table = new Table({
    head: ['sync', 'connection', 'read', 'created', 'updated', 'unchanged', 'failed', 'excluded', 'deleted'],
    style: { head: [], border: [] },
  });
  const rows: string[] = [];
  for (const s of result.summaries) {
    for (const side of ['a', 'b'] as const) {
      const c = s.sides[side];
      table.push([side === 'a' ? s.sync : '', c.connection, c.read, c.created, c.updated, c.unchanged,
        c.failed > 0 ? style.red(String(c.failed)) : c.failed, c.excluded, c.deleted]);
      rows.push(`${s.sync} ${c.connection}: read ${c.read}, created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, `
        + `failed ${c.failed > 0 ? style.red(String(c.failed)) : c.failed}, excluded ${c.excluded}, deleted ${c.deleted}`);
    }
  }
  const text = table.toString();
  // A terminal narrower than the table (its lines would wrap into noise): one wrapped line per side instead.
  const widest = largest(text.split('\n').map((l) => stripAnsi(l).length), 0);
  return width && widest > width ? rows.map((r) => wrap(r, width)).join('\n') : text;
}

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

function wrap(line: string, width: number): string {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && stripAnsi(`${current} ${word}`).length > width) {
      out.push(current);
      current = `  ${word}`;
    } else current = current ? `${current} ${word}` : word;
  }
  out.push(current);
  return out.join('\n');
}

/** What an interrupted pass had done: "writing 1000 (1000 created in hubspot)" or "reading only". */
function didSoFar(s: SyncSummary): string {
  const parts = (['a', 'b'] as const).flatMap((side) => {
    const c = s.sides[side];
    return [c.created ? `${c.created} created in ${c.connection}` : '', c.updated ? `${c.updated} updated in ${c.connection}` : ''].filter(Boolean);
  });
  return parts.length === 0 ? 'writing nothing' : parts.join(', ');
}

export function renderOutcomes(result: RunResult, style: Style, dryRun: boolean): string[] {
  // A pass with nothing to do has said so in one line already.
  const quiet = nothingChanged(result);
  const lines: string[] = [];
  for (const s of result.summaries) {
    const conflicts = s.conflicts === 0 ? '' : `, ${s.conflicts} record${s.conflicts === 1 ? '' : 's'} with edits on both sides (${s.defaultApp ?? 'the default app'}'s values kept)`;
    const extra = `${s.linked} newly linked${conflicts}`;
    switch (s.outcome) {
      case 'ok': if (!quiet) lines.push(`${style.green('✔')} ${s.sync}: in sync (${extra})`); break;
      case 'failed-records':
        if (quiet) {
          const n = s.failedStanding ?? 0;
          lines.push(`${style.yellow('!')} ${s.sync}: ${n} record${n === 1 ? '' : 's'} still failed from earlier passes; see \`datasync health ${s.sync} --failed\``);
          break;
        }
        lines.push(`${style.yellow('!')} ${s.sync}: some records failed (${extra}); see \`datasync health ${s.sync} --failed\``); break;
      case 'interrupted': lines.push(`${style.yellow('!')} ${s.sync}: interrupted after ${didSoFar(s)}; the next run picks up where this one stopped`); break;
      case 'stopped': lines.push(`${style.dim('-')} ${s.sync}: stopped`); break;
      case 'error': lines.push(`${style.red('✖')} ${s.sync}: ${s.error?.message ?? 'failed'}${s.error?.hint ? `\n  hint: ${s.error.hint}` : ''}`); break;
    }
    for (const w of s.warnings ?? []) lines.push(`${style.yellow('!')} ${s.sync}: ${w}`);
  }
  if (dryRun) lines.push(style.dim('dry run: nothing was written to the apps or the state'));
  return lines;
}
