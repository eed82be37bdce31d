/**
 * Fits the polynomial coefficients of the vectorised float32 elementary functions (src/wasm/math32-elementary.ts)
 * and prints them. Run: `npx tsx packages/kernels/scripts/fit-math32.ts`.
 *
 * Method: a weighted discrete minimax fit by Lawson's algorithm (iteratively reweighted least squares: each
 * round solves a weighted least-squares problem by Householder QR, then multiplies every point's weight by
 * its error, which drives the solution to the minimax one) on 1000 Chebyshev-distributed points, in float64.
 * The coefficients are then rounded to float32 one at a time, lowest power first, re-fitting the remaining
 * ones after each rounding so that they absorb its error. The printed error is the largest weighted error of
 * the float32 coefficients, evaluated in float64 over 20000 points (the float32 evaluation adds its own
 * rounding, measured by test/wasm-math32.test.ts).
 */

type Fn = (x: number) => number;

interface Problem {
  name: string;
  /** The function the polynomial stands for. */
  target: Fn;
  /** The powers of x in the polynomial (its basis). */
  powers: number[];
  lo: number;
  hi: number;
  /** The error weight: the error that matters is weight(x) · (poly(x) − target(x)). */
  weight: Fn;
}

/** Least squares min ‖A c − y‖ by Householder QR (A: rows × cols, rows ≥ cols). */
function leastSquares(a: number[][], y: number[]): number[] {
  const m = a.length;
  const n = a[0]!.length;
  const r = a.map((row) => row.slice());
  const b = y.slice();
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += r[i]![j]! ** 2;
    norm = Math.sqrt(norm);
    const alpha = r[j]![j]! > 0 ? -norm : norm;
    const v = new Array<number>(m).fill(0);
    for (let i = j; i < m; i++) v[i] = r[i]![j]!;
    v[j]! -= alpha;
    let vv = 0;
    for (let i = j; i < m; i++) vv += v[i]! ** 2;
    if (vv === 0) continue;
    for (let k = j; k < n; k++) {
      let d = 0;
      for (let i = j; i < m; i++) d += v[i]! * r[i]![k]!;
      const f = (2 * d) / vv;
      for (let i = j; i < m; i++) r[i]![k]! -= f * v[i]!;
    }
    let d = 0;
    for (let i = j; i < m; i++) d += v[i]! * b[i]!;
    const f = (2 * d) / vv;
    for (let i = j; i < m; i++) b[i]! -= f * v[i]!;
  }
  const c = new Array<number>(n).fill(0);
  for (let j = n - 1; j >= 0; j--) {
    let s = b[j]!;
    for (let k = j + 1; k < n; k++) s -= r[j]![k]! * c[k]!;
    c[j] = s / r[j]![j]!;
  }
  return c;
}

function chebPoints(lo: number, hi: number, n: number): number[] {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push((lo + hi) / 2 + ((hi - lo) / 2) * Math.cos((Math.PI * (i + 0.5)) / n));
  return xs;
}

/** Lawson's weighted minimax fit of target − Σ fixed over the free powers. */
function lawson(p: Problem, fixed: number[]): number[] {
  const xs = chebPoints(p.lo, p.hi, 1000);
  const free = p.powers.slice(fixed.length);
  const resid = (x: number) => p.target(x) - fixed.reduce((s, c, i) => s + c * x ** p.powers[i]!, 0);
  let lw = xs.map(() => 1 / xs.length);
  let c: number[] = [];
  for (let it = 0; it < 200; it++) {
    const rows = xs.map((x, i) => free.map((e) => Math.sqrt(lw[i]!) * p.weight(x) * x ** e));
    const ys = xs.map((x, i) => Math.sqrt(lw[i]!) * p.weight(x) * resid(x));
    c = leastSquares(rows, ys);
    const err = xs.map((x) =>
      Math.abs(p.weight(x) * (c.reduce((s, cc, i) => s + cc * x ** free[i]!, 0) - resid(x))),
    );
    const next = lw.map((w, i) => w * err[i]!);
    const total = next.reduce((s, w) => s + w, 0);
    if (!(total > 0)) break;
    lw = next.map((w) => w / total);
  }
  return c;
}

function fit(p: Problem): { coeffs: number[]; maxErr: number } {
  const fixed: number[] = [];
  for (let i = 0; i < p.powers.length; i++) fixed.push(Math.fround(lawson(p, fixed)[0]!));
  let maxErr = 0;
  const n = 20000;
  for (let i = 0; i <= n; i++) {
    const x = p.lo + ((p.hi - p.lo) * i) / n;
    const v = fixed.reduce((s, c, j) => s + c * x ** p.powers[j]!, 0);
    maxErr = Math.max(maxErr, Math.abs(p.weight(x) * (v - p.target(x))));
  }
  return { coeffs: fixed, maxErr };
}

/** 2 atanh(s) − 2s, divided by s, as a series in z = s² (converges fast for z ≤ 1/9). */
function atanhTail(z: number): number {
  let s = 0;
  for (let n = 60; n >= 1; n--) s = s * z + 2 / (2 * n + 1);
  return s * z;
}

const LN2_HALF = Math.LN2 / 2;
const SQRT_HALF_S = (Math.SQRT1_2 - 1) / (Math.SQRT1_2 + 1); // s = f / (2 + f) at f = √½ − 1
const problems: Problem[] = [
  {
    // e^r − 1 − r ≈ c2 r² + … + c6 r^6 on |r| ≤ ln2/2 (a little wider: k is rounded from a float32 product);
    // the error that matters is relative to e^r.
    name: 'exp: e^r − 1 − r',
    target: (r) => Math.expm1(r) - r,
    powers: [2, 3, 4, 5, 6],
    lo: -LN2_HALF * 1.002,
    hi: LN2_HALF * 1.002,
    weight: (r) => Math.exp(-r),
  },
  {
    // log(1 + f) = 2s + s R(z) with s = f/(2 + f), z = s², f ∈ [√½ − 1, √2 − 1]: R(z) ≈ c1 z + c2 z² + c3 z³.
    // s R is under 1% of the result, so R needs only about 2^-19 relative accuracy; weight: absolute.
    name: 'log: R(z), z ≤ 0.0295',
    target: atanhTail,
    powers: [1, 2, 3],
    lo: 0,
    hi: SQRT_HALF_S ** 2 * 1.0001,
    weight: () => 1,
  },
  {
    // The same for log(1 + e) with e ∈ [0, 1] (softplus, logSigmoid): s ≤ 1/3, z ≤ 1/9.
    name: 'log1p on [0, 1]: R(z), z ≤ 1/9',
    target: atanhTail,
    powers: [1, 2, 3, 4],
    lo: 0,
    hi: (1 / 9) * 1.0001,
    weight: () => 1,
  },
  {
    // tanh x = x + x³ P(x²) for |x| ≤ 0.625: fit tanh x − x with the odd powers from 3, relative to tanh x.
    name: 'tanh: tanh x − x on |x| ≤ 0.625',
    target: (x) => Math.tanh(x) - x,
    powers: [3, 5, 7, 9, 11],
    lo: 1e-3,
    hi: 0.626,
    weight: (x) => 1 / Math.tanh(x),
  },
];

for (const p of problems) {
  const { coeffs, maxErr } = fit(p);
  console.log(`${p.name}\n  powers ${p.powers.join(', ')}\n  coefficients [${coeffs.join(', ')}]`);
  console.log(`  max weighted error ${maxErr.toExponential(3)} (2^${Math.log2(maxErr).toFixed(1)})`);
}
