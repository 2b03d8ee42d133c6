//! calc's lexer and parser: source text to the syntax tree, with a position on every node.

use crate::error::{CalcError, Pos};

/// A value type of calc: `int` is vsp's `i64`, `float` its `f64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
}

impl Ty {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Int(i64, Pos),
    Float(f64, Pos),
    Var(String, Pos),
    Neg(Box<Expr>, Pos),
    Not(Box<Expr>, Pos),
    Binary(BinOp, Box<Expr>, Box<Expr>, Pos),
    Call(String, Vec<Expr>, Pos),
}

impl Expr {
    pub(crate) fn pos(&self) -> Pos {
        match self {
            Expr::Int(_, p)
            | Expr::Float(_, p)
            | Expr::Var(_, p)
            | Expr::Neg(_, p)
            | Expr::Not(_, p)
            | Expr::Binary(_, _, _, p)
            | Expr::Call(_, _, p) => *p,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Stmt {
    Let(String, Expr),
    Assign(String, Expr, Pos),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>),
    Return(Option<Expr>, Pos),
    Print(Expr),
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub name: String,
    pub params: Vec<(String, Ty)>,
    pub ret: Option<Ty>,
    pub body: Vec<Stmt>,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Ident(String),
    /// Punctuation and operators, as written: `(`, `->`, `<=`, `&&`, ...
    Sym(&'static str),
    Eof,
}

const SYMBOLS: [&str; 23] = [
    "->", "<=", ">=", "==", "!=", "&&", "||", "(", ")", "{", "}", ",", ";", ":", "+", "-", "*",
    "/", "%", "<", ">", "=", "!",
];

const KEYWORDS: [&str; 7] = ["fn", "let", "if", "else", "while", "return", "print"];

/// Splits `src` into tokens, each with where it starts.
fn lex(src: &str) -> Result<Vec<(Tok, Pos)>, CalcError> {
    let mut toks = Vec::new();
    let (mut line, mut col) = (1u32, 1u32);
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        let pos = Pos { line, col };
        let len = if c == '\n' {
            line += 1;
            col = 0;
            1
        } else if c.is_whitespace() {
            c.len_utf8()
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(rest.len());
            let text = &rest[..end];
            let clean = text.replace('_', "");
            let tok = if text.contains(['.', 'e']) {
                clean.parse().map(Tok::Float).ok()
            } else {
                clean.parse().map(Tok::Int).ok()
            };
            let tok = tok.ok_or_else(|| CalcError::syntax(pos, format!("bad number `{text}`")))?;
            toks.push((tok, pos));
            end
        } else if c.is_ascii_alphabetic() {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            toks.push((Tok::Ident(rest[..end].to_string()), pos));
            end
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            toks.push((Tok::Sym(sym), pos));
            sym.len()
        } else {
            return Err(CalcError::syntax(
                pos,
                format!("unexpected character `{c}`"),
            ));
        };
        col += rest[..len].chars().count() as u32;
        rest = &rest[len..];
    }
    toks.push((Tok::Eof, Pos { line, col }));
    Ok(toks)
}

/// A recursive-descent parser over the token list.
struct Parser {
    toks: Vec<(Tok, Pos)>,
    at: usize,
}

/// Parses a whole program: a list of functions.
pub(crate) fn parse(src: &str) -> Result<Vec<Function>, CalcError> {
    let mut p = Parser {
        toks: lex(src)?,
        at: 0,
    };
    let mut funcs = Vec::new();
    while p.peek() != &Tok::Eof {
        funcs.push(p.function()?);
    }
    Ok(funcs)
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.at).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn pos(&self) -> Pos {
        self.toks.get(self.at).map_or(Pos::default(), |(_, p)| *p)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn is(&self, sym: &str) -> bool {
        matches!(self.peek(), Tok::Sym(s) if *s == sym)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == word)
    }

    fn eat(&mut self, sym: &str) -> bool {
        let yes = self.is(sym);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn expect(&mut self, sym: &str) -> Result<(), CalcError> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{sym}`")))
        }
    }

    fn unexpected(&self, wanted: &str) -> CalcError {
        let found = match self.peek() {
            Tok::Int(v) => format!("`{v}`"),
            Tok::Float(v) => format!("`{v}`"),
            Tok::Ident(w) => format!("`{w}`"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::Eof => "the end of the file".to_string(),
        };
        CalcError::syntax(self.pos(), format!("expected {wanted}, found {found}"))
    }

    /// A name that is not a keyword.
    fn ident(&mut self) -> Result<String, CalcError> {
        match self.peek() {
            Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    fn ty(&mut self) -> Result<Ty, CalcError> {
        let pos = self.pos();
        match self.next() {
            Tok::Ident(w) if w == "int" => Ok(Ty::Int),
            Tok::Ident(w) if w == "float" => Ok(Ty::Float),
            _ => Err(CalcError::syntax(pos, "expected a type, `int` or `float`")),
        }
    }

    /// `fn NAME(PARAM: TYPE, ...) [-> TYPE] { ... }`
    fn function(&mut self) -> Result<Function, CalcError> {
        let pos = self.pos();
        if !self.is_word("fn") {
            return Err(self.unexpected("`fn`"));
        }
        self.at += 1;
        let name = self.ident()?;
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.eat(")") {
            if !params.is_empty() {
                self.expect(",")?;
            }
            let p = self.ident()?;
            self.expect(":")?;
            params.push((p, self.ty()?));
        }
        let ret = if self.eat("->") {
            Some(self.ty()?)
        } else {
            None
        };
        let body = self.block()?;
        Ok(Function {
            name,
            params,
            ret,
            body,
            pos,
        })
    }

    fn block(&mut self) -> Result<Vec<Stmt>, CalcError> {
        self.expect("{")?;
        let mut stmts = Vec::new();
        while !self.eat("}") {
            if self.peek() == &Tok::Eof {
                return Err(self.unexpected("`}`"));
            }
            stmts.push(self.statement()?);
        }
        Ok(stmts)
    }

    fn statement(&mut self) -> Result<Stmt, CalcError> {
        let pos = self.pos();
        if self.is_word("let") {
            self.at += 1;
            let name = self.ident()?;
            self.expect("=")?;
            let e = self.expr()?;
            self.expect(";")?;
            return Ok(Stmt::Let(name, e));
        }
        if self.is_word("if") {
            return self.if_rest();
        }
        if self.is_word("while") {
            self.at += 1;
            let cond = self.expr()?;
            return Ok(Stmt::While(cond, self.block()?));
        }
        if self.is_word("return") {
            self.at += 1;
            let value = if self.is(";") {
                None
            } else {
                Some(self.expr()?)
            };
            self.expect(";")?;
            return Ok(Stmt::Return(value, pos));
        }
        if self.is_word("print") {
            self.at += 1;
            let e = self.expr()?;
            self.expect(";")?;
            return Ok(Stmt::Print(e));
        }
        // `NAME = expr;` or an expression (a call) for its effect.
        if let (Tok::Ident(_), Some((Tok::Sym("="), _))) = (self.peek(), self.toks.get(self.at + 1))
        {
            let name = self.ident()?;
            self.expect("=")?;
            let e = self.expr()?;
            self.expect(";")?;
            return Ok(Stmt::Assign(name, e, pos));
        }
        let e = self.expr()?;
        self.expect(";")?;
        Ok(Stmt::Expr(e))
    }

    /// `if COND { ... } [else { ... } | else if ...]`, the `if` not yet consumed.
    fn if_rest(&mut self) -> Result<Stmt, CalcError> {
        self.at += 1;
        let cond = self.expr()?;
        let then = self.block()?;
        let otherwise = if self.is_word("else") {
            self.at += 1;
            if self.is_word("if") {
                vec![self.if_rest()?]
            } else {
                self.block()?
            }
        } else {
            Vec::new()
        };
        Ok(Stmt::If(cond, then, otherwise))
    }

    fn expr(&mut self) -> Result<Expr, CalcError> {
        self.binary(0)
    }

    /// Precedence climbing: each level binds tighter than the one before.
    fn binary(&mut self, level: usize) -> Result<Expr, CalcError> {
        const LEVELS: [&[(&str, BinOp)]; 5] = [
            &[("||", BinOp::Or)],
            &[("&&", BinOp::And)],
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        'more: loop {
            for (sym, op) in ops.iter() {
                let pos = self.pos();
                if self.eat(sym) {
                    let right = self.binary(level + 1)?;
                    left = Expr::Binary(*op, Box::new(left), Box::new(right), pos);
                    continue 'more;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Result<Expr, CalcError> {
        let pos = self.pos();
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?), pos));
        }
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?), pos));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, CalcError> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Int(v) => {
                self.at += 1;
                Ok(Expr::Int(v, pos))
            }
            Tok::Float(v) => {
                self.at += 1;
                Ok(Expr::Float(v, pos))
            }
            Tok::Sym("(") => {
                self.at += 1;
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(_) => {
                let name = self.ident()?;
                if !self.eat("(") {
                    return Ok(Expr::Var(name, pos));
                }
                let mut args = Vec::new();
                while !self.eat(")") {
                    if !args.is_empty() {
                        self.expect(",")?;
                    }
                    args.push(self.expr()?);
                }
                Ok(Expr::Call(name, args, pos))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }
}
