import { OptionError } from '../errors/index.js';
import { preview } from '../errors/preview.js';
import type { Callback, Logs } from '../model/callbacks.js';

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/** Options of {@link progressBar}. */
export interface ProgressBarOptions {
  /** Where to draw (default `process.stdout` in Node; in browsers there is none and the bar is quiet). */
  stream?: Stream;
  /** Redraw at most every this many ms (default 100). */
  intervalMs?: number;
  /**
   * `'bar'` (default): a live bar on a TTY, and nothing where the stream is not a TTY (pipes, CI
   * logs, browsers). `'epoch'`: one line per epoch on any stream, no bar (Keras `verbose=2`).
   */
  mode?: 'bar' | 'epoch';
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

const fmtLogs = (logs: Logs) =>
  Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2)}`)
    .join(' - ');

/**
 * A progress bar: on a TTY, a live bar per epoch with step count, ETA and the running loss (and
 * accuracy for classifiers), then the epoch's logs; quiet where there is no TTY (pipes, CI logs,
 * browsers). With `mode: 'epoch'`, one line of logs per epoch on any stream instead.
 * `fit(..., { verbose: 1 })` uses the bar, `verbose: 2` the epoch lines.
 */
export function progressBar(options: ProgressBarOptions = {}): Callback {
  if (options === null || typeof options !== 'object') throw new OptionError('options', `progressBar: options = ${preview(options)}; expected an object { mode, stream }.`);
  const proc = (globalThis as { process?: { stdout?: Stream } }).process;
  const mode = options.mode ?? 'bar';
  if (mode !== 'bar' && mode !== 'epoch') throw new OptionError('mode', `progressBar: mode = ${preview(mode)}; expected 'bar' or 'epoch'.`);
  const given = options.stream ?? proc?.stdout;
  // 'bar' draws only on a TTY; 'epoch' writes plain lines anywhere
  const stream = mode === 'bar' && !given?.isTTY ? undefined : given;
  const interval = options.intervalMs ?? 100;
  let epochs = 0;
  let steps = 0;
  let epoch = 0;
  let t0 = 0;
  let last = 0;
  let loss = 0;
  let acc = 0;
  let seen = 0;
  const tty = mode === 'bar' && !!stream?.isTTY;
  let classifier = false;
  return {
    onTrainBegin(logs: Logs) {
      epochs = logs.epochs ?? 0;
      steps = logs.steps ?? 0;
    },
    onEpochBegin(e: number) {
      epoch = e;
      t0 = Date.now();
      last = 0;
      loss = acc = seen = 0;
    },
    onBatchEnd(b: number, logs: Logs) {
      if (!tty || !stream) return;
      seen++;
      loss += ((logs.loss ?? 0) - loss) / seen;
      classifier = logs.accuracy !== undefined;
      acc += ((logs.accuracy ?? 0) - acc) / seen;
      const now = Date.now();
      if (now - last < interval && b + 1 < steps) return;
      last = now;
      const done = b + 1;
      const frac = steps > 0 ? done / steps : 0;
      const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - 70));
      const filled = Math.round(frac * width);
      const eta = frac > 0 ? ((now - t0) / 1000) * (1 / frac - 1) : NaN;
      const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + '.'.repeat(width - filled);
      stream.write(`\r\x1b[2Kepoch ${epoch + 1}/${epochs} [${bar}] ${done}/${steps} - ETA ${fmtTime(eta)} - loss: ${loss.toFixed(4)}${classifier ? ` - accuracy: ${acc.toFixed(4)}` : ''}`);
    },
    onEpochEnd(e: number, logs: Logs) {
      if (!stream) return;
      const line = `epoch ${e + 1}/${epochs} - ${fmtTime((Date.now() - t0) / 1000)} - ${fmtLogs(logs)}`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
