/**
 * A script inside the monorepo that imports gradkit the way the README says: run as `npx tsx inside.ts` (no
 * build, no --conditions=source), @gradkit/* resolve to their TypeScript sources through the root
 * tsconfig.json's `paths`. Prints a result and the stack of a typed error, whose frames show where the
 * package code was loaded from.
 */
import { fromArray, grad, tensor } from '@gradkit/autograd';

const t = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
const [g] = grad(t.pow(2).sum(), [t]);
console.log(JSON.stringify(Array.from(g!.toArray())));
try {
  fromArray([1, 2], [3]);
} catch (e) {
  console.log((e as Error).stack);
}
