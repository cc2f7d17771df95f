//! `record!`: declares a `#[repr(C)]` record shared with TypeScript and, from the same field
//! list, its layout (`size, offset of each field in declaration order`), which `abi_layout`
//! reports so the loader can refuse a module whose records drifted from `ts/runtime/abi.ts`.

/// Byte offset of a field (`core::mem::offset_of!` is not in Rust 1.63).
macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let u = core::mem::MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! on a field of an uninit value computes an address without reading.
        #[allow(unused_unsafe)]
        let f = unsafe { core::ptr::addr_of!((*base).$f) };
        (f as usize - base as usize) as u32
    }};
}

macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// Field names in declaration order (the layout's order).
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// Writes `[size, offsets in declaration order]` at `out[at..]` (as far as it fits)
            /// and returns the index after them.
            pub fn layout(out: &mut [u32], at: usize) -> usize {
                let v = [core::mem::size_of::<$name>() as u32, $(offset_of!($name, $field)),*];
                for (i, x) in v.iter().enumerate() {
                    if let Some(o) = out.get_mut(at + i) {
                        *o = *x;
                    }
                }
                at + v.len()
            }
        }
    };
}
