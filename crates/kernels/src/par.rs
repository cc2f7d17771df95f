//! Work split over threads that share one linear memory (the `threads` build).
//!
//! Every thread runs its own instance of the same module over the same shared memory, with its
//! own stack. A parallel region is a closure `f(part, parts, thread)` on the caller's stack: the
//! calling instance passes its address to the host (`env.wasmfit_parallel`), which wakes the
//! workers; every thread, the caller included, claims parts from an atomic counter and runs each
//! through the export [`crate::abi::par_run`] (the closure runs there through the same function
//! table: same module, same indices). Parts are claimed, not assigned: a worker the OS is slow to
//! wake (a loaded machine) leaves its part to the caller instead of stalling the step. `thread`
//! only picks per-thread scratch (GEMM packing). The host returns once every part is
//! done, so the closure's borrows outlive the region. Without the `threads` feature (the default builds, native tests) parts run one after
//! another on the calling thread: the same arithmetic, so the result is the same.
//!
//! **The result never depends on the thread count**: work is split only along independent
//! outputs (GEMM output tiles, optimizer element ranges), so every output element is computed by
//! exactly the same instructions in the same order whichever part computes it.

use crate::gemm::{self, Epilogue, MatRef, PackA, KC, MC, MR, NR};
use crate::optim::{self, Io, OptHyper, OptTensor};

/// A parallel region as the host and [`run_part`] see it.
#[repr(C)]
pub struct Job<'a> {
    f: &'a dyn Fn(usize, usize, usize),
    parts: usize,
}

