/**
 * End-to-end support for the seed's scenario: two Dynamics organisations
 * (two Dataverse emulators, each its own tenant, client and secret) and one
 * HubSpot portal (the HubSpot emulator), all in this process on loopback,
 * and the BUILT `datasync` binary run against them with the secrets in its
 * environment only.
 */
import { execa } from 'execa';
import { startDynamicsEmulator, type DynamicsEmulator, type DynamicsEmulatorOptions } from '../../fixtures/dynamics-emulator/server.js';
import { TOKEN } from './hubspot-support.js';
import { BIN, type CliResult, type RunJson, type Workspace } from './support.js';

export const SECRETS = { org1: 'org1-client-secret-0f3a9c', org2: 'org2-client-secret-7b21de' } as const;
export type Org = keyof typeof SECRETS;

/** HubSpot's industries, as each organisation customized its Industry option set. */
export const HUBSPOT_INDUSTRIES: Array<[string, string]> = [
  ['ACCOUNTING', 'Accounting'], ['AIRLINES_AVIATION', 'Airlines/Aviation'], ['BANKING', 'Banking'],
  ['COMPUTER_SOFTWARE', 'Computer Software'], ['CONSTRUCTION', 'Construction'], ['EDUCATION_MANAGEMENT', 'Education Management'],
  ['FINANCIAL_SERVICES', 'Financial Services'], ['HOSPITAL_HEALTH_CARE', 'Hospital & Health Care'],
  ['INFORMATION_TECHNOLOGY_AND_SERVICES', 'Information Technology and Services'], ['INTERNET', 'Internet'],
  ['MARKETING_AND_ADVERTISING', 'Marketing and Advertising'], ['RETAIL', 'Retail'], ['TELECOMMUNICATIONS', 'Telecommunications'],
];

/** org1: the same labels as HubSpot, values from 100000000 (a customizer's prefix); org2: values 1…13, "Software" for Computer Software. */
export function industryOptions(org: Org): Array<[number, string]> {
  return HUBSPOT_INDUSTRIES.map(([value, label], i) => [org === 'org1' ? 100_000_000 + i : i + 1, org === 'org2' && value === 'COMPUTER_SOFTWARE' ? 'Software' : label]);
}

export async function startOrg(org: Org, opts: DynamicsEmulatorOptions = {}): Promise<DynamicsEmulator> {
  return startDynamicsEmulator({
    port: 0, host: '127.0.0.1', tenant: `${org}-tenant`, clientId: `${org}-client-0000`, clientSecret: SECRETS[org],
    ...opts, seed: { optionSets: { accounts: { industrycode: industryOptions(org) } }, ...opts.seed },
  });
}

export function dynamicsConnection(emu: DynamicsEmulator, org: Org): Record<string, unknown> {
  return {
    app: 'dynamics', url: emu.url, tenant: emu.tenant, client_id: emu.clientId,
    client_secret: `\${${org.toUpperCase()}_CLIENT_SECRET}`, token_url: emu.tokenUrl, page_size: 50, batch_size: 25,
  };
}

/** `node bin/datasync.js ...args` with HUBSPOT_TOKEN and both organisations' secrets set; never throws on a non-zero exit. */
export async function dsync(w: Workspace, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HUBSPOT_TOKEN: TOKEN, ORG1_CLIENT_SECRET: SECRETS.org1, ORG2_CLIENT_SECRET: SECRETS.org2, ...extra };
  delete env.DATASYNC_CONFIG;
  delete env.FORCE_COLOR;
  const r = await execa('node', [BIN, ...args], { cwd: w.dir, reject: false, env, extendEnv: false, stdin: 'ignore', timeout: 110_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export async function runJson(w: Workspace, args: string[] = []): Promise<CliResult & { json: RunJson }> {
  const r = await dsync(w, ['run', '--json', ...args]);
  try {
    return { ...r, json: JSON.parse(r.stdout) as RunJson };
  } catch {
    throw new Error(`datasync run --json printed no JSON (exit ${r.exitCode})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-4000)}`);
  }
}

/** Rows of an organisation's table, by a column (lower-cased when text). */
export function rowsBy(emu: DynamicsEmulator, set: string, column: string): Map<string, Array<{ id: string; attrs: Record<string, unknown> }>> {
  const out = new Map<string, Array<{ id: string; attrs: Record<string, unknown> }>>();
  for (const r of emu.store.list(set)) {
    const v = r.attrs[column];
    const key = typeof v === 'string' ? v.toLowerCase() : String(v);
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

export const parentOf = (row: { attrs: Record<string, unknown> } | undefined) => (row?.attrs.parentcustomerid as { id: string } | null | undefined)?.id ?? null;
