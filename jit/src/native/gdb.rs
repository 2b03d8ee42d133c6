//! The GDB JIT interface: for each batch of JIT code, a small in-memory ELF object carrying its
//! symbols and DWARF (`.sil` lines, functions, call frames) is linked into the list gdb reads
//! from `__jit_debug_descriptor`, and `__jit_debug_register_code` (where gdb keeps a breakpoint)
//! is called, so gdb can `break fib`, show `.sil` lines in `bt` and step by line in JIT code.
//! See "JIT Compilation Interface" in the gdb manual.

use codegen::DebugFunc;
use cranelift_codegen::gimli::write::{Address, EndianVec, Sections};
use cranelift_codegen::gimli::{RunTimeEndian, SectionId};
use cranelift_codegen::isa::TargetIsa;
use object::elf;
use object::write::elf::{FileHeader, SectionHeader, Sym, Writer};
use std::sync::Mutex;

#[repr(C)]
struct JitCodeEntry {
    next_entry: *mut JitCodeEntry,
    prev_entry: *mut JitCodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

#[repr(C)]
struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *mut JitCodeEntry,
    first_entry: *mut JitCodeEntry,
}

const JIT_NOACTION: u32 = 0;
const JIT_REGISTER_FN: u32 = 1;
const JIT_UNREGISTER_FN: u32 = 2;

/// The list gdb reads (by this exact name); changed only under `LOCK`.
#[unsafe(no_mangle)]
static mut __jit_debug_descriptor: JitDescriptor = JitDescriptor {
    version: 1,
    action_flag: JIT_NOACTION,
    relevant_entry: std::ptr::null_mut(),
    first_entry: std::ptr::null_mut(),
};

/// gdb puts a breakpoint here and reads the descriptor when it is hit.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn __jit_debug_register_code() {
    // SAFETY: an empty instruction sequence; being opaque to the optimiser, it keeps this
    // function and every call to it in the binary, which is all gdb needs.
    unsafe { std::arch::asm!("", options(nostack, preserves_flags)) };
}

static LOCK: Mutex<()> = Mutex::new(());

/// One batch of code registered with gdb; dropping it unregisters it.
pub(crate) struct GdbImage {
    entry: *mut JitCodeEntry,
    /// The ELF image `entry` points at.
    _elf: Box<[u8]>,
}

impl GdbImage {
    /// Registers `funcs` (with constant addresses) with gdb; `None` if there is nothing to
    /// register or the image could not be built (debugging is best effort, never an error).
    pub fn register(isa: &dyn TargetIsa, source: &str, funcs: &[DebugFunc]) -> Option<GdbImage> {
        let elf = elf_image(isa, source, funcs)?.into_boxed_slice();
        let entry = Box::into_raw(Box::new(JitCodeEntry {
            next_entry: std::ptr::null_mut(),
            prev_entry: std::ptr::null_mut(),
            symfile_addr: elf.as_ptr(),
            symfile_size: elf.len() as u64,
        }));
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the descriptor and the entries linked into it are only changed here and in
        // `drop`, under `LOCK`; `entry` is a fresh allocation, and the first entry (if any) is
        // a live one (entries leave the list before they are freed).
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let first = (*d).first_entry;
            (*entry).next_entry = first;
            if !first.is_null() {
                (*first).prev_entry = entry;
            }
            (*d).first_entry = entry;
            (*d).relevant_entry = entry;
            (*d).action_flag = JIT_REGISTER_FN;
            __jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
        }
        Some(GdbImage { entry, _elf: elf })
    }
}

impl Drop for GdbImage {
    fn drop(&mut self) {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `self.entry` is in the list (registered by `register`, removed only here);
        // its neighbours are live entries; all under `LOCK`. After unlinking, nothing refers
        // to it, so it is freed.
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let e = self.entry;
            let (prev, next) = ((*e).prev_entry, (*e).next_entry);
            if prev.is_null() {
                (*d).first_entry = next;
            } else {
                (*prev).next_entry = next;
            }
            if !next.is_null() {
                (*next).prev_entry = prev;
            }
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_UNREGISTER_FN;
            __jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
            (*d).relevant_entry = std::ptr::null_mut();
            drop(Box::from_raw(e));
        }
    }
}

