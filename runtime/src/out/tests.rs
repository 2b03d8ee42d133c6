//! Output tests: formatting through the buffer, flush points, and the C ABI wrappers.

use super::*;
use std::boxed::Box;
use std::vec::Vec;

/// Everything the sink received, one entry per call.
#[derive(Default)]
struct Capture {
    calls: Vec<Vec<u8>>,
}

impl Capture {
    fn all(&self) -> Vec<u8> {
        self.calls.concat()
    }
}

extern "C" fn capture_sink(user: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: every test passes a pointer to a live Capture as `user`, and the Output passes
    // `len` readable bytes at `data`.
    let (cap, bytes) = unsafe {
        (
            &mut *user.cast::<Capture>(),
            core::slice::from_raw_parts(data, len),
        )
    };
    cap.calls.push(bytes.to_vec());
}

fn with_output(f: impl FnOnce(&mut Output)) -> Capture {
    let mut cap = Capture::default();
    let mut out = Box::new(Output::new(capture_sink, (&raw mut cap).cast()));
    f(&mut out);
    drop(out);
    cap
}

#[test]
fn nothing_reaches_the_sink_before_flush() {
    let cap = with_output(|o| {
        o.print_i64(-42, true);
        o.print_f64(0.1, None, false);
        o.putc(' ' as i64);
        o.print_f64(0.125, Some(2), true);
        o.print_sil(0x05, false);
        o.newline();
        o.putc(0x141); // only the low byte: 'A'
        o.putc(-1); // 0xFF
        o.write_bytes(b"xyz");
        assert_eq!(o.pending(), b"-42\n0.1 0.12\nsil(-8,5)\nA\xFFxyz");
    });
    assert!(cap.calls.is_empty(), "dropping does not flush");

    let cap = with_output(|o| {
        o.print_f64(f64::NEG_INFINITY, Some(3), true);
        o.print_f64(-0.0, None, true);
        o.print_f64(f64::NAN, None, false);
        o.flush();
        o.flush(); // nothing pending: no empty call
    });
    assert_eq!(cap.calls, [b"-inf\n-0\nNaN".to_vec()]);
}

#[test]
fn fills_then_flushes_in_order() {
    let cap = with_output(|o| {
        for i in 0..5000 {
            o.print_i64(i, true);
        }
        o.flush();
    });
    let want: Vec<u8> = (0..5000)
        .flat_map(|i| std::format!("{i}\n").into_bytes())
        .collect();
    assert_eq!(cap.all(), want);
    assert!(cap.calls.len() > 1);
    assert!(
        cap.calls
            .iter()
            .all(|c| !c.is_empty() && c.len() <= OUTPUT_BUF_LEN)
    );
}

#[test]
fn putc_at_the_boundary() {
    let cap = with_output(|o| {
        for i in 0..(OUTPUT_BUF_LEN * 2 + 1) {
            o.putc(i as i64);
        }
        assert_eq!(o.pending().len(), 1);
        o.flush();
    });
    assert_eq!(cap.calls.len(), 3);
    assert_eq!(cap.calls[0].len(), OUTPUT_BUF_LEN);
    let all = cap.all();
    assert!(all.iter().enumerate().all(|(i, b)| *b == i as u8));
}

#[test]
fn large_writes_bypass_the_buffer_after_pending_bytes() {
    let big: Vec<u8> = (0..OUTPUT_BUF_LEN * 3).map(|i| (i * 7) as u8).collect();
    let cap = with_output(|o| {
        o.write_bytes(b"head");
        o.write_bytes(&big);
        o.write_bytes(b"");
        o.write_bytes(b"tail");
        o.flush();
    });
    assert_eq!(cap.calls.len(), 3);
    assert_eq!(cap.calls[0], b"head");
    assert_eq!(cap.calls[1], big);
    assert_eq!(cap.calls[2], b"tail");

    // Exactly filling the buffer does not flush; one more byte does.
    let cap = with_output(|o| {
        o.write_bytes(&big[..OUTPUT_BUF_LEN - 1]);
        o.write_bytes(b"x");
        assert_eq!(o.pending().len(), OUTPUT_BUF_LEN);
        o.write_bytes(b"y");
        assert_eq!(o.pending(), b"y");
    });
    assert_eq!(cap.calls.len(), 1);
    assert_eq!(cap.calls[0].len(), OUTPUT_BUF_LEN);
}

#[test]
fn c_abi_wrappers() {
    let cap = with_output(|o| {
        let p: *mut Output = o;
        let text = b"mem";
        // SAFETY: `p` is a live Output owned by this closure and nothing else borrows it while
        // these calls run; `text` is 3 readable bytes.
        unsafe {
            vsp_out_print_i64(p, i64::MIN, 1);
            vsp_out_print_f64(p, 2.5, 0, 1);
            vsp_out_print_f64(p, 1e21, -1, 0);
            vsp_out_print_f64(p, 0.1, 99, 1);
            vsp_out_print_sil(p, 0x80, 1);
            vsp_out_putc(p, 'z' as i64);
            vsp_out_newline(p);
            vsp_out_write(p, text.as_ptr(), text.len());
            vsp_out_write(p, core::ptr::null(), 5);
            vsp_out_flush(p);
            // Null outputs are ignored.
            vsp_out_print_i64(core::ptr::null_mut(), 1, 1);
            vsp_out_flush(core::ptr::null_mut());
        }
    });
    assert_eq!(
        cap.all(),
        b"-9223372036854775808\n2\n10000000000000000000000.10000000000000001\nsil(0,0)\nz\nmem"
    );
}

#[test]
fn init_in_place() {
    let mut cap = Capture::default();
    let mut slot = Box::new(core::mem::MaybeUninit::<Output>::uninit());
    let p = slot.as_mut_ptr();
    // SAFETY: `p` is valid and aligned storage for an Output; afterwards it is initialised, live
    // and only used through `p` until the box is dropped.
    unsafe {
        vsp_out_init(p, capture_sink, (&raw mut cap).cast());
        vsp_out_print_sil(p, 0xFF, 0);
        vsp_out_flush(p);
        vsp_out_init(core::ptr::null_mut(), capture_sink, core::ptr::null_mut());
    }
    drop(slot);
    assert_eq!(cap.all(), b"sil(7,15)");
    assert_eq!(OUTPUT_SIZE, core::mem::size_of::<Output>());
    const { assert!(OUTPUT_SIZE >= OUTPUT_BUF_LEN) };
}

#[test]
fn fd_sink_writes_to_a_pipe() {
    unsafe extern "C" {
        fn pipe(fds: *mut core::ffi::c_int) -> core::ffi::c_int;
        fn read(fd: core::ffi::c_int, buf: *mut c_void, n: usize) -> isize;
        fn close(fd: core::ffi::c_int) -> core::ffi::c_int;
    }
    let mut fds = [0 as core::ffi::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { pipe(fds.as_mut_ptr()) }, 0);
    let mut out = Box::new(Output::new(vsp_out_fd_sink, fds[1] as usize as *mut c_void));
    out.print_f64(0.5, Some(0), true);
    out.print_sil(0x84, true);
    out.flush();
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is 64 writable bytes; the pipe holds the flushed output.
    let n = unsafe { read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(&buf[..n as usize], b"0\nsil(0,4)\n");
    // SAFETY: both descriptors were opened above and are closed once.
    unsafe {
        close(fds[0]);
        close(fds[1]);
    }
    // Writing to a closed descriptor drops the bytes instead of failing.
    vsp_out_fd_sink(fds[1] as usize as *mut c_void, b"x".as_ptr(), 1);
}
