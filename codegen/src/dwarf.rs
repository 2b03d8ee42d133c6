//! DWARF for compiled `.sil` code: one compile unit for the `.sil` file, a subprogram for each
//! function with its line table, and call frame information, so debuggers and `addr2line` name
//! `.sil` functions and lines. The AOT backend writes it into objects (addresses are symbols,
//! resolved by relocations); the JIT hands it to gdb (addresses are constants).

use crate::lines::{LineRow, line_table};
use bytecode::{RegDecl, Type};
use cranelift_codegen::gimli::write::{
    Address, AttributeValue, DwarfUnit, Expression, FrameTable, LineProgram, LineString, Location,
    LocationList, Range, RangeList, Sections, Writer,
};
use cranelift_codegen::gimli::{self, Encoding, Format, LineEncoding, Register};
use cranelift_codegen::ir::ValueLabel;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::isa::unwind::{CfaUnwindInfo, UnwindInfo};
use cranelift_codegen::{Context, LabelValueLoc};

/// Where a `.sil` register is, over a stretch of a function's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarLoc {
    /// In machine register number N (DWARF numbering).
    Reg(u16),
    /// In memory, at this offset from the canonical frame address.
    Cfa(i64),
}

/// A `.sil` register as a debugger variable: its locations from offset `start` to `end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugVar {
    pub name: String,
    pub ty: Type,
    pub ranges: Vec<(u32, u32, VarLoc)>,
}

/// What the debug information says about one compiled function.
#[derive(Clone, Debug)]
pub struct DebugFunc {
    /// The name debuggers show and break on (`fib`, `fib (trampoline)`).
    pub name: String,
    /// Where its code starts.
    pub address: Address,
    pub size: u64,
    /// The `.sil` line of its `func` (0 for code that has no line of its own).
    pub decl_line: u32,
    pub lines: Vec<LineRow>,
    pub unwind: Option<CfaUnwindInfo>,
    /// Visible outside the object (an `export func`).
    pub external: bool,
    /// The function's registers, where codegen tracked them (`Config::debug_vars`).
    pub vars: Vec<DebugVar>,
}

impl DebugFunc {
    /// The debug information of the function `ctx` has just compiled (after
    /// `Module::define_function`, before the context is cleared); `None` if it holds no code.
    /// `regs` are the `.sil` registers of a function body (none for generated code).
    pub fn of(
        ctx: &Context,
        isa: &dyn TargetIsa,
        name: String,
        address: Address,
        decl_line: u32,
        regs: &[RegDecl],
    ) -> Option<DebugFunc> {
        let code = ctx.compiled_code()?;
        let unwind = match code.create_unwind_info(isa) {
            Ok(Some(UnwindInfo::SystemV(u))) => Some(u),
            _ => None,
        };
        let vars = variables(ctx, isa, regs);
        Some(DebugFunc {
            name,
            address,
            size: code.code_buffer().len() as u64,
            decl_line,
            lines: line_table(ctx),
            unwind,
            external: false,
            vars,
        })
    }
}

/// Where each of `regs` lives in the code `ctx` has just compiled, as far as the register
/// allocator reported it (values it could not place in a DWARF register are left out).
pub fn variables(ctx: &Context, isa: &dyn TargetIsa, regs: &[RegDecl]) -> Vec<DebugVar> {
    let Some(code) = ctx.compiled_code() else {
        return Vec::new();
    };
    let mut vars = Vec::new();
    for (i, r) in regs.iter().enumerate() {
        let Some(ranges) = code
            .value_labels_ranges
            .get(&ValueLabel::from_u32(i as u32))
        else {
            continue;
        };
        let ranges: Vec<(u32, u32, VarLoc)> = ranges
            .iter()
            .filter(|r| r.start < r.end)
            .filter_map(|r| {
                let loc = match r.loc {
                    LabelValueLoc::Reg(reg) => {
                        VarLoc::Reg(isa.map_regalloc_reg_to_dwarf(reg).ok()?)
                    }
                    LabelValueLoc::CFAOffset(off) => VarLoc::Cfa(off),
                };
                Some((r.start, r.end, loc))
            })
            .collect();
        if !ranges.is_empty() {
            vars.push(DebugVar {
                name: r.name.clone(),
                ty: r.ty,
                ranges,
            });
        }
    }
    vars
}

/// `base` plus `offset` bytes.
fn offset_address(base: Address, offset: u32) -> Address {
    match base {
        Address::Constant(a) => Address::Constant(a + u64::from(offset)),
        Address::Symbol { symbol, addend } => Address::Symbol {
            symbol,
            addend: addend + i64::from(offset),
        },
    }
}

