/**
 * The stage mapping of a deal sync (issue 19): after the default mappings,
 * the wizard shows how the pipelines and deal stages of the two apps pair
 * (by label, the way HubSpot's own data sync proposes them: a stage id
 * '9001' labelled "Renewal Due" and a CRM's "Renewal Due" are one stage),
 * and offers to pair the stages that have no counterpart, which writes a
 * `values:` map. Without it such a pair stays one-way (SPEC §5).
 */
import type { FieldSpec, StandardRole } from '../connector.js';
import { optionGaps, withLabelPairs } from '../mapping/options.js';
import type { FieldMapping } from '../mapping/types.js';
import type { Draft, DraftMapping } from './draft.js';
import { resolveDraft, type Candidate, type Specs } from './mappings.js';
import type { Prompter } from './prompter.js';
import { askValues } from './wizard-mappings.js';

const ROLES: Array<{ role: StandardRole; what: string }> = [
  { role: 'pipeline', what: 'pipelines' },
  { role: 'dealstage', what: 'deal stages' },
];

const isEnum = (f: FieldSpec) => f.type === 'select' || f.type === 'radio';
const optionText = (f: FieldSpec, value: string) => {
  const label = f.options?.find((o) => o.value === value)?.label;
  return label && label !== value ? `"${label}" (${value})` : `"${value}"`;
};

export async function stepStageMappings(p: Prompter, d: Draft, specs: Specs): Promise<Draft> {
  let draft = d;
  for (const { role, what } of ROLES) {
    const m = stagePair(resolveDraft(draft, specs).mappings, specs, role);
    if (!m || !isEnum(m.a) || !isEnum(m.b) || !m.a.options?.length || !m.b.options?.length) continue;
    const [aName, bName] = draft.between;
    const given = draft.fields.find((f) => f.a === m.a.name && f.b === m.b.name)?.values ?? {};
    const pairs = withLabelPairs(m.a, m.b, given);
    const same = m.a.options.filter((o) => m.b.options!.some((x) => x.value === o.value) && !Object.hasOwn(pairs, o.value));
    const lines = [
      ...Object.entries(pairs).map(([av, bv]) => `  ${aName} ${optionText(m.a, av)} ↔ ${bName} ${optionText(m.b, bv)}`),
      ...same.map((o) => `  ${aName} ${optionText(m.a, o.value)} ↔ ${bName} "${o.value}"`),
    ];
    const gaps = optionGaps(m.a, m.b, given);
    p.say(`The ${what} pair by label (${aName}.${m.a.name} ↔ ${bName}.${m.b.name}):\n${lines.join('\n') || '  (none)'}`);
    if (gaps.a.length === 0 && gaps.b.length === 0) continue;
    p.say(`Without a counterpart: ${[
      gaps.a.length ? `${aName} ${gaps.a.map((v) => optionText(m.a, v)).join(', ')}` : '',
      gaps.b.length ? `${bName} ${gaps.b.map((v) => optionText(m.b, v)).join(', ')}` : '',
    ].filter(Boolean).join('; ')}; until they are paired, ${what} ${m.flow ? 'move one way only' : 'are not synced'}.`);
    const candidate: Candidate = { field: m.b, flow: 'both', gaps };
    const values = await askValues(p, draft, m.a, candidate);
    if (!values) continue;
    draft = withValues(draft, m, { ...given, ...values });
    p.say(`The ${what} of ${aName}.${m.a.name} and ${bName}.${m.b.name} now map with values: for the stages without a matching label.`);
  }
  return draft;
}

/**
 * The mapped pair of the role, or the two fields of that role when the type
 * rules left their default pair out (options without counterparts on both sides).
 */
function stagePair(mappings: FieldMapping[], specs: Specs, role: StandardRole): { a: FieldSpec; b: FieldSpec; flow?: FieldMapping['flow'] } | undefined {
  const mapped = mappings.find((x) => x.a.role === role || x.b.role === role);
  if (mapped) return mapped;
  const a = specs.a.fields.find((f) => f.role === role);
  const b = specs.b.fields.find((f) => f.role === role);
  if (!a || !b || a.type !== b.type || mappings.some((x) => x.a.name === a.name || x.b.name === b.name)) return undefined;
  return { a, b };
}

/** The pair with `values`: a default pair repeated as a custom mapping refines it (mapping/resolve.ts). */
function withValues(d: Draft, m: { a: FieldSpec; b: FieldSpec }, values: Record<string, string>): Draft {
  const existing = d.fields.findIndex((f) => f.a === m.a.name && f.b === m.b.name);
  if (existing >= 0) return { ...d, fields: d.fields.map((f, i) => (i === existing ? { ...f, values } : f)) };
  const mapping: DraftMapping = { a: m.a.name, b: m.b.name, values };
  return { ...d, custom: true, fields: [...d.fields, mapping] };
}
