//! Tells the interpreter how to chain its fast-path handlers (`src/interp/threaded.rs`).
//!
//! `vsp_tail_calls` is set at the opt-levels where LLVM turns a call in tail position into a
//! jump (sibling-call optimization); below them every handler call would stay a call, and a
//! long loop would overflow the native stack, so the handlers are chained from a loop instead.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vsp_tail_calls)");
    println!("cargo::rerun-if-changed=build.rs");
    let opt = std::env::var("OPT_LEVEL").unwrap_or_default();
    if matches!(opt.as_str(), "2" | "3" | "s" | "z") {
        println!("cargo::rustc-cfg=vsp_tail_calls");
    }
}
