/**
 * `datasync connect` end to end: the built binary against the HubSpot
 * emulator on a free loopback port. The token is recognisable, so every test
 * can check it never reaches stdout or stderr.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../fixtures/hubspot-emulator/server.js';
import { ENTER, hasScript, onTerminal } from './pty.js';
import { BIN, useWorkspaces, type CliResult, type Workspace } from './support.js';

const TOKEN = 'pat-na1-e2e-SECRET-token-7f3q';
const workspace = useWorkspaces();
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, token: TOKEN });
});
afterAll(async () => {
  await emu?.close();
});

/** Runs the CLI in the workspace with extra environment variables; stdin is not a terminal. */
async function cli(w: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  delete base.DATASYNC_CONFIG;
  delete base.FORCE_COLOR;
  const r = await execa('node', [BIN, ...args], { cwd: w.dir, reject: false, env: base, extendEnv: false, stdin: 'ignore', timeout: 30_000 });
  const out = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  expect(`${out.stdout}\n${out.stderr}`).not.toContain(TOKEN);
  expect(`${out.stdout}\n${out.stderr}`).not.toContain('SECRET');
  return out;
}

const connectHubspot = (w: Workspace, name: string, token = TOKEN, extra: string[] = []) =>
  cli(w, ['connect', 'hubspot', '--name', name, '--token-env', 'HS_TOKEN', '--base-url', emu.url, ...extra], { HS_TOKEN: token });

interface ListJson { version: 1; connections: Array<{ name: string; app: string; secret: string | null; created: string; inConfig: boolean; objects: Array<{ name: string; fields: number }> }> }
const list = async (w: Workspace) => JSON.parse((await cli(w, ['connect', '--list', '--json'])).stdout) as ListJson;

describe('connect hubspot', () => {
  it('checks a good token, reads the objects and stores the connection (0600 state, no config needed)', async () => {
    const w = workspace();
    const r = await connectHubspot(w, 'hubspot');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('connection hubspot (hubspot) checked and stored, credential …7f3q');
    expect(r.stdout).toMatch(/contacts \(\d+ fields\), companies \(\d+ fields\), deals \(\d+ fields\)/);
    expect(w.mode('.datasync/state.db')).toBe(0o600);
    expect(w.mode('.datasync')).toBe(0o700);
    const json = await list(w);
    expect(json.connections).toEqual([expect.objectContaining({ name: 'hubspot', app: 'hubspot', secret: '…7f3q', inConfig: false })]);
    expect(json.connections[0]!.objects.map((o) => o.name)).toEqual(['contacts', 'companies', 'deals', 'tickets', 'products']);
  });

  it('refuses a wrong token with exit 3 and stores nothing', async () => {
    const w = workspace();
    const r = await connectHubspot(w, 'hubspot', 'pat-na1-wrong-SECRET-zz99');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/HubSpot refused the credential \(401/);
    expect(r.stderr).not.toContain('wrong');
    expect((await list(w)).connections).toEqual([]);
  });

  it('keeps two connections of the same app under different names; a taken name needs --force', async () => {
    const w = workspace();
    expect((await connectHubspot(w, 'portal1')).exitCode).toBe(0);
    expect((await connectHubspot(w, 'portal2')).exitCode).toBe(0);
    const again = await connectHubspot(w, 'portal1');
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/"portal1" \(hubspot\) is stored already[\s\S]*--force/);
    expect((await connectHubspot(w, 'portal1', TOKEN, ['--force'])).exitCode).toBe(0);
    expect((await list(w)).connections.map((c) => `${c.name}:${c.app}:${c.secret}`)).toEqual(['portal1:hubspot:…7f3q', 'portal2:hubspot:…7f3q']);
    const table = await cli(w, ['connect', '--list']);
    expect(table.stdout).toMatch(/portal1 +│ hubspot │ …7f3q/);
  });

  it('without a terminal and without a token flag, refuses clearly (exit 2)', async () => {
    const w = workspace();
    const r = await cli(w, ['connect', 'hubspot', '--base-url', emu.url]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no HubSpot credential given and no terminal to ask for one[\s\S]*--token-env VAR/);
    const unset = await cli(w, ['connect', 'hubspot', '--token-env', 'NOT_SET_ANYWHERE']);
    expect(unset.exitCode).toBe(2);
  });
});

