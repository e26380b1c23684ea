/** Adding a connection block to the YAML keeps every other byte. */
import { describe, expect, it } from 'vitest';
import { addConnection } from '../../src/config/connections.js';

describe('addConnection', () => {
  it('goes after the last connection; comments and the syncs stay', () => {
    const src = `version: 1
# the portal and the CRM
connections:
  hubspot:            # main portal
    app: hubspot
  crm: { app: sqlite, path: ./crm.db, objects: { contacts: {} } }   # the CRM
  # syncs below
syncs: []
`;
    const out = addConnection(src, 'export', { app: 'csv', dir: './export', objects: { contacts: { file: 'contacts.csv' } } });
    expect(out).toBe(src.replace('  # syncs below', `  export:
    app: csv
    dir: ./export
    objects:
      contacts: { file: contacts.csv }
  # syncs below`));
    expect(addConnection(out, 'export', { app: 'csv' })).toBe(out);
  });

  it('adds a connections key above syncs (and the comment over it) when there is none', () => {
    const src = 'version: 1\n\n# my syncs\nsyncs:\n  - name: x\n';
    expect(addConnection(src, 'hubspot', { app: 'hubspot', base_url: 'http://127.0.0.1:1' }))
      .toBe('version: 1\n\nconnections:\n  hubspot:\n    app: hubspot\n    base_url: http://127.0.0.1:1\n# my syncs\nsyncs:\n  - name: x\n');
  });
});
