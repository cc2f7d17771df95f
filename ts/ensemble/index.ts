/**
 * Ensembles of {@link Sequential} models: bagging (bootstrap resamples, averaging or voting),
 * SAMME boosting (per-sample weights in the loss), and snapshot ensembles taken at the restarts
 * of a warm-restart schedule. The spread of the members' predictions (population standard
 * deviation) serves as an uncertainty estimate.
 *
 * @example
 * ```ts
 * const ens = bagging(({ seed }) => {
 *   const m = new Sequential({ inputShape: [1], layers: [dense(32, { activation: 'tanh' }), dense(1)], seed });
 *   m.compile({ optimizer: adam({ lr: 0.01 }), loss: 'mse' });
 *   return m;
 * }, { n: 10, seed: 0 });
 * await ens.fit(x, y, { epochs: 50, batchSize: 16 });
 * const { mean, std } = ens.predict(xTest, { spread: true });
 * ens.dispose();
 * ```
 */
import { OptionError, ShapeError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import { type Features, type Labels, type Matrix, matrix, toFeatures } from '../data/tensor.js';
import type { FitOptions } from '../model/fit.js';
import type { History } from '../model/callbacks.js';
import type { Sequential, WeightTensor } from '../model/sequential.js';
import type { Schedule } from '../schedules/index.js';
import { checkOptions } from '../errors/validate.js';

/** What a member factory receives: the member's index and a seed derived from the ensemble's. */
export interface MemberContext {
  readonly index: number;
  readonly seed: number;
}

/** Builds one member: a new, compiled {@link Sequential} (seed its initialization with `ctx.seed`). */
export type ModelFactory = (ctx: MemberContext) => Sequential;

/** Options of `predict` on an ensemble. */
export interface EnsemblePredictOptions {
  batchSize?: number;
}

/** How `predictClasses` combines the members: `'soft'` = argmax of the averaged probabilities, `'hard'` = majority vote. */
export type Vote = 'soft' | 'hard';

function seedOf(base: number, i: number): number {
  // distinct, reproducible 32-bit seeds per member
  return (Math.imul((Math.floor(base) >>> 0) ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
}

function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `${where}: seed = ${String(seed)}; expected a finite number.`);
  return seed;
}

function checkKeys(where: string, o: unknown, known: string[]): Record<string, unknown> {
  if (typeof o !== 'object' || o === null) throw new OptionError('options', `${where}: options must be an object.`);
  return checkOptions(where, o, known);
}

function isModel(m: unknown): m is Sequential {
  return typeof m === 'object' && m !== null && typeof (m as Sequential).fit === 'function' && typeof (m as Sequential).predict === 'function' && typeof (m as Sequential).inputSize === 'number';
}

/** Rows of a model's targets (class ids or `[rows, k]` floats) picked by `idx`. */
function pickTargets(t: Int32Array | Float32Array, k: number, idx: Int32Array, classIds: boolean): Int32Array | Matrix {
  if (classIds) return Int32Array.from(idx, (r) => (t as Int32Array)[r]!);
  const out = new Float32Array(idx.length * k);
  idx.forEach((r, i) => out.set(t.subarray(r * k, r * k + k), i * k));
  return matrix(out, [idx.length, k]);
}

function pickRows(x: Float32Array, d: number, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((r, i) => out.set(x.subarray(r * d, r * d + d), i * d));
  return out;
}

/** Argmax per row; ties → lowest index. */
function argmaxRows(p: Float32Array | Float64Array, rows: number, k: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[r * k + j]! > p[r * k + best]!) best = j;
    out[r] = best;
  }
  return out;
}

/**
 * Members' predictions combined: the mean (averaging; for classifiers the mean probabilities) and
 * optionally the population standard deviation over members (divide by M). Base of the ensembles.
 */
