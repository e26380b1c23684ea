import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { configJsonSchema } from '../../src/config/schema.js';

test('schema/sync.schema.json is up to date (regenerate: node dist/scripts/write-schema.js)', () => {
  const committed = readFileSync(new URL('../../schema/sync.schema.json', import.meta.url), 'utf8');
  expect(committed).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
});

test('the JSON Schema describes the datasync-owned keys and leaves connections open', () => {
  const schema = configJsonSchema() as {
    required: string[]; additionalProperties: boolean;
    properties: Record<string, { additionalProperties?: unknown; items?: { properties: Record<string, unknown> } }>;
  };
  expect(schema.required).toEqual(['version']);
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties.syncs?.items?.properties ?? {})).toContain('default_app');
  expect(schema.properties.connections?.additionalProperties).toMatchObject({ required: ['app'], additionalProperties: {} });
});
