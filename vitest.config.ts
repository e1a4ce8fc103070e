import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Database and socket tests share ports and a PostgreSQL server; files run in parallel
    // processes but each file's tests run in order.
    pool: 'forks',
    // Tests that spawn the app run the compiled build, as npm start does; build it once up front.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
