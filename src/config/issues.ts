/**
 * zod issues → `FILE:LINE:COLUMN: what is wrong, what is expected`. The
 * schemas' own descriptions say what is expected, so that the JSON Schema and
 * the error messages never disagree.
 */
import type { z } from 'zod';
import type { ConfigSource, Path } from './source.js';

/** Returned by the per-parse error map: "no message from the schema, make one here". */
export const DEFAULT_MESSAGE = '\u0000';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch', 'pipe']);

/** Strips default/optional/… wrappers, keeping the first description met. */
function unwrap(schema: z.ZodType): { schema: z.ZodType; description?: string } {
  let s = schema;
  let description = s.description;
  for (let def = defOf(s); WRAPPERS.has(def.type); def = defOf(s)) {
    const inner = def.type === 'pipe' ? def.in : def.innerType;
    if (!inner) break;
    s = inner;
    description ??= s.description;
  }
  return { schema: s, description };
}

/** The schema that validates the value at `path` (below `root`), if it can be told. */
export function schemaAt(root: z.ZodType, path: Path): { schema: z.ZodType; description?: string } | undefined {
  let current = unwrap(root);
  for (const seg of path) {
    const def = defOf(current.schema);
    let next: z.ZodType | undefined;
    if (def.type === 'object') next = def.shape?.[String(seg)] ?? def.catchall;
    else if (def.type === 'array') next = def.element;
    else if (def.type === 'tuple') next = def.items?.[Number(seg)];
    else if (def.type === 'record') next = def.valueType;
    else if (def.type === 'union') next = def.options?.map((o) => schemaAt(o, [seg])?.schema).find((o) => o);
    if (!next) return undefined;
    current = unwrap(next);
  }
  return current;
}

/** The keys a strict mapping at `path` allows. */
export function allowedKeys(root: z.ZodType, path: Path): string[] {
  const found = schemaAt(root, path);
  const def = found && defOf(found.schema);
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

export function formatPath(path: Path): string {
  if (path.length === 0) return 'the file';
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`)).join('');
}

export function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `options` to a mistyped `word`, when it is close enough to be a typo. */
export function closest(word: string, options: readonly string[]): string | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const option of options) {
    const distance = levenshtein(word.toLowerCase(), option.toLowerCase());
    if (!best || distance < best.distance) best = { option, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(best.option.length / 3)) ? best.option : undefined;
}

/** `unknown key 'x' in syncs[0]: did you mean 'y'? expected one of a, b`. */
export function unknownKeyMessage(key: string, where: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed);
  const list = allowed.length ? ` expected one of ${allowed.join(', ')}` : ' expected no other keys';
  return `unknown key '${key}' ${where}:${guess ? ` did you mean '${guess}'?` : ''}${list}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false',
  array: 'a list', tuple: 'a list', object: 'a mapping', record: 'a mapping',
};

/** One problem line per zod issue (an unknown-keys issue gives one per key). */
export function issueProblems(issue: z.core.$ZodIssue, root: z.ZodType, data: unknown, src: ConfigSource): string[] {
  const path = issue.path;
  const label = formatPath(path);
  const value = valueAt(data, path);
  const desc = schemaAt(root, path)?.description;

  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(root, path);
    const where = path.length ? `in ${label}` : 'at the top level';
    return issue.keys.map((key) => `${src.keyAt([...path, key])}: ${unknownKeyMessage(key, where, allowed)}`);
  }
  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    return [`${src.keyAt(path)}: '${key}' is not a valid name in ${formatPath(path.slice(0, -1))}: expected a letter first, then letters, digits, '-' or '_'`];
  }

  const at = src.at(path);
  if (value === undefined && path.length > 0 && isMissing(data, path)) {
    const key = String(path[path.length - 1]);
    const expected = desc ?? (issue.code === 'invalid_type' ? TYPE_WORDS[issue.expected] ?? issue.expected : 'a value');
    return [`${at}: ${formatPath(path.slice(0, -1))} is missing '${key}': expected ${expected}`];
  }
  if (issue.message !== DEFAULT_MESSAGE) {
    const text = issue.message.startsWith('expected') ? ` is ${src.show(path, value)}, ${issue.message}` : `: ${issue.message}`;
    return [`${at}: ${label}${text}`];
  }
  return [`${at}: ${label} is ${src.show(path, value)}, expected ${expectation(issue, desc)}`];
}

/** The key is absent from a mapping (not merely null or of a wrong type). */
function isMissing(data: unknown, path: Path): boolean {
  const parent = valueAt(data, path.slice(0, -1));
  return typeof parent === 'object' && parent !== null && !Array.isArray(parent) && !(String(path[path.length - 1]) in parent);
}

function expectation(issue: z.core.$ZodIssue, desc: string | undefined): string {
  const also = desc ? ` (${desc})` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `${TYPE_WORDS[issue.expected] ?? issue.expected}${also}`;
    case 'invalid_value':
      return issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.join(', ')}`;
    case 'too_small':
      return issue.origin === 'string' ? `a non-empty text${also}` : `at least ${String(issue.minimum)}${also}`;
    case 'too_big':
      return `at most ${String(issue.maximum)}${also}`;
    default:
      return desc ?? 'a valid value';
  }
}
