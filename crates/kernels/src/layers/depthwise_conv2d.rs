//! Depthwise 2-D convolution (Keras `DepthwiseConv2D`, channels-last): `y = act(depthwise(x, W) +
//! b)` with the geometry of the [`ConvGeom`] at `geom` (`f = c·m`, m the depth multiplier); W
//! `[kh, kw, c, m]` (`w_len = kh·kw·f`), b of `f` floats or absent; `n_in = h·w·c`,
//! `n_out = oh·ow·f`. No scratch (direct loops, crate::depthwise). Every activation is fused (applied
//! to each finished output row). `max_norm` constrains each output channel's `kh·kw` taps (a
//! column of the `[kh·kw, f]` kernel matrix: Keras `MaxNorm(axis=[0, 1])`). A frozen layer has no
//! gradient buffers: backward computes only dX.

use super::{floats_mut, Kind, Pass};
use crate::act::Act;
use crate::constraints;
use crate::conv::ConvGeom;
use crate::depthwise;
use crate::plan::Layer;

pub const CODE: u32 = 15;

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
fn geom(l: &Layer) -> &ConvGeom {
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
    depthwise::valid(g)
        && l.n_in as u64 == hw(g.h, g.w, g.c)
        && l.n_out as u64 == hw(g.oh, g.ow, g.f)
        && l.w != 0
        && (frozen || l.gw != 0)
        && l.w_len as u64 == hw(g.kh, g.kw, g.f)
        && if l.b != 0 { (frozen || l.gb != 0) && l.b_len == g.f } else { l.b_len == 0 }
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let act = Act::from_code(l.act).unwrap_or(Act::Linear);
    let bias = if l.b == 0 { core::ptr::null() } else { l.b as *const f32 };
    match depthwise::forward(geom(l), input as *const f32, p.n, l.w as *const f32, bias, act, l.alpha, l.y as *mut f32) {
        0 => Ok(true),
        st => Err(st),
    }
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, need_dx: bool) -> bool {
    let frozen = l.frozen != 0;
    let (dw, db) = if frozen { (0, 0) } else { (l.gw, if l.b == 0 { 0 } else { l.gb }) };
    if !need_dx && dw == 0 && db == 0 {
        return false;
    }
    depthwise::backward(
        geom(l),
        input as *const f32,
        p.n,
        g as *const f32,
        l.w as *const f32,
        if need_dx { dx as *mut f32 } else { core::ptr::null_mut() },
        dw as *mut f32,
        db as *mut f32,
    );
    need_dx
}

/// Max-norm per output channel: every column of the `[kh·kw, f]` kernel matrix with ‖w‖₂ > r becomes w·r/‖w‖₂.
unsafe fn constrain(l: &Layer) {
    if l.max_norm > 0.0 && l.frozen == 0 {
        let g = geom(l);
        constraints::max_norm(floats_mut(l.w, l.w_len as usize), g.kh as usize * g.kw as usize, g.f as usize, l.max_norm, l.max_norm_eps);
    }
}
