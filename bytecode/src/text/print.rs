//! The `.sil` printer: writes a module as text that parses back to an equal module.

use crate::mnemonic::mnemonic;
use crate::model::*;
use std::fmt::Write;

/// The whole module as `.sil` text.
pub fn print(m: &Module) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "module {}", m.name);
    if m.memory_declared || m.memory != Memory::default() {
        if m.memory.max_pages == MAX_PAGES {
            let _ = writeln!(out, "memory {}", m.memory.min_pages);
        } else {
            let _ = writeln!(
                out,
                "memory {} max {}",
                m.memory.min_pages, m.memory.max_pages
            );
        }
    }
    for d in &m.data {
        let _ = writeln!(out, "data {} {}", d.offset, data_bytes(&d.bytes));
    }
    for e in &m.externs {
        let params: Vec<String> = e
            .params
            .iter()
            .zip(e.param_names.iter().chain(std::iter::repeat(&None)))
            .map(|(t, n)| match n {
                Some(n) => format!("{n}: {t}"),
                None => t.to_string(),
            })
            .collect();
        let _ = write!(out, "extern func {}({})", e.name, params.join(", "));
        if let Some(r) = e.ret {
            let _ = write!(out, " -> {r}");
        }
        out.push('\n');
    }
    for f in &m.funcs {
        out.push('\n');
        out.push_str(&print_function(m, f));
    }
    out
}

/// One function as `.sil` text (used by `:dis` in the REPL too).
pub fn print_function(m: &Module, f: &Function) -> String {
    let mut out = String::new();
    if f.export {
        out.push_str("export ");
    }
    let _ = writeln!(out, "func {} {{", f.signature());
    let locals = &f.regs[f.num_params as usize..];
    if !locals.is_empty() {
        let decls: Vec<String> = locals
            .iter()
            .map(|r| format!("{}: {}", r.name, r.ty))
            .collect();
        let _ = writeln!(out, "    reg {}", decls.join(", "));
    }
    for (i, inst) in f.body.iter().enumerate() {
        for l in f.labels.iter().filter(|l| l.pos as usize == i) {
            let _ = writeln!(out, "{}:", l.name);
        }
        let _ = writeln!(out, "    {}", print_inst(m, f, &inst.inst));
    }
    for l in f.labels.iter().filter(|l| l.pos as usize >= f.body.len()) {
        let _ = writeln!(out, "{}:", l.name);
    }
    out.push_str("}\n");
    out
}

