/**
 * Writes the example data set: a SQLite "CRM" (crm.db: people, orgs) and a
 * "marketing tool export" (export/contacts.csv, export/companies.csv) that
 * overlap by about half, with the mess real data has: emails in different
 * case, company domains as URLs, names spaced differently, conflicting job
 * titles, contacts without (valid) email, duplicate emails on one side.
 *
 *   node dist/scripts/make-example.js OUT_DIR
 *
 * Deterministic: a seeded PRNG, fixed timestamps; the same folder every run.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { prng, type Rng } from './prng.js';
import { installTriggers } from '../connectors/sqlite/triggers.js';

const SEED = 20240601;
const COMPANIES_PER_GROUP = 130; // shared, CRM only, export only → 260 per side
const CONTACTS_PER_GROUP = 625; // → 1,250 per side



const FIRST = ['Anna', 'Erik', 'Maria', 'Lars', 'Sofia', 'Johan', 'Emma', 'Karl', 'Sara', 'Nils', 'Laura', 'Jonas', 'Ida', 'Oskar', 'Elin',
  'Lucas', 'Maja', 'Hugo', 'Alice', 'Liam', 'Olivia', 'Noah', 'Chloe', 'Ethan', 'Mia', 'Leon', 'Hanna', 'Felix', 'Julia', 'Max', 'Nora',
  'David', 'Eva', 'Paul', 'Clara', 'Tom', 'Lena', 'Ben', 'Amelia', 'Jack', 'Grace', 'Samuel', 'Zoe', 'Adam', 'Lea', 'Victor', 'Ines', 'Omar',
  'Priya', 'Ravi', 'Mei', 'Kenji', 'Aisha', 'Diego', 'Lucia', 'Mateo', 'Fatima', 'Yusuf', 'Anja', 'Pekka'];
const LAST = ['Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsson', 'Persson', 'Svensson', 'Gustafsson', 'Berg',
  'Lindqvist', 'Smith', 'Jones', 'Taylor', 'Brown', 'Wilson', 'Evans', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Müller', 'Schmidt',
  'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Dubois', 'Martin', 'Bernard', 'Moreau', 'Laurent', 'Rossi', 'Russo',
  'Ferrari', 'Garcia', 'Martinez', 'Lopez', 'Sanchez', 'Kowalski', 'Nowak', 'Virtanen', 'Korhonen', 'Hansen', 'Jensen', 'Nielsen',
  'Patel', 'Singh', 'Chen', 'Wang', 'Tanaka', 'Sato', "O'Brien", 'Murphy', 'Kelly', 'van Dijk', 'de Jong'];
const TITLES = ['CEO', 'CTO', 'CFO', 'Head of Sales', 'Sales Manager', 'Account Executive', 'Marketing Manager', 'Marketing Director',
  'Product Manager', 'Software Engineer', 'Office Manager', 'Operations Lead', 'HR Manager', 'Customer Success Manager', 'Founder',
  'VP Engineering', 'Purchasing Manager', 'Consultant', 'Analyst', 'Designer'];
const PLACES: readonly (readonly [string, string])[] = [['Stockholm', 'SE'], ['Gothenburg', 'SE'], ['Malmö', 'SE'], ['Uppsala', 'SE'],
  ['Oslo', 'NO'], ['Copenhagen', 'DK'], ['Helsinki', 'FI'], ['Berlin', 'DE'], ['Munich', 'DE'], ['Hamburg', 'DE'], ['London', 'GB'],
  ['Manchester', 'GB'], ['Dublin', 'IE'], ['Paris', 'FR'], ['Lyon', 'FR'], ['Amsterdam', 'NL'], ['Madrid', 'ES'], ['Milan', 'IT'],
  ['Warsaw', 'PL'], ['New York', 'US'], ['Austin', 'US'], ['Toronto', 'CA']];
const INDUSTRIES = ['Software', 'Manufacturing', 'Retail', 'Logistics', 'Healthcare', 'Finance', 'Education', 'Energy', 'Media',
  'Construction', 'Hospitality', 'Consulting', 'Telecommunications', 'Food & Beverage', 'Automotive'];
const NAME_A = ['Nordic', 'Blue', 'North', 'Bright', 'Silver', 'Green', 'Atlas', 'Polar', 'Iron', 'Swift', 'Golden', 'Urban', 'Pine', 'Coastal',
  'Summit', 'Red', 'Crystal', 'Prime', 'Oak', 'Harbor', 'Alpine', 'Lumen', 'Vertex', 'Nova', 'Baltic'];
const NAME_B = ['Widgets', 'Systems', 'Logistics', 'Foods', 'Labs', 'Analytics', 'Energy', 'Works', 'Media', 'Robotics', 'Textiles',
  'Health', 'Finance', 'Builders', 'Motors', 'Software', 'Design', 'Partners', 'Trading', 'Networks'];
const SUFFIX = [' AB', ' Inc', ' Ltd', ' GmbH', ' Oy', ' AS', ''];
const TLD = ['.com', '.se', '.io', '.de', '.co.uk', '.net'];
const FREEMAIL = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me'];

type Group = 'shared' | 'crm' | 'export';
const GROUPS: Group[] = ['shared', 'crm', 'export'];
const onCrm = (g: Group) => g !== 'export';
const onExport = (g: Group) => g !== 'crm';

interface Company { group: Group; name: string; domain: string; industry: string; city: string; country: string; crmId: number; exportId: number }
interface Contact {
  group: Group; first: string; last: string; email: string | null; phone: string; title: string; city: string; country: string;
  company: Company | null; crmId: number; exportId: number;
}

const slug = (s: string) => s.toLowerCase().normalize('NFD').replace(/[^a-z0-9]/g, '');
const mixedCase = (s: string, rng: Rng) => [...s].map((c) => (rng.chance(0.3) ? c.toUpperCase() : c)).join('');
const timestamp = (rng: Rng) => new Date(Date.UTC(2024, 0, 1) + rng.int(180 * 86_400) * 1000 + rng.int(1000)).toISOString();
const phone = (rng: Rng) => `+46 7${rng.int(10)} ${100 + rng.int(900)} ${10 + rng.int(90)} ${10 + rng.int(90)}`;

function makeCompanies(rng: Rng): Company[] {
  const names = new Set<string>();
  const out: Company[] = [];
  for (const group of GROUPS) {
    for (let i = 0; i < COMPANIES_PER_GROUP; i++) {
      let base: string;
      do base = `${rng.pick(NAME_A)} ${rng.pick(NAME_B)}`; while (names.has(base));
      names.add(base);
      const [city, country] = rng.pick(PLACES);
      out.push({ group, name: base + rng.pick(SUFFIX), domain: slug(base) + rng.pick(TLD), industry: rng.pick(INDUSTRIES), city, country, crmId: 0, exportId: 0 });
    }
  }
  rng.shuffle(out.filter((c) => onCrm(c.group))).forEach((c, i) => { c.crmId = i + 1; });
  rng.shuffle(out.filter((c) => onExport(c.group))).forEach((c, i) => { c.exportId = 5001 + i; });
  return out;
}

function makeContacts(rng: Rng, companies: Company[]): Contact[] {
  const emails = new Set<string>();
  const out: Contact[] = [];
  const crmCompanies = companies.filter((c) => onCrm(c.group));
  const exportCompanies = companies.filter((c) => onExport(c.group));
  const sharedCompanies = companies.filter((c) => c.group === 'shared');
  for (const group of GROUPS) {
    for (let i = 0; i < CONTACTS_PER_GROUP; i++) {
      const first = rng.pick(FIRST);
      const last = rng.pick(LAST);
      const company = rng.chance(0.08) ? null
        : rng.pick(group === 'shared' ? sharedCompanies : group === 'crm' ? crmCompanies : exportCompanies);
      const host = company && rng.chance(0.7) ? company.domain : rng.pick(FREEMAIL);
      let local = `${slug(first)}.${slug(last)}`;
      for (let n = 2; emails.has(`${local}@${host}`); n++) local = `${slug(first)}.${slug(last)}${n}`;
      emails.add(`${local}@${host}`);
      const [city, country] = company && rng.chance(0.7) ? [company.city, company.country] : rng.pick(PLACES);
      out.push({ group, first, last, email: `${local}@${host}`, phone: phone(rng), title: rng.pick(TITLES), city, country, company, crmId: 0, exportId: 0 });
    }
  }
  // Contacts without email, and with an invalid one, on one side only.
  const oneSided = out.filter((c) => c.group !== 'shared');
  for (const c of rng.shuffle([...oneSided]).slice(0, 40)) c.email = null;
  const invalid = [(l: string) => `${l}@`, (l: string, h: string) => `${l}.${h}`,
    (l: string, h: string) => `${l.replace('.', ' ')}@${h}`, (l: string, h: string) => `${l}@@${h}`];
  for (const group of ['crm', 'export'] as const) {
    oneSided.filter((c) => c.group === group && c.email).slice(0, invalid.length).forEach((c, k) => {
      const [local, host] = c.email!.split('@') as [string, string];
      c.email = invalid[k]!(local, host);
    });
  }
  rng.shuffle(out.filter((c) => onCrm(c.group))).forEach((c, i) => { c.crmId = i + 1; });
  rng.shuffle(out.filter((c) => onExport(c.group))).forEach((c, i) => { c.exportId = 10_001 + i; });
  return out;
}

/** A company's name and domain as each side writes them. */
function companySides(c: Company, rng: Rng) {
  const url = rng.next();
  const crmDomain = c.group === 'shared' && rng.chance(0.05) ? null
    : url < 0.3 ? `https://www.${c.domain.charAt(0).toUpperCase()}${c.domain.slice(1)}/`
      : url < 0.4 ? `http://${c.domain}/about` : url < 0.55 ? `www.${c.domain}` : c.domain;
  const variant = rng.next();
  const exportName = c.group !== 'shared' ? c.name
    : variant < 0.3 ? c.name.toLowerCase() : variant < 0.45 ? c.name.toUpperCase()
      : variant < 0.65 ? c.name.replace(' ', '  ') : variant < 0.75 ? ` ${c.name} ` : c.name;
  const conflict = c.group === 'shared' && rng.chance(0.2);
  return {
    crm: { name: c.name, domain: crmDomain, industry: c.industry, city: c.city },
    export: { name: exportName, domain: rng.chance(0.15) ? `www.${c.domain}` : c.domain, industry: conflict ? rng.pick(INDUSTRIES) : c.industry, city: c.city },
  };
}

