/** Issue 13 point 19: docs/config.md and docs/connectors.md are what `npm run schema` writes from the schemas. */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { configReference, connectorsReference } from '../../src/config/reference.js';

test('docs/config.md and docs/connectors.md are up to date (regenerate: npm run schema)', () => {
  expect(readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8')).toBe(configReference());
  expect(readFileSync(new URL('../../docs/connectors.md', import.meta.url), 'utf8')).toBe(connectorsReference());
});

test('every connector option is in docs/connectors.md, with its default', () => {
  const text = connectorsReference();
  for (const key of ['updated_at', 'delimiter', 'busy_timeout', 'base_url', 'overlap_ms', 'tenant', 'statement_timeout']) expect(text).toContain(`\`${key}\``);
  expect(text).toMatch(/\| `busy_timeout` \| integer \| `5000` \|/);
});
