// The wasm engine's entry: every kernel module re-exported here is compiled into one module.
// Add `export * from './<layer>';` for each new kernel file.
export * from './gemm';
export * from './act';
export * from './linear';
export * from './softmax';
export * from './attention';
export * from './pool';
export * from './batchnorm';
export * from './dropout';
export * from './loss';
export * from './optim';
export * from './lstm';

/** First free byte after the module's static data: the TypeScript arena starts here. */
export function heap_base(): usize {
  return __heap_base;
}
