//! `.sil` lines in compiled code: the address → line table profilers and debuggers read, and
//! Cranelift IR text annotated with the line each block came from.

use cranelift_codegen::Context;
use cranelift_codegen::entity::SecondaryMap;
use cranelift_codegen::ir::{Block, Function, Inst, Value};
use cranelift_codegen::write::{FuncWriter, PlainWriter, decorate_function};
use std::fmt::{self, Write};

/// One row of a function's line table: the machine code from `offset` (bytes from the start of
/// the function) up to the next row's offset came from `.sil` line `line`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRow {
    pub offset: u32,
    pub line: u32,
}

/// The line table of the function `ctx` has just compiled (after `Module::define_function`),
/// sorted by offset, with neighbouring rows of the same line merged. Empty if `ctx` holds no
/// compiled code. Code before the first row (the prologue) belongs to the function's own line.
pub fn line_table(ctx: &Context) -> Vec<LineRow> {
    let Some(code) = ctx.compiled_code() else {
        return Vec::new();
    };
    let mut rows: Vec<LineRow> = Vec::new();
    for s in code.buffer.get_srclocs_sorted() {
        let loc = s.loc;
        if loc.is_default() || s.start == s.end {
            continue;
        }
        if rows.last().is_some_and(|r| r.line == loc.bits()) {
            continue;
        }
        rows.push(LineRow {
            offset: s.start,
            line: loc.bits(),
        });
    }
    if let Some(first) = rows.first_mut() {
        first.offset = 0;
    }
    rows
}

/// `func` as Cranelift IR text, with a `; line N` comment on each block header and wherever
/// the `.sil` line changes inside a block (instead of Cranelift's hexadecimal `@` prefixes).
pub fn annotated_clif(func: &Function) -> String {
    let mut out = String::new();
    let mut w = LineWriter { last: None };
    // Writing into a `String` cannot fail.
    let _ = decorate_function(&mut w, &mut out, func);
    // Value aliases of block parameters are written by Cranelift itself, at the wide indent.
    let mut text = String::with_capacity(out.len());
    for line in out.lines() {
        let t = line.trim_start();
        if t.len() < line.len() && t.starts_with('v') && t.contains(" -> ") {
            text.push_str("    ");
            text.push_str(t);
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    text
}

struct LineWriter {
    last: Option<u32>,
}

fn line_of(func: &Function, inst: Inst) -> Option<u32> {
    let loc = func.srcloc(inst);
    (!loc.is_default()).then(|| loc.bits())
}

impl FuncWriter for LineWriter {
    fn write_block_header(
        &mut self,
        w: &mut dyn Write,
        func: &Function,
        block: Block,
        _indent: usize,
    ) -> fmt::Result {
        // Cranelift widens the indent for its `@` prefixes, which are dropped here.
        let mut head = String::new();
        PlainWriter.write_block_header(&mut head, func, block, 4)?;
        let line = func.layout.first_inst(block).and_then(|i| line_of(func, i));
        self.last = line;
        match line {
            Some(l) => writeln!(w, "{}  ; line {l}", head.trim_end()),
            None => w.write_str(&head),
        }
    }

    fn write_instruction(
        &mut self,
        w: &mut dyn Write,
        func: &Function,
        aliases: &SecondaryMap<Value, Vec<Value>>,
        inst: Inst,
        _indent: usize,
    ) -> fmt::Result {
        let line = line_of(func, inst);
        if line.is_some() && line != self.last {
            self.last = line;
            writeln!(w, "{:4}; line {}", "", line.unwrap_or_default())?;
        }
        let mut text = String::new();
        PlainWriter.write_instruction(&mut text, func, aliases, inst, 4)?;
        // Drop the `@000c ` source-location prefix: the comments above say it in decimal.
        let text = match text.strip_prefix('@') {
            Some(rest) => rest.split_once(' ').map_or(rest, |(_, r)| r).trim_start(),
            None => text.trim_start(),
        };
        write!(w, "{:4}{text}", "")
    }
}
