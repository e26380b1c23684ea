/**
 * A pass over an unchanged CSV file only hashes it (connectors/csv/file.ts
 * hashOnly). That goes through one buffer: a fresh megabyte per piece was
 * most of the peak memory of a pass that reads nothing at 1,000,000 rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { csvHash } from '../../connectors/csv/file.js';

let dir: string | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('hashing a 5 MB file allocates one 1 MB buffer, and the hash is the file\'s', async () => {
  dir = mkdtempSync(join(tmpdir(), 'csv-hash-'));
  const file = join(dir, 'contacts.csv');
  const text = `id,email\n${Array.from({ length: 200_000 }, (_, i) => `${i},p${i}@example.com`).join('\n')}\n`;
  writeFileSync(file, text);
  expect(text.length).toBeGreaterThan(4 << 20);
  const alloc = vi.spyOn(Buffer, 'allocUnsafe');
  const hash = await csvHash({ object: 'contacts', file, id: 'id', delimiter: ',', create: false, initialHeader: [] });
  expect(alloc.mock.calls.filter(([size]) => size >= 1 << 20)).toHaveLength(1);
  expect(hash).toBe(`sha256:${createHash('sha256').update(text).digest('hex')}`);
});
