/**
 * Editing `sync.yaml` for `configure` and `stop`: one sync changes, the rest
 * of the file stays byte for byte as the person wrote it (comments, their
 * alignment, key order, the other syncs). The edited sync is merged into its
 * existing node, so comments inside it survive too, and only its text is
 * re-emitted and spliced back in.
 */
import { Document, LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, YAMLMap, YAMLSeq } from 'yaml';
import { configError } from '../errors.js';

/** A sync as a person writes it in the YAML (`default_app`, `only_with_email`, …). */
export interface SyncYaml {
  name: string;
  [key: string]: unknown;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Replaces the sync of the same name in place, or appends it; returns the new text. */
export function upsertSync(source: string, sync: SyncYaml): string {
  const doc = parse(source);
  const seq = doc.get('syncs', true);
  if (isSeq(seq) && !seq.flow && seq.items.length > 0) {
    const item = findSync(seq, sync.name);
    return item ? replaceItem(source, doc, item, sync) : appendItem(source, doc, seq, sync);
  }
  if (isMap(doc.contents) && !doc.contents.flow && !doc.has('syncs')) {
    const sep = source.length === 0 || source.endsWith('\n') ? '' : '\n';
    return `${source}${sep}syncs:\n${itemText(syncNode(doc, sync), 2, 4)}`;
  }
  // Unusual shapes (no mapping, `syncs: []`, `syncs:` empty): re-emit the whole document.
  if (!isMap(doc.contents)) doc.contents = doc.createNode({ version: 1 }) as unknown as typeof doc.contents;
  const list = isSeq(seq) ? seq : (doc.createNode([]) as YAMLSeq);
  list.flow = false;
  list.items.push(syncNode(doc, sync));
  doc.set('syncs', list);
  return doc.toString();
}

/** Sets `enabled: false`, or removes `enabled` (true is the default). */
export function setSyncEnabled(source: string, name: string, enabled: boolean): string {
  const doc = parse(source);
  const seq = doc.get('syncs', true);
  const item = isSeq(seq) ? findSync(seq, name) : undefined;
  if (!item) {
    throw configError('SYNC_NOT_FOUND', `no sync named '${name}' in the configuration file`, {
      hint: 'Check the name under syncs: (datasync health lists the syncs).',
    });
  }
  const current = item.toJS(doc) as Plain;
  if (enabled === (current.enabled !== false)) return source;
  const { enabled: _drop, ...rest } = current;
  return replaceItem(source, doc, item, (enabled ? rest : { ...rest, enabled: false }) as SyncYaml);
}

function parse(source: string): Document.Parsed {
  const lines = new LineCounter();
  const doc = parseDocument(source, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    const at = (offset: number) => `${lines.linePos(offset).line}:${lines.linePos(offset).col}`;
    throw configError('CONFIG_INVALID', 'the configuration file is not valid YAML; it was not changed', {
      problems: doc.errors.map((e) => `${at(e.pos[0])}: ${e.message}`),
      hint: 'Fix the YAML first (datasync run reports each problem with its line and column).',
    });
  }
  return doc;
}

function findSync(seq: YAMLSeq, name: string): YAMLMap | undefined {
  return seq.items.find((i): i is YAMLMap => isMap(i) && i.get('name') === name);
}

function replaceItem(source: string, doc: Document, item: YAMLMap, sync: SyncYaml): string {
  const [start, end] = item.range ?? [0, 0];
  let node: YAMLMap;
  if (item.flow) {
    node = syncNode(doc, sync);
  } else {
    node = item.clone() as YAMLMap;
    mergeMap(doc, node, sync);
    if (JSON.stringify(node.toJSON()) === JSON.stringify(item.toJSON())) return source;
  }
  // Comments before and after the item lie outside [start, end) and stay where they are.
  node.commentBefore = undefined;
  node.comment = undefined;
  node.spaceBefore = false;
  const text = bodyText(node, column(source, start));
  return source.slice(0, start) + (source[end - 1] === '\n' ? text : text.slice(0, -1)) + source.slice(end);
}

function appendItem(source: string, doc: Document, seq: YAMLSeq, sync: SyncYaml): string {
  const last = seq.items[seq.items.length - 1] as Node;
  const itemStart = last.range?.[0] ?? 0;
  const dash = source.lastIndexOf('-', itemStart);
  let at = seq.range?.[2] ?? source.length;
  while (at > 0 && (source[at - 1] === ' ' || source[at - 1] === '\t')) at--;
  const node = syncNode(doc, sync);
  node.spaceBefore = Boolean(last.spaceBefore);
  const text = itemText(node, column(source, dash), column(source, itemStart));
  const sep = at === 0 || source[at - 1] === '\n' ? '' : '\n';
  return source.slice(0, at) + sep + text + source.slice(at);
}

/** The text of a mapping whose first key is already placed at column `keyCol`; ends with a newline. */
function bodyText(node: YAMLMap, keyCol: number): string {
  const body = new Document(node).toString({ lineWidth: 0 });
  const lines = body.replace(/\n+$/, '').split('\n');
  return `${lines.map((l, i) => (i === 0 || l === '' ? l : ' '.repeat(keyCol) + l)).join('\n')}\n`;
}

/** `- key: value` lines of a sync item, the dash at `dashCol`, its keys at `keyCol`. */
function itemText(node: YAMLMap, dashCol: number, keyCol: number): string {
  const gap = ' '.repeat(Math.max(1, keyCol - dashCol - 1));
  return `${node.spaceBefore ? '\n' : ''}${' '.repeat(dashCol)}-${gap}${bodyText(node, Math.max(keyCol, dashCol + 2))}`;
}

function column(source: string, offset: number): number {
  return offset - (source.lastIndexOf('\n', offset - 1) + 1);
}

/** A new sync node in the compact style of SPEC §3: `[a, b]` and `{ a: x, b: y }` inside lists. */
function syncNode(doc: Document, sync: SyncYaml): YAMLMap {
  const node = doc.createNode(sync) as YAMLMap;
  compact(node, false);
  return node;
}

function compact(node: unknown, inList: boolean): void {
  const scalarsOnly = (items: unknown[]) => items.every((i) => isScalar(i));
  // Scalars, or one level of scalar lists/mappings: `{ field: x, op: in, value: [a, b] }`.
  const small = (items: unknown[]) => items.every((i) => isScalar(i)
    || (isSeq(i) && scalarsOnly(i.items)) || (isMap(i) && scalarsOnly(i.items.map((p) => p.value))));
  if (isSeq(node)) {
    if (scalarsOnly(node.items)) node.flow = true;
    else node.items.forEach((i) => compact(i, true));
  } else if (isMap(node)) {
    if (inList && small(node.items.map((p) => p.value))) node.flow = true;
    else node.items.forEach((p) => compact(p.value, isScalar(p.key) && isListValueKey(String(p.key.value))));
  }
}

/** Writes `value` into `map`, keeping the nodes (and their comments) whose value did not change. */
function mergeMap(doc: Document, map: YAMLMap, value: Plain): void {
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    map.set(key, mergeNode(doc, map.get(key, true), v, isListValueKey(key)));
  }
  for (const pair of [...map.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key !== undefined && value[key] === undefined) map.delete(pair.key);
  }
}

