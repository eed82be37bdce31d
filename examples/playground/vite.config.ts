import { builtinModules, createRequire } from 'node:module';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const STUB = '\0gradkit-node-stub:';

/**
 * Node built-ins in the browser. @gradkit/nn reads files through a lazy `import('node:fs/promises')` that a
 * page never reaches, and @gradkit/testing's heap harness (unused here) imports node:child_process & co.
 * - build: they stay external and side-effect free, so tree-shaking drops them from the site;
 * - dev server (no tree-shaking): each resolves to a stub module whose exports are no-op functions, so the
 *   modules that import them load (nothing on the page calls them).
 */
const nodeBuiltins: Plugin = {
  name: 'gradkit-node-builtins',
  enforce: 'pre',
  resolveId(id) {
    const name = id.startsWith('node:') ? id.slice(5) : id;
    if (!id.startsWith('node:') && !builtinModules.includes(name)) return null;
    if (this.environment.mode === 'build') return { id, external: true, moduleSideEffects: false };
    return `${STUB}${name}`;
  },
  load(id) {
    if (!id.startsWith(STUB)) return null;
    const name = id.slice(STUB.length);
    const keys = Object.keys(require(`node:${name}`) as object).filter(
      (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default',
    );
    const lines = [`const stub = () => undefined;`, 'export default {};'];
    for (const k of keys) lines.push(`export const ${k} = stub;`);
    return lines.join('\n');
  },
};

/**
 * The loss laboratory: `pnpm playground` serves it, `pnpm playground:build` writes the static site to
 * examples/playground/dist. The gradkit packages are bundled from their TypeScript sources (the `source`
 * export condition); the training worker is an ES module worker.
 */
export default defineConfig({
  base: './',
  plugins: [nodeBuiltins],
  resolve: { conditions: ['source', ...defaultClientConditions] },
  worker: {
    format: 'es',
    plugins: () => [nodeBuiltins],
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
    // A slow machine makes rolldown warn about plugin timings (load, not the site): off, so warnings mean something.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
