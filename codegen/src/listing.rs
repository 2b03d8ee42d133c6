//! Machine code listings: the disassembly of a compiled function with the `.sil` line of each
//! block and each change of line (`vsp build --emit asm`, the REPL's `:dis`).

use crate::align::placement;
use capstone::Capstone;
use capstone::arch::{self, BuildsCapstone, BuildsCapstoneSyntax};
use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::{ExternalName, Function};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_module::{DataId, FuncId, Module};
use std::fmt::Write;
use target_lexicon::Architecture;

/// The symbols `func` refers to, indexed as its external name references are (`userextnameN`,
/// and the targets of its relocations).
pub fn referenced_names(module: &dyn Module, func: &Function) -> Vec<String> {
    let decls = module.declarations();
    func.params
        .user_named_funcs()
        .values()
        .map(|u| match u.namespace {
            0 => {
                let id = FuncId::from_u32(u.index);
                decls.get_function_decl(id).linkage_name(id).into_owned()
            }
            1 => {
                let id = DataId::from_u32(u.index);
                decls.get_data_decl(id).linkage_name(id).into_owned()
            }
            _ => "?".to_string(),
        })
        .collect()
}

/// The disassembly of the function `ctx` has just compiled for `isa`, as
/// `codegen::define_placed` lays it out (offsets from the function's symbol, the loop pad
/// included). Each block starts with its offset and the `.sil` line of its first instruction;
/// an instruction where the line changes ends in `; line N`, a call or address names its
/// target from `names` (see [`referenced_names`]).
pub fn asm_listing(ctx: &Context, isa: &dyn TargetIsa, names: &[String]) -> Result<String, String> {
    let code = ctx
        .compiled_code()
        .ok_or("the function has not been compiled")?;
    let cs = capstone_for(isa.triple().architecture)?;
    let pad = placement(code, isa).pad;
    let data = code.code_buffer();
    let lines = code.buffer.get_srclocs_sorted();
    let line_at = |off: u32| -> Option<u32> {
        let k = lines.partition_point(|s| s.end <= off);
        lines
            .get(k)
            .filter(|s| s.start <= off && !s.loc.is_default())
            .map(|s| s.loc.bits())
    };
    let target_name = |t: &FinalizedRelocTarget| -> String {
        match t {
            FinalizedRelocTarget::ExternalName(ExternalName::User(r)) => names
                .get(r.index())
                .cloned()
                .unwrap_or_else(|| format!("userextname{}", r.index())),
            FinalizedRelocTarget::ExternalName(other) => other.display(None).to_string(),
            FinalizedRelocTarget::Func(off) => format!("{:#x}", off + pad),
        }
    };
    let relocs = code.buffer.relocs();
    let mut out = String::new();
    if pad > 0 {
        let _ = writeln!(
            out,
            "  {:04x}  ({pad} bytes: a jump over the pad that keeps small loops in one line)",
            0
        );
    }
    let mut starts: Vec<u32> = vec![0];
    starts.extend(code.bb_starts.iter().copied().filter(|&s| s > 0));
    starts.push(data.len() as u32);
    let mut last_line = None;
    for w in starts.windows(2) {
        let (start, end) = (w[0], w[1]);
        if start >= end {
            continue;
        }
        let insns = cs
            .disasm_all(&data[start as usize..end as usize], (start + pad) as u64)
            .map_err(|e| e.to_string())?;
        let first = insns.iter().find_map(|i| line_at(i.address() as u32 - pad));
        match first {
            Some(l) => {
                let _ = writeln!(out, "{:#x}:  ; line {l}", start + pad);
            }
            None => {
                let _ = writeln!(out, "{:#x}:", start + pad);
            }
        }
        last_line = first.or(last_line);
        for i in insns.iter() {
            // Capstone was given the placed addresses; Cranelift's tables have its own.
            let off = i.address() as u32 - pad;
            let mnemonic = i.mnemonic().unwrap_or("?");
            let end = off + i.bytes().len() as u32;
            let targets: Vec<String> = relocs
                .iter()
                .filter(|r| off <= r.offset && r.offset < end)
                .map(|r| target_name(&r.target))
                .collect();
            let mut text = match (mnemonic, &targets[..]) {
                // A direct call's operand is an unrelocated placeholder: name the callee.
                ("call" | "bl", [callee]) => format!("  {:04x}  {mnemonic} {callee}", off + pad),
                _ => {
                    let mut t = format!(
                        "  {:04x}  {mnemonic} {}",
                        off + pad,
                        i.op_str().unwrap_or("")
                    );
                    for name in &targets {
                        let _ = write!(t, "  ; {name}");
                    }
                    t
                }
            };
            if let Some(l) = line_at(off)
                && Some(l) != last_line
            {
                let _ = write!(text, "  ; line {l}");
                last_line = Some(l);
            }
            let _ = writeln!(out, "{}", text.trim_end());
        }
    }
    Ok(out)
}

/// A disassembler for `arch` (Intel syntax on x86-64).
fn capstone_for(arch: Architecture) -> Result<Capstone, String> {
    let cs = match arch {
        Architecture::X86_64 => Capstone::new()
            .x86()
            .mode(arch::x86::ArchMode::Mode64)
            .syntax(arch::x86::ArchSyntax::Intel)
            .build(),
        Architecture::Aarch64(_) => Capstone::new()
            .arm64()
            .mode(arch::arm64::ArchMode::Arm)
            .build(),
        other => return Err(format!("no disassembler for {other}")),
    };
    cs.map_err(|e| e.to_string())
}
