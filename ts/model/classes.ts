/**
 * Class names on a model (`model.classes`): the list a fit on string labels adopts, the class ids
 * and names `predictClasses` / `predictLabels` return. The list lives on the Sequential (so it
 * survives re-compiles and travels in model files and checkpoints); this module holds the logic.
 * @internal
 */
import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import { checkClassNames, isStringLabels, sortedClassNames } from '../data/labels.js';
import type { Features, Labels, Matrix } from '../data/tensor.js';
import type { RawFeatures } from '../preprocess/state.js';
import type { Stepper } from './stepper.js';
import { checkKeys } from './compile.js';

/** What the class helpers need from a model. @internal */
export interface ClassModel {
  readonly outputSize: number;
  assertUsable(where: string): void;
  assertIdle(where: string): void;
  readonly classes: readonly string[] | null;
  readonly steps: Stepper;
  predict(x: RawFeatures, options?: { batchSize?: number }): Matrix;
}

/**
 * The class list a fit on `y` trains with: the model's own when it has one; for string labels on
 * a model without one, the distinct labels sorted by code point (scikit-learn's `LabelEncoder`
 * order), which must number one per class the loss distinguishes. Pure: the caller adopts the
 * list once the whole fit is validated. @internal
 */
export function fitClassNames(y: Labels | Features, current: readonly string[] | null, st: Stepper, where: string): readonly string[] | null {
  if (current !== null || !isStringLabels(y)) return current;
  const names = sortedClassNames(y, where);
  const want = st.classCount;
  if (want === null) return null; // the Stepper refuses strings for this loss, naming it
  if (names.length !== want) {
    throw new OptionError('y', `${where}: y holds ${names.length} distinct labels ${preview(names)} but the model has ${want} classes. Give the last layer one unit per class, or set model.classes to the full list first.`);
  }
  return checkClassNames(names, st.outputs, where);
}

/** Validates an assignment to `model.classes` (one distinct string per class, or null). @internal */
export function checkClassesOf(m: Pick<ClassModel, 'outputSize' | 'assertUsable' | 'assertIdle'>, v: unknown): readonly string[] | null {
  m.assertUsable('classes');
  m.assertIdle('classes');
  return checkClassNames(v, m.outputSize, 'classes');
}

/** Row-wise argmax (ties: the lowest id, as `np.argmax`). */
function argmax(p: Matrix): Int32Array {
  const [rows, k] = p.shape;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p.data[r * k + j]! > p.data[r * k + best]!) best = j;
    out[r] = best;
  }
  return out;
}

/**
 * Predicted class ids: the argmax of the softmax outputs, or `p >= 0.5` for binary cross-entropy
 * with one output. Refused (OptionError naming the loss) for regression. @internal
 */
export function predictClassIds(m: ClassModel, x: RawFeatures, options: { batchSize?: number }, where = 'predictClasses'): Int32Array {
  m.assertUsable(where);
  checkKeys(options, ['batchSize'], where);
  const st = m.steps;
  if (st.classCount === null) {
    throw new OptionError('loss', `${where}: the model is compiled with loss '${st.loss.kind}' and ${st.outputs} outputs, not a classifier; use predict(x).`);
  }
  const p = m.predict(x, options);
  if (st.classification) return argmax(p);
  return Int32Array.from(p.data, (v) => (v >= 0.5 ? 1 : 0));
}

/** Predicted class names: `m.classes[id]` of {@link predictClassIds}. @internal */
export function predictClassNames(m: ClassModel, x: RawFeatures, options: { batchSize?: number }): string[] {
  const names = m.classes;
  if (names === null) {
    throw new OptionError('classes', 'predictLabels: this model has no class names; fit it on string labels or set model.classes, or use predictClasses(x).');
  }
  return Array.from(predictClassIds(m, x, options, 'predictLabels'), (id) => names[id]!);
}
