/**
 * `datasync configure` end to end through the built binary: with flags
 * (`--yes`) and through its prompts on a pseudo-terminal (util-linux
 * `script`). The YAML it writes must be accepted by `run` and keep the
 * comment written above the edited sync and the other syncs byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { ENTER, hasScript, onTerminal } from './pty.js';
import { OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

const HEAD = `# Our syncs. Keep this header.
version: 1
connections:
  crm:                     # the CRM database
    app: sqlite
    path: ./crm.db
    objects:
      contacts: { table: people, id: id, updated_at: modified_at }
  exp:
    app: csv
    objects:
      contacts: { file: contacts.csv, id: id }
      companies: { file: companies.csv, id: id }
syncs:
  # companies: leave alone
  - name: companies
    object: companies
    between: [exp, crm]
    direction: exp -> crm
    enabled: false
`;

function setup(w: Workspace, withContacts = true): string {
  const crm = w.sqlite('crm.db', `CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
    title TEXT, lead_status TEXT, country TEXT, modified_at TEXT); CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT)`);
  crm.insert('people', [
    { email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', title: 'CEO', lead_status: 'open', country: 'SE', modified_at: OLD },
    { email: 'bob@example.com', first_name: 'Bob', last_name: 'Berg', title: 'CTO', lead_status: 'new', country: 'NO', modified_at: OLD },
  ]);
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname', 'lastname', 'jobtitle', 'status']);
  w.writeCsv('companies.csv', ['id', 'name']);
  const text = withContacts
    ? `${HEAD}
  # contacts: the comment above the edited sync must stay
  - name: contacts
    object: contacts
    between: [crm, exp]
    direction: two-way
    default_app: crm
`
    : HEAD;
  w.writeText('sync.yaml', text);
  return text;
}

/** The untouched part of the file: everything up to the edited sync. */
const prefix = (text: string) => text.slice(0, text.indexOf('  # contacts:'));

describe('configure with flags (--yes)', () => {
  it('edits a sync: comments and the other sync stay, run accepts the result and syncs it', async () => {
    const w = workspace();
    const before = setup(w);
    const r = await w.run('configure', 'contacts', '--direction', 'crm -> exp', '--map', 'crm:title=exp:jobtitle',
      '--map', 'exp:status=crm:lead_status', '--filter', 'crm:country:in:SE,DK', '--yes');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('updated sync.yaml: sync "contacts" (contacts, crm ↔ exp) saved');
    const after = w.readText('sync.yaml');
    expect(prefix(after)).toBe(prefix(before));
    expect(after).toContain('  # contacts: the comment above the edited sync must stay\n  - name: contacts\n');
    expect(after).toContain('direction: crm -> exp');
    expect(after).toContain('- { crm: title, exp: jobtitle }');
    expect(after).toContain('- { crm: lead_status, exp: status }');

    const run = await w.runJson();
    expect(run.exitCode, run.stderr).toBe(0);
    const rows = w.readCsv('contacts.csv');
    expect(rows.map((x) => [x.email, x.jobtitle, x.status])).toEqual([['ann@example.com', 'CEO', 'open']]);
  });

  it('adds a new sync after the others, and save-and-sync runs it at once', async () => {
    const w = workspace();
    const before = setup(w, false);
    const r = await w.run('configure', '--between', 'crm,exp', '--object', 'contacts', '--direction', 'to-b', '--sync-now', '--yes');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(w.readText('sync.yaml').startsWith(before)).toBe(true);
    expect(w.readText('sync.yaml')).toContain('  - name: contacts\n');
    expect(r.stdout).toMatch(/contacts +│ crm/);
    expect(w.readCsv('contacts.csv')).toHaveLength(2);
    // How each side finds changes, in the connectors' own words (SPEC §7).
    expect(r.stdout).toContain('  changes in crm.contacts: the modified_at column; an edit that leaves modified_at as it was is found by the full comparison');
    expect(r.stdout).toMatch(/  changes in exp\.contacts: each row against the last run's copy of it \(a hash per row, kept beside the state\)/);
  });

  it('refuses without a terminal and without --yes, and refuses what run would refuse; the file is unchanged', async () => {
    const w = workspace();
    const before = setup(w);
    const noTty = await w.run('configure');
    expect(noTty.exitCode).toBe(2);
    expect(noTty.stderr).toMatch(/configure asks its questions on a terminal, and there is none[\s\S]*--yes \(at least --between A,B and --object OBJECT\)/);
    const missing = await w.run('configure', '--object', 'contacts', '--yes');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('a new sync needs --between A,B');
    const bad = await w.run('configure', 'contacts', '--map', 'crm:country=exp:email', '--yes');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/exp\.email is already mapped/);
    expect(w.readText('sync.yaml')).toBe(before);
  });
});


describe.skipIf(!hasScript)('configure on a terminal (pseudo-terminal through util-linux script)', () => {
  it('edits a sync through its prompts: starts from the current values, keeps the comment, run accepts it', async () => {
    const w = workspace();
    const before = setup(w);
    const { code, screen } = await onTerminal(w, ['configure', 'contacts'], [
      ['First app', ENTER],
      ['Second app', ENTER],
      ['Object to sync', ENTER],
      ['Which way does data sync', `3${ENTER}`],  // the third choice: only to exp
      ['Default app', ENTER],
      ['Default mappings:', ENTER],
      ['Add a custom mapping', `y${ENTER}`],
      ['Field of crm', ENTER],
      ['Field of exp', ENTER],
      // crm.lead_status ↔ exp.status was the last free pair: the wizard says so and moves on.
      ['No unmapped field of crm.contacts', ''],
      ['Only sync contacts that have an email', ENTER],
      ['Limit which crm records', `y${ENTER}`],
      ['Field of crm to filter on', `c${ENTER}`],  // typing jumps to the first choice starting with it: country
      ['country …', ENTER],
      ['Value', `SE${ENTER}`],
      ['Add another filter condition on crm', ENTER],
      ['Limit which exp records', ENTER],
      ['Save this sync', ENTER],
    ]);
    expect(code, screen.slice(-3000)).toBe(0);
    expect(screen).toContain('Editing sync "contacts"');
    expect(screen).toContain('How changes are found:');
    expect(screen).toMatch(/crm\.contacts: the modified_at column/);
    expect(screen).toContain('updated sync.yaml: sync "contacts"');
    const after = w.readText('sync.yaml');
    expect(prefix(after)).toBe(prefix(before));
    expect(after).toContain('  # contacts: the comment above the edited sync must stay\n  - name: contacts\n');
    expect(after).toContain('direction: crm -> exp');
    expect(after).toContain('- { crm: lead_status, exp: status }');
    expect(after).toContain('- { field: country, op: eq, value: SE }');
    const run = await w.runJson();
    expect(run.exitCode, run.stderr).toBe(0);
  });
});