export abstract class Ensemble {
  /** @internal */
  protected abstract memberCount(): number;
  /** @internal prediction of member i */
  protected abstract memberPredict(i: number, x: Features, batchSize: number): Matrix;
  /** @internal a model with the members' architecture and loss */
  protected abstract prototype(where: string): Sequential;

  /** Number of members. */
  get size(): number {
    return this.memberCount();
  }

  /** Every member's prediction, `[M]` matrices of `[rows, outputs]`. */
  memberPredictions(x: Features, options: EnsemblePredictOptions = {}): Matrix[] {
    const bs = options.batchSize ?? 256;
    if (!Number.isInteger(bs) || bs < 1) throw new OptionError('batchSize', `predict: batchSize = ${String(bs)}; expected a positive integer.`);
    const m = this.memberCount();
    if (m === 0) throw new OptionError('fit', 'predict: the ensemble has no members yet; call await ensemble.fit(x, y) first.');
    const out: Matrix[] = [];
    for (let i = 0; i < m; i++) out.push(this.memberPredict(i, x, bs));
    return out;
  }

  /**
   * The members' mean prediction (model averaging: regression outputs, class probabilities);
   * with `spread: true` also the population standard deviation over members, per output — the
   * ensemble's uncertainty estimate.
   */
  predict(x: Features, options?: EnsemblePredictOptions & { spread?: false }): Matrix;
  predict(x: Features, options: EnsemblePredictOptions & { spread: true }): { mean: Matrix; std: Matrix };
  predict(x: Features, options: EnsemblePredictOptions & { spread?: boolean } = {}): Matrix | { mean: Matrix; std: Matrix } {
    const preds = this.memberPredictions(x, options);
    const shape = preds[0]!.shape;
    const len = preds[0]!.data.length;
    const mean = new Float64Array(len);
    const m2 = new Float64Array(len);
    preds.forEach((p, t) => {
      for (let i = 0; i < len; i++) {
        const v = p.data[i]!;
        const d = v - mean[i]!;
        mean[i]! += d / (t + 1);
        m2[i]! += d * (v - mean[i]!);
      }
    });
    const M = preds.length;
    const meanM = { data: Float32Array.from(mean), shape: [shape[0], shape[1]] as [number, number] };
    if (!options.spread) return meanM;
    return { mean: meanM, std: { data: Float32Array.from(m2, (v) => Math.sqrt(v / M)), shape: [shape[0], shape[1]] } };
  }

  /**
   * Class ids: `'soft'` (default) = argmax of the mean probabilities; `'hard'` = majority vote of the
   * members' argmax (ties → the tied class with the higher mean probability, then the lower id).
   * Classifiers only (softmax cross-entropy, or binary cross-entropy with one output: p ≥ 0.5).
   */
  predictClasses(x: Features, options: EnsemblePredictOptions & { vote?: Vote } = {}): Int32Array {
    const vote = options.vote ?? 'soft';
    if (vote !== 'soft' && vote !== 'hard') throw new OptionError('vote', `predictClasses: vote = ${JSON.stringify(vote)}; expected 'soft' or 'hard'.`);
    const proto = this.prototype('predictClasses');
    const binary = proto.outputSize === 1;
    if (!proto.steps.classification && !(binary && isBinary(proto))) {
      throw new OptionError('loss', 'predictClasses: the members are regressors; use predict(x) (classes need softmaxCrossEntropy, or binaryCrossentropy with one output).');
    }
    const preds = this.memberPredictions(x, options);
    const rows = preds[0]!.shape[0];
    const k = binary ? 2 : preds[0]!.shape[1];
    // as class probabilities [rows, k]
    const probs = preds.map((p) => (binary ? Float32Array.from({ length: rows * 2 }, (_, i) => (i % 2 === 1 ? p.data[i >> 1]! : 1 - p.data[i >> 1]!)) : p.data));
    const mean = new Float64Array(rows * k);
    for (const p of probs) for (let i = 0; i < mean.length; i++) mean[i]! += p[i]! / probs.length;
    if (vote === 'soft') return argmaxRows(mean, rows, k);
    const counts = new Float64Array(rows * k);
    for (const p of probs) {
      const c = argmaxRows(p, rows, k);
      c.forEach((cls, r) => counts[r * k + cls]!++);
    }
    // majority; ties by mean probability (a tiny fraction of it), then lowest id
    for (let i = 0; i < counts.length; i++) counts[i]! += mean[i]! * 1e-6;
    return argmaxRows(counts, rows, k);
  }
}

