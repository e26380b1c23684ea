/**
 * W6: an initial sync of contacts and accounts between a Dynamics 365
 * organisation (the Dataverse emulator, with Dynamics' service protection
 * limits) and a SQLite CRM. The data is W4's (bench/hubspot.ts), the
 * HubSpot side seeded into Dynamics instead: 20% of the records on both
 * sides, 50% only in Dynamics, 30% only in SQLite, contacts with their
 * company (`parentcustomerid`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamicsEmulator, type SeedData } from '../fixtures/dynamics-emulator/server.js';
import { hubspotInput, writeHubSpotWorkspace, type HubSpotInput } from './hubspot.js';
import { runChild } from './measure.js';
import { figures, type RunFigures } from './workloads.js';
import { CRM_WITH_COMPANIES, writeBenchConfig } from './workspace.js';

export interface DynamicsResult {
  contacts: number;
  companies: number;
  limits: { requests: number; windowMs: number; concurrent: number };
  run: RunFigures;
  /** Web API requests ($batch counted once), token requests, operations inside $batch. */
  calls: { api: number; token: number; batches: number; batchOperations: number };
  records: number;
  perRecord: number;
  rateLimited: number;
  failed: number;
}

/** A GUID per seed row, so contacts can bind to their account in the seed. */
const guid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export function dynamicsSeed(input: HubSpotInput): SeedData {
  const accountId = new Map<string, string>();
  const accounts = input.seed.companies!.map((c, i) => {
    const id = guid(1, i + 1);
    accountId.set(String(c.id), id);
    const p = c.properties as Record<string, string>;
    return { id, name: p.name, websiteurl: p.domain, address1_city: p.city, telephone1: p.phone };
  });
  const contacts = input.seed.contacts!.map((c, i) => {
    const p = c.properties as Record<string, string>;
    const company = (c.associations as { companies?: string[] } | undefined)?.companies?.[0];
    return {
      id: guid(2, i + 1), emailaddress1: p.email, firstname: p.firstname, lastname: p.lastname, telephone1: p.phone, jobtitle: p.jobtitle, address1_city: p.city,
      ...(company ? { 'parentcustomerid_account@odata.bind': `/accounts(${accountId.get(company)})` } : {}),
    };
  });
  return { accounts, contacts };
}

export async function runDynamics(o: { contacts: number; companies: number; seed: number; root: string; profileDir?: string; log: (line: string) => void }): Promise<DynamicsResult> {
  const dir = join(o.root, `dynamics-${o.contacts}`);
  mkdirSync(dir, { recursive: true });
  const input = hubspotInput(o.contacts, o.companies, o.seed);
  const limits = { requests: 6000, windowMs: 300_000, concurrent: 52 };
  const emu = await startDynamicsEmulator({ port: 0, limits, seed: dynamicsSeed(input) });
  try {
    // The SQLite CRM is W4's; the sync.yaml written with it is replaced by one with a Dynamics connection.
    writeHubSpotWorkspace(dir, input, emu.url, 'unused');
    writeBenchConfig(dir, {
      org: { app: 'dynamics', url: emu.url, tenant: emu.tenant, client_id: emu.clientId, client_secret: emu.clientSecret, token_url: emu.tokenUrl },
      crm: CRM_WITH_COMPANIES,
    }, [
      { object: 'companies', between: ['org', 'crm'], default_app: 'org', associations: true },
      { object: 'contacts', between: ['org', 'crm'], default_app: 'org', associations: true },
    ]);
    const m = await runChild('sync', dir, o.profileDir ? { profileDir: o.profileDir, profileName: `w6-${o.contacts}.cpuprofile` } : {});
    const stats = emu.stats();
    const run = figures(m);
    const records = o.contacts + o.companies;
    o.log(`  W6: ${Math.round(run.wallMs)} ms, ${stats.requests} Web API calls, ${stats.throttled} 429s`);
    return {
      contacts: o.contacts, companies: o.companies, limits, run, records,
      calls: { api: stats.requests, token: stats.tokenRequests, batches: stats.batches, batchOperations: stats.batchOperations },
      perRecord: (stats.requests + stats.tokenRequests) / records,
      rateLimited: stats.throttled,
      failed: run.failed,
    };
  } finally {
    await emu.close();
  }
}
