//! Keras `RandomRotation(factor, fill_mode, interpolation, fill_value)`: rotates each image about
//! its center by a random fraction of a turn while training; the identity otherwise. Record,
//! random stream and arithmetic: [`super::augment`], [`crate::augment`].

use super::Kind;

pub const CODE: u32 = 12;

pub static KIND: Kind = Kind { code: CODE, ..super::augment::BASE };