function isBinary(m: Sequential): boolean {
  return m.compileOptions?.loss === 'binaryCrossentropy';
}

/** Resolves the data once: features, the model's targets, and the sample weights. */
function resolveData(proto: Sequential, x: Features, y: Labels | Features, where: string, sampleWeight?: Float32Array | readonly number[]): { x: Float32Array; t: Int32Array | Float32Array; rows: number; w: Float32Array | null } {
  const fx = toFeatures(x, proto.inputSize, where);
  const t = proto.steps.targets(y, fx.rows, where);
  let w: Float32Array | null = null;
  if (sampleWeight !== undefined) {
    if (sampleWeight.length !== fx.rows) throw new ShapeError(`${where}: ${sampleWeight.length} sample weights for ${fx.rows} samples; pass one weight per row of x.`);
    w = Float32Array.from(sampleWeight as ArrayLike<number>);
  }
  return { x: fx.data, t, rows: fx.rows, w };
}

// ------------------------------------------------------------------------------------------
// Bagging
// ------------------------------------------------------------------------------------------

/** Options of {@link bagging}. */
export interface BaggingOptions {
  /** Number of members (>= 1). */
  n: number;
  /** Train each member on a bootstrap resample (n rows drawn with replacement); `false` = every member on all rows, differing only by seed (plain model averaging). Default true. */
  bootstrap?: boolean;
  /** Seed of the resamples and of the members' seeds (default 0). */
  seed?: number;
}

/**
 * Bootstrap aggregating (Breiman 1996): `n` members from `factory`, each trained on its own
 * bootstrap resample of the rows (drawn with replacement, seeded); predictions are averaged
 * (regression outputs, class probabilities) or majority-voted (`predictClasses(x, { vote: 'hard' })`).
 * Nothing is trained until {@link Bagging.fit}.
 */
export function bagging(factory: ModelFactory, options: BaggingOptions): Bagging {
  const W = 'bagging';
  if (typeof factory !== 'function') throw new OptionError('factory', `${W}: pass a factory ({ index, seed }) => compiled Sequential.`);
  const o = checkKeys(W, options, ['n', 'bootstrap', 'seed']);
  const n = o.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new OptionError('n', `${W}: n = ${String(n)}; expected a positive integer number of members, e.g. 10.`);
  const bootstrap = o.bootstrap ?? true;
  if (typeof bootstrap !== 'boolean') throw new OptionError('bootstrap', `${W}: bootstrap = ${String(bootstrap)}; expected a boolean.`);
  return new Bagging(factory, n, bootstrap, checkSeed(W, o.seed ?? 0));
}

/** An ensemble whose members are trained models (bagging, boosting): the base of {@link Bagging} and {@link Boosting}. */
export abstract class ModelEnsemble extends Ensemble {
  /** The trained members, in training order (empty before `fit`). */
  members: Sequential[] = [];
  protected abstract readonly kind: string;

  protected memberCount(): number {
    return this.members.length;
  }
  protected memberPredict(i: number, x: Features, batchSize: number): Matrix {
    return this.members[i]!.predict(x, { batchSize });
  }
  protected prototype(): Sequential {
    if (this.members.length === 0) throw new OptionError('fit', `${this.kind}: the ensemble has no members yet; call await ensemble.fit(x, y) first.`);
    return this.members[0]!;
  }
}

