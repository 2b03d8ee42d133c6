//! The `.sil` text format: lexer, parser and printer.

mod lex;
mod parse;
mod print;

pub use parse::{parse, parse_into, parse_literal};
pub use print::{const_text, print, print_function, print_inst};
