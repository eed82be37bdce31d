/**
 * Method forms of the in-place updates (`p.sub_(g, lr)`, `m.mul_(0.9).add_(g, 0.1)`, `buf.zero_()`),
 * attached to the Tensor prototype; see `inplace.ts`.
 */
import * as ip from './inplace.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** this ← src (broadcast, converted to this dtype); returns this */ copy_(src: ip.InPlaceArg): Tensor;
    /** this ← this + alpha · other; returns this */ add_(other: ip.InPlaceArg, alpha?: number): Tensor;
    /** this ← this − alpha · other; returns this */ sub_(other: ip.InPlaceArg, alpha?: number): Tensor;
    /** this ← this · other; returns this */ mul_(other: ip.InPlaceArg): Tensor;
    /** this ← this / other; returns this */ div_(other: ip.InPlaceArg): Tensor;
    /** this ← value everywhere; returns this */ fill_(value: number): Tensor;
    /** this ← 0; returns this */ zero_(): Tensor;
    /** this ← clamp(this, min, max); returns this */ clamp_(
      min?: ip.InPlaceArg,
      max?: ip.InPlaceArg,
    ): Tensor;
    /** this ← this + value · t1 · t2; returns this */ addcmul_(
      t1: ip.InPlaceArg,
      t2: ip.InPlaceArg,
      value?: number,
    ): Tensor;
    /** this ← this + value · t1 / t2; returns this */ addcdiv_(
      t1: ip.InPlaceArg,
      t2: ip.InPlaceArg,
      value?: number,
    ): Tensor;
    /** this ← this + weight · (end − this); returns this */ lerp_(
      end: ip.InPlaceArg,
      weight: ip.InPlaceArg,
    ): Tensor;
    /** this ← maximum(this, other); returns this */ maximum_(other: ip.InPlaceArg): Tensor;
  }
}

const P = Tensor.prototype;
P.copy_ = function (src) {
  return ip.copy_(this, src);
};
P.add_ = function (other, alpha) {
  return ip.add_(this, other, alpha);
};
P.sub_ = function (other, alpha) {
  return ip.sub_(this, other, alpha);
};
P.mul_ = function (other) {
  return ip.mul_(this, other);
};
P.div_ = function (other) {
  return ip.div_(this, other);
};
P.fill_ = function (value) {
  return ip.fill_(this, value);
};
P.zero_ = function () {
  return ip.zero_(this);
};
P.clamp_ = function (min, max) {
  return ip.clamp_(this, min, max);
};
P.addcmul_ = function (t1, t2, value) {
  return ip.addcmul_(this, t1, t2, value);
};
P.addcdiv_ = function (t1, t2, value) {
  return ip.addcdiv_(this, t1, t2, value);
};
P.lerp_ = function (end, weight) {
  return ip.lerp_(this, end, weight);
};
P.maximum_ = function (other) {
  return ip.maximum_(this, other);
};
