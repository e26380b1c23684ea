/**
 * docs/config.md and docs/connectors.md from the same schemas the loader
 * checks with (src/config/schema.ts, each connector's options.ts): every key,
 * its type, its default and what it means, so the docs cannot drift.
 */
import { z } from 'zod';
import { CONNECTOR_OPTIONS } from './connector-options.js';
import { fileSchema } from './schema.js';

type Json = { type?: string | string[]; default?: unknown; description?: string; properties?: Record<string, Json>; items?: Json;
  additionalProperties?: Json | boolean; enum?: unknown[]; const?: unknown; anyOf?: Json[]; oneOf?: Json[]; required?: string[] };

function typeOf(s: Json): string {
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return 'mapping';
  return Array.isArray(s.type) ? s.type.join(' or ') : s.type ?? 'value';
}

/** One row per key, nested keys as `a.b`, mapping values as `a.NAME.b`. */
function rows(s: Json, prefix: string, out: string[]): void {
  for (const [key, sub] of Object.entries(s.properties ?? {})) {
    const name = `${prefix}${key}`;
    const required = s.required?.includes(key) && sub.default === undefined ? 'required' : sub.default === undefined ? '—' : `\`${JSON.stringify(sub.default)}\``;
    out.push(`| \`${name}\` | ${typeOf(sub)} | ${required} | ${(sub.description ?? '').replace(/\|/g, '\\|')} |`);
    const inner = sub.items ?? sub;
    if (inner.properties) rows(inner, `${name}${sub.items ? '[]' : ''}.`, out);
    const values = sub.additionalProperties;
    if (values && typeof values === 'object' && values.properties) rows(values, `${name}.NAME.`, out);
  }
}

const HEAD = ['| key | type | default | meaning |', '| --- | --- | --- | --- |'];
const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;

export function configReference(): string {
  const out: string[] = [];
  rows(json(fileSchema.omit({ connections: true })), '', out);
  return ['# sync.yaml: every key', '', '<!-- written by `npm run schema` from src/config/schema.ts; do not edit -->', '',
    'Paths are relative to the file; `${NAME}` is replaced by the environment variable NAME (unset: an error).',
    'Connections are described per app in [connectors.md](connectors.md).', '', ...HEAD, ...out, ''].join('\n');
}

export function connectorsReference(): string {
  const parts = ['# Connectors: every option', '', '<!-- written by `npm run schema` from connectors/*/options.ts; do not edit -->', ''];
  for (const [app, schema] of Object.entries(CONNECTOR_OPTIONS)) {
    const s = json(schema);
    const out: string[] = [];
    rows(s, '', out);
    parts.push(`## ${app}`, '', `${s.description ?? ''}.`, '', ...HEAD, ...out, '');
  }
  return parts.join('\n');
}
