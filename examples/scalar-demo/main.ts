/**
 * The scalar engine end to end, micrograd style: a small MLP of `Value`s (2-16-16-1, tanh) trained with SGD
 * on a seeded two-moons toy set, then the symbolic side of the same engine: f(x) built from `symbol('x')`,
 * derived three times and compiled.
 *
 * Run with `pnpm demo:scalar` from the repository root.
 */
import { pathToFileURL } from 'node:url';
import { compile, derive, evaluate, symbol, type Value, value } from '@gradkit/autograd';

/** A seeded uniform generator on [0, 1) (mulberry32), so every run sees the same data and weights. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One labelled point of the toy set: coordinates and a label in {-1, +1}. */
export interface Point {
  readonly x: number;
  readonly y: number;
  readonly label: -1 | 1;
}

/**
 * Two interleaving half circles with Gaussian noise (the classic "two moons"), centred and scaled to about
 * [-1, 1]. Half the points are in each class.
 */
export function makeMoons(n: number, noise: number, seed: number): Point[] {
  const rand = uniform(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const points: Point[] = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const t = Math.PI * rand();
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    points.push({
      x: (x - 0.5) / 1.2 + noise * gauss(),
      y: (y - 0.25) / 1.2 + noise * gauss(),
      label: upper ? 1 : -1,
    });
  }
  return points;
}

/** A fully connected layer of scalar Values: out_j = act(b_j + sum_i w_ji in_i). */
class Layer {
  readonly weights: Value[][];
  readonly biases: Value[];

  constructor(
    inputs: number,
    outputs: number,
    readonly activation: 'tanh' | 'linear',
    rand: () => number,
  ) {
    const scale = 1 / Math.sqrt(inputs);
    this.weights = Array.from({ length: outputs }, () =>
      Array.from({ length: inputs }, () => value((2 * rand() - 1) * scale)),
    );
    this.biases = Array.from({ length: outputs }, () => value(0));
  }

  forward(xs: readonly (Value | number)[]): Value[] {
    return this.weights.map((row, j) => {
      let sum = this.biases[j]!;
      row.forEach((w, i) => {
        sum = sum.add(w.mul(xs[i]!));
      });
      return this.activation === 'tanh' ? sum.tanh() : sum;
    });
  }

  parameters(): Value[] {
    return [...this.weights.flat(), ...this.biases];
  }
}

/** A multi-layer perceptron: tanh hidden layers, a linear output. */
export class MLP {
  readonly layers: Layer[];

  /** @param sizes - layer widths, input first (e.g. [2, 16, 16, 1]); @param seed - initialisation seed */
  constructor(sizes: readonly number[], seed: number) {
    const rand = uniform(seed);
    this.layers = sizes
      .slice(1)
      .map((n, i) => new Layer(sizes[i]!, n, i === sizes.length - 2 ? 'linear' : 'tanh', rand));
  }

  /** The output score for one input. */
  forward(xs: readonly (Value | number)[]): Value {
    let h: readonly (Value | number)[] = xs;
    for (const layer of this.layers) h = layer.forward(h);
    return h[0] as Value;
  }

  parameters(): Value[] {
    return this.layers.flatMap((l) => l.parameters());
  }
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Layer widths (default [2, 16, 16, 1]). */
  sizes?: readonly number[];
  /** Number of points (default 60). */
  points?: number;
  /** Full-batch SGD steps (default 40). */
  epochs?: number;
  /** Initial learning rate, decayed linearly to 10% of it (default 2). */
  learningRate?: number;
  /** L2 penalty on the parameters (default 1e-4). */
  l2?: number;
  /** Seed of the data and the weights (default 7). */
  seed?: number;
  /** Called after each step. */
  onEpoch?: (epoch: number, loss: number, accuracy: number) => void;
}

/** What {@link train} returns: the loss and accuracy after each step, and the trained model. */
export interface TrainResult {
  readonly losses: number[];
  readonly accuracies: number[];
  readonly model: MLP;
  readonly data: Point[];
}

/**
 * Trains an MLP on the two-moons set by full-batch SGD on the mean logistic loss
 * softplus(-label · score) (stable for any score) plus an L2 penalty.
 */
export function train(options: TrainOptions = {}): TrainResult {
  const sizes = options.sizes ?? [2, 16, 16, 1];
  const epochs = options.epochs ?? 40;
  const lr0 = options.learningRate ?? 2;
  const l2 = options.l2 ?? 1e-4;
  const seed = options.seed ?? 7;
  const data = makeMoons(options.points ?? 60, 0.1, seed);
  const model = new MLP(sizes, seed + 1);
  const params = model.parameters();
  const losses: number[] = [];
  const accuracies: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let total: Value = value(0);
    let correct = 0;
    for (const p of data) {
      const score = model.forward([p.x, p.y]);
      total = total.add(score.mul(-p.label).softplus());
      if (Math.sign(score.item()) === p.label) correct++;
    }
    let penalty: Value = value(0);
    for (const w of params) penalty = penalty.add(w.mul(w));
    const loss = total.div(data.length).add(penalty.mul(l2));
    for (const w of params) w.grad = 0;
    loss.backward();
    const lr = lr0 * (1 - (0.9 * epoch) / epochs);
    for (const w of params) w.data = w.item() - lr * w.grad;
    losses.push(loss.item());
    accuracies.push(correct / data.length);
    options.onEpoch?.(epoch, loss.item(), correct / data.length);
  }
  return { losses, accuracies, model, data };
}

/**
 * The symbolic part: f(x) = x^3 · tanh(x) + softplus(2x), its first three derivatives, the third compiled
 * and evaluated at `at`, next to a central finite difference of the second as a cross-check.
 */
export function symbolicDemo(at = 0.5): {
  f: string;
  derivatives: string[];
  third: number;
  thirdByFD: number;
} {
  const x = symbol('x');
  const f = x.pow(3).mul(x.tanh()).add(x.mul(2).softplus());
  const d1 = derive(f.expr, x.expr);
  const d2 = derive(d1, x.expr);
  const d3 = derive(d2, x.expr);
  const third = compile(d3)({ x: at });
  const h = 1e-5;
  const thirdByFD = (evaluate(d2, { x: at + h }) - evaluate(d2, { x: at - h })) / (2 * h);
  return { f: f.expr.toString(), derivatives: [d1, d2, d3].map((d) => d.toString()), third, thirdByFD };
}

function main(): void {
  const start = performance.now();
  const epochs = 40;
  console.log('Training a 2-16-16-1 tanh MLP of scalar Values on 60 two-moons points (full-batch SGD)');
  const result = train({
    epochs,
    onEpoch: (epoch, loss, accuracy) => {
      if (epoch % 5 === 0 || epoch === epochs - 1) {
        console.log(
          `  epoch ${String(epoch).padStart(2)}  loss ${loss.toFixed(4)}  accuracy ${(accuracy * 100).toFixed(0)}%`,
        );
      }
    },
  });
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `  trained in ${seconds.toFixed(1)} s; final accuracy ${(result.accuracies.at(-1)! * 100).toFixed(0)}%`,
  );

  console.log('\nSymbolic: f(x) = x^3 tanh(x) + softplus(2x)');
  const s = symbolicDemo(0.5);
  console.log(`  f    = ${s.f}`);
  s.derivatives.forEach((d, i) => {
    const shown = d.length > 300 ? `${d.slice(0, 300)}... (${d.length} characters)` : d;
    console.log(`  f${"'".repeat(i + 1).padEnd(3)} = ${shown}`);
  });
  console.log(`  compiled f'''(0.5) = ${s.third}   (central difference of f'': ${s.thirdByFD})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
