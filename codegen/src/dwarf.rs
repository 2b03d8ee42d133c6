//! DWARF for compiled `.sil` code: one compile unit for the `.sil` file, a subprogram for each
//! function with its line table, and call frame information, so debuggers and `addr2line` name
//! `.sil` functions and lines. The AOT backend writes it into objects (addresses are symbols,
//! resolved by relocations); the JIT hands it to gdb (addresses are constants).

use crate::lines::{LineRow, line_table};
use cranelift_codegen::Context;
use cranelift_codegen::gimli::write::{
    Address, AttributeValue, DwarfUnit, FrameTable, LineProgram, LineString, Range, RangeList,
    Sections, Writer,
};
use cranelift_codegen::gimli::{self, Encoding, Format, LineEncoding};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::isa::unwind::{CfaUnwindInfo, UnwindInfo};

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
}

impl DebugFunc {
    /// The debug information of the function `ctx` has just compiled (after
    /// `Module::define_function`, before the context is cleared); `None` if it holds no code.
    pub fn of(
        ctx: &Context,
        isa: &dyn TargetIsa,
        name: String,
        address: Address,
        decl_line: u32,
        external: bool,
    ) -> Option<DebugFunc> {
        let code = ctx.compiled_code()?;
        let unwind = match code.create_unwind_info(isa) {
            Ok(Some(UnwindInfo::SystemV(u))) => Some(u),
            _ => None,
        };
        Some(DebugFunc {
            name,
            address,
            size: code.code_buffer().len() as u64,
            decl_line,
            lines: line_table(ctx),
            unwind,
            external,
        })
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
