// A script for @gradkit/testing's measureHeapGrowth, run by main.mjs in a child Node process.
import { fromArray } from '@gradkit/autograd';

export function run() {
  let total = 0;
  for (let i = 0; i < 100; i++) total += fromArray([i, 1, 2], [3]).sum().item();
  return { total };
}
