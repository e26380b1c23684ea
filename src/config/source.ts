/**
 * The YAML text of a config file as a document that knows where each node is,
 * so that every problem can say `FILE:LINE:COLUMN`. Also performs `${NAME}`
 * substitution and remembers which scalars were substituted, so that messages
 * show `${NAME}` instead of a value that may be a secret.
 */
import { Document, LineCounter, YAMLParseError, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Node, Scalar } from 'yaml';
import { configError, maskSecrets } from '../errors.js';
import { append } from '../lists.js';

export type Path = ReadonlyArray<PropertyKey>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SYNTAX_PROBLEMS = 5;
/** Shorter values (`1`, `crm`) would garble messages and are hardly secrets. */
const MIN_REDACTED_LENGTH = 6;

export class ConfigSource {
  readonly doc: Document.Parsed;
  /** Substituted scalars → their text before substitution. */
  private readonly templates = new WeakMap<Scalar, string>();
  private readonly lines = new LineCounter();
  /** Variables substituted so far, to keep their values out of messages. */
  private readonly used = new Map<string, string>();

  constructor(text: string, readonly file: string) {
    // The yaml package's own unique-key check compares each key with every
    // earlier one of its mapping: 55,000 keys took 95 s. One set per mapping instead.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false });
    if (this.doc.errors.length === 0) append(this.doc.errors, duplicateKeys(this.doc));
  }

