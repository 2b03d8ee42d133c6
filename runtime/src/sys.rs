//! The operating-system side of the instruction set for native code: `getc` and `clock`.

use crate::vmctx::VmCtx;
use core::ffi::c_void;

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn read(fd: i32, buf: *mut c_void, n: usize) -> isize;
    fn clock_gettime(clk: i32, ts: *mut Timespec) -> i32;
}

const CLOCK_MONOTONIC: i32 = 1;
const EINTR_RETRIES: u32 = 100;

/// `clock`: monotonic nanoseconds.
#[unsafe(no_mangle)]
pub extern "C" fn vsp_clock_ns() -> i64 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (same layout as C's on 64-bit Linux).
    let rc = unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec)
}

/// `getc` for native executables: flushes the output (a prompt must appear before input
/// blocks), then reads one byte of fd 0; -1 at end of input or on error.
///
/// # Safety
/// `ctx` must point to a live `VmCtx`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vsp_getc(ctx: *mut VmCtx) -> i64 {
    // SAFETY: the caller guarantees `ctx` is live; `out` is null or a live Output.
    if let Some(out) = unsafe { ctx.as_ref().and_then(|c| c.out.as_mut()) } {
        out.flush();
    }
    let mut b = 0u8;
    for _ in 0..EINTR_RETRIES {
        // SAFETY: reading one byte into a valid one-byte buffer.
        let n = unsafe { read(0, (&mut b) as *mut u8 as *mut c_void, 1) };
        match n {
            1 => return b as i64,
            0 => return -1,
            _ => continue, // EINTR (or an error: retried a bounded number of times)
        }
    }
    -1
}
