// The playground: builds a model spec from the form, trains it in a worker with fitInWorker and
// redraws the learning-rate, loss and accuracy charts (SVG from wasmfit's plotSeries) and, for the
// 2-D points, the decision boundary on every event. Plain ES modules, no framework, no bundler.
import {
  Rng, Sequential, init, dense, dropout, batchNorm, activation, l1l2, maxNorm, conv2d, maxPool2d, flatten,
  sgd, adam, adamw, amsgrad, rmsprop, adagrad,
  constant, cosineAnnealingLR, stepLR, exponentialLR, warmup, oneCycleLR, cyclicLR,
} from 'wasmfit';
import { plotSeries } from 'wasmfit/plot';
import { fitInWorker } from 'wasmfit/worker';
import { decodeDigits, splitDigits } from './digits.js';
import { makePreset } from './points.js';
import { filterTiles, toMnist } from './draw.js';

const $ = (id) => document.getElementById(id);
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];
const RGB = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];
const GRID = 80; // decision-boundary resolution (GRID × GRID predictions per epoch)
const DIGIT_SAMPLES = 24;
const DIGITS_HELD_OUT = 1000;
const DIGITS_SEED = 0;

/** State shared with the browser tests (read-only for them). */
const state = {
  phase: 'loading',
  dataset: 'digits',
  points: /** @type {{x:number,y:number,c:number}[]} */ ([]),
  currentClass: 0,
  digits: null,
  test: null,
  job: null,
  result: null,
  config: null,
  maxTimerGapMs: 0,
  trainingSince: null,
  epochsSeen: 0,
  /** 'mlp' or 'cnn' (digits only) */
  modelKind: 'mlp',
  /** a main-thread copy of the model being trained (weights from the worker's epoch events) for the drawing */
  drawModel: null,
  /** the drawn digit as the model sees it (784 values in [0, 1]) and the last prediction (10 probabilities) */
  drawn: null,
  drawProbs: null,
};
window.playground = state;

function setStatus(phase, text) {
  state.phase = phase;
  $('status').dataset.state = phase;
  $('status').textContent = text;
}

// ---------- data ----------

async function loadDigits() {
  if (state.digits) return state.digits;
  const res = await fetch('/data/digits.bin');
  if (!res.ok) throw new Error(`loading /data/digits.bin failed: HTTP ${res.status} (serve the page with npm run playground)`);
  state.digits = decodeDigits(await res.arrayBuffer());
  return state.digits;
}

function pointsData() {
  const pts = state.points.slice();
  if (pts.length < 10) throw new Error('add at least 10 points (click the canvas or load a preset)');
  const classes = Math.max(2, ...pts.map((p) => p.c + 1));
  // the validation split is taken from the end: shuffle first so every class is in both parts
  const order = Int32Array.from(pts.keys());
  new Rng(Number($('seed').value) || 0).shuffle(order);
  const x = new Float32Array(pts.length * 2);
  const y = new Int32Array(pts.length);
  order.forEach((j, i) => {
    x[2 * i] = pts[j].x;
    x[2 * i + 1] = pts[j].y;
    y[i] = pts[j].c;
  });
  return { x, y, rows: pts.length, cols: 2, classes };
}

function gridProbe() {
  const g = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      const i = r * GRID + c;
      g[2 * i] = ((c + 0.5) / GRID) * 2 - 1;
      g[2 * i + 1] = 1 - ((r + 0.5) / GRID) * 2;
    }
  }
  return g;
}

// ---------- model spec from the form ----------

