//! The verifier: checks a module against docs/reference/ before any engine runs or compiles it.
//!
//! Modules come from the parser, the binary decoder and the builder API, and none of them is
//! trusted: every index is range-checked here before it is used, so a hostile module yields
//! diagnostics, never a panic. Typing rules come from `types`, the same functions the engines
//! use, so the verifier and the engines cannot disagree about an operand's type.

use std::collections::HashMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::mnemonic::mnemonic;
use crate::model::{
    Callee, Const, DataSegment, Extern, Function, Inst, Loc, MAX_PAGES, MemTy, Module, Operand,
    PAGE_SIZE, RegId, Type,
};
use crate::types::{self, Role};

/// Verifies `m`, returning every error found, sorted by location (errors without a known
/// location come first, in the order they were found).
pub fn verify(m: &Module) -> Result<(), Diagnostics> {
    let mut v = Verifier {
        m,
        errs: Vec::new(),
    };
    v.memory();
    for seg in &m.data {
        v.data_segment(seg);
    }
    v.item_names();
    for e in &m.externs {
        v.extern_item(e);
    }
    for f in &m.funcs {
        v.function(f);
    }
    let mut errs = v.errs;
    // Stable, so errors at the same (or an unknown) location keep the order they were found in.
    errs.sort_by_key(|d| (d.loc.line, d.loc.col));
    if errs.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(errs))
    }
}

struct Verifier<'m> {
    m: &'m Module,
    errs: Vec<Diagnostic>,
}

/// `[A-Za-z_][A-Za-z0-9_.$]*`, the identifier of docs/reference/text-format.md.
fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
}

/// Words a register may not be called, since an operand spelled so reads as a literal or type.
fn is_reserved(s: &str) -> bool {
    s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("nan") || Type::from_name(s).is_some()
}

fn type_list(ts: &[Type]) -> String {
    let names: Vec<&str> = ts.iter().map(|t| t.name()).collect();
    names.join(" or ")
}

fn ret_name(t: Option<Type>) -> &'static str {
    t.map_or("nothing", |t| t.name())
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A literal as the text format would write it.
fn literal(c: Const) -> String {
    match c {
        Const::Int(v) => v.to_string(),
        Const::Float(x) if x.is_nan() => "nan".into(),
        Const::Float(x) if x.is_infinite() => if x > 0.0 { "inf" } else { "-inf" }.into(),
        Const::Float(x) => format!("{x:?}"),
        Const::Sil(b) => format!("sil({},{})", i32::from(b >> 4) - 8, b & 15),
    }
}

fn mem_ty_name(t: MemTy) -> &'static str {
    match t {
        MemTy::I64 => "i64",
        MemTy::F64 => "f64",
        MemTy::Sil => "sil",
        MemTy::I32 => "i32",
        MemTy::I16 => "i16",
        MemTy::I8 => "i8",
        MemTy::U32 => "u32",
        MemTy::U16 => "u16",
        MemTy::U8 => "u8",
    }
}

/// The mnemonic for messages; `store.u8` and friends have none in the table, as they are errors.
fn mnem(inst: &Inst) -> String {
    match inst {
        Inst::Store { ty, .. } => format!("store.{}", mem_ty_name(*ty)),
        _ => mnemonic(inst).to_string(),
    }
}

/// Every register an instruction names, source or destination.
fn regs_of(inst: &Inst) -> Vec<RegId> {
    let mut v: Vec<RegId> = inst.dest().into_iter().collect();
    for o in operands_of(inst) {
        if let Operand::Reg(r) = o {
            v.push(*r);
        }
    }
    v
}

