//! Loop placement: a few bytes before a function so that its small loops do not straddle a
//! 32-byte fetch window or a 64-byte cache line (Cranelift 0.135 aligns no block on x86-64).
//!
//! Where a loop lands is otherwise luck: on the reference machine (AMD EPYC, Zen 3) the sieve's
//! six-instruction inner loop ran 2.0× slower when it crossed a 64-byte line (0.53 s against
//! 1.05 s for `sieve 400000 750`, the same instructions). So a function with a loop of at most
//! 64 bytes is defined 64-byte aligned, with a pad in front of its code: a jump over the pad
//! (one instruction, taken once per call) chosen so its small loops each fit in as few windows
//! as possible. The function's symbol is the start of the pad; Cranelift's code, and every
//! offset its line tables, unwind information and variable locations give, starts `pad` bytes
//! later.

use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{CompiledCode, Context};
use cranelift_module::{FuncId, Module, ModuleReloc, ModuleResult};
use target_lexicon::Architecture;

/// How a compiled function is laid out in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Bytes before Cranelift's code (0 for most functions).
    pub pad: u32,
    /// Alignment of the function's symbol.
    pub align: u64,
}

/// The loops of at most this many bytes are placed; longer ones cross windows anyway.
const SMALL_LOOP: u32 = 64;
/// The alignment a function with small loops gets, so offsets from its start are addresses
/// modulo a cache line.
const LINE: u32 = 64;

/// Where the function `code` (compiled for `isa`, with `machine_code_cfg_info` on) goes.
pub fn placement(code: &CompiledCode, isa: &dyn TargetIsa) -> Placement {
    let base = (code.buffer.alignment as u64)
        .max(isa.function_alignment().minimum as u64)
        .max(isa.symbol_alignment());
    let plain = Placement {
        pad: 0,
        align: base,
    };
    // The pad must keep the constant pool's alignment (it sits at fixed offsets from the start).
    let step = code.buffer.alignment.max(isa.function_alignment().minimum);
    let granule = match isa.triple().architecture {
        Architecture::X86_64 => 1,
        Architecture::Aarch64(_) => 4,
        _ => return plain,
    };
    if step as u64 >= LINE as u64 || !step.is_multiple_of(granule) {
        return plain;
    }
    let loops = small_loops(code, isa.triple().architecture);
    if loops.is_empty() {
        return plain;
    }
    let cost = |pad: u32| -> u64 {
        loops
            .iter()
            .map(|&(start, end)| {
                let (s, e) = (start + pad, end + pad - 1);
                let lines = (e / LINE - s / LINE) as u64;
                let windows = (e / 32 - s / 32) as u64;
                // Smaller loops (the inner ones) weigh more.
                (2 * lines + windows) * (SMALL_LOOP as u64 * 4 / (end - start) as u64)
            })
            .sum()
    };
    let best = (0..LINE)
        .step_by(step as usize)
        .min_by_key(|&pad| (cost(pad), pad))
        .unwrap_or(0);
    Placement {
        pad: best,
        align: base.max(LINE as u64),
    }
}

/// The small loops of `code` as byte ranges `[header, end of the block that jumps back)`.
///
/// The block offsets (`bb_starts`) are exact, but Cranelift 0.135 pairs `bb_edges` with the
/// wrong blocks once cold blocks are sunk to the end, so the backward branches are read from the
/// code itself: the branch instructions that end each block. A misread only misplaces a loop;
/// the pad is a jump either way, so the code stays correct.
fn small_loops(code: &CompiledCode, arch: Architecture) -> Vec<(u32, u32)> {
    let starts = &code.bb_starts;
    let data = code.buffer.data();
    // The targets of backward branches ending the block `start..end`.
    let back = |start: u32, end: u32| -> Vec<u32> {
        data.get(start as usize..end as usize)
            .map(|block| block_branches(block, start, arch))
            .unwrap_or_default()
            .into_iter()
            .filter(|&t| t <= start && starts.binary_search(&t).is_ok())
            .collect()
    };
    let mut loops = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = match starts.get(k + 1) {
            Some(&next) => next,
            // The last block runs into the constant pool: it ends where a branch back ends
            // (within a small loop's length of its start, or it is no small loop).
            None => match (start + 1..=(data.len() as u32).min(start + SMALL_LOOP))
                .find(|&e| !back(start, e).is_empty())
            {
                Some(end) => end,
                None => continue,
            },
        };
        for target in back(start, end) {
            if end - target <= SMALL_LOOP {
                loops.push((target, end));
            }
        }
    }
    loops.sort_unstable();
    loops.dedup();
    loops
}

