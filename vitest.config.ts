import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'compat-tests/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // global.gc for tests that measure the heap after a collection (src/handlers/fetch.test.ts).
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
