//! Keras `RandomTranslation(height_factor, width_factor, fill_mode, interpolation, fill_value)`:
//! shifts each image by random fractions of its height and width while training; the identity
//! otherwise. Record, random stream and arithmetic: [`super::augment`], [`crate::augment`].

use super::Kind;

pub const CODE: u32 = 11;

pub static KIND: Kind = Kind { code: CODE, ..super::augment::BASE };
