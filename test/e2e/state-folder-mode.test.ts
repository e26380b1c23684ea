/**
 * Issue 14 point 10: the state's folder is 0700 even when it existed with a
 * looser mode, also when `.datasync` is a symlink to another folder.
 */
import { chmodSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crmCsv } from './crm-csv.js';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('a loose state folder', () => {
  it.each(['folder', 'symlink'])('a 0755 .datasync (%s) is made 0700 by the next run', async (kind) => {
    const w = workspace();
    crmCsv(w, { people: [{ email: 'ann@example.com', first_name: 'Ann' }] });
    const real = kind === 'folder' ? w.path('.datasync') : w.path('elsewhere/.datasync');
    mkdirSync(real, { recursive: true });
    chmodSync(real, 0o755);
    if (kind === 'symlink') symlinkSync(real, w.path('.datasync'));
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(statSync(real).mode & 0o777).toBe(0o700);
    chmodSync(real, 0o755); // loosened after the state exists: the next run tightens it again
    expect((await w.run('run')).exitCode).toBe(0);
    expect(statSync(real).mode & 0o777).toBe(0o700);
  });
});
