export { GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh } from './activations.js';
export { Dropout } from './dropout.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Flatten } from './flatten.js';
export { LayerNorm, type LayerNormOptions } from './layer-norm.js';
export { Linear, type LinearOptions } from './linear.js';
export { Sequential } from './sequential.js';
