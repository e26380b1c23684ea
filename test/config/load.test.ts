import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DatasyncError } from '../../src/errors.js';
import { parse, problemsOf } from './helpers.js';

const SPEC_EXAMPLE = readFileSync(new URL('./spec-example.yaml', import.meta.url), 'utf8');

describe('the SPEC §3 example', () => {
  test('parses to the resolved config', () => {
    const config = parse(SPEC_EXAMPLE, { HUBSPOT_TOKEN: 'pat-na1-secret' });
    expect(config).toEqual({
      file: '/project/sync.yaml',
      baseDir: '/project',
      version: 1,
      state: '/project/.datasync/state.db',
      interval: 300_000,
      connections: {
        hubspot: { name: 'hubspot', app: 'hubspot', baseDir: '/project', token: 'pat-na1-secret' },
        crm: {
          name: 'crm', app: 'sqlite', baseDir: '/project', path: './crm.db',
          objects: {
            contacts: { table: 'people', id: 'id', updated_at: 'modified_at' },
            companies: { table: 'orgs', id: 'id' },
          },
        },
      },
      syncs: [
        {
          name: 'companies', object: 'companies', between: ['hubspot', 'crm'], direction: 'two-way',
          defaultApp: 'hubspot', match: 'default', mappings: { defaults: true, custom: true, fields: [] },
          rules: { onlyWithEmail: false }, filters: {}, associations: true, clears: 'keep', suspectDeletions: 0.1, reconcileMs: 3_600_000, enabled: true,
          where: 'sync.yaml:18:5',
        },
        {
          name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way',
          defaultApp: 'hubspot', match: 'default',
          mappings: {
            defaults: true, custom: true,
            fields: [
              { fields: { hubspot: 'jobtitle', crm: 'title' }, where: 'sync.yaml:33:11' },
              { fields: { hubspot: 'hs_lead_status', crm: 'status_text' }, where: 'sync.yaml:34:11' },
            ],
          },
          rules: { onlyWithEmail: true },
          filters: { crm: [{ field: 'country', op: 'eq', value: 'SE', where: 'sync.yaml:39:11' }] },
          associations: true, clears: 'keep', suspectDeletions: 0.1, reconcileMs: 3_600_000, enabled: true,
          where: 'sync.yaml:23:5',
        },
      ],
    });
  });

  test('without HUBSPOT_TOKEN it is rejected at the token, and says how to fix it', () => {
    expect(problemsOf(SPEC_EXAMPLE)).toEqual([
      'sync.yaml:8:12: ${HUBSPOT_TOKEN} is not set: export it (export HUBSPOT_TOKEN=…) before running datasync, or write the value in the file',
    ]);
  });
});

describe('defaults', () => {
  test('a file with only the version is valid', () => {
    const config = parse('version: 1\n');
    expect(config).toMatchObject({ state: '/project/.datasync/state.db', interval: 300_000, connections: {}, syncs: [] });
  });

  test('state is relative to the file, an absolute state stays', () => {
    expect(parse('version: 1\nstate: data/s.db\n').state).toBe('/project/data/s.db');
    expect(parse('version: 1\nstate: /var/lib/datasync.db\n').state).toBe('/var/lib/datasync.db');
  });

  test.each([
    ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['90', 90_000], ['"120"', 120_000],
  ])('interval %s is %d ms', (text, ms) => {
    expect(parse(`version: 1\ninterval: ${text}\n`).interval).toBe(ms);
  });
});

describe('loadConfig finds the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'datasync-config-'));
  mkdirSync(path.join(dir, 'etc'), { recursive: true });
  writeFileSync(path.join(dir, 'sync.yaml'), 'version: 1\ninterval: 1m\n');
  writeFileSync(path.join(dir, 'etc', 'other.yaml'), 'version: 1\ninterval: 2m\n');
  writeFileSync(path.join(dir, 'bad.yaml'), 'version: 1\nintervall: 2m\n');

  test('sync.yaml in the folder by default', async () => {
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config).toMatchObject({ file: path.join(dir, 'sync.yaml'), baseDir: dir, interval: 60_000 });
  });

  test('DATASYNC_CONFIG names another file, relative to the folder', async () => {
    const config = await loadConfig({ cwd: dir, env: { DATASYNC_CONFIG: 'etc/other.yaml' } });
    expect(config).toMatchObject({ file: path.join(dir, 'etc', 'other.yaml'), interval: 120_000 });
    expect(config.state).toBe(path.join(dir, 'etc', '.datasync', 'state.db'));
  });

  test('-c/--config wins over DATASYNC_CONFIG', async () => {
    const config = await loadConfig({ file: 'sync.yaml', cwd: dir, env: { DATASYNC_CONFIG: 'etc/other.yaml' } });
    expect(config.interval).toBe(60_000);
  });

  test('problems name the file as given, relative to the folder', async () => {
    const err = await loadConfig({ file: 'bad.yaml', cwd: dir, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasyncError);
    expect(err).toMatchObject({ kind: 'config', code: 'CONFIG_INVALID', message: '1 problem in bad.yaml' });
    expect((err as DatasyncError).problems?.[0]).toMatch(/^bad\.yaml:2:1: unknown key 'intervall' at the top level: did you mean 'interval'\?/);
  });

  test('a missing file is CONFIG_NOT_FOUND with a hint naming -c/--config and DATASYNC_CONFIG', async () => {
    const err = await loadConfig({ cwd: path.join(dir, 'etc'), env: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'config', code: 'CONFIG_NOT_FOUND', message: 'no configuration file at sync.yaml' });
    expect((err as DatasyncError).hint).toMatch(/-c\/--config/);
    expect((err as DatasyncError).hint).toMatch(/DATASYNC_CONFIG/);
  });

  test('a missing file named by DATASYNC_CONFIG says so', async () => {
    const err = await loadConfig({ cwd: dir, env: { DATASYNC_CONFIG: 'nope.yaml' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_NOT_FOUND', message: 'no configuration file at nope.yaml (named by DATASYNC_CONFIG)' });
  });
});
