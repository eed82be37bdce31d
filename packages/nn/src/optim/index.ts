export { Adam, type AdamHyper, AdamW } from './adam.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export { clipGradNormTensor } from './device-clip.js';
export { CosineAnnealingLR, LinearLR, LRScheduler, StepLR } from './lr-scheduler.js';
export { OneCycleLR, type OneCycleOptions } from './one-cycle-lr.js';
export {
  type BaseHyper,
  type HyperCheck,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type Params,
} from './optimizer.js';
export { type PlateauOptions, ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
export { RMSprop, type RMSpropHyper } from './rmsprop.js';
export { SGD, type SGDHyper } from './sgd.js';