function num(id, { min = -Infinity, max = Infinity, int = false } = {}) {
  const v = Number($(id).value);
  if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    throw new Error(`${$(id).closest('label')?.textContent.trim().split('\n')[0] ?? id}: "${$(id).value}" is not ${int ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
  return v;
}

function buildLayers(classes) {
  const text = $('layers').value.trim();
  const units = text === '' ? [] : text.split(',').map((s) => Number(s.trim()));
  if (units.some((u) => !Number.isInteger(u) || u < 1)) throw new Error(`hidden layers: "${text}" must be positive integers separated by commas, e.g. 64,32`);
  const act = $('activation').value;
  const bn = $('batchnorm').checked;
  const rate = num('dropout', { min: 0, max: 0.95 });
  const l1 = num('l1', { min: 0 });
  const l2 = num('l2', { min: 0 });
  const mn = num('maxnorm', { min: 0 });
  const reg = l1 > 0 || l2 > 0 ? l1l2({ l1, l2 }) : undefined;
  const init = act === 'relu' || act === 'leakyRelu' || act === 'elu' ? 'heNormal' : 'glorotUniform';
  const layers = [];
  for (const u of units) {
    const opts = { kernelInitializer: init, ...(reg ? { kernelRegularizer: reg } : {}), ...(mn > 0 ? { kernelConstraint: maxNorm({ maxValue: mn }) } : {}) };
    if (bn) layers.push(dense(u, opts), batchNorm(), activation(act));
    else layers.push(dense(u, { ...opts, activation: act }));
    if (rate > 0) layers.push(dropout(rate));
  }
  layers.push(dense(classes, reg ? { kernelRegularizer: reg } : {}));
  return layers;
}

/** The digits CNN: conv(8, 5×5, relu) → maxPool → conv(16, 5×5, relu) → maxPool → flatten → dense(10). */
function buildCnn(classes) {
  const rate = num('dropout', { min: 0, max: 0.95 });
  const l1 = num('l1', { min: 0 });
  const l2 = num('l2', { min: 0 });
  const mn = num('maxnorm', { min: 0 });
  const reg = l1 > 0 || l2 > 0 ? l1l2({ l1, l2 }) : undefined;
  const opts = { kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal', ...(reg ? { kernelRegularizer: reg } : {}), ...(mn > 0 ? { kernelConstraint: maxNorm({ maxValue: mn }) } : {}) };
  return [
    conv2d(8, opts), // → [24, 24, 8]
    maxPool2d(), // → [12, 12, 8]
    conv2d(16, opts), // → [8, 8, 16]
    maxPool2d(), // → [4, 4, 16]
    flatten(),
    ...(rate > 0 ? [dropout(rate)] : []),
    dense(classes, reg ? { kernelRegularizer: reg } : {}),
  ];
}

function buildOptimizer(lr) {
  switch ($('optimizer').value) {
    case 'sgd': return sgd({ lr });
    case 'momentum': return sgd({ lr, momentum: 0.9, nesterov: true });
    case 'adamw': return adamw({ lr });
    case 'amsgrad': return amsgrad({ lr });
    case 'rmsprop': return rmsprop({ lr });
    case 'adagrad': return adagrad({ lr });
    default: return adam({ lr });
  }
}

function buildSchedule(lr, epochs, stepsPerEpoch) {
  switch ($('schedule').value) {
    case 'cosine': return cosineAnnealingLR({ lr, tMax: epochs });
    case 'step': return stepLR({ lr, stepSize: Math.max(1, Math.round(epochs / 3)), gamma: 0.5 });
    case 'exponential': return exponentialLR({ lr, gamma: 0.9 });
    case 'warmupCosine': return warmup({ steps: 1, startFactor: 0.1 }, cosineAnnealingLR({ lr, tMax: epochs }));
    case 'oneCycle': return oneCycleLR({ maxLr: lr, totalSteps: epochs * stepsPerEpoch });
    case 'cyclic': return cyclicLR({ baseLr: lr / 10, maxLr: lr, stepSizeUp: Math.max(1, Math.floor(stepsPerEpoch / 2)) });
    default: return constant({ lr });
  }
}

// ---------- charts ----------

const charts = { lrPlan: null, lr: [], epochs: [], loss: [], valLoss: [], acc: [], valAcc: [], batchX: [], batchLoss: [] };

function draw(id, series, opts) {
  const el = $(id);
  el.innerHTML = plotSeries(series, { width: 440, height: 240, ...opts });
  el.dataset.updates = String(Number(el.dataset.updates) + 1);
}

let redrawPending = null;
/** Redraws the charts (and digit samples) at most once per animation frame, however fast events arrive. */
function scheduleRedraw(pred) {
  if (redrawPending) {
    if (pred) redrawPending.pred = pred;
    return;
  }
  redrawPending = { pred };
  requestAnimationFrame(() => {
    const { pred: p } = redrawPending;
    redrawPending = null;
    drawCharts();
    if (p && state.dataset === 'digits' && state.test) drawDigitSamples(state.test, p);
  });
}

function drawCharts() {
  const e1 = charts.epochs.map((e) => e + 1);
  const lrSeries = [];
  if (charts.lrPlan) lrSeries.push({ name: 'schedule', values: charts.lrPlan.values, x: charts.lrPlan.x });
  lrSeries.push({ name: 'rate used (end of epoch)', values: charts.lr, x: e1 });
  draw('chart-lr', lrSeries, { title: 'learning rate', xLabel: 'epoch' });
  draw('chart-loss', [
    { name: 'batch loss', values: charts.batchLoss, x: charts.batchX },
    { name: 'train loss', values: charts.loss, x: e1 },
    { name: 'val loss', values: charts.valLoss, x: e1 },
  ], { title: 'loss', xLabel: 'epoch', colors: ['#c7c7c7', '#1f77b4', '#d62728'] });
  draw('chart-acc', [
    { name: 'train accuracy', values: charts.acc, x: e1 },
    { name: 'val accuracy', values: charts.valAcc, x: e1 },
  ], { title: 'accuracy', xLabel: 'epoch', colors: ['#1f77b4', '#d62728'] });
}

function resetCharts(schedule, epochs, stepsPerEpoch) {
  const n = schedule.unit === 'step' ? epochs * stepsPerEpoch : epochs;
  const values = schedule.sample(n);
  // epoch-unit rates hold for a whole epoch: draw them as steps from e to e + 1
  const x = schedule.unit === 'step' ? Array.from(values, (_, t) => (t + 1) / stepsPerEpoch) : Array.from(values, (_, t) => t + 1);
  Object.assign(charts, { lrPlan: { values: Array.from(values), x }, lr: [], epochs: [], loss: [], valLoss: [], acc: [], valAcc: [], batchX: [], batchLoss: [] });
  drawCharts();
}

// ---------- 2-D canvas ----------

function drawCanvas(pred) {
  const cv = $('canvas');
  const ctx = cv.getContext('2d');
  const W = cv.width;
  if (pred) {
    const img = ctx.createImageData(GRID, GRID);
    const k = pred.shape[1];
    for (let i = 0; i < GRID * GRID; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (pred.data[i * k + j] > pred.data[i * k + best]) best = j;
      const conf = pred.data[i * k + best];
      const [r, g, b] = RGB[best] ?? [128, 128, 128];
      const a = 0.15 + 0.5 * Math.max(0, (conf - 1 / k) / (1 - 1 / k));
      img.data.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - b), 255], i * 4);
    }
    const off = new OffscreenCanvas(GRID, GRID);
    off.getContext('2d').putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, W, W);
    cv.dataset.boundaryDraws = String(Number(cv.dataset.boundaryDraws) + 1);
  } else {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, W, W);
  }
  for (const p of state.points) {
    ctx.beginPath();
    ctx.arc(((p.x + 1) / 2) * W, ((1 - p.y) / 2) * W, 4, 0, 2 * Math.PI);
    ctx.fillStyle = COLORS[p.c];
    ctx.fill();
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }
  $('point-count').textContent = String(state.points.length);
}

// ---------- digits samples ----------

function drawDigitSamples(test, pred) {
  const box = $('digit-samples');
  if (box.children.length !== DIGIT_SAMPLES) {
    box.innerHTML = '';
    for (let i = 0; i < DIGIT_SAMPLES; i++) {
      const fig = document.createElement('figure');
      const cv = document.createElement('canvas');
      cv.width = cv.height = 28;
      const img = cv.getContext('2d').createImageData(28, 28);
      for (let p = 0; p < 784; p++) {
        const v = 255 - Math.round(test.x[i * 784 + p] * 255);
        img.data.set([v, v, v, 255], p * 4);
      }
      cv.getContext('2d').putImageData(img, 0, 0);
      const cap = document.createElement('figcaption');
      fig.append(cv, cap);
      box.append(fig);
    }
  }
  [...box.children].forEach((fig, i) => {
    const cap = fig.querySelector('figcaption');
    if (!pred) {
      cap.textContent = '?';
      cap.className = '';
      return;
    }
    let best = 0;
    for (let j = 1; j < 10; j++) if (pred.data[i * 10 + j] > pred.data[i * 10 + best]) best = j;
    cap.textContent = String(best);
    cap.className = best === test.y[i] ? '' : 'wrong';
  });
}

// ---------- drawing a digit, first-layer filters ----------

/** Weights from the worker: into the main-thread copy, the filter tiles and the drawing's prediction. */
function takeWeights(weights) {
  if (!state.drawModel) return;
  state.drawModel.setWeights(weights);
  const kernel = weights.find((w) => w.shape.length === 4);
  if (kernel) drawFilters(kernel);
  predictDrawing();
}

function drawFilters(kernel) {
  const box = $('filters');
  const tiles = filterTiles(kernel);
  if (box.children.length !== tiles.length) {
    box.innerHTML = '';
    for (let j = 0; j < tiles.length; j++) {
      const cv = document.createElement('canvas');
      cv.width = tiles[j].kw;
      cv.height = tiles[j].kh;
      cv.title = `filter ${j}`;
      box.append(cv);
    }
  }
  tiles.forEach((t, j) => box.children[j].getContext('2d').putImageData(new ImageData(t.rgba, t.kw, t.kh), 0, 0));
  box.dataset.updates = String(Number(box.dataset.updates) + 1);
}

const pen = { down: false, id: null, x: 0, y: 0 };

function drawPos(e) {
  const cv = $('draw');
  const r = cv.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * cv.width, ((e.clientY - r.top) / r.height) * cv.height];
}

function clearDrawing() {
  const cv = $('draw');
  const ctx = cv.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, cv.width, cv.height);
  $('draw-28').getContext('2d').clearRect(0, 0, 28, 28);
  state.drawn = null;
  state.drawProbs = null;
  cv.dataset.strokes = '0';
  showProbs(null);
}

function strokeTo(x, y) {
  const ctx = $('draw').getContext('2d');
  ctx.strokeStyle = '#000';
  ctx.fillStyle = '#000';
  ctx.lineWidth = 22; // about MNIST's stroke width once the digit is scaled to 20 pixels
  ctx.lineCap = ctx.lineJoin = 'round';
  ctx.beginPath();
  if (x === pen.x && y === pen.y) {
    ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI); // a dot where the stroke starts
    ctx.fill();
  } else {
    ctx.moveTo(pen.x, pen.y);
    ctx.lineTo(x, y);
    ctx.stroke();
  }
  [pen.x, pen.y] = [x, y];
}

/** The drawing as MNIST-style 28×28 input (ink = 1 - luminance), shown small beside the canvas. */
function readDrawing() {
  const cv = $('draw');
  const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  const ink = new Float32Array(cv.width * cv.height);
  for (let i = 0; i < ink.length; i++) ink[i] = 1 - (px[4 * i] + px[4 * i + 1] + px[4 * i + 2]) / (3 * 255);
  const x = toMnist(ink, cv.width, cv.height, { threshold: 0.05 });
  const small = $('draw-28').getContext('2d');
  small.clearRect(0, 0, 28, 28);
  if (x) {
    const img = small.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - Math.round(x[p] * 255);
      img.data.set([v, v, v, 255], p * 4);
    }
    small.putImageData(img, 0, 0);
  }
  return x;
}

function predictDrawing() {
  if (!state.drawn || !state.drawModel) return;
  state.drawProbs = Array.from(state.drawModel.predict(state.drawn).data);
  showProbs(state.drawProbs);
}

function showProbs(p) {
  const list = $('draw-probs');
  list.innerHTML = '';
  if (p) {
    const best = p.indexOf(Math.max(...p));
    p.forEach((v, d) => {
      const li = document.createElement('li');
      li.dataset.p = String(v);
      li.className = d === best ? 'best' : '';
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(v * 6).toFixed(2)}rem`;
      li.append(`${d}`, bar, `${(v * 100).toFixed(1)}%`);
      list.append(li);
    });
    list.dataset.updates = String(Number(list.dataset.updates) + 1);
  }
  $('draw-hint').textContent = p ? `prediction: ${p.indexOf(Math.max(...p))}` : state.drawModel ? 'Draw a digit: the prediction updates when a stroke ends.' : 'Draw a digit (mouse or touch). Train a model first; the prediction updates when a stroke ends.';
}

