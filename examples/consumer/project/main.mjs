// Plain Node ESM (no tsx, no --conditions): prints the workload's summary as one JSON line, with what
// @gradkit/testing's measureHeapGrowth reports for heap-script.mjs (Node only: it starts a child process).
import { measureHeapGrowth } from '@gradkit/testing';
import { run } from './workload.mjs';

const heap = await measureHeapGrowth('heap-script.mjs');
console.log(
  JSON.stringify({ ...(await run()), heap: { details: heap.details, growth: typeof heap.growth } }),
);
