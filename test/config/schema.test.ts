import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { configJsonSchema } from '../../src/config/schema.js';

test('schema/sync.schema.json is up to date (regenerate: node dist/scripts/write-schema.js)', () => {
  const committed = readFileSync(new URL('../../schema/sync.schema.json', import.meta.url), 'utf8');
  expect(committed).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
});

test('the JSON Schema describes the datasync-owned keys and each connector\'s options', () => {
  const schema = configJsonSchema() as {
    required: string[]; additionalProperties: boolean;
    properties: Record<string, { additionalProperties?: unknown; items?: { properties: Record<string, unknown> } }>;
  };
  expect(schema.required).toEqual(['version']);
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties.syncs?.items?.properties ?? {})).toContain('default_app');
  const byApp = (schema.properties.connections?.additionalProperties as { oneOf: Array<{ properties: { app: { const: string } }; additionalProperties: unknown }> }).oneOf;
  expect(byApp.map((c) => c.properties.app.const).sort()).toEqual(expect.arrayContaining(['csv', 'hubspot', 'sqlite']));
  for (const c of byApp) expect(c.additionalProperties).toBe(false);
});