// SAFETY: a `GdbImage` owns its entry and image; the shared list is only touched under `LOCK`.
unsafe impl Send for GdbImage {}

#[cfg(target_arch = "x86_64")]
const ELF_MACHINE: u16 = elf::EM_X86_64;
#[cfg(target_arch = "aarch64")]
const ELF_MACHINE: u16 = elf::EM_AARCH64;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ELF_MACHINE: u16 = elf::EM_NONE;

/// A relocatable ELF object describing `funcs` where they are: a `.text` section without
/// contents whose address spans them, a symbol for each, and the DWARF sections (with absolute
/// addresses, so nothing needs relocating).
fn elf_image(isa: &dyn TargetIsa, source: &str, funcs: &[DebugFunc]) -> Option<Vec<u8>> {
    let addr = |f: &DebugFunc| match f.address {
        Address::Constant(a) => a,
        Address::Symbol { .. } => 0,
    };
    let start = funcs.iter().map(addr).min()?;
    let end = funcs.iter().map(|f| addr(f) + f.size).max()?;
    let mut sections = Sections::new(EndianVec::new(RunTimeEndian::default()));
    codegen::write_dwarf(isa, source, funcs, &mut sections).ok()?;
    let mut debug: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let _ = sections.for_each(|id: SectionId, w| {
        if !w.slice().is_empty() {
            debug.push((id.name(), w.slice().to_vec()));
        }
        Ok::<(), ()>(())
    });

    let names: Vec<Vec<u8>> = funcs.iter().map(|f| f.name.clone().into_bytes()).collect();
    let mut out = Vec::new();
    let mut w = Writer::new(object::Endianness::default(), true, &mut out);
    w.reserve_file_header();
    w.reserve_null_section_index();
    let text_name = w.add_section_name(b".text");
    let text = w.reserve_section_index();
    let mut placed = Vec::with_capacity(debug.len());
    for (name, data) in &debug {
        let n = w.add_section_name(name.as_bytes());
        let _ = w.reserve_section_index();
        placed.push((n, w.reserve(data.len(), 1)));
    }
    w.reserve_null_symbol_index();
    let syms: Vec<_> = names.iter().map(|n| w.add_string(n)).collect();
    for _ in &syms {
        w.reserve_symbol_index(Some(text));
    }
    w.reserve_symtab_section_index();
    w.reserve_strtab_section_index();
    w.reserve_shstrtab_section_index();
    w.reserve_symtab();
    w.reserve_strtab();
    w.reserve_shstrtab();
    w.reserve_section_headers();

    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_REL,
        e_machine: ELF_MACHINE,
        e_entry: 0,
        e_flags: 0,
    })
    .ok()?;
    for (_, data) in &debug {
        w.write_align(1);
        w.write(data);
    }
    w.write_null_symbol();
    for (f, name) in funcs.iter().zip(&syms) {
        w.write_symbol(&Sym {
            name: Some(*name),
            section: Some(text),
            st_info: (elf::STB_GLOBAL << 4) | elf::STT_FUNC,
            st_other: elf::STV_DEFAULT,
            st_shndx: 0,
            st_value: addr(f) - start,
            st_size: f.size,
        });
    }
    w.write_strtab();
    w.write_shstrtab();
    w.write_null_section_header();
    w.write_section_header(&SectionHeader {
        name: Some(text_name),
        sh_type: elf::SHT_NOBITS,
        sh_flags: u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR),
        sh_addr: start,
        sh_offset: 0,
        sh_size: end - start,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: 16,
        sh_entsize: 0,
    });
    for ((name, offset), (_, data)) in placed.iter().zip(&debug) {
        w.write_section_header(&SectionHeader {
            name: Some(*name),
            sh_type: elf::SHT_PROGBITS,
            sh_flags: 0,
            sh_addr: 0,
            sh_offset: *offset as u64,
            sh_size: data.len() as u64,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 1,
            sh_entsize: 0,
        });
    }
    w.write_symtab_section_header(1);
    w.write_strtab_section_header();
    w.write_shstrtab_section_header();
    Some(out)
}
