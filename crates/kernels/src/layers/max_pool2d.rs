//! Max pooling (Keras `MaxPooling2D`; `GlobalMaxPooling2D` is a window the size of the image),
//! channels-last, with the geometry of the [`ConvGeom`] at `geom` (`f = c`, no dilation):
//! `n_in = h·w·c`, `n_out = oh·ow·c`. No parameters; an activation, if any, is applied by the
//! step. Semantics: crate::pool.

use super::{Kind, Pass};
use crate::conv::ConvGeom;
use crate::plan::Layer;
use crate::pool;

pub const CODE: u32 = 5;

pub static KIND: Kind = Kind {
    code: CODE,
    check,
    forward,
    backward,
    running: super::no_running,
    min_rows: 1,
    constrain: super::no_constraint,
};

/// The record's geometry (null-checked by [`check`]).
pub(crate) fn geom(l: &Layer) -> &ConvGeom {
    // SAFETY: `check` verified `geom != 0`; TypeScript wrote a ConvGeom record there.
    unsafe { &*(l.geom as *const ConvGeom) }
}

/// A pooling record: a valid pooling geometry matching `n_in`/`n_out`, no tensors.
pub(crate) fn check(l: &Layer) -> bool {
    if l.geom == 0 {
        return false;
    }
    let g = geom(l);
    let hw = |a: u32, b: u32, c: u32| a as u64 * b as u64 * c as u64;
    pool::valid(g)
        && l.n_in as u64 == hw(g.h, g.w, g.c)
        && l.n_out as u64 == hw(g.oh, g.ow, g.c)
        && l.w == 0
        && l.b == 0
        && l.w_len == 0
        && l.b_len == 0
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    match pool::max_forward(geom(l), input as *const f32, p.n, l.y as *mut f32) {
        0 => Ok(false),
        st => Err(st),
    }
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, need_dx: bool) -> bool {
    if need_dx {
        pool::max_backward(geom(l), input as *const f32, p.n, g as *const f32, dx as *mut f32);
    }
    need_dx
}