/// Every source operand of an instruction, whatever its type.
fn operands_of(inst: &Inst) -> Vec<&Operand> {
    match inst {
        Inst::Mov { a, .. } | Inst::Un { a, .. } => vec![a],
        Inst::Bin { a, b, .. } | Inst::Cmp { a, b, .. } | Inst::Branch { a, b, .. } => vec![a, b],
        Inst::SilInt { a, n, .. } => vec![a, n],
        Inst::SilNew { rho, theta, .. } => vec![rho, theta],
        Inst::SilFrom { re, im, .. } => vec![re, im],
        Inst::SilLerp { a, b, t, .. } => vec![a, b, t],
        Inst::Select { c, a, b, .. } => vec![c, a, b],
        Inst::JumpIf { a, .. } | Inst::Switch { a, .. } => vec![a],
        Inst::Call { args, .. } | Inst::Tail { args, .. } => args.iter().collect(),
        Inst::CallI { handle, args, .. } => std::iter::once(handle).chain(args).collect(),
        Inst::Ret { a } | Inst::Print { a, .. } => a.iter().collect(),
        Inst::Exit { a } | Inst::Putc { a } | Inst::MemGrow { a, .. } => vec![a],
        Inst::Load { addr, .. } => vec![&addr.base],
        Inst::Store { addr, v, .. } => vec![&addr.base, v],
        Inst::MemCopy { dst, src, n } => vec![dst, src, n],
        Inst::MemFill { dst, byte, n } => vec![dst, byte, n],
        Inst::Write { a, n } => vec![a, n],
        Inst::Jmp { .. }
        | Inst::Fref { .. }
        | Inst::Trap
        | Inst::Nop
        | Inst::MemSize { .. }
        | Inst::Getc { .. }
        | Inst::Clock { .. } => Vec::new(),
    }
}

