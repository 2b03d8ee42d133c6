//! `vsp run --profile`: the table of the hottest functions and loops printed at exit.

use jit::{Profile, Stats};
use std::fmt::Write as _;

/// How many functions and loops the table shows at most.
const TOP: usize = 15;

/// Which tier ran code counted `interp` times in the interpreter and `native` times natively.
fn tier(interp: u64, native: u64) -> &'static str {
    match (interp > 0, native > 0) {
        (true, true) => "interp+native",
        (true, false) => "interp",
        (false, true) => "native",
        (false, false) => "-",
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// The table, for stderr.
pub(crate) fn render(p: &Profile, stats: &Stats) -> String {
    let mut out = String::new();
    let native = p.samples - p.samples_elsewhere;
    if p.sampled {
        let _ = writeln!(
            out,
            "[profile] engine {}: {} samples over {:.1} ms of CPU time; {} ({}) in native code, {} ({}) elsewhere (interpreter, runtime, compiler){}",
            p.engine,
            p.samples,
            p.cpu_time.as_secs_f64() * 1e3,
            native,
            pct(native, p.samples),
            p.samples_elsewhere,
            pct(p.samples_elsewhere, p.samples),
            if p.samples_lost > 0 {
                format!("; {} more not recorded", p.samples_lost)
            } else {
                String::new()
            }
        );
    } else {
        let _ = writeln!(
            out,
            "[profile] engine {}: not sampled (another profile in this process samples); counts only",
            p.engine
        );
    }
    let mut funcs: Vec<_> = p
        .functions
        .iter()
        .filter(|f| f.calls_interp + f.calls_native + f.samples > 0)
        .collect();
    funcs.sort_by(|a, b| {
        (b.samples, b.calls_interp + b.calls_native)
            .cmp(&(a.samples, a.calls_interp + a.calls_native))
            .then(a.name.cmp(&b.name))
    });
    let compiled_ms = |name: &str| {
        stats
            .functions
            .iter()
            .find(|f| f.name == name && f.compiles > 0)
            .map(|f| format!("{:.2}", f.compile_time.as_secs_f64() * 1e3))
            .unwrap_or_else(|| "-".into())
    };
    let _ = writeln!(
        out,
        "[profile] {:<24} {:<14} {:>14} {:>14} {:>9} {:>7} {:>11}",
        "function", "tier", "calls interp", "calls native", "samples", "%", "compile ms"
    );
    for f in funcs.iter().take(TOP) {
        // A function only ever called in the interpreter may still have run natively, from a
        // loop's on-stack-replacement entry.
        let osr = p
            .loops
            .iter()
            .any(|l| l.func == f.name && l.arrivals_native > 0);
        let t = match tier(f.calls_interp, f.calls_native) {
            "interp" if osr => "interp+OSR",
            t => t,
        };
        let _ = writeln!(
            out,
            "[profile] {:<24} {:<14} {:>14} {:>14} {:>9} {:>7} {:>11}",
            f.name,
            t,
            f.calls_interp,
            f.calls_native,
            f.samples,
            pct(f.samples, p.samples),
            compiled_ms(&f.name)
        );
    }
    if funcs.len() > TOP {
        let _ = writeln!(
            out,
            "[profile] ... {} more functions ran",
            funcs.len() - TOP
        );
    }
    let mut loops: Vec<_> = p
        .loops
        .iter()
        .filter(|l| l.arrivals_interp + l.arrivals_native > 0)
        .collect();
    loops.sort_by(|a, b| {
        (b.osr_samples, b.arrivals_interp + b.arrivals_native)
            .cmp(&(a.osr_samples, a.arrivals_interp + a.arrivals_native))
    });
    if !loops.is_empty() {
        let _ = writeln!(
            out,
            "[profile] {:<24} {:<14} {:>14} {:>14} {:>9} {:>7}",
            "loop (header)", "tier", "iters interp", "iters native", "OSR smp", "%"
        );
        for l in loops.iter().take(TOP) {
            let _ = writeln!(
                out,
                "[profile] {:<24} {:<14} {:>14} {:>14} {:>9} {:>7}",
                format!("{} line {}", l.func, l.line),
                tier(l.arrivals_interp, l.arrivals_native),
                l.arrivals_interp,
                l.arrivals_native,
                l.osr_samples,
                pct(l.osr_samples, p.samples)
            );
        }
    }
    if p.engine != "jit" && p.sampled {
        let _ = writeln!(
            out,
            "[profile] samples in the interpreter are not split by function; its calls and iterations are"
        );
    }
    out
}
