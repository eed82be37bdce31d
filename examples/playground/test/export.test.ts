/**
 * The exported TypeScript defines the same loss as the page: for factors that use every kind of node (numbers
 * on the left of operators, `where`, two-argument functions, no parameters, no quantities), the module
 * `factorCode` prints is imported and compared with the loss `compileFactor` builds, values and gradients.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fromArray, grad, type Tensor } from '@gradkit/autograd';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFactor, defaultParam } from '../src/factor.js';
import { factorCode } from '../src/lang/codegen.js';
import { callModulated } from '../src/losses.js';

const DIR = join(fileURLToPath(new URL('..', import.meta.url)), '.export', `unit-${process.pid}`);

const FACTORS = [
  '(1 - pt)^gamma * exp(-beta * pt)',
  'where(y > 0.5, 2 / (1 + p), max(p, 0.1)^gamma)',
  '2^-x * sigmoid(x) + min(logPt, -0.5) * 0',
  '1 - log1mPt / (1 + abs(x))',
  '3',
  'pow(1 - pt, k) * (1 + delta * pt)',
];

type Exported = (x: Tensor, y: Tensor, o: Record<string, unknown>) => Tensor;

afterAll(async () => {
  await rm(DIR, { recursive: true, force: true });
});

describe('exported snippet', () => {
  it('computes the loss and gradient the page computes', async () => {
    await mkdir(DIR, { recursive: true });
    const logits = [-12, -3.5, -0.7, 0.2, 1.9, 6, 30];
    const targets = [0, 1, 0.3, 1, 0, 0.8, 1];
    for (const [i, text] of FACTORS.entries()) {
      const compiled = compileFactor(text);
      const params = Object.fromEntries(compiled.params.map((p) => [p, defaultParam(p) + 0.25]));
      const code = factorCode(compiled.tree, {
        exportName: 'customFactor',
        lossName: 'custom-factor',
        params,
      });
      const file = join(DIR, `factor-${i}.ts`);
      await writeFile(file, code);
      const { customFactor } = (await import(pathToFileURL(file).href)) as { customFactor: Exported };
      const run = (f: (x: Tensor, y: Tensor) => Tensor) => {
        const x = fromArray(logits, [logits.length], { dtype: 'float64', requiresGrad: true });
        const y = fromArray(targets, [targets.length], { dtype: 'float64' });
        const loss = f(x, y);
        const [g] = grad(loss.sum(), [x]);
        return [...loss.data, ...g!.data];
      };
      const ours = run((x, y) => callModulated(compiled.loss, x, y, params, 'none'));
      const theirs = run((x, y) => customFactor(x, y, { ...params, reduction: 'none' }));
      expect(theirs, `${text}\n${code}`).toEqual(ours);
      expect(ours.every(Number.isFinite), text).toBe(true);
    }
  });

  it('prints only the imports it needs', () => {
    const plain = factorCode(compileFactor('exp(x)').tree, { exportName: 'e', lossName: 'e', params: {} });
    expect(plain).not.toContain('@gradkit/autograd');
    expect(plain).toContain('factor: ({ x }) => x.exp(),');
    const withParams = factorCode(compileFactor('gamma * 2').tree, {
      exportName: 'g',
      lossName: "it's",
      params: { gamma: 1.5 },
    });
    expect(withParams).toContain('factor: (_q, { gamma }) => gamma.mul(2),');
    expect(withParams).toContain("name: 'it\\'s',");
    expect(withParams).toContain('params: { gamma: 1.5 },');
  });
});
