//! Resident memory of this process, from `/proc/self/status`, for tests that must show a flat
//! footprint or a bounded peak.

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`, ...); 0 where it cannot be read.
pub fn status_kib(field: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident memory now, in KiB.
pub fn current_kib() -> u64 {
    status_kib("VmRSS")
}

/// Peak resident memory since the last `reset_peak`, in KiB.
pub fn peak_kib() -> u64 {
    status_kib("VmHWM")
}

/// Resets the peak (`VmHWM`) to the current resident size (Linux: `clear_refs` 5).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// True when `VSP_FULL=1`: tests run at the full sizes instead of CI's scaled-down ones.
pub fn full() -> bool {
    std::env::var("VSP_FULL").is_ok_and(|v| v == "1")
}

/// Number of memory mappings of this process (`/proc/self/maps` lines); Linux refuses new ones
/// past `vm.max_map_count` (65530 by default).
pub fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |t| t.lines().count())
}
