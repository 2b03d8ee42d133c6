//! The `.sil` parser: lines → items → a `Module` with every name resolved to an index.
//!
//! Three passes keep it simple: split the file into items (a function is its header line plus
//! the lines up to its `}`), declare every function and extern (so calls may name functions
//! defined later), then parse each body after a pre-scan of its `reg` lines and labels (registers
//! may be declared anywhere in a body, labels used before they stand).
//! Duplicate names are left for the verifier to report; unknown names are reported here.

use super::lex::{Tok, Token, lex_line};
use crate::diag::{Diagnostic, Diagnostics};
use crate::mnemonic::{Shape, lookup};
use crate::model::*;
use std::collections::HashMap;

/// Parses `.sil` text. `default_name` names the module when it has no `module` line (the file
/// stem). The result is not yet verified: see `crate::verify`.
pub fn parse(src: &str, default_name: &str) -> Result<Module, Diagnostics> {
    parse_into(src, Module::new(default_name))
}

/// Parses `src` as more items of `base`: a function or extern whose name `base` already has
/// replaces it in place (keeping its index, so a table slot can be swapped), new ones are
/// appended, `data` segments are added, and `memory`/`module` lines override. Names resolve
/// against the merged module. Used for redefinition (the embedding API and the REPL).
pub fn parse_into(src: &str, base: Module) -> Result<Module, Diagnostics> {
    let mut p = Parser {
        errors: Vec::new(),
        externs_here: Default::default(),
    };
    let module = p.module(src, base);
    if p.errors.is_empty() {
        Ok(module)
    } else {
        p.errors.sort_by_key(|d| (d.loc.line, d.loc.col));
        Err(Diagnostics(p.errors))
    }
}

struct Line {
    no: u32,
    toks: Vec<Token>,
    /// Column just past the last character, for "expected ... at end of line".
    end_col: u32,
}

struct FuncSrc {
    header: Line,
    body: Vec<Line>,
}

struct Parser {
    errors: Vec<Diagnostic>,
    /// Externs declared by the text being parsed (as opposed to the base module).
    externs_here: std::collections::HashSet<String>,
}

/// Names visible while parsing a body.
struct Scope<'a> {
    funcs: &'a HashMap<String, FuncId>,
    externs: &'a HashMap<String, ExternId>,
    regs: HashMap<String, RegId>,
    labels: HashMap<String, LabelId>,
}

type PResult<T> = Result<T, Diagnostic>;

/// A cursor over one line's tokens.
struct Cur<'a> {
    line: &'a Line,
    pos: usize,
}

impl<'a> Cur<'a> {
    fn new(line: &'a Line) -> Cur<'a> {
        Cur { line, pos: 0 }
    }

    fn peek(&self) -> Option<&'a Tok> {
        self.line.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.line.toks.get(self.pos + n).map(|t| &t.tok)
    }

    fn loc(&self) -> Loc {
        let col = self
            .line
            .toks
            .get(self.pos)
            .map_or(self.line.end_col, |t| t.col);
        Loc::new(self.line.no, col)
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(Diagnostic::new(self.loc(), msg))
    }

    fn found(&self) -> String {
        self.peek()
            .map_or("end of line".to_string(), |t| t.describe())
    }

