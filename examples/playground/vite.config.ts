import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/**
 * Node built-ins stay external and side-effect free: @gradkit/nn reads files through a lazy
 * `import('node:fs/promises')` that a page never reaches, and @gradkit/testing's heap harness (unused here)
 * imports node:child_process; tree-shaking drops the latter, and the former stays a dormant dynamic import.
 */
const nodeBuiltinsExternal: Plugin = {
  name: 'gradkit-node-builtins-external',
  enforce: 'pre',
  resolveId(id) {
    return id.startsWith('node:') ? { id, external: true, moduleSideEffects: false } : null;
  },
};

/**
 * The loss laboratory: `pnpm playground` serves it, `pnpm playground:build` writes the static site to
 * examples/playground/dist. The gradkit packages are bundled from their TypeScript sources (the `source`
 * export condition); the training worker is an ES module worker.
 */
export default defineConfig({
  base: './',
  plugins: [nodeBuiltinsExternal],
  resolve: { conditions: ['source', ...defaultClientConditions] },
  worker: { format: 'es', plugins: () => [nodeBuiltinsExternal] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, reportCompressedSize: false },
});
