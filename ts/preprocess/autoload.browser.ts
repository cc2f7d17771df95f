/**
 * Browser builds: nothing. `import 'wasmfit/preprocess'` registers the preprocessing reader (see
 * ./autoload.ts), so the main entry does not carry it. @internal
 */
export {};
