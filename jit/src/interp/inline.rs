//! Small straight-line leaf functions copied into their callers (plain interpreter only): a
//! call and a return cost the interpreter several times what a leaf's few ops do.

use super::code::*;
use super::decode::Program;

/// A leaf is inlined only if it has at most this many ops besides its return.
const MAX_LEAF_OPS: usize = 8;
/// Nor does inlining grow a caller's frame past this many slots.
const MAX_FRAME: usize = 1024;

/// The destination of an op a leaf may hold: one that writes `d` from other slots and can
/// neither jump, call, trap nor touch memory, so the copy behaves as the call did.
fn pure_dest(op: &Op) -> Option<Slot> {
    use Op::*;
    match *op {
        Mov { d, .. }
        | AddI { d, .. }
        | SubI { d, .. }
        | MulI { d, .. }
        | DivPow2I { d, .. }
        | DivConstI { d, .. }
        | RemConstI { d, .. }
        | RemPow2I { d, .. }
        | MinI { d, .. }
        | MaxI { d, .. }
        | And { d, .. }
        | Or { d, .. }
        | Xor { d, .. }
        | Shl { d, .. }
        | Shr { d, .. }
        | UShr { d, .. }
        | Rotl { d, .. }
        | Rotr { d, .. }
        | NegI { d, .. }
        | AbsI { d, .. }
        | NotI { d, .. }
        | Clz { d, .. }
        | Ctz { d, .. }
        | Popcnt { d, .. }
        | AddF { d, .. }
        | SubF { d, .. }
        | MulF { d, .. }
        | DivF { d, .. }
        | MinF { d, .. }
        | MaxF { d, .. }
        | NegF { d, .. }
        | AbsF { d, .. }
        | Sqrt { d, .. }
        | Floor { d, .. }
        | Ceil { d, .. }
        | Trunc { d, .. }
        | RoundF { d, .. }
        | Math { d, .. }
        | Math2 { d, .. }
        | I2F { d, .. }
        | F2I { d, .. }
        | AddS { d, .. }
        | SubS { d, .. }
        | MulS { d, .. }
        | DivS { d, .. }
        | NotS { d, .. }
        | Sil { d, .. }
        | SilToF { d, .. }
        | SilInt { d, .. }
        | SilRho { d, .. }
        | SilTheta { d, .. }
        | SilFromByte { d, .. }
        | SilNew { d, .. }
        | SilFrom { d, .. }
        | EqI { d, .. }
        | NeI { d, .. }
        | LtI { d, .. }
        | LeI { d, .. }
        | LtU { d, .. }
        | LeU { d, .. }
        | EqF { d, .. }
        | NeF { d, .. }
        | LtF { d, .. }
        | LeF { d, .. } => Some(d),
        _ => None,
    }
}

/// A function that can stand in for its calls.
struct Leaf {
    body: Vec<Op>,
    /// The slot it returns (`None`: `ret` without a value).
    ret: Option<Slot>,
    template: Box<[u64]>,
}

/// `code` as a `Leaf`: pure ops, then `ret`, then the closing sentinel. A call starts the
/// leaf's registers from its template each time, while an inlined copy keeps its slots
/// between runs: so no slot the body writes may be read before that write (parameters are
/// set at each call site, so they may).
fn leaf(code: &Code) -> Option<Leaf> {
    let (body, tail) = code.ops.split_at(code.ops.len().checked_sub(2)?);
    let ret = match tail {
        [Op::Ret { a }, Op::Trap] => Some(*a),
        [Op::RetVoid, Op::Trap] => None,
        _ => return None,
    };
    if body.len() > MAX_LEAF_OPS {
        return None;
    }
    let n = code.num_slots();
    let (mut written, mut read_first) = (vec![false; n], vec![false; n]);
    for op in body {
        let d = pure_dest(op)? as usize;
        // Every slot the op names but one occurrence of its destination is read.
        let mut dest_seen = false;
        op.for_each_slot(|s| {
            let s = s as usize;
            if s == d && !dest_seen {
                dest_seen = true;
            } else if !written[s] {
                read_first[s] = true;
            }
        });
        written[d] = true;
    }
    let params = code.num_params as usize;
    if (params..n).any(|s| read_first[s] && written[s]) {
        return None;
    }
    Some(Leaf {
        body: body.to_vec(),
        ret,
        template: code.frame_template.clone(),
    })
}

