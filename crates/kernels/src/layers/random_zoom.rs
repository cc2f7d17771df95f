//! Keras `RandomZoom(height_factor, width_factor, fill_mode, interpolation, fill_value)`: zooms
//! each image about its center by random factors while training; the identity otherwise. Record,
//! random stream and arithmetic: [`super::augment`], [`crate::augment`].

use super::Kind;

pub const CODE: u32 = 13;

pub static KIND: Kind = Kind { code: CODE, ..super::augment::BASE };
