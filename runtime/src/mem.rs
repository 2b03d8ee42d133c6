//! Linear memory for compiled code: allocation, `memgrow`, and the bulk operations (`memcopy`,
//! `memfill`, `write`), each bounds-checked as a whole before any byte changes (docs/reference/instructions.md#memory).

use crate::trap::TrapCode;
use crate::vmctx::VmCtx;
use core::ffi::c_void;

/// Bytes in a page of linear memory.
pub const PAGE_SIZE: u64 = 65536;

unsafe extern "C" {
    fn calloc(n: usize, size: usize) -> *mut c_void;
    fn realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

/// `[ea, ea + n)` for `ea = base`, if it lies inside `size` bytes (negative addresses and
/// counts never do).
pub fn range(base: i64, n: i64, size: u64) -> Option<(usize, usize)> {
    let start = u64::try_from(base).ok()?;
    let len = u64::try_from(n).ok()?;
    let end = start.checked_add(len)?;
    (end <= size).then_some((start as usize, len as usize))
}

/// Allocates `min_pages` zeroed pages as the context's memory. Returns false if the memory
/// cannot be allocated.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` that owns no memory yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_init(ctx: *mut VmCtx, min_pages: u64, max_pages: u64) -> bool {
    // SAFETY: the caller guarantees `ctx` is live and exclusively ours for this call.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return false;
    };
    ctx.max_pages = max_pages;
    ctx.mem_size = 0;
    ctx.mem_base = core::ptr::NonNull::<u8>::dangling().as_ptr();
    if min_pages == 0 {
        return true;
    }
    let Some(bytes) = min_pages.checked_mul(PAGE_SIZE) else {
        return false;
    };
    // SAFETY: calloc has no preconditions; a null result is handled.
    let p = unsafe { calloc(bytes as usize, 1) } as *mut u8;
    if p.is_null() {
        return false;
    }
    ctx.mem_base = p;
    ctx.mem_size = bytes;
    true
}

/// Releases the context's memory.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` whose memory came from `vsp_mem_init`/`vsp_mem_grow`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_free(ctx: *mut VmCtx) {
    // SAFETY: as above.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return;
    };
    if ctx.mem_size != 0 {
        // SAFETY: a non-empty memory was allocated by calloc/realloc and is freed once: the
        // size is zeroed with it.
        unsafe { free(ctx.mem_base as *mut c_void) };
    }
    ctx.mem_base = core::ptr::NonNull::<u8>::dangling().as_ptr();
    ctx.mem_size = 0;
}

/// `memgrow`: grows by `pages`; the old size in pages, or -1 (memory unchanged) if `pages` is
/// negative, the maximum would be exceeded, or the allocation fails.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` whose memory came from `vsp_mem_init`/`vsp_mem_grow`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_grow(ctx: *mut VmCtx, pages: i64) -> i64 {
    // SAFETY: as above.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return -1;
    };
    let old_pages = ctx.mem_size / PAGE_SIZE;
    let Ok(pages) = u64::try_from(pages) else {
        return -1;
    };
    let Some(new_pages) = old_pages.checked_add(pages).filter(|&n| n <= ctx.max_pages) else {
        return -1;
    };
    if pages == 0 {
        return old_pages as i64;
    }
    let new_size = new_pages * PAGE_SIZE;
    let Ok(new_len) = usize::try_from(new_size) else {
        return -1;
    };
    let p = if ctx.mem_size == 0 {
        // SAFETY: calloc has no preconditions.
        unsafe { calloc(new_len, 1) as *mut u8 }
    } else {
        // SAFETY: `mem_base` was allocated by calloc/realloc (non-empty memory).
        let p = unsafe { realloc(ctx.mem_base as *mut c_void, new_len) as *mut u8 };
        if !p.is_null() {
            // SAFETY: realloc returned `new_len` bytes; the tail past the old size is ours to
            // zero.
            unsafe {
                core::ptr::write_bytes(
                    p.add(ctx.mem_size as usize),
                    0,
                    new_len - ctx.mem_size as usize,
                )
            };
        }
        p
    };
    if p.is_null() {
        return -1;
    }
    ctx.mem_base = p;
    ctx.mem_size = new_size;
    old_pages as i64
}

/// `memcopy dst, src, n`: 0, or the trap code.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` with a valid memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_copy(ctx: *mut VmCtx, dst: i64, src: i64, n: i64) -> u32 {
    // SAFETY: as above.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return TrapCode::OutOfBounds as u32;
    };
    match (range(dst, n, ctx.mem_size), range(src, n, ctx.mem_size)) {
        (Some((d, len)), Some((s, _))) => {
            // SAFETY: both ranges lie inside the `mem_size` bytes at `mem_base`; `copy` allows
            // overlap (memmove).
            unsafe { core::ptr::copy(ctx.mem_base.add(s), ctx.mem_base.add(d), len) };
            0
        }
        _ => TrapCode::OutOfBounds as u32,
    }
}

/// `memfill dst, byte, n`: 0, or the trap code.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` with a valid memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_fill(ctx: *mut VmCtx, dst: i64, byte: i64, n: i64) -> u32 {
    // SAFETY: as above.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return TrapCode::OutOfBounds as u32;
    };
    match range(dst, n, ctx.mem_size) {
        Some((d, len)) => {
            // SAFETY: the range lies inside the memory.
            unsafe { core::ptr::write_bytes(ctx.mem_base.add(d), byte as u8, len) };
            0
        }
        None => TrapCode::OutOfBounds as u32,
    }
}

/// `write a, n`: appends memory bytes to the output; 0, or the trap code.
///
/// # Safety
/// `ctx` must point to a live `VmCtx` with a valid memory and output.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_mem_write(ctx: *mut VmCtx, a: i64, n: i64) -> u32 {
    // SAFETY: as above.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return TrapCode::OutOfBounds as u32;
    };
    match range(a, n, ctx.mem_size) {
        Some((start, len)) => {
            // SAFETY: the range lies inside the memory; `out` is null or a live Output that
            // does not overlap it.
            unsafe {
                let bytes = core::slice::from_raw_parts(ctx.mem_base.add(start), len);
                if let Some(out) = ctx.out.as_mut() {
                    out.write_bytes(bytes);
                }
            }
            0
        }
        None => TrapCode::OutOfBounds as u32,
    }
}
