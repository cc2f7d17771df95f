/** `wasmfit train`: a dense network on a CSV file. @internal */
import { parseArgs } from 'node:util';
import { progressBar } from '../callbacks/progress.js';
import { Rng } from '../data/rng.js';
import type { Labels } from '../data/tensor.js';
import { activation, batchNorm, dense, dropout, type ActivationName, type LayerConfig } from '../layers/index.js';
import { type FitSpec, type ModelSpec, fitRunOf, modelFromSpec } from '../model/spec.js';
import { l1l2 } from '../regularizers/index.js';
import { init } from '../runtime/loader.js';
import { cellAt, classLabel, columnIndex, decimal, dropMissingRows, featureRows, isMissing, readCsv } from './csv.js';
import { ColumnTransformer, type ColumnStep, OneHotEncoder, StandardScaler } from '../preprocess/index.js';
import { CliError } from './errors.js';
import { linearModel, linearPenalty } from './linear.js';
import { type CliMeta, saveCliModel } from './modelfile.js';
import { parseEarlyStopping, parseLayers, parseOptimizer, parseSchedule } from './specs.js';
import { checkOutFile, formatTable, negativeValuesJoined, num, regressionMetrics, type Io } from './util.js';

export const TRAIN_HELP = `Usage: wasmfit train --data FILE.csv --target COLUMN --out MODEL.wasmfit [options]

Trains a dense network on a CSV file with a header row. Numeric feature columns (decimal numbers)
are standardized with the training rows' mean and standard deviation; a column of text only is
one-hot encoded (categories of the training rows; one unseen at predict encodes as all zeros). The
fitted preprocessing is stored in the model file. A cell that is empty, NA, N/A, NaN, null, None or ? is a missing value: in a feature,
or in a numeric target, it is an error naming its line, unless --drop-missing skips its row.
Numeric class labels are compared as numbers ('0' and '0.0' are one class).

  --data FILE            CSV file with a header row (required)
  --target COLUMN        column to predict (required)
  --out FILE             model file to write (required)
  --features A,B,...     feature columns (default: every column except the target)
  --task TASK            auto | classification | regression (default auto: classification when
                         the target is not numeric, or integer-valued with at most 20 values)
  --drop-missing         skip rows with a missing value in the target or a feature column (the
                         number of rows skipped and their lines are reported on stderr)
  --layers SIZES         hidden layer sizes, e.g. 64,32 ("" for none: a linear or logistic model).
                         Default auto: trains both "" and 64,32 and keeps the one with the lower
                         validation loss (training loss without a validation split). Without
                         --optimizer, --lr, --schedule, --l1 and --l2, the linear model is fitted as
                         scikit-learn's LogisticRegression() / LinearRegression() are: full-batch
                         L-BFGS to convergence, with logistic regression's L2 penalty (C = 1)
  --activation NAME      relu | leakyRelu | elu | selu | tanh | sigmoid (default relu)
  --optimizer NAME       adam | adamw | amsgrad | sgd | momentum | rmsprop | adagrad (default adam,
                         and L-BFGS for the linear model as described under --layers)
  --lr RATE              learning rate (default: the optimizer's; adam 1e-3, sgd 0.01)
  --schedule SPEC        e.g. cosine:tMax=20, step:stepSize=10,gamma=0.5, onecycle, cyclic
  --dropout RATE         dropout after each hidden layer (default 0)
  --l2 LAMBDA / --l1 LAMBDA   kernel penalties λ·Σw² / λ·Σ|w| (default 0)
  --batch-norm           batch normalization after each hidden dense layer
  --epochs N             most epochs to run (default auto: up to 1000, ended by early stopping)
  --batch-size N         (default 32)
  --validation-split F   fraction held out, after a seeded shuffle (default 0.2)
  --early-stopping SPEC  e.g. patience=5[,minDelta=0.001,monitor=valLoss] (restores the best weights);
                         default patience=20 on the validation loss (training loss without a
                         validation split); off to run every epoch
  --refit on|off         with early stopping and a validation split, train the chosen model again
                         on all rows for the best epoch count before saving (default on)
  --seed N               seed of initialization, shuffling and the split (default 0)
  --quiet                no progress output`;

