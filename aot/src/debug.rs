//! `vsp build -g`: the DWARF `codegen` builds for the module's functions, written into the
//! object as `.debug_*` sections, with relocations for every code address and every offset
//! into another debug section (the linker moves both).

use crate::AotError;
use codegen::DebugFunc;
use cranelift_codegen::gimli::write::{Address, EndianVec, Result as DwResult, Sections, Writer};
use cranelift_codegen::gimli::{RunTimeEndian, SectionId};
use cranelift_codegen::isa::TargetIsa;
use cranelift_module::FuncId;
use cranelift_object::ObjectProduct;
use cranelift_object::object::write::{Relocation, SectionId as ObjSection};
use cranelift_object::object::{RelocationEncoding, RelocationFlags, RelocationKind, SectionKind};
use std::collections::HashMap;

/// What a relocation in a debug section points at.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// The start of function number `n` of the `funcs` list (`Address::Symbol { symbol: n }`).
    Func(usize),
    /// An offset into another debug section.
    Section(SectionId),
}

#[derive(Clone, Copy, Debug)]
struct Reloc {
    offset: u64,
    size: u8,
    target: Target,
    addend: i64,
}

/// A gimli writer that leaves zeros where the linker must put an address or a section offset,
/// and remembers the relocation.
#[derive(Clone, Debug)]
struct RelocWriter {
    data: EndianVec<RunTimeEndian>,
    relocs: Vec<Reloc>,
}

impl RelocWriter {
    fn new() -> RelocWriter {
        // Both targets vsp builds for are little-endian.
        RelocWriter {
            data: EndianVec::new(RunTimeEndian::Little),
            relocs: Vec::new(),
        }
    }
}

impl Writer for RelocWriter {
    type Endian = RunTimeEndian;

    fn endian(&self) -> RunTimeEndian {
        self.data.endian()
    }
    fn len(&self) -> usize {
        self.data.len()
    }
    fn write(&mut self, bytes: &[u8]) -> DwResult<()> {
        self.data.write(bytes)
    }
    fn write_at(&mut self, offset: usize, bytes: &[u8]) -> DwResult<()> {
        self.data.write_at(offset, bytes)
    }
    fn write_address(&mut self, address: Address, size: u8) -> DwResult<()> {
        match address {
            Address::Constant(v) => self.write_udata(v, size),
            Address::Symbol { symbol, addend } => {
                self.relocs.push(Reloc {
                    offset: self.len() as u64,
                    size,
                    target: Target::Func(symbol),
                    addend,
                });
                self.write_udata(0, size)
            }
        }
    }
    fn write_offset(&mut self, val: usize, section: SectionId, size: u8) -> DwResult<()> {
        self.relocs.push(Reloc {
            offset: self.len() as u64,
            size,
            target: Target::Section(section),
            addend: val as i64,
        });
        self.write_udata(0, size)
    }
    fn write_offset_at(
        &mut self,
        offset: usize,
        val: usize,
        section: SectionId,
        size: u8,
    ) -> DwResult<()> {
        self.relocs.push(Reloc {
            offset: offset as u64,
            size,
            target: Target::Section(section),
            addend: val as i64,
        });
        self.write_udata_at(offset, 0, size)
    }
}

/// Adds the debug sections for `funcs` (whose `Address::Symbol { symbol: n }` is the function
/// `ids[n]`) to the object in `product`.
pub(crate) fn emit(
    product: &mut ObjectProduct,
    isa: &dyn TargetIsa,
    source: &str,
    funcs: &[DebugFunc],
    ids: &[FuncId],
) -> Result<(), AotError> {
    let dwarf_err = |e: cranelift_codegen::gimli::write::Error| AotError::Object(e.to_string());
    let mut sections = Sections::new(RelocWriter::new());
    codegen::write_dwarf(isa, source, funcs, &mut sections).map_err(dwarf_err)?;
    let obj = &mut product.object;
    let mut made: HashMap<SectionId, ObjSection> = HashMap::new();
    sections
        .for_each(|id, w| {
            if !w.data.slice().is_empty() {
                let s = obj.add_section(Vec::new(), id.name().into(), SectionKind::Debug);
                made.insert(id, s);
            }
            Ok::<(), AotError>(())
        })
        .map_err(|e| AotError::Object(format!("{e:?}")))?;
    let mut result = Ok(());
    let _ = sections.for_each(|id, w| {
        let Some(&s) = made.get(&id) else {
            return Ok::<(), ()>(());
        };
        product.object.append_section_data(s, w.data.slice(), 1);
        for r in &w.relocs {
            let symbol = match r.target {
                Target::Func(n) => match ids.get(n) {
                    Some(&f) => product.function_symbol(f),
                    None => continue,
                },
                Target::Section(sec) => match made.get(&sec) {
                    Some(&t) => product.object.section_symbol(t),
                    None => continue,
                },
            };
            let reloc = Relocation {
                offset: r.offset,
                symbol,
                addend: r.addend,
                flags: RelocationFlags::Generic {
                    kind: RelocationKind::Absolute,
                    encoding: RelocationEncoding::Generic,
                    size: r.size * 8,
                },
            };
            if let Err(e) = product.object.add_relocation(s, reloc) {
                result = Err(AotError::Object(e.to_string()));
            }
        }
        Ok(())
    });
    result
}
