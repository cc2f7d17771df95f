//! Dense (fully connected): `y = act(x·W + b)`, W `[n_in, n_out]` row-major (Keras layout), b of
//! `n_out` floats or absent. Record: `w`/`gw` (`w_len = n_in·n_out`), `b`/`gb` (`b_len = n_out`,
//! or 0 and address 0), `max_norm`. ReLU is fused into the GEMM epilogue. A frozen layer has no
//! gradient buffers: backward computes only dX.

use super::{floats, floats_mut, Kind, Pass};
use crate::act::Act;
use crate::gemm::{Epilogue, MatRef};
use crate::plan::Layer;
use crate::{constraints, par, reduce};

pub const CODE: u32 = 1;

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

fn check(l: &Layer) -> bool {
    let frozen = l.frozen != 0;
    (l.n_in as u64) * (l.n_out as u64) <= u32::MAX as u64
        && l.w != 0
        && (frozen || l.gw != 0)
        && l.w_len == l.n_in.wrapping_mul(l.n_out)
        && if l.b != 0 { (frozen || l.gb != 0) && l.b_len == l.n_out } else { l.b_len == 0 }
}

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let (ni, no) = (l.n_in as usize, l.n_out as usize);
    let relu = Act::from_code(l.act) == Some(Act::Relu);
    let epi = Epilogue {
        bias: if l.b == 0 { core::ptr::null() } else { l.b as *const f32 },
        act: if relu { Act::Relu } else { Act::Linear },
    };
    par::gemm(
        p.n,
        no,
        ni,
        MatRef { ptr: input as *const f32, rs: ni as isize, cs: 1 },
        MatRef { ptr: l.w as *const f32, rs: no as isize, cs: 1 },
        0.0,
        l.y as *mut f32,
        no as isize,
        epi,
        p.ws as *mut f32,
    );
    Ok(relu)
}

unsafe fn backward(l: &Layer, p: &Pass, input: usize, g: usize, dx: usize, need_dx: bool) -> bool {
    let (ni, no, n) = (l.n_in as usize, l.n_out as usize, p.n);
    if l.frozen == 0 {
        weight_grads(l, p, input, g);
    }
    if need_dx {
        // dX = dZ · Wᵀ  (A·Bᵀ)
        par::gemm(
            n,
            ni,
            no,
            MatRef { ptr: g as *const f32, rs: no as isize, cs: 1 },
            MatRef { ptr: l.w as *const f32, rs: 1, cs: no as isize },
            0.0,
            dx as *mut f32,
            ni as isize,
            Epilogue::NONE,
            p.ws as *mut f32,
        );
    }
    need_dx
}

/// gW = Xᵀ·dZ and gb = Σ_rows dZ.
unsafe fn weight_grads(l: &Layer, p: &Pass, input: usize, g: usize) {
    let (ni, no, n) = (l.n_in as usize, l.n_out as usize, p.n);
    // gW = Xᵀ · dZ  (Aᵀ·B)
    par::gemm(
        ni,
        no,
        n,
        MatRef { ptr: input as *const f32, rs: 1, cs: ni as isize },
        MatRef { ptr: g as *const f32, rs: no as isize, cs: 1 },
        0.0,
        l.gw as *mut f32,
        no as isize,
        Epilogue::NONE,
        p.ws as *mut f32,
    );
    if l.b != 0 {
        reduce::colsum(floats(g, n * no), n, no, floats_mut(l.gb, no));
    }
}

/// Max-norm: every column of W (a unit's incoming weights) with ‖w‖₂ > r becomes w·r/‖w‖₂.
unsafe fn constrain(l: &Layer) {
    if l.max_norm > 0.0 && l.frozen == 0 {
        constraints::max_norm(floats_mut(l.w, l.w_len as usize), l.n_in as usize, l.n_out as usize, l.max_norm, l.max_norm_eps);
    }
}
