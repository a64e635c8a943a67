import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Contract suites are imported by the test files that run them against each implementation.
    exclude: ['**/node_modules/**', '**/*.case.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    benchmark: { include: ['tests/bench/**/*.bench.ts'] },
  },
});
