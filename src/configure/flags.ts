/**
 * `configure` without questions: the flags as a draft. Malformed flags are
 * configuration errors (exit 2) naming the flag and the expected form.
 */
import { parseDirection } from '../config/rules.js';
import { FILTER_OPS } from '../config/schema.js';
import type { Direction, FilterOp } from '../config/types.js';
import { configError } from '../errors.js';
import type { Draft, DraftFilter, DraftMapping } from './draft.js';

export interface ConfigureFlags {
  between?: string;
  object?: string;
  direction?: string;
  defaultApp?: string;
  map?: string[];
  defaults?: boolean;
  onlyWithEmail?: boolean;
  filter?: string[];
  associations?: boolean;
  syncNow?: boolean;
  yes?: boolean;
}

const bad = (flag: string, value: string, expected: string) =>
  configError('BAD_FLAG', `${flag} ${value}: expected ${expected}`, { hint: 'see datasync configure --help' });

/** The answers the flags give; `current` is the pair of connections when --between is not given. */
export function presetFromFlags(flags: ConfigureFlags, current?: [string, string]): Partial<Draft> {
  const preset: Partial<Draft> = {};
  if (flags.between !== undefined) {
    const parts = flags.between.split(',').map((s) => s.trim()).filter(Boolean);
    if (parts.length !== 2 || parts[0] === parts[1]) throw bad('--between', flags.between, 'two different connection names, like hubspot,crm');
    preset.between = [parts[0]!, parts[1]!];
  }
  const between = preset.between ?? current;
  if (flags.object !== undefined) preset.object = flags.object.trim();
  if (flags.direction !== undefined) {
    if (!between) throw bad('--direction', flags.direction, 'a --between first');
    preset.direction = parseDirectionFlag(flags.direction, between);
  }
  if (flags.defaultApp !== undefined) {
    if (between && !between.includes(flags.defaultApp)) throw bad('--default-app', flags.defaultApp, `one of the sync's connections: ${between.join(' or ')}`);
    preset.defaultApp = flags.defaultApp;
  }
  if (flags.map !== undefined) {
    if (!between) throw bad('--map', flags.map[0] ?? '', 'a --between first');
    preset.fields = flags.map.map((m) => parseMap(m, between));
    preset.custom = true;
  }
  if (flags.filter !== undefined) {
    if (!between) throw bad('--filter', flags.filter[0] ?? '', 'a --between first');
    const filters: Record<string, DraftFilter[]> = {};
    for (const f of flags.filter) {
      const [conn, cond] = parseFilter(f, between);
      (filters[conn] ??= []).push(cond);
    }
    preset.filters = filters;
  }
  if (flags.defaults !== undefined) preset.defaults = flags.defaults;
  if (flags.onlyWithEmail !== undefined) preset.onlyWithEmail = flags.onlyWithEmail;
  if (flags.associations !== undefined) preset.associations = flags.associations;
  return preset;
}

function parseDirectionFlag(text: string, between: [string, string]): Direction {
  const t = text.trim().toLowerCase();
  if (t === 'two-way' || t === 'both') return 'two-way';
  if (t === 'to-a' || t === 'b-to-a' || t === `to-${between[0]}`.toLowerCase()) return 'b-to-a';
  if (t === 'to-b' || t === 'a-to-b' || t === `to-${between[1]}`.toLowerCase()) return 'a-to-b';
  const parsed = parseDirection(text, between);
  if (!parsed) throw bad('--direction', text, `two-way, to-a, to-b, '${between[0]} -> ${between[1]}' or '${between[1]} -> ${between[0]}'`);
  return parsed;
}

/** `a:field=b:field[|values=x:y,z:w][|direction=a -> b]`, either connection first. */
function parseMap(text: string, [a, b]: [string, string]): DraftMapping {
  const [pair = '', ...extras] = text.split('|');
  const m = /^\s*([^:=\s]+):([^=]+?)\s*=\s*([^:=\s]+):(.+?)\s*$/.exec(pair);
  const form = `${a}:FIELD=${b}:FIELD (optionally |values=x:y,… or |direction=${a} -> ${b})`;
  if (!m) throw bad('--map', text, form);
  const sides = new Map([[m[1]!, m[2]!.trim()], [m[3]!, m[4]!.trim()]]);
  if (!sides.has(a) || !sides.has(b)) throw bad('--map', text, form);
  const out: DraftMapping = { a: sides.get(a)!, b: sides.get(b)! };
  const aFirst = m[1] === a;
  for (const extra of extras) {
    const [key, value = ''] = extra.split(/=(.*)/s, 2).map((s) => s.trim());
    if (key === 'values') {
      out.values = {};
      for (const p of value.split(',').filter(Boolean)) {
        const [x, y] = p.split(':').map((s) => s.trim());
        if (!x || !y) throw bad('--map', text, 'values=FROM:TO,… (option values)');
        // Values are written from the first connection's option to the second's.
        if (aFirst) out.values[x] = y;
        else out.values[y] = x;
      }
    } else if (key === 'direction' && value) {
      out.direction = value;
    } else {
      throw bad('--map', text, form);
    }
  }
  return out;
}

/** `conn:field:op[:value]`; in/not_in take `x|y` or `x,y`. Values stay text here. */
function parseFilter(text: string, between: [string, string]): [string, DraftFilter] {
  const [conn = '', field = '', op = '', ...rest] = text.split(':');
  const form = `CONNECTION:FIELD:OP[:VALUE] with CONNECTION ${between.join(' or ')} and OP one of ${FILTER_OPS.join(', ')}`;
  if (!between.includes(conn) || !field || !(FILTER_OPS as readonly string[]).includes(op)) throw bad('--filter', text, form);
  const raw = rest.join(':');
  const cond: DraftFilter = { field, op: op as FilterOp };
  if (op === 'in' || op === 'not_in') cond.value = raw.split(/[,|]/).map((s) => s.trim()).filter(Boolean);
  else if (op !== 'is_empty' && op !== 'is_not_empty') {
    if (raw === '') throw bad('--filter', text, `a value after ${op}:`);
    // Typed (number, true/false) once the field is known: see retypeFilters.
    cond.value = raw;
  }
  return [conn, cond];
}

/** The flags that a new sync needs without a terminal, when missing. */
export function missingForNew(flags: ConfigureFlags): string[] {
  return [flags.between === undefined ? '--between A,B' : '', flags.object === undefined ? '--object OBJECT' : ''].filter(Boolean);
}
