/**
 * SPEC §8 "stored credentials are never printed (logs, errors, `--json`,
 * health) — at most their last four characters": every command is run with a
 * recognisable token, and nothing it prints (stdout, stderr, `--json`, error
 * messages, `watch` logs) may hold the token or any part of it longer than
 * its last four characters. The state file is 0600 in a 0700 folder.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../fixtures/hubspot-emulator/server.js';
import { cli, emulator, exitWithin, show, spawnCli, useTempDirs, waitFor, writePeople, type CliResult } from './support.js';

const TOKEN = 'pat-na1-SECRET-7f3a9c2e-4b1d-4e8a-9c3f-0d2b6a1e5f77';
const OTHER = 'pat-na1-SECRET-0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b';

/** Every piece of a secret that must not be printed: itself, and each run of 8 characters but the last four. */
function leaks(text: string, secret: string): string[] {
  const found: string[] = [];
  const shown = secret.slice(0, -4);
  for (let i = 0; i + 8 <= shown.length; i++) {
    const piece = shown.slice(i, i + 8);
    // Pieces of the public prefix (`pat-na1-`) are no secret.
    if (!'pat-na1-SECRET-'.includes(piece) && text.includes(piece)) found.push(piece);
  }
  return found;
}

function expectNoSecret(r: CliResult, what: string, secrets: string[] = [TOKEN]): void {
  for (const s of secrets) {
    expect(leaks(r.stdout, s), `${what}: the secret in stdout\n${show(r)}`).toEqual([]);
    expect(leaks(r.stderr, s), `${what}: the secret in stderr\n${show(r)}`).toEqual([]);
  }
}

const tempDir = useTempDirs();
let emu: Emulator;
beforeAll(async () => {
  emu = await emulator({ token: TOKEN, seed: { contacts: [{ properties: { email: 'hub@example.com', firstname: 'Hub' } }] } });
});
afterAll(() => emu.close());

function workspace(extraYaml = ''): string {
  const dir = tempDir();
  writePeople(join(dir, 'crm.db'), [{ email: 'crm@example.com', first_name: 'Crm', last_name: null, job_title: null }]);
  writeFileSync(join(dir, 'sync.yaml'), [
    'version: 1',
    'connections:',
    '  hubspot:',
    '    app: hubspot',
    '    token: ${HUBSPOT_TOKEN}',
    `    base_url: ${emu.url}`,
    '  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people, id: id, updated_at: modified_at } } }',
    'syncs:',
    '  - { name: contacts, object: contacts, between: [hubspot, crm], direction: two-way, default_app: hubspot }',
    extraYaml,
  ].join('\n'));
  return dir;
}

const env = { HUBSPOT_TOKEN: TOKEN };

describe('the token is never printed', () => {
  it('by run, run --json, run --dry-run, health, health --json, connect, connect --list and --help', async () => {
    const dir = workspace();
    const commands: string[][] = [
      ['run', '--dry-run'], ['run', '--dry-run', '--json'], ['run'], ['run', '--json'], ['run', '--retry-failed', '--json'],
      ['health'], ['health', '--json'], ['health', '--failed', '--excluded', '--json'],
      ['connect', 'hubspot', '--name', 'portal2', '--token-env', 'HUBSPOT_TOKEN', '--base-url', emu.url], ['connect', '--list'], ['connect', '--list', '--json'],
      ['connect', 'hubspot', '--name', 'portal3', '--token', TOKEN, '--base-url', emu.url, '--json'],
      ['--help'], ['run', '--help'],
    ];
    for (const args of commands) {
      const r = await cli(dir, args, { env });
      expect(r.exitCode, `${args.join(' ')}\n${show(r)}`).toBeLessThanOrEqual(1);
      expectNoSecret(r, args.join(' '));
    }
    // The stored connections are listed, their secret shown by its last four characters at most.
    const list = await cli(dir, ['connect', '--list', '--json'], { env });
    expect(list.stdout).toContain('portal2');
  });

  it('by errors: a refused token (exit 3), a config error, a token of the wrong type in the YAML, a stopped watch', async () => {
    // HubSpot refuses OTHER: exit 3, and neither token shows.
    const refused = await cli(workspace(), ['run'], { env: { HUBSPOT_TOKEN: OTHER } });
    expect(refused.exitCode, show(refused)).toBe(3);
    expect(refused.stderr + refused.stdout).toMatch(/refused the credential/);
    expectNoSecret(refused, 'a refused token', [TOKEN, OTHER]);
    const refusedJson = await cli(workspace(), ['run', '--json'], { env: { HUBSPOT_TOKEN: OTHER } });
    expect(refusedJson.exitCode, show(refusedJson)).toBe(3);
    expectNoSecret(refusedJson, 'a refused token, --json', [TOKEN, OTHER]);
    const connectRefused = await cli(workspace(), ['connect', 'hubspot', '--name', 'x', '--token', OTHER, '--base-url', emu.url], { env });
    expect(connectRefused.exitCode, show(connectRefused)).toBe(3);
    expectNoSecret(connectRefused, 'connect with a refused token', [TOKEN, OTHER]);

    // A config error elsewhere in the file, with the token in the environment.
    const bad = await cli(workspace('    mappings: { fields: [{ hubspot: nope, crm: email }] }'), ['run'], { env });
    expect(bad.exitCode, show(bad)).toBe(2);
    expectNoSecret(bad, 'a config error');

    // The token written in the YAML itself, as a value of the wrong type, and as a second connection's
    // OAuth secrets of the wrong shape, in a file with other problems.
    const dir = tempDir();
    writePeople(join(dir, 'crm.db'), []);
    writeFileSync(join(dir, 'sync.yaml'), [
      'version: 1',
      'connections:',
      '  hubspot:',
      '    app: hubspot',
      `    token: [${TOKEN}]`,
      `    base_url: ${emu.url}`,
      '  portal2:',
      '    app: hubspot',
      `    oauth: { client_id: 1, client_secret: [${TOKEN}], refresh_token: { value: ${TOKEN} } }`,
      '  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people, id: id } } }',
      'syncs:',
      '  - { name: contacts, object: contacts, between: [hubspot, crm], direction: sideways, default_app: crm }',
      '',
    ].join('\n'));
    for (const args of [['run'], ['run', '--json'], ['health', '--json'], ['connect', '--list']]) {
      const r = await cli(dir, args);
      // connect --list reads only the state, so it may succeed; the others refuse the file.
      if (args[0] !== 'connect') expect(r.exitCode, show(r)).toBe(2);
      expectNoSecret(r, `the token in a broken YAML (${args.join(' ')})`);
    }

    // watch logs a refused pass and stops on SIGTERM: its log holds no token.
    const wdir = workspace();
    const watch = spawnCli(wdir, ['watch', '--interval', '1h'], { HUBSPOT_TOKEN: OTHER });
    await waitFor('a logged pass', () => /pass 1/.test(watch.stderr()), 30_000);
    watch.child.kill('SIGTERM');
    const w = await exitWithin(watch, 15_000, 'watch after SIGTERM');
    expectNoSecret(w, 'watch', [TOKEN, OTHER]);
  }, 120_000);
});

describe('the state file', () => {
  it('is created 0600 in a 0700 folder', async () => {
    const dir = workspace();
    const r = await cli(dir, ['run'], { env });
    expect(r.exitCode, show(r)).toBe(0);
    expect((statSync(join(dir, '.datasync')).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(dir, '.datasync', 'state.db')).mode & 0o777).toString(8)).toBe('600');
  });
});
