//! calc's code generator: checks names and types, and emits a vsp module through the builder API.

use crate::error::{CalcError, Pos};
use crate::syntax::{BinOp, Expr, Function, Stmt, Ty};
use bytecode::{CmpOp, FuncId, FunctionBuilder, ModuleBuilder, Operand, RegId, Type};
use std::collections::HashMap;

/// Compiles a parsed program into a verified vsp module called `name`.
pub(crate) fn compile(funcs: &[Function], name: &str) -> Result<bytecode::Module, CalcError> {
    let mut mb = ModuleBuilder::new(name);
    // Declare every function first, so calls may come before the callee's definition.
    let mut sigs: HashMap<String, Sig> = HashMap::new();
    for f in funcs {
        if BUILTINS.contains(&f.name.as_str()) || sigs.contains_key(&f.name) {
            return Err(CalcError::semantic(
                f.pos,
                format!("`{}` is already defined", f.name),
            ));
        }
        let names: Vec<String> = f.params.iter().map(|(n, _)| reg_name(n)).collect();
        let params: Vec<(&str, Type)> = names
            .iter()
            .zip(&f.params)
            .map(|(n, (_, t))| (n.as_str(), vsp_type(*t)))
            .collect();
        let id = mb.declare_func(f.name.as_str(), &params, f.ret.map(vsp_type));
        let sig = Sig {
            id,
            params: f.params.iter().map(|(_, t)| *t).collect(),
            ret: f.ret,
        };
        sigs.insert(f.name.clone(), sig);
    }
    if let Some(main) = funcs.iter().find(|f| f.name == "main")
        && main.ret == Some(Ty::Float)
    {
        return Err(CalcError::semantic(
            main.pos,
            "`main` returns an `int` (the exit status) or nothing",
        ));
    }
    for f in funcs {
        let Some(sig) = sigs.get(&f.name) else {
            continue;
        };
        if f.ret.is_some() && !always_returns(&f.body) {
            return Err(CalcError::semantic(
                f.pos,
                format!("`{}` can reach its end without returning a value", f.name),
            ));
        }
        let mut fb = mb.func(sig.id);
        fb.export();
        let mut g = FuncGen {
            f: &mut fb,
            sigs: &sigs,
            scopes: vec![HashMap::new()],
            ret: f.ret,
            names_used: HashMap::new(),
        };
        for (i, (pname, ty)) in f.params.iter().enumerate() {
            let reg = g.f.param(i);
            g.names_used.insert(pname.clone(), 1);
            g.bind(pname, reg, *ty);
        }
        g.block(&f.body)?;
        // Every path of the verified module must end in a jump, return or trap. A function
        // without a result returns at its end; one with a result was checked above to return
        // on every path, so this `trap` is never reached.
        match f.ret {
            None => g.f.ret_void(),
            Some(_) => g.f.trap(),
        };
    }
    Ok(mb.finish()?)
}

/// Names calc defines itself: `sqrt(float)`, `float(int)`, `int(float)` (truncating) and
/// `putc(int)` (writes one byte).
const BUILTINS: [&str; 4] = ["sqrt", "float", "int", "putc"];

struct Sig {
    id: FuncId,
    params: Vec<Ty>,
    ret: Option<Ty>,
}

fn vsp_type(t: Ty) -> Type {
    match t {
        Ty::Int => Type::I64,
        Ty::Float => Type::F64,
    }
}

/// The vsp register for a calc variable: its own name, except for the words vsp reserves
/// (`inf`, `nan` and the type names, which would read as literals or types in `.sil` text);
/// those get a `$`, which calc names cannot contain, so no two variables meet.
fn reg_name(name: &str) -> String {
    let reserved = ["inf", "nan", "i64", "f64", "sil"]
        .iter()
        .any(|w| w.eq_ignore_ascii_case(name));
    if reserved {
        format!("{name}$")
    } else {
        name.to_string()
    }
}

/// Whether every path through `body` ends in `return` (so nothing runs off its end).
fn always_returns(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::Return(..) => true,
        Stmt::If(_, then, otherwise) => always_returns(then) && always_returns(otherwise),
        _ => false,
    })
}

/// The state of one function being generated.
struct FuncGen<'b, 'm> {
    f: &'b mut FunctionBuilder<'m>,
    sigs: &'b HashMap<String, Sig>,
    /// Variables in scope, innermost block last.
    scopes: Vec<HashMap<String, (RegId, Ty)>>,
    ret: Option<Ty>,
    /// How many registers each source name has had, to give shadowing `let`s their own.
    names_used: HashMap<String, usize>,
}