impl Verifier<'_> {
    fn err(&mut self, loc: Loc, message: impl Into<String>) {
        self.errs.push(Diagnostic::new(loc, message));
    }

    fn memory(&mut self) {
        let mem = self.m.memory;
        if mem.max_pages > MAX_PAGES {
            self.err(
                mem.loc,
                format!(
                    "memory maximum of {} pages exceeds the limit of {MAX_PAGES}",
                    mem.max_pages
                ),
            );
        }
        if mem.min_pages > mem.max_pages {
            self.err(
                mem.loc,
                format!(
                    "memory minimum of {} pages exceeds its maximum of {}",
                    mem.min_pages, mem.max_pages
                ),
            );
        }
    }

    fn data_segment(&mut self, seg: &DataSegment) {
        // u128 so that no offset, length or page count can overflow the comparison.
        let size = u128::from(self.m.memory.min_pages) * u128::from(PAGE_SIZE);
        if seg.offset < 0 {
            self.err(
                seg.loc,
                format!(
                    "data segment at offset {} starts before address 0",
                    seg.offset
                ),
            );
        } else if seg.offset as u128 + seg.bytes.len() as u128 > size {
            self.err(
                seg.loc,
                format!(
                    "data segment at offset {} ({}) does not fit in the initial memory of {} ({})",
                    seg.offset,
                    plural(seg.bytes.len(), "byte"),
                    plural(size.min(usize::MAX as u128) as usize, "byte"),
                    plural(
                        self.m.memory.min_pages.min(usize::MAX as u64) as usize,
                        "page"
                    ),
                ),
            );
        }
    }

    /// Names of functions and externs: valid identifiers, unique across both kinds.
    fn item_names(&mut self) {
        let mut funcs: HashMap<&str, Loc> = HashMap::new();
        for f in &self.m.funcs {
            if !is_ident(&f.name) {
                self.err(f.loc, format!("invalid function name `{}`", f.name));
            }
            match funcs.get(f.name.as_str()) {
                Some(&first) => self.err(
                    f.loc,
                    format!("duplicate function `{}`{}", f.name, first_at(first)),
                ),
                None => {
                    funcs.insert(&f.name, f.loc);
                }
            }
        }
        let mut externs: HashMap<&str, Loc> = HashMap::new();
        for e in &self.m.externs {
            if !is_ident(&e.name) {
                self.err(e.loc, format!("invalid extern name `{}`", e.name));
            }
            match externs.get(e.name.as_str()) {
                Some(&first) => self.err(
                    e.loc,
                    format!("duplicate extern `{}`{}", e.name, first_at(first)),
                ),
                None => {
                    externs.insert(&e.name, e.loc);
                    if let Some(&floc) = funcs.get(e.name.as_str()) {
                        // Report at whichever of the two comes second in the source.
                        let loc = if (floc.line, floc.col) > (e.loc.line, e.loc.col) {
                            floc
                        } else {
                            e.loc
                        };
                        self.err(
                            loc,
                            format!(
                                "extern `{}` has the same name as function `{}`",
                                e.name, e.name
                            ),
                        );
                    }
                }
            }
        }
    }

    fn extern_item(&mut self, e: &Extern) {
        // Parameter names are only kept for printing; none at all is fine, too.
        if !e.param_names.is_empty() && e.param_names.len() != e.params.len() {
            self.err(
                e.loc,
                format!(
                    "extern `{}` has {} for {}",
                    e.name,
                    plural(e.param_names.len(), "parameter name"),
                    plural(e.params.len(), "parameter"),
                ),
            );
        }
        for name in e.param_names.iter().flatten() {
            if !is_ident(name) || is_reserved(name) {
                self.err(
                    e.loc,
                    format!("invalid parameter name `{name}` in extern `{}`", e.name),
                );
            }
        }
    }

    fn function(&mut self, f: &Function) {
        let fname = &f.name;
        if f.num_params as usize > f.regs.len() {
            self.err(
                f.loc,
                format!(
                    "function `{fname}` has {} but only {}",
                    plural(f.num_params as usize, "parameter"),
                    plural(f.regs.len(), "register")
                ),
            );
        }
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for r in &f.regs {
            let loc = if r.loc.is_known() { r.loc } else { f.loc };
            if !is_ident(&r.name) {
                self.err(
                    loc,
                    format!("invalid register name `{}` in function `{fname}`", r.name),
                );
            } else if is_reserved(&r.name) {
                self.err(
                    loc,
                    format!(
                        "`{}` is reserved and cannot name a register (function `{fname}`)",
                        r.name
                    ),
                );
            }
            match seen.get(r.name.as_str()) {
                Some(&first) => self.err(
                    loc,
                    format!(
                        "duplicate register `{}` in function `{fname}`{}",
                        r.name,
                        first_at(first)
                    ),
                ),
                None => {
                    seen.insert(&r.name, r.loc);
                }
            }
        }
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for l in &f.labels {
            let loc = if l.loc.is_known() { l.loc } else { f.loc };
            if !is_ident(&l.name) {
                self.err(
                    loc,
                    format!("invalid label name `{}` in function `{fname}`", l.name),
                );
            }
            match seen.get(l.name.as_str()) {
                Some(&first) => self.err(
                    loc,
                    format!(
                        "duplicate label `{}` in function `{fname}`{}",
                        l.name,
                        first_at(first)
                    ),
                ),
                None => {
                    seen.insert(&l.name, l.loc);
                }
            }
            if l.pos as usize > f.body.len() {
                self.err(
                    loc,
                    format!(
                        "label `{}` of function `{fname}` is at instruction {}, past the end of its {}",
                        l.name,
                        l.pos,
                        plural(f.body.len(), "instruction")
                    ),
                );
            }
        }
        if fname == "main" {
            self.main_signature(f);
        }
        for (i, at) in f.body.iter().enumerate() {
            let mut cx = InstCx {
                v: self,
                f,
                index: i,
                loc: at.loc,
                mn: mnem(&at.inst),
            };
            if cx.ids_in_range(&at.inst) {
                cx.types(&at.inst);
            }
        }
        self.reachability(f);
    }

    fn main_signature(&mut self, f: &Function) {
        if f.ret.is_some_and(|t| t != Type::I64) {
            self.err(
                f.loc,
                format!(
                    "function `main` must return i64 or nothing, not {}",
                    ret_name(f.ret)
                ),
            );
        }
        for p in f.regs.iter().take(f.num_params as usize) {
            if p.ty == Type::Sil {
                let loc = if p.loc.is_known() { p.loc } else { f.loc };
                self.err(
                    loc,
                    format!(
                        "parameter `{}` of `main` has type sil, but `main` takes only i64 or f64",
                        p.name
                    ),
                );
            }
        }
    }

    /// docs/reference/instructions.md#control-flow: no path from the entry may run off the end of the body. A walk over
    /// instruction indices; index `body.len()` stands for "past the last instruction".
    fn reachability(&mut self, f: &Function) {
        let n = f.body.len();
        let mut seen = vec![false; n + 1];
        let mut work = vec![0usize];
        seen[0] = true;
        // The first instruction (by index) from which control leaves the body: reported there,
        // since that is where a `ret` is missing.
        let mut off_end: Option<usize> = None;
        while let Some(i) = work.pop() {
            let Some(at) = f.body.get(i) else { continue };
            let mut succ: Vec<usize> = Vec::new();
            if !at.inst.is_terminator() {
                succ.push(i + 1);
            }
            for l in at.inst.branch_targets() {
                // Out-of-range labels were reported already; there is nothing to follow.
                if let Some(label) = f.labels.get(l.0 as usize).filter(|l| l.pos as usize <= n) {
                    succ.push(label.pos as usize);
                }
            }
            for s in succ {
                if s == n {
                    off_end = Some(off_end.map_or(i, |c| c.min(i)));
                }
                if !seen[s] {
                    seen[s] = true;
                    work.push(s);
                }
            }
        }
        let msg = format!("function `{}` may run off its end without `ret`", f.name);
        if n == 0 {
            self.err(f.loc, msg);
        } else if let Some(i) = off_end {
            let loc = f.body[i].loc;
            InstCx {
                v: self,
                f,
                index: i,
                loc,
                mn: String::new(),
            }
            .err(msg);
        }
    }
}

