/**
 * Random hyperparameter search with coarse-to-fine refinement.
 *
 * Random search samples every hyperparameter independently, so with the same budget it tries many
 * more distinct values of the few parameters that matter than a grid does (Bergstra & Bengio
 * 2012); refinement rounds then shrink the space around the best trials.
 *
 * @example
 * ```ts
 * const result = await randomSearch({
 *   space: { lr: logUniform(1e-4, 1), hidden: intUniform(16, 128), optimizer: choice(['sgd', 'adam']) },
 *   build: (c, { seed }) => {
 *     const model = new Sequential({ inputShape: [784], layers: [dense(c.hidden, { activation: 'relu' }), dense(10)], seed });
 *     model.compile({ optimizer: c.optimizer === 'adam' ? adam({ lr: c.lr }) : sgd({ lr: c.lr }), loss: 'softmaxCrossEntropy' });
 *     return { model, fit: { batchSize: 32 } };
 *   },
 *   data: { x, y, validationData: [xVal, yVal] },
 *   trials: 20, budget: { epochs: 5, earlyStopping: { patience: 2 } },
 *   metric: 'valLoss', seed: 0, refine: { rounds: 1 },
 * });
 * console.log(result.table()); result.best.config; fs.writeFileSync('lr.svg', result.plot().lr);
 * ```
 * Described as data (`spec` instead of `build`), trials can also train in workers, several at a
 * time, with the same results:
 * ```ts
 * import { workerRunner } from 'wasmfit/worker';
 * await randomSearch({
 *   space, data, trials: 20, budget: { epochs: 5 },
 *   spec: (c) => ({
 *     model: { inputShape: [784], layers: [dense(c.hidden, { activation: 'relu' }), dense(10)], optimizer: adam({ lr: c.lr }), loss: 'softmaxCrossEntropy' },
 *     fit: { batchSize: 32 },
 *   }),
 *   runner: workerRunner({ concurrency: 2 }),
 * });
 * ```
 */
import { NonFiniteError, OptionError } from '../errors/index.js';
import { Rng } from '../data/rng.js';
import type { Features, Labels } from '../data/tensor.js';
import { earlyStopping } from '../callbacks/index.js';
import type { FitOptions } from '../model/fit.js';
import type { History } from '../model/callbacks.js';
import type { Sequential } from '../model/sequential.js';
import { plotSeries, type PlotOptions, type Series } from '../plot/index.js';
import { checkTrialSpec } from '../model/spec.js';
import { inProcessTrainer, type Trainer, type TrialJob, type TrialSpec } from './trainer.js';
import { modelFromSpec } from '../model/spec.js';
import { checkOptions } from '../errors/validate.js';

export { inProcessTrainer } from './trainer.js';
export type { Trainer, TrainResult, TrialFitOptions, TrialJob, TrialSpec } from './trainer.js';

// ------------------------------------------------------------------------------------------
// Search spaces
// ------------------------------------------------------------------------------------------

/** A uniform float in [low, high]. */
export interface UniformParam {
  readonly kind: 'uniform';
  readonly low: number;
  readonly high: number;
}
/** A float whose logarithm is uniform in [ln low, ln high] (learning rates, penalties). */
export interface LogUniformParam {
  readonly kind: 'logUniform';
  readonly low: number;
  readonly high: number;
}
/** A uniform integer in [low, high] (both included). */
export interface IntUniformParam {
  readonly kind: 'intUniform';
  readonly low: number;
  readonly high: number;
}
/** One of `options`, each equally likely (any values: strings, numbers, schedules, configs). */
export interface ChoiceParam<T> {
  readonly kind: 'choice';
  readonly options: readonly T[];
}
/** A search space: one {@link Param} per hyperparameter name. */
export type Space = Record<string, UniformParam | LogUniformParam | IntUniformParam | ChoiceParam<unknown>>;
/** The configuration a space produces: numbers for the numeric dimensions, the chosen option for choices. */
export type ConfigOf<S extends Space> = { -readonly [K in keyof S]: S[K] extends ChoiceParam<infer T> ? T : number };

/** Uniform float in [low, high]. Validated when the search starts (low ≤ high, both finite). */
export function uniform(low: number, high: number): UniformParam {
  return Object.freeze({ kind: 'uniform', low, high });
}
/** Log-uniform float in [low, high]: `exp(U(ln low, ln high))`. Validated when the search starts (0 < low ≤ high). */
export function logUniform(low: number, high: number): LogUniformParam {
  return Object.freeze({ kind: 'logUniform', low, high });
}
/** Uniform integer in [low, high], both included. Validated when the search starts (integers, low ≤ high). */
export function intUniform(low: number, high: number): IntUniformParam {
  return Object.freeze({ kind: 'intUniform', low, high });
}
/** One of `options`, equally likely. Validated when the search starts (non-empty array). */
export function choice<T>(options: readonly T[]): ChoiceParam<T> {
  return Object.freeze({ kind: 'choice', options: Array.isArray(options) ? Object.freeze([...options]) : options });
}