#[cfg(all(feature = "threads", target_arch = "wasm32"))]
mod host {
    #[link(wasm_import_module = "env")]
    extern "C" {
        /// How many threads a region may use (1: run serially).
        pub fn wasmfit_threads() -> u32;
        /// Runs parts 0..parts on this thread and the workers; returns when all are done.
        pub fn wasmfit_parallel(job: usize, parts: u32);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
std::thread_local! {
    /// Test-only: the thread count [`threads`] reports natively (parts then run one after another).
    pub static TEST_THREADS: core::cell::Cell<usize> = core::cell::Cell::new(1);
    /// Test-only: in regions of `.0` parts, run only part `.1` (to see what one part writes).
    pub static ONLY_PART: core::cell::Cell<Option<(usize, usize)>> = core::cell::Cell::new(None);
}

/// Threads a region may use.
#[inline]
pub fn threads() -> usize {
    #[cfg(all(feature = "threads", target_arch = "wasm32"))]
    {
        // SAFETY: a plain host call without arguments.
        (unsafe { host::wasmfit_threads() } as usize).max(1)
    }
    #[cfg(all(test, not(target_arch = "wasm32")))]
    {
        TEST_THREADS.with(|t| t.get())
    }
    #[cfg(not(any(all(feature = "threads", target_arch = "wasm32"), test)))]
    {
        1
    }
}

/// Parts per thread a split aims for. More parts balance a loaded machine better but each GEMM
/// part packs the whole shared operand again: with 4 per thread, W1's step did 26% more work in
/// total (measured with the parts run serially), with 1 none measurable.
pub const PARTS_PER_THREAD: usize = 1;

/// Runs `f(part, parts, thread)` for every part in `0..parts` (`thread < threads()`: whose
/// scratch to use) and returns when all are done.
pub fn run(parts: usize, f: &dyn Fn(usize, usize, usize)) {
    if parts <= 1 {
        f(0, 1, 0);
        return;
    }
    #[cfg(all(feature = "threads", target_arch = "wasm32"))]
    {
        let job = Job { f, parts };
        // SAFETY: the host runs `run_part(&job, t)` for every t and returns only when all have
        // returned, so `job` and what `f` borrows live through the region.
        unsafe { host::wasmfit_parallel(&job as *const Job as usize, parts as u32) };
    }
    #[cfg(not(all(feature = "threads", target_arch = "wasm32")))]
    {
        let _ = Job { f, parts };
        for t in 0..parts {
            #[cfg(test)]
            {
                if ONLY_PART.with(|o| o.get()).map_or(false, |(p, o)| p == parts && o != t) {
                    continue;
                }
            }
            f(t, parts, 0);
        }
    }
}

/// Runs part `t` of the job at `job` on thread `thread` (the body of the `par_run` export).
///
/// # Safety
/// `job` is the address a live [`run`] passed to the host, `t < parts`, `thread < threads()`.
pub unsafe fn run_part(job: usize, t: usize, thread: usize) {
    let j = &*(job as *const Job);
    (j.f)(t, j.parts, thread);
}

/// The `t`-th of `parts` near-equal ranges of `units` units of `unit` elements, clamped to `len`.
#[inline]
pub fn range(t: usize, parts: usize, units: usize, unit: usize, len: usize) -> (usize, usize) {
    let lo = (t * units / parts * unit).min(len);
    let hi = ((t + 1) * units / parts * unit).min(len);
    (lo, hi)
}

/// Multiply-adds a GEMM part must have before a region pays for its wake-up and barrier
/// (about 25 µs of kernel time; bench/threads.mjs measures the choice).
pub const MIN_GEMM_WORK: usize = 1 << 19;
/// Elements an optimizer-update part must have (a tensor smaller than two parts stays serial).
pub const MIN_UPDATE_LEN: usize = 1 << 15;
/// Update ranges start at multiples of the optimizer's finiteness block, so every element takes
/// the same vector or tail path as in the whole-tensor pass.
const UPDATE_UNIT: usize = 1024;

/// How a GEMM of this shape is split into at most `max_parts`: (parts, split rows?). Rows when
/// `m ≥ n` (each part then packs all of B, `k·n ≤ k·m`), else columns (each packs all of A).
pub fn gemm_split(m: usize, n: usize, k: usize, max_parts: usize) -> (usize, bool) {
    let rows = m >= n;
    let tiles = if rows { (m + MR - 1) / MR } else { (n + NR - 1) / NR };
    let by_work = m.saturating_mul(n).saturating_mul(k) / MIN_GEMM_WORK;
    (max_parts.min(tiles).min(by_work).max(1), rows)
}

/// The most parts a region on `threads` threads is split into (1: serial).
pub fn max_parts(threads: usize) -> usize {
    if threads > 1 {
        threads * PARTS_PER_THREAD
    } else {
        1
    }
}

/// [`gemm::gemm`] split over output panels: part t computes rows (or columns) of C in its tile
/// range with the packing workspace of the thread running it, `ws + thread·WORKSPACE_FLOATS` (the
/// runtime allocates one per thread). Each element of C sees the same k-blocking and arithmetic as the serial call.
///
/// # Safety
/// As [`gemm::gemm`]; `ws` holds `threads() · WORKSPACE_FLOATS` floats.
pub unsafe fn gemm(m: usize, n: usize, k: usize, a: MatRef, b: MatRef, beta: f32, c: *mut f32, rsc: isize, epi: Epilogue, ws: *mut f32) {
    gemm_with(m, n, k, &a, b, beta, c, rsc, epi, ws);
}

/// A packer's rows from `row0` on (the rows of one part).
struct RowsFrom<'a> {
    a: &'a dyn PackA,
    row0: usize,
}

impl<'a> PackA for RowsFrom<'a> {
    #[inline(always)]
    unsafe fn pack(&self, i0: usize, p0: usize, mc: usize, kc: usize, out: *mut f32) {
        self.a.pack(self.row0 + i0, p0, mc, kc, out)
    }
}

/// Floats after the threads' packing workspaces (`ws + threads()·WORKSPACE_FLOATS`) that hold the
/// operand every part of a split product reads, packed once ([`gemm_with`]): A of a column split
/// up to `⌈m/MR⌉·MR·k`, B of a row split up to `k·⌈n/NR⌉·NR` (1 MiB; W1's largest, the 128×784
/// batch, is 100,352 floats). A threaded runtime allocates it after the workspaces.
pub const SHARED_PACK_FLOATS: usize = 1 << 18;

/// Parts per thread of a product whose shared operand is packed once: with nothing packed twice,
/// finer parts cost only their claims, and a thread that starts late (woken late, or its core
/// slower for a while) leaves more of the product to the others.
pub const FINE_PARTS_PER_THREAD: usize = 4;

/// [`gemm::gemm_with`] split as [`gemm`] (A from any packer: the implicit-GEMM convolution's
/// panels come straight from the image).
///
/// When the operand every part reads (A of a column split, B of a row split) fits in
/// [`SHARED_PACK_FLOATS`], it is packed once, by blocks split over the threads, into the shared
/// area, and the product runs in [`FINE_PARTS_PER_THREAD`] parts per thread that each pack only
/// their own slice of the other operand ([`gemm::gemm_pre`]: the same blocks and micro-kernel
/// calls, so the same arithmetic per element). Otherwise each part packs the shared operand itself.
///
/// # Safety
/// As [`gemm`]; with more than one thread, `ws` also holds [`SHARED_PACK_FLOATS`] after the
/// threads' workspaces.
pub unsafe fn gemm_with(
    m: usize,
    n: usize,
    k: usize,
    a: &dyn PackA,
    b: MatRef,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    epi: Epilogue,
    ws: *mut f32,
) {
    let threads = threads();
    let (parts, rows) = gemm_split(m, n, k, max_parts(threads));
    if parts <= 1 {
        gemm::gemm_with(m, n, k, a, b, beta, c, rsc, epi, ws);
        return;
    }
    let shared = ws.add(threads * gemm::WORKSPACE_FLOATS);
    let null = core::ptr::null();
    if !rows && gemm::round_up(m, MR) * k <= SHARED_PACK_FLOATS {
        let blocks = (m + MC - 1) / MC;
        run(blocks.min(threads), &|t, parts, _thread| {
            let (lo, hi) = range(t, parts, blocks, MC, m);
            gemm::prepack_a(m, k, a, shared, lo, hi);
        });
        let tiles = (n + NR - 1) / NR;
        run(tiles.min(threads * FINE_PARTS_PER_THREAD), &|t, parts, thread| {
            let (lo, hi) = range(t, parts, tiles, NR, n);
            let bt = MatRef { ptr: b.ptr.offset(lo as isize * b.cs), ..b };
            let bias = if epi.bias.is_null() { null } else { epi.bias.add(lo) };
            gemm::gemm_pre(m, hi - lo, k, a, shared, bt, null, beta, c.add(lo), rsc, Epilogue { bias, act: epi.act }, ws.add(thread * gemm::WORKSPACE_FLOATS));
        });
        return;
    }
    if rows && k * gemm::round_up(n, NR) <= SHARED_PACK_FLOATS {
        let blocks = (k + KC - 1) / KC;
        run(blocks.min(threads), &|t, parts, _thread| {
            let (lo, hi) = range(t, parts, blocks, KC, k);
            gemm::prepack_b(n, k, b, shared, lo, hi);
        });
        let tiles = (m + MR - 1) / MR;
        run(tiles.min(threads * FINE_PARTS_PER_THREAD), &|t, parts, thread| {
            let (lo, hi) = range(t, parts, tiles, MR, m);
            gemm::gemm_pre(hi - lo, n, k, &RowsFrom { a, row0: lo }, null, b, shared, beta, c.offset(lo as isize * rsc), rsc, epi, ws.add(thread * gemm::WORKSPACE_FLOATS));
        });
        return;
    }
    run(parts, &|t, parts, thread| {
        let wst = ws.add(thread * gemm::WORKSPACE_FLOATS);
        if rows {
            let (lo, hi) = range(t, parts, (m + MR - 1) / MR, MR, m);
            gemm::gemm_with(hi - lo, n, k, &RowsFrom { a, row0: lo }, b, beta, c.offset(lo as isize * rsc), rsc, epi, wst);
        } else {
            let (lo, hi) = range(t, parts, (n + NR - 1) / NR, NR, n);
            let bt = MatRef { ptr: b.ptr.offset(lo as isize * b.cs), ..b };
            let bias = if epi.bias.is_null() { core::ptr::null() } else { epi.bias.add(lo) };
            gemm::gemm_with(m, hi - lo, k, a, bt, beta, c.add(lo), rsc, Epilogue { bias, act: epi.act }, wst);
        }
    });
}

/// Tensors one combined region covers ([`update_all`], [`scan_all`]): their per-part results sit
/// on the caller's stack (`MAX_PARTS × GROUP` entries); a longer list runs group after group.
pub const GROUP: usize = 32;
/// The most parts a combined region is split into (its per-part results are on the stack).
const MAX_PARTS: usize = 8;
/// Elements a gradient-scan part must have ([`scan_all`]): the scan reads 4 bytes per element and
/// writes nothing, so a part pays for the region's wake-up only at this size.
pub const MIN_SCAN_LEN: usize = 1 << 16;

/// Calls `f(tensor, lo, hi)` for the pieces of part `p` of `parts`: the tensors' elements, `lens`
/// of them each, are taken one after another in units of `unit` elements (a tensor's last unit
/// may be short) and split into `parts` near-equal runs of units, so every piece starts at a
/// multiple of `unit` inside its tensor.
fn pieces(p: usize, parts: usize, lens: &[usize], unit: usize, mut f: impl FnMut(usize, usize, usize)) {
    let units: usize = lens.iter().map(|&l| (l + unit - 1) / unit).sum();
    let (u0, u1) = (p * units / parts, (p + 1) * units / parts);
    let mut base = 0;
    for (ti, &len) in lens.iter().enumerate() {
        if base >= u1 {
            break;
        }
        let tu = (len + unit - 1) / unit;
        let (a, b) = (u0.max(base), u1.min(base + tu));
        if a < b {
            f(ti, (a - base) * unit, ((b - base) * unit).min(len));
        }
        base += tu;
    }
}

/// What [`update_all`] reports when an update wrote a non-finite value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateFailed {
    /// The first tensor whose update wrote a non-finite value.
    pub tensor: usize,
    /// Tensors `0..written` were updated (and backed up, where their `Io` asks for it); the rest
    /// are untouched.
    pub written: usize,
}

