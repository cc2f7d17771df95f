#!/usr/bin/env node
// Regenerates docs/img/schedules/*.svg (one chart per family) and docs/schedules.md from the
// library itself: bundles ts/schedules + ts/plot with esbuild into a temporary ES module, imports
// it, samples every schedule and writes the SVGs. Usage: node scripts/plot-schedules.mjs
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const result = await esbuild.build({
  stdin: {
    contents: "export * from './ts/schedules/index.ts'; export * from './ts/plot/index.ts';",
    resolveDir: root,
    sourcefile: 'plot-entry.ts',
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
});
const tmp = mkdtempSync(join(tmpdir(), 'wasmfit-plot-'));
const modPath = join(tmp, 'schedules.mjs');
writeFileSync(modPath, result.outputFiles[0].text);
const S = await import(pathToFileURL(modPath).href);
rmSync(tmp, { recursive: true, force: true });

const imgDir = join(root, 'docs', 'img', 'schedules');
mkdirSync(imgDir, { recursive: true });

const series = (name, schedule, n) => ({ name, values: schedule.sample(n) });

/** Simulated validation loss with plateaus (deterministic), for the reduce-on-plateau chart. */
function plateauDemo(n) {
  const loss = [];
  for (let e = 0; e < n; e++) loss.push(0.35 + 0.65 / (1 + 0.15 * e) + (e > 25 ? 0.02 * Math.sin(e) : 0));
  const c = S.withPlateau(S.cosineAnnealingLR({ lr: 0.1, tMax: n, etaMin: 0.01 }), S.reduceLROnPlateau({ patience: 4, factor: 0.5, threshold: 0.01 }));
  const p = S.reduceLROnPlateau({ patience: 4, factor: 0.5, threshold: 0.01 });
  let st = c.init();
  let ps = p.init(0.1);
  const lrC = [];
  const lrP = [];
  for (let e = 0; e < n; e++) {
    lrC.push(c.lr(st, e));
    lrP.push(p.lr(ps));
    st = c.update(st, loss[e]);
    ps = p.update(ps, loss[e]);
  }
  return { loss, lrC, lrP };
}

const charts = [];
function chart(file, title, items, opts, section) {
  const svg = S.plotSchedules(items, { title, width: 720, height: 380, ...opts });
  writeFileSync(join(imgDir, file), svg);
  charts.push({ file, title, section });
}

chart(
  'step.svg',
  'Step decays (epochs)',
  [
    series('stepLR({ lr: 0.1, stepSize: 20 })', S.stepLR({ lr: 0.1, stepSize: 20 }), 100),
    series('multiStepLR({ lr: 0.1, milestones: [30, 60, 80] })', S.multiStepLR({ lr: 0.1, milestones: [30, 60, 80] }), 100),
    series('stepDecay({ lr: 0.1, dropEvery: 15 }) (halving)', S.stepDecay({ lr: 0.1, dropEvery: 15 }), 100),
    series("piecewiseConstantDecay (Keras, 'step')", S.piecewiseConstantDecay({ boundaries: [40, 70], values: [0.08, 0.04, 0.01] }), 100),
  ],
  { xLabel: 'epoch (step for the Keras one)' },
  'step',
);
chart(
  'decay.svg',
  'Exponential, inverse-time and inverse-sqrt decay',
  [
    series('exponentialEpochDecay: 0.95^epoch·lr0', S.exponentialEpochDecay({ lr: 0.1 }), 100),
    series('inverseTimeEpochDecay: lr0/(1 + 0.1·epoch)', S.inverseTimeEpochDecay({ lr: 0.1, decayRate: 0.1 }), 100),
    series('inverseSqrtDecay: k/√(t+1)·lr0', S.inverseSqrtDecay({ lr: 0.1 }), 100),
    series('exponentialDecay (Keras, staircase, 10 steps)', S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.7, staircase: true }), 100),
    series('constant', S.constant({ lr: 0.02 }), 100),
  ],
  { xLabel: 'epoch / step' },
  'decay',
);
chart(
  'cosine.svg',
  'Cosine past its end: PyTorch oscillates, Keras clamps',
  [
    series('cosineAnnealingLR({ lr: 0.1, tMax: 50 })', S.cosineAnnealingLR({ lr: 0.1, tMax: 50 }), 120),
    series('cosineDecay({ initialLearningRate: 0.1, decaySteps: 50, alpha: 0.1 })', S.cosineDecay({ initialLearningRate: 0.1, decaySteps: 50, alpha: 0.1 }), 120),
  ],
  { xLabel: 'epoch / step' },
  'cosine',
);
chart(
  'restarts.svg',
  'Warm restarts: PyTorch SGDR vs Keras CosineDecayRestarts',
  [
    series('cosineAnnealingWarmRestarts({ t0: 10, tMult: 2 })', S.cosineAnnealingWarmRestarts({ lr: 0.1, t0: 10, tMult: 2, etaMin: 0.005 }), 150),
    series('cosineDecayRestarts({ firstDecaySteps: 10, tMul: 1.5, mMul: 0.7 })', S.cosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 10, tMul: 1.5, mMul: 0.7, alpha: 0.05 }), 150),
  ],
  { xLabel: 'epoch / step' },
  'restarts',
);
chart(
  'cyclic.svg',
  'cyclicLR modes (stepSizeUp 20, stepSizeDown 30)',
  [
    series("mode: 'triangular'", S.cyclicLR({ baseLr: 0.01, maxLr: 0.1, stepSizeUp: 20, stepSizeDown: 30 }), 200),
    series("mode: 'triangular2'", S.cyclicLR({ baseLr: 0.01, maxLr: 0.1, stepSizeUp: 20, stepSizeDown: 30, mode: 'triangular2' }), 200),
    series("mode: 'exp_range', gamma 0.99", S.cyclicLR({ baseLr: 0.01, maxLr: 0.1, stepSizeUp: 20, stepSizeDown: 30, mode: 'exp_range', gamma: 0.99 }), 200),
  ],
  { xLabel: 'step' },
  'cyclic',
);
chart(
  'onecycle.svg',
  'oneCycleLR (maxLr 0.1, 200 steps)',
  [
    series("two phases, 'cos'", S.oneCycleLR({ maxLr: 0.1, totalSteps: 200 }), 200),
    series("threePhase, 'linear'", S.oneCycleLR({ maxLr: 0.1, totalSteps: 200, threePhase: true, annealStrategy: 'linear' }), 200),
  ],
  { xLabel: 'step' },
  'onecycle',
);
chart(
  'linear.svg',
  'linearLR, constantLR, polynomialLR, polynomialDecay',
  [
    series('linearLR({ lr: 0.1, startFactor: 0.1, totalIters: 30 })', S.linearLR({ lr: 0.1, startFactor: 0.1, totalIters: 30 }), 100),
    series('constantLR({ lr: 0.1, factor: 0.5, totalIters: 20 })', S.constantLR({ lr: 0.1, factor: 0.5, totalIters: 20 }), 100),
    series('polynomialLR({ lr: 0.1, totalIters: 80, power: 2 })', S.polynomialLR({ lr: 0.1, totalIters: 80, power: 2 }), 100),
    series('polynomialDecay (Keras, cycle, 25 steps)', S.polynomialDecay({ initialLearningRate: 0.08, decaySteps: 25, endLearningRate: 0.01, cycle: true }), 100),
  ],
  { xLabel: 'epoch / step' },
  'linear',
);
chart(
  'compose.svg',
  'Composition',
  [
    series('warmup({ steps: 10 }, cosineAnnealingLR({ tMax: 90 }))', S.warmup({ steps: 10 }, S.cosineAnnealingLR({ lr: 0.1, tMax: 90 })), 100),
    series('sequentialLR([constantLR, exponentialLR(0.95)], [20])', S.sequentialLR([S.constantLR({ lr: 0.08, factor: 0.25, totalIters: 20 }), S.exponentialLR({ lr: 0.08, gamma: 0.95 })], [20]), 100),
    series('chained(cosineAnnealingLR, stepLR(stepSize 25, gamma 0.5))', S.chained(S.cosineAnnealingLR({ lr: 0.06, tMax: 25 }), S.stepLR({ lr: 1, stepSize: 25, gamma: 0.5 })), 100),
  ],
  { xLabel: 'epoch' },
  'compose',
);
{
  const { loss, lrC, lrP } = plateauDemo(80);
  const svg = S.plotSeries(
    [
      { name: 'reduceLROnPlateau (lr)', values: lrP },
      { name: 'withPlateau(cosineAnnealingLR) (lr)', values: lrC },
      { name: 'simulated val loss', values: loss },
    ],
    { title: 'Reduce on plateau (patience 4, factor 0.5), log scale', width: 720, height: 380, xLabel: 'epoch', logY: true },
  );
  writeFileSync(join(imgDir, 'plateau.svg'), svg);
  charts.push({ file: 'plateau.svg', section: 'plateau' });
}