function mergeNode(doc: Document, existing: unknown, v: unknown, inList: boolean): unknown {
  if (isScalar(existing) && !isPlain(v) && !Array.isArray(v)) {
    if (existing.value !== v) existing.value = v;
    return existing;
  }
  if (isMap(existing) && isPlain(v)) {
    mergeMap(doc, existing, v);
    return existing;
  }
  if (isSeq(existing) && Array.isArray(v)) {
    const old = existing.items;
    const unused = new Set(old);
    const json = (n: unknown) => JSON.stringify(isScalar(n) || isMap(n) || isSeq(n) ? n.toJSON() : n);
    existing.items = v.map((item) => {
      // An unchanged item keeps its node (and comments) wherever it moved.
      const same = old.find((n) => unused.has(n) && json(n) === JSON.stringify(item));
      if (same !== undefined) unused.delete(same);
      return same;
    });
    // Changed items merge into a left-over node at the same index when there is one.
    existing.items = existing.items.map((n, i) => {
      if (n !== undefined) return n;
      const spare = old[i] !== undefined && unused.has(old[i]) ? old[i] : undefined;
      unused.delete(spare);
      return mergeNode(doc, spare, v[i], true);
    });
    return existing;
  }
  const node = doc.createNode(v);
  compact(node, inList);
  return node;
}

/** Keys whose small mappings read best inline, like list items: `match: { hubspot: email, crm: email }`. */
function isListValueKey(key: string): boolean {
  return key === 'match' || key === 'values';
}