    fn next(&mut self) -> Option<&'a Tok> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn at_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.at_punct(c);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_punct(&mut self, c: char) -> PResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.err(format!("expected `{c}`, found {}", self.found()))
        }
    }

    fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn ident(&mut self, what: &str) -> PResult<(String, Loc)> {
        let loc = self.loc();
        match self.peek() {
            Some(Tok::Ident(s)) => {
                self.pos += 1;
                Ok((s.clone(), loc))
            }
            _ => self.err(format!("expected {what}, found {}", self.found())),
        }
    }

    fn end(&self) -> PResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) => self.err(format!("unexpected {} at end of line", t.describe())),
        }
    }

    /// An optional `-> TYPE` (function, extern and `calli` signatures).
    fn ret_type(&mut self) -> PResult<Option<Type>> {
        if self.peek() == Some(&Tok::Arrow) {
            self.next();
            Ok(Some(self.ty()?))
        } else {
            Ok(None)
        }
    }

    fn ty(&mut self) -> PResult<Type> {
        let (name, loc) = self.ident("a type")?;
        Type::from_name(&name).ok_or_else(|| {
            Diagnostic::new(
                loc,
                format!("unknown type `{name}` (expected i64, f64 or sil)"),
            )
        })
    }

    /// An integer literal with an optional `-`, as an i64 (decimal must fit i64; hex and binary
    /// may be written as 64-bit patterns).
    fn int(&mut self, what: &str) -> PResult<i64> {
        let neg = self.eat_punct('-');
        match self.peek() {
            Some(&Tok::Int { value, decimal }) => {
                let v = int_value(value, decimal, neg).ok_or_else(|| {
                    Diagnostic::new(self.loc(), "integer literal out of range for i64")
                })?;
                self.pos += 1;
                Ok(v)
            }
            Some(&Tok::Char(c)) if !neg => {
                self.pos += 1;
                Ok(c as i64)
            }
            Some(Tok::Float(_)) => self.err(format!(
                "expected an integer for {what}, found a float literal"
            )),
            _ => self.err(format!(
                "expected an integer for {what}, found {}",
                self.found()
            )),
        }
    }

    /// A literal of any type, if one stands here.
    fn literal(&mut self) -> PResult<Option<Const>> {
        let save = self.pos;
        let neg = self.eat_punct('-');
        let loc = self.loc();
        let c = match self.peek() {
            Some(&Tok::Int { value, decimal }) => {
                let v = int_value(value, decimal, neg)
                    .ok_or_else(|| Diagnostic::new(loc, "integer literal out of range for i64"))?;
                Const::Int(v)
            }
            Some(&Tok::Float(f)) => Const::Float(if neg { -f } else { f }),
            Some(&Tok::Char(c)) if !neg => Const::Int(c as i64),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("inf") => Const::Float(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("nan") => Const::Float(f64::NAN),
            Some(Tok::Ident(s))
                if !neg
                    && s.eq_ignore_ascii_case("sil")
                    && self.peek_at(1) == Some(&Tok::Punct('(')) =>
            {
                self.pos += 2;
                let rho = self.int("the rho of sil(...)")?;
                self.expect_punct(',')?;
                let theta_loc = self.loc();
                let theta = self.int("the theta of sil(...)")?;
                self.expect_punct(')')?;
                if !(-8..=7).contains(&rho) {
                    return Err(Diagnostic::new(
                        loc,
                        format!("sil rho {rho} is out of range -8..=7"),
                    ));
                }
                if !(0..=15).contains(&theta) {
                    return Err(Diagnostic::new(
                        theta_loc,
                        format!("sil theta {theta} is out of range 0..=15"),
                    ));
                }
                return Ok(Some(Const::Sil((((rho + 8) as u8) << 4) | theta as u8)));
            }
            _ => {
                if neg {
                    return self.err(format!(
                        "expected a number after `-`, found {}",
                        self.found()
                    ));
                }
                self.pos = save;
                return Ok(None);
            }
        };
        self.pos += 1;
        Ok(Some(c))
    }
}

/// Applies the sign and range rules of docs/reference/text-format.md to an integer literal's magnitude.
fn int_value(mag: u128, decimal: bool, neg: bool) -> Option<i64> {
    const MIN_MAG: u128 = 1u128 << 63;
    match (neg, decimal) {
        (false, true) => i64::try_from(mag).ok(),
        (false, false) => u64::try_from(mag).ok().map(|v| v as i64),
        (true, _) if mag == MIN_MAG => Some(i64::MIN),
        (true, _) => i64::try_from(mag).ok().map(|v| -v),
    }
}

