//! 2-D convolution (Keras `Conv2D`, channels-last): `y = act(conv(x, W) + b)` with the geometry
//! of the [`ConvGeom`] at `geom`; W `[kh, kw, c, f]` (`w_len = kh·kw·c·f`), b of `f` floats or
//! absent; `n_in = h·w·c`, `n_out = oh·ow·f`. `aux` is the scratch of dX's col2im (`aux_len` floats,
//! at least one row of `kh·kw·c`; split between threads; no result depends on its size). ReLU is
//! fused into the GEMM epilogue. `max_norm` constrains each filter (a column of the
//! `[kh·kw·c, f]` matrix). A frozen layer has no gradient buffers: backward computes only dX.

use super::{floats_mut, Kind, Pass};
use crate::act::Act;
use crate::constraints;
use crate::conv::{self, ConvGeom};
use crate::plan::Layer;

pub const CODE: u32 = 4;

pub static KIND: Kind = Kind {
    code: CODE,
    check,
    forward,
    backward,
    running: super::no_running,
    running_len: super::no_running_len,
    min_rows: 1,
    constrain,
};

/// The record's geometry (null-checked by [`check`]).
pub(crate) fn geom(l: &Layer) -> &ConvGeom {
    // SAFETY: `check` verified `geom != 0`; TypeScript wrote a ConvGeom record there.
    unsafe { &*(l.geom as *const ConvGeom) }
}

fn check(l: &Layer) -> bool {
    if l.geom == 0 {
        return false;
    }
    let g = geom(l);
    let frozen = l.frozen != 0;
    let hw = |a: u32, b: u32, c: u32| a as u64 * b as u64 * c as u64;
    g.valid()
        && l.n_in as u64 == hw(g.h, g.w, g.c)
        && l.n_out as u64 == hw(g.oh, g.ow, g.f)
        && l.w != 0
        && (frozen || l.gw != 0)
        && l.w_len as u64 == g.k() as u64 * g.f as u64
        && if l.b != 0 { (frozen || l.gb != 0) && l.b_len == g.f } else { l.b_len == 0 }
        && l.aux != 0
        && l.aux_len as usize >= g.k()
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let relu = Act::from_code(l.act) == Some(Act::Relu);
    let bias = if l.b == 0 { core::ptr::null() } else { l.b as *const f32 };
    let st = conv::forward(
        geom(l),
        input as *const f32,
        p.n,
        l.w as *const f32,
        bias,
        if relu { Act::Relu } else { Act::Linear },
        l.y as *mut f32,
        l.aux as *mut f32,
        l.aux_len as usize,
        p.ws as *mut f32,
    );
    if st != 0 {
        return Err(st);
    }
    Ok(relu)
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, need_dx: bool) -> bool {
    let frozen = l.frozen != 0;
    let (dw, db) = if frozen { (0, 0) } else { (l.gw, if l.b == 0 { 0 } else { l.gb }) };
    if !need_dx && dw == 0 && db == 0 {
        return false;
    }
    conv::backward(
        geom(l),
        input as *const f32,
        p.n,
        g as *const f32,
        l.w as *const f32,
        if need_dx { dx as *mut f32 } else { core::ptr::null_mut() },
        dw as *mut f32,
        db as *mut f32,
        l.aux as *mut f32,
        l.aux_len as usize,
        p.ws as *mut f32,
    );
    need_dx
}

/// Max-norm per filter: every column of the `[kh·kw·c, f]` kernel matrix with ‖w‖₂ > r becomes w·r/‖w‖₂.
unsafe fn constrain(l: &Layer) {
    if l.max_norm > 0.0 && l.frozen == 0 {
        let g = geom(l);
        constraints::max_norm(floats_mut(l.w, l.w_len as usize), g.k(), g.f as usize, l.max_norm, l.max_norm_eps);
    }
}
