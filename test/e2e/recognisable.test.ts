/**
 * Issue 13 point 13: failed and excluded records shown with what a person
 * recognises (the email, domain or name) beside the id, in natural order,
 * and for each reason what to do about it.
 */
import { describe, expect, it } from 'vitest';
import { explain, OLD, useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('failed and excluded records a person can recognise (issue 13.13)', () => {
  it('shows the email beside the id, sorts 2 before 10, and says what to do per reason', async () => {
    const w = workspace();
    const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
    const rows: Record<string, unknown>[] = [];
    for (let id = 1; id <= 12; id++) rows.push({ id, email: `u${id}@example.com`, first_name: `U${id}`, modified_at: OLD });
    rows[1]!.email = 'dup@example.com'; // id 2
    rows[9]!.email = 'dup@example.com'; // id 10
    rows[4]!.email = null; // id 5: no email
    crm.insert('people', rows);
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname']);
    w.writeConfig({
      connections: {
        crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', updated_at: 'modified_at' } } },
        exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
      },
      syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way' }],
    });
    expect((await w.run('run')).exitCode).toBe(1);
    const failed = await w.run('health', 'contacts', '--failed');
    expect(failed.exitCode, explain(failed)).toBe(1);
    const lines = failed.stdout.split('\n');
    const two = lines.findIndex((l) => /crm#2 \(dup@example\.com\)/.test(l));
    const ten = lines.findIndex((l) => /crm#10 \(dup@example\.com\)/.test(l));
    expect(two, failed.stdout).toBeGreaterThan(0);
    expect(ten).toBeGreaterThan(two);
    expect(failed.stdout).toMatch(/what to do: two or more crm records share this email: merge them or change one/);

    const excluded = await w.run('health', 'contacts', '--excluded');
    expect(excluded.stdout).toMatch(/crm#5/);
    expect(excluded.stdout).toMatch(/what to do: add an email to the record in crm/);

    const json = JSON.parse((await w.run('health', 'contacts', '--failed', '--json')).stdout) as {
      syncs: Array<{ failed: Array<{ advice: string; records: Array<{ id: string; label?: string }> }> }>;
    };
    const group = json.syncs[0]!.failed[0]!;
    expect(group.records.map((r) => r.id)).toEqual(['2', '10']);
    expect(group.records.map((r) => r.label)).toEqual(['dup@example.com', 'dup@example.com']);
    expect(group.advice).toMatch(/merge them or change one/);
  });
});