type Dim = Space[string];

function fmtNum(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
}

/**
 * Validates a space; throws {@link OptionError} whose `option` is the offending parameter's name.
 * (Called by {@link randomSearch} before any trial runs.)
 */
export function validateSpace(space: Space, where = 'randomSearch'): void {
  if (!space || typeof space !== 'object' || Array.isArray(space)) throw new OptionError('space', `${where}: space must be an object { name: uniform(...) | logUniform(...) | intUniform(...) | choice([...]) }.`);
  const names = Object.keys(space);
  if (names.length === 0) throw new OptionError('space', `${where}: the space is empty; add at least one hyperparameter, e.g. { lr: logUniform(1e-4, 1e-1) }.`);
  for (const name of names) {
    const p = space[name] as Dim | undefined;
    const bad = (what: string): never => {
      throw new OptionError(name, `${where}: space.${name} ${what}`);
    };
    if (!p || typeof p !== 'object') bad(`is ${fmtNum(p)}; build it with uniform(low, high), logUniform(low, high), intUniform(low, high) or choice([...]).`);
    if (p!.kind === 'choice') {
      if (!Array.isArray(p!.options) || p!.options.length === 0) bad('= choice([]) has no options; pass a non-empty array, e.g. choice(["relu", "tanh"]).');
      continue;
    }
    if (p!.kind !== 'uniform' && p!.kind !== 'logUniform' && p!.kind !== 'intUniform') bad(`has unknown kind ${fmtNum((p as { kind?: unknown }).kind)}; build it with uniform, logUniform, intUniform or choice.`);
    const { low, high, kind } = p as UniformParam | LogUniformParam | IntUniformParam;
    const call = `${kind}(${fmtNum(low)}, ${fmtNum(high)})`;
    if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) bad(`= ${call}: low and high must be finite numbers.`);
    if (low > high) bad(`= ${call}: low > high; swap them, e.g. ${kind}(${high}, ${low}).`);
    if (kind === 'logUniform' && low <= 0) bad(`= ${call}: logUniform needs low > 0 (the logarithm of ${low} is undefined); use e.g. logUniform(1e-5, ${high}) or uniform(...).`);
    if (kind === 'intUniform' && (!Number.isInteger(low) || !Number.isInteger(high))) bad(`= ${call}: intUniform needs integer bounds, e.g. intUniform(${Math.ceil(low)}, ${Math.floor(high)}).`);
  }
}

/** Draws one value of `p` (the generator advances by a fixed pattern per kind). */
function sample(p: Dim, rng: Rng): { value: unknown; code: number } {
  switch (p.kind) {
    case 'uniform': {
      const v = p.low + (p.high - p.low) * rng.next();
      return { value: v, code: v };
    }
    case 'logUniform': {
      const v = Math.exp(Math.log(p.low) + (Math.log(p.high) - Math.log(p.low)) * rng.next());
      return { value: Math.min(p.high, Math.max(p.low, v)), code: v };
    }
    case 'intUniform': {
      const v = p.low + rng.int(p.high - p.low + 1);
      return { value: v, code: v };
    }
    case 'choice': {
      const i = rng.int(p.options.length);
      return { value: p.options[i], code: i };
    }
  }
}

/**
 * The space of the next refinement round (coarse-to-fine). With `best` the best trial so far and
 * `top` the best `k` trials so far:
 * - `uniform` / `intUniform`: width × `shrink`, centred on best's value, shifted to stay inside
 *   the current range (`intUniform` rounds outwards to integers);
 * - `logUniform`: the same in log space (the ratio high/low is raised to the power `shrink`);
 * - `choice`: keep the options that appear in `top` (in their original order).
 * Exported so the rule can be inspected and reused; {@link randomSearch} applies it between rounds.
 */