/// The targets of the branches that end `block` (at offset `start`): a conditional branch, an
/// unconditional one, or both in that order.
fn block_branches(block: &[u8], start: u32, arch: Architecture) -> Vec<u32> {
    let at =
        |i: usize, rel: i64| -> Option<u32> { u32::try_from(start as i64 + i as i64 + rel).ok() };
    let rel32 = |b: &[u8]| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
    let mut targets = Vec::new();
    let mut end = block.len();
    match arch {
        Architecture::X86_64 => {
            // Cranelift's x64 branches to labels are all rel32: `jmp` E9, `jcc` 0F 8x.
            if end >= 5 && block[end - 5] == 0xE9 {
                targets.extend(at(end, rel32(&block[end - 4..end])));
                end -= 5;
            }
            if end >= 6 && block[end - 6] == 0x0F && block[end - 5] & 0xF0 == 0x80 {
                targets.extend(at(end, rel32(&block[end - 4..end])));
            }
        }
        Architecture::Aarch64(_) => {
            for _ in 0..2 {
                if end < 4 {
                    break;
                }
                let w = u32::from_le_bytes([
                    block[end - 4],
                    block[end - 3],
                    block[end - 2],
                    block[end - 1],
                ]);
                // Sign-extends the `bits`-bit field at bit `shift` and scales it to bytes.
                let field = |shift: u32, bits: u32| -> i64 {
                    let v = ((w >> shift) & ((1 << bits) - 1)) as i64;
                    (if v >> (bits - 1) != 0 {
                        v - (1 << bits)
                    } else {
                        v
                    }) * 4
                };
                let rel = if w & 0xFC00_0000 == 0x1400_0000 {
                    field(0, 26) // b
                } else if w & 0xFF00_0010 == 0x5400_0000 || w & 0x7E00_0000 == 0x3400_0000 {
                    field(5, 19) // b.cond, cbz, cbnz
                } else if w & 0x7E00_0000 == 0x3600_0000 {
                    field(5, 14) // tbz, tbnz
                } else {
                    break;
                };
                targets.extend(at(end - 4, rel));
                end -= 4;
            }
        }
        _ => {}
    }
    targets
}

/// The bytes of a pad of `pad` bytes for `arch`: a jump over the rest (or a no-op when that is
/// all there is room for), then filler that never runs.
fn pad_bytes(arch: Architecture, pad: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(pad as usize);
    match arch {
        Architecture::X86_64 => match pad {
            0 => {}
            1 => bytes.push(0x90), // nop
            _ => {
                bytes.extend([0xEB, (pad - 2) as u8]); // jmp rel8 over the filler
                bytes.resize(pad as usize, 0xCC); // int3
            }
        },
        Architecture::Aarch64(_) => match pad {
            0 => {}
            4 => bytes.extend(0xD503_201Fu32.to_le_bytes()), // nop
            _ => {
                bytes.extend((0x1400_0000u32 | (pad / 4)).to_le_bytes()); // b .+pad
                bytes.resize(pad as usize, 0); // udf #0
            }
        },
        _ => {}
    }
    bytes
}

/// Defines the function `ctx` has just compiled (`Context::compile`) as `id` in `module`,
/// placed as [`placement`] says; returns the placement.
pub fn define_placed(
    module: &mut dyn Module,
    ctx: &Context,
    id: FuncId,
) -> ModuleResult<Placement> {
    let code = ctx
        .compiled_code()
        .expect("define_placed follows Context::compile");
    let isa = module.isa();
    let place = placement(code, isa);
    let mut relocs: Vec<ModuleReloc> = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    if place.pad == 0 {
        module.define_function_bytes(id, place.align, code.code_buffer(), &relocs)?;
        return Ok(place);
    }
    let mut bytes = pad_bytes(isa.triple().architecture, place.pad);
    bytes.extend_from_slice(code.code_buffer());
    for r in &mut relocs {
        r.offset += place.pad;
    }
    module.define_function_bytes(id, place.align, &bytes, &relocs)?;
    Ok(place)
}

