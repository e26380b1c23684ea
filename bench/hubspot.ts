/**
 * W4: contacts and companies split between the HubSpot emulator and a SQLite
 * CRM, contacts associated with their primary company on each side. Records
 * on both sides carry the same email (contacts) or domain (companies).
 *
 * Placement (each object): 20% on both sides, 50% only in HubSpot, 30% only
 * in SQLite. A contact's company is on every side the contact is on. Records
 * on both sides were last modified in the past (as in a portal connected for
 * the first time), so a pass's look-back window holds what changed since.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SeedData, SeedRecord } from '../fixtures/hubspot-emulator/server.js';
import { CITIES, FIRST, LAST, rng, TITLES } from './prng.js';
import { CRM_WITH_COMPANIES, writeBenchConfig } from './workspace.js';

export const W4_DDL = `
CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT, domain TEXT, city TEXT, phone TEXT, updated_at TEXT);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, phone TEXT, job_title TEXT,
  city TEXT, company_id INTEGER, updated_at TEXT);`;

type Row = (string | number | null)[];
export interface HubSpotInput {
  seed: SeedData;
  sqlite: { companies: Row[]; contacts: Row[] };
  counts: { contacts: number; companies: number; hubspot: { contacts: number; companies: number }; sqlite: { contacts: number; companies: number } };
}

const OLD_MS = Date.UTC(2024, 0, 1);
/** HubSpot records were last modified a minute apart, long ago. */
const MINUTE = 60_000;
type Place = 'both' | 'hubspot' | 'sqlite';
const place = (u: number): Place => (u < 0.2 ? 'both' : u < 0.7 ? 'hubspot' : 'sqlite');

export function hubspotInput(contacts: number, companies: number, seedNo: number): HubSpotInput {
  const r = rng(seedNo);
  const seed = { contacts: [] as SeedRecord[], companies: [] as SeedRecord[] };
  const sqlite = { companies: [] as Row[], contacts: [] as Row[] };
  const hsId: (string | undefined)[] = [];
  const sqlId: (number | undefined)[] = [];
  const onBoth: number[] = [], inHubSpot: number[] = [], inSqlite: number[] = [];
  for (let j = 0; j < companies; j++) {
    const p = place(r.next());
    const name = `${r.pick(LAST)} ${r.pick(['AB', 'GmbH', 'Ltd', 'SA'])} ${j}`;
    const domain = `co${j}.example.com`;
    const city = r.pick(CITIES);
    const phone = `+46 8 ${String(100000 + r.int(900000))}`;
    if (p !== 'sqlite') {
      const id = String(seed.companies.length + 1);
      seed.companies.push({ id, properties: { name, domain, city, phone, hs_lastmodifieddate: new Date(OLD_MS + j * MINUTE).toISOString() } });
      hsId[j] = id;
      inHubSpot.push(j);
    }
    if (p !== 'hubspot') {
      const id = sqlite.companies.length + 1;
      sqlite.companies.push([id, name, p === 'both' ? `https://www.${domain}/` : domain, city, phone, new Date(OLD_MS + j).toISOString()]);
      sqlId[j] = id;
      inSqlite.push(j);
    }
    if (p === 'both') onBoth.push(j);
  }
  for (let i = 0; i < contacts; i++) {
    const p = place(r.next());
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const email = `${first}.${last}.${i}@w4.example.com`.toLowerCase();
    const phone = `+46 8 ${String(100000 + r.int(900000))}`;
    const title = r.pick(TITLES);
    const city = r.pick(CITIES);
    const pool = p === 'both' ? onBoth : p === 'hubspot' ? inHubSpot : inSqlite;
    const company = pool.length > 0 ? pool[r.int(pool.length)] : undefined;
    if (p !== 'sqlite') {
      seed.contacts.push({
        id: String(seed.contacts.length + 1),
        properties: { email, firstname: first, lastname: last, phone, jobtitle: title, city, lastmodifieddate: new Date(OLD_MS + i * MINUTE).toISOString() },
        ...(company !== undefined ? { associations: { companies: [hsId[company]!] } } : {}),
      });
    }
    if (p !== 'hubspot') {
      sqlite.contacts.push([sqlite.contacts.length + 1, p === 'both' ? email.toUpperCase() : email, first, last, phone, title, city,
        company !== undefined ? sqlId[company]! : null, new Date(OLD_MS + i).toISOString()]);
    }
  }
  return {
    seed, sqlite,
    counts: {
      contacts, companies,
      hubspot: { contacts: seed.contacts.length, companies: seed.companies.length },
      sqlite: { contacts: sqlite.contacts.length, companies: sqlite.companies.length },
    },
  };
}

export function writeHubSpotWorkspace(dir: string, input: HubSpotInput, baseUrl: string, token: string): void {
  const db = new Database(join(dir, 'crm.db'));
  db.exec(W4_DDL);
  const companies = db.prepare('INSERT INTO companies VALUES (?, ?, ?, ?, ?, ?)');
  const contacts = db.prepare('INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const c of input.sqlite.companies) companies.run(...c);
    for (const c of input.sqlite.contacts) contacts.run(...c);
  })();
  db.close();
  writeBenchConfig(dir, { hubspot: { app: 'hubspot', token, base_url: baseUrl }, crm: CRM_WITH_COMPANIES }, [
    { object: 'companies', between: ['hubspot', 'crm'], default_app: 'hubspot', associations: true },
    { object: 'contacts', between: ['hubspot', 'crm'], default_app: 'hubspot', associations: true },
  ]);
}
