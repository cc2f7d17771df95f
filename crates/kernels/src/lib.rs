//! wasmfit's numeric core.
//!
//! Pure kernels over pointers into one linear memory that TypeScript owns. The exported C ABI
//! lives in [`abi`] (shims only); the records it shares with TypeScript sit beside their kernels
//! ([`plan`], [`gemm::GemmArgs`], [`optim::OptHyper`]); layer kinds are modules of [`layers`],
//! run by [`step`]. Modules import downwards only: abi → step → layers/optim → kernels.
//! Each kernel family keeps its scalar reference path and (when built with
//! `-C target-feature=+simd128`) its SIMD128 path side by side.
//!
//! Platform notes that bite:
//! - SIMD128 has no FMA: `mul` then `add` rounds twice. Our scalar paths do the same (Rust never
//!   contracts `a * b + c`), so for the same blocking the SIMD and scalar builds agree bit for
//!   bit on GEMM; the naive reference `gemm::gemm_ref` differs by a few ulp per k-step.
//! - `core` on Rust 1.63 has no `sqrt`/`exp`/`ln` for floats: [`math`] provides them.
#![cfg_attr(target_arch = "wasm32", no_std)]

#[macro_use]
mod record;

pub mod abi;
pub mod act;
pub mod augment;
pub mod constraints;
pub mod conv;
pub mod depthwise;
pub mod dropout;
pub mod gemm;
#[cfg(feature = "harness")]
pub mod harness;
pub mod layers;
pub mod loss;
pub mod math;
pub mod mem;
pub mod norm;
pub mod optim;
pub mod par;
pub mod plan;
pub mod pool;
pub mod reduce;
pub mod status;
pub mod step;
pub mod vec;

#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
