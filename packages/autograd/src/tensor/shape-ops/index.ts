/**
 * Shape ops: transpose/permute, flatten, squeeze/unsqueeze, slice and multi-axis indexing, indexSelect and
 * gather with their adjoints indexAdd and scatterAdd, concat/stack, split/chunk. Each backward is written
 * with these same ops, so every order of derivative works.
 */
export { concat, stack } from './concat.js';
export { flatten } from './flatten.js';
export { gather, scatterAdd } from './gather.js';
export type { IndexLike } from './index-arg.js';
export { indexAdd, indexSelect } from './index-select.js';
export { permute, t, transpose } from './permute.js';
export { repeat, tile } from './repeat.js';
export { type IndexSpec, index, type SliceSpec, slice } from './slice.js';
export { chunk, split } from './split.js';
export { squeeze, unsqueeze } from './squeeze.js';