/** A bagging ensemble (see {@link bagging}). */
export class Bagging extends ModelEnsemble {
  protected readonly kind = 'bagging';

  /** @internal */
  constructor(private readonly factory: ModelFactory, readonly n: number, readonly bootstrap: boolean, readonly seed: number) {
    super();
  }

  /**
   * Builds and trains the `n` members (sequentially), member i on its resample. `options` are
   * each member's fit options (`sampleWeight` is resampled with the rows; `validationSplit` is
   * refused — pass `validationData`). Replaces (and disposes) members of an earlier fit.
   * Resolves to the members' histories.
   */
  async fit(x: Features, y: Labels | Features, options: FitOptions = {}): Promise<History[]> {
    const W = 'bagging.fit';
    if (options.validationSplit) throw new OptionError('validationSplit', `${W}: validationSplit would split each bootstrap resample; pass validationData instead.`);
    const built: Sequential[] = [];
    try {
      const histories: History[] = [];
      const rng = new Rng(this.seed);
      let data: ReturnType<typeof resolveData> | null = null;
      for (let i = 0; i < this.n; i++) {
        const m = this.factory({ index: i, seed: seedOf(this.seed, i) });
        if (!isModel(m)) throw new OptionError('factory', `${W}: the factory returned ${typeof m}; it must return a compiled Sequential.`);
        built.push(m);
        data ??= resolveData(m, x, y, W, options.sampleWeight);
        const rows = data.rows;
        const idx = new Int32Array(rows);
        for (let r = 0; r < rows; r++) idx[r] = this.bootstrap ? rng.int(rows) : r;
        const classIds = data.t instanceof Int32Array;
        const xs = pickRows(data.x, m.inputSize, idx);
        const ys = pickTargets(data.t, m.outputSize, idx, classIds);
        const sw = data.w ? Float32Array.from(idx, (r) => data!.w![r]!) : undefined;
        histories.push(await m.fit(matrix(xs, [rows, m.inputSize]), ys as Labels, { ...options, ...(sw ? { sampleWeight: sw } : {}), seed: options.seed ?? seedOf(this.seed + 1, i) }));
      }
      for (const old of this.members) old.dispose();
      this.members = built;
      return histories;
    } catch (e) {
      for (const m of built) m.dispose();
      throw e;
    }
  }

  /** Disposes every member. */
  dispose(): void {
    for (const m of this.members) m.dispose();
    this.members = [];
  }
}

// ------------------------------------------------------------------------------------------
// Boosting (SAMME)
// ------------------------------------------------------------------------------------------

/** Options of {@link boosting}. */
export interface BoostingOptions {
  /** Maximum number of rounds (members), default 10. */
  rounds?: number;
  /** Shrinks each member's weight α (scikit-learn `learning_rate`), default 1. */
  learningRate?: number;
  /** Seed of the members' seeds (default 0). */
  seed?: number;
}

/** What {@link Boosting.fit} reports per kept round. */
export interface BoostingReport {
  /** Weighted training error of each member under the sample weights it was trained with. */
  memberErrors: number[];
  /** Each member's vote weight α. */
  alphas: number[];
  /** Training error of the boosted ensemble after each round (members 0..m). */
  trainErrors: number[];
  /** Why boosting stopped: `'rounds'`, `'perfect'` (a member made no weighted error) or `'noBetterThanChance'` (a member's error reached 1 − 1/K; it is not kept). */
  stopped: 'rounds' | 'perfect' | 'noBetterThanChance';
}

