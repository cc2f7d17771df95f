//! Average pooling (Keras `AveragePooling2D`; `GlobalAveragePooling2D` is a window the size of
//! the image), channels-last; padding is excluded from the count. Record as
//! [`super::max_pool2d`]'s.

use super::max_pool2d::{check, geom};
use super::{Kind, Pass};
use crate::plan::Layer;
use crate::pool;

pub const CODE: u32 = 6;

pub static KIND: Kind = Kind {
    code: CODE,
    check,
    forward,
    backward,
    running: super::no_running,
    min_rows: 1,
    constrain: super::no_constraint,
};

unsafe fn forward(l: &Layer, p: &Pass, input: usize) -> Result<bool, u32> {
    match pool::avg_forward(geom(l), input as *const f32, p.n, l.y as *mut f32) {
        0 => Ok(false),
        st => Err(st),
    }
}

unsafe fn backward(l: &Layer, p: &Pass, _input: usize, g: usize, dx: usize, need_dx: bool) -> bool {
    if need_dx {
        pool::avg_backward(geom(l), p.n, g as *const f32, dx as *mut f32);
    }
    need_dx
}