impl FuncGen<'_, '_> {
    fn bind(&mut self, name: &str, reg: RegId, ty: Ty) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), (reg, ty));
        }
    }

    fn lookup(&self, name: &str, pos: Pos) -> Result<(RegId, Ty), CalcError> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())
            .ok_or_else(|| CalcError::semantic(pos, format!("unknown variable `{name}`")))
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), CalcError> {
        self.scopes.push(HashMap::new());
        for s in stmts {
            self.stmt(s)?;
        }
        self.scopes.pop();
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), CalcError> {
        match s {
            Stmt::Let(name, e) => {
                let (value, ty) = self.value(e)?;
                // The register keeps the source name (so backtraces and `vsp disasm` read
                // well); a second variable of the same name in the function gets `name.2`.
                let n = self.names_used.entry(name.clone()).or_insert(0);
                *n += 1;
                let reg_name = if *n == 1 {
                    reg_name(name)
                } else {
                    format!("{}.{n}", reg_name(name))
                };
                let reg = self.f.reg(reg_name, vsp_type(ty));
                self.f.mov(reg, value);
                self.bind(name, reg, ty);
            }
            Stmt::Assign(name, e, pos) => {
                let (reg, ty) = self.lookup(name, *pos)?;
                let value = self.typed(e, ty, "the variable")?;
                self.f.mov(reg, value);
            }
            Stmt::If(cond, then, otherwise) => {
                let c = self.condition(cond)?;
                let (else_l, end) = (self.f.temp_label(), self.f.temp_label());
                self.f.jz(c, else_l);
                self.block(then)?;
                self.f.jmp(end);
                self.f.bind(else_l);
                self.block(otherwise)?;
                self.f.bind(end);
            }
            Stmt::While(cond, body) => {
                let (top, end) = (self.f.temp_label(), self.f.temp_label());
                self.f.bind(top);
                let c = self.condition(cond)?;
                self.f.jz(c, end);
                self.block(body)?;
                self.f.jmp(top);
                self.f.bind(end);
            }
            Stmt::Return(value, pos) => self.ret(value.as_ref(), *pos)?,
            Stmt::Print(e) => {
                let (v, _) = self.value(e)?;
                self.f.println(v);
            }
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
        }
        Ok(())
    }

    fn ret(&mut self, value: Option<&Expr>, pos: Pos) -> Result<(), CalcError> {
        match (value, self.ret) {
            (None, None) => {
                self.f.ret_void();
            }
            (Some(e), Some(ty)) => {
                // `return f(...)` of a function with the same result type is a tail call: the
                // stack does not grow, so a tail-recursive loop runs in constant space.
                if let Expr::Call(name, args, pos) = e
                    && let Some(sig) = self.sigs.get(name)
                    && sig.ret == Some(ty)
                {
                    let (id, args) = (sig.id, self.args(name, &sig.params, args, *pos)?);
                    self.f.tail(id, &args);
                } else {
                    let v = self.typed(e, ty, "the result")?;
                    self.f.ret(v);
                }
            }
            (Some(_), None) => {
                return Err(CalcError::semantic(
                    pos,
                    "this function has no result to return",
                ));
            }
            (None, Some(ty)) => {
                return Err(CalcError::semantic(
                    pos,
                    format!("this function must return a `{}`", ty.name()),
                ));
            }
        }
        Ok(())
    }

    /// An `int` condition (nonzero is true).
    fn condition(&mut self, e: &Expr) -> Result<Operand, CalcError> {
        self.typed(e, Ty::Int, "a condition")
    }

    /// An expression that must have type `want`.
    fn typed(&mut self, e: &Expr, want: Ty, what: &str) -> Result<Operand, CalcError> {
        let (v, ty) = self.value(e)?;
        if ty != want {
            return Err(CalcError::semantic(
                e.pos(),
                format!(
                    "{what} must be `{}`, this is `{}` (convert with `{}(...)`)",
                    want.name(),
                    ty.name(),
                    want.name()
                ),
            ));
        }
        Ok(v)
    }

    /// An expression that must have a value.
    fn value(&mut self, e: &Expr) -> Result<(Operand, Ty), CalcError> {
        self.expr(e)?
            .ok_or_else(|| CalcError::semantic(e.pos(), "this call has no value"))
    }

    /// Generates `e`; returns where its value is (a register or a literal) and its type, or
    /// `None` for a call of a function without a result.
    fn expr(&mut self, e: &Expr) -> Result<Option<(Operand, Ty)>, CalcError> {
        Ok(Some(match e {
            Expr::Int(v, _) => (Operand::from(*v), Ty::Int),
            Expr::Float(v, _) => (Operand::from(*v), Ty::Float),
            Expr::Var(name, pos) => {
                let (reg, ty) = self.lookup(name, *pos)?;
                (reg.into(), ty)
            }
            Expr::Neg(inner, _) => {
                let (v, ty) = self.value(inner)?;
                let d = self.f.temp(vsp_type(ty));
                self.f.neg(d, v);
                (d.into(), ty)
            }
            Expr::Not(inner, _) => {
                let v = self.typed(inner, Ty::Int, "the operand of `!`")?;
                let d = self.f.temp(Type::I64);
                self.f.eq(d, v, 0);
                (d.into(), Ty::Int)
            }
            Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b, _) => {
                self.short_circuit(*op == BinOp::And, a, b)?
            }
            Expr::Binary(op, a, b, pos) => self.binary(*op, a, b, *pos)?,
            Expr::Call(name, args, pos) => return self.call(name, args, *pos),
        }))
    }

    /// `a && b` and `a || b`: `b` runs only if `a` does not decide; the result is 0 or 1.
    fn short_circuit(&mut self, and: bool, a: &Expr, b: &Expr) -> Result<(Operand, Ty), CalcError> {
        let d = self.f.temp(Type::I64);
        let done = self.f.temp_label();
        let va = self.typed(a, Ty::Int, "an operand of `&&` and `||`")?;
        self.f.ne(d, va, 0);
        if and {
            self.f.jz(d, done);
        } else {
            self.f.jnz(d, done);
        }
        let vb = self.typed(b, Ty::Int, "an operand of `&&` and `||`")?;
        self.f.ne(d, vb, 0);
        self.f.bind(done);
        Ok((d.into(), Ty::Int))
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        pos: Pos,
    ) -> Result<(Operand, Ty), CalcError> {
        let (va, ta) = self.value(a)?;
        let (vb, tb) = self.value(b)?;
        if ta != tb {
            return Err(CalcError::semantic(
                pos,
                format!(
                    "the operands are `{}` and `{}`; convert one with `int(...)` or `float(...)`",
                    ta.name(),
                    tb.name()
                ),
            ));
        }
        let cmp = match op {
            BinOp::Lt => Some(CmpOp::Lt),
            BinOp::Le => Some(CmpOp::Le),
            BinOp::Gt => Some(CmpOp::Gt),
            BinOp::Ge => Some(CmpOp::Ge),
            BinOp::Eq => Some(CmpOp::Eq),
            BinOp::Ne => Some(CmpOp::Ne),
            _ => None,
        };
        if let Some(cmp) = cmp {
            let d = self.f.temp(Type::I64);
            self.f.cmp(cmp, d, va, vb);
            return Ok((d.into(), Ty::Int));
        }
        let d = self.f.temp(vsp_type(ta));
        let op = match op {
            BinOp::Add => bytecode::BinOp::Add,
            BinOp::Sub => bytecode::BinOp::Sub,
            BinOp::Mul => bytecode::BinOp::Mul,
            BinOp::Div => bytecode::BinOp::Div,
            _ => bytecode::BinOp::Rem,
        };
        self.f.bin(op, d, va, vb);
        Ok((d.into(), ta))
    }

    /// Arguments checked against a callee's parameter types.
    fn args(
        &mut self,
        name: &str,
        params: &[Ty],
        args: &[Expr],
        pos: Pos,
    ) -> Result<Vec<Operand>, CalcError> {
        if params.len() != args.len() {
            return Err(CalcError::semantic(
                pos,
                format!(
                    "`{name}` takes {} arguments, {} given",
                    params.len(),
                    args.len()
                ),
            ));
        }
        params
            .iter()
            .zip(args)
            .map(|(ty, a)| self.typed(a, *ty, "this argument"))
            .collect()
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: Pos,
    ) -> Result<Option<(Operand, Ty)>, CalcError> {
        let builtin = |g: &mut Self, param: Ty, result: Option<Ty>| {
            g.args(name, &[param], args, pos).map(|a| {
                let d = result.map(|t| g.f.temp(vsp_type(t)));
                (a.into_iter().next(), d)
            })
        };
        let reg = |d: Option<RegId>, t: Ty| d.map(|d| (Operand::from(d), t));
        match name {
            "sqrt" => {
                let (a, d) = builtin(self, Ty::Float, Some(Ty::Float))?;
                if let (Some(a), Some(d)) = (a, d) {
                    self.f.sqrt(d, a);
                }
                return Ok(reg(d, Ty::Float));
            }
            "float" => {
                let (a, d) = builtin(self, Ty::Int, Some(Ty::Float))?;
                if let (Some(a), Some(d)) = (a, d) {
                    self.f.i2f(d, a);
                }
                return Ok(reg(d, Ty::Float));
            }
            "int" => {
                let (a, d) = builtin(self, Ty::Float, Some(Ty::Int))?;
                if let (Some(a), Some(d)) = (a, d) {
                    self.f.f2i(d, a);
                }
                return Ok(reg(d, Ty::Int));
            }
            "putc" => {
                let (a, _) = builtin(self, Ty::Int, None)?;
                if let Some(a) = a {
                    self.f.putc(a);
                }
                return Ok(None);
            }
            _ => {}
        }
        let sig = self
            .sigs
            .get(name)
            .ok_or_else(|| CalcError::semantic(pos, format!("unknown function `{name}`")))?;
        let (id, ret) = (sig.id, sig.ret);
        let args = self.args(name, &sig.params, args, pos)?;
        let d = ret.map(|t| self.f.temp(vsp_type(t)));
        self.f.call(d, id, &args);
        Ok(d.zip(ret).map(|(d, t)| (d.into(), t)))
    }
}