/**
 * Multi-class AdaBoost, SAMME (Zhu, Zou, Rosset & Hastie 2009; scikit-learn's `algorithm='SAMME'`):
 * start with weights `w_i = 1/N`; each round trains a fresh member with `sampleWeight = N·w`
 * (mean 1), takes its class predictions `c`, its weighted error `err = Σ w·[c ≠ y] / Σ w`, and
 * its vote `α = learningRate·(ln((1 − err)/err) + ln(K − 1))`; then `w_i ← w_i·exp(α·[c_i ≠ y_i])`
 * and renormalizes. Stops early when `err = 0` (that member is kept with α = 1 and ends boosting,
 * as scikit-learn) or `err >= 1 − 1/K` (the member is dropped). The ensemble predicts
 * `argmax_k Σ_m α_m·[c_m(x) = k]`; `predict(x)` returns those vote shares `Σ α·onehot / Σ α`.
 * Members must be classifiers (softmax cross-entropy).
 */
export function boosting(factory: ModelFactory, options: BoostingOptions = {}): Boosting {
  const W = 'boosting';
  if (typeof factory !== 'function') throw new OptionError('factory', `${W}: pass a factory ({ index, seed }) => compiled Sequential.`);
  const o = checkKeys(W, options, ['rounds', 'learningRate', 'seed']);
  const rounds = o.rounds ?? 10;
  if (typeof rounds !== 'number' || !Number.isInteger(rounds) || rounds < 1) throw new OptionError('rounds', `${W}: rounds = ${String(rounds)}; expected a positive integer.`);
  const lr = o.learningRate ?? 1;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) throw new OptionError('learningRate', `${W}: learningRate = ${String(lr)}; expected a finite number > 0.`);
  return new Boosting(factory, rounds, lr, checkSeed(W, o.seed ?? 0));
}

/** A SAMME boosting ensemble (see {@link boosting}). */
export class Boosting extends ModelEnsemble {
  protected readonly kind = 'boosting';
  /** Each member's vote weight α, in round order (`members` holds the kept members in round order). */
  alphas: number[] = [];

  /** @internal */
  constructor(private readonly factory: ModelFactory, readonly rounds: number, readonly learningRate: number, readonly seed: number) {
    super();
  }

  /** The weighted vote shares `Σ_m α_m·onehot(c_m(x)) / Σ α`, `[rows, K]`. */
  override predict(x: Features, options?: EnsemblePredictOptions & { spread?: false }): Matrix;
  override predict(x: Features, options: EnsemblePredictOptions & { spread: true }): { mean: Matrix; std: Matrix };
  override predict(x: Features, options: EnsemblePredictOptions & { spread?: boolean } = {}): Matrix | { mean: Matrix; std: Matrix } {
    if (options.spread) throw new OptionError('spread', 'boosting.predict: boosted members are weighted votes, not samples of one predictor; spread is available for bagging and snapshot ensembles.');
    const preds = this.memberPredictions(x, options);
    const [rows, k] = preds[0]!.shape;
    const out = new Float64Array(rows * k);
    const total = this.alphas.reduce((s, a) => s + a, 0);
    preds.forEach((p, m) => argmaxRows(p.data, rows, k).forEach((c, r) => (out[r * k + c]! += this.alphas[m]! / total)));
    return { data: Float32Array.from(out), shape: [rows, k] };
  }

  /** `argmax_k Σ_m α_m·[c_m(x) = k]` (ties → lowest class id). `vote` is ignored: boosting always takes its weighted vote. */
  override predictClasses(x: Features, options: EnsemblePredictOptions & { vote?: Vote } = {}): Int32Array {
    const p = this.predict(x, { batchSize: options.batchSize });
    return argmaxRows(p.data, p.shape[0], p.shape[1]);
  }

