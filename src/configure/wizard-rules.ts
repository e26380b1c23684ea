/** The rule, filter and association steps of the wizard. */
import type { FilterOp } from '../config/types.js';
import type { Draft, DraftFilter } from './draft.js';
import { checkFilter, filterText, makeFilter, needsList, needsValue, OP_LABELS, opsFor } from './filters.js';
import type { Specs } from './mappings.js';
import type { Prompter } from './prompter.js';

export async function stepRules(p: Prompter, d: Draft): Promise<Draft> {
  if (d.object !== 'contacts') return d;
  const onlyWithEmail = await p.confirm({
    message: 'Only sync contacts that have an email address? (recommended: without one, matching cannot avoid duplicates)',
    default: d.onlyWithEmail,
  });
  return { ...d, onlyWithEmail };
}

export async function stepFilters(p: Prompter, d: Draft, specs: Specs): Promise<Draft> {
  const filters: Record<string, DraftFilter[]> = {};
  for (const [i, conn] of d.between.entries()) {
    const spec = i === 0 ? specs.a : specs.b;
    let conds = d.filters[conn] ?? [];
    if (conds.length > 0) {
      conds = await p.checkbox({
        message: `Filter conditions of ${conn} to keep (a record syncs only while it passes all of them):`,
        choices: conds.map((c) => ({ name: filterText(c), value: c, checked: true })),
      });
    }
    for (;;) {
      const more = await p.confirm({
        message: conds.length === 0
          ? `Limit which ${conn} records sync with a filter? (records that do not pass are excluded, never deleted)`
          : `Add another filter condition on ${conn}?`,
        default: false,
      });
      if (!more) break;
      const cond = await askCondition(p, conn, spec);
      const problems = checkFilter(cond, spec, conn);
      if (problems.length > 0) p.say(`Not added: ${problems.join('; ')}`);
      else conds = [...conds, cond];
    }
    if (conds.length > 0) filters[conn] = conds;
  }
  return { ...d, filters };
}

async function askCondition(p: Prompter, conn: string, spec: Specs['a']): Promise<DraftFilter> {
  const field = await p.select({
    message: `Field of ${conn} to filter on:`,
    choices: spec.fields.filter((f) => !f.unreliable).map((f) => ({ name: `${f.name} (${f.type})`, value: f })),
  });
  const op = await p.select<FilterOp>({
    message: `${field.name} …`,
    choices: opsFor(field).map((o) => ({ name: `${OP_LABELS[o]} (${o})`, value: o })),
  });
  if (!needsValue(op)) return makeFilter(field, op);
  const options = field.options?.map((o) => o.value) ?? [];
  const text = await p.input({
    message: needsList(op)
      ? `Values, separated by commas${options.length ? ` (options: ${options.join(', ')})` : ''}:`
      : `Value${options.length ? ` (options: ${options.join(', ')})` : field.type === 'date' ? ' (YYYY-MM-DD)' : ''}:`,
    validate: (v) => (v.trim() ? true : 'a value is required'),
  });
  return makeFilter(field, op, text);
}

export async function stepAssociations(p: Prompter, d: Draft, specs: Specs): Promise<Draft> {
  const related = [...new Set([...specs.a.associations, ...specs.b.associations].map((a) => a.object))];
  if (related.length === 0) return d;
  const associations = await p.confirm({
    message: `Keep associations (links to ${related.join(', ')}) the same on both sides? They follow only for objects that also have a sync between ${d.between[0]} and ${d.between[1]}.`,
    default: d.associations,
  });
  return { ...d, associations };
}