/// [`optim::update`] of the tensors `at(0..count)` (each with its `Io`) in one region per
/// [`GROUP`] of them: the group's elements are split into near-equal ranges over the tensors
/// ([`pieces`]) starting at multiples of the optimizer's block, so every element takes the same
/// vector or tail path as in the whole-tensor pass and the bits are the serial ones. Each piece
/// backs up its range and reports its maxima; a tensor's maxima are combined by `max`, which is
/// exact, so the bounds are the serial ones too. A group too small to split runs tensor after
/// tensor and stops at the first failure, as the serial loop; a split group is written whole.
///
/// # Safety
/// As [`optim::update`] for every tensor `at` returns.
pub unsafe fn update_all(h: &OptHyper, count: usize, at: &dyn Fn(usize) -> (OptTensor, Io)) -> Result<(), UpdateFailed> {
    let mut g0 = 0;
    while g0 < count {
        let gn = (count - g0).min(GROUP);
        let mut lens = [0usize; GROUP];
        for (i, l) in lens.iter_mut().enumerate().take(gn) {
            *l = at(g0 + i).0.len as usize;
        }
        let total: usize = lens.iter().sum();
        let parts = max_parts(threads()).min(total / MIN_UPDATE_LEN).min(MAX_PARTS).max(1);
        if parts <= 1 {
            for i in g0..g0 + gn {
                let (t, io) = at(i);
                if !optim::update(h, &t, &io) {
                    return Err(UpdateFailed { tensor: i, written: i + 1 });
                }
            }
        } else {
            // per part and tensor: 4 maxima and a failed flag (parts that miss a tensor leave 0s:
            // maxima are ≥ 0 or +Inf, never NaN, so max is exact and order-free)
            let mut out = [[[0.0f32; 5]; GROUP]; MAX_PARTS];
            let out_ = out.as_mut_ptr() as usize;
            let lens = &lens[..gn];
            run(parts, &|p, parts, _thread| {
                let o = &mut *(out_ as *mut [[f32; 5]; GROUP]).add(p);
                pieces(p, parts, lens, UPDATE_UNIT, |ti, lo, hi| {
                    let (tt, ioc) = at(g0 + ti);
                    let off = |a: usize| if a == 0 { 0 } else { a + lo * 4 };
                    let sub = OptTensor { len: (hi - lo) as u32, w: off(tt.w), g: off(tt.g), s1: off(tt.s1), s2: off(tt.s2), s3: off(tt.s3), ..tt };
                    let sio = Io { backup: ioc.backup.map(off), maxima: if ioc.maxima == 0 { 0 } else { o[ti].as_mut_ptr() as usize } };
                    if !optim::update(h, &sub, &sio) {
                        o[ti][4] = 1.0;
                    }
                });
            });
            let mut failed = None;
            for ti in 0..gn {
                let mut mx = [0.0f32; 4];
                for o in out.iter().take(parts) {
                    if o[ti][4] != 0.0 && failed.is_none() {
                        failed = Some(g0 + ti);
                    }
                    for k in 0..4 {
                        if o[ti][k] > mx[k] {
                            mx[k] = o[ti][k];
                        }
                    }
                }
                let io = at(g0 + ti).1;
                if io.maxima != 0 {
                    core::ptr::copy_nonoverlapping(mx.as_ptr(), io.maxima as *mut f32, 4);
                }
            }
            if let Some(tensor) = failed {
                return Err(UpdateFailed { tensor, written: g0 + gn });
            }
        }
        g0 += gn;
    }
    Ok(())
}

