/**
 * The worker script behind `wasmfit/worker` (dist/worker-thread.mjs): a Web Worker (module type)
 * in browsers, a `worker_threads` Worker in Node. It receives one `start` message, rebuilds the
 * model, optimizer, schedule and serializable callbacks from their plain configs, trains with the
 * same `Sequential.fit` as the main thread, streams progress, and answers with the final weights.
 * @internal
 */
import type { Features, Labels } from '../data/tensor.js';
import type { Callback, History, Logs } from '../model/callbacks.js';
import type { FitOptions } from '../model/fit.js';
import type { Sequential } from '../model/sequential.js';
import { fitOptionsOf, modelFromSpec } from '../model/spec.js';
import type { OptimizerConfig } from '../optimizers/index.js';
import { RuntimeSupportError } from '../errors/index.js';
import { init, type InitOptions } from '../runtime/loader.js';
import { parentChannel } from './boot.js';
import { type FromWorker, type PackedTargets, type StartMessage, type ToWorker, type WireTensor, toWireError } from './protocol.js';

type Post = (msg: FromWorker, transfer?: ArrayBuffer[]) => void;

const CANCEL = Symbol('wasmfit.cancel');

function unpackTargets(t: PackedTargets): Labels | Features {
  switch (t.kind) {
    case 'ids':
      return t.data;
    case 'list':
      return Array.from(t.data);
    case 'float':
      return t.data;
    case 'matrix':
      return { data: t.data, shape: t.shape };
  }
}

const buffersOf = (ws: readonly WireTensor[]): ArrayBuffer[] => ws.map((w) => w.data.buffer as ArrayBuffer);

function listen(post: Post): (msg: ToWorker) => void {
  let cancelled = false;
  let started = false;
  return (msg) => {
    if (msg.type === 'cancel') {
      cancelled = true;
      return;
    }
    if (msg.type !== 'start' || started) return;
    started = true;
    void run(msg, post, () => cancelled || msg.cancelled === true);
  };
}

async function run(msg: StartMessage, post: Post, isCancelled: () => boolean): Promise<void> {
  const history: History = { epoch: [], history: {} };
  let model: Sequential | null = null;
  try {
    if (msg.init.wasm === undefined) {
      // this script embeds no WASM bytes: fitInWorker posts the module its thread compiled
      throw new RuntimeSupportError("fitInWorker: the worker got no kernel module; start it with fitInWorker from the same wasmfit build (it sends its compiled WebAssembly.Module), or pass worker.init.wasm.");
    }
    const rt = await init(msg.init as InitOptions);
    post({ type: 'ready', simd: rt.simd, build: rt.build });
    // the optimizer arrives as its plain config: compile revives and checks it, as on the main thread
    const m = modelFromSpec({ ...msg.model, optimizer: msg.model.optimizer as unknown as OptimizerConfig, weights: undefined }, msg.model.weights?.map((data) => ({ data })));
    model = m;

    let epochNow = 0;
    let steps = 0;
    let lastBatchEvent = 0;
    const probe = msg.epochPredict;
    const stream: Callback = {
      onTrainBegin(logs: Logs) {
        if (isCancelled()) throw CANCEL;
        steps = logs.steps ?? 0;
        post({ type: 'trainBegin', epochs: logs.epochs ?? 0, steps, samples: logs.samples ?? 0 });
      },
      onEpochBegin(epoch: number) {
        epochNow = epoch;
      },
      onBatchEnd(batch: number, logs: Logs) {
        if (isCancelled()) throw CANCEL;
        if (msg.batchEventMs === null) return;
        const now = Date.now();
        if (now - lastBatchEvent >= msg.batchEventMs || batch + 1 === steps) {
          lastBatchEvent = now;
          post({ type: 'batch', epoch: epochNow, batch, steps, logs });
        }
      },
      onEpochEnd(epoch: number, logs: Logs) {
        history.epoch.push(epoch);
        for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
        const weights = msg.epochWeights ? m.getWeights() : null;
        let predictions: { data: Float32Array; shape: [number, number] } | null = null;
        if (probe) {
          const p = m.predict(probe.data);
          predictions = { data: p.data, shape: [p.shape[0], p.shape[1]] };
        }
        const transfer = [...(weights ? buffersOf(weights) : []), ...(predictions ? [predictions.data.buffer as ArrayBuffer] : [])];
        post({ type: 'epoch', epoch, logs, weights, predictions }, transfer);
      },
    };
    // the same fit options as in process (ts/model/spec.ts), with the progress stream first
    const fit = fitOptionsOf({
      ...(msg.fit as object),
      ...(msg.schedule ? { schedule: msg.schedule } : {}),
      ...(msg.earlyStopping ? { earlyStopping: msg.earlyStopping } : {}),
      ...(msg.plateau ? { reduceLROnPlateau: { reducer: msg.plateau.config, ...(msg.plateau.monitor !== undefined ? { monitor: msg.plateau.monitor } : {}) } } : {}),
      ...(msg.terminateOnNaN ? { terminateOnNaN: true } : {}),
      ...(msg.validationData ? { validationData: [msg.validationData[0].data, unpackTargets(msg.validationData[1])] as const } : {}),
      ...(msg.sampleWeight ? { sampleWeight: msg.sampleWeight } : {}),
    }, [stream]) as FitOptions & Record<string, unknown>;
    const h = await m.fit(msg.x.data, unpackTargets(msg.y) as Labels, fit);
    const epochs = (fit.epochs as number | undefined) ?? 1;
    const initialEpoch = (fit.initialEpoch as number | undefined) ?? 0;
    const status = m.stopTraining ? 'stopped' : h.epoch.length < epochs - initialEpoch ? 'nonFinite' : 'completed';
    const weights = m.getWeights();
    post({ type: 'done', status, history: h, weights }, buffersOf(weights));
  } catch (e) {
    if (e === CANCEL && model) {
      const weights = model.getWeights();
      post({ type: 'done', status: 'cancelled', history, weights }, buffersOf(weights));
    } else {
      post({ type: 'error', error: toWireError(e) });
    }
  } finally {
    model?.dispose();
  }
}

interface WebWorkerScope {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: { data: ToWorker }) => void): void;
}

const scope = globalThis as unknown as { WorkerGlobalScope?: unknown };
if (typeof scope.WorkerGlobalScope !== 'undefined') {
  const self = globalThis as unknown as WebWorkerScope;
  const onMessage = listen((m, t) => self.postMessage(m, t ?? []));
  self.addEventListener('message', (e) => onMessage(e.data));
} else {
  // Node worker_threads: messages sent before the listener is attached are queued by the port.
  const port = parentChannel();
  if (port) port.listen(listen((m, t) => port.post(m, t)) as (msg: unknown) => void);
}