describe('connect hubspot --oauth', () => {
  it('exchanges the authorization code for a refresh token and stores it; no secret is printed', async () => {
    const client = { clientId: 'client-e2e', clientSecret: 'client-SECRET-e2e-4k2m' };
    const oauthEmu = await startEmulator({ port: 0, oauth: client });
    try {
      const w = workspace();
      const redirect = 'http://127.0.0.1:9/callback';
      const authorize = await fetch(`${oauthEmu.url}/oauth/authorize?client_id=${client.clientId}&redirect_uri=${encodeURIComponent(redirect)}`, { redirect: 'manual' });
      const landed = authorize.headers.get('location')!;
      const r = await cli(w, ['connect', 'hubspot', '--name', 'app', '--oauth', '--client-id', client.clientId, '--client-secret', client.clientSecret,
        '--redirect-uri', redirect, '--code', landed, '--base-url', oauthEmu.url]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain(`${oauthEmu.url}/oauth/authorize?client_id=client-e2e`);
      expect(r.stdout).toMatch(/connection app \(hubspot\) checked and stored, credential oauth …[\w-]{4}/);
      expect(`${r.stdout}${r.stderr}`).not.toContain(client.clientSecret);
      const again = await cli(w, ['connect', 'hubspot', '--name', 'app2', '--oauth', '--client-id', client.clientId, '--client-secret', client.clientSecret,
        '--redirect-uri', redirect, '--code', landed, '--base-url', oauthEmu.url]);
      expect(again.exitCode).toBe(3);
      expect(again.stderr).toContain('HubSpot refused the authorization code');
    } finally {
      await oauthEmu.close();
    }
  });
});

describe.skipIf(!hasScript)('connect on a terminal (pseudo-terminal through util-linux script)', () => {
  it('asks for the token with a masked prompt; the token is never echoed', async () => {
    const w = workspace();
    const { code, screen } = await onTerminal(w, ['connect', 'hubspot', '--base-url', emu.url], [
      ['HubSpot private-app token:', `${TOKEN}${ENTER}`],
    ]);
    expect(code, screen.slice(-2000)).toBe(0);
    expect(screen).toContain('*'.repeat(TOKEN.length));
    expect(screen).toContain('connection hubspot (hubspot) checked and stored, credential …7f3q');
    expect(screen).not.toContain(TOKEN);
    expect(screen).not.toContain('SECRET');
  });
});

describe('connect with a sync.yaml', () => {
  it('adds a connection block without a secret, and --remove is refused while a sync uses it', async () => {
    const w = workspace();
    w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, modified_at TEXT)');
    w.writeText('sync.yaml', '# my syncs\nversion: 1\nstate: ./state/ds.db\n');
    expect((await connectHubspot(w, 'hubspot')).exitCode).toBe(0);
    const crm = await cli(w, ['connect', 'sqlite', '--name', 'crm', '--path', './crm.db', '--object', 'contacts=people']);
    expect(crm.exitCode, crm.stderr).toBe(0);
    expect(w.exists('state/ds.db')).toBe(true);
    const yaml = w.readText('sync.yaml');
    expect(yaml).toBe(`# my syncs\nversion: 1\nstate: ./state/ds.db\nconnections:\n  hubspot:\n    app: hubspot\n    base_url: ${emu.url}\n  crm:\n    app: sqlite\n    path: ./crm.db\n    objects:\n      contacts: { table: people, updated_at: modified_at }\n`);
    expect(yaml).not.toContain('7f3q');

    const conf = await cli(w, ['configure', 'contacts', '--between', 'hubspot,crm', '--object', 'contacts', '--yes']);
    expect(conf.exitCode, conf.stderr).toBe(0);
    const run = await cli(w, ['run', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);

    const refused = await cli(w, ['connect', '--remove', 'hubspot']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('connection "hubspot" is used by sync "contacts" in sync.yaml');
    expect((await list(w)).connections.map((c) => c.name)).toEqual(['crm', 'hubspot']);

    expect((await connectHubspot(w, 'spare')).exitCode).toBe(0);
    const removed = await cli(w, ['connect', '--remove', 'spare']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect((await list(w)).connections.map((c) => c.name)).toEqual(['crm', 'hubspot']);
    expect((await cli(w, ['connect', '--remove', 'nope'])).exitCode).toBe(2);
  });
});