fn is_reserved(name: &str) -> bool {
    ["inf", "nan", "i64", "f64", "sil"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

impl Parser {
    fn module(&mut self, src: &str, base: Module) -> Module {
        let mut m = base;
        let (items, funcs) = self.split(src);

        // Declarations first, so calls may name anything in the file.
        let mut func_ids: HashMap<String, FuncId> = m
            .funcs
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), FuncId(i as u32)))
            .collect();
        let mut extern_ids: HashMap<String, ExternId> = m
            .externs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), ExternId(i as u32)))
            .collect();
        let mut defined_here = std::collections::HashSet::new();
        let mut headers = Vec::new();
        for f in &funcs {
            match self.func_header(&f.header) {
                Ok(func) => {
                    // A name from `base` is replaced in place; a second definition in this
                    // text is appended, so the verifier reports the duplicate.
                    let id = match func_ids.get(&func.name) {
                        Some(&id) if !defined_here.contains(&func.name) => {
                            m.funcs[id.0 as usize] = func;
                            id
                        }
                        _ => {
                            let id = FuncId(m.funcs.len() as u32);
                            func_ids.entry(func.name.clone()).or_insert(id);
                            m.funcs.push(func);
                            id
                        }
                    };
                    defined_here.insert(m.funcs[id.0 as usize].name.clone());
                    headers.push(Some(id));
                }
                Err(e) => {
                    self.errors.push(e);
                    headers.push(None);
                }
            }
        }
        for line in &items {
            if let Err(e) = self.item(line, &mut m, &mut extern_ids) {
                self.errors.push(e);
            }
        }
        for (f, id) in funcs.iter().zip(headers) {
            if let Some(id) = id {
                let mut func = std::mem::replace(&mut m.funcs[id.0 as usize], placeholder());
                self.body(f, &mut func, &func_ids, &extern_ids);
                m.funcs[id.0 as usize] = func;
            }
        }
        m
    }

    /// Lexes every line and splits the file into one-line items and functions.
    fn split(&mut self, src: &str) -> (Vec<Line>, Vec<FuncSrc>) {
        let mut items = Vec::new();
        let mut funcs: Vec<FuncSrc> = Vec::new();
        let mut open: Option<FuncSrc> = None;
        for (i, text) in src.lines().enumerate() {
            let no = i as u32 + 1;
            let toks = match lex_line(text, no) {
                Ok(t) => t,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            if toks.is_empty() {
                continue;
            }
            let line = Line {
                no,
                toks,
                end_col: text.chars().count() as u32 + 1,
            };
            let is_close = line.toks.len() == 1 && line.toks[0].tok == Tok::Punct('}');
            let starts_func = {
                let mut c = Cur::new(&line);
                if c.at_keyword("export") {
                    c.next();
                }
                c.at_keyword("func")
            };
            match open.as_mut() {
                Some(f) if is_close => {
                    let _ = f;
                    funcs.push(open.take().expect("open function"));
                }
                Some(f) if starts_func => {
                    let name = header_name(&f.header);
                    self.errors.push(Diagnostic::new(
                        Loc::new(line.no, line.toks[0].col),
                        format!(
                            "function `{name}` is missing its closing `}}` before this function"
                        ),
                    ));
                    funcs.push(open.take().expect("open function"));
                    open = Some(FuncSrc {
                        header: line,
                        body: Vec::new(),
                    });
                }
                Some(f) => f.body.push(line),
                None if starts_func => {
                    open = Some(FuncSrc {
                        header: line,
                        body: Vec::new(),
                    })
                }
                None if is_close => self.errors.push(Diagnostic::new(
                    Loc::new(line.no, line.toks[0].col),
                    "unexpected `}` outside a function",
                )),
                None => items.push(line),
            }
        }
        if let Some(f) = open {
            self.errors.push(Diagnostic::new(
                Loc::new(f.header.no, f.header.toks[0].col),
                format!(
                    "function `{}` is missing its closing `}}`",
                    header_name(&f.header)
                ),
            ));
            funcs.push(f);
        }
        (items, funcs)
    }

    /// `[export] func NAME(p: T, ...) [-> T] {`
    fn func_header(&mut self, line: &Line) -> PResult<Function> {
        let mut c = Cur::new(line);
        let export = c.at_keyword("export");
        if export {
            c.next();
        }
        let loc = c.loc();
        c.next(); // `func`
        let (name, _) = c.ident("a function name")?;
        c.expect_punct('(')?;
        let mut regs = Vec::new();
        if !c.eat_punct(')') {
            loop {
                let (pname, ploc) = c.ident("a parameter name")?;
                if is_reserved(&pname) {
                    return Err(Diagnostic::new(
                        ploc,
                        format!("`{pname}` is reserved and cannot name a register"),
                    ));
                }
                c.expect_punct(':')?;
                let ty = c.ty()?;
                regs.push(RegDecl {
                    name: pname,
                    ty,
                    loc: ploc,
                });
                if c.eat_punct(')') {
                    break;
                }
                c.expect_punct(',')?;
            }
        }
        let ret = c.ret_type()?;
        if !c.eat_punct('{') {
            return c.err(format!(
                "expected `{{` at the end of the header of `{name}`, found {}",
                c.found()
            ));
        }
        c.end()?;
        Ok(Function {
            name,
            export,
            num_params: regs.len() as u32,
            regs,
            ret,
            labels: Vec::new(),
            body: Vec::new(),
            loc,
        })
    }

    /// A one-line module item: `module`, `memory`, `data`, `extern func`.
    fn item(
        &mut self,
        line: &Line,
        m: &mut Module,
        externs: &mut HashMap<String, ExternId>,
    ) -> PResult<()> {
        let mut c = Cur::new(line);
        let loc = c.loc();
        let (kw, _) = c.ident("a module item")?;
        match kw.to_ascii_lowercase().as_str() {
            "module" => {
                m.name = c.ident("a module name")?.0;
            }
            "memory" => {
                let min = c.int("the page count")?;
                let max = if c.at_keyword("max") {
                    c.next();
                    c.int("the maximum page count")?
                } else {
                    MAX_PAGES as i64
                };
                if min < 0 || max < 0 {
                    return Err(Diagnostic::new(
                        loc,
                        "memory page counts cannot be negative",
                    ));
                }
                m.memory = Memory {
                    min_pages: min as u64,
                    max_pages: max as u64,
                    loc,
                };
                m.memory_declared = true;
            }
            "data" => {
                let offset = c.int("the data offset")?;
                let bytes = match c.peek() {
                    Some(Tok::Str(s)) => {
                        c.next();
                        s.clone()
                    }
                    Some(Tok::Ident(k)) if k.eq_ignore_ascii_case("bytes") => {
                        c.next();
                        let mut v = Vec::new();
                        loop {
                            let bloc = c.loc();
                            let b = c.int("a byte value")?;
                            let b = u8::try_from(b).map_err(|_| {
                                Diagnostic::new(
                                    bloc,
                                    format!("byte value {b} is out of range 0..=255"),
                                )
                            })?;
                            v.push(b);
                            if !c.eat_punct(',') {
                                break;
                            }
                        }
                        v
                    }
                    _ => {
                        return c.err(format!(
                            "expected a string or `bytes` after the data offset, found {}",
                            c.found()
                        ));
                    }
                };
                m.data.push(DataSegment { offset, bytes, loc });
            }
            "extern" => {
                if !c.at_keyword("func") {
                    return c.err(format!(
                        "expected `func` after `extern`, found {}",
                        c.found()
                    ));
                }
                c.next();
                let (name, _) = c.ident("an extern function name")?;
                c.expect_punct('(')?;
                let (mut params, mut names) = (Vec::new(), Vec::new());
                if !c.eat_punct(')') {
                    loop {
                        // `x: i64` or just `i64`.
                        let pname = match (c.peek(), c.peek_at(1)) {
                            (Some(Tok::Ident(n)), Some(Tok::Punct(':'))) => {
                                let n = n.clone();
                                c.pos += 2;
                                Some(n)
                            }
                            _ => None,
                        };
                        params.push(c.ty()?);
                        names.push(pname);
                        if c.eat_punct(')') {
                            break;
                        }
                        c.expect_punct(',')?;
                    }
                }
                let ret = c.ret_type()?;
                let ext = Extern {
                    name: name.clone(),
                    params,
                    param_names: names,
                    ret,
                    loc,
                };
                match externs.get(&name) {
                    // Redeclaring an extern of the base module replaces it in place; a second
                    // declaration in the same text is appended for the verifier to report.
                    Some(&id) if !self.externs_here.contains(&name) => {
                        m.externs[id.0 as usize] = ext;
                        self.externs_here.insert(name);
                    }
                    _ => {
                        self.externs_here.insert(name.clone());
                        externs
                            .entry(name)
                            .or_insert(ExternId(m.externs.len() as u32));
                        m.externs.push(ext);
                    }
                }
            }
            other => {
                return Err(Diagnostic::new(
                    loc,
                    format!(
                        "expected a module item (module, memory, data, extern, func), found `{other}`"
                    ),
                ));
            }
        }
        c.end()
    }

    fn body(
        &mut self,
        src: &FuncSrc,
        func: &mut Function,
        funcs: &HashMap<String, FuncId>,
        externs: &HashMap<String, ExternId>,
    ) {
        // Pre-scan: registers and labels, so both may be used before they are declared.
        let mut labels = HashMap::new();
        let mut count = 0u32;
        let mut insts: Vec<(&Line, usize)> = Vec::new();
        for line in &src.body {
            let mut c = Cur::new(line);
            if let (Some(Tok::Ident(name)), Some(Tok::Punct(':'))) = (c.peek(), c.peek_at(1)) {
                let loc = c.loc();
                labels
                    .entry(name.clone())
                    .or_insert(LabelId(func.labels.len() as u32));
                func.labels.push(Label {
                    name: name.clone(),
                    pos: count,
                    loc,
                });
                c.pos += 2;
                if c.peek().is_none() {
                    continue;
                }
            }
            if c.at_keyword("reg") && matches!(c.peek_at(1), Some(Tok::Ident(_))) {
                if let Err(e) = reg_line(&mut c, func) {
                    self.errors.push(e);
                }
                continue;
            }
            insts.push((line, c.pos));
            count += 1;
        }
        let regs = func
            .regs
            .iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (r.name.clone(), RegId(i as u32)))
            .collect();
        let scope = Scope {
            funcs,
            externs,
            regs,
            labels,
        };
        for (line, pos) in insts {
            let mut c = Cur { line, pos };
            let loc = c.loc();
            match inst(&mut c, &scope) {
                Ok(inst) => func.body.push(InstAt { inst, loc }),
                Err(e) => {
                    self.errors.push(e);
                    // Keep label positions right: stand a placeholder in for the bad line.
                    func.body.push(InstAt {
                        inst: Inst::Nop,
                        loc,
                    });
                }
            }
        }
    }
}