/** A contact as each side writes it: emails in different case, a few hundred conflicting values. */
function contactSides(c: Contact, rng: Rng) {
  const shared = c.group === 'shared';
  const crmEmail = c.email && shared && rng.chance(0.4) ? mixedCase(c.email, rng) : c.email;
  const exportEmail = c.email && shared && rng.chance(0.1) ? c.email.toUpperCase() : c.email;
  return {
    crm: { email: crmEmail, phone: c.phone, title: c.title, city: c.city },
    export: {
      email: exportEmail,
      phone: shared && rng.chance(0.1) ? phone(rng) : c.phone,
      title: shared && rng.chance(0.25) ? rng.pick(TITLES) : c.title,
      city: shared && rng.chance(0.08) ? rng.pick(PLACES)[0] : c.city,
    },
  };
}

function writeCrm(file: string, companies: Company[], contacts: Contact[], rng: Rng, sides: Map<object, ReturnType<typeof companySides> | ReturnType<typeof contactSides>>) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  const db = new Database(file);
  db.exec(`
    CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL, domain TEXT, industry TEXT, city TEXT, country TEXT, modified_at TEXT);
    CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, phone TEXT, job_title TEXT,
      city TEXT, country TEXT, company_id INTEGER REFERENCES orgs(id), modified_at TEXT);
    CREATE INDEX people_modified ON people (modified_at);
  `);
  // The triggers `datasync connect sqlite --install-triggers` installs: a plain UPDATE of a row
  // (the README's "edit a row and run again") moves modified_at, so the next run finds it.
  for (const table of ['orgs', 'people']) installTriggers(db, table, { name: 'modified_at', declared: 'TEXT', affinity: 'text', notNull: false, hasDefault: false });
  const org = db.prepare('INSERT INTO orgs VALUES (?, ?, ?, ?, ?, ?, ?)');
  const person = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const c of companies.filter((x) => x.crmId).sort((a, b) => a.crmId - b.crmId)) {
      const s = (sides.get(c) as ReturnType<typeof companySides>).crm;
      org.run(c.crmId, s.name, s.domain, s.industry, s.city, c.country, timestamp(rng));
    }
    for (const p of contacts.filter((x) => x.crmId).sort((a, b) => a.crmId - b.crmId)) {
      const s = (sides.get(p) as ReturnType<typeof contactSides>).crm;
      person.run(p.crmId, s.email, p.first, p.last, s.phone, s.title, s.city, p.country, p.company?.crmId || null, timestamp(rng));
    }
  })();
  db.close();
}

