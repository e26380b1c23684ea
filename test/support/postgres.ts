/**
 * PostgreSQL for tests: a fresh database per test on the run's cluster
 * (postgres-global.ts), dropped afterwards. Without PostgreSQL installed a
 * test file that needs it is skipped, saying so (in CI the run fails instead).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';

export const pgUrl = (): string => inject('pgUrl');

/** `describe`, or a skip that says why when PostgreSQL is missing (never in CI: the global setup fails there). */
export function describePg(name: string, fn: () => void): void {
  if (pgUrl()) describe(name, fn);
  else {
    process.stderr.write(`SKIPPED ${name}: PostgreSQL is not installed here (apt-get install -y postgresql)\n`);
    describe.skip(name, fn);
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  /** A client of the test database, as another program would use it. */
  client: pg.Client;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = pgUrl().replace(/\/postgres$/, `/${name}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET TimeZone = 'UTC'`);
  return {
    url, name, client,
    async drop() {
      await client.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: pgUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