/// Writes `.debug_info`, `.debug_abbrev`, `.debug_line`, `.debug_ranges` (and friends) and
/// `.debug_frame` for `funcs`, compiled from the `.sil` file `source` (a path; its directory
/// becomes the compile directory), into `sections`.
pub fn write_dwarf<W: Writer>(
    isa: &dyn TargetIsa,
    source: &str,
    funcs: &[DebugFunc],
    sections: &mut Sections<W>,
) -> gimli::write::Result<()> {
    let encoding = Encoding {
        format: Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let path = std::path::Path::new(source);
    let dir = path
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let file = path
        .file_name()
        .map_or_else(|| source.to_string(), |f| f.to_string_lossy().into_owned());
    let mut dwarf = DwarfUnit::new(encoding);
    dwarf.unit.line_program = LineProgram::new(
        encoding,
        LineEncoding::default(),
        LineString::String(dir.clone().into_bytes()),
        None,
        LineString::String(file.clone().into_bytes()),
        None,
    );
    let dir_id = dwarf.unit.line_program.default_directory();
    let file_id =
        dwarf
            .unit
            .line_program
            .add_file(LineString::String(file.into_bytes()), dir_id, None);

    let ranges = RangeList(
        funcs
            .iter()
            .map(|f| Range::StartLength {
                begin: f.address,
                length: f.size,
            })
            .collect(),
    );
    let ranges = dwarf.unit.ranges.add(ranges);
    let root = dwarf.unit.root();
    let cu = dwarf.unit.get_mut(root);
    cu.set(
        gimli::DW_AT_producer,
        AttributeValue::String(concat!("vsp ", env!("CARGO_PKG_VERSION")).into()),
    );
    cu.set(gimli::DW_AT_name, AttributeValue::String(source.into()));
    cu.set(
        gimli::DW_AT_comp_dir,
        AttributeValue::String(dir.into_bytes()),
    );
    cu.set(
        gimli::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(0)),
    );
    cu.set(gimli::DW_AT_ranges, AttributeValue::RangeListRef(ranges));
    // The `.sil` types, as DWARF base types: the registers' values as the machine holds them.
    let mut base_type = |name: &str, encoding, size| {
        let t = dwarf.unit.add(root, gimli::DW_TAG_base_type);
        let e = dwarf.unit.get_mut(t);
        e.set(gimli::DW_AT_name, AttributeValue::String(name.into()));
        e.set(gimli::DW_AT_encoding, AttributeValue::Encoding(encoding));
        e.set(gimli::DW_AT_byte_size, AttributeValue::Data1(size));
        t
    };
    let t_i64 = base_type("i64", gimli::DW_ATE_signed, 8);
    let t_f64 = base_type("f64", gimli::DW_ATE_float, 8);
    let t_sil = base_type("sil", gimli::DW_ATE_unsigned, 1);

    for f in funcs {
        let sub = dwarf.unit.add(root, gimli::DW_TAG_subprogram);
        let e = dwarf.unit.get_mut(sub);
        e.set(
            gimli::DW_AT_name,
            AttributeValue::String(f.name.clone().into_bytes()),
        );
        e.set(gimli::DW_AT_low_pc, AttributeValue::Address(f.address));
        e.set(gimli::DW_AT_high_pc, AttributeValue::Udata(f.size));
        if f.decl_line > 0 {
            e.set(
                gimli::DW_AT_decl_file,
                AttributeValue::FileIndex(Some(file_id)),
            );
            e.set(
                gimli::DW_AT_decl_line,
                AttributeValue::Udata(f.decl_line.into()),
            );
        }
        if f.external {
            e.set(gimli::DW_AT_external, AttributeValue::Flag(true));
        }
        for v in &f.vars {
            let locs = v
                .ranges
                .iter()
                .map(|&(start, end, loc)| {
                    let mut data = Expression::new();
                    match loc {
                        VarLoc::Reg(r) => data.op_reg(Register(r)),
                        VarLoc::Cfa(off) => {
                            data.op(gimli::DW_OP_call_frame_cfa);
                            data.op_consts(off);
                            data.op(gimli::DW_OP_plus);
                        }
                    }
                    Location::StartLength {
                        begin: offset_address(f.address, start),
                        length: u64::from(end - start),
                        data,
                    }
                })
                .collect();
            let locs = dwarf.unit.locations.add(LocationList(locs));
            let var = dwarf.unit.add(sub, gimli::DW_TAG_variable);
            let e = dwarf.unit.get_mut(var);
            e.set(
                gimli::DW_AT_name,
                AttributeValue::String(v.name.clone().into_bytes()),
            );
            let ty = match v.ty {
                Type::I64 => t_i64,
                Type::F64 => t_f64,
                Type::Sil => t_sil,
            };
            e.set(gimli::DW_AT_type, AttributeValue::UnitRef(ty));
            e.set(gimli::DW_AT_location, AttributeValue::LocationListRef(locs));
        }
        if f.lines.is_empty() {
            continue;
        }
        let lp = &mut dwarf.unit.line_program;
        lp.begin_sequence(Some(f.address));
        for row in &f.lines {
            let r = lp.row();
            r.address_offset = row.offset.into();
            r.line = row.line.into();
            r.file = file_id;
            r.is_statement = true;
            lp.generate_row();
        }
        lp.end_sequence(f.size);
    }
    dwarf.write(sections)?;

    let mut frames = FrameTable::default();
    if let Some(cie) = isa.create_systemv_cie() {
        let cie = frames.add_cie(cie);
        for f in funcs {
            if let Some(u) = &f.unwind {
                frames.add_fde(cie, u.to_fde(f.address));
            }
        }
    }
    frames.write_debug_frame(&mut sections.debug_frame)
}
