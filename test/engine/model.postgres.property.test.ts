/**
 * The model-based property test (model-world.ts: the same commands, checks
 * and invariants (a)–(e) as model.property.test.ts) with crm a real
 * PostgreSQL table behind the real postgres connector, on the run's test
 * cluster (test/support/postgres-global.ts). Each case picks how the
 * connector finds changes: the trigger change log, an `updated_at` column,
 * or a full scan. hub stays the in-memory app.
 *
 * DATASYNC_PG_PROPERTY_RUNS (default 30; about 0.2 s a run here) and
 * DATASYNC_PROPERTY_SEED tune it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, test } from 'vitest';
import { registerConnector } from '../../src/connectors.js';
import { memoryFactory } from '../support/memory-connector.js';
import { PgModelApp, type PgChanges } from '../support/pg-model-app.js';
import { describePg, freshDatabase, type TestDatabase } from '../support/postgres.js';
import { SyncPg } from '../support/sync-pg.js';
import { commandsArb, disposeWorlds, initialArb, modelCase, paramsArb, propertySeed, SPEC, type Params } from './model-world.js';

const numRuns = Number(process.env['DATASYNC_PG_PROPERTY_RUNS'] ?? 30);

describePg('model property test, crm on PostgreSQL', () => {
  let db: TestDatabase;
  let sql: SyncPg;
  let schemas = 0;
  const pgApp = (changes: PgChanges) => (p: Params) => new PgModelApp('crm', SPEC.b, sql, db.url, `w${++schemas}`, p.pageSize, changes);
  beforeAll(async () => {
    registerConnector(memoryFactory);
    db = await freshDatabase();
    sql = new SyncPg(db.url);
  });
  afterAll(async () => {
    disposeWorlds();
    sql.end();
    await db.drop();
  });

  const seed = propertySeed('model property test (crm: PostgreSQL)', numRuns);
  const pgParamsArb = fc.tuple(paramsArb, fc.constantFrom<PgChanges>('triggers', 'updated_at', 'scan'))
    .map(([p, changes]) => ({ ...p, changes }));

  test('random edits on both sides and interrupted runs keep the SPEC §4 invariants (crm: PostgreSQL)', async () => {
    await fc.assert(
      fc.asyncProperty(pgParamsArb, initialArb, commandsArb, (params, initial, cmds) => modelCase(params, initial, cmds, pgApp(params.changes))),
      { numRuns, seed, verbose: 1 },
    );
  }, Math.max(120_000, numRuns * 3000));
});
