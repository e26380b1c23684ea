/** The example data set: deterministic, the promised mess, and readable by both connectors. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, SourceRecord } from '../../src/connector.js';
import { factory as csvFactory } from '../../connectors/csv/index.js';
import { factory as sqliteFactory } from '../../connectors/sqlite/index.js';
import { makeExample } from '../../scripts/make-example.js';

let dir: string;
const crm: Record<string, SourceRecord[]> = {};
const exp: Record<string, SourceRecord[]> = {};

async function all(c: Connector, object: string): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const b of c.read(object, { since: null, fields: [] })) out.push(...b.records);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'datasync-example-'));
  makeExample(join(dir, 'a'));
  makeExample(join(dir, 'b'));
  const company = { company: { field: 'company_id', object: 'companies' } };
  const sqlite = sqliteFactory.create({ name: 'crm', app: 'sqlite', baseDir: join(dir, 'a'), path: 'crm.db', objects: {
    contacts: { table: 'people', updated_at: 'modified_at', associations: company },
    companies: { table: 'orgs', updated_at: 'modified_at' },
  } }, {});
  const csv = csvFactory.create({ name: 'export', app: 'csv', baseDir: join(dir, 'a'), dir: 'export', objects: {
    contacts: { file: 'contacts.csv', associations: company }, companies: { file: 'companies.csv' },
  } }, {});
  for (const o of ['contacts', 'companies']) {
    crm[o] = await all(sqlite, o);
    exp[o] = await all(csv, o);
  }
  await sqlite.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const emailKey = (r: SourceRecord, field: string) => (typeof r.fields[field] === 'string' ? (r.fields[field] as string).trim().toLowerCase() : null);
const domainKey = (v: unknown) => (typeof v === 'string' ? v.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/^www\./, '').replace(/[/:].*$/, '') : null);

describe('the example data set', () => {
  it('is the same bytes every run', () => {
    for (const f of ['crm.db', 'export/contacts.csv', 'export/companies.csv']) {
      expect(readFileSync(join(dir, 'a', f)).equals(readFileSync(join(dir, 'b', f))), f).toBe(true);
    }
  });

  it('has enough records on each side, overlapping about half', () => {
    expect(crm.contacts!.length).toBeGreaterThanOrEqual(1200);
    expect(exp.contacts!.length).toBeGreaterThanOrEqual(1200);
    expect(crm.companies!.length).toBeGreaterThanOrEqual(250);
    expect(exp.companies!.length).toBeGreaterThanOrEqual(250);
    const crmEmails = new Set(crm.contacts!.map((r) => emailKey(r, 'email')));
    const shared = exp.contacts!.filter((r) => crmEmails.has(emailKey(r, 'email'))).length;
    expect(shared / exp.contacts!.length).toBeGreaterThan(0.45);
    expect(shared / exp.contacts!.length).toBeLessThan(0.55);
    const crmDomains = new Set(crm.companies!.map((r) => domainKey(r.fields.domain)));
    expect(exp.companies!.filter((r) => crmDomains.has(domainKey(r.fields.domain))).length).toBeGreaterThan(110);
    expect(crm.companies!.some((r) => String(r.fields.domain).startsWith('https://www.'))).toBe(true);
  });

  it('carries conflicts, missing, invalid and duplicate emails', () => {
    const byEmail = new Map(crm.contacts!.map((r) => [emailKey(r, 'email'), r]));
    const conflicts = exp.contacts!.filter((r) => {
      const other = byEmail.get(emailKey(r, 'email'));
      return other && r.fields.jobtitle !== other.fields.job_title;
    });
    expect(conflicts.length).toBeGreaterThan(100);
    const noEmail = [...crm.contacts!, ...exp.contacts!].filter((r) => r.fields.email === null);
    expect(noEmail.length).toBeGreaterThanOrEqual(24);
    const invalid = crm.contacts!.filter((r) => typeof r.fields.email === 'string' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(r.fields.email));
    expect(invalid.length).toBeGreaterThanOrEqual(3);
    const keys = crm.contacts!.map((r) => emailKey(r, 'email')).filter((k) => k !== null);
    expect(keys.length - new Set(keys).size).toBeGreaterThanOrEqual(3);
  });

  it('points every company association at a real company', () => {
    for (const [side, label] of [[crm, 'crm'], [exp, 'export']] as const) {
      const ids = new Set(side.companies!.map((r) => r.id));
      const links = side.contacts!.flatMap((r) => r.associations?.company ?? []);
      expect(links.length, label).toBeGreaterThan(1000);
      expect(links.filter((id) => !ids.has(id)), label).toEqual([]);
    }
  });
});
