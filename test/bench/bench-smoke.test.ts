/**
 * The benchmark's inputs are generated from a seed: the same seed must give
 * the same bytes, so figures of two runs compare code, not data. Tiny sizes;
 * nothing here is timed (speed is `npm run bench`'s business).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { contactRows, emptyCounts } from '../../bench/contacts.js';
import { hubspotInput } from '../../bench/hubspot.js';
import { editCsvRows, editSqliteRows, writeContactsWorkspace } from '../../bench/workspace.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'datasync-bench-smoke-'));
  dirs.push(d);
  return d;
};
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** What a workspace holds, as bytes: the CSV file and every SQLite row. */
function fingerprint(dir: string): { csv: string; sqlite: string } {
  const db = new Database(join(dir, 'crm.db'), { readonly: true });
  try {
    return { csv: sha(readFileSync(join(dir, 'contacts.csv'))), sqlite: sha(JSON.stringify(db.prepare('SELECT * FROM people ORDER BY id').raw().all())) };
  } finally {
    db.close();
  }
}

describe('bench data generators', () => {
  it('the same seed writes the same workspace, byte for byte; another seed does not', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    const countsA = writeContactsWorkspace(a, 300, 7);
    const countsB = writeContactsWorkspace(b, 300, 7);
    writeContactsWorkspace(c, 300, 8);
    expect(countsB).toEqual(countsA);
    expect(fingerprint(b)).toEqual(fingerprint(a));
    expect(fingerprint(c).csv).not.toBe(fingerprint(a).csv);
  });

  it('contacts follow the documented mix: half on both sides, 5% without email, some conflicts', () => {
    const counts = emptyCounts();
    for (const _ of contactRows(4000, 11, counts)) { /* counting */ }
    expect(counts.contacts).toBe(4000);
    expect(counts.both / 4000).toBeGreaterThan(0.45);
    expect(counts.both / 4000).toBeLessThan(0.55);
    expect(counts.noEmail / 4000).toBeGreaterThan(0.03);
    expect(counts.noEmail / 4000).toBeLessThan(0.07);
    expect(counts.conflicts).toBeGreaterThan(100);
    expect(counts.sqliteRows + counts.csvRows).toBe(counts.contacts + counts.both);
  });

  it('the W3 edits pick the same rows for the same seed', () => {
    const [a, b] = [tempDir(), tempDir()];
    writeContactsWorkspace(a, 500, 3);
    writeContactsWorkspace(b, 500, 3);
    for (const d of [a, b]) {
      editCsvRows(join(d, 'contacts.csv'), 0.05, 9);
      editSqliteRows(join(d, 'crm.db'), 0.05, 10);
    }
    expect(fingerprint(b).csv).toBe(fingerprint(a).csv);
    // updated_at is the time of the edit; the edited rows and values are the same.
    const edited = (d: string) => {
      const db = new Database(join(d, 'crm.db'), { readonly: true });
      try {
        return db.prepare("SELECT id, job_title FROM people WHERE job_title LIKE 'Edited%' ORDER BY id").all();
      } finally {
        db.close();
      }
    };
    expect(edited(a).length).toBeGreaterThan(0);
    expect(edited(b)).toEqual(edited(a));
  });

  it('the HubSpot workload is the same for the same seed, and every contact\'s company is on its side', () => {
    const one = hubspotInput(200, 40, 5);
    expect(JSON.stringify(hubspotInput(200, 40, 5))).toBe(JSON.stringify(one));
    const hsCompanies = new Set(one.seed.companies!.map((c) => c.id));
    for (const c of one.seed.contacts!) for (const id of c.associations?.companies ?? []) expect(hsCompanies.has(id)).toBe(true);
    const sqlCompanies = new Set(one.sqlite.companies.map((r) => r[0]));
    for (const r of one.sqlite.contacts) if (r[7] !== null) expect(sqlCompanies.has(r[7])).toBe(true);
  });
});