  /**
   * Runs the boosting rounds; `options` are each member's fit options (`sampleWeight` here is the
   * initial weighting, default uniform; `classWeight` is refused: fold it into sampleWeight).
   * Replaces (and disposes) members of an earlier fit.
   */
  async fit(x: Features, y: Labels, options: FitOptions = {}): Promise<BoostingReport> {
    const W = 'boosting.fit';
    if (options.validationSplit) throw new OptionError('validationSplit', `${W}: the sample weights cover every row; pass validationData instead of validationSplit.`);
    if (options.classWeight !== undefined) throw new OptionError('classWeight', `${W}: classWeight is not supported: fold class weights into sampleWeight (boosting owns the per-sample weights).`);
    const built: Sequential[] = [];
    try {
      const alphas: number[] = [];
      const memberErrors: number[] = [];
      const trainErrors: number[] = [];
      let stopped: BoostingReport['stopped'] = 'rounds';
      let data: ReturnType<typeof resolveData> | null = null;
      let w: Float64Array | null = null;
      let votes: Float64Array | null = null;
      for (let round = 0; round < this.rounds; round++) {
        const m = this.factory({ index: round, seed: seedOf(this.seed, round) });
        if (!isModel(m)) throw new OptionError('factory', `${W}: the factory returned ${typeof m}; it must return a compiled Sequential.`);
        built.push(m);
        if (!m.steps.classification) throw new OptionError('loss', `${W}: boosting needs classifiers; compile the members with loss 'softmaxCrossEntropy'.`);
        if (data === null) {
          data = resolveData(m, x, y, W, options.sampleWeight);
          const rows = data.rows;
          w = new Float64Array(rows);
          for (let r = 0; r < rows; r++) w[r] = data.w ? data.w[r]! : 1;
          const s = w.reduce((a, v) => a + v, 0);
          if (!(s > 0)) throw new OptionError('sampleWeight', `${W}: the sample weights sum to ${s}; at least one must be > 0.`);
          for (let r = 0; r < rows; r++) w[r]! /= s;
          votes = new Float64Array(rows * m.outputSize);
        }
        const { rows, t } = data;
        const labels = t as Int32Array;
        const K = m.outputSize;
        const sw = Float32Array.from(w!, (v) => v * rows);
        await m.fit(matrix(data.x, [rows, m.inputSize]), labels, { ...options, sampleWeight: sw, seed: options.seed ?? seedOf(this.seed + 1, round) });
        const pred = argmaxRows(m.predict(matrix(data.x, [rows, m.inputSize])).data, rows, K);
        let err = 0;
        let tot = 0;
        for (let r = 0; r < rows; r++) {
          tot += w![r]!;
          if (pred[r] !== labels[r]) err += w![r]!;
        }
        err /= tot;
        let alpha: number;
        if (err <= 0) {
          alpha = 1;
          stopped = 'perfect';
        } else if (err >= 1 - 1 / K) {
          built.pop()!.dispose();
          if (built.length === 0) throw new OptionError('factory', `${W}: the first member's weighted error ${err.toFixed(4)} is no better than chance (1 − 1/${K}); give the members more capacity or training.`);
          stopped = 'noBetterThanChance';
          break;
        } else {
          alpha = this.learningRate * (Math.log((1 - err) / err) + Math.log(K - 1));
        }
        alphas.push(alpha);
        memberErrors.push(err);
        for (let r = 0; r < rows; r++) votes![r * K + pred[r]!]! += alpha;
        const ens = argmaxRows(votes!, rows, K);
        trainErrors.push(ens.reduce((s, c, r) => s + (c !== labels[r] ? 1 : 0), 0) / rows);
        if (stopped === 'perfect') break;
        let s = 0;
        for (let r = 0; r < rows; r++) {
          if (pred[r] !== labels[r] && w![r]! > 0) w![r]! *= Math.exp(alpha);
          s += w![r]!;
        }
        for (let r = 0; r < rows; r++) w![r]! /= s;
      }
      for (const old of this.members) old.dispose();
      this.members = built;
      this.alphas = alphas;
      return { memberErrors, alphas, trainErrors, stopped };
    } catch (e) {
      for (const m of built) m.dispose();
      throw e;
    }
  }

  /** Disposes every member. */
  dispose(): void {
    for (const m of this.members) m.dispose();
    this.members = [];
    this.alphas = [];
  }
}

