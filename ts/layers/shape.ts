/**
 * Shape layers: `flatten()` and `reshape(shape)`. They move no data (wasmfit stores every row
 * flat, channels-last) and have no plan record; they change the shape the next layer sees.
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';

/** A flatten layer config. */
export interface FlattenConfig {
  readonly type: 'flatten';
}

/** A reshape layer config. */
export interface ReshapeConfig {
  readonly type: 'reshape';
  readonly targetShape: readonly number[];
}

/**
 * Flattens `[height, width, channels]` (or any shape) into `[height·width·channels]` in
 * channels-last order (Keras `Flatten()`), e.g. between convolutions and dense layers.
 * @example
 * ```ts
 * layers: [conv2d(8, { kernelSize: 3, activation: 'relu' }), maxPool2d(), flatten(), dense(10)]
 * ```
 */
export function flatten(): FlattenConfig {
  return { type: 'flatten' };
}

/**
 * Reinterprets each row as `targetShape` (Keras `Reshape`): the element count must not change;
 * e.g. `reshape([28, 28, 1])` turns 784-feature rows into images for `conv2d`.
 * @param targetShape `[features]` or `[height, width, channels]`, positive integers
 */
export function reshape(targetShape: readonly number[]): ReshapeConfig {
  if (!Array.isArray(targetShape) || (targetShape.length !== 1 && targetShape.length !== 3) || !targetShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new OptionError('targetShape', `reshape: targetShape = ${preview(targetShape)}; expected [features] or [height, width, channels] with positive integers, e.g. [28, 28, 1].`);
  }
  return { type: 'reshape', targetShape: [...targetShape] };
}

/** The shape after a shape layer, or an OptionError naming the fix. @internal */
export function reshapeTo(config: FlattenConfig | ReshapeConfig, inShape: readonly number[], where: string): number[] {
  const size = inShape.reduce((a, b) => a * b, 1);
  if (config.type === 'flatten') return [size];
  const out = config.targetShape.reduce((a, b) => a * b, 1);
  if (out !== size) {
    throw new OptionError('targetShape', `${where}: reshape([${config.targetShape.join(', ')}]) holds ${out} values per row but its input [${inShape.join(', ')}] has ${size}; give a shape with ${size} values.`);
  }
  return [...config.targetShape];
}

/**
 * A model input shape: `[features]` (or the number), or `[height, width, channels]` for images
 * (rows are stored flat, channels-last). @internal
 */
export function checkInputShape(v: unknown, where: string): readonly number[] {
  const shape = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3) || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new OptionError('inputShape', `${where}: inputShape = ${JSON.stringify(v)}; expected [features] or [height, width, channels] with positive integers, e.g. [784] or [28, 28, 1].`);
  }
  return [...(shape as number[])];
}
