/**
 * Accurate float32 elementary functions in WGSL (`gk_*` helpers), for the functions whose WGSL built-ins are
 * not accurate to float32 on every implementation (WGSL lets `exp`, `log`, `atan`, `sinh`... be off by many
 * ulps, and Mesa lavapipe is). Each one reduces its argument exactly (Cody-Waite splits of ln 2 and π/2, exact
 * power-of-two scaling through the exponent bits, Sterbenz subtractions) and evaluates a Taylor polynomial
 * on the reduced range, truncated where the next term is below 1/30 ulp; the results are within a few ulps
 * of the correctly rounded float32 value (the measured bounds are in the package README and checked by
 * test/wgsl-accuracy.test.ts). They use only float32 arithmetic, integer bit operations and `sqrt`, never a
 * built-in transcendental, and treat NaN, ±inf and ±0 explicitly by their bits.
 */

/** One WGSL helper: its source and the helpers it calls. */
export interface WgslHelper {
  readonly code: string;
  readonly uses: readonly string[];
}

/** A WGSL f32 literal of `v` rounded to float32 (finite values only). */
function lit(v: number): string {
  const f = Math.fround(v);
  const s = String(f);
  return f < 0 ? `(${s}f)` : `${s}${s.includes('.') || s.includes('e') ? '' : '.0'}f`;
}

/** `c0 + z * (c1 + z * (...))`, the Horner form of a polynomial in `z` with coefficients `cs`. */
function horner(z: string, cs: readonly number[]): string {
  let out = lit(cs[cs.length - 1]!);
  for (let i = cs.length - 2; i >= 0; i--) out = `${lit(cs[i]!)} + ${z} * (${out})`;
  return out;
}

function factorial(n: number): number {
  let r = 1;
  for (let i = 2; i <= n; i++) r *= i;
  return r;
}

/** A float32 split `hi + lo` of `v` with `bits` significant bits in `hi` (so small multiples of hi are exact). */
function split(v: number, bits: number): [string, string] {
  const b = new Uint32Array(new Float32Array([v]).buffer);
  b[0]! &= ~((1 << (24 - bits)) - 1) >>> 0;
  const hi = new Float32Array(b.buffer)[0]!;
  return [lit(hi), lit(v - hi)];
}

const [LN2_HI, LN2_LO] = split(Math.LN2, 15);
const [IVLN2_HI, IVLN2_LO] = split(Math.LOG2E, 12);
const [IVLN10_HI, IVLN10_LO] = split(Math.LOG10E, 12);
const [LOG10_2_HI, LOG10_2_LO] = split(Math.log10(2), 15);
const hiLo = (v: number): [string, string] => [lit(v), lit(v - Math.fround(v))];
const [PIO2_HI, PIO2_LO] = hiLo(Math.PI / 2);
const [PI_HI, PI_LO] = hiLo(Math.PI);
const [PIO4_HI, PIO4_LO] = hiLo(Math.PI / 4);
const [ATAN_HALF_HI, ATAN_HALF_LO] = hiLo(Math.atan(0.5));
const [ATAN_3_2_HI, ATAN_3_2_LO] = hiLo(Math.atan(1.5));

// e^r - 1 - r = r^2 (1/2! + r/3! + ... + r^6/8!), |r| <= ln2/2.
const EXPM1_TAIL = horner(
  'r',
  [2, 3, 4, 5, 6, 7, 8].map((k) => 1 / factorial(k)),
);
// sinh(a) = a + a z (1/3! + z/5! + ... + z^5/13!), z = a^2 < 1.
const SINH_TAIL = horner(
  'z',
  [3, 5, 7, 9, 11, 13].map((k) => 1 / factorial(k)),
);
// atan(t) = t + t z (-1/3 + z/5 - ... + z^9/21), z = t^2 <= (7/16)^2.
const ATAN_TAIL = horner(
  'z',
  Array.from({ length: 10 }, (_, i) => (-1) ** (i + 1) / (2 * i + 3)),
);
// asin(a) = a + a z (c1 + c2 z + ... + c11 z^10), c_n = (2n)! / (4^n (n!)^2 (2n + 1)), z = a^2 <= 1/4.
const ASIN_TAIL = horner(
  'z',
  Array.from({ length: 11 }, (_, i) => {
    const n = i + 1;
    let t = 1;
    for (let k = 1; k <= n; k++) t *= (2 * k - 1) / (2 * k);
    return t / (2 * n + 1);
  }),
);
// log(1 + f) = 2s + s R, s = f / (2 + f), R = 2z/3 + 2z^2/5 + 2z^3/7 + 2z^4/9, z = s^2 <= 0.0295.
const LOG_R = `z * (${horner(
  'z',
  [3, 5, 7, 9].map((k) => 2 / k),
)})`;

