/**
 * vitest globalSetup: one throwaway PostgreSQL cluster for the whole run
 * (fixtures/postgres/cluster.ts), its URL handed to the tests as `pgUrl`.
 * In CI a missing PostgreSQL fails the run; elsewhere the tests that need it
 * say that they were skipped.
 */
import type { TestProject } from 'vitest/node';
import { postgresBinDir, startCluster } from '../../fixtures/postgres/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext { pgUrl: string }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (!postgresBinDir()) {
    if (process.env.CI) throw new Error('CI: PostgreSQL is not installed (no initdb); .ci/run installs it with apt-get install -y postgresql');
    project.provide('pgUrl', '');
    return undefined;
  }
  const cluster = await startCluster();
  project.provide('pgUrl', cluster.url);
  return () => cluster.stop();
}
