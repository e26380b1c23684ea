/**
 * A sync being set up by `configure`, as plain data: what the wizard's answers
 * (or the flags) build, what the review screen shows, and what is written to
 * the YAML. Conversions to and from the YAML shape and the resolved
 * `SyncConfig` live here, so the whole wizard is testable without a file.
 */
import type { Direction, FilterOp, SyncConfig } from '../config/types.js';
import type { SyncYaml } from '../config/edit.js';

export interface DraftMapping {
  /** Field of side a (between[0]) and of side b. */
  a: string;
  b: string;
  /** Option values of a's field → b's (select/radio). */
  values?: Record<string, string>;
  /** 'two-way' or 'X -> Y' in connection names. */
  direction?: string;
}

export interface DraftFilter {
  field: string;
  op: FilterOp;
  value?: string | number | boolean | Array<string | number | boolean>;
}

export interface Draft {
  name: string;
  object: string;
  between: [string, string];
  direction: Direction;
  defaultApp: string;
  match: SyncConfig['match'];
  defaults: boolean;
  custom: boolean;
  fields: DraftMapping[];
  onlyWithEmail: boolean;
  /** Per connection name. */
  filters: Record<string, DraftFilter[]>;
  associations: boolean;
  clears: 'keep' | 'propagate';
}

export function newDraft(name: string, object: string, between: [string, string]): Draft {
  return {
    name, object, between, direction: 'two-way', defaultApp: between[0], match: 'default',
    defaults: true, custom: true, fields: [], onlyWithEmail: true, filters: {}, associations: true, clears: 'keep',
  };
}

/** The draft of an existing sync: editing starts from its current values. */
export function draftFromSync(sync: SyncConfig): Draft {
  const [a, b] = sync.between;
  return {
    name: sync.name,
    object: sync.object,
    between: [a, b],
    direction: sync.direction,
    defaultApp: sync.defaultApp,
    match: sync.match,
    defaults: sync.mappings.defaults,
    custom: sync.mappings.custom,
    fields: sync.mappings.fields.map((m) => ({
      a: m.fields[a] ?? '', b: m.fields[b] ?? '',
      ...(m.values ? { values: { ...m.values } } : {}),
      ...(m.direction ? { direction: m.direction } : {}),
    })),
    onlyWithEmail: sync.object !== 'contacts' || sync.rules.onlyWithEmail,
    filters: Object.fromEntries(Object.entries(sync.filters).map(([conn, conds]) =>
      [conn, conds.map((c) => ({ field: c.field, op: c.op, ...(c.value === undefined ? {} : { value: c.value as DraftFilter['value'] }) }))])),
    associations: sync.associations,
    clears: sync.clears,
  };
}

/** 'two-way', 'crm -> hubspot', … in the draft's connection names. */
export function directionText(d: Pick<Draft, 'direction' | 'between'>): string {
  const [a, b] = d.between;
  return d.direction === 'two-way' ? 'two-way' : d.direction === 'a-to-b' ? `${a} -> ${b}` : `${b} -> ${a}`;
}

/**
 * The sync as written in the YAML. Keys at their default are left out of a
 * new sync; keys the existing sync spelt out (`original`) stay. `enabled` is
 * dropped: saving a sync with `configure` turns it on.
 */
export function toSyncYaml(d: Draft, original: Record<string, unknown> = {}): SyncYaml {
  const had = (k: string) => Object.hasOwn(original, k);
  const origMappings = (original.mappings ?? {}) as Record<string, unknown>;
  const out: SyncYaml = { name: d.name, object: d.object, between: [...d.between], direction: directionText(d), default_app: d.defaultApp };
  if (d.match !== 'default' || had('match')) {
    out.match = typeof d.match === 'string' ? d.match : { [d.between[0]]: d.match.a, [d.between[1]]: d.match.b };
  }
  const mappings: Record<string, unknown> = { defaults: d.defaults };
  if (!d.custom || Object.hasOwn(origMappings, 'custom')) mappings.custom = d.custom;
  if (d.fields.length > 0) {
    mappings.fields = d.fields.map((m) => ({
      [d.between[0]]: m.a, [d.between[1]]: m.b,
      ...(m.values && Object.keys(m.values).length > 0 ? { values: { ...m.values } } : {}),
      ...(m.direction ? { direction: m.direction } : {}),
    }));
  }
  out.mappings = mappings;
  if (d.object === 'contacts') out.rules = { only_with_email: d.onlyWithEmail };
  else if (had('rules')) out.rules = original.rules;
  const filters = Object.fromEntries(Object.entries(d.filters).filter(([, c]) => c.length > 0)
    .map(([conn, conds]) => [conn, conds.map((c) => ({ ...c }))]));
  if (Object.keys(filters).length > 0) out.filters = filters;
  out.associations = d.associations;
  if (d.clears !== 'keep' || had('clears')) out.clears = d.clears;
  return out;
}

/** The draft as the engine sees a sync, for `resolveMappings` and filter checks. */
export function toSyncConfig(d: Draft): SyncConfig {
  const [a, b] = d.between;
  return {
    name: d.name,
    object: d.object,
    between: [a, b],
    direction: d.direction,
    defaultApp: d.defaultApp,
    match: d.match,
    mappings: {
      defaults: d.defaults,
      custom: d.custom,
      fields: d.fields.map((m, i) => ({
        fields: { [a]: m.a, [b]: m.b }, values: m.values, direction: m.direction, where: `custom mapping ${i + 1}`,
      })),
    },
    rules: { onlyWithEmail: d.object === 'contacts' && d.onlyWithEmail },
    filters: Object.fromEntries(Object.entries(d.filters).map(([conn, conds]) =>
      [conn, conds.map((c, i) => ({ ...c, where: `filter ${i + 1} on ${conn}` }))])),
    associations: d.associations,
    clears: d.clears,
    enabled: true,
    where: `sync "${d.name}"`,
  };
}

/** A sync name not used yet: `contacts`, else `contacts-2`, … */
export function freeName(base: string, taken: string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}