// ------------------------------------------------------------------------------------------
// Snapshot ensembles
// ------------------------------------------------------------------------------------------

/** Options of {@link snapshotEnsemble}: fit options plus the warm-restart schedule. */
export interface SnapshotOptions extends Omit<FitOptions, 'schedule'> {
  /** An epoch-unit schedule with warm restarts, e.g. `cosineAnnealingWarmRestarts({ lr: 0.1, t0: 10 })`. */
  schedule: Schedule;
  /** Keep only the last `keep` snapshots (default all). */
  keep?: number;
}

/**
 * Snapshot ensemble (Huang et al. 2017, "Train 1, get M for free"): trains `model` once with a
 * warm-restart schedule and keeps a copy of its weights at the end of every cycle — after each
 * epoch `e` whose successor restarts (`schedule(e + 1) > schedule(e)`), and after the last epoch
 * when the next one would restart. Predictions average the snapshots (each loaded into `model` in
 * turn; the model's own weights are restored afterwards). Epochs after the last complete cycle
 * train the model but add no snapshot. The ensemble does not own `model`.
 *
 * @example
 * ```ts
 * const snap = await snapshotEnsemble(model, x, y, {
 *   schedule: cosineAnnealingWarmRestarts({ lr: 0.1, t0: 10 }), epochs: 40, batchSize: 32 });
 * snap.size; // 4 snapshots
 * ```
 */
export async function snapshotEnsemble(model: Sequential, x: Features, y: Labels | Features, options: SnapshotOptions): Promise<SnapshotEnsemble> {
  const W = 'snapshotEnsemble';
  if (!isModel(model)) throw new OptionError('model', `${W}: pass a compiled Sequential.`);
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: pass { schedule, epochs, ... }.`);
  const { schedule, keep, ...fitOptions } = options;
  if (typeof schedule !== 'function' || schedule.unit !== 'epoch') {
    throw new OptionError('schedule', `${W}: schedule must be an epoch-unit warm-restart schedule such as cosineAnnealingWarmRestarts({ lr, t0 }).`);
  }
  const epochs = fitOptions.epochs ?? 1;
  const first = fitOptions.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) throw new OptionError('epochs', `${W}: epochs = ${String(epochs)}; expected a positive integer.`);
  const ends: number[] = [];
  for (let e = first; e < epochs; e++) if (schedule(e + 1) > schedule(e)) ends.push(e);
  if (ends.length === 0) throw new OptionError('epochs', `${W}: epochs ${first}…${epochs - 1} contain no end of a warm-restart cycle, so there would be no snapshot; train for at least one full cycle (or check that the schedule restarts).`);
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1)) throw new OptionError('keep', `${W}: keep = ${String(keep)}; expected a positive integer.`);
  const snaps: WeightTensor[][] = [];
  const endSet = new Set(ends);
  const cb = {
    onEpochEnd(epoch: number): void {
      if (endSet.has(epoch)) snaps.push(model.getWeights());
    },
  };
  const history = await model.fit(x, y as Labels, { ...fitOptions, schedule, callbacks: [...(fitOptions.callbacks ?? []), cb] });
  return new SnapshotEnsemble(model, keep !== undefined ? snaps.slice(-keep) : snaps, history);
}

/** Weight snapshots of one model (see {@link snapshotEnsemble}). */
export class SnapshotEnsemble extends Ensemble {
  /** @internal */
  constructor(readonly model: Sequential, readonly snapshots: WeightTensor[][], readonly history: History) {
    super();
  }
  protected memberCount(): number {
    return this.snapshots.length;
  }
  protected memberPredict(i: number, x: Features, batchSize: number): Matrix {
    const own = this.model.getWeights();
    this.model.setWeights(this.snapshots[i]!);
    try {
      return this.model.predict(x, { batchSize });
    } finally {
      this.model.setWeights(own);
    }
  }
  protected prototype(): Sequential {
    return this.model;
  }
}
