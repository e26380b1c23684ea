import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A throwaway PostgreSQL cluster for the postgres connector's tests (test/support/postgres.ts).
    globalSetup: ['test/support/postgres-global.ts'],
  },
});