$('draw').addEventListener('pointerdown', (e) => {
  e.preventDefault();
  try {
    $('draw').setPointerCapture(e.pointerId);
  } catch {
    // not an active pointer (a synthetic event): strokes still work inside the canvas
  }
  pen.down = true;
  pen.id = e.pointerId;
  [pen.x, pen.y] = drawPos(e);
  strokeTo(pen.x, pen.y);
});
$('draw').addEventListener('pointermove', (e) => {
  if (pen.down && e.pointerId === pen.id) strokeTo(...drawPos(e));
});
const endStroke = (e) => {
  if (!pen.down || e.pointerId !== pen.id) return;
  pen.down = false;
  $('draw').dataset.strokes = String(Number($('draw').dataset.strokes) + 1);
  state.drawn = readDrawing();
  predictDrawing();
};
$('draw').addEventListener('pointerup', endStroke);
$('draw').addEventListener('pointercancel', endStroke);
$('draw-clear').addEventListener('click', clearDrawing);

// ---------- training ----------

async function train() {
  if (state.phase === 'training') return;
  let job;
  try {
    const epochs = num('epochs', { min: 1, max: 500, int: true });
    const batchSize = num('batch-size', { min: 1, max: 4096, int: true });
    const seed = num('seed', { int: true });
    const lr = num('lr', { min: 0 });
    const patience = num('patience', { min: 0, int: true });
    let x, y, inputs, classes, validation, probe, test = null;
    if (state.dataset === 'digits') {
      setStatus('training', 'loading digits…');
      const all = await loadDigits();
      const split = splitDigits(all, { seed: DIGITS_SEED, trainSize: Number($('train-size').value), testSize: DIGITS_HELD_OUT }, Rng);
      ({ x, y } = split.train);
      test = split.test;
      state.test = test;
      inputs = 784;
      classes = 10;
      validation = { validationData: [test.x.slice(), test.y.slice()] }; // copies: the page keeps test for the samples view
      probe = test.x.slice(0, DIGIT_SAMPLES * 784);
      drawDigitSamples(test, null);
    } else {
      const d = pointsData();
      ({ x, y, classes } = d);
      inputs = 2;
      validation = { validationSplit: 0.2 };
      probe = gridProbe();
    }
    const rows = y.length;
    const nTrain = validation.validationSplit ? Math.floor(rows * (1 - validation.validationSplit)) : rows;
    const stepsPerEpoch = Math.ceil(nTrain / batchSize);
    const schedule = buildSchedule(lr, epochs, stepsPerEpoch);
    const cnn = state.dataset === 'digits' && state.modelKind === 'cnn';
    const inputShape = cnn ? [28, 28, 1] : [inputs];
    const build = () => (cnn ? buildCnn(classes) : buildLayers(classes));
    const spec = { inputShape, layers: build(), seed, optimizer: buildOptimizer(lr), loss: 'softmaxCrossEntropy' };
    if (state.dataset === 'digits') {
      // the drawing is predicted on the main thread by a copy that takes the worker's weights every epoch
      state.drawModel?.dispose();
      state.drawModel = new Sequential({ inputShape, layers: build(), seed });
      state.drawModel.compile({ optimizer: buildOptimizer(lr), loss: 'softmaxCrossEntropy' });
      $('filters').innerHTML = '';
    }
    const options = {
      epochs, batchSize, seed, schedule, ...validation,
      ...(patience > 0 ? { earlyStopping: { monitor: 'valLoss', patience, restoreBestWeights: true } } : {}),
      terminateOnNaN: true, batchEventMs: 150, epochPredict: probe, epochWeights: state.dataset === 'digits',
      // x, y and the probe are fresh arrays made for this run: hand them over instead of copying
      worker: { transfer: true },
    };
    state.config = { dataset: state.dataset, epochs, batchSize, seed, lr, trainSize: state.dataset === 'digits' ? rows : undefined, heldOut: state.dataset === 'digits' ? DIGITS_HELD_OUT : undefined, digitsSeed: DIGITS_SEED, model: cnn ? 'cnn' : 'mlp', layers: cnn ? 'cnn' : $('layers').value };
    resetCharts(schedule, epochs, stepsPerEpoch);
    state.result = null;
    state.trainingSince = null;
    state.epochsSeen = 0;
    state.maxTimerGapMs = 0;
    setStatus('training', `training: ${rows} samples, ${stepsPerEpoch} steps per epoch…`);
    $('train').disabled = true;
    $('cancel').disabled = false;
    job = fitInWorker(spec, x, y, options);
    state.job = job;
  } catch (e) {
    setStatus('error', String(e.message ?? e));
    return;
  }

  // main-thread heartbeat: the longest gap between 20 ms timer ticks while the worker trains
  let last = performance.now();
  const beat = setInterval(() => {
    const now = performance.now();
    if (state.trainingSince !== null) state.maxTimerGapMs = Math.max(state.maxTimerGapMs, now - Math.max(last, state.trainingSince));
    last = now;
    $('heartbeat').textContent = `main thread: longest timer gap ${state.maxTimerGapMs.toFixed(0)} ms (20 ms timer)`;
  }, 20);

  job.on('trainBegin', () => (state.trainingSince = performance.now()));
  job.on('ready', (e) => ($('runtime').textContent = `worker kernels: ${e.simd ? 'WebAssembly SIMD128' : 'scalar WebAssembly'}`));
  job.on('batch', (e) => {
    charts.batchX.push(e.epoch + (e.batch + 1) / e.steps);
    charts.batchLoss.push(e.logs.loss);
    scheduleRedraw(null);
  });
  job.on('epoch', (e) => {
    state.epochsSeen++;
    charts.epochs.push(e.epoch);
    charts.lr.push(e.logs.lr);
    charts.loss.push(e.logs.loss);
    charts.valLoss.push(e.logs.valLoss ?? NaN);
    charts.acc.push(e.logs.accuracy);
    charts.valAcc.push(e.logs.valAccuracy ?? NaN);
    // the decision boundary is cheap (GRID² pixels): redraw it on every epoch; charts once per frame
    if (state.dataset === 'points') drawCanvas(e.predictions);
    if (e.weights) takeWeights(e.weights);
    scheduleRedraw(e.predictions);
    setStatus('training', `epoch ${e.epoch + 1}/${state.config.epochs}: loss ${e.logs.loss.toFixed(4)}, val accuracy ${(e.logs.valAccuracy ?? NaN).toFixed(4)}`);
  });
  try {
    const r = await job.result;
    state.result = r;
    if (state.dataset === 'digits') takeWeights(r.weights);
    const h = r.history.history;
    const va = h.valAccuracy?.[h.valAccuracy.length - 1];
    const words = { completed: 'done', stopped: 'stopped early', cancelled: 'cancelled', nonFinite: 'stopped: loss became non-finite' };
    setStatus(r.status === 'cancelled' ? 'cancelled' : 'done', `${words[r.status]} after ${r.history.epoch.length} epochs — ${state.dataset === 'digits' ? 'held-out' : 'validation'} accuracy ${va === undefined ? 'n/a' : va.toFixed(4)}`);
  } catch (e) {
    setStatus('error', `${e.name}: ${e.message}`);
  } finally {
    clearInterval(beat);
    $('train').disabled = false;
    $('cancel').disabled = true;
    state.job = null;
  }
}