export function shrinkSpace(space: Space, best: Record<string, unknown>, top: readonly Record<string, unknown>[], shrink: number): Space {
  const out: Space = {};
  for (const [name, p] of Object.entries(space)) {
    if (p.kind === 'choice') {
      const keep = p.options.filter((o) => top.some((t) => Object.is(t[name], o)));
      out[name] = choice(keep.length > 0 ? keep : p.options);
      continue;
    }
    const log = p.kind === 'logUniform';
    const f = (v: number) => (log ? Math.log(v) : v);
    const inv = (v: number) => (log ? Math.exp(v) : v);
    const lo = f(p.low);
    const hi = f(p.high);
    const w = (hi - lo) * shrink;
    const c = f(best[name] as number);
    let a = c - w / 2;
    let b = c + w / 2;
    if (a < lo) {
      b += lo - a;
      a = lo;
    }
    if (b > hi) {
      a -= b - hi;
      b = hi;
    }
    a = Math.max(a, lo);
    if (p.kind === 'intUniform') out[name] = intUniform(Math.max(p.low, Math.floor(a)), Math.min(p.high, Math.ceil(b)));
    else if (log) out[name] = logUniform(Math.max(p.low, inv(a)), Math.min(p.high, inv(b)));
    else out[name] = uniform(a, b);
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Trials and runners
// ------------------------------------------------------------------------------------------

/** One trial to run. JSON-able apart from `config` (whose choices may be functions or objects). */
export interface TrialTask {
  /** 0-based index over the whole search. */
  readonly index: number;
  /** 0 = the first (coarse) round, 1… = refinement rounds. */
  readonly round: number;
  /** The sampled configuration. */
  readonly config: Record<string, unknown>;
  /** The same configuration as numbers (choice → option index), for runners that rebuild it elsewhere. */
  readonly encoded: Record<string, number>;
  /** Seed for this trial's model and shuffling. */
  readonly seed: number;
}

/** What running a trial produced. */
export interface TrialOutcome {
  /** The trial's score (best value of the metric over its epochs); NaN when it failed. */
  metric: number;
  /** Epochs it ran (fewer than the budget when early stopping ended it). */
  epochs: number;
  /** Wall time in ms. */
  timeMs: number;
  /** Its training history, when it trained a model. */
  history?: History;
  /** Extra numbers from `inspect`. */
  extra?: Record<string, number>;
  /** Why it failed (e.g. the loss diverged). */
  error?: string;
}

/**
 * Runs a batch of trials and resolves to their outcomes in order. `run(task)` executes one trial
 * in this process. For searches described by `spec`, `run(task, trainer)` runs everything the
 * search does around a trial (resolving the spec, early stopping, scoring, `inspect`) here and
 * hands the training itself to `trainer` — e.g. a worker (`workerRunner` of `wasmfit/worker`
 * does that, several trials at a time). A runner may also execute tasks entirely elsewhere (e.g.
 * rebuilding each trial from `task.encoded`), as long as it returns one outcome per task.
 * A runner with `requiresSpec: true` is refused for searches given `build` or `objective`.
 */
export type TrialRunner = ((tasks: readonly TrialTask[], run: (task: TrialTask, trainer?: Trainer) => Promise<TrialOutcome>) => Promise<TrialOutcome[]>) & {
  readonly requiresSpec?: boolean;
};

/** The default runner: one trial after the other, in this process. */
export const inProcessRunner: TrialRunner = async (tasks, run) => {
  const out: TrialOutcome[] = [];
  for (const t of tasks) out.push(await run(t));
  return out;
};

/** What `build` returns: a compiled model and (optionally) its fit options. */
export interface TrialSetup {
  model: Sequential;
  /** Fit options of this trial; the search sets `epochs` (the budget) and adds early stopping. */
  fit?: Omit<FitOptions, 'epochs'>;
}

/** The per-trial budget. */
export interface TrialBudget {
  /** Epochs per trial (default 10). */
  epochs?: number;
  /** Stop a trial when the metric has not improved for `patience` epochs (Keras EarlyStopping on the search metric). Default: no early stopping. */
  earlyStopping?: { patience?: number; minDelta?: number } | false;
}

/** Refinement (coarse-to-fine) settings; see {@link shrinkSpace} for the rule. */
export interface RefineOptions {
  /** Refinement rounds after the first (default 1). */
  rounds?: number;
  /** Trials per refinement round (default: `trials`). */
  trials?: number;
  /** Best trials whose choices survive (default 3). */
  top?: number;
  /** Width factor per round, in (0, 1) (default 0.5). */
  shrink?: number;
}

/** Options of {@link randomSearch}. */
export interface RandomSearchOptions<S extends Space> {
  space: S;
  /** Builds a compiled model (or `{ model, fit }`) for one configuration, in this process. Give `build` + `data`, `spec` + `data`, or `objective`. */
  build?: (config: ConfigOf<S>, ctx: { seed: number; trial: number }) => TrialSetup | Sequential | Promise<TrialSetup | Sequential>;
  /**
   * Instead of `build`: describes one configuration's trial as plain data ({@link TrialSpec}: the
   * `fitInWorker` model spec and fit options), so trials can run in workers
   * (`runner: workerRunner({ concurrency })` from `wasmfit/worker`) as well as in this process,
   * with bit-identical results for the same seeds. `model.seed` and `fit.seed` default to the
   * trial's seed. Each returned spec is checked before its trial trains, the same way whatever the
   * runner: unknown keys in it, its `model` or its `fit` are refused with an {@link OptionError}
   * listing the valid keys.
   */
  spec?: (config: ConfigOf<S>, ctx: { seed: number; trial: number }) => TrialSpec | Promise<TrialSpec>;
  /** The training data of every trial; validation from `validationData` (or the trial's own fit options). */
  data?: { x: Features; y: Labels | Features; validationData?: readonly [Features, Labels | Features] };
  /**
   * Called with each trained model before it is disposed; the numbers it returns are kept as
   * `extra` (e.g. a test-set score). With `spec`, the model is rebuilt in this process from the
   * spec and the trained weights (also when the trial trained in a worker).
   */
  inspect?: (model: Sequential, config: ConfigOf<S>) => Record<string, number> | void;
  /** Instead of `build`: any async scoring function (its result is the metric). */
  objective?: (config: ConfigOf<S>, ctx: { seed: number; trial: number; budget: Required<Pick<TrialBudget, 'epochs'>> }) => number | { metric: number; epochs?: number } | Promise<number | { metric: number; epochs?: number }>;
  /** Trials in the first round (>= 1). */
  trials: number;
  budget?: TrialBudget;
  /** A key of the epoch logs (default `'valLoss'`); a trial scores its best epoch. */
  metric?: string;
  /** `'min'`, `'max'`, or `'auto'` (default: max when the metric name contains "acc", else min). */
  mode?: 'min' | 'max' | 'auto';
  /** Seed of the sampling and of every trial's seed (default 0). */
  seed?: number;
  /** Coarse-to-fine refinement; default none. `true` = `{ rounds: 1 }`. */
  refine?: RefineOptions | boolean;
  runner?: TrialRunner;
  /** Called after every trial (e.g. for progress output). */
  onTrialEnd?: (trial: TrialResult<ConfigOf<S>>) => void;
}

/** One finished trial. */
export interface TrialResult<C> extends TrialOutcome {
  index: number;
  round: number;
  config: C;
  seed: number;
}

/** What {@link randomSearch} returns. */
export interface SearchResult<C> {
  /** Every trial, best first (failed trials last). */
  trials: TrialResult<C>[];
  /** The best trial. */
  best: TrialResult<C>;
  /** The space each round sampled from (round 0 = the given space). */
  spaces: Space[];
  metric: string;
  mode: 'min' | 'max';
  /** A text table: rank, round, metric, epochs, time, then one column per hyperparameter. */
  table(): string;
  /** One SVG scatter plot per hyperparameter: metric vs value (log10 for logUniform, option index for choice), one colour per round. */
  plot(options?: PlotOptions): Record<string, string>;
}

function seedOf(base: number, i: number): number {
  return (Math.imul((Math.floor(base) >>> 0) ^ 0x2545f491, 0x85ebca6b) + Math.imul(i + 1, 0x27d4eb2d)) >>> 0;
}

function describeValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (typeof v === 'string') return v;
  if (typeof v === 'function') return (v as { name?: string }).name || 'function';
  if (v && typeof v === 'object') {
    const t = (v as { type?: unknown; kind?: unknown }).type ?? (v as { kind?: unknown }).kind;
    if (typeof t === 'string') return t;
  }
  return JSON.stringify(v) ?? String(v);
}

const SEARCH_KEYS = ['space', 'build', 'spec', 'data', 'inspect', 'objective', 'trials', 'budget', 'metric', 'mode', 'seed', 'refine', 'runner', 'onTrialEnd'];

/**
 * Random search over `space`: `trials` configurations sampled independently (seeded), each trained
 * within the budget and scored by the best epoch value of `metric`; then `refine.rounds` rounds of
 * `refine.trials` more, each sampled from a space shrunk around the best trials so far (rule:
 * {@link shrinkSpace}). A trial whose loss diverges ({@link NonFiniteError}) is recorded as failed
 * (metric NaN) and sorted last (as is a trial whose trainer reports `{ failed }`, e.g. a worker
 * that died mid-training); other errors stop the search. Every trial's model is disposed after its
 * trial — rebuild the best one with `build(result.best.config, …)` (or from `spec`).
 *
 * Everything is validated before the first trial: the space ({@link OptionError} naming the
 * parameter), the counts, the metric mode, the budget, and that `build` + `data` or `objective`
 * is given.
 */
export async function randomSearch<S extends Space>(options: RandomSearchOptions<S>): Promise<SearchResult<ConfigOf<S>>> {
  const W = 'randomSearch';
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: pass { space, build, data, trials, ... }.`);
  checkOptions(W, options, SEARCH_KEYS);
  validateSpace(options.space, W);
  return searchCore(W, options, (space, n, rng) =>
    Array.from({ length: n }, () => Object.fromEntries(Object.entries(space).map(([name, p]) => [name, sample(p, rng).value]))),
  );
}

/**
 * The search loop shared by {@link randomSearch} and {@link gridSearch}: validates the rest of the
 * options, then per round asks `propose(space, n, rng)` for `n` configurations (n = `trials`, then
 * `refine.trials`), runs them through the runner and shrinks the space around the best.
 */
async function searchCore<S extends Space>(W: string, options: RandomSearchOptions<S>, propose: (space: Space, n: number, rng: Rng) => Record<string, unknown>[]): Promise<SearchResult<ConfigOf<S>>> {
  const posInt = (name: string, v: unknown, def?: number): number => {
    const x = v ?? def;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) throw new OptionError(name, `${W}: ${name} = ${String(v)}; expected a positive integer.`);
    return x;
  };
  const trials = posInt('trials', options.trials);
  const budget = options.budget ?? {};
  if (typeof budget !== 'object' || budget === null) throw new OptionError('budget', `${W}: budget must be an object { epochs, earlyStopping }.`);
  const epochs = posInt('epochs', budget.epochs, 10);
  const es = budget.earlyStopping ?? false;
  if (es !== false && (typeof es !== 'object' || es === null)) throw new OptionError('earlyStopping', `${W}: budget.earlyStopping must be { patience, minDelta } or false.`);
  const metric = options.metric ?? 'valLoss';
  if (typeof metric !== 'string' || metric.length === 0) throw new OptionError('metric', `${W}: metric = ${String(metric)}; expected a name from the epoch logs such as 'valLoss' or 'valAccuracy'.`);
  const modeOpt = options.mode ?? 'auto';
  if (modeOpt !== 'min' && modeOpt !== 'max' && modeOpt !== 'auto') throw new OptionError('mode', `${W}: mode = ${JSON.stringify(modeOpt)}; expected 'min', 'max' or 'auto'.`);
  const mode: 'min' | 'max' = modeOpt === 'auto' ? (/acc/i.test(metric) ? 'max' : 'min') : modeOpt;
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new OptionError('seed', `${W}: seed = ${String(seed)}; expected a finite number.`);
  const refineOpt: RefineOptions | null = options.refine === true ? {} : options.refine ? options.refine : null;
  const rounds = refineOpt ? (refineOpt.rounds === undefined ? 1 : refineOpt.rounds) : 0;
  if (!Number.isInteger(rounds) || rounds < 0) throw new OptionError('rounds', `${W}: refine.rounds = ${String(rounds)}; expected an integer >= 0.`);
  const refineTrials = refineOpt ? posInt('trials', refineOpt.trials, trials) : 0;
  const top = refineOpt ? posInt('top', refineOpt.top, 3) : 3;
  const shrink = refineOpt?.shrink ?? 0.5;
  if (typeof shrink !== 'number' || !(shrink > 0 && shrink < 1)) throw new OptionError('shrink', `${W}: refine.shrink = ${String(shrink)}; expected a number in (0, 1), e.g. 0.5.`);
  const runner = options.runner ?? inProcessRunner;
  if (typeof runner !== 'function') throw new OptionError('runner', `${W}: runner must be a function (tasks, run) => Promise<outcomes>.`);
  const { build, spec, data, objective, inspect } = options;
  const given = (['build', 'spec', 'objective'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) throw new OptionError(given[1]!, `${W}: give one of build (+ data), spec (+ data) or objective, not ${given.join(' and ')}.`);
  if (objective === undefined) {
    if (spec !== undefined && typeof spec !== 'function') throw new OptionError('spec', `${W}: spec must be a function (config, { seed }) => ({ model: { inputShape, layers, optimizer, loss }, fit }).`);
    if (spec === undefined && typeof build !== 'function') throw new OptionError('build', `${W}: pass build: (config, { seed }) => compiled model (with data), spec: (config, { seed }) => ({ model, fit }), or an objective function.`);
    if (!data || typeof data !== 'object' || data.x === undefined || data.y === undefined) throw new OptionError('data', `${W}: pass data: { x, y, validationData } for ${spec ? 'spec' : 'build'} to train on.`);
  } else if (typeof objective !== 'function') throw new OptionError('objective', `${W}: objective must be a function (config, ctx) => metric.`);
  if (runner.requiresSpec === true && spec === undefined) throw new OptionError('runner', `${W}: this runner trains trials elsewhere (e.g. in workers), which needs them described as data: give spec: (config, { seed }) => ({ model, fit }) instead of ${build ? 'build' : 'objective'}.`);

  const better = (a: number, b: number) => (mode === 'min' ? a < b : a > b);
  const bestOf = (history: History): number => {
    const values = history.history[metric];
    if (!values) throw new OptionError('metric', `${W}: metric '${metric}' is not in the epoch logs (${Object.keys(history.history).join(', ')}); give validation data for val* metrics, or pick one of those.`);
    let best = NaN;
    for (const v of values) if (Number.isFinite(v) && (Number.isNaN(best) || better(v, best))) best = v;
    return best;
  };
  const runSpec = async (task: TrialTask, trainer: Trainer): Promise<TrialOutcome> => {
    const t0 = Date.now();
    const config = task.config as ConfigOf<S>;
    const s = await spec!(config, { seed: task.seed, trial: task.index });
    // the same check fitInWorker applies to its spec, before any trainer (or worker) starts
    checkTrialSpec(s, W);
    const fit = { seed: task.seed, ...(s.fit ?? {}) } as TrialJob['fit'];
    fit.epochs = epochs;
    if (es) fit.earlyStopping = { monitor: metric, mode, patience: es.patience ?? 2, minDelta: es.minDelta ?? 0 };
    if (data!.validationData && !fit.validationData && !fit.validationSplit) fit.validationData = data!.validationData;
    const job: TrialJob = { model: { ...s.model, seed: s.model.seed ?? task.seed }, fit };
    let r;
    try {
      r = await trainer(job, data!.x, data!.y);
    } catch (e) {
      if (e instanceof NonFiniteError) return { metric: NaN, epochs: 0, timeMs: Date.now() - t0, error: e.message };
      throw e;
    }
    if ('failed' in r) return { metric: NaN, epochs: 0, timeMs: Date.now() - t0, error: r.failed };
    const best = bestOf(r.history);
    let extra: Record<string, number> | undefined;
    if (inspect) {
      const model = modelFromSpec(job.model, r.weights);
      try {
        extra = inspect(model, config) ?? undefined;
      } finally {
        model.dispose();
      }
    }
    return { metric: best, epochs: r.history.epoch.length, timeMs: Date.now() - t0, history: r.history, ...(extra ? { extra } : {}) };
  };
  const runOne = async (task: TrialTask, trainer?: Trainer): Promise<TrialOutcome> => {
    if (spec) return runSpec(task, trainer ?? inProcessTrainer);
    if (trainer !== undefined) throw new OptionError('runner', `${W}: the runner passed a trainer, which needs trials described by spec: give spec: (config, { seed }) => ({ model, fit }) instead of ${build ? 'build' : 'objective'}.`);
    const t0 = Date.now();
    const config = task.config as ConfigOf<S>;
    if (objective) {
      const r = await objective(config, { seed: task.seed, trial: task.index, budget: { epochs } });
      const m = typeof r === 'number' ? r : r?.metric;
      if (typeof m !== 'number') throw new OptionError('objective', `${W}: the objective returned ${JSON.stringify(r)}; return a number or { metric, epochs }.`);
      return { metric: m, epochs: typeof r === 'object' && r.epochs !== undefined ? r.epochs : epochs, timeMs: Date.now() - t0 };
    }
    const made = await build!(config, { seed: task.seed, trial: task.index });
    const setup: TrialSetup = made && typeof (made as Sequential).fit === 'function' ? { model: made as Sequential } : (made as TrialSetup);
    if (!setup || typeof setup.model?.fit !== 'function') throw new OptionError('build', `${W}: build returned ${typeof made}; return a compiled Sequential or { model, fit }.`);
    const { model } = setup;
    try {
      const fitOpts: FitOptions = { seed: task.seed, ...(setup.fit ?? {}) };
      if (data!.validationData && !fitOpts.validationData && !fitOpts.validationSplit) fitOpts.validationData = data!.validationData;
      const cbs = [...(fitOpts.callbacks ?? [])];
      if (es) cbs.push(earlyStopping({ monitor: metric, mode, patience: es.patience ?? 2, minDelta: es.minDelta ?? 0 }));
      let history: History;
      try {
        history = await model.fit(data!.x, data!.y as Labels, { ...fitOpts, epochs, callbacks: cbs });
      } catch (e) {
        if (e instanceof NonFiniteError) return { metric: NaN, epochs: 0, timeMs: Date.now() - t0, error: e.message };
        throw e;
      }
      const best = bestOf(history);
      const extra = inspect?.(model, config) ?? undefined;
      return { metric: best, epochs: history.epoch.length, timeMs: Date.now() - t0, history, ...(extra ? { extra } : {}) };
    } finally {
      model.dispose();
    }
  };

  const rng = new Rng(seed);
  const all: TrialResult<ConfigOf<S>>[] = [];
  const spaces: Space[] = [];
  let space: Space = options.space;
  const order = (list: TrialResult<ConfigOf<S>>[]) =>
    [...list].sort((a, b) => {
      const fa = Number.isFinite(a.metric);
      const fb = Number.isFinite(b.metric);
      if (fa !== fb) return fa ? -1 : 1;
      if (!fa) return a.index - b.index;
      return a.metric === b.metric ? a.index - b.index : better(a.metric, b.metric) ? -1 : 1;
    });
  for (let round = 0; round <= rounds; round++) {
    if (round > 0) {
      const ranked = order(all).filter((t) => Number.isFinite(t.metric));
      if (ranked.length === 0) break; // nothing to refine around
      space = shrinkSpace(space, ranked[0]!.config as Record<string, unknown>, ranked.slice(0, top).map((t) => t.config as Record<string, unknown>), shrink);
    }
    spaces.push(space);
    const configs = propose(space, round === 0 ? trials : refineTrials, rng);
    const tasks: TrialTask[] = configs.map((config, i) => {
      const encoded: Record<string, number> = {};
      for (const [name, p] of Object.entries(space)) {
        // encoded: numbers as they are; a choice as its index in the ORIGINAL options
        encoded[name] = p.kind === 'choice' ? (options.space[name] as ChoiceParam<unknown>).options.indexOf(config[name]) : (config[name] as number);
      }
      const index = all.length + i;
      return { index, round, config, encoded, seed: seedOf(seed, index) };
    });
    const outcomes = await runner(tasks, runOne);
    if (!Array.isArray(outcomes) || outcomes.length !== tasks.length) throw new OptionError('runner', `${W}: the runner returned ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${tasks.length} tasks.`);
    tasks.forEach((t, i) => {
      const r: TrialResult<ConfigOf<S>> = { ...outcomes[i]!, index: t.index, round: t.round, config: t.config as ConfigOf<S>, seed: t.seed };
      all.push(r);
      options.onTrialEnd?.(r);
    });
  }
  const sorted = order(all);
  const names = Object.keys(options.space);
  return {
    trials: sorted,
    best: sorted[0]!,
    spaces,
    metric,
    mode,
    table: () => {
      const head = ['rank', 'round', metric, 'epochs', 'time ms', ...names];
      const rows = sorted.map((t, i) => [String(i + 1), String(t.round), Number.isFinite(t.metric) ? t.metric.toPrecision(5) : `failed`, String(t.epochs), String(Math.round(t.timeMs)), ...names.map((n) => describeValue((t.config as Record<string, unknown>)[n]))]);
      const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
      const line = (r: string[]) => r.map((v, c) => (c < 5 ? v.padStart(w[c]!) : v.padEnd(w[c]!))).join('  ').trimEnd();
      return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
    },
    plot: (plotOptions: PlotOptions = {}) => {
      const out: Record<string, string> = {};
      for (const name of names) {
        const p = options.space[name]!;
        const xOf = (v: unknown): number => (p.kind === 'choice' ? p.options.indexOf(v) : p.kind === 'logUniform' ? Math.log10(v as number) : (v as number));
        const series: Series[] = [];
        for (let r = 0; r < spaces.length; r++) {
          const pts = all.filter((t) => t.round === r && Number.isFinite(t.metric));
          const xs: number[] = [];
          const ys: number[] = [];
          for (const t of pts) {
            // NaN between points: the chart draws each as a separate dot
            xs.push(xOf((t.config as Record<string, unknown>)[name]), 0);
            ys.push(t.metric, NaN);
          }
          if (pts.length > 0) series.push({ name: r === 0 ? 'round 0 (coarse)' : `round ${r} (refined)`, values: ys, x: xs });
        }
        if (series.length === 0) series.push({ name: 'no finished trials', values: [] });
        const xLabel = p.kind === 'choice' ? `${name}: ${p.options.map((o, i) => `${i} = ${describeValue(o)}`).join(', ')}` : p.kind === 'logUniform' ? `log10(${name})` : name;
        out[name] = plotSeries(series, { title: `${metric} vs ${name}`, xLabel, yLabel: metric, ...plotOptions });
      }
      return out;
    },
  };
}

// ------------------------------------------------------------------------------------------
// Grid search
// ------------------------------------------------------------------------------------------

/** Options of {@link gridSearch}: those of {@link randomSearch}, with `points` instead of `trials`. */
export interface GridSearchOptions<S extends Space> extends Omit<RandomSearchOptions<S>, 'trials' | 'refine'> {
  /**
   * Grid points per numeric hyperparameter (default 3): one number for all, or `{ name: k }` (the
   * rest take 3). A choice always contributes all its options.
   */
  points?: number | Partial<Record<keyof S & string, number>>;
  /** Coarse-to-fine: after the first grid, `rounds` more grids over spaces shrunk around the best trials ({@link shrinkSpace}). `true` = `{ rounds: 1 }`. */
  refine?: Omit<RefineOptions, 'trials'> | boolean;
}

/**
 * The grid values of one dimension: `k` evenly spaced values from `low` to `high` (both included;
 * the midpoint when `k` = 1) for `uniform`, evenly spaced in log space for `logUniform` (geometric:
 * `low·(high/low)^(i/(k−1))`), the same rounded to integers without repeats for `intUniform`, and
 * every option of a `choice`.
 */
export function gridValues(p: Dim, k: number): unknown[] {
  if (p.kind === 'choice') return [...p.options];
  const at = (t: number) => (p.kind === 'logUniform' ? Math.exp(Math.log(p.low) + (Math.log(p.high) - Math.log(p.low)) * t) : p.low + (p.high - p.low) * t);
  const ts = k === 1 ? [0.5] : Array.from({ length: k }, (_, i) => i / (k - 1));
  // the ends exactly (exp(log(x)) need not round-trip)
  const vs = ts.map((t) => (t === 0 ? p.low : t === 1 ? p.high : at(t)));
  return p.kind === 'intUniform' ? [...new Set(vs.map((v) => Math.round(v)))] : vs;
}

/**
 * Grid search over `space`: every combination of {@link gridValues} per hyperparameter (the
 * Cartesian product, the last hyperparameter varying fastest), each trained within the budget and
 * scored like {@link randomSearch}'s trials, with the same runners, failure handling and result;
 * optional refinement rounds put a new grid on the space shrunk around the best trials
 * (coarse-to-fine). Random search usually finds a better configuration with the same number of
 * trials when only a few hyperparameters matter (Bergstra & Bengio 2012): a 3×3 grid tries only 3
 * distinct values of each, random search 9 (`examples/grid-vs-random.mjs` reproduces it).
 */
export async function gridSearch<S extends Space>(options: GridSearchOptions<S>): Promise<SearchResult<ConfigOf<S>>> {
  const W = 'gridSearch';
  if (!options || typeof options !== 'object') throw new OptionError('options', `${W}: pass { space, build, data, points, ... }.`);
  checkOptions(W, options, [...SEARCH_KEYS.filter((k) => k !== 'trials'), 'points']);
  validateSpace(options.space, W);
  const names = Object.keys(options.space);
  const pts = options.points ?? 3;
  const checkK = (where: string, k: unknown): number => {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1000) throw new OptionError('points', `${W}: ${where} = ${String(k)}; expected an integer from 1 to 1000 (grid points of a numeric hyperparameter).`);
    return k;
  };
  let per: Record<string, number>;
  if (typeof pts === 'number') per = Object.fromEntries(names.map((n) => [n, checkK('points', pts)]));
  else if (pts && typeof pts === 'object' && !Array.isArray(pts)) {
    for (const n of Object.keys(pts)) if (!names.includes(n)) throw new OptionError('points', `${W}: points.${n} names no hyperparameter of the space (${names.join(', ')}).`);
    per = Object.fromEntries(names.map((n) => [n, (pts as Record<string, number>)[n] === undefined ? 3 : checkK(`points.${n}`, (pts as Record<string, number>)[n])]));
  } else throw new OptionError('points', `${W}: points must be a number or { name: count }.`);
  const grid = (space: Space): Record<string, unknown>[] => {
    let out: Record<string, unknown>[] = [{}];
    for (const n of names) {
      const vs = gridValues(space[n]!, per[n]!);
      out = out.flatMap((c) => vs.map((v) => ({ ...c, [n]: v })));
    }
    return out;
  };
  const size = grid(options.space).length;
  if (size > 100_000) throw new OptionError('points', `${W}: the grid has ${size} points; use fewer points per hyperparameter (or randomSearch).`);
  const { points: _points, refine, ...rest } = options;
  void _points;
  const refineOpt = refine === true ? {} : refine ? { ...refine, trials: size } : undefined;
  return searchCore(W, { ...rest, trials: size, ...(refineOpt ? { refine: refineOpt } : {}) } as RandomSearchOptions<S>, (space) => grid(space));
}
