/**
 * Issue 14 point 10 (rest): credentials in `base_url` and `${ENV}`-substituted
 * secrets never reach any output; a damaged state is refused before anything
 * is written to it; `health` leaves the state's files as they were.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { crmCsv, person } from './crm-csv.js';
import { CRM_SCHEMA, startHub, writeHubConfig, type Hub } from './hubspot-support.js';
import { BIN, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
let hub: Hub | undefined;
afterEach(async () => { await hub?.close(); hub = undefined; });

const PASSWORD = 's3cretpass-in-url';
const WRONG_TOKEN = 'pat-na1-wrong-9999-refused-by-hub';

async function cli(w: Workspace, args: string[], env: Record<string, string>) {
  const full: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete full.DATASYNC_CONFIG;
  delete full.FORCE_COLOR;
  const r = await execa('node', [BIN, ...args], { cwd: w.dir, reject: false, env: full, extendEnv: false, stdin: 'ignore', timeout: 60_000 });
  return { exitCode: r.exitCode ?? -1, out: `${String(r.stdout)}\n${String(r.stderr)}` };
}

describe('secrets never appear in output', () => {
  it.each([
    ['credentials in base_url, nothing listening', 'closed'],
    ['a ${TOKEN} the app refuses, credentials in a ${URL}', 'refused'],
  ])('%s', async (_name, kind) => {
    const w = workspace();
    w.sqlite('crm.db', CRM_SCHEMA);
    let env: Record<string, string>;
    if (kind === 'closed') {
      // Port 9 (discard) on loopback: nothing listens.
      writeHubConfig(w, `http://user:${PASSWORD}@127.0.0.1:9`, { objects: ['contacts'] });
      env = { HUBSPOT_TOKEN: WRONG_TOKEN };
    } else {
      hub = await startHub();
      const url = new URL(hub.url);
      writeHubConfig(w, '${HUB_URL}', { objects: ['contacts'] });
      env = { HUBSPOT_TOKEN: WRONG_TOKEN, HUB_URL: `http://user:${PASSWORD}@${url.host}` };
    }
    for (const args of [['run'], ['run', '--json'], ['validate'], ['doctor'], ['doctor', '--json'], ['health'], ['health', '--json']]) {
      const r = await cli(w, args, env);
      if (args[0] === 'run') expect(r.exitCode, `${args.join(' ')}: ${r.out}`).toBe(3);
      expect(r.out, args.join(' ')).not.toContain(PASSWORD);
      expect(r.out, args.join(' ')).not.toContain(WRONG_TOKEN);
      expect(r.out, args.join(' ')).not.toContain(WRONG_TOKEN.slice(0, 20));
    }
  });
});

function snapshot(w: Workspace) {
  const file = (rel: string) => {
    const p = w.path(rel);
    return existsSync(p) ? { sha256: createHash('sha256').update(readFileSync(p)).digest('hex'), mtime: statSync(p).mtimeMs } : null;
  };
  return {
    db: file('.datasync/state.db'), wal: file('.datasync/state.db-wal'), shm: file('.datasync/state.db-shm'),
    // Nothing else left beside it (health reads the state under a second name, removed at once).
    folder: readdirSync(w.path('.datasync')).sort(),
  };
}

describe('the state file is not touched by those that must not write', () => {
  it('a damaged state is refused before anything is written to it', async () => {
    const w = workspace();
    crmCsv(w, { people: [person(1), person(2), person(3)] });
    expect((await w.run('run')).exitCode).toBe(0);
    const file = w.path('.datasync/state.db');
    truncateSync(file, Math.floor(statSync(file).size * 0.4));
    const before = snapshot(w);
    expect(before.wal).toBeNull();
    expect(before.shm).toBeNull();
    for (const args of [['run'], ['health'], ['run', '--json']]) {
      const r = await w.run(...args);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain('cannot be read');
      expect(snapshot(w), args.join(' ')).toEqual(before);
    }
  });

  it('health and health --json leave the state, -wal and -shm as a finished run left them', async () => {
    const w = workspace();
    crmCsv(w, { people: [person(1), person(2)] });
    expect((await w.run('run')).exitCode).toBe(0);
    const before = snapshot(w);
    for (const args of [['health'], ['health', '--json'], ['doctor']]) {
      const r = await w.run(...args);
      if (args[0] === 'health') expect(r.exitCode, r.stderr).toBe(0);
      expect(snapshot(w), args.join(' ')).toEqual(before);
    }
  });
});
