// Type-checked by the consumer test against the published .d.ts files (tsc --noEmit, strict, skipLibCheck
// off, moduleResolution bundler and node16). Never run. Each @ts-expect-error proves a type is precise: were
// an import `any`, the directive would be unused and tsc would fail.
import { type DType, fromArray, grad, noGrad, type Tensor, tensor, value } from '@gradkit/autograd';
import { GPU, type KernelThis, ShapeError } from '@gradkit/kernels';
import { bceWithLogits, defineModulatedLoss, type ModulatedLoss } from '@gradkit/losses';
import { Adam, Linear, type Module, metrics, ReLU, Sequential } from '@gradkit/nn';
import { type GradcheckReport, gradcheckTensor } from '@gradkit/testing';

const dtype: DType = 'float64';
const x: Tensor = tensor(
  [
    [1, 2],
    [3, 4],
  ],
  { dtype, requiresGrad: true },
);
const [g] = grad(x.pow(3).sum(), [x], { createGraph: true });
const h: Tensor | null | undefined = g;
const s: number | undefined = value(2).mul(3).data;

const floored: ModulatedLoss<{ gamma: number }> = defineModulatedLoss({
  name: 'floored',
  factor: ({ pt }, { gamma }) => pt.neg().add(1).pow(gamma).add(0.1),
  params: { gamma: 2 },
});
const model: Module = new Sequential(new Linear(2, 4), new ReLU(), new Linear(4, 1));
const opt = new Adam(model.parameters(), { lr: 0.01 });
const y = fromArray([1, 0], [2]);
const loss: Tensor = floored(model.forward(x).reshape(-1), y, { reduction: 'mean' });
loss.backward();
opt.step();
const plain: Tensor = bceWithLogits(
  noGrad(() => x.sum(1)),
  y,
);
const auc: number = metrics.rocAucScore([0, 1], [0.2, 0.9]);
const report: GradcheckReport = gradcheckTensor((t) => t.tanh().sum(), [x]);

const gpu = new GPU({ mode: 'cpu' });
const kernel = gpu.createKernel(
  function (this: KernelThis, a: number[]) {
    return a[this.thread.x]! * 2;
  },
  { output: [3] },
);
const err: Error = new ShapeError('check', 'a shape error');

// @ts-expect-error: a shape is a list of numbers
fromArray([1, 2], 'two');
// @ts-expect-error: dtypes are a closed set
const wrong: DType = 'float16';
// @ts-expect-error: losses take Tensors
bceWithLogits(1, 0);
// @ts-expect-error: Adam has no option `momentum`
new Adam(model.parameters(), { momentum: 0.9 });

export { auc, err, h, kernel, loss, plain, report, s, wrong };
