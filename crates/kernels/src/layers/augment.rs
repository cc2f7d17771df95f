//! What the augmentation kinds (`random_flip`, `random_translation`, `random_rotation`,
//! `random_zoom`, `random_contrast`) share: the record check, the forward pass and the (absent)
//! backward. The kind is the record's own `kind` code; the arithmetic is [`crate::augment`].

use super::{floats, floats_mut, Kind, Pass};
use crate::augment::{self, ARGS};
use crate::conv::ConvGeom;
use crate::plan::Layer;

/// The augmentation kinds' table entry, `code` aside.
pub const BASE: Kind = Kind {
    code: 0,
    check,
    forward,
    backward,
    running: super::no_running,
    running_len: super::no_running_len,
    min_rows: 1,
    constrain: super::no_constraint,
};

/// An augmentation record: the image's `ConvGeom` (`h, w, c`, `n_in = n_out = h·w·c`), a valid
/// argument block of `ARGS` floats at `aux`, no tensors.
fn check(l: &Layer) -> bool {
    if l.geom == 0 || l.aux == 0 || l.aux_len as usize != ARGS {
        return false;
    }
    // SAFETY: both addresses are nonzero and TypeScript wrote the records there.
    let (g, a) = unsafe { (&*(l.geom as *const ConvGeom), floats(l.aux, ARGS)) };
    let hwc = g.h as u64 * g.w as u64 * g.c as u64;
    hwc > 0 && l.n_in as u64 == hwc && l.n_out == l.n_in && l.w == 0 && l.b == 0 && l.w_len == 0 && l.b_len == 0 && augment::valid_args(l.kind, a)
}

/// Training: each image `r` is augmented with the parameters it draws (`augment::draw`, keyed by
/// the plan's seed, this layer's index and the step counter); otherwise the identity.
unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    let (g, a) = (&*(l.geom as *const ConvGeom), floats(l.aux, ARGS));
    let len = l.n_in as usize;
    let (x, y) = (floats(input, p.n * len), floats_mut(l.y, p.n * len));
    if !p.train {
        y.copy_from_slice(x);
        return Ok(false);
    }
    for r in 0..p.n {
        let q = augment::draw(l.kind, a, p.seed, p.index, p.counter, r as u32);
        augment::apply(l.kind, a, g, q, &x[r * len..][..len], &mut y[r * len..][..len]);
    }
    Ok(false)
}

/// No gradient flows to the input: these layers precede every trainable layer (TypeScript
/// refuses any other placement), and the step asks no layer before the first trainable one for
/// its input gradient.
unsafe fn backward(_: &Layer, _: &Pass, _input: usize, _g: usize, _dx: usize, _need_dx: bool) -> bool {
    false
}