/// Where Cranelift's code starts in the function `ctx` has just compiled, as `define_placed`
/// laid it out: the offset profilers and debuggers add to the function's symbol.
pub fn code_offset(ctx: &Context, isa: &dyn TargetIsa) -> u32 {
    ctx.compiled_code().map_or(0, |c| placement(c, isa).pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{
        AbiParam, Function, InstBuilder, Signature, condcodes::IntCC, types,
    };
    use cranelift_codegen::isa::CallConv;
    use cranelift_codegen::settings::{self, Configurable};
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `fn(n) { i = 0; while i < n { i += 1 + (i & 7) } return i }` with `lead` additions
    /// before the loop, to move it around.
    fn looping(lead: usize, isa: &dyn TargetIsa) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(Default::default(), sig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let (entry, header, body, exit) = (
            b.create_block(),
            b.create_block(),
            b.create_block(),
            b.create_block(),
        );
        b.append_block_params_for_function_params(entry);
        b.append_block_param(header, types::I64);
        b.switch_to_block(entry);
        let n = b.block_params(entry)[0];
        let mut x = n;
        for k in 0..lead {
            let c = b.ins().iconst(types::I64, 1000 + k as i64);
            x = b.ins().imul(x, c);
        }
        let zero = b.ins().iconst(types::I64, 0);
        b.ins().jump(header, &[zero.into()]);
        b.switch_to_block(header);
        let i = b.block_params(header)[0];
        let more = b.ins().icmp(IntCC::SignedLessThan, i, x);
        b.ins().brif(more, body, &[], exit, &[]);
        b.switch_to_block(body);
        let low = b.ins().band_imm_s(i, 7);
        let step = b.ins().iadd_imm_s(low, 1);
        let next = b.ins().iadd(i, step);
        b.ins().jump(header, &[next.into()]);
        b.switch_to_block(exit);
        b.ins().return_(&[i]);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        func
    }

    #[test]
    fn small_loops_end_up_in_one_line() {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").unwrap();
        flags.set("machine_code_cfg_info", "true").unwrap();
        let Ok(builder) = cranelift_codegen::isa::lookup_by_name("x86_64-unknown-linux-gnu") else {
            return; // Cranelift built without x86-64
        };
        let isa = builder.finish(settings::Flags::new(flags)).unwrap();
        let mut padded = 0;
        for lead in 0..24 {
            let mut ctx = Context::for_function(looping(lead, &*isa));
            ctx.compile(&*isa, &mut Default::default()).unwrap();
            let code = ctx.compiled_code().unwrap();
            let loops = small_loops(code, isa.triple().architecture);
            assert!(!loops.is_empty(), "the loop is found (lead {lead})");
            let place = placement(code, &*isa);
            assert_eq!(place.align, 64);
            padded += (place.pad > 0) as usize;
            for (s, e) in loops {
                let (s, e) = (s + place.pad, e + place.pad - 1);
                assert_eq!(
                    s / 64,
                    e / 64,
                    "loop {s:#x}..={e:#x} crosses a line (lead {lead})"
                );
            }
        }
        assert!(padded > 0, "some placements needed a pad");
    }

    #[test]
    fn pads_jump_over_themselves() {
        assert_eq!(pad_bytes(Architecture::X86_64, 1), [0x90]);
        assert_eq!(
            pad_bytes(Architecture::X86_64, 5),
            [0xEB, 3, 0xCC, 0xCC, 0xCC]
        );
        let a64 = Architecture::Aarch64(target_lexicon::Aarch64Architecture::Aarch64);
        assert_eq!(pad_bytes(a64, 12)[..4], 0x1400_0003u32.to_le_bytes());
        assert_eq!(pad_bytes(a64, 12).len(), 12);
    }
}
