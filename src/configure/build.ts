/**
 * `configure --yes`: the draft the flags describe (over the sync's current
 * values when editing), checked the way `run` will check it.
 */
import { configError } from '../errors.js';
import { freeName, newDraft, type Draft } from './draft.js';
import { checkFilter, retypeFilters } from './filters.js';
import { missingForNew, presetFromFlags, type ConfigureFlags } from './flags.js';
import { resolveDraft, type Specs } from './mappings.js';
import type { WizardContext, WizardResult } from './wizard.js';
import { append } from '../lists.js';

/** Every reason `run` would refuse this draft (mappings, filters, nothing mapped). */
export function validateDraft(d: Draft, specs: Specs): string[] {
  const resolved = resolveDraft(d, specs);
  const problems = [...resolved.problems];
  d.between.forEach((conn, i) => {
    for (const c of d.filters[conn] ?? []) append(problems, checkFilter(c, i === 0 ? specs.a : specs.b, conn).map((p) => `filter on ${conn}.${c.field}: ${p}`));
  });
  for (const conn of Object.keys(d.filters)) {
    if (!d.between.includes(conn)) problems.push(`filters name "${conn}", which is not a connection of this sync`);
  }
  if (resolved.mappings.length === 0) problems.push('the sync maps no field: keep the default mappings or add --map A:FIELD=B:FIELD');
  return problems;
}

export async function draftFromFlags(flags: ConfigureFlags, ctx: WizardContext): Promise<WizardResult> {
  const base = ctx.existing?.draft;
  const preset = presetFromFlags(flags, base?.between);
  const between = preset.between ?? base?.between;
  const object = preset.object ?? base?.object;
  if (!between || !object) {
    throw configError('MISSING_FLAGS', `a new sync needs ${missingForNew(flags).join(' and ')}`, {
      hint: 'e.g. datasync configure --between hubspot,crm --object contacts --yes',
    });
  }
  const names = ctx.connections.map((c) => c.name);
  const unknown = between.filter((c) => !names.includes(c));
  if (unknown.length > 0) {
    throw configError('UNKNOWN_CONNECTION', `no connection named ${unknown.map((c) => `"${c}"`).join(', ')}`, {
      hint: `connections: ${names.join(', ') || 'none'} (add one with datasync connect APP --name NAME)`,
    });
  }
  const [aObjects, bObjects] = await Promise.all(between.map((c) => ctx.describe(c)));
  const a = aObjects!.find((o) => o.name === object);
  const b = bObjects!.find((o) => o.name === object);
  if (!a || !b) {
    const which = !a ? between[0] : between[1];
    const have = (!a ? aObjects! : bObjects!).map((o) => o.name).join(', ') || 'none';
    throw configError('UNKNOWN_OBJECT', `connection "${which}" has no object "${object}"`, { hint: `it has: ${have}` });
  }
  const specs: Specs = { a, b };
  const name = base?.name ?? ctx.name ?? freeName(object, ctx.syncNames);
  const same = base && base.between[0] === between[0] && base.between[1] === between[1] && base.object === object;
  let d: Draft = { ...(same ? base : newDraft(name, object, between)), ...preset, name, between, object };
  if (!between.includes(d.defaultApp)) d = { ...d, defaultApp: between[0] };
  d = { ...d, filters: retypeFilters(d.filters, { [between[0]]: a, [between[1]]: b }) };
  const problems = validateDraft(d, specs);
  if (problems.length > 0) {
    throw configError('CONFIGURE_INVALID', `sync "${name}" cannot be saved: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, {
      problems, hint: 'fix the flags named above (datasync configure --help); nothing was written',
    });
  }
  return { draft: d, specs, action: flags.syncNow ? 'save-and-sync' : 'save' };
}
