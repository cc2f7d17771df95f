/** `wasmfit predict`: predictions of a model from `wasmfit train` on a CSV file. @internal */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { init } from '../runtime/loader.js';
import { classLabel, csvField, decimal, featureRows, readCsv } from './csv.js';
import { CliError } from './errors.js';
import { loadCliModel } from './modelfile.js';
import { checkOutFile, formatTable, negativeValuesJoined, regressionMetrics, type Io } from './util.js';

export const PREDICT_HELP = `Usage: wasmfit predict --model MODEL.wasmfit --data FILE.csv [--out PREDS.csv]

Predicts every row of FILE.csv (which needs the model's feature columns, by name, in any order)
and writes a CSV: 'prediction', and for classifiers one probability column per class. When FILE.csv
also has the target column, accuracy (or RMSE/MAE/R²) is reported on stderr.

  --model FILE    model written by wasmfit train (required)
  --data FILE     CSV file with a header row (required)
  --out FILE      output CSV (default: stdout)`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function predict(argv: string[], io: Io): Promise<void> {
  const { values: a } = parseArgs({ args: negativeValuesJoined(argv, OPTIONS), options: OPTIONS, strict: true, allowPositionals: false });
  if (a.help) {
    io.out(PREDICT_HELP + '\n');
    return;
  }
  for (const req of ['model', 'data'] as const) if (!a[req]) throw new CliError(`--${req} is required. Run wasmfit predict --help.`);
  if (a.out) checkOutFile(a.out, '--out');
  await init();
  const { model, meta } = loadCliModel(a.model!);
  try {
    const t = readCsv(a.data!);
    const cols = meta.features.map((f) => {
      const i = t.header.indexOf(f);
      if (i < 0) throw new CliError(`${t.file} lacks the feature column '${f}' that ${a.model} was trained on; its columns are: ${t.header.join(', ')}.`);
      return i;
    });
    // raw cells (numbers, and the text of text columns): the model's preprocessing encodes them
    const x = featureRows(t, cols, 'predict needs every feature, so fill it in or remove the row', new Set(meta.textFeatures)).rows;
    const p = model.predict(x);
    const k = p.shape[1];
    const lines: string[] = [];
    const predicted: string[] = [];
    if (meta.classes) {
      lines.push(['prediction', ...meta.classes.map((c) => `p_${c}`)].map(csvField).join(','));
      for (let r = 0; r < t.rows.length; r++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (p.data[r * k + j]! > p.data[r * k + best]!) best = j;
        predicted.push(meta.classes[best]!);
        lines.push([csvField(meta.classes[best]!), ...Array.from(p.data.subarray(r * k, r * k + k), (v) => v.toPrecision(6))].join(','));
      }
    } else {
      lines.push(csvField(`prediction`));
      for (let r = 0; r < t.rows.length; r++) {
        const v = meta.yMean + meta.yStd * p.data[r]!;
        predicted.push(String(v));
        lines.push(v.toPrecision(7));
      }
    }
    const text = lines.join('\n') + '\n';
    if (a.out) {
      try {
        writeFileSync(a.out, text);
      } catch (e) {
        throw new CliError(`--out: cannot write ${a.out}: ${(e as Error).message}`, 1);
      }
    }
    else io.out(text);
    const ti = t.header.indexOf(meta.target);
    if (ti >= 0) {
      const truth = t.rows.map((r) => r[ti]!);
      if (meta.classes) {
        const acc = truth.reduce((s, v, i) => s + (v === predicted[i] || classLabel(v) === predicted[i] ? 1 : 0), 0) / truth.length;
        io.err(formatTable(['metric', `${t.file}`], [['rows', String(truth.length)], ['accuracy', acc.toFixed(4)]]) + '\n');
      } else {
        const y = Float64Array.from(truth, decimal);
        if (y.every(Number.isFinite)) {
          const m = regressionMetrics(y, Float64Array.from(predicted, Number));
          io.err(formatTable(['metric', `${t.file}`], [['rows', String(y.length)], ['RMSE', m.rmse.toPrecision(5)], ['MAE', m.mae.toPrecision(5)], ['R²', m.r2.toPrecision(5)]]) + '\n');
        }
      }
    }
    if (a.out) io.err(`wrote ${t.rows.length} predictions to ${a.out}\n`);
  } finally {
    model.dispose();
  }
}

