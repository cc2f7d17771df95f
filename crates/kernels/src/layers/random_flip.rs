//! Keras `RandomFlip(mode)`: flips each image left–right and/or top–bottom, each with probability
//! ½, while training; the identity otherwise. Record, random stream and arithmetic:
//! [`super::augment`], [`crate::augment`].

use super::Kind;

pub const CODE: u32 = 10;

pub static KIND: Kind = Kind { code: CODE, ..super::augment::BASE };