/// Appends to `ops` a copy of `leaf` standing in for the call at `site`, its slots moved to
/// `base` and up in the caller's frame, with no copies in or out where renaming does as well:
/// a parameter is read from the caller's argument slot until the body first writes it (the
/// body writes no caller slot before its last op, so the argument still holds), and the
/// result is written straight into the call's destination by the last op if that op makes
/// it (it reads its operands before writing, so a destination that is also an argument is
/// fine). Otherwise a `mov` returns the result.
fn copy_leaf(leaf: &Leaf, site: &CallSite, base: Slot, ops: &mut Vec<Op>) {
    let params = site.args.len();
    let mut written = vec![false; leaf.template.len()];
    let mut returned = false;
    for (j, op) in leaf.body.iter().enumerate() {
        let mut op = *op;
        let d = pure_dest(&op).expect("a leaf's body is pure ops") as usize;
        let into_dest =
            j + 1 == leaf.body.len() && leaf.ret == Some(d as Slot) && site.dest != NO_SLOT;
        // `for_each_slot_mut` names the destination first, then the operands.
        let mut dest = true;
        op.for_each_slot_mut(|s| {
            let k = *s as usize;
            *s = if std::mem::take(&mut dest) {
                if into_dest { site.dest } else { base + *s }
            } else if k < params && !written[k] {
                site.args[k]
            } else {
                base + *s
            };
        });
        written[d] = true;
        returned |= into_dest;
        ops.push(op);
    }
    if let Some(r) = leaf.ret
        && site.dest != NO_SLOT
        && !returned
    {
        let k = r as usize;
        let a = if k < params && !written[k] {
            site.args[k]
        } else {
            base + r
        };
        ops.push(Op::Mov { d: site.dest, a });
    }
}

impl Program {
    /// Replaces each direct call of a leaf by a copy of its body in fresh slots of the
    /// caller's frame (`copy_leaf`). Runs on absolute jump targets, before `validate`.
    pub(super) fn inline_leaves(&mut self) {
        let leaves: Vec<Option<Leaf>> = self.funcs.iter().map(leaf).collect();
        for fi in 0..self.funcs.len() {
            let callee = |op: &Op| match *op {
                Op::Call { site } => {
                    leaves[self.call_sites[site as usize].target as usize].as_ref()
                }
                _ => None,
            };
            let code = &self.funcs[fi];
            if !code.ops.iter().any(|op| callee(op).is_some()) {
                continue;
            }
            let mut template = code.frame_template.to_vec();
            let (mut ops, mut lines) = (Vec::new(), Vec::new());
            // Where each old op (and the end) lands.
            let mut moved = Vec::with_capacity(code.ops.len() + 1);
            for (i, op) in code.ops.iter().enumerate() {
                moved.push(ops.len() as u32);
                let line = code.lines.get(i).copied().unwrap_or(0);
                let site = match *op {
                    Op::Call { site } => &self.call_sites[site as usize],
                    _ => {
                        ops.push(*op);
                        lines.push(line);
                        continue;
                    }
                };
                let Some(leaf) =
                    callee(op).filter(|l| template.len() + l.template.len() <= MAX_FRAME)
                else {
                    ops.push(*op);
                    lines.push(line);
                    continue;
                };
                let base = template.len() as u32;
                template.extend_from_slice(&leaf.template);
                copy_leaf(leaf, site, base, &mut ops);
                lines.resize(ops.len(), line);
            }
            moved.push(ops.len() as u32);
            for op in &mut ops {
                if let Some(t) = op.jump_target_mut() {
                    *t = moved[*t as usize];
                } else if let Op::Switch { table, .. } = *op {
                    for t in self.switch_tables[table as usize].iter_mut() {
                        *t = moved[*t as usize];
                    }
                }
            }
            template.resize(template.len().next_multiple_of(FRAME_CHUNK), 0);
            // The frame grew: the calls that remain start their callee's frame above it.
            for op in &ops {
                if let Op::Call { site }
                | Op::Tail { site }
                | Op::CallHost { site }
                | Op::TailHost { site }
                | Op::CallI { site } = *op
                {
                    self.call_sites[site as usize].frame = template.len() as u32;
                }
            }
            let code = &mut self.funcs[fi];
            code.ops = ops.into();
            code.lines = lines.into();
            code.frame_template = template.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode::DecodeOptions;
    use super::*;

    /// The functions each function of the corpus program calls, by name, in op order.
    fn calls(opts: DecodeOptions, func: &str) -> Vec<String> {
        let src = include_str!("../../../tests/programs/call_inlined_leaves.sil");
        let m = bytecode::parse(src, "t").expect("parses");
        bytecode::verify(&m).expect("verifies");
        let p = Program::decode_with(&m, opts).expect("decodes");
        let f = p.names.iter().position(|n| n == func).expect("function");
        p.funcs[f]
            .ops
            .iter()
            .filter_map(|op| match *op {
                Op::Call { site } => {
                    Some(p.names[p.call_sites[site as usize].target as usize].clone())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn leaves_are_inlined_only_where_the_copy_behaves_as_the_call() {
        let plain = DecodeOptions::default();
        // mix, bump and half_sum are copied in; fresh reads its register before writing it
        // (a call starts it at zero each time), and pick has a switch.
        assert_eq!(
            calls(plain, "main"),
            ["fresh", "fresh", "fresh", "pick", "pick", "pick"]
        );
        assert!(calls(plain, "pick").is_empty());
        // Instrumented code keeps every call: the tiered engine counts them.
        let tiered = DecodeOptions {
            loop_heads: true,
            ..plain
        };
        assert_eq!(calls(tiered, "main").len(), 14);
        assert_eq!(calls(tiered, "pick"), ["mix"]);
    }
}
