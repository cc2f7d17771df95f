//! Views of linear memory: float slices at the byte addresses the records hold.

/// `len` floats at address `p`, read only.
///
/// # Safety
/// `p` valid for `len` f32 reads, and not written through another view while this one lives.
#[inline]
pub unsafe fn floats<'a>(p: usize, len: usize) -> &'a [f32] {
    core::slice::from_raw_parts(p as *const f32, len)
}

/// `len` floats at address `p`, writable.
///
/// # Safety
/// `p` valid for `len` f32 writes, and not aliased by another live view.
#[inline]
pub unsafe fn floats_mut<'a>(p: usize, len: usize) -> &'a mut [f32] {
    core::slice::from_raw_parts_mut(p as *mut f32, len)
}
