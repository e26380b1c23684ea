/**
 * Adding a connection block to `sync.yaml` for `connect` and `configure`:
 * the new block is spliced in as text after the last existing connection (or
 * a new `connections:` key goes above `syncs:`), so every other byte of the
 * file — comments, alignment, the syncs — stays as the person wrote it.
 * A block never holds a secret: the credential stays in the state.
 */
import { Document, isMap, isScalar, parseDocument } from 'yaml';
import type { YAMLMap } from 'yaml';
import { configError } from '../errors.js';

export type ConnectionYaml = { app: string } & Record<string, unknown>;

/** Connection names and apps declared in the file (no validation beyond YAML syntax). */
export function declaredConnections(source: string): Map<string, Record<string, unknown>> {
  const doc = parse(source);
  const out = new Map<string, Record<string, unknown>>();
  const js = doc.toJS() as { connections?: unknown } | null;
  const conns = js && typeof js === 'object' ? js.connections : undefined;
  if (conns && typeof conns === 'object' && !Array.isArray(conns)) {
    for (const [name, block] of Object.entries(conns as Record<string, unknown>)) {
      out.set(name, block && typeof block === 'object' ? block as Record<string, unknown> : {});
    }
  }
  return out;
}

/** Syncs of the file (name and `between`), for "is this connection used?". */
export function declaredSyncs(source: string): Array<{ name: string; between: string[] }> {
  const js = parse(source).toJS() as { syncs?: unknown } | null;
  const syncs = js && typeof js === 'object' && Array.isArray(js.syncs) ? js.syncs as unknown[] : [];
  return syncs.flatMap((s) => {
    if (!s || typeof s !== 'object') return [];
    const r = s as Record<string, unknown>;
    return [{ name: String(r.name ?? '?'), between: Array.isArray(r.between) ? r.between.map(String) : [] }];
  });
}

/** The `state:` of the file as written (default `.datasync/state.db`), before any resolving. */
export function declaredState(source: string): string {
  const js = parse(source).toJS() as { state?: unknown } | null;
  return js && typeof js === 'object' && typeof js.state === 'string' && js.state ? js.state : '.datasync/state.db';
}

/** Adds `name: block` under `connections:`; returns the source unchanged when the name is there already. */
export function addConnection(source: string, name: string, block: ConnectionYaml): string {
  const doc = parse(source);
  const conns = doc.get('connections', true);
  if (isMap(conns) && conns.has(name)) return source;
  if (isMap(conns) && !conns.flow && conns.items.length > 0) {
    const firstKey = conns.items[0]!.key;
    const keyCol = isScalar(firstKey) && firstKey.range ? column(source, firstKey.range[0]) : 2;
    // Right after the last connection's value, at the start of a line.
    let at = conns.range?.[1] ?? source.length;
    if (at > 0 && source[at - 1] !== '\n') {
      const eol = source.indexOf('\n', at);
      at = eol >= 0 ? eol + 1 : source.length;
    }
    const sep = at > 0 && source[at - 1] !== '\n' ? '\n' : '';
    return source.slice(0, at) + sep + blockText(name, block, keyCol) + source.slice(at);
  }
  if (isMap(doc.contents) && !doc.contents.flow && !doc.has('connections')) {
    const text = `connections:\n${blockText(name, block, 2)}`;
    const syncsKey = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'syncs')?.key;
    if (isScalar(syncsKey) && syncsKey.range) {
      const at = commentsAbove(source, lineStart(source, syncsKey.range[0]));
      return source.slice(0, at) + text + source.slice(at);
    }
    const sep = source.length === 0 || source.endsWith('\n') ? '' : '\n';
    return `${source}${sep}${text}`;
  }
  // Unusual shapes (`connections: {}`, `connections:` empty, flow style): re-emit the document.
  if (!isMap(doc.contents)) doc.contents = doc.createNode({ version: 1 }) as unknown as typeof doc.contents;
  doc.setIn(['connections', name], doc.createNode(block));
  const map = doc.get('connections', true) as YAMLMap;
  map.flow = false;
  return doc.toString({ lineWidth: 0 });
}

/** `  name:\n    app: x\n    objects:\n      contacts: { table: people }\n` at indentation `keyCol`. */
function blockText(name: string, block: ConnectionYaml, keyCol: number): string {
  const doc = new Document({ [name]: block });
  // Object settings read best inline, as in SPEC §3: `contacts: { table: people, id: id }`.
  const objects = doc.getIn([name, 'objects'], true);
  if (isMap(objects)) for (const p of objects.items) if (isMap(p.value)) p.value.flow = true;
  const body = doc.toString({ lineWidth: 0, indent: 2 }).replace(/\n+$/, '');
  return `${body.split('\n').map((l) => (l === '' ? l : ' '.repeat(keyCol) + l)).join('\n')}\n`;
}

function parse(source: string) {
  const doc = parseDocument(source, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw configError('CONFIG_INVALID', 'the configuration file is not valid YAML; it was not changed', {
      problems: doc.errors.map((e) => e.message),
      hint: 'Fix the YAML first (datasync run reports each problem with its line and column).',
    });
  }
  return doc;
}

function column(source: string, offset: number): number {
  return offset - lineStart(source, offset);
}

function lineStart(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

/** Start of the run of comment lines right above the line at `start` (they belong to that key). */
function commentsAbove(source: string, start: number): number {
  let at = start;
  while (at > 0) {
    const prev = lineStart(source, at - 1);
    if (!source.slice(prev, at).trim().startsWith('#')) break;
    at = prev;
  }
  return at;
}
