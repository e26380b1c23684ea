/**
 * Issue 13 point 15: a typo in a connection or object block (`updated_att`,
 * `delimeter`, `app: sqlit`) is a configuration error at its FILE:LINE:COLUMN
 * (exit 2, nothing read or written), and the JSON Schema describes each
 * connector's options.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain, REPO, useWorkspaces } from './support.js';

const workspace = useWorkspaces();

const YAML = (crm: string, exp: string) => [
  'version: 1',
  'connections:',
  '  crm:',
  ...crm.split('\n').map((l) => `    ${l}`),
  '  exp:',
  ...exp.split('\n').map((l) => `    ${l}`),
  'syncs:',
  '  - { name: contacts, object: contacts, between: [crm, exp], direction: two-way }',
  '',
].join('\n');

describe('typos in connection and object blocks (issue 13.15)', () => {
  it('names each unknown key with its line and column, and a guess', async () => {
    const w = workspace();
    w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, modified_at TEXT)');
    w.writeText('sync.yaml', YAML(
      'app: sqlite\npath: ./crm.db\nobjects:\n  contacts: { table: people, updated_att: modified_at }',
      'app: csv\ndelimeter: ";"\nobjects:\n  contacts: { file: contacts.csv }',
    ));
    const r = await w.run('run');
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/sync\.yaml:7:34: unknown key 'updated_att' in connections\.crm\.objects\.contacts: did you mean 'updated_at'\?/);
    expect(r.stderr).toMatch(/sync\.yaml:10:5: unknown key 'delimeter' in connections\.exp: did you mean 'delimiter'\?/);
    expect(w.exists('contacts.csv')).toBe(false);
    expect(w.exists('.datasync')).toBe(false);
  });

  it('`app: sqlit` is an unknown app at its position, with the apps there are', async () => {
    const w = workspace();
    w.writeText('sync.yaml', YAML('app: sqlit\npath: ./crm.db\nobjects: { contacts: {} }', 'app: csv\nobjects: { contacts: {} }'));
    const r = await w.run('run');
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/sync\.yaml:4:10: connections\.crm\.app: unknown app 'sqlit': did you mean 'sqlite'\? expected one of .*csv.*hubspot.*sqlite/);
  });

  it('a wrong type deep in a connector block is reported at its position (fields, associations, HubSpot keys)', async () => {
    const w = workspace();
    w.writeText('sync.yaml', YAML(
      'app: sqlite\npath: ./crm.db\nbusy_timeout: soon\nobjects:\n  contacts: { table: people, fields: { score: { type: nuber } } }',
      'app: hubspot\ntoken: x\nbase_urll: http://127.0.0.1:9',
    ));
    const r = await w.run('run');
    expect(r.exitCode, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/sync\.yaml:6:19: connections\.crm\.busy_timeout is 'soon', expected/);
    expect(r.stderr).toMatch(/sync\.yaml:8:59: connections\.crm\.objects\.contacts\.fields\.score\.type is 'nuber', expected one of text, number/);
    expect(r.stderr).toMatch(/sync\.yaml:12:5: unknown key 'base_urll' in connections\.exp: did you mean 'base_url'\?/);
  });

  it("the JSON Schema describes each connector's options, with no open-ended block", () => {
    const schema = JSON.parse(readFileSync(join(REPO, 'schema', 'sync.schema.json'), 'utf8')) as Record<string, unknown>;
    const text = JSON.stringify(schema);
    expect(text).not.toContain('"additionalProperties":{}');
    for (const key of ['updated_at', 'delimiter', 'busy_timeout', 'base_url', 'overlap_ms', 'tenant', 'page_size']) expect(text).toContain(`"${key}"`);
  });
});