/// One instruction as text, names restored.
pub fn print_inst(m: &Module, f: &Function, inst: &Inst) -> String {
    let p = Printer { m, f };
    let mn = mnemonic(inst);
    let ops = match inst {
        Inst::Mov { d, a } | Inst::Un { d, a, .. } | Inst::MemGrow { d, a } => {
            format!("{}, {}", p.reg(*d), p.op(a))
        }
        Inst::Bin { d, a, b, .. }
        | Inst::Cmp { d, a, b, .. }
        | Inst::SilInt { d, a, n: b, .. }
        | Inst::SilNew {
            d,
            rho: a,
            theta: b,
        }
        | Inst::SilFrom { d, re: a, im: b } => {
            format!("{}, {}, {}", p.reg(*d), p.op(a), p.op(b))
        }
        Inst::SilLerp { d, a, b, t: c } | Inst::Select { d, c, a, b } => {
            let (x, y, z) = if matches!(inst, Inst::Select { .. }) {
                (c, a, b)
            } else {
                (a, b, c)
            };
            format!("{}, {}, {}, {}", p.reg(*d), p.op(x), p.op(y), p.op(z))
        }
        Inst::Jmp { target } => p.label(*target),
        Inst::JumpIf { a, target, .. } => format!("{}, {}", p.op(a), p.label(*target)),
        Inst::Branch { a, b, target, .. } => {
            format!("{}, {}, {}", p.op(a), p.op(b), p.label(*target))
        }
        Inst::Switch {
            a,
            targets,
            default,
        } => {
            let ts: Vec<String> = targets.iter().map(|t| p.label(*t)).collect();
            format!("{}, [{}], {}", p.op(a), ts.join(", "), p.label(*default))
        }
        Inst::Call { d, callee, args } => {
            let call = format!("{}({})", m.callee_name(*callee), p.ops(args));
            match d {
                Some(d) => format!("{}, {}", p.reg(*d), call),
                None => call,
            }
        }
        Inst::Tail { callee, args } => format!("{}({})", m.callee_name(*callee), p.ops(args)),
        Inst::Fref { d, func } => format!("{}, {}", p.reg(*d), m.func(*func).name),
        Inst::CallI {
            d,
            handle,
            args,
            params,
            ret,
        } => {
            let tys: Vec<&str> = params.iter().map(|t| t.name()).collect();
            let mut s = match d {
                Some(d) => format!("{}, ", p.reg(*d)),
                None => String::new(),
            };
            let _ = write!(
                s,
                "{}({}) : ({})",
                p.op(handle),
                p.ops(args),
                tys.join(", ")
            );
            if let Some(r) = ret {
                let _ = write!(s, " -> {r}");
            }
            s
        }
        Inst::Ret { a } => a.as_ref().map_or(String::new(), |a| p.op(a)),
        Inst::Exit { a } | Inst::Putc { a } => p.op(a),
        Inst::Trap | Inst::Nop => String::new(),
        Inst::Load { d, addr, .. } => format!("{}, {}", p.reg(*d), p.addr(addr)),
        Inst::Store { addr, v, .. } => format!("{}, {}", p.addr(addr), p.op(v)),
        Inst::MemSize { d } | Inst::Getc { d } | Inst::Clock { d } => p.reg(*d),
        Inst::MemCopy { dst, src: b, n } | Inst::MemFill { dst, byte: b, n } => {
            format!("{}, {}, {}", p.op(dst), p.op(b), p.op(n))
        }
        Inst::Print { a, precision, .. } => match (a, precision) {
            (None, _) => String::new(),
            (Some(a), None) => p.op(a),
            (Some(a), Some(pr)) => format!("{}, {}", p.op(a), pr),
        },
        Inst::Write { a, n } => format!("{}, {}", p.op(a), p.op(n)),
    };
    if ops.is_empty() {
        mn.to_string()
    } else {
        format!("{mn} {ops}")
    }
}

struct Printer<'a> {
    m: &'a Module,
    f: &'a Function,
}

impl Printer<'_> {
    fn reg(&self, r: RegId) -> String {
        self.f
            .regs
            .get(r.0 as usize)
            .map_or_else(|| format!("?r{}", r.0), |d| d.name.clone())
    }

    fn label(&self, l: LabelId) -> String {
        self.f
            .labels
            .get(l.0 as usize)
            .map_or_else(|| format!("?L{}", l.0), |d| d.name.clone())
    }

    fn op(&self, o: &Operand) -> String {
        match o {
            Operand::Reg(r) => self.reg(*r),
            Operand::Const(c) => const_text(*c),
        }
    }

    fn ops(&self, os: &[Operand]) -> String {
        let v: Vec<String> = os.iter().map(|o| self.op(o)).collect();
        v.join(", ")
    }

    fn addr(&self, a: &Addr) -> String {
        let _ = self.m;
        match a.offset {
            0 => format!("[{}]", self.op(&a.base)),
            k if k < 0 => format!("[{} - {}]", self.op(&a.base), k.unsigned_abs()),
            k => format!("[{} + {}]", self.op(&a.base), k),
        }
    }
}

/// A literal as text that reads back to the same value.
pub fn const_text(c: Const) -> String {
    match c {
        Const::Int(v) => v.to_string(),
        Const::Float(f) if f.is_nan() => "nan".into(),
        Const::Float(f) if f.is_infinite() => if f > 0.0 { "inf" } else { "-inf" }.into(),
        // `{:?}` is the shortest round-tripping form and always has a `.` or an exponent.
        Const::Float(f) => format!("{f:?}"),
        Const::Sil(b) => format!("sil({}, {})", (b >> 4) as i64 - 8, b & 15),
    }
}

fn data_bytes(bytes: &[u8]) -> String {
    let printable = bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t');
    if printable && !bytes.is_empty() {
        let mut s = String::from("\"");
        for &b in bytes {
            match b {
                b'\n' => s.push_str("\\n"),
                b'\t' => s.push_str("\\t"),
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                _ => s.push(b as char),
            }
        }
        s.push('"');
        s
    } else if bytes.is_empty() {
        "\"\"".into()
    } else {
        let v: Vec<String> = bytes.iter().map(|b| b.to_string()).collect();
        format!("bytes {}", v.join(", "))
    }
}