  /** `FILE:LINE:COLUMN` of a character offset (1-based line and column). */
  position(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** Syntax errors of the yaml package, each with its position. */
  syntaxProblems(text: string): string[] {
    // One error tends to cascade into dozens ("Unexpected … token"): keep one per line, and the first few.
    const lines = new Set<number>();
    const errors = this.doc.errors.filter((e) => {
      const { line } = this.lines.linePos(e.pos[0]);
      return e.code === 'DUPLICATE_KEY' || (!lines.has(line) && lines.add(line));
    });
    const shown = errors.slice(0, MAX_SYNTAX_PROBLEMS).map((e) => {
      if (e.code === 'DUPLICATE_KEY') {
        const key = /^["']?([^"':\n]*)/.exec(text.slice(e.pos[0]))?.[1]?.trim() ?? '';
        return `${this.position(e.pos[0])}: duplicate key '${key}': a key may appear only once in a mapping`;
      }
      const message = e.message.replace(/\s*at line \d+, column \d+.*$/s, '');
      const line = text.split('\n')[this.lines.linePos(e.pos[0]).line - 1] ?? '';
      // `{ token: ${TOKEN} }` is the usual way to hit this: braces end a flow mapping.
      const tip = /\$\{/.test(line) && /[[{]/.test(line) ? ' (inside { } or [ ], quote a ${NAME} value: "${NAME}")' : '';
      return `${this.position(e.pos[0])}: ${message}${tip}`;
    });
    const more = errors.length - shown.length;
    if (more > 0) shown[shown.length - 1] += ` (and ${more} more syntax error${more === 1 ? '' : 's'} after it)`;
    return shown;
  }

  /** Replaces `${NAME}` in every string value; returns a problem per unset or malformed reference. */
  substituteEnv(env: NodeJS.ProcessEnv): string[] {
    const problems: string[] = [];
    visit(this.doc, {
      Scalar: (key, node) => {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
        const template = node.value;
        const at = this.position(node.range?.[0] ?? 0);
        node.value = template.replace(REFERENCE, (whole, name: string | undefined) => {
          if (whole === '$${') return '${';
          if (!whole.endsWith('}') || name === undefined || !VAR_NAME.test(name)) {
            problems.push(`${at}: '${whole}' is not a valid reference: write \${NAME} with NAME a variable name, or $\${ for a literal \${`);
            return whole;
          }
          const value = env[name];
          if (value === undefined) {
            problems.push(`${at}: \${${name}} is not set: export it (export ${name}=…) before running datasync, or write the value in the file`);
            return whole;
          }
          this.used.set(name, value);
          return value;
        });
        if (node.value !== template) this.templates.set(node, template);
      },
    });
    return problems;
  }

  /**
   * A last guard for messages: any substituted value long enough to be a
   * secret is shown as its `${NAME}` (messages quote values through `show`,
   * this catches the rest).
   */
  redact(message: string): string {
    let out = message;
    for (const [name, value] of this.used) {
      if (value.length >= MIN_REDACTED_LENGTH) out = maskSecrets(out, [value], () => `\${${name}}`);
    }
    return out;
  }

  /** The plain value of the whole file. */
  toJS(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      // An alias bomb ("billion laughs"): a few lines that expand to billions of values.
      if (!(err instanceof ReferenceError) || !/alias/i.test(err.message)) throw err;
      let at = 0;
      visit(this.doc, { Alias: (_, node) => { at = node.range?.[0] ?? 0; return visit.BREAK; } });
      throw configError('CONFIG_ALIASES', `1 problem in ${this.file}`, {
        problems: [`${this.position(at)}: its aliases (*name) expand to more than 1000 copies of other nodes; `
          + 'datasync refuses such a file (a YAML alias bomb): write the values out, or use fewer aliases'],
      });
    }
  }

  /** The node at `path`, or the deepest node on the way there when it is missing. */
  nodeAt(path: Path): { node: Node | null; found: boolean; keyNode?: Node } {
    let node: Node | null = this.resolve(this.doc.contents) ?? null;
    let keyNode: Node | undefined;
    for (const seg of path) {
      let next: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        keyNode = pair && isScalar(pair.key) ? pair.key : undefined;
        next = pair ? this.resolve(pair.value as Node | null) : undefined;
        // `key:` with nothing after it: point at the key, not at the end of the line.
        if (pair && (next === null || (isScalar(next) && next.value === null && !next.source))) next = keyNode;
      } else if (isSeq(node) && typeof seg === 'number') {
        keyNode = undefined;
        next = this.resolve(node.items[seg] as Node | null | undefined);
      }
      if (next === undefined || next === null) return { node, found: false };
      node = next;
    }
    return { node, found: true, keyNode };
  }

  /** `FILE:LINE:COLUMN` of the node at `path`, or of its parent mapping when missing. */
  at(path: Path): string {
    return this.position(this.nodeAt(path).node?.range?.[0] ?? 0);
  }

  /** Position of the key that holds `path` (for a wrong key), else of the node. */
  keyAt(path: Path): string {
    const { node, found, keyNode } = this.nodeAt(path);
    return this.position((found && keyNode ? keyNode : node)?.range?.[0] ?? 0);
  }

  /** A value fit to quote in a message: substituted scalars show their `${NAME}` text. */
  show(path: Path, value: unknown): string {
    const { node, found } = this.nodeAt(path);
    if (found && isScalar(node) && this.templates.has(node)) return `'${this.templates.get(node)}'`;
    if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
    if (value === null || value === undefined) return 'nothing';
    if (Array.isArray(value)) return 'a list';
    if (typeof value === 'object') return 'a mapping';
    return String(value);
  }

  private resolve(node: Node | null | undefined): Node | null | undefined {
    if (isAlias(node)) return node.resolve(this.doc) ?? null;
    if (isPair(node)) return null;
    return node;
  }
}

/** DUPLICATE_KEY errors, as the yaml package's `uniqueKeys` gives them, found in one pass per mapping. */
function duplicateKeys(doc: Document.Parsed): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  visit(doc, {
    Map: (_, map) => {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = pair.key.value;
        if (seen.has(key)) {
          const range = pair.key.range ?? [0, 0];
          errors.push(new YAMLParseError([range[0], range[1]], 'DUPLICATE_KEY', 'Map keys must be unique'));
        } else seen.add(key);
      }
    },
  });
  return errors;
}
