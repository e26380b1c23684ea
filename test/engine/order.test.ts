import { describe, expect, test } from 'vitest';
import type { SyncConfig } from '../../src/config/types.js';
import { syncOrder } from '../../src/engine/prepare.js';

const sync = (name: string, object: string) => ({ name, object }) as SyncConfig;

describe('sync order (SPEC §4 Associations)', () => {
  test('companies run first, then contacts, then deals, then custom objects, whatever the YAML order', () => {
    const ordered = syncOrder([sync('d', 'deals'), sync('x', 'tickets'), sync('c', 'contacts'), sync('co', 'companies')]);
    expect(ordered.map((s) => s.object)).toEqual(['companies', 'contacts', 'deals', 'tickets']);
  });

  test('syncs of the same object, and custom objects among themselves, keep the YAML order', () => {
    const ordered = syncOrder([sync('p2', 'projects'), sync('c2', 'contacts'), sync('p1', 'pets'), sync('c1', 'contacts')]);
    expect(ordered.map((s) => s.name)).toEqual(['c2', 'c1', 'p2', 'p1']);
  });
});
