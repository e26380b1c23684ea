/**
 * The two mapping steps of the wizard: review the default mappings (keep all,
 * some or none), then add custom mappings — only fields that are not mapped
 * yet, and on the other side only fields the type rules allow; select/radio
 * pairs whose options differ get a `values:` map or are skipped.
 */
import type { FieldSpec } from '../connector.js';
import { optionGaps } from '../mapping/options.js';
import type { FieldMapping } from '../mapping/types.js';
import type { Draft, DraftMapping } from './draft.js';
import {
  checkMapping, compatibleFields, defaultMappings, keepSomeDefaults, mappableFields, resolveDraft, type Candidate, type Specs,
} from './mappings.js';
import type { Prompter } from './prompter.js';
import { mappingTable } from './review.js';

const pairText = (d: Draft, m: { a: string; b: string }) => `${d.between[0]}.${m.a} ↔ ${d.between[1]}.${m.b}`;
const flowText = (d: Draft, c: Candidate) =>
  c.flow === 'both' ? 'two-way' : c.flow === 'a-to-b' ? `${d.between[0]} → ${d.between[1]}` : `${d.between[1]} → ${d.between[0]}`;
const fieldText = (f: FieldSpec) => `${f.name}${f.label && f.label !== f.name ? ` — ${f.label}` : ''} (${f.type}${f.readOnly ? ', read-only' : ''})`;

export async function stepDefaultMappings(p: Prompter, d: Draft, specs: Specs): Promise<Draft> {
  const defs = defaultMappings(d, specs);
  const skipped = resolveDraft({ ...d, defaults: true, fields: [] }, specs).skipped;
  if (defs.length === 0) {
    p.say(`No default mappings between ${d.between[0]} and ${d.between[1]} for ${d.object}: add custom mappings next.`);
    return d;
  }
  p.say(`Default mappings (${defs.length}):\n${mappingTable(defs, d.between[0], d.between[1])}`);
  if (skipped.length > 0) p.say(`Left out by the type rules:\n${skipped.map((s) => `  - ${s}`).join('\n')}`);
  const choice = await p.select({
    message: 'Default mappings:',
    choices: [
      { name: 'Keep them all', value: 'all' as const },
      { name: 'Choose which to keep', value: 'some' as const },
      { name: 'Turn them all off', value: 'none' as const },
    ],
    default: d.defaults ? 'all' as const : 'none' as const,
  });
  if (choice === 'all') return { ...d, defaults: true };
  if (choice === 'none') return { ...d, defaults: false };
  const keep = await p.checkbox<FieldMapping>({
    message: 'Default mappings to keep:',
    choices: defs.map((m) => ({ name: pairText(d, { a: m.a.name, b: m.b.name }), value: m, checked: true })),
  });
  if (keep.length === defs.length) return { ...d, defaults: true };
  const repeated = (m: FieldMapping) => d.fields.some((f) => f.a === m.a.name && f.b === m.b.name);
  const { draft, lost } = keepSomeDefaults(d, specs, keep.filter((m) => !repeated(m)));
  if (lost.length > 0) {
    p.say(`These cannot be kept on their own (only with all defaults on), and are left out: ${lost.map((m) => pairText(d, { a: m.a.name, b: m.b.name })).join(', ')}`);
  }
  return draft;
}

/** `askKeep`: the sync had custom mappings before this session: ask which to keep first. */
export async function stepCustomMappings(p: Prompter, d: Draft, specs: Specs, opts: { again?: boolean; askKeep?: boolean } = {}): Promise<Draft> {
  let draft = d;
  let again = opts.again ?? false;
  if (draft.fields.length > 0 && opts.askKeep) {
    const kept = await p.checkbox<DraftMapping>({
      message: 'Custom mappings to keep:',
      choices: draft.fields.map((m) => ({ name: pairText(draft, m), value: m, checked: true })),
    });
    draft = { ...draft, fields: kept };
  }
  for (;;) {
    const free = mappableFields(draft, specs);
    if (free.length === 0) {
      p.say(`No unmapped field of ${draft.between[0]}.${draft.object} has a compatible unmapped field in ${draft.between[1]}.`);
      return draft;
    }
    if (!await p.confirm({ message: 'Add a custom mapping?', default: again })) return draft;
    again = false;
    const fa = await p.select({
      message: `Field of ${draft.between[0]} (only unmapped fields with a compatible field in ${draft.between[1]}):`,
      choices: free.map((f) => ({ name: fieldText(f), value: f })),
    });
    const candidates = compatibleFields(draft, specs, fa);
    const picked = await p.select<Candidate | null>({
      message: `Field of ${draft.between[1]} to map with ${fa.name} (compatible and unmapped only):`,
      choices: [
        ...candidates.map((c) => ({ name: `${fieldText(c.field)}: ${flowText(draft, c)}${c.note ? ` (${c.note})` : ''}${c.gaps ? ', options differ' : ''}`, value: c })),
        { name: '(none: go back)', value: null },
      ],
    });
    if (!picked) continue;
    const mapping: DraftMapping = { a: fa.name, b: picked.field.name };
    if (picked.gaps) {
      const values = await askValues(p, draft, fa, picked);
      if (!values) continue;
      mapping.values = values;
    }
    const problems = checkMapping(draft, specs, mapping);
    if (problems.length > 0) {
      p.say(`Not added: ${problems.join('; ')}`);
      continue;
    }
    draft = { ...draft, custom: true, fields: [...draft.fields, mapping] };
    p.say(`Added ${pairText(draft, mapping)}.`);
  }
}

/** A `values:` map (a's options → b's) covering every option without a counterpart, or null to skip. */
export async function askValues(p: Prompter, d: Draft, fa: FieldSpec, c: Candidate): Promise<Record<string, string> | null> {
  const fb = c.field;
  const [aName, bName] = d.between;
  p.say(`The options of ${aName}.${fa.name} and ${bName}.${fb.name} differ: ${[
    c.gaps!.a.length ? `${aName} has ${c.gaps!.a.join(', ')}` : '',
    c.gaps!.b.length ? `${bName} has ${c.gaps!.b.join(', ')}` : '',
  ].filter(Boolean).join('; ')} with no counterpart.`);
  const how = await p.select({
    message: 'Pair the option values?',
    choices: [
      { name: 'Pair them now (writes values: in the mapping)', value: 'pair' as const },
      { name: 'Skip this mapping', value: 'skip' as const },
    ],
  });
  if (how === 'skip') return null;
  const values: Record<string, string> = {};
  for (const opt of c.gaps!.a) {
    values[opt] = await p.select({
      message: `${aName}.${fa.name} "${opt}" becomes which ${bName}.${fb.name} value?`,
      choices: (fb.options ?? []).map((o) => ({ name: o.label && o.label !== o.value ? `${o.value} (${o.label})` : o.value, value: o.value })),
    });
  }
  for (const opt of optionGaps(fa, fb, values).b.filter((o) => c.gaps!.b.includes(o))) {
    const free = (fa.options ?? []).filter((o) => !Object.hasOwn(values, o.value));
    if (free.length === 0) {
      p.say(`Every option of ${aName}.${fa.name} is paired already, so ${bName}'s "${opt}" can have no counterpart: this pair cannot be two-way.`);
      return null;
    }
    values[await p.select({
      message: `Which ${aName}.${fa.name} value stands for ${bName}.${fb.name} "${opt}"?`,
      choices: free.map((o) => ({ name: o.value, value: o.value })),
    })] = opt;
  }
  return values;
}