/** The accurate elementary functions, by helper name (merged into the WGSL helper table). */
/** The Maclaurin coefficients of erf(a)/a in z = a², times 2/√π, as a WGSL Horner expression. */
const ERF_SERIES = (() => {
  const c: number[] = [];
  let f = 1;
  for (let n = 0; n < 11; n++) {
    if (n > 0) f *= n;
    c.push(((n % 2 === 0 ? 1 : -1) * 2) / Math.sqrt(Math.PI) / (f * (2 * n + 1)));
  }
  return c.reduceRight((acc, v, n) => (n === c.length - 1 ? lit(v) : `${lit(v)} + z * (${acc})`), '');
})();

export const WGSL_MATH_HELPERS: Readonly<Record<string, WgslHelper>> = {
  // 2^n for an integer n in [-126, 127], from the exponent bits.
  gk_pow2: {
    code: 'fn gk_pow2(n: i32) -> f32 { return bitcast<f32>(u32(n + 127i) << 23u); }',
    uses: [],
  },
  // x negative (sign bit set, so -0 counts): for the sign of odd functions.
  gk_signbit: {
    code: 'fn gk_signbit(x: f32) -> bool { return (bitcast<u32>(x) & 0x80000000u) != 0u; }',
    uses: [],
  },
  // e^x * 2^s for an integer s in [-2, 0] (sinh and cosh use s = -1 to reach past e^x's overflow).
  // x = k ln2 + r with |r| <= ln2/2: k ln2_hi is exact, so r = (x - k ln2_hi) - k ln2_lo loses nothing.
  gk_exps: {
    code: `fn gk_exps(x: f32, s: i32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let c = clamp(x, -110.0f, 100.0f);
  let k = floor(c * ${lit(Math.LOG2E)} + 0.5f);
  let hi = c - k * ${LN2_HI};
  let lo = k * ${LN2_LO};
  let r = hi - lo;
  let e = 1.0f + (r + r * r * (${EXPM1_TAIL}));
  let n = i32(k) + s;
  let n1 = n / 2i;
  return e * gk_pow2(n1) * gk_pow2(n - n1);
}`,
    uses: ['gk_isnan', 'gk_pow2'],
  },
  gk_exp: { code: 'fn gk_exp(x: f32) -> f32 { return gk_exps(x, 0i); }', uses: ['gk_exps'] },
  // e^x - 1 = 2^k (1 + r + t) - 1, summed as ((2^k - 1) + 2^k hi) + 2^k (t - lo) so no digit of r is lost.
  gk_expm1: {
    code: `fn gk_expm1(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  if (x > 88.8f) { return gk_inf(); }
  if (x < -17.5f) { return -1.0f; }
  let k = floor(x * ${lit(Math.LOG2E)} + 0.5f);
  if (k == 0.0f) {
    let r = x;
    return r + r * r * (${EXPM1_TAIL});
  }
  if (k > 24.0f) { return gk_exps(x, 0i) - 1.0f; }
  let hi = x - k * ${LN2_HI};
  let lo = k * ${LN2_LO};
  let r = hi - lo;
  let t = r * r * (${EXPM1_TAIL});
  let p = gk_pow2(i32(k));
  return ((p - 1.0f) + p * hi) + p * (t - lo);
}`,
    uses: ['gk_isnan', 'gk_inf', 'gk_exps', 'gk_pow2'],
  },
  // log(2^k (1 + f)) for |f| <= sqrt(2) - 1: k ln2 + f - hfsq + s (hfsq + R), s = f / (2 + f).
  gk_logkf: {
    code: `fn gk_logkf(k: f32, f: f32) -> f32 {
  let s = f / (2.0f + f);
  let z = s * s;
  let hfsq = 0.5f * f * f;
  let R = ${LOG_R};
  return k * ${LN2_HI} - ((hfsq - (s * (hfsq + R) + k * ${LN2_LO})) - f);
}`,
    uses: [],
  },
  // x = 2^k m with m in [sqrt(2)/2, sqrt(2)) from the bits (subnormals renormalised through an integer
  // conversion), f = m - 1 exactly. Returns vec2(k, f); x must be finite and > 0.
  gk_logsplit: {
    code: `fn gk_logsplit(x: f32) -> vec2<f32> {
  var b = bitcast<u32>(x);
  var k = i32(b >> 23u) - 127i;
  if ((b >> 23u) == 0u) {
    b = bitcast<u32>(f32(b));
    k = i32(b >> 23u) - 127i - 149i;
  }
  let mb = b & 0x007fffffu;
  if (mb > 0x3504f3u) {
    return vec2<f32>(f32(k + 1i), bitcast<f32>(mb | 0x3f000000u) - 1.0f);
  }
  return vec2<f32>(f32(k), bitcast<f32>(mb | 0x3f800000u) - 1.0f);
}`,
    uses: [],
  },
  // NaN for x < 0 and NaN, -inf for ±0, inf for inf; NaN from its bits (no reliance on IEEE propagation).
  gk_logspecial: {
    code: `fn gk_logspecial(x: f32) -> bool {
  return gk_isnan(x) || x <= 0.0f || x == gk_inf();
}
fn gk_logspecialval(x: f32) -> f32 {
  if (x == 0.0f) { return -gk_inf(); }
  if (x == gk_inf()) { return x; }
  return gk_nan();
}`,
    uses: ['gk_isnan', 'gk_inf', 'gk_nan'],
  },
  gk_log: {
    code: `fn gk_log(x: f32) -> f32 {
  if (gk_logspecial(x)) { return gk_logspecialval(x); }
  let kf = gk_logsplit(x);
  return gk_logkf(kf.x, kf.y);
}`,
    uses: ['gk_logspecial', 'gk_logsplit', 'gk_logkf'],
  },
  // log2 and log10: the log of 1 + f split into hi (12 bits, from the bits) + lo so hi * c_hi is exact.
  gk_loghilo: {
    code: `fn gk_loghilo(f: f32) -> vec2<f32> {
  let s = f / (2.0f + f);
  let z = s * s;
  let hfsq = 0.5f * f * f;
  let R = ${LOG_R};
  let hi = bitcast<f32>(bitcast<u32>(f - hfsq) & 0xfffff000u);
  return vec2<f32>(hi, (f - hi) - hfsq + s * (hfsq + R));
}`,
    uses: [],
  },
  gk_log2: {
    code: `fn gk_log2(x: f32) -> f32 {
  if (gk_logspecial(x)) { return gk_logspecialval(x); }
  let kf = gk_logsplit(x);
  let hl = gk_loghilo(kf.y);
  let hi = hl.x;
  let lo = hl.y;
  return ((lo + hi) * ${IVLN2_LO} + lo * ${IVLN2_HI}) + hi * ${IVLN2_HI} + kf.x;
}`,
    uses: ['gk_logspecial', 'gk_logsplit', 'gk_loghilo'],
  },
  gk_log10: {
    code: `fn gk_log10(x: f32) -> f32 {
  if (gk_logspecial(x)) { return gk_logspecialval(x); }
  let kf = gk_logsplit(x);
  let hl = gk_loghilo(kf.y);
  let hi = hl.x;
  let lo = hl.y;
  return kf.x * ${LOG10_2_LO} + ((lo + hi) * ${IVLN10_LO} + lo * ${IVLN10_HI}) + hi * ${IVLN10_HI} + kf.x * ${LOG10_2_HI};
}`,
    uses: ['gk_logspecial', 'gk_logsplit', 'gk_loghilo'],
  },
  // log(1 + x): 1 + x = 2^k (1 + f) with f = x 2^-k + (2^-k - 1), which does not suffer the rounding of 1 + x.
  gk_log1p: {
    code: `fn gk_log1p(x: f32) -> f32 {
  if (gk_isnan(x) || x < -1.0f) { return gk_nan(); }
  if (x == -1.0f) { return -gk_inf(); }
  if (x >= 16777216.0f) { return gk_log(x); }
  let u = 1.0f + x;
  let b = bitcast<u32>(u);
  var k = i32(b >> 23u) - 127i;
  if ((b & 0x007fffffu) > 0x3504f3u) { k = k + 1i; }
  if (k == 0i) { return gk_logkf(0.0f, x); }
  let p = gk_pow2(-k);
  return gk_logkf(f32(k), x * p + (p - 1.0f));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_inf', 'gk_log', 'gk_pow2', 'gk_logkf'],
  },
  gk_sinh: {
    code: `fn gk_sinh(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 1.0f) {
    let z = a * a;
    r = a + a * z * (${SINH_TAIL});
  } else if (a < 88.0f) {
    let e = gk_exps(a, -1i);
    r = e - 0.25f / e;
  } else {
    r = gk_exps(a, -1i);
  }
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_exps', 'gk_signbit'],
  },
  gk_cosh: {
    code: `fn gk_cosh(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  let e = gk_exps(a, -1i);
  if (a < 88.0f) { return e + 0.25f / e; }
  return e;
}`,
    uses: ['gk_isnan', 'gk_exps'],
  },
  // erf: the Maclaurin series below |x| = 0.75; above, 1 − e^(−x²)/(√π·F) with erfc's continued fraction F
  // evaluated from its 80th term back (enough for float32 from |x| = 0.75); ±1 from |x| = 4 (erfc(4) is
  // below half an ulp of 1).
  gk_erf: {
    code: `fn gk_erf(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 0.75f) {
    // 2/√π Σ (−1)^n a^(2n+1) / (n! (2n+1)) in Horner form (the coefficients below include 2/√π).
    let z = a * a;
    r = a * (${ERF_SERIES});
  } else if (a < 4.0f) {
    var t = a;
    for (var k = 80; k >= 1; k--) {
      t = a + (f32(k) * 0.5f) / t;
    }
    r = 1.0f - gk_exp(-(a * a)) / (${lit(Math.sqrt(Math.PI))} * t);
  } else {
    r = 1.0f;
  }
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_exp', 'gk_signbit'],
  },
  // tanh(x) = expm1(2|x|) / (expm1(2|x|) + 2), signed; |x| is clamped at 20 where tanh rounds to 1.
  gk_tanh: {
    code: `fn gk_tanh(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let e = gk_expm1(2.0f * min(abs(x), 20.0f));
  let t = e / (e + 2.0f);
  return select(t, -t, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_expm1', 'gk_signbit'],
  },
  gk_asinh: {
    code: `fn gk_asinh(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 0.000244140625f) {
    r = a;
  } else if (a > 4096.0f) {
    r = gk_log(a) + ${lit(Math.LN2)};
  } else if (a > 2.0f) {
    r = gk_log(2.0f * a + 1.0f / (sqrt(a * a + 1.0f) + a));
  } else {
    let z = a * a;
    r = gk_log1p(a + z / (1.0f + sqrt(1.0f + z)));
  }
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_log', 'gk_log1p', 'gk_signbit'],
  },
  gk_acosh: {
    code: `fn gk_acosh(x: f32) -> f32 {
  if (gk_isnan(x) || x < 1.0f) { return gk_nan(); }
  if (x > 4096.0f) { return gk_log(x) + ${lit(Math.LN2)}; }
  if (x > 2.0f) { return gk_log(2.0f * x - 1.0f / (x + sqrt(x * x - 1.0f))); }
  let t = x - 1.0f;
  return gk_log1p(t + sqrt(2.0f * t + t * t));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_log', 'gk_log1p'],
  },
  gk_atanh: {
    code: `fn gk_atanh(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  if (a > 1.0f) { return gk_nan(); }
  var r: f32;
  if (a == 1.0f) {
    r = gk_inf();
  } else if (a < 0.000244140625f) {
    r = a;
  } else if (a < 0.5f) {
    let t = a + a;
    r = 0.5f * gk_log1p(t + t * a / (1.0f - a));
  } else {
    r = 0.5f * gk_log1p((a + a) / (1.0f - a));
  }
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_inf', 'gk_log1p', 'gk_signbit'],
  },
  // atan of |x| for finite or infinite |x| (not NaN): reduced to |t| <= 7/16 around 0, 1/2, 1, 3/2 or inf.
  gk_atanpos: {
    code: `fn gk_atanpos(a: f32) -> f32 {
  var t: f32;
  var hi = 0.0f;
  var lo = 0.0f;
  if (a > 2.4375f) {
    t = -1.0f / a;
    hi = ${PIO2_HI};
    lo = ${PIO2_LO};
  } else if (a > 1.1875f) {
    t = (a - 1.5f) / (1.0f + 1.5f * a);
    hi = ${ATAN_3_2_HI};
    lo = ${ATAN_3_2_LO};
  } else if (a > 0.6875f) {
    t = (a - 1.0f) / (a + 1.0f);
    hi = ${PIO4_HI};
    lo = ${PIO4_LO};
  } else if (a > 0.4375f) {
    t = (2.0f * a - 1.0f) / (2.0f + a);
    hi = ${ATAN_HALF_HI};
    lo = ${ATAN_HALF_LO};
  } else {
    t = a;
  }
  let z = t * t;
  return hi + ((t + t * z * (${ATAN_TAIL})) + lo);
}`,
    uses: [],
  },
  gk_atan: {
    code: `fn gk_atan(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let r = gk_atanpos(abs(x));
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_atanpos', 'gk_signbit'],
  },
  // Math.atan2, including the signed zeros and infinities (atan2(0, 0) is implementation-defined in WGSL).
  gk_atan2: {
    code: `fn gk_atan2(y: f32, x: f32) -> f32 {
  if (gk_isnan(x) || gk_isnan(y)) { return gk_nan(); }
  let ay = abs(y);
  let ax = abs(x);
  let west = gk_signbit(x);
  var r: f32;
  if (ay == 0.0f) {
    r = select(0.0f, ${PI_HI}, west);
  } else if (ax == 0.0f) {
    r = ${PIO2_HI};
  } else if (ay == gk_inf() && ax == gk_inf()) {
    r = select(${lit(Math.PI / 4)}, ${lit((3 * Math.PI) / 4)}, west);
  } else {
    if (ay > ax) {
      r = ${PIO2_HI} - (gk_atanpos(ax / ay) - ${PIO2_LO});
    } else {
      r = gk_atanpos(ay / ax);
    }
    if (west) { r = ${PI_HI} - (r - ${PI_LO}); }
  }
  return select(r, -r, gk_signbit(y));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_inf', 'gk_atanpos', 'gk_signbit'],
  },
  // asin(s) - s for 0 <= s <= 1/2.
  gk_asintail: {
    code: `fn gk_asintail(s: f32) -> f32 {
  let z = s * s;
  return s * z * (${ASIN_TAIL});
}`,
    uses: [],
  },
  // asin: the series for |x| <= 1/2, else pi/2 - 2 asin(sqrt((1 - |x|) / 2)) (1 - |x| is exact there).
  gk_asin: {
    code: `fn gk_asin(x: f32) -> f32 {
  if (gk_isnan(x)) { return x; }
  let a = abs(x);
  if (a > 1.0f) { return gk_nan(); }
  var r: f32;
  if (a <= 0.5f) {
    r = a + gk_asintail(a);
  } else {
    let s = sqrt((1.0f - a) * 0.5f);
    r = ${PIO2_HI} - (2.0f * (s + gk_asintail(s)) - ${PIO2_LO});
  }
  return select(r, -r, gk_signbit(x));
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_asintail', 'gk_signbit'],
  },
  gk_acos: {
    code: `fn gk_acos(x: f32) -> f32 {
  if (gk_isnan(x) || abs(x) > 1.0f) { return gk_nan(); }
  if (abs(x) <= 0.5f) { return ${PIO2_HI} - (x - (${PIO2_LO} - gk_asintail(x))); }
  if (x > 0.0f) {
    let s = sqrt((1.0f - x) * 0.5f);
    return 2.0f * (s + gk_asintail(s));
  }
  let s = sqrt((1.0f + x) * 0.5f);
  return ${PI_HI} - (2.0f * (s + gk_asintail(s)) - ${PI_LO});
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_asintail'],
  },
  // cbrt: a float32 estimate from the exponent and log2/exp2, then two Newton steps; huge and tiny inputs
  // are scaled by 2^(±90) first so the cube never overflows or underflows.
  gk_cbrt: {
    code: `fn gk_cbrt(x: f32) -> f32 {
  if (x == 0.0f || gk_isnan(x) || abs(x) == gk_inf()) { return x; }
  var a = abs(x);
  var scale = 1.0f;
  if (a > 1e30f) {
    a = a * ${lit(2 ** -90)};
    scale = ${lit(2 ** 30)};
  } else if (a < 1e-30f) {
    a = a * ${lit(2 ** 90)};
    scale = ${lit(2 ** -30)};
  }
  var r = exp2(log2(a) * 0.333333343f);
  r = r - (r * r * r - a) / (3.0f * r * r);
  r = r - (r - a / (r * r)) * 0.333333343f;
  r = r * scale;
  return select(r, -r, x < 0.0f);
}`,
    uses: ['gk_isnan', 'gk_inf'],
  },
  // sqrt(a^2 + b^2) scaled by the larger magnitude (no overflow or underflow); inf wins over NaN.
  gk_hypot: {
    code: `fn gk_hypot(a: f32, b: f32) -> f32 {
  let x = abs(a);
  let y = abs(b);
  if (x == gk_inf() || y == gk_inf()) { return gk_inf(); }
  if (gk_isnan(x) || gk_isnan(y)) { return gk_nan(); }
  let m = max(x, y);
  if (m == 0.0f) { return 0.0f; }
  let p = x / m;
  let q = y / m;
  return m * sqrt(p * p + q * q);
}`,
    uses: ['gk_isnan', 'gk_nan', 'gk_inf'],
  },
};