export function makeExample(outDir: string): { contacts: [number, number]; companies: [number, number] } {
  const rng = prng(SEED);
  const companies = makeCompanies(rng);
  const contacts = makeContacts(rng, companies);
  const sides = new Map<object, ReturnType<typeof companySides> | ReturnType<typeof contactSides>>();
  for (const c of companies) sides.set(c, companySides(c, rng));
  for (const c of contacts) sides.set(c, contactSides(c, rng));
  // A handful of duplicate emails on each side, in another case.
  const dupes = (side: 'crm' | 'export', n: number) => {
    const pool = contacts.filter((c) => c.group === side && c.email).reverse(); // the invalid ones are at the start
    for (let k = 0; k < n; k++) {
      const [a, b] = [pool[k * 2]!, pool[k * 2 + 1]!];
      (sides.get(b) as ReturnType<typeof contactSides>)[side].email = mixedCase(a.email!, rng).replace(/^./, (ch) => ch.toUpperCase());
    }
  };
  dupes('crm', 5);
  dupes('export', 4);

  mkdirSync(join(outDir, 'export'), { recursive: true });
  writeCrm(join(outDir, 'crm.db'), companies, contacts, rng, sides);
  const exportCompanies = companies.filter((c) => c.exportId).sort((a, b) => a.exportId - b.exportId);
  writeFileSync(join(outDir, 'export', 'companies.csv'), stringify(exportCompanies.map((c) => {
    const s = (sides.get(c) as ReturnType<typeof companySides>).export;
    return [c.exportId, s.name, s.domain, s.industry, s.city, c.country];
  }), { header: true, columns: ['id', 'name', 'domain', 'industry', 'city', 'country'] }));
  const exportContacts = contacts.filter((c) => c.exportId).sort((a, b) => a.exportId - b.exportId);
  writeFileSync(join(outDir, 'export', 'contacts.csv'), stringify(exportContacts.map((p) => {
    const s = (sides.get(p) as ReturnType<typeof contactSides>).export;
    return [p.exportId, s.email ?? '', p.first, p.last, s.phone, s.title, s.city, p.country, p.company?.exportId || ''];
  }), { header: true, columns: ['id', 'email', 'firstname', 'lastname', 'phone', 'jobtitle', 'city', 'country', 'company_id'] }));
  const crmContacts = contacts.filter((c) => c.crmId).length;
  return { contacts: [crmContacts, exportContacts.length], companies: [companies.filter((c) => c.crmId).length, exportCompanies.length] };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: node dist/scripts/make-example.js OUT_DIR   (e.g. fixtures/example)\n');
    process.exit(2);
  }
  const counts = makeExample(resolve(out));
  process.stdout.write(`wrote ${out}: crm.db (${counts.contacts[0]} people, ${counts.companies[0]} orgs), ` +
    `export/contacts.csv (${counts.contacts[1]}), export/companies.csv (${counts.companies[1]})\n`);
}
