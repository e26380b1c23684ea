/**
 * State migrations: a file of every earlier version opens as the newest,
 * with its links and keys intact and the indexes the queries rely on.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openState } from '../../src/state/open.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/state/schema.js';
import { StateStore } from '../../src/state/store.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'datasync-migrate-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

/** A state file at `version`, as that datasync left it, with a live link, a deleted one and keys. */
function stateAt(version: number, extra = ''): string {
  const path = join(dir, `state-v${version}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (let v = 0; v < version; v++) db.exec(MIGRATIONS[v]!);
  db.exec(extra);
  db.pragma(`application_id = ${0x44534e43}`);
  db.pragma(`user_version = ${version}`);
  const t = '2026-01-01T00:00:00.000Z';
  const link = db.prepare(`INSERT INTO links (sync, a_id, b_id, base, deleted, created_at, updated_at) VALUES ('contacts', ?, ?, '{}', ?, '${t}', '${t}')`);
  link.run('a1', 'b1', null);
  link.run('a2', 'b2', 'a');
  db.prepare(`INSERT INTO match_keys (sync, side, key, record_id) VALUES ('contacts', 'a', 'email:ann@x.se', 'a1')`).run();
  db.close();
  return path;
}

const indexes = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[]);

it.each([1, 2, 3])('a state of version %i opens as the newest, links and keys intact', (version) => {
  const db = openState(stateAt(version));
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const store = new StateStore(db);
    expect(store.linkBy('contacts', 'a', 'a1')).toMatchObject({ a_id: 'a1', b_id: 'b1', deleted: null });
    expect(store.countLinks('contacts')).toEqual({ live: 1, deleted: { a: 1, b: 0 } });
    expect(store.idsWithKey('contacts', 'a', 'email:ann@x.se')).toEqual(['a1']);
    expect(indexes(db)).toEqual(['links_deleted', 'match_keys_by_record']);
  } finally {
    db.close();
  }
});

it('a state migrated by a build whose migration 2 indexed the live links loses those indexes for the deleted-links one', () => {
  // What that build's migration 2 created instead of links_deleted.
  const path = stateAt(3, `DROP INDEX links_deleted;
    CREATE INDEX links_live_a ON links (sync, a_id) WHERE deleted IS NULL;
    CREATE INDEX links_live_b ON links (sync, b_id) WHERE deleted IS NULL;`);
  const db = openState(path);
  try {
    expect(indexes(db)).toEqual(['links_deleted', 'match_keys_by_record']);
    expect(new StateStore(db).linkBy('contacts', 'b', 'b1')).toMatchObject({ a_id: 'a1', b_id: 'b1', deleted: null });
  } finally {
    db.close();
  }
});