// ---------- wiring ----------

function setModelKind(k) {
  state.modelKind = k;
  document.body.dataset.model = state.dataset === 'digits' ? k : 'mlp';
  if (state.dataset === 'digits') {
    $('epochs').value = k === 'cnn' ? '3' : '6';
    $('lr').value = k === 'cnn' ? '0.002' : '0.001';
  }
}

function setDataset(d) {
  state.dataset = d;
  document.body.dataset.dataset = d;
  document.body.dataset.model = d === 'digits' ? state.modelKind : 'mlp';
  if (d === 'points') {
    $('layers').value = '32,32';
    $('lr').value = '0.02';
    $('epochs').value = '60';
    $('batch-size').value = '8';
    $('activation').value = 'relu';
    if (state.points.length === 0) loadPreset();
    drawCanvas(null);
  } else {
    $('layers').value = '128';
    $('lr').value = state.modelKind === 'cnn' ? '0.002' : '0.001';
    $('epochs').value = state.modelKind === 'cnn' ? '3' : '6';
    $('batch-size').value = '32';
    $('activation').value = 'relu';
  }
}

function loadPreset() {
  state.points = makePreset($('preset').value, new Rng(Number($('seed').value) || 0), 80);
  drawCanvas(null);
}

$('dataset').addEventListener('change', (e) => setDataset(e.target.value));
$('model-kind').addEventListener('change', (e) => setModelKind(e.target.value));
$('preset-btn').addEventListener('click', loadPreset);
$('clear-btn').addEventListener('click', () => {
  state.points = [];
  drawCanvas(null);
});
for (const b of document.querySelectorAll('.cls')) {
  b.addEventListener('click', () => {
    state.currentClass = Number(b.dataset.class);
    for (const o of document.querySelectorAll('.cls')) o.classList.toggle('active', o === b);
  });
}
$('canvas').addEventListener('click', (e) => {
  const cv = $('canvas');
  const r = cv.getBoundingClientRect();
  const x = ((e.clientX - r.left) / r.width) * 2 - 1;
  const y = 1 - ((e.clientY - r.top) / r.height) * 2;
  state.points.push({ x, y, c: state.currentClass });
  drawCanvas(null);
});
$('controls').addEventListener('submit', (e) => {
  e.preventDefault();
  void train();
});
$('cancel').addEventListener('click', () => state.job?.cancel());

try {
  const rt = await init();
  $('runtime').textContent = `kernels: ${rt.simd ? 'WebAssembly SIMD128' : 'scalar WebAssembly'}`;
  state.modelKind = $('model-kind').value;
  setDataset($('dataset').value);
  clearDrawing();
  drawCharts();
  setStatus('idle', 'Ready: pick a data set and press Train.');
} catch (e) {
  setStatus('error', `${e.name}: ${e.message}`);
}
