//! Keras `RandomContrast(factor)`: scales each image's deviation from its per-channel mean by a
//! random factor (clipped to [0, 255]) while training; the identity otherwise. Record, random
//! stream and arithmetic: [`super::augment`], [`crate::augment`].

use super::Kind;

pub const CODE: u32 = 14;

pub static KIND: Kind = Kind { code: CODE, ..super::augment::BASE };
