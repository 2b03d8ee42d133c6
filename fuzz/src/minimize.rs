//! Delta debugging of a failing module: drop whole function bodies, data segments and runs of
//! instructions while the module still verifies and still fails, so a reproducer is short.

use bytecode::{Const, Inst, InstAt, Loc, Module, Operand, Type};

/// Shrinks `m` while `fails` holds, trying at most `max_tries` candidates.
pub fn minimize(m: &Module, mut fails: impl FnMut(&Module) -> bool, max_tries: usize) -> Module {
    let mut best = m.clone();
    let tries = std::cell::Cell::new(0usize);
    let mut attempt = |cand: Module, best: &mut Module| -> bool {
        if tries.get() >= max_tries || bytecode::verify(&cand).is_err() {
            return false;
        }
        tries.set(tries.get() + 1);
        if fails(&cand) {
            *best = cand;
            true
        } else {
            false
        }
    };

    // Whole bodies first: most functions are usually irrelevant.
    for f in 0..best.funcs.len() {
        let mut cand = best.clone();
        let func = &mut cand.funcs[f];
        let ret = func.ret.map(|t| Operand::Const(default_const(t)));
        if func.body.len() <= 1 {
            continue;
        }
        func.labels.clear();
        func.body = vec![InstAt {
            inst: Inst::Ret { a: ret },
            loc: Loc::NONE,
        }];
        attempt(cand, &mut best);
    }
    for d in (0..best.data.len()).rev() {
        let mut cand = best.clone();
        cand.data.remove(d);
        attempt(cand, &mut best);
    }
    // Then runs of instructions, halving the run length down to single instructions; repeat
    // while a pass still removes something.
    loop {
        let before: usize = best.funcs.iter().map(|f| f.body.len()).sum();
        for f in 0..best.funcs.len() {
            let mut chunk = best.funcs[f].body.len().div_ceil(2).max(1);
            loop {
                let mut start = 0;
                while start < best.funcs[f].body.len() {
                    let end = (start + chunk).min(best.funcs[f].body.len());
                    let cand = without_range(&best, f, start, end);
                    if !attempt(cand, &mut best) {
                        start += chunk;
                    }
                }
                if chunk == 1 {
                    break;
                }
                chunk /= 2;
            }
        }
        let after: usize = best.funcs.iter().map(|f| f.body.len()).sum();
        if after == before || tries.get() >= max_tries {
            break;
        }
    }
    best
}

/// `m` without instructions `start..end` of function `f`; labels move with the code after.
fn without_range(m: &Module, f: usize, start: usize, end: usize) -> Module {
    let mut cand = m.clone();
    let func = &mut cand.funcs[f];
    func.body.drain(start..end);
    let removed = (end - start) as u32;
    for l in &mut func.labels {
        let pos = l.pos as usize;
        if pos >= end {
            l.pos -= removed;
        } else if pos > start {
            l.pos = start as u32;
        }
    }
    cand
}

fn default_const(t: Type) -> Const {
    match t {
        Type::I64 => Const::Int(0),
        Type::F64 => Const::Float(0.0),
        Type::Sil => Const::Sil(0),
    }
}
