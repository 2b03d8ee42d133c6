//! The native stack JIT code runs on: one large mapping per instance, with a guard page below
//! it, reused by every call (switching to it costs nanoseconds; spawning a thread with a big
//! stack per call cost ~50 µs).

/// Room left below the limit compiled code checks, for the runtime helpers it calls.
pub(crate) const STACK_MARGIN: usize = 256 << 10;

pub(crate) struct NativeStack {
    /// Start of the mapping (the guard page).
    map: *mut u8,
    map_len: usize,
    page: usize,
}

impl NativeStack {
    /// Maps `size` bytes of stack (rounded up to pages) plus a guard page; `None` if the
    /// mapping fails. Pages are reserved lazily by the kernel (`MAP_NORESERVE`): an untouched
    /// stack costs address space, not memory.
    pub(crate) fn new(size: usize) -> Option<NativeStack> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|&p| p > 0)?;
        let usable = size.max(2 * STACK_MARGIN).checked_next_multiple_of(page)?;
        let map_len = usable.checked_add(page)?;
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches
        // no existing memory.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        // The stack grows down: the lowest page is the guard. Compiled code checks its own
        // limit well above it, so reaching the guard would be a bug in vsp; then the process
        // faults instead of writing over whatever lies below.
        // SAFETY: the first page of the mapping we just made.
        if unsafe { libc::mprotect(map, page, libc::PROT_NONE) } != 0 {
            // SAFETY: unmapping exactly what we mapped.
            unsafe { libc::munmap(map, map_len) };
            return None;
        }
        Some(NativeStack {
            map: map as *mut u8,
            map_len,
            page,
        })
    }

    /// Runs `f` on this stack, passing the lowest address compiled code may use as its stack
    /// limit (STACK_MARGIN above the usable bottom, for the helpers it calls).
    ///
    /// # Safety
    /// `f` must not unwind (JIT code never does: traps return, host-function panics are caught,
    /// and a panic inside an `extern "C"` callback aborts rather than unwinds).
    pub(crate) unsafe fn run<R>(&mut self, f: impl FnOnce(usize) -> R) -> R {
        // SAFETY: the range above the guard page is ours, page-aligned (so aligned for any
        // target), a multiple of the page size, and used by one call at a time (`&mut self`).
        unsafe {
            let base = self.map.add(self.page);
            let len = self.map_len - self.page;
            let limit = base as usize + STACK_MARGIN;
            psm::on_stack(base, len, move || f(limit))
        }
    }
}

impl Drop for NativeStack {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`; no call runs on it any more.
        unsafe { libc::munmap(self.map as *mut libc::c_void, self.map_len) };
    }
}