const OPTIONS = {
  data: { type: 'string' },
  target: { type: 'string' },
  out: { type: 'string' },
  features: { type: 'string' },
  task: { type: 'string', default: 'auto' },
  layers: { type: 'string', default: 'auto' },
  activation: { type: 'string', default: 'relu' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  schedule: { type: 'string' },
  dropout: { type: 'string', default: '0' },
  l2: { type: 'string' },
  l1: { type: 'string' },
  'batch-norm': { type: 'boolean', default: false },
  epochs: { type: 'string', default: 'auto' },
  'batch-size': { type: 'string', default: '32' },
  'validation-split': { type: 'string', default: '0.2' },
  'early-stopping': { type: 'string' },
  seed: { type: 'string', default: '0' },
  refit: { type: 'string', default: 'on' },
  'drop-missing': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `--epochs auto`: the most epochs; early stopping (on by default) ends training sooner. */
const AUTO_EPOCHS = 1000;
/** `--early-stopping` when not given. */
const AUTO_EARLY_STOPPING = 'patience=20';
/** `--layers auto`: each is trained, the lowest validation loss wins. */
const AUTO_LAYERS: number[][] = [[], [64, 32]];

const ACTIVATIONS = ['relu', 'leakyRelu', 'elu', 'selu', 'tanh', 'sigmoid'];

export async function train(argv: string[], io: Io): Promise<void> {
  const { values: a } = parseArgs({ args: negativeValuesJoined(argv, OPTIONS), options: OPTIONS, strict: true, allowPositionals: false });
  if (a.help) {
    io.out(TRAIN_HELP + '\n');
    return;
  }
  for (const req of ['data', 'target', 'out'] as const) if (!a[req]) throw new CliError(`--${req} is required. Run wasmfit train --help.`);
  // Defaults that scale with the data: up to AUTO_EPOCHS epochs, ended by early stopping.
  const epochs = a.epochs === 'auto' ? AUTO_EPOCHS : num(a.epochs, '--epochs', { int: true, min: 1 });
  const batchSize = num(a['batch-size'], '--batch-size', { int: true, min: 1 });
  const split = num(a['validation-split'], '--validation-split', { min: 0, max: 0.95 });
  const seed = num(a.seed, '--seed', { int: true });
  const rate = num(a.dropout, '--dropout', { min: 0, max: 0.95 });
  const l2v = a.l2 === undefined ? 0 : num(a.l2, '--l2', { min: 0 });
  const l1v = a.l1 === undefined ? 0 : num(a.l1, '--l1', { min: 0 });
  const lr = a.lr === undefined ? undefined : num(a.lr, '--lr', { min: 0 });
  if (!['on', 'off'].includes(a.refit)) throw new CliError(`--refit: '${a.refit}' is unknown; use on or off.`);
  const refit = a.refit === 'on';
  const candidates = a.layers === 'auto' ? AUTO_LAYERS : [parseLayers(a.layers)];
  if (!ACTIVATIONS.includes(a.activation)) throw new CliError(`--activation: '${a.activation}' is unknown; use one of ${ACTIVATIONS.join(', ')}.`);
  if (!['auto', 'classification', 'regression'].includes(a.task)) throw new CliError(`--task: '${a.task}' is unknown; use auto, classification or regression.`);
  const optimizer = parseOptimizer(a.optimizer ?? 'adam', lr);
  // A linear model with no optimizer options given is fitted as scikit-learn fits one (linear.ts).
  const sklearnLinear = a.optimizer === undefined && a.lr === undefined && a.schedule === undefined && a.l1 === undefined && a.l2 === undefined;
  const isLinear = (hidden: number[]) => hidden.length === 0 && sklearnLinear;
  checkOutFile(a.out!, '--out'); // before any work: a model trained for nothing is the worst way to learn it

  // ---- data ----
  let t = readCsv(a.data!);
  const ti = columnIndex(t, a.target!, '--target');
  const fi = a.features ? a.features.split(',').map((f) => columnIndex(t, f.trim(), '--features')) : t.header.map((_, i) => i).filter((i) => i !== ti);
  if (fi.includes(ti)) throw new CliError(`--features includes the target column '${a.target}'.`);
  if (fi.length === 0) throw new CliError(`${t.file} has no feature columns besides the target '${a.target}'.`);
  const FIX_MISSING = 'fix the cell, or pass --drop-missing to skip rows with missing values';
  if (a['drop-missing']) {
    const { table, dropped } = dropMissingRows(t, [ti, ...fi]);
    if (dropped.length > 0) {
      const shown = dropped.slice(0, 10).join(', ') + (dropped.length > 10 ? `, … (${dropped.length - 10} more)` : '');
      io.err(`wasmfit: skipped ${dropped.length} row${dropped.length === 1 ? '' : 's'} with a missing cell (${t.file}:${shown})\n`);
      if (table.rows.length === 0) throw new CliError(`${t.file}: every row has a missing cell in the target or a feature column; nothing is left to train on.`);
    }
    t = table;
  }
  const feat = featureRows(t, fi, FIX_MISSING);
  const rawY = t.rows.map((r) => r[ti]!);
  rawY.forEach((v, r) => {
    if (v === '') throw new CliError(`${cellAt(t, r, ti)}: empty target cell; ${FIX_MISSING}.`);
  });
  // Decimal numbers only (no hex); a numeric target with a hole ('NA') must not become a
  // classification with one class per distinct value.
  const numericY = rawY.map(decimal);
  const isNum = numericY.map(Number.isFinite);
  const numCount = isNum.filter(Boolean).length;
  const allNumeric = numCount === rawY.length;
  const firstOther = (f: (v: string, r: number) => boolean) => rawY.findIndex(f);
  if (!allNumeric && numCount > 0 && (a.task === 'regression' || rawY.every((v, r) => isNum[r] || isMissing(v)))) {
    const r = firstOther((v) => isMissing(v));
    if (r >= 0) throw new CliError(`${cellAt(t, r, ti)}: '${rawY[r]}' is a missing value in a numeric target; ${FIX_MISSING}.`);
  }
  const labels = rawY.map(classLabel);
  const distinct = new Set(labels);
  const manyValues = new Set(labels.filter((_, r) => isNum[r])).size > 20;
  if (a.task === 'auto' && !allNumeric && numCount > 0 && manyValues) {
    const r = firstOther((_, r) => !isNum[r]);
    throw new CliError(`${cellAt(t, r, ti)}: '${rawY[r]}' is not a number, but ${numCount} other cells are; fix the cell, or pass --task classification if the column holds class labels.`);
  }
  const task = a.task === 'auto' ? (!allNumeric || (numericY.every(Number.isInteger) && distinct.size <= 20) ? 'classification' : 'regression') : (a.task as 'classification' | 'regression');
  if (task === 'regression' && !allNumeric) {
    const r = numericY.findIndex((v) => !Number.isFinite(v));
    throw new CliError(`${cellAt(t, r, ti)}: '${rawY[r]}' is not a number; regression needs numeric targets.`);
  }
  let classes: string[] | null = null;
  if (task === 'classification') {
    classes = [...distinct].sort(allNumeric ? (p, q) => Number(p) - Number(q) : undefined);
    if (classes.length < 2) throw new CliError(`column '${a.target}' has a single value ('${classes[0]}'); classification needs at least 2 classes.`);
  }
  const n = t.rows.length;
  // seeded shuffle, then the last `split` fraction is held out for validation
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(seed).shuffle(perm);
  const nVal = Math.floor(n * split);
  const nTrain = n - nVal;
  if (nTrain < 2) throw new CliError(`${t.file}: ${n} rows leave ${nTrain} for training; add rows or lower --validation-split.`);
  const take = (from: number, count: number) => {
    const idx = perm.subarray(from, from + count);
    return { rows: Array.from(idx, (r) => feat.rows[r]!), idx };
  };
  const tr = take(0, nTrain);
  const va = take(nTrain, nVal);
  // numeric columns standardized, text columns one-hot encoded, both fitted on the training rows
  // (wasmfit/preprocess; the fitted preprocessing is saved in the model file for predict)
  const featureNames = fi.map((i) => t.header[i]!);
  const numIdx = fi.flatMap((_, j) => (feat.text[j] ? [] : [j]));
  const textIdx = fi.flatMap((_, j) => (feat.text[j] ? [j] : []));
  const steps: ColumnStep[] = [];
  if (numIdx.length > 0) steps.push(['num', new StandardScaler(), numIdx]);
  if (textIdx.length > 0) steps.push(['cat', new OneHotEncoder({ handleUnknown: 'ignore' }), textIdx]);
  const prep = new ColumnTransformer(steps, { featureNames }).fit(tr.rows);
  const d = prep.nFeaturesOut;
  const standardize = (rows: (number | string)[][]) => prep.transform(rows).data;
  let yMean = 0;
  let yStd = 1;
  const targetsFor = (idx: Int32Array): Int32Array | Float32Array => {
    if (classes) {
      const id = new Map(classes.map((c, i) => [c, i]));
      return Int32Array.from(idx, (r) => id.get(labels[r]!)!);
    }
    return Float32Array.from(idx, (r) => (numericY[r]! - yMean) / yStd);
  };
  if (!classes) {
    yMean = Array.from(tr.idx, (r) => numericY[r]!).reduce((s, v) => s + v, 0) / nTrain;
    yStd = Math.sqrt(Array.from(tr.idx, (r) => (numericY[r]! - yMean) ** 2).reduce((s, v) => s + v, 0) / nTrain) || 1;
  }
  const xTrain = standardize(tr.rows);
  const yTrain = targetsFor(tr.idx);
  const xVal = standardize(va.rows);
  const yVal = targetsFor(va.idx);

  // ---- model ----
  const act = a.activation as ActivationName;
  const reg = l1v > 0 || l2v > 0 ? l1l2({ l1: l1v, l2: l2v }) : undefined;
  // He for the ReLU family, LeCun for SELU (self-normalizing), Glorot for the saturating ones
  const kernelInitializer = act === 'relu' || act === 'leakyRelu' || act === 'elu' ? 'heNormal' : act === 'selu' ? 'lecunNormal' : 'glorotUniform';
  const specOf = (hidden: number[], rows: number): ModelSpec => {
    const layers: LayerConfig[] = [];
    for (const u of hidden) {
      const o = { kernelInitializer, ...(reg ? { kernelRegularizer: reg } : {}) } as const;
      if (a['batch-norm']) layers.push(dense(u, o), batchNorm(), activation(act));
      else layers.push(dense(u, { ...o, activation: act }));
      if (rate > 0) layers.push(dropout(rate));
    }
    const penalty = isLinear(hidden) ? linearPenalty(classes ? classes.length : null, rows) : 0;
    const outReg = penalty > 0 ? l1l2({ l2: penalty }) : isLinear(hidden) ? undefined : reg;
    layers.push(dense(classes ? classes.length : 1, outReg ? { kernelRegularizer: outReg } : {}));
    return { inputShape: [d], layers, seed, optimizer, loss: classes ? 'softmaxCrossEntropy' : 'mse' };
  };
  const hasVal = nVal > 0;
  const schedule = a.schedule ? parseSchedule(a.schedule, optimizer.lr, epochs, Math.ceil(nTrain / batchSize)) : undefined;
  const esText = a['early-stopping'] ?? AUTO_EARLY_STOPPING;
  const esOptions = esText === 'off' ? undefined : parseEarlyStopping(esText, hasVal);
  const fitSpec: FitSpec = { epochs, batchSize, seed, ...(hasVal ? { validationData: [xVal, yVal] as const } : {}), ...(schedule ? { schedule } : {}), ...(esOptions ? { earlyStopping: esOptions } : {}) };
  // the progress bar first, then early stopping (built here: a bad option is refused before training starts)
  const bar = () => (a.quiet ? [] : [progressBar({ stream: io.errStream, mode: io.errStream.isTTY ? 'bar' : 'epoch' })]);
  const runOf = () => fitRunOf(fitSpec, bar());
  runOf();
  // the scikit-learn-style linear fit: one full-batch L-BFGS epoch, nothing to stop early
  const linearRunOf = (rows: number) => fitRunOf({ epochs: 1, batchSize: rows, seed, shuffle: false }, bar());
  const build = (hidden: number[], rows: number) => (isLinear(hidden) ? linearModel(specOf(hidden, rows), rt) : modelFromSpec(specOf(hidden, rows), undefined, rt));

  const rt = await init();
  // Each candidate architecture (one unless --layers auto) is trained; the lowest validation loss
  // (training loss without validation rows) is kept.
  type Trained = { model: ReturnType<typeof modelFromSpec>; hidden: number[]; ran: number; seconds: number; es: ReturnType<typeof fitRunOf>['earlyStopping']; score: number };
  let best: Trained | null = null;
  const tried: string[] = [];
  try {
    for (const hidden of candidates) {
      const model = build(hidden, nTrain);
      try {
        // after the first model is built: a model too large for memory is a one-line error
        if (tried.length === 0) io.err(`wasmfit: ${nTrain} training rows, ${nVal} validation rows, ${fi.length} features${textIdx.length > 0 ? ` (${textIdx.length} of text, one-hot encoded: ${d} inputs)` : ''}, ${classes ? `${classes.length} classes` : 'regression'}; ${rt.fma ? 'FMA (relaxed SIMD)' : rt.simd ? 'SIMD128' : 'scalar'} kernels\n`);
        if (candidates.length > 1) io.err(`wasmfit: --layers auto: training layers '${hidden.join(',')}'\n`);
        const { options: fitOptions, earlyStopping: es } = isLinear(hidden) ? linearRunOf(nTrain) : runOf();
        const t0 = Date.now();
        const history = await model.fit(xTrain, yTrain as Labels, fitOptions);
        const seconds = (Date.now() - t0) / 1000;
        const score = hasVal ? model.evaluate(xVal, yVal).loss : model.evaluate(xTrain, yTrain).loss;
        tried.push(`'${hidden.join(',')}' ${hasVal ? 'validation' : 'training'} loss ${score.toFixed(4)}`);
        const cur: Trained = { model, hidden, ran: history.epoch.length, seconds, es, score };
        if (!best || score < best.score) {
          best?.model.dispose();
          best = cur;
        } else model.dispose();
      } catch (e) {
        if (best?.model !== model) model.dispose();
        throw e;
      }
    }
  } catch (e) {
    best?.model.dispose();
    throw e;
  }
  const { model, ran, seconds, es } = best!;
  try {
    io.out(`${model.summary()}\n\n`);
    if (candidates.length > 1) io.out(`--layers auto: ${tried.join('; ')}; kept '${best!.hidden.join(',')}'.\n\n`);
    const esNote = es ? ` (early stopping: ${es.stoppedEpoch > 0 ? `stopped at epoch ${es.stoppedEpoch + 1}; ` : ''}weights of the best epoch, ${es.bestEpoch + 1}, restored)` : '';
    io.out(`Trained ${ran} epoch${ran === 1 ? '' : 's'} in ${seconds.toFixed(2)} s${esNote}.\n\n`);
    const rows: string[][] = [];
    if (classes) {
      const etr = model.evaluate(xTrain, yTrain);
      const eva = hasVal ? model.evaluate(xVal, yVal) : null;
      rows.push(['loss', etr.loss.toFixed(4), eva ? eva.loss.toFixed(4) : '-'], ['accuracy', etr.accuracy.toFixed(4), eva ? eva.accuracy.toFixed(4) : '-']);
    } else {
      const orig = (idx: Int32Array) => Float64Array.from(idx, (r) => numericY[r]!);
      const pred = (x: Float32Array) => Float64Array.from(model.predict(x).data, (v) => yMean + yStd * v);
      const mtr = regressionMetrics(orig(tr.idx), pred(xTrain));
      const mva = hasVal ? regressionMetrics(orig(va.idx), pred(xVal)) : null;
      for (const k of ['rmse', 'mae', 'r2'] as const) rows.push([k === 'r2' ? 'R²' : k.toUpperCase(), mtr[k].toPrecision(5), mva ? mva[k].toPrecision(5) : '-']);
    }
    io.out(formatTable(['metric', 'train', 'validation'], rows) + '\n\n');
    const meta: CliMeta = { version: 2, task, target: a.target!, features: featureNames, textFeatures: textIdx.map((j) => featureNames[j]!), classes, yMean, yStd };
    let saved = model;
    try {
      // Refit: the validation rows chose the architecture and the epoch count; the saved model is
      // then trained again, from the same seed, on every row for that many epochs.
      const linear = isLinear(best!.hidden);
      if (refit && hasVal && (es || linear)) {
        const refitEpochs = linear ? 1 : es!.bestEpoch + 1;
        const xAllRows = new Float32Array(xTrain.length + xVal.length);
        xAllRows.set(xTrain);
        xAllRows.set(xVal, xTrain.length);
        const yAllRows = yTrain instanceof Int32Array ? new Int32Array(nTrain + nVal) : new Float32Array(nTrain + nVal);
        yAllRows.set(yTrain);
        yAllRows.set(yVal, nTrain);
        saved = build(best!.hidden, nTrain + nVal);
        const { options } = linear ? linearRunOf(nTrain + nVal) : fitRunOf({ epochs: refitEpochs, batchSize, seed, ...(schedule ? { schedule } : {}) }, []);
        await saved.fit(xAllRows, yAllRows as Labels, options);
        const what = linear ? 'to convergence (L-BFGS)' : `for ${refitEpochs} epoch${refitEpochs === 1 ? '' : 's'}`;
        io.out(`Refit on all ${nTrain + nVal} rows ${what} (the metrics above are the model before the refit; --refit off saves that one).\n`);
      }
      saved.setPreprocessing(prep);
      const bytes = await saveCliModel(a.out!, saved, meta);
      io.out(`Saved ${a.out} (${bytes} bytes).\n`);
    } finally {
      if (saved !== model) saved.dispose();
    }
  } finally {
    model.dispose();
  }
}