const img = (file, alt) => `![${alt}](img/schedules/${file})`;
const md = `# Learning-rate schedules

<!-- Generated by scripts/plot-schedules.mjs from the library itself; edit that script, not this file. -->

\`import { … } from 'wasmfit'\` (source: \`ts/schedules\`). A schedule is a pure function of a 0-based
counter: \`schedule(t)\` is the learning rate after \`t\` completed epochs (unit \`'epoch'\`) or optimizer
steps (unit \`'step'\`). Every schedule has \`unit\`, \`name\`, \`base\`, \`sample(n)\` and \`toJSON()\`;
\`scheduleFromJSON(config)\` rebuilds it. Options are validated when the schedule is built; a bad one
throws an \`OptionError\` naming it. PyTorch-named schedules use PyTorch's option names (camelCase)
and defaults, with \`t\` = number of \`scheduler.step()\` calls; Keras-named ones use Keras's names and
defaults, with \`t\` = optimizer steps. Tests compare them with PyTorch's and Keras's own definitions
and test values (relative tolerance 1e-6, float64).

## Step decays

${img('step.svg', 'step decays')}

| schedule | formula |
| --- | --- |
| \`stepLR({ lr, stepSize, gamma = 0.1 })\` | \`lr · gamma^⌊t / stepSize⌋\` |
| \`multiStepLR({ lr, milestones, gamma = 0.1 })\` | \`lr · gamma^(#milestones ≤ t)\` — switches AT the milestone |
| \`stepDecay({ lr, dropEvery, factor = 0.5, unit = 'epoch' })\` | \`lr0 · factor^⌊t / dropEvery⌋\` (staircase halving) |
| \`piecewiseConstantDecay({ boundaries, values })\` (Keras) | \`values[i]\` while \`t ≤ boundaries[i]\` — keeps the old value AT the boundary |
| \`manual(values \\| fn, { unit })\` | \`values[min(⌊t⌋, last)]\`, or \`fn(t)\` |

## Exponential, inverse-time, inverse square root, constant

${img('decay.svg', 'exponential and inverse decays')}

| schedule | formula |
| --- | --- |
| \`exponentialEpochDecay({ lr, base = 0.95 })\` | \`base^epoch · lr0\` |
| \`exponentialLR({ lr, gamma })\` | \`lr · gamma^t\` |
| \`exponentialDecay({ initialLearningRate, decaySteps, decayRate, staircase = false })\` (Keras) | \`lr0 · decayRate^(t / decaySteps)\`, \`⌊t / decaySteps⌋\` with staircase |
| \`inverseTimeEpochDecay({ lr, decayRate })\` | \`lr0 / (1 + decayRate · epoch)\` |
| \`inverseTimeDecay({ initialLearningRate, decaySteps, decayRate, staircase = false })\` (Keras) | \`lr0 / (1 + decayRate · t / decaySteps)\` |
| \`inverseSqrtDecay({ lr, k = 1, unit = 'epoch' })\` | \`k / √(t + 1) · lr0\` — the sources' \`k/√epoch\` and \`k/√t\` counted from 1 |
| \`constant({ lr, unit = 'epoch' })\` | \`lr\` |

## Cosine annealing

${img('cosine.svg', 'cosine annealing')}

| schedule | formula |
| --- | --- |
| \`cosineAnnealingLR({ lr, tMax, etaMin = 0 })\` | \`etaMin + (lr − etaMin)(1 + cos(π t / tMax)) / 2\` — keeps oscillating past \`tMax\` |
| \`cosineDecay({ initialLearningRate, decaySteps, alpha = 0, warmupTarget, warmupSteps = 0 })\` (Keras) | \`lr0 · ((1 − alpha)(1 + cos(π min(t, D) / D)) / 2 + alpha)\`, after an optional linear warm-up to \`warmupTarget\` — clamps at the floor |

## Warm restarts (SGDR)

${img('restarts.svg', 'warm restarts')}

| schedule | formula |
| --- | --- |
| \`cosineAnnealingWarmRestarts({ lr, t0, tMult = 1, etaMin = 0 })\` | cycle \`i\` has length \`t0 · tMult^i\`; inside it \`etaMin + (lr − etaMin)(1 + cos(π T_cur / T_i)) / 2\`. Integer \`tMult\`, absolute \`etaMin\`, every peak is \`lr\`; fractional \`t\` allowed |
| \`cosineDecayRestarts({ initialLearningRate, firstDecaySteps, tMul = 2, mMul = 1, alpha = 0 })\` (Keras) | period \`i\` has length \`firstDecaySteps · tMul^i\` (float \`tMul\`); \`lr0 · ((1 − alpha) · mMul^i (1 + cos(π x)) / 2 + alpha)\` — peaks shrink by \`mMul\`, floor relative to \`lr0\` |

## Cyclical learning rates

${img('cyclic.svg', 'cyclic learning rates')}

\`cyclicLR({ baseLr, maxLr, stepSizeUp = 2000, stepSizeDown = stepSizeUp, mode = 'triangular', gamma = 1, scaleFn, scaleMode = 'cycle' })\`, unit \`'step'\`:
with \`cycle = ⌊1 + t / (up + down)⌋\` and \`x\` the position in the cycle, \`lr = baseLr + (maxLr − baseLr) · h(x) · scale\`,
where \`h\` rises linearly over \`stepSizeUp\` steps and falls over \`stepSizeDown\`, and scale is \`1\` (triangular),
\`1 / 2^(cycle − 1)\` (triangular2), \`gamma^t\` (exp_range) or \`scaleFn(cycle or t)\`.

## One cycle

${img('onecycle.svg', 'one cycle')}

\`oneCycleLR({ maxLr, totalSteps | epochs + stepsPerEpoch, pctStart = 0.3, annealStrategy = 'cos', divFactor = 25, finalDivFactor = 1e4, threePhase = false })\`, unit \`'step'\`:
\`maxLr / divFactor\` → \`maxLr\` over the first \`pctStart · totalSteps − 1\` steps, then down to
\`maxLr / divFactor / finalDivFactor\` at \`totalSteps − 1\` (three phases: back to the initial rate first).
\`t > totalSteps\` throws, as in PyTorch.

## Linear, constant factor, polynomial

${img('linear.svg', 'linear and polynomial')}

| schedule | formula |
| --- | --- |
| \`linearLR({ lr, startFactor = 1/3, endFactor = 1, totalIters = 5 })\` | \`lr · (startFactor + (endFactor − startFactor) · min(t, totalIters) / totalIters)\` |
| \`constantLR({ lr, factor = 1/3, totalIters = 5 })\` | \`lr · factor\` for \`t < totalIters\`, then \`lr\` |
| \`polynomialLR({ lr, totalIters = 5, power = 1 })\` | \`lr · (1 − min(t, totalIters) / totalIters)^power\` (ends at 0) |
| \`polynomialDecay({ initialLearningRate, decaySteps, endLearningRate = 1e-4, power = 1, cycle = false })\` (Keras) | \`(lr0 − end)(1 − t' / D)^power + end\`; with \`cycle\`, \`D\` grows to the next multiple of \`decaySteps\` |
| \`lambdaLR({ lr, lrLambda })\` | \`lr · lrLambda(t)\` |

## Composition

${img('compose.svg', 'composition')}

| helper | meaning |
| --- | --- |
| \`warmup({ steps, startFactor = 0 }, then)\` | \`then(0) · (startFactor + (1 − startFactor) · t / steps)\` for \`t < steps\`, then \`then(t − steps)\` |
| \`sequentialLR(schedules, milestones)\` | schedule \`i\` from \`milestones[i − 1]\`, its counter restarted (PyTorch SequentialLR, optax join_schedules) |
| \`chained(first, ...others)\` | \`first(t) · Π others_k(t) / others_k.base\` (PyTorch ChainedScheduler) |

All parts must count the same unit.

## Reduce on plateau

${img('plateau.svg', 'reduce on plateau')}

\`reduceLROnPlateau({ mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel', cooldown = 0, minLr = 0, eps = 1e-8 })\`
follows PyTorch: the rate drops by \`factor\` when the number of bad epochs exceeds \`patience\`
(\`> patience\`), an improvement must beat \`best · (1 ∓ threshold)\` (rel) or \`best ∓ threshold\` (abs).
\`kerasReduceLROnPlateau({ mode, factor, patience, minDelta, cooldown, minLr })\` follows Keras:
\`wait >= patience\` with an absolute \`minDelta\`. Both are pure: \`p.init(lr)\` → state,
\`p.update(state, metric)\` → new state, \`p.lr(state)\`; the state is plain JSON.
\`withPlateau(schedule, plateau)\` runs the plateau on a scale factor starting at 1:
\`lr(state, t) = schedule(t) · scale\` (its \`minLr\`/\`eps\` then apply to the factor).

## Plotting

\`plotSchedules([schedule or { name, values }, …], { n, width, height, title, logY })\` and
\`plotSeries([{ name, values }], options)\` (source: \`ts/plot\`) return an SVG string; the same chart
draws a History's loss and accuracy curves. These images were made with them:
\`node scripts/plot-schedules.mjs\`.
`;
writeFileSync(join(root, 'docs', 'schedules.md'), md);
console.log(`wrote ${charts.length} charts to ${imgDir} and docs/schedules.md`);
