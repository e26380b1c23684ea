/**
 * `configure` step by step, in the order of HubSpot's own set-up: the two
 * connections, the object, the direction, the default app, the default
 * mappings, custom mappings, rules, filters, associations, a review, then
 * save or save-and-sync. It only asks (through a Prompter) and returns the
 * draft; writing the YAML is the caller's job.
 */
import type { ObjectSpec } from '../connector.js';
import { configError } from '../errors.js';
import { directionText, freeName, newDraft, toSyncYaml, type Draft } from './draft.js';
import { resolveDraft, type Specs } from './mappings.js';
import { stepCustomMappings, stepDefaultMappings } from './wizard-mappings.js';
import { stepStageMappings } from './wizard-stages.js';
import { stepAssociations, stepFilters, stepRules } from './wizard-rules.js';
import type { Prompter } from './prompter.js';
import { reviewText } from './review.js';

export interface ConnectionChoice {
  name: string;
  app: string;
  /** Where it is defined: the YAML, the state (stored by `connect`), or both. */
  from: 'yaml' | 'stored' | 'both';
}

export interface WizardContext {
  connections: ConnectionChoice[];
  /** The objects and fields of a connection (checks it first). */
  describe(connection: string): Promise<ObjectSpec[]>;
  /** Names of the syncs already in the YAML. */
  syncNames: string[];
  /** Editing: the sync's current values, and its YAML as written. */
  existing?: { draft: Draft; raw: Record<string, unknown> };
  /** The sync name asked for on the command line. */
  name?: string;
  /** Answers given as flags: they become each question's default. */
  preset?: Partial<Draft>;
  /** How the YAML file is named on screen. */
  file: string;
}

export type WizardAction = 'save' | 'save-and-sync' | 'cancel';

export interface WizardResult {
  draft: Draft;
  specs: Specs;
  action: WizardAction;
}

export async function runWizard(p: Prompter, ctx: WizardContext): Promise<WizardResult> {
  const start = { ...ctx.existing?.draft, ...ctx.preset } as Partial<Draft>;
  if (ctx.existing) p.say(`Editing sync "${ctx.existing.draft.name}" (${ctx.existing.draft.object}, ${directionText(ctx.existing.draft)}).`);

  const between = await stepConnections(p, ctx, start.between);
  const [aObjects, bObjects] = await Promise.all(between.map((c) => ctx.describe(c)));
  const object = await stepObject(p, between, aObjects!, bObjects!, start.object);
  const specs: Specs = { a: aObjects!.find((o) => o.name === object)!, b: bObjects!.find((o) => o.name === object)! };

  const name = ctx.existing?.draft.name ?? ctx.name ?? await p.input({
    message: 'Name of this sync:',
    default: freeName(object, ctx.syncNames),
    validate: (v) => (!v.trim() ? 'a name is required' : ctx.syncNames.includes(v.trim()) ? `a sync named "${v.trim()}" exists; run \`datasync configure ${v.trim()}\` to edit it` : true),
  });
  const sameShape = start.between?.[0] === between[0] && start.between?.[1] === between[1] && start.object === object;
  let d: Draft = sameShape ? { ...newDraft(name, object, between), ...start, name: name.trim(), between, object } : newDraft(name.trim(), object, between);

  d = { ...d, direction: await stepDirection(p, d) };
  d = { ...d, defaultApp: await p.select({
    message: 'Default app: whose value wins when the two apps hold different values?',
    choices: between.map((c) => ({ name: c, value: c })),
    default: between.includes(d.defaultApp) ? d.defaultApp : between[0],
  }) };
  const hadCustom = d.fields.length > 0;
  d = await stepDefaultMappings(p, d, specs);
  d = await stepStageMappings(p, d, specs);
  d = await stepCustomMappings(p, d, specs, { askKeep: hadCustom });
  d = await stepRules(p, d);
  d = await stepFilters(p, d, specs);
  d = await stepAssociations(p, d, specs);

  for (;;) {
    const resolved = resolveDraft(d, specs);
    p.say(reviewText(toSyncYaml(d, ctx.existing?.raw), resolved, ctx.file, specs));
    const ok = resolved.problems.length === 0 && resolved.mappings.length > 0;
    if (resolved.mappings.length === 0) p.say('This sync maps no field: turn the default mappings on or add a custom mapping.');
    const action = await p.select<WizardAction | 'mappings'>({
      message: 'Save this sync?',
      choices: [
        { name: 'Save', value: 'save', disabled: ok ? false : 'fix the problems first' },
        { name: 'Save and sync now', value: 'save-and-sync', disabled: ok ? false : 'fix the problems first' },
        { name: 'Back to the custom mappings', value: 'mappings' },
        { name: 'Cancel (write nothing)', value: 'cancel' },
      ],
      default: ok ? 'save' : 'mappings',
    });
    if (action !== 'mappings') return { draft: d, specs, action };
    d = await stepCustomMappings(p, d, specs, { again: true });
  }
}

async function stepConnections(p: Prompter, ctx: WizardContext, current?: [string, string]): Promise<[string, string]> {
  if (ctx.connections.length < 2) {
    throw configError('TOO_FEW_CONNECTIONS', `a sync needs two connections and ${ctx.connections.length === 0 ? 'none is' : 'only one is'} defined`, {
      hint: 'add them with `datasync connect APP --name NAME` (or under connections: in the YAML), then run configure again',
    });
  }
  const label = (c: ConnectionChoice) => `${c.name} (${c.app}${c.from === 'stored' ? ', stored by connect' : ''})`;
  const known = (n?: string) => (n && ctx.connections.some((c) => c.name === n) ? n : undefined);
  const a = await p.select({
    message: 'First app (connection A):',
    choices: ctx.connections.map((c) => ({ name: label(c), value: c.name })),
    default: known(current?.[0]),
  });
  const b = await p.select({
    message: 'Second app (connection B):',
    choices: ctx.connections.filter((c) => c.name !== a).map((c) => ({ name: label(c), value: c.name })),
    default: known(current?.[1]) === a ? undefined : known(current?.[1]),
  });
  return [a, b];
}

async function stepObject(p: Prompter, [a, b]: [string, string], aObjects: ObjectSpec[], bObjects: ObjectSpec[], current?: string): Promise<string> {
  const shared = aObjects.filter((o) => bObjects.some((x) => x.name === o.name));
  if (shared.length === 0) {
    throw configError('NO_SHARED_OBJECT', `${a} and ${b} have no object in common`, {
      hint: `${a} has ${aObjects.map((o) => o.name).join(', ') || 'none'}; ${b} has ${bObjects.map((o) => o.name).join(', ') || 'none'}. For sqlite/csv, name the object with \`datasync connect … --object contacts=TABLE\``,
    });
  }
  return p.select({
    message: 'Object to sync (both apps have it):',
    choices: shared.map((o) => ({ name: `${o.name} (${o.fields.length} / ${bObjects.find((x) => x.name === o.name)!.fields.length} fields)`, value: o.name })),
    default: shared.some((o) => o.name === current) ? current : undefined,
  });
}

async function stepDirection(p: Prompter, d: Draft): Promise<Draft['direction']> {
  const [a, b] = d.between;
  return p.select({
    message: 'Which way does data sync?',
    choices: [
      { name: `Two-way: data syncs between ${a} and ${b}`, value: 'two-way' as const },
      { name: `Only to ${a} (${b} -> ${a})`, value: 'b-to-a' as const },
      { name: `Only to ${b} (${a} -> ${b})`, value: 'a-to-b' as const },
    ],
    default: d.direction,
  });
}
