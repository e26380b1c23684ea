/**
 * Issue 14 point 10: a CSV rewrite keeps what the file is: a 0600 file stays
 * 0600 with its owner (and its rows are never in a 0644 temp file), and a
 * symlinked file is written through to its target, the link left a link.
 * A temp file of a rewrite killed half way is not left beside it for good.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, chmodSync, existsSync, lstatSync, mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crmCsv } from './crm-csv.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();
const ann = { email: 'ann@example.com', first_name: 'Ann' };

describe('the CSV file as it was', () => {
  it('a 0600 file owned by another user keeps its mode and owner after a rewrite', async () => {
    const w = workspace();
    crmCsv(w, { people: [ann] });
    chmodSync(w.path('contacts.csv'), 0o600);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(w.path('contacts.csv'), 1234, 1234);
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(w.readCsv('contacts.csv')).toHaveLength(1);
    const st = statSync(w.path('contacts.csv'));
    expect(st.mode & 0o777).toBe(0o600);
    if (asRoot) expect([st.uid, st.gid]).toEqual([1234, 1234]);
  });

  it('a symlinked file is written through to its target; the link stays a link', async () => {
    const w = workspace();
    crmCsv(w, { people: [ann] });
    mkdirSync(w.path('real'));
    renameSync(w.path('contacts.csv'), w.path('real/contacts.csv'));
    symlinkSync('real/contacts.csv', w.path('contacts.csv'));
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(w.path('contacts.csv')).isSymbolicLink()).toBe(true);
    expect(w.readCsv('real/contacts.csv').map((x) => x.email)).toEqual(['ann@example.com']);
  });

  it('a temp file of a rewrite killed half way is removed by the next pass, also one that writes nothing to the file', async () => {
    const w = workspace();
    crmCsv(w, { people: [ann] });
    expect((await w.run('run')).exitCode).toBe(0);
    // The temp file's name carries its writer's pid: a process that has ended (found by kill-large.test.ts:
    // a run killed right after a later rewrite's rename, then a clean run with nothing to write, kept it).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const temp = w.path(`.contacts.csv.${dead}.0badf00d.tmp`);
    writeFileSync(temp, 'id,email\n1,half written');
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(temp), 'the killed rewrite\'s temp file').toBe(false);
    expect(w.readCsv('contacts.csv').map((x) => x.email)).toEqual(['ann@example.com']);
  });
});
