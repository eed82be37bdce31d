// What a user of the published packages runs, in Node (main.mjs) and in the browser (page.js): plain
// JavaScript, importing every package by its name only. Returns a JSON-able summary for the test to check.
import * as autograd from '@gradkit/autograd';
import * as kernels from '@gradkit/kernels';
import * as losses from '@gradkit/losses';
import * as nn from '@gradkit/nn';
import * as testing from '@gradkit/testing';

const { Generator, fromArray, noGrad, randn } = autograd;
const { defineModulatedLoss } = losses;
const { Adam, Linear, ReLU, Sequential } = nn;

/** A custom modulating factor: focal's (1 − pt)^gamma with a floor, so easy examples keep some weight. */
export const flooredFocal = defineModulatedLoss({
  name: 'floored-focal',
  factor: ({ pt }, { gamma, floor }) => pt.neg().add(1).pow(gamma).add(floor),
  params: { gamma: 2, floor: 0.1 },
});

/** Trains a 2-16-1 MLP with Adam on the floored focal loss; XOR-like data (label: x0·x1 > 0). */
function train() {
  const gen = new Generator(3);
  const x = randn([64, 2], { generator: gen });
  const p = x.toArray();
  const y = fromArray(
    Array.from({ length: 64 }, (_, i) => (p[2 * i] * p[2 * i + 1] > 0 ? 1 : 0)),
    [64],
  );
  autograd.manualSeed(5);
  const model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 1));
  const opt = new Adam(model.parameters(), { lr: 0.05 });
  const losses = [];
  for (let step = 0; step < 150; step++) {
    opt.zeroGrad();
    const loss = flooredFocal(model.forward(x).reshape(-1), y, { reduction: 'mean' });
    losses.push(loss.item());
    loss.backward();
    opt.step();
  }
  const z = noGrad(() => model.forward(x).reshape(-1)).toArray();
  const labels = y.toArray();
  let correct = 0;
  for (let i = 0; i < z.length; i++) if (z[i] > 0 === (labels[i] === 1)) correct++;
  return { first: losses[0], last: losses.at(-1), accuracy: correct / z.length };
}

/** gradcheck (@gradkit/testing) of the custom loss with respect to float64 logits. */
function check() {
  const logits = fromArray([-2, -0.5, 0.3, 1.7], [4], { dtype: 'float64', requiresGrad: true });
  const targets = fromArray([0, 1, 1, 0], [4], { dtype: 'float64' });
  const report = testing.gradcheckTensor((u) => flooredFocal(u, targets, { reduction: 'sum' }), [logits]);
  return report.ok;
}

/** A GPU.js-style kernel on the cpu backend: out[x] = a[x]·b[x] + 1. */
async function kernel() {
  const gpu = new kernels.GPU({ mode: 'cpu' });
  const k = gpu.createKernel(
    function (a, b) {
      return a[this.thread.x] * b[this.thread.x] + 1;
    },
    { output: [4] },
  );
  return Array.from(await k.run([1, 2, 3, 4], [5, 6, 7, 8]));
}

/** Runs everything; `packages` names the exports each package has, to prove every one loaded. */
export async function run() {
  return {
    packages: {
      kernels: typeof kernels.compile,
      autograd: typeof autograd.tensor,
      losses: typeof losses.bceWithLogits,
      nn: typeof nn.Module,
      testing: typeof testing.gradcheck,
    },
    training: train(),
    gradcheck: check(),
    kernel: await kernel(),
  };
}
