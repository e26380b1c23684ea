/**
 * The deletion check of a side with a change cursor (SQLite with
 * `updated_at:`) asks the app about every linked record a pass did not read.
 * Above `DELETION_CHECK.everyPassUpTo` links it is spaced out: a pass that
 * read nothing asks about nothing, and a deleted record is still found within
 * `DELETION_CHECK.passes` passes (lowered here so a small table shows it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { writeContactsWorkspace } from '../../bench/workspace.js';
import { factory as sqliteFactory } from '../../connectors/sqlite/index.js';
import { loadConfig } from '../../src/config/load.js';
import { registerConnector } from '../../src/connectors.js';
import { runOnce } from '../../src/engine/run.js';
import { DELETION_CHECK } from '../../src/engine/scan.js';

/** Ids the SQLite side's deletion check asked about, per run. */
let asked = 0;
registerConnector({
  app: 'sqlite',
  create: (config, ctx) => {
    const real = sqliteFactory.create(config, ctx);
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'missing') return async (object: string, ids: string[]) => { asked += ids.length; return target.missing(object, ids); };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  },
});
afterAll(() => registerConnector(sqliteFactory));

const saved = { ...DELETION_CHECK };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deletion-check-'));
  writeContactsWorkspace(dir, 60, 7);
});
afterEach(() => {
  Object.assign(DELETION_CHECK, saved);
  rmSync(dir, { recursive: true, force: true });
});

async function run(): Promise<{ asked: number; deleted: number }> {
  asked = 0;
  const config = await loadConfig({ file: join(dir, 'sync.yaml'), cwd: dir, env: {} });
  const result = await runOnce(config, {});
  expect(result.exitCode).toBe(0);
  return { asked, deleted: deletedLinks() };
}

function deletedLinks(): number {
  const db = new Database(join(dir, '.datasync/state.db'), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM links WHERE deleted = 'a'`).pluck().get() as number;
  } finally {
    db.close();
  }
}

function deleteCrmRow(): void {
  const db = new Database(join(dir, 'crm.db'));
  try {
    // A linked row: one the CSV also holds (created there by the initial sync, or matched).
    db.prepare(`DELETE FROM people WHERE id = (SELECT min(id) FROM people)`).run();
  } finally {
    db.close();
  }
}

describe('the deletion check of a side with a change cursor', () => {
  test('a pass that read nothing asks about no linked id once the sync has many links', async () => {
    DELETION_CHECK.everyPassUpTo = 10;
    await run();
    const noop = await run();
    // Before: every linked id of the SQLite side, on every pass.
    expect(noop.asked).toBe(0);
  });

  test('a deleted record is still marked deleted within DELETION_CHECK.passes passes', async () => {
    DELETION_CHECK.everyPassUpTo = 10;
    DELETION_CHECK.passes = 3;
    await run(); // the initial sync read the side whole: a complete check
    deleteCrmRow();
    const passes = [await run(), await run(), await run()];
    expect(passes.map((p) => p.asked > 0)).toEqual([false, false, true]);
    expect(passes.map((p) => p.deleted)).toEqual([0, 0, 1]);
    // The check just ran: the count starts again.
    expect((await run()).asked).toBe(0);
  });

  test('up to everyPassUpTo links, every pass checks (a deletion is marked on the next pass)', async () => {
    await run();
    deleteCrmRow();
    const next = await run();
    expect(next.asked).toBeGreaterThan(10);
    expect(next.deleted).toBe(1);
  });
});
