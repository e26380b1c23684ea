/**
 * Issue 14 point 9: trouble with the state's place on disk gets its
 * documented exit code (2: the state cannot be used, a person must fix it)
 * and a sentence, never exit 70 with a stack: `state:` naming a folder, a
 * lock path that is a folder, a read-only state folder, a full disk. After
 * the fix, the next run goes on without a duplicate.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, duplicates, insertPeople, person, PEOPLE } from './crm-csv.js';
import { useMounts } from './mounts.js';
import { useWorkspaces, type Workspace } from './support.js';

const workspace = useWorkspaces();
const { mountTmpfs, remount } = useMounts();

function setup(w: Workspace, state: string, people = 3) {
  w.sqlite('crm.db', PEOPLE);
  insertPeople(w.path('crm.db'), Array.from({ length: people }, (_, i) => person(i)));
  w.writeCsv('contacts.csv', CSV_HEADER, []);
  w.writeConfig({
    state,
    connections: {
      crm: { app: 'sqlite', path: './crm.db', objects: { contacts: { table: 'people', id: 'id', updated_at: 'modified_at' } } },
      exp: { app: 'csv', objects: { contacts: { file: 'contacts.csv', id: 'id' } } },
    },
    syncs: [{ name: 'contacts', object: 'contacts', between: ['crm', 'exp'], direction: 'two-way', default_app: 'crm' }],
  });
}

const noStack = (text: string) => expect(text, 'no stack trace').not.toMatch(/\n\s+at \S+ \(|unexpected error/);

describe('the state in a place it cannot be', () => {
  it('`state:` naming a folder: exit 2 and a sentence', async () => {
    const w = workspace();
    setup(w, './st');
    w.writeText('st/keep.txt', 'a folder');
    for (const command of [['run'], ['health']]) {
      const r = await w.run(...command);
      expect(r.exitCode, `${command.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/st is a folder/);
      noStack(r.stderr);
    }
  });

  it('a lock path that is a folder: exit 2 and a sentence', async () => {
    const w = workspace();
    setup(w, './st/state.db');
    w.writeText('st/state.db.lock/keep.txt', 'a folder');
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/state\.db\.lock is a folder/);
    noStack(r.stderr);
  });

  it('a read-only state folder: exit 2 and a sentence; writable again, the run goes on', async () => {
    const w = workspace();
    setup(w, './st/state.db');
    await mountTmpfs(w.path('st'), '4m');
    expect((await w.run('run')).exitCode).toBe(0);
    insertPeople(w.path('crm.db'), [person(10)], new Date().toISOString());
    await remount(w.path('st'), 'ro');
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/read-only/);
    noStack(r.stderr);
    await remount(w.path('st'), 'rw');
    const again = await w.run('run');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(w.readCsv('contacts.csv')).toHaveLength(4);
  });

  it('a full disk under the state: exit 2 and a sentence; with room again, nothing is doubled', async () => {
    const w = workspace();
    setup(w, './st/state.db');
    await mountTmpfs(w.path('st'), '512k');
    expect((await w.run('run')).exitCode).toBe(0);
    // Fill the disk, then give the run a lot to record.
    const filler = w.path('st', 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
    } catch {
      // ENOSPC: the disk is full, as wanted
    }
    insertPeople(w.path('crm.db'), Array.from({ length: 3000 }, (_, i) => person(100 + i)), new Date().toISOString());
    const r = await w.run('run');
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no space left/i);
    noStack(r.stderr);
    w.remove('st/filler');
    await remount(w.path('st'), 'size=16m');
    const again = await w.run('run');
    expect(again.exitCode, again.stderr).toBe(0);
    const rows = w.readCsv('contacts.csv');
    expect(rows).toHaveLength(3003);
    expect(duplicates(rows.map((x) => x.email!))).toEqual([]);
  });
});
