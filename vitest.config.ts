import { defineConfig } from 'vitest/config';

// Tests run straight from TypeScript sources: the `source` export condition
// points every @gradkit/* package at its src/index.ts, so no build is needed.
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
