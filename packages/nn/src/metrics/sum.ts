/**
 * NumPy's pairwise summation (`np.sum` / `np.add.reduce` of a contiguous float64 array): blocks of at most
 * 128 elements are summed with eight interleaved accumulators, longer runs are split in two (the first half
 * a multiple of 8) and summed recursively. Used wherever scikit-learn sums with NumPy, so that results agree
 * with it to the last bit rather than to a tolerance.
 *
 * @param a - the values
 * @param start - first index (default 0)
 * @param n - how many values (default all from `start`)
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[start]!;
    let r1 = a[start + 1]!;
    let r2 = a[start + 2]!;
    let r3 = a[start + 3]!;
    let r4 = a[start + 4]!;
    let r5 = a[start + 5]!;
    let r6 = a[start + 6]!;
    let r7 = a[start + 7]!;
    const end = n - (n % 8);
    let i = 8;
    for (; i < end; i += 8) {
      const k = start + i;
      r0 += a[k]!;
      r1 += a[k + 1]!;
      r2 += a[k + 2]!;
      r3 += a[k + 3]!;
      r4 += a[k + 4]!;
      r5 += a[k + 5]!;
      r6 += a[k + 6]!;
      r7 += a[k + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** Sum of `a[i] * w[i]`, or of `a` when `w` is null, by {@link pairwiseSum} (NumPy's `np.average` numerator). */
export function weightedSum(a: ArrayLike<number>, w: ArrayLike<number> | null): number {
  if (w === null) return pairwiseSum(a);
  const p = new Float64Array(a.length);
  for (let i = 0; i < p.length; i++) p[i] = a[i]! * w[i]!;
  return pairwiseSum(p);
}
