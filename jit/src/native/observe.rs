//! Tells profilers and debuggers where JIT code is, as it is finalized: the perf map
//! (`/tmp/perf-PID.map`, names only), the jitdump file (`jit-PID.dump`: names, code bytes and
//! `.sil` line tables, for `perf inject --jit`), both per process and shared by every instance
//! in it, and gdb (`super::gdb`: DWARF through the GDB JIT interface).

use super::gdb::GdbImage;
use crate::profile::{CodeKind, CodeMap};
use codegen::{DebugFunc, LineRow};
use cranelift_codegen::Context;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::isa::unwind::{CfaUnwindInfo, UnwindInfo};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Which profiler files the native tier keeps up to date (`Config::perf_map`, `Config::jitdump`)
/// and whether gdb is told about code (`Config::gdb_jit`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Observe {
    pub perf_map: bool,
    pub jitdump: bool,
    pub gdb: bool,
    /// The `.sil` file name that line tables refer to.
    pub source: Arc<str>,
    /// Profiling: counters compiled into the code, and the map samples are attributed with.
    pub profile: Option<codegen::ProfileCounters>,
    pub code_map: Option<CodeMap>,
}

/// A profiler file could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {err}")]
pub struct ObserveError {
    pub path: String,
    #[source]
    pub err: std::io::Error,
}

/// What is kept of a function just compiled, until its address is known.
pub(crate) struct Piece {
    /// Where Cranelift's code starts after the function's symbol (`codegen::placement`).
    pub offset: u32,
    pub size: usize,
    /// `.sil` lines by offset (empty for trampolines, and when nothing needs them).
    pub lines: Vec<LineRow>,
    /// Call frame information and where the registers are (for gdb only).
    pub unwind: Option<CfaUnwindInfo>,
    pub vars: Vec<codegen::DebugVar>,
}

/// One piece of finalized code: a function body, a trampoline or an OSR entry.
pub(crate) struct CodeRecord {
    pub name: String,
    /// The function's symbol (`start()` is where its described code begins).
    pub addr: *const u8,
    /// The `.sil` line of its `func` (0 for a trampoline).
    pub decl_line: u32,
    pub piece: Piece,
    pub kind: CodeKind,
}

impl CodeRecord {
    /// Where the code that `piece` describes (its size, lines and frames) begins: past the pad
    /// `codegen::placement` may put in front of a function with loops.
    fn start(&self) -> *const u8 {
        self.addr.wrapping_add(self.piece.offset as usize)
    }
}

static PERF_MAP: Mutex<Option<BufWriter<File>>> = Mutex::new(None);
static JITDUMP: Mutex<Option<JitDump>> = Mutex::new(None);

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the perf map of this process is (perf looks for exactly this name).
pub fn perf_map_path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// Where the jitdump file of this process is: `$JITDUMPDIR` if set, else `/tmp`.
pub fn jitdump_path() -> PathBuf {
    let dir = std::env::var_os("JITDUMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    dir.join(format!("jit-{}.dump", std::process::id()))
}

impl Observe {
    pub fn any(&self) -> bool {
        self.perf_map || self.jitdump || self.gdb || self.code_map.is_some()
    }

    /// What will be needed of the function `ctx` has just compiled (after
    /// `Module::define_function`).
    /// `regs`: the `.sil` registers of a function body (none for a trampoline).
    pub fn piece(&self, ctx: &Context, isa: &dyn TargetIsa, regs: &[bytecode::RegDecl]) -> Piece {
        let code = ctx.compiled_code();
        let unwind = match code.filter(|_| self.gdb).map(|c| c.create_unwind_info(isa)) {
            Some(Ok(Some(UnwindInfo::SystemV(u)))) => Some(u),
            _ => None,
        };
        Piece {
            offset: codegen::code_offset(ctx, isa),
            size: code.map_or(0, |c| c.code_buffer().len()),
            lines: if self.jitdump || self.gdb {
                codegen::line_table(ctx)
            } else {
                Vec::new()
            },
            unwind,
            vars: if self.gdb {
                codegen::variables(ctx, isa, regs)
            } else {
                Vec::new()
            },
        }
    }

    /// Creates the files asked for (once per process; later instances append to them), so that
    /// an error shows when the instance is made rather than lost later.
    pub fn open(&self) -> Result<(), ObserveError> {
        if self.perf_map {
            let mut map = lock(&PERF_MAP);
            if map.is_none() {
                let path = perf_map_path();
                let f = File::create(&path).map_err(|err| ObserveError {
                    path: path.display().to_string(),
                    err,
                })?;
                *map = Some(BufWriter::new(f));
            }
        }
        if self.jitdump {
            let mut dump = lock(&JITDUMP);
            if dump.is_none() {
                let path = jitdump_path();
                *dump = Some(JitDump::create(&path).map_err(|err| ObserveError {
                    path: path.display().to_string(),
                    err,
                })?);
            }
        }
        Ok(())
    }

    /// Records code that has just been finalized (and is about to be published); with gdb on,
    /// returns its registration, which must live as long as the code. Write errors after the
    /// files were opened are ignored: a profiler's file must never stop the program.
    pub fn publish(&self, isa: &dyn TargetIsa, code: &[CodeRecord]) -> Option<GdbImage> {
        if let Some(map) = &self.code_map {
            let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
            map.extend(
                code.iter()
                    .map(|c| (c.start() as u64, c.piece.size as u64, c.kind)),
            );
        }
        if self.perf_map
            && let Some(map) = lock(&PERF_MAP).as_mut()
        {
            for c in code {
                let _ = writeln!(
                    map,
                    "{:x} {:x} {}",
                    c.start() as usize,
                    c.piece.size,
                    c.name
                );
            }
            // perf reads the map when the process exits, but a crash must not lose it.
            let _ = map.flush();
        }
        if self.jitdump
            && let Some(dump) = lock(&JITDUMP).as_mut()
        {
            for c in code {
                let _ = dump.record(c, &self.source);
            }
            let _ = dump.out.flush();
        }
        if !self.gdb {
            return None;
        }
        let funcs: Vec<DebugFunc> = code
            .iter()
            .map(|c| DebugFunc {
                name: c.name.clone(),
                address: cranelift_codegen::gimli::write::Address::Constant(c.start() as u64),
                size: c.piece.size as u64,
                decl_line: c.decl_line,
                lines: c.piece.lines.clone(),
                unwind: c.piece.unwind.clone(),
                external: false,
                vars: c.piece.vars.clone(),
            })
            .collect();
        GdbImage::register(isa, &self.source, &funcs)
    }
}

/// An open jitdump file (format: `tools/perf/Documentation/jitdump-specification.txt` in Linux).
struct JitDump {
    out: BufWriter<File>,
    code_index: u64,
}

const JITDUMP_MAGIC: u32 = 0x4A69_5444;
const JIT_CODE_LOAD: u32 = 0;
const JIT_CODE_DEBUG_INFO: u32 = 2;

#[cfg(target_arch = "x86_64")]
const ELF_MACHINE: u32 = 62; // EM_X86_64
#[cfg(target_arch = "aarch64")]
const ELF_MACHINE: u32 = 183; // EM_AARCH64
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ELF_MACHINE: u32 = 0;

/// Nanoseconds of `CLOCK_MONOTONIC`, the clock `perf record -k mono` stamps samples with.
fn timestamp() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000) + ts.tv_nsec as u64
}

