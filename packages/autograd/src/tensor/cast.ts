import { allocate, checkDtype, type DType } from './dtype.js';
import { record1, type Tensor } from './tensor.js';

/**
 * The same values in another dtype (float64 → float32 rounds to nearest). Returns `x` itself when the dtype
 * already matches. Backward casts the gradient back to the input's dtype, so gradients always have the dtype
 * of the tensor they belong to (as in PyTorch).
 */
export function toDtype(x: Tensor, dtype: DType): Tensor {
  checkDtype('toDtype', dtype);
  if (x.dtype === dtype) return x;
  const data = allocate(dtype, x.size);
  data.set(x.data);
  const from = x.dtype;
  return record1('toDtype', [x], data, x.shape, (g) => [toDtype(g, from)]);
}