fn first_at(loc: Loc) -> String {
    if loc.is_known() {
        format!(" (first declared at line {})", loc.line)
    } else {
        String::new()
    }
}

/// Checking one instruction.
struct InstCx<'v, 'm, 'f> {
    v: &'v mut Verifier<'m>,
    f: &'f Function,
    index: usize,
    loc: Loc,
    mn: String,
}

impl InstCx<'_, '_, '_> {
    /// Reports at the instruction; without a source position (a built module), the message
    /// says where the instruction is instead.
    fn err(&mut self, msg: String) {
        let msg = if self.loc.is_known() {
            msg
        } else {
            format!(
                "{msg} (function `{}`, instruction {})",
                self.f.name, self.index
            )
        };
        self.v.err(self.loc, msg);
    }

    /// `` `x` `` for a register known to be in range.
    fn reg(&self, r: RegId) -> String {
        match self.f.regs.get(r.0 as usize) {
            Some(d) => format!("`{}`", d.name),
            None => format!("#{}", r.0),
        }
    }

    fn reg_ty(&self, r: RegId) -> Type {
        types::reg_type(self.f, r).unwrap_or(Type::I64)
    }

    fn callee_name(&self, c: Callee) -> String {
        match c {
            Callee::Func(id) => self
                .v
                .m
                .funcs
                .get(id.0 as usize)
                .map_or(String::new(), |f| format!("function `{}`", f.name)),
            Callee::Extern(id) => self
                .v
                .m
                .externs
                .get(id.0 as usize)
                .map_or(String::new(), |e| format!("extern `{}`", e.name)),
        }
    }

    /// Range checks of every index the instruction holds; false if any failed (then its types
    /// cannot be checked without guessing).
    fn ids_in_range(&mut self, inst: &Inst) -> bool {
        let mut ok = true;
        let (nregs, nlabels) = (self.f.regs.len(), self.f.labels.len());
        let fname = self.f.name.clone();
        for r in regs_of(inst) {
            if r.0 as usize >= nregs {
                ok = false;
                self.err(format!(
                    "register #{} of `{}` is out of range (function `{fname}` has {})",
                    r.0,
                    self.mn,
                    plural(nregs, "register")
                ));
            }
        }
        for l in inst.branch_targets() {
            if l.0 as usize >= nlabels {
                ok = false;
                self.err(format!(
                    "label #{} of `{}` is out of range (function `{fname}` has {})",
                    l.0,
                    self.mn,
                    plural(nlabels, "label")
                ));
            }
        }
        let (nfuncs, nexterns) = (self.v.m.funcs.len(), self.v.m.externs.len());
        let callee = match inst {
            Inst::Call { callee, .. } | Inst::Tail { callee, .. } => Some(*callee),
            Inst::Fref { func, .. } => Some(Callee::Func(*func)),
            _ => None,
        };
        match callee {
            Some(Callee::Func(id)) if id.0 as usize >= nfuncs => {
                ok = false;
                self.err(format!(
                    "function #{} of `{}` does not exist (the module has {})",
                    id.0,
                    self.mn,
                    plural(nfuncs, "function")
                ));
            }
            Some(Callee::Extern(id)) if id.0 as usize >= nexterns => {
                ok = false;
                self.err(format!(
                    "extern #{} of `{}` does not exist (the module has {})",
                    id.0,
                    self.mn,
                    plural(nexterns, "extern")
                ));
            }
            _ => {}
        }
        // A callee whose own parameter count is broken has no signature to check against.
        if let Some(c) = callee
            && ok
            && types::callee_signature(self.v.m, c).is_none()
        {
            ok = false;
        }
        ok
    }

    fn types(&mut self, inst: &Inst) {
        self.dest(inst);
        for u in types::operand_types(self.v.m, self.f, inst) {
            self.operand(inst, u.operand, u.ty, u.role);
        }
        match inst {
            Inst::Cmp { op, a, b, .. } | Inst::Branch { op, a, b, .. } => {
                let t = types::cmp_operand_type(self.f, a, b);
                let allowed = types::cmp_allowed(*op);
                if !allowed.contains(&t) {
                    self.err(format!(
                        "operands of `{}` have type {t}, expected {}",
                        self.mn,
                        type_list(allowed)
                    ));
                }
            }
            Inst::Call { d, callee, args } => {
                self.arity(*callee, args.len());
                if let (Some(d), Some((_, ret))) = (d, types::callee_signature(self.v.m, *callee)) {
                    let name = self.callee_name(*callee);
                    self.result(&name, ret, *d);
                }
            }
            Inst::Tail { callee, args } => {
                self.arity(*callee, args.len());
                if let Some((_, ret)) = types::callee_signature(self.v.m, *callee)
                    && ret != self.f.ret
                {
                    self.err(format!(
                        "`tail` to {} which returns {}, but function `{}` returns {}",
                        self.callee_name(*callee),
                        ret_name(ret),
                        self.f.name,
                        ret_name(self.f.ret)
                    ));
                }
            }
            Inst::CallI {
                d,
                args,
                params,
                ret,
                ..
            } => {
                if args.len() != params.len() {
                    self.err(format!(
                        "`calli` signature takes {}, {} given",
                        plural(params.len(), "argument"),
                        args.len()
                    ));
                }
                if let Some(d) = d {
                    self.result("`calli` signature", *ret, *d);
                }
            }
            Inst::Ret { a } => match (a, self.f.ret) {
                (Some(_), None) => self.err(format!(
                    "function `{}` returns nothing, but `ret` gives a value",
                    self.f.name
                )),
                (None, Some(t)) => self.err(format!(
                    "function `{}` returns {t}, but `ret` gives no value",
                    self.f.name
                )),
                _ => {}
            },
            Inst::Store { ty, .. } if !ty.storable() => self.err(format!(
                "there is no `store.{}`: stores write signed widths only",
                mem_ty_name(*ty)
            )),
            Inst::Print {
                a,
                precision,
                newline,
            } => self.print(a.as_ref(), *precision, *newline),
            _ => {}
        }
    }

    /// The destination's type, for instructions whose type it names.
    fn dest(&mut self, inst: &Inst) {
        let (Some(d), Some(allowed)) = (inst.dest(), types::dest_allowed(inst)) else {
            return;
        };
        let t = self.reg_ty(d);
        if !allowed.contains(&t) {
            self.err(format!(
                "destination {} of `{}` has type {t}, expected {}",
                self.reg(d),
                self.mn,
                type_list(&allowed)
            ));
        }
    }

    fn operand(&mut self, inst: &Inst, o: &Operand, want: Type, role: Role) {
        let callee = match inst {
            Inst::Call { callee, .. } | Inst::Tail { callee, .. } => self.callee_name(*callee),
            _ => String::new(),
        };
        let mn = self.mn.clone();
        // "<noun> <operand> <context>", e.g. "operand `x` of `add`", "argument 2 `y` of `call`
        // to function `f`".
        let (noun, context) = match role {
            Role::Operand => ("operand".to_string(), format!("of `{mn}`")),
            Role::Condition => ("condition".to_string(), format!("of `{mn}`")),
            Role::Address => ("address".to_string(), format!("of `{mn}`")),
            Role::Value => ("value".to_string(), format!("of `{mn}`")),
            Role::Count => ("count".to_string(), format!("of `{mn}`")),
            Role::Handle => ("handle".to_string(), format!("of `{mn}`")),
            Role::Argument(i) if callee.is_empty() => {
                (format!("argument {}", i + 1), format!("of `{mn}`"))
            }
            Role::Argument(i) => (
                format!("argument {}", i + 1),
                format!("of `{mn}` to {callee}"),
            ),
            Role::Return => (
                "returned value".to_string(),
                format!("of function `{}`", self.f.name),
            ),
        };
        match *o {
            Operand::Reg(r) => {
                let t = self.reg_ty(r);
                if t != want {
                    self.err(format!(
                        "{noun} {} {context} has type {t}, expected {want}",
                        self.reg(r)
                    ));
                }
            }
            Operand::Const(c) => {
                if c.to_slot(want).is_none() {
                    let msg = match c {
                        Const::Int(_) if want == Type::F64 => format!(
                            "{noun} `{}` {context} does not convert exactly to f64",
                            literal(c)
                        ),
                        _ => format!(
                            "{noun} `{}` {context} is a {} literal, expected {want}",
                            literal(c),
                            c.natural_type()
                        ),
                    };
                    self.err(msg);
                }
            }
        }
    }

    fn arity(&mut self, callee: Callee, given: usize) {
        if let Some((params, _)) = types::callee_signature(self.v.m, callee)
            && params.len() != given
        {
            self.err(format!(
                "{} takes {}, {given} given",
                self.callee_name(callee),
                plural(params.len(), "argument")
            ));
        }
    }

    /// A call's destination `d` needs a result of its type.
    fn result(&mut self, what: &str, ret: Option<Type>, d: RegId) {
        let t = self.reg_ty(d);
        match ret {
            None => self.err(format!(
                "{what} returns nothing, but `{}` assigns its result to {}",
                self.mn,
                self.reg(d)
            )),
            Some(r) if r != t => self.err(format!(
                "{what} returns {r}, but destination {} has type {t}",
                self.reg(d)
            )),
            Some(_) => {}
        }
    }

    fn print(&mut self, a: Option<&Operand>, precision: Option<u8>, newline: bool) {
        let mn = self.mn.clone();
        let Some(a) = a else {
            if !newline {
                self.err("`print` needs an operand".to_string());
            } else if precision.is_some() {
                self.err("`println` without an operand cannot have a precision".to_string());
            }
            return;
        };
        let Some(p) = precision else { return };
        let t = types::natural_operand_type(self.f, a);
        if t != Type::F64 {
            let what = match *a {
                Operand::Reg(r) => self.reg(r),
                Operand::Const(c) => format!("`{}`", literal(c)),
            };
            self.err(format!(
                "a precision is only allowed when printing f64, but {what} of `{mn}` has type {t}"
            ));
        }
        if p > 17 {
            self.err(format!("precision {p} of `{mn}` is out of range 0..=17"));
        }
    }
}
