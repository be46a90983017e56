import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'compat-tests/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one fork less than the cores: one at a time on a 2-core machine, where the
    // suite's files mostly wait on sockets, child processes and timers (one fork: ~11 min, the
    // forks idle between files; two: ~6 min, every test passing).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // global.gc for tests that measure the heap after a collection (src/handlers/fetch.test.ts).
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
