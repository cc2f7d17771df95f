/**
 * The safety net for WASM memory owned by a JS object: when V8 collects the object, `free` runs.
 * Only a net: V8 does not count WASM memory as pressure, so owners must be disposed explicitly.
 */
const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<() => void>((free) => {
        try {
          free();
        } catch {
          /* the runtime is gone */
        }
      })
    : null;

/** Runs `free` when `owner` is collected, until {@link forget}`(token)`. `free` must not reference `owner`. @internal */
export function onCollect(owner: object, free: () => void, token: object): void {
  registry?.register(owner, free, token);
}

/** Cancels an {@link onCollect} registration (the owner was disposed explicitly). @internal */
export function forget(token: object): void {
  registry?.unregister(token);
}