fn placeholder() -> Function {
    Function {
        name: String::new(),
        export: false,
        num_params: 0,
        regs: Vec::new(),
        ret: None,
        labels: Vec::new(),
        body: Vec::new(),
        loc: Loc::NONE,
    }
}

fn header_name(line: &Line) -> String {
    line.toks
        .iter()
        .find_map(|t| match &t.tok {
            Tok::Ident(s)
                if !s.eq_ignore_ascii_case("export") && !s.eq_ignore_ascii_case("func") =>
            {
                Some(s.clone())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// `reg a: T, b: T`
fn reg_line(c: &mut Cur, func: &mut Function) -> PResult<()> {
    c.next(); // `reg`
    loop {
        let (name, loc) = c.ident("a register name")?;
        if is_reserved(&name) {
            return Err(Diagnostic::new(
                loc,
                format!("`{name}` is reserved and cannot name a register"),
            ));
        }
        c.expect_punct(':')?;
        let ty = c.ty()?;
        func.regs.push(RegDecl { name, ty, loc });
        if !c.eat_punct(',') {
            break;
        }
    }
    c.end()
}

impl Scope<'_> {
    fn reg(&self, c: &mut Cur) -> PResult<RegId> {
        let (name, loc) = c.ident("a register")?;
        self.regs
            .get(&name)
            .copied()
            .ok_or_else(|| Diagnostic::new(loc, format!("undeclared register `{name}`")))
    }

    fn operand(&self, c: &mut Cur) -> PResult<Operand> {
        if let Some(k) = c.literal()? {
            return Ok(Operand::Const(k));
        }
        match c.peek() {
            Some(Tok::Ident(_)) => Ok(Operand::Reg(self.reg(c)?)),
            _ => c.err(format!(
                "expected a register or a literal, found {}",
                c.found()
            )),
        }
    }

    fn label(&self, c: &mut Cur) -> PResult<LabelId> {
        let (name, loc) = c.ident("a label")?;
        self.labels
            .get(&name)
            .copied()
            .ok_or_else(|| Diagnostic::new(loc, format!("undefined label `{name}`")))
    }

    fn callee(&self, c: &mut Cur) -> PResult<Callee> {
        let (name, loc) = c.ident("a function name")?;
        if let Some(&f) = self.funcs.get(&name) {
            Ok(Callee::Func(f))
        } else if let Some(&e) = self.externs.get(&name) {
            Ok(Callee::Extern(e))
        } else {
            Err(Diagnostic::new(loc, format!("undefined function `{name}`")))
        }
    }

    /// `(a, b, ...)`
    fn args(&self, c: &mut Cur) -> PResult<Vec<Operand>> {
        c.expect_punct('(')?;
        let mut args = Vec::new();
        if c.eat_punct(')') {
            return Ok(args);
        }
        loop {
            args.push(self.operand(c)?);
            if c.eat_punct(')') {
                return Ok(args);
            }
            c.expect_punct(',')?;
        }
    }

    /// `[a]`, `[a + K]`, `[a - K]`
    fn addr(&self, c: &mut Cur) -> PResult<Addr> {
        if !c.eat_punct('[') {
            return c.err(format!(
                "expected an address `[reg + offset]`, found {}",
                c.found()
            ));
        }
        let base = self.operand(c)?;
        // `+ K`, or `- K` whose sign `int` reads itself.
        let offset = if c.eat_punct('+') || c.at_punct('-') {
            c.int("the address offset")?
        } else {
            0
        };
        if !c.eat_punct(']') {
            return c.err(format!(
                "expected `]` or `+ offset` in the address, found {}",
                c.found()
            ));
        }
        Ok(Addr { base, offset })
    }
}

fn comma(c: &mut Cur) -> PResult<()> {
    c.expect_punct(',')
}

/// Parses one instruction at the cursor (its mnemonic first).
fn inst(c: &mut Cur, s: &Scope) -> PResult<Inst> {
    let (name, loc) = c.ident("an instruction")?;
    let shape = lookup(&name)
        .ok_or_else(|| Diagnostic::new(loc, format!("unknown instruction `{name}`")))?;
    let i = match shape {
        Shape::Mov => {
            let d = s.reg(c)?;
            comma(c)?;
            Inst::Mov {
                d,
                a: s.operand(c)?,
            }
        }
        Shape::Bin(op) => {
            let (d, a, b) = d_a_b(c, s)?;
            Inst::Bin { op, d, a, b }
        }
        Shape::Un(op) => {
            let d = s.reg(c)?;
            comma(c)?;
            Inst::Un {
                op,
                d,
                a: s.operand(c)?,
            }
        }
        Shape::SilInt(op) => {
            let (d, a, n) = d_a_b(c, s)?;
            Inst::SilInt { op, d, a, n }
        }
        Shape::SilNew => {
            let (d, rho, theta) = d_a_b(c, s)?;
            Inst::SilNew { d, rho, theta }
        }
        Shape::SilFrom => {
            let (d, re, im) = d_a_b(c, s)?;
            Inst::SilFrom { d, re, im }
        }
        Shape::SilLerp => {
            let (d, a, b) = d_a_b(c, s)?;
            comma(c)?;
            Inst::SilLerp {
                d,
                a,
                b,
                t: s.operand(c)?,
            }
        }
        Shape::Cmp(op) => {
            let (d, a, b) = d_a_b(c, s)?;
            Inst::Cmp { op, d, a, b }
        }
        Shape::Select => {
            let (d, cond, a) = d_a_b(c, s)?;
            comma(c)?;
            Inst::Select {
                d,
                c: cond,
                a,
                b: s.operand(c)?,
            }
        }
        Shape::Jmp => Inst::Jmp {
            target: s.label(c)?,
        },
        Shape::JumpIf(nonzero) => {
            let a = s.operand(c)?;
            comma(c)?;
            Inst::JumpIf {
                nonzero,
                a,
                target: s.label(c)?,
            }
        }
        Shape::Branch(op) => {
            let a = s.operand(c)?;
            comma(c)?;
            let b = s.operand(c)?;
            comma(c)?;
            Inst::Branch {
                op,
                a,
                b,
                target: s.label(c)?,
            }
        }
        Shape::Switch => {
            let a = s.operand(c)?;
            comma(c)?;
            c.expect_punct('[')?;
            let mut targets = Vec::new();
            if !c.eat_punct(']') {
                loop {
                    targets.push(s.label(c)?);
                    if c.eat_punct(']') {
                        break;
                    }
                    comma(c)?;
                }
            }
            comma(c)?;
            Inst::Switch {
                a,
                targets,
                default: s.label(c)?,
            }
        }
        Shape::Call => {
            let d = if c.peek_at(1) == Some(&Tok::Punct('(')) {
                None
            } else {
                let d = s.reg(c)?;
                comma(c)?;
                Some(d)
            };
            let callee = s.callee(c)?;
            Inst::Call {
                d,
                callee,
                args: s.args(c)?,
            }
        }
        Shape::Tail => {
            let callee = s.callee(c)?;
            Inst::Tail {
                callee,
                args: s.args(c)?,
            }
        }
        Shape::Fref => {
            let d = s.reg(c)?;
            comma(c)?;
            let (fname, floc) = c.ident("a function name")?;
            let func = match s.funcs.get(&fname) {
                Some(&f) => f,
                None if s.externs.contains_key(&fname) => {
                    return Err(Diagnostic::new(
                        floc,
                        format!("`fref` needs a function, but `{fname}` is an extern"),
                    ));
                }
                None => {
                    return Err(Diagnostic::new(
                        floc,
                        format!("undefined function `{fname}`"),
                    ));
                }
            };
            Inst::Fref { d, func }
        }
        Shape::CallI => {
            // `calli d, h(args) : (T, ...) -> T` or `calli h(args) : (T, ...)`
            let first = s.operand(c)?;
            let (d, handle) = if c.eat_punct(',') {
                match first {
                    Operand::Reg(d) => (Some(d), s.operand(c)?),
                    Operand::Const(_) => {
                        return Err(Diagnostic::new(
                            loc,
                            "the result of `calli` must be a register",
                        ));
                    }
                }
            } else {
                (None, first)
            };
            let args = s.args(c)?;
            c.expect_punct(':')?;
            c.expect_punct('(')?;
            let mut params = Vec::new();
            if !c.eat_punct(')') {
                loop {
                    params.push(c.ty()?);
                    if c.eat_punct(')') {
                        break;
                    }
                    comma(c)?;
                }
            }
            let ret = c.ret_type()?;
            Inst::CallI {
                d,
                handle,
                args,
                params,
                ret,
            }
        }
        Shape::Ret => Inst::Ret {
            a: if c.peek().is_some() {
                Some(s.operand(c)?)
            } else {
                None
            },
        },
        Shape::Exit => Inst::Exit { a: s.operand(c)? },
        Shape::Trap => Inst::Trap,
        Shape::Nop => Inst::Nop,
        Shape::Load(ty) => {
            let d = s.reg(c)?;
            comma(c)?;
            Inst::Load {
                ty,
                d,
                addr: s.addr(c)?,
            }
        }
        Shape::Store(ty) => {
            if !ty.storable() {
                return Err(Diagnostic::new(
                    loc,
                    format!("unknown instruction `{name}`"),
                ));
            }
            let addr = s.addr(c)?;
            comma(c)?;
            Inst::Store {
                ty,
                addr,
                v: s.operand(c)?,
            }
        }
        Shape::MemSize => Inst::MemSize { d: s.reg(c)? },
        Shape::MemGrow => {
            let d = s.reg(c)?;
            comma(c)?;
            Inst::MemGrow {
                d,
                a: s.operand(c)?,
            }
        }
        Shape::MemCopy => {
            let (dst, src, n) = a_b_c(c, s)?;
            Inst::MemCopy { dst, src, n }
        }
        Shape::MemFill => {
            let (dst, byte, n) = a_b_c(c, s)?;
            Inst::MemFill { dst, byte, n }
        }
        Shape::Print(newline) => {
            if newline && c.peek().is_none() {
                Inst::Print {
                    a: None,
                    precision: None,
                    newline,
                }
            } else {
                let a = s.operand(c)?;
                let precision = if c.eat_punct(',') {
                    let ploc = c.loc();
                    let p = c.int("the precision")?;
                    Some(u8::try_from(p).map_err(|_| {
                        Diagnostic::new(ploc, format!("precision {p} is out of range 0..=17"))
                    })?)
                } else {
                    None
                };
                Inst::Print {
                    a: Some(a),
                    precision,
                    newline,
                }
            }
        }
        Shape::Putc => Inst::Putc { a: s.operand(c)? },
        Shape::Write => {
            let a = s.operand(c)?;
            comma(c)?;
            Inst::Write {
                a,
                n: s.operand(c)?,
            }
        }
        Shape::Getc => Inst::Getc { d: s.reg(c)? },
        Shape::Clock => Inst::Clock { d: s.reg(c)? },
    };
    c.end()?;
    Ok(i)
}

fn d_a_b(c: &mut Cur, s: &Scope) -> PResult<(RegId, Operand, Operand)> {
    let d = s.reg(c)?;
    comma(c)?;
    let a = s.operand(c)?;
    comma(c)?;
    Ok((d, a, s.operand(c)?))
}

fn a_b_c(c: &mut Cur, s: &Scope) -> PResult<(Operand, Operand, Operand)> {
    let a = s.operand(c)?;
    comma(c)?;
    let b = s.operand(c)?;
    comma(c)?;
    Ok((a, b, s.operand(c)?))
}

/// Parses one literal as the text format writes it (`-3`, `0x10`, `2.5`, `inf`, `'A'`,
/// `sil(1, 2)`): how `vsp run` and the REPL read arguments for `main` and calls.
pub fn parse_literal(text: &str) -> Result<Const, String> {
    let toks = lex_line(text, 1).map_err(|d| d.message)?;
    let line = Line {
        no: 1,
        toks,
        end_col: text.chars().count() as u32 + 1,
    };
    let mut c = Cur::new(&line);
    match c.literal().map_err(|d| d.message)? {
        Some(k) => {
            c.end().map_err(|d| d.message)?;
            Ok(k)
        }
        None => Err(format!("`{text}` is not a literal")),
    }
}
