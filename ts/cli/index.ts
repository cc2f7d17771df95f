/**
 * The `wasmfit` command (dist/cli.mjs, package.json "bin"): `wasmfit train`, `wasmfit predict`,
 * `wasmfit bench`. Usage and data errors print one line and exit with code 2.
 * @internal
 */
import { WasmfitError } from '../errors/index.js';
import { bench, BENCH_HELP } from './bench.js';
import { CliError } from './errors.js';
import { predict, PREDICT_HELP } from './predict.js';
import { train, TRAIN_HELP } from './train.js';
import { worker, WORKER_HELP } from './worker.js';
import type { Io } from './util.js';

/** The package version, written in by the build (rollup `define`); `0.0.0-dev` from sources. */
declare const __WASMFIT_VERSION__: string | undefined;
export const VERSION: string = typeof __WASMFIT_VERSION__ === 'string' ? __WASMFIT_VERSION__ : '0.0.0-dev';

const HELP = `Usage: wasmfit <command> [options]
       wasmfit --version

Commands:
  train     train a dense network on a CSV file and save it (wasmfit train --help)
  predict   predict a CSV file with a saved model (wasmfit predict --help)
  bench     measure training throughput on this machine (wasmfit bench --help)
  worker    train the trials of searches queued on Redis (wasmfit worker --help)`;

const COMMANDS: Record<string, { run: (argv: string[], io: Io) => Promise<void>; help: string }> = {
  train: { run: train, help: TRAIN_HELP },
  predict: { run: predict, help: PREDICT_HELP },
  bench: { run: bench, help: BENCH_HELP },
  worker: { run: worker, help: WORKER_HELP },
};

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const topic = cmd === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    io.out((topic ? topic.help : HELP) + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    io.err(`wasmfit: unknown command '${cmd}'; use train, predict, bench or worker (wasmfit --help).\n`);
    return 2;
  }
  // every message is one line with one prefix: library messages that carry their own
  // ('wasmfit: out of WASM memory…') lose it
  const say = (msg: string) => io.err(`wasmfit ${cmd}: ${oneLine(msg).replace(/^wasmfit(?: \w+)?: /, '')}\n`);
  try {
    await c.run(rest, io);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string; syscall?: string };
    if (e instanceof CliError) {
      say(e.message);
      return e.exitCode;
    }
    if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      say(`${err.message.split('\n')[0]} Run wasmfit ${cmd} --help.`);
      return 2;
    }
    if (e instanceof WasmfitError) {
      // invalid hyper-parameters, corrupt model files, non-finite data: the user's input
      say(e.message);
      return 2;
    }
    if (typeof err.syscall === 'string') {
      // the file system or the OS (disk full, permissions changed mid-run): not a wasmfit bug
      say(err.message);
      return 1;
    }
    // a bug: still one line; the stack trace on request
    const debug = (globalThis as { process?: NodeJS.Process }).process?.env.WASMFIT_DEBUG;
    say(`internal error (a bug in wasmfit; please report it): ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${debug ? '' : ' Set WASMFIT_DEBUG=1 to print the stack trace.'}`);
    if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 1;
  }
}

function oneLine(msg: string): string {
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

const proc = (globalThis as { process?: NodeJS.Process }).process;
if (proc?.argv[1] && /(?:^|[\\/])(?:cli\.(?:mjs|cjs|js)|wasmfit)$/.test(proc.argv[1])) {
  const io: Io = { out: (s) => void proc.stdout.write(s), err: (s) => void proc.stderr.write(s), errStream: proc.stderr };
  main(proc.argv.slice(2), io).then(
    (code) => {
      proc.exitCode = code;
    },
    (e: unknown) => {
      proc.stderr.write(`wasmfit: internal error: ${String(e)}\n`);
      proc.exitCode = 1;
    },
  );
}
