/**
 * W1 input: N contacts between a SQLite "CRM" (table people, with updated_at)
 * and a CSV export, generated row by row from a seed so that 1,000,000
 * contacts never sit in memory at once.
 *
 * Placement: 50% on both sides (the CSV holds the email in another case),
 * 25% only in SQLite, 25% only in the CSV. A tenth of the one-sided contacts
 * (5% of all) have no email. About 300 of the shared contacts disagree on
 * job title (conflicts the default app settles), and a tenth of the shared
 * ones lack a mobile number in the CSV (filled from SQLite).
 */
import { CITIES, COUNTRIES, FIRST, LAST, rng, STATES, STREETS, TITLES } from './prng.js';

export const PEOPLE_DDL = `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
  phone TEXT, mobile TEXT, job_title TEXT, company TEXT, address TEXT, city TEXT, state TEXT, zip TEXT, country TEXT,
  updated_at TEXT)`;
export const SQLITE_COLUMNS = ['id', 'email', 'first_name', 'last_name', 'phone', 'mobile', 'job_title', 'company', 'address',
  'city', 'state', 'zip', 'country', 'updated_at'] as const;
export const CSV_COLUMNS = ['id', 'email', 'firstname', 'lastname', 'phone', 'mobilephone', 'jobtitle', 'company', 'address',
  'city', 'state', 'zip', 'country'] as const;
/** Mapped fields (default mappings by role): every column but id and updated_at. */
export const MAPPED_FIELDS = CSV_COLUMNS.length - 1;

export type SqliteRow = (string | number | null)[];
export interface ContactRow { sqlite?: SqliteRow; csv?: string[] }

export interface ContactCounts { contacts: number; both: number; sqliteOnly: number; csvOnly: number; noEmail: number; conflicts: number; sqliteRows: number; csvRows: number }

/** Seeded rows are all older than any run, one millisecond apart. */
const OLD_MS = Date.UTC(2024, 0, 1);

export function emptyCounts(): ContactCounts {
  return { contacts: 0, both: 0, sqliteOnly: 0, csvOnly: 0, noEmail: 0, conflicts: 0, sqliteRows: 0, csvRows: 0 };
}

/** `counts` is filled in as the rows are taken. */
export function* contactRows(n: number, seed: number, counts: ContactCounts = emptyCounts()): Generator<ContactRow> {
  const r = rng(seed);
  const conflictEvery = Math.max(1, Math.floor(n / 600));
  for (let i = 0; i < n; i++) {
    const u = r.next();
    const place = u < 0.5 ? 'both' : u < 0.75 ? 'sqlite' : 'csv';
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    const noEmail = place !== 'both' && r.next() < 0.1;
    const email = noEmail ? null : `${first}.${last}.${i}@example${i % 97}.com`.toLowerCase();
    const v = {
      first, last, email,
      phone: `+46 8 ${String(100000 + r.int(900000))}`,
      mobile: `+46 70 ${String(1000000 + r.int(9000000))}`,
      title: r.pick(TITLES) as string,
      company: `${r.pick(LAST)} ${r.pick(['AB', 'GmbH', 'Ltd', 'SA', 'Oy'])}`,
      address: `${1 + r.int(200)} ${r.pick(STREETS)}`,
      city: r.pick(CITIES),
      state: r.pick(STATES),
      zip: String(10000 + r.int(89999)),
      country: r.pick(COUNTRIES),
    };
    const row: ContactRow = {};
    counts.contacts++;
    if (noEmail) counts.noEmail++;
    if (place !== 'csv') {
      row.sqlite = [counts.sqliteRows + 1, v.email, v.first, v.last, v.phone, v.mobile, v.title, v.company, v.address, v.city, v.state,
        v.zip, v.country, new Date(OLD_MS + i).toISOString()];
      counts.sqliteRows++;
    }
    if (place !== 'sqlite') {
      let { email, title, mobile } = v;
      if (place === 'both') {
        // Same address, another case: matching must fold it.
        email = i % 2 === 0 ? email!.toUpperCase() : email!.charAt(0).toUpperCase() + email!.slice(1);
        if (i % conflictEvery === 0) {
          title = `${title} (CSV)`;
          counts.conflicts++;
        }
        if (r.next() < 0.1) mobile = '';
      }
      row.csv = [String(counts.csvRows + 1), email ?? '', v.first, v.last, v.phone, mobile, title, v.company, v.address, v.city, v.state,
        v.zip, v.country];
      counts.csvRows++;
    }
    if (place === 'both') counts.both++;
    else if (place === 'sqlite') counts.sqliteOnly++;
    else counts.csvOnly++;
    yield row;
  }
}

/** RFC 4180 quoting, only where needed. */
export function csvLine(values: readonly string[]): string {
  return `${values.map((v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',')}\n`;
}