fn thread_id() -> u32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

impl JitDump {
    fn create(path: &std::path::Path) -> std::io::Result<JitDump> {
        // Readable too: the mapping below needs it.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        // perf finds the file through an executable mapping of it in the process being
        // recorded (the MMAP event carries its name), so map its first page and keep it.
        // SAFETY: a fresh private read+exec mapping of an open file; nothing ever reads or
        // writes through it, and it is never unmapped (it lives as long as the process).
        let map = unsafe {
            use std::os::fd::AsRawFd;
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let mut out = BufWriter::new(file);
        let mut h = Vec::with_capacity(40);
        h.extend_from_slice(&JITDUMP_MAGIC.to_ne_bytes());
        h.extend_from_slice(&1u32.to_ne_bytes()); // version
        h.extend_from_slice(&40u32.to_ne_bytes()); // header size
        h.extend_from_slice(&ELF_MACHINE.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes()); // padding
        h.extend_from_slice(&std::process::id().to_ne_bytes());
        h.extend_from_slice(&timestamp().to_ne_bytes());
        h.extend_from_slice(&0u64.to_ne_bytes()); // flags
        out.write_all(&h)?;
        out.flush()?;
        Ok(JitDump { out, code_index: 0 })
    }

    /// A JIT_CODE_DEBUG_INFO record (if `c` has lines), then its JIT_CODE_LOAD record.
    fn record(&mut self, c: &CodeRecord, source: &str) -> std::io::Result<()> {
        let addr = c.start() as u64;
        let ts = timestamp();
        let (lines, size) = (&c.piece.lines, c.piece.size);
        if !lines.is_empty() {
            let entry_size = 8 + 4 + 4 + source.len() + 1;
            let total = 16 + 16 + lines.len() * entry_size;
            let mut r = Vec::with_capacity(total);
            r.extend_from_slice(&JIT_CODE_DEBUG_INFO.to_ne_bytes());
            r.extend_from_slice(&(total as u32).to_ne_bytes());
            r.extend_from_slice(&ts.to_ne_bytes());
            r.extend_from_slice(&addr.to_ne_bytes());
            r.extend_from_slice(&(lines.len() as u64).to_ne_bytes());
            for row in lines {
                r.extend_from_slice(&(addr + u64::from(row.offset)).to_ne_bytes());
                r.extend_from_slice(&row.line.to_ne_bytes());
                r.extend_from_slice(&0u32.to_ne_bytes()); // discriminator
                r.extend_from_slice(source.as_bytes());
                r.push(0);
            }
            self.out.write_all(&r)?;
        }
        let total = 16 + 40 + c.name.len() + 1 + size;
        let mut r = Vec::with_capacity(total - size);
        r.extend_from_slice(&JIT_CODE_LOAD.to_ne_bytes());
        r.extend_from_slice(&(total as u32).to_ne_bytes());
        r.extend_from_slice(&ts.to_ne_bytes());
        r.extend_from_slice(&std::process::id().to_ne_bytes());
        r.extend_from_slice(&thread_id().to_ne_bytes());
        r.extend_from_slice(&addr.to_ne_bytes()); // vma
        r.extend_from_slice(&addr.to_ne_bytes()); // code address
        r.extend_from_slice(&(size as u64).to_ne_bytes());
        r.extend_from_slice(&self.code_index.to_ne_bytes());
        r.extend_from_slice(c.name.as_bytes());
        r.push(0);
        self.out.write_all(&r)?;
        // SAFETY: `addr..addr + size` is code Cranelift has just finalized (mapped readable and
        // executable, never freed while the instance lives, and the instance is compiling now).
        let bytes = unsafe { std::slice::from_raw_parts(c.start(), size) };
        self.out.write_all(bytes)?;
        self.code_index += 1;
        Ok(())
    }
}