/// [`optim::scan`]'s largest `|x|` of each of `count ≤ GROUP` buffers `at(i) = (address, len)`
/// into `out[i]`, their elements split over the threads as [`update_all`] splits a group (the
/// integer max of magnitude bits is exact and order-free, so the result is the serial scan's).
///
/// # Safety
/// Every `(address, len)` valid for `len` floats.
pub unsafe fn scan_all(count: usize, at: &dyn Fn(usize) -> (usize, usize), out: &mut [f64]) {
    let count = count.min(GROUP).min(out.len());
    let mut lens = [0usize; GROUP];
    for (i, l) in lens.iter_mut().enumerate().take(count) {
        *l = at(i).1;
    }
    let total: usize = lens.iter().sum();
    let parts = max_parts(threads()).min(total / MIN_SCAN_LEN).min(MAX_PARTS).max(1);
    if parts <= 1 {
        for (i, o) in out.iter_mut().enumerate().take(count) {
            let (p, n) = at(i);
            *o = optim::scan(crate::mem::floats(p, n)).0;
        }
        return;
    }
    let mut part = [[0.0f64; GROUP]; MAX_PARTS];
    let part_ = part.as_mut_ptr() as usize;
    let lens = &lens[..count];
    run(parts, &|p, parts, _thread| {
        let o = &mut *(part_ as *mut [f64; GROUP]).add(p);
        pieces(p, parts, lens, UPDATE_UNIT, |ti, lo, hi| {
            o[ti] = optim::scan(crate::mem::floats(at(ti).0 + lo * 4, hi - lo)).0;
        });
    });
    for (i, o) in out.iter_mut().enumerate().take(count) {
        // ≥ 0 or +Inf, never NaN
        *o = part.iter().take(parts).map(|p| p[i]).fold(0.0, |a, b| if b > a { b } else { a });
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::act::Act;
    use std::vec;
    use std::vec::Vec;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
        TEST_THREADS.with(|t| t.set(n));
        let r = f();
        TEST_THREADS.with(|t| t.set(1));
        r
    }

    /// Split GEMMs (rows and columns, every transpose, bias and ReLU) give the serial call's bits
    /// for 1, 2, 3 and 5 threads, and write nothing outside C (NaN guard bands with β = 0).
    #[test]
    fn split_gemm_is_bit_identical_and_stays_in_bounds() {
        let shapes = [(128usize, 256usize, 784usize), (784, 256, 128), (128, 256, 128), (300, 17, 129), (9, 301, 200), (5, 1030, 257)];
        let mut seed = 11u64;
        for &(m, n, k) in &shapes {
            for &(ta, tb) in &[(false, false), (true, false), (false, true)] {
                let av: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
                let bv: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
                let bias: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
                let a = if ta { MatRef { ptr: av.as_ptr(), rs: 1, cs: m as isize } } else { MatRef { ptr: av.as_ptr(), rs: k as isize, cs: 1 } };
                let b = if tb { MatRef { ptr: bv.as_ptr(), rs: 1, cs: k as isize } } else { MatRef { ptr: bv.as_ptr(), rs: n as isize, cs: 1 } };
                let epi = Epilogue { bias: bias.as_ptr(), act: Act::Relu };
                let rsc = n + 5;
                let mut ws = vec![0.0f32; 5 * gemm::WORKSPACE_FLOATS + SHARED_PACK_FLOATS];
                let mut want = vec![f32::NAN; (m + 2) * rsc];
                unsafe { gemm::gemm(m, n, k, a, b, 0.0, want.as_mut_ptr().add(rsc), rsc as isize, epi, ws.as_mut_ptr()) };
                for threads in [1usize, 2, 3, 5] {
                    let mut got = vec![f32::NAN; (m + 2) * rsc];
                    with_threads(threads, || unsafe { gemm(m, n, k, a, b, 0.0, got.as_mut_ptr().add(rsc), rsc as isize, epi, ws.as_mut_ptr()) });
                    for i in 0..got.len() {
                        let inside = i >= rsc && i < (m + 1) * rsc && i % rsc < n;
                        if inside {
                            assert_eq!(got[i].to_bits(), want[i].to_bits(), "m={} n={} k={} threads={} i={}", m, n, k, threads, i);
                        } else {
                            assert!(got[i].is_nan(), "guard written at {} (threads {})", i, threads);
                        }
                    }
                }
            }
        }
    }

    /// Each part of the real split writes exactly its own rows or columns of C (run alone, with
    /// NaN everywhere else), the parts' ranges tile C, and together they give the serial bits:
    /// products whose shared operand is packed once (fine parts, FINE_PARTS_PER_THREAD per
    /// thread) and one too large for that (each part packs it: one part per thread).
    #[test]
    fn each_gemm_part_writes_only_its_range() {
        for &(m, n, k, fine) in &[(784usize, 256usize, 128usize, true), (128, 256, 784, true), (130, 50, 2000, true), (130, 50, 6000, false), (40, 900, 7000, false)] {
            let mut seed = 5u64;
            let av: Vec<f32> = (0..m * k).map(|_| lcg(&mut seed)).collect();
            let bv: Vec<f32> = (0..k * n).map(|_| lcg(&mut seed)).collect();
            let bias: Vec<f32> = (0..n).map(|_| lcg(&mut seed)).collect();
            let a = MatRef { ptr: av.as_ptr(), rs: k as isize, cs: 1 };
            let b = MatRef { ptr: bv.as_ptr(), rs: n as isize, cs: 1 };
            let epi = Epilogue { bias: bias.as_ptr(), act: Act::Relu };
            let threads = 3;
            let (coarse, rows) = gemm_split(m, n, k, max_parts(threads));
            assert_eq!(coarse, 3, "shape {:?} too small for the test", (m, n, k));
            let shared_len = if rows { k * gemm::round_up(n, NR) } else { gemm::round_up(m, MR) * k };
            assert_eq!(shared_len <= SHARED_PACK_FLOATS, fine, "shape {:?}", (m, n, k));
            let tiles = if rows { (m + MR - 1) / MR } else { (n + NR - 1) / NR };
            let parts = if fine { tiles.min(threads * FINE_PARTS_PER_THREAD) } else { coarse };
            let mut ws = vec![0.0f32; threads * gemm::WORKSPACE_FLOATS + SHARED_PACK_FLOATS];
            let mut want = vec![0.0f32; m * n];
            unsafe { gemm::gemm(m, n, k, a, b, 0.0, want.as_mut_ptr(), n as isize, epi, ws.as_mut_ptr()) };
            let mut covered = vec![0u8; m * n];
            for t in 0..parts {
                let mut c = vec![f32::NAN; m * n];
                ONLY_PART.with(|o| o.set(Some((parts, t))));
                with_threads(threads, || unsafe { gemm(m, n, k, a, b, 0.0, c.as_mut_ptr(), n as isize, epi, ws.as_mut_ptr()) });
                ONLY_PART.with(|o| o.set(None));
                let (lo, hi) = range(t, parts, tiles, if rows { MR } else { NR }, if rows { m } else { n });
                assert!(hi > lo);
                for i in 0..m {
                    for j in 0..n {
                        let mine = if rows { i >= lo && i < hi } else { j >= lo && j < hi };
                        let v = c[i * n + j];
                        if mine {
                            assert_eq!(v.to_bits(), want[i * n + j].to_bits(), "part {} ({}, {})", t, i, j);
                        } else {
                            assert!(v.is_nan(), "part {} wrote ({}, {}) outside [{}, {})", t, i, j, lo, hi);
                        }
                        covered[i * n + j] += mine as u8;
                    }
                }
            }
            assert!(covered.iter().all(|&c| c == 1));
        }
    }

    /// Small problems stay serial (W2's GEMMs: 32×64×64 and smaller).
    #[test]
    fn small_gemms_are_not_split() {
        assert_eq!(gemm_split(32, 64, 64, 2).0, 1);
        assert_eq!(gemm_split(32, 64, 32, 4).0, 1);
        assert_eq!(gemm_split(128, 256, 784, 2), (2, false));
        assert_eq!(gemm_split(784, 256, 128, 2), (2, true));
    }

    fn adam_hyper() -> OptHyper {
        use crate::optim::{OPT_ADAM, OPT_AMSGRAD};
        let mut h = OptHyper::default();
        h.kind = OPT_ADAM;
        h.flags = OPT_AMSGRAD;
        h.lr = 1e-3;
        h.beta1 = 0.9;
        h.beta2 = 0.999;
        h.one_minus_beta1 = 0.1;
        h.one_minus_beta2 = 1e-3;
        h.bias_correction1 = 0.1;
        h.bias_correction2_sqrt = 0.0316;
        h.eps = 1e-8;
        h.step_size = 1e-2;
        h.decay_keep = 1.0;
        h
    }

    /// NaN guard bands of this many floats around every buffer the tests hand to a kernel.
    const G: usize = 37;

    /// Tensors of `lens` (w, g, m, v ≥ 0, vmax ≥ 0 and four backup buffers each, between NaN
    /// bands) updated by [`update_all`] on `threads`: every buffer after the call, the maxima, and
    /// the result. `bad`: a tensor whose gradient holds +Inf at `bad.1` (its update writes one).
    fn run_update_all(lens: &[usize], threads: usize, bad: Option<(usize, usize)>) -> (Vec<Vec<Vec<f32>>>, Vec<[f32; 4]>, Result<(), UpdateFailed>) {
        let h = adam_hyper();
        let mut seed = 3u64;
        let pad = |x: Vec<f32>| -> Vec<f32> {
            let mut p = vec![f32::NAN; G];
            p.extend_from_slice(&x);
            p.extend(core::iter::repeat(f32::NAN).take(G));
            p
        };
        let mut bufs: Vec<Vec<Vec<f32>>> = lens
            .iter()
            .enumerate()
            .map(|(ti, &len)| {
                (0..9)
                    .map(|s| {
                        let mut x: Vec<f32> = (0..len).map(|_| if s >= 5 { f32::NAN } else if s >= 3 { lcg(&mut seed).abs() } else { lcg(&mut seed) }).collect();
                        if s == 1 && bad.map_or(false, |b| b.0 == ti) {
                            x[bad.unwrap().1] = f32::INFINITY;
                        }
                        pad(x)
                    })
                    .collect()
            })
            .collect();
        let mut mx = vec![[f32::NAN; 4]; lens.len()];
        let addr = |x: &Vec<f32>| x.as_ptr() as usize + 4 * G;
        let recs: Vec<(OptTensor, Io)> = bufs
            .iter()
            .zip(mx.iter_mut())
            .zip(lens)
            .map(|((b, m), &len)| {
                let t = OptTensor { len: len as u32, w: addr(&b[0]), g: addr(&b[1]), s1: addr(&b[2]), s2: addr(&b[3]), s3: addr(&b[4]), l1: 1e-4, l2: 1e-4 };
                (t, Io { backup: [addr(&b[5]), addr(&b[6]), addr(&b[7]), addr(&b[8])], maxima: m.as_mut_ptr() as usize })
            })
            .collect();
        let h_ = &h;
        let r = with_threads(threads, || unsafe { update_all(h_, recs.len(), &|i| recs[i]) });
        for b in bufs.iter_mut() {
            for (k, x) in b.iter().enumerate() {
                assert!(x[..G].iter().chain(x[x.len() - G..].iter()).all(|g| g.is_nan()), "guard band of buffer {} written (threads {})", k, threads);
            }
        }
        (bufs, mx, r)
    }

    /// One region over many tensors (Adam with AMSGrad, the backup and the maxima) gives each
    /// tensor's serial bits, maxima and backup for 2, 3 and 5 threads, with tensors split across
    /// parts at and off the optimizer's block, small tensors inside a part, and more tensors
    /// than a group (they run group after group). The reference is each tensor's own
    /// [`optim::update`] (one thread, tensor after tensor).
    #[test]
    fn update_all_is_bit_identical() {
        let w1: &[usize] = &[200_704, 256, 32_768, 128, 1280, 10];
        let odd: &[usize] = &[MIN_UPDATE_LEN * 2, 3, MIN_UPDATE_LEN * 3 + 517, 1, 1023, 1025, 77_777];
        let many: Vec<usize> = (0..GROUP + 9).map(|i| 1000 + 613 * i).collect();
        for lens in [w1, odd, &many[..]] {
            let (want, wmx, wr) = run_update_all(lens, 1, None);
            assert_eq!(wr, Ok(()));
            for threads in [2usize, 3, 5] {
                let (got, gmx, gr) = run_update_all(lens, threads, None);
                assert_eq!(gr, Ok(()));
                for ti in 0..lens.len() {
                    assert_eq!(gmx[ti].map(f32::to_bits), wmx[ti].map(f32::to_bits), "maxima of tensor {} threads {}", ti, threads);
                    for (k, (a, b)) in got[ti].iter().zip(want[ti].iter()).enumerate() {
                        assert!(a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "tensor {} buffer {} threads {}", ti, k, threads);
                    }
                }
            }
        }
    }

    /// A non-finite update is reported with the first failing tensor. Split, the group is written
    /// whole and every tensor of it is backed up (the step restores them all); serially, the
    /// tensors after the failing one are untouched, as the tensor-by-tensor loop leaves them.
    #[test]
    fn update_all_reports_the_first_failure_and_backs_up_what_it_wrote() {
        let lens: &[usize] = &[50_000, 300, 40_000, 20_000];
        for threads in [1usize, 2, 3] {
            let (got, _, r) = run_update_all(lens, threads, Some((2, 12_345)));
            let f = r.expect_err("the +Inf gradient must fail the update");
            assert_eq!(f.tensor, 2, "threads {}", threads);
            // the backup of a written tensor holds values (not the NaN it started with)
            for ti in 0..f.written {
                assert!(got[ti][5][G..G + lens[ti]].iter().all(|x| !x.is_nan()), "tensor {} not backed up (threads {})", ti, threads);
            }
            for ti in f.written..lens.len() {
                assert!(got[ti][5][G..G + lens[ti]].iter().all(|x| x.is_nan()), "tensor {} touched after the failure (threads {})", ti, threads);
            }
            if threads == 1 {
                assert_eq!(f.written, 3);
            } else {
                assert_eq!(f.written, lens.len(), "a split group is written whole");
            }
        }
    }

    /// [`scan_all`] gives each buffer's serial [`optim::scan`] maximum, for 1, 2, 3 and 5
    /// threads, with an Inf and a NaN placed in split tensors, and reads nothing outside them
    /// (NaN bands around each buffer would turn its maximum into +Inf).
    #[test]
    fn scan_all_matches_the_serial_scan() {
        let lens = [200_704usize, 256, 32_768, 128, 1280, 10, 70_001];
        let mut seed = 9u64;
        let mut bufs: Vec<Vec<f32>> = lens
            .iter()
            .map(|&len| {
                let mut p = vec![f32::NAN; G];
                p.extend((0..len).map(|_| lcg(&mut seed) * 3.0));
                p.extend(core::iter::repeat(f32::NAN).take(G));
                p
            })
            .collect();
        bufs[6][G + 70_000] = f32::INFINITY;
        bufs[2][G + 20_000] = -f32::NAN;
        let want: Vec<f64> = bufs.iter().zip(lens.iter()).map(|(b, &n)| optim::scan(&b[G..G + n]).0).collect();
        assert!(want[6].is_infinite() && want[2].is_infinite() && want[0] < 1.6);
        for threads in [1usize, 2, 3, 5] {
            let mut got = [f64::NAN; GROUP];
            let bufs_ = &bufs;
            with_threads(threads, || unsafe { scan_all(lens.len(), &|i| (bufs_[i].as_ptr() as usize + 4 * G, lens[i]), &mut got) });
            for i in 0..lens.len() {
                assert_eq!(got[i].to_bits(), want[i].to_bits(), "buffer {} threads {}", i, threads);
            }
        }
    }

    /// Every element of every tensor is in exactly one piece, pieces start at multiples of the
    /// unit inside their tensor, and the parts' element counts differ by at most a unit and the
    /// short tails.
    #[test]
    fn pieces_cover_each_element_once() {
        let lens = [5000usize, 0, 3, 2048, 1024, 99_999];
        for parts in 1..9 {
            let mut seen: Vec<Vec<u8>> = lens.iter().map(|&l| vec![0u8; l]).collect();
            for p in 0..parts {
                pieces(p, parts, &lens, 1024, |ti, lo, hi| {
                    assert!(lo % 1024 == 0 && lo < hi && hi <= lens[ti]);
                    for s in &mut seen[ti][lo..hi] {
                        *s += 1;
                    }
                });
            }
            assert!(seen.iter().all(|s| s.iter().all(|&c| c == 1)), "parts {}", parts);
        }
    }
}
