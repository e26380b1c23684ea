/**
 * Issue 13 point 17: progress on a non-terminal is plain periodic lines on
 * stderr (records per phase, rate); a run with nothing to do prints one
 * line; the table fits a narrow terminal (a real pseudo-terminal).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { spawnCli } from '../robustness/support.js';
import { bulkInsert } from './hubspot-support.js';
import { hasScript } from './pty.js';
import { BIN, OLD, useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();

function setup(w: Workspace, n: number) {
  const crm = w.sqlite('crm.db', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, modified_at TEXT)');
  bulkInsert(crm, 'people', Array.from({ length: n }, (_, i) => ({ email: `p${i}@example.com`, first_name: `P${i}`, modified_at: OLD })));
  w.writeCsv('contacts.csv', ['id', 'email', 'firstname']);
  w.writeConfig({
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way' }],
  });
}

describe('conventions (issue 13.17)', () => {
  it('on a pipe, progress is plain lines on stderr with records and phase, and no absurd first rate', async () => {
    const w = workspace();
    setup(w, 20_000);
    // Every progress event may print a line here (the default is one every 10 s).
    const r = await spawnCli(w.dir, ['run'], { DATASYNC_PROGRESS_EVERY: '0' }).done;
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('datasync: contacts: '));
    expect(lines.some((l) => /scanning crm… \d+ records/.test(l)), r.stderr).toBe(true);
    expect(lines.some((l) => /writing \d+\/\d+/.test(l)), r.stderr).toBe(true);
    expect(r.stderr).not.toMatch(/\u001b\[|\r/);
    for (const m of r.stderr.matchAll(/\((\d+)\/s/g)) expect(Number(m[1])).toBeLessThan(5_000_000);
  }, 90_000);

  it('a run with nothing to do prints one line, not a table of zeros', async () => {
    const w = workspace();
    setup(w, 5);
    expect((await w.run('run')).exitCode).toBe(0);
    const again = await w.run('run');
    expect(again.exitCode).toBe(0);
    expect(again.stdout.trim().split('\n')).toHaveLength(1);
    expect(again.stdout).toMatch(/everything up to date/);
  });

  it('a run with nothing to do while records stay failed prints one line and the count still failed, not a table of zeros', async () => {
    const w = workspace();
    setup(w, 3);
    // Two rows of the export share an email: both fail as a duplicate match key, pass after pass.
    w.writeCsv('contacts.csv', ['id', 'email', 'firstname'], [
      { id: 1, email: 'twin@example.com', firstname: 'One' }, { id: 2, email: 'twin@example.com', firstname: 'Two' }]);
    expect((await w.run('run')).exitCode).toBe(1);
    const again = await w.run('run');
    expect(again.exitCode).toBe(1);
    const lines = again.stdout.trim().split('\n');
    expect(lines, again.stdout).toHaveLength(2);
    expect(lines[0]).toMatch(/everything up to date/);
    expect(lines[1]).toMatch(/^! contacts: 2 records still failed from earlier passes; see `datasync health contacts --failed`$/);
  });

  it.skipIf(!hasScript)('the run table fits a 60-column terminal', async () => {
    const w = workspace();
    setup(w, 5);
    const screen = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qfec', `stty cols 60 rows 40; node '${BIN}' run`, '/dev/null'],
        { cwd: w.dir, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      child.on('close', () => resolve(out));
    });
    // The spinner's own control sequences are no text: what is left is what a person reads.
    const text = screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/^.*\r(?!\n)/gm, '');
    const lines = text.split(/\r?\n/).filter((l) => !/starting…|scanning|writing/.test(l));
    expect(screen).toMatch(/contacts/);
    expect(Math.max(...lines.map((l) => [...l].length)), text).toBeLessThanOrEqual(60);
  }, 60_000);
});
