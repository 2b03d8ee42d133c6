//! One module → one ELF object: the function bodies from `codegen`, C wrappers for exports, and the static VM context, tables and module record the runtime archive reads.
//!
//! Symbols (`M` is the module name, `C` its C-identifier form):
//! - `M::FUNC` (local): each function's body, tail calling convention, `(vmctx, params...)`.
//! - `M::main::array` (local): `main`'s array trampoline, which the runtime calls.
//! - `M::vmctx`, `M::funcs`, `M::sigs`, `M::module`, ... (local): the module's state and tables.
//! - Library objects: `FUNC` (global) for each `export func`, a C-convention wrapper;
//!   `C_memory`, `C_memory_size`, and `C__vsp_main(argc, argv)` when the module has `main`.
//! - Executable objects: only `main(argc, argv)`, the C entry point.
//! - Imports: each `extern func` by its name, and the runtime's `vsp_*` helpers.

use crate::AotError;
use crate::rt::layout::{self, ARG_F64, ARG_I64};
use bytecode::{Module as BcModule, Type};
use codegen::{CallMode, Config, ExternMode, ModuleEnv};
use cranelift_codegen::Context;
use cranelift_codegen::ir::{AbiParam, InstBuilder, Signature, UserFuncName, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module, default_libcall_names};
use cranelift_object::{ObjectBuilder, ObjectModule};
use runtime::VmCtx;
use runtime::vmctx::offsets as vm_offsets;
use std::fmt::Write as _;

/// What the object is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// For C programs: exported functions, memory accessors, `NAME__vsp_main`.
    Library,
    /// Linked alone with the runtime into an executable: defines C's `main`, exports nothing
    /// else (so no export can clash with a C library symbol the runtime uses).
    Executable,
}

/// An emitted object, and the listings asked for.
#[derive(Debug, Default)]
pub struct Compiled {
    pub object: Vec<u8>,
    /// Cranelift IR of every function, before optimisation (`--emit clif`).
    pub clif: String,
    /// Cranelift's disassembly of every function's machine code (`--emit asm`).
    pub asm: String,
    /// With debug information: every function defined so far, for the DWARF.
    debug: Option<Vec<(FuncId, codegen::DebugFunc)>>,
}

/// Which listings to produce along with the object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listings {
    pub clif: bool,
    pub asm: bool,
}

/// The C identifier form of a module name: every character outside `[A-Za-z0-9_]` becomes `_`,
/// and a leading digit gets a `_` in front. `NAME_memory` and the header use it.
pub fn c_module_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// The global symbols a library object defines besides the exported functions.
pub(crate) fn generated_symbols(bc: &BcModule) -> Vec<String> {
    let c = c_module_name(&bc.name);
    let mut v = vec![format!("{c}_memory"), format!("{c}_memory_size")];
    if bc.find_func("main").is_some() {
        v.push(format!("{c}__vsp_main"));
    }
    v
}

/// Runtime entry points the wrappers call.
struct Glue {
    enter: FuncId,
    leave: FuncId,
    memory: FuncId,
    memory_size: FuncId,
    main: FuncId,
}

/// Data objects of the module.
struct Data {
    vmctx: DataId,
    funcs: DataId,
    sigs: DataId,
    strings: DataId,
    names: DataId,
    image: DataId,
    segments: DataId,
    main_types: DataId,
    main_names: DataId,
    module: DataId,
}

/// Compiles a verified module into an ELF object for `isa`.
pub fn compile(
    bc: &BcModule,
    isa: OwnedTargetIsa,
    kind: ObjectKind,
    listings: Listings,
) -> Result<Compiled, AotError> {
    compile_with_debug(bc, isa, kind, listings, None)
}

/// `compile`, and with `source` (the `.sil` file's path) DWARF debug information in the object:
/// a line table mapping code to `source`'s lines, a subprogram per function (named as in the
/// `.sil`), and call frame information (`vsp build -g`).
pub fn compile_with_debug(
    bc: &BcModule,
    isa: OwnedTargetIsa,
    kind: ObjectKind,
    listings: Listings,
    source: Option<&str>,
) -> Result<Compiled, AotError> {
    let isa_for_debug = isa.clone();
    if isa.pointer_bytes() != 8 {
        return Err(AotError::Isa {
            target: isa.triple().to_string(),
            message: "only 64-bit targets are supported".into(),
        });
    }
    let main = bc.find_func("main").map(|id| id.0 as usize);
    if kind == ObjectKind::Executable && main.is_none() {
        return Err(AotError::NoMain);
    }
    if kind == ObjectKind::Library {
        check_symbol_clashes(bc)?;
    }
    let builder = ObjectBuilder::new(isa, format!("{}.o", bc.name), default_libcall_names())?;
    let mut m = ObjectModule::new(builder);
    let prefix = bc.name.as_str();
    let cfg = Config {
        calls: CallMode::Direct,
        externs: ExternMode::Direct,
        interrupts: false,
        lazy_direct_calls: false,
        profile: None,
        debug_vars: source.is_some(),
    };
    let mut env = ModuleEnv::declare(
        &mut m,
        bc,
        cfg,
        &|i| format!("{prefix}::{}", bc.funcs[i].name),
        Linkage::Local,
    )?;
    let sig_ids = env.sig_ids(bc);
    let glue = declare_glue(&mut m)?;
    let data = declare_data(&mut m, prefix)?;
    let mut out = Compiled {
        debug: source.map(|_| Vec::new()),
        ..Compiled::default()
    };
    let mut ctx = m.make_context();
    let mut fctx = FunctionBuilderContext::new();

    // The bodies, a batch at a time: translated (which needs the module), compiled on every
    // core, then defined in order, so the object is the same whatever the number of threads.
    let threads = codegen::default_threads();
    let mut pool: Vec<Context> = Vec::new();
    let indices: Vec<usize> = (0..bc.funcs.len()).collect();
    for batch in indices.chunks(codegen::BATCH) {
        while pool.len() < batch.len() {
            pool.push(m.make_context());
        }
        let contexts = &mut pool[..batch.len()];
        for (&i, c) in batch.iter().zip(contexts.iter_mut()) {
            codegen::translate_function(&mut m, bc, &mut env, i, c, &mut fctx)?;
            let label = format!("{prefix}::{}", bc.funcs[i].name);
            before_compile(&m, env.body_ids[i], c, &label, listings, &mut out);
        }
        codegen::compile_batch(m.isa(), contexts, threads).map_err(|e| AotError::Cranelift {
            func: format!("{prefix}::{}", bc.funcs[batch[e.index]].name),
            message: e.message,
        })?;
        for (&i, c) in batch.iter().zip(contexts.iter_mut()) {
            let f = &bc.funcs[i];
            let label = format!("{prefix}::{}", f.name);
            after_compile(
                &mut m,
                env.body_ids[i],
                c,
                &label,
                listings,
                &mut out,
                Some(f),
            )?;
        }
    }
    let main_entry = match main {
        Some(i) => {
            let label = format!("{prefix}::main::array");
            let sig = codegen::array_signature(&m);
            let id = m.declare_function(&label, Linkage::Local, &sig)?;
            codegen::build_array_trampoline(&mut m, bc, &env, i, &mut ctx, &mut fctx)?;
            define(&mut m, id, &mut ctx, &label, listings, &mut out, None)?;
            Some(id)
        }
        None => None,
    };

    let cname = c_module_name(&bc.name);
    match kind {
        ObjectKind::Library => {
            for (i, f) in bc.funcs.iter().enumerate() {
                if !f.export {
                    continue;
                }
                let sig = codegen::c_signature(&m, &f.param_types(), f.ret);
                let id = m.declare_function(&f.name, Linkage::Export, &sig)?;
                build_export(&mut m, bc, &env, &glue, &data, i, &mut ctx, &mut fctx)?;
                define(&mut m, id, &mut ctx, &f.name, listings, &mut out, None)?;
            }
            let ptr = m.target_config().pointer_type();
            for (name, glue_fn, ret) in [
                (format!("{cname}_memory"), glue.memory, ptr),
                (format!("{cname}_memory_size"), glue.memory_size, types::I64),
            ] {
                let mut sig = m.make_signature();
                sig.returns.push(AbiParam::new(ret));
                let id = m.declare_function(&name, Linkage::Export, &sig)?;
                build_forward(&mut m, &data, glue_fn, sig, &mut ctx, &mut fctx)?;
                define(&mut m, id, &mut ctx, &name, listings, &mut out, None)?;
            }
            if main.is_some() {
                let name = format!("{cname}__vsp_main");
                let id = declare_c_main(&mut m, &name)?;
                build_c_main(&mut m, &data, &glue, &mut ctx, &mut fctx)?;
                define(&mut m, id, &mut ctx, &name, listings, &mut out, None)?;
            }
        }
        ObjectKind::Executable => {
            let id = declare_c_main(&mut m, "main")?;
            build_c_main(&mut m, &data, &glue, &mut ctx, &mut fctx)?;
            define(&mut m, id, &mut ctx, "main", listings, &mut out, None)?;
        }
    }

    define_data(&mut m, bc, &env, &sig_ids, &data, main_entry)?;
    let mut product = m.finish();
    if let (Some(source), Some(funcs)) = (source, out.debug.take()) {
        let (ids, funcs): (Vec<FuncId>, Vec<codegen::DebugFunc>) = funcs.into_iter().unzip();
        crate::debug::emit(&mut product, &*isa_for_debug, source, &funcs, &ids)?;
    }
    out.object = product
        .emit()
        .map_err(|e| AotError::Object(e.to_string()))?;
    Ok(out)
}

/// Exported names must not collide with the symbols generated for the module or with the
/// runtime's (`vsp_*`).
fn check_symbol_clashes(bc: &BcModule) -> Result<(), AotError> {
    let generated = generated_symbols(bc);
    for f in bc.funcs.iter().filter(|f| f.export) {
        if generated.contains(&f.name) || f.name.starts_with("vsp_") {
            return Err(AotError::SymbolClash(f.name.clone()));
        }
    }
    Ok(())
}

/// Compiles `ctx.func` as `id`, collecting the listings and (if asked for) debug information;
/// `sil` is the `.sil` function, for its body.
fn define(
    m: &mut ObjectModule,
    id: FuncId,
    ctx: &mut Context,
    label: &str,
    listings: Listings,
    out: &mut Compiled,
    sil: Option<&bytecode::Function>,
) -> Result<(), AotError> {
    before_compile(m, id, ctx, label, listings, out);
    ctx.compile(m.isa(), &mut Default::default())
        .map_err(|e| AotError::Cranelift {
            func: label.to_string(),
            message: format!("{:?}", e.inner),
        })?;
    after_compile(m, id, ctx, label, listings, out, sil)
}

/// Names `ctx.func` after `id`, as references to it are (`u0:N`), and lists its IR if asked
/// (before compiling, which rewrites it).
fn before_compile(
    m: &ObjectModule,
    id: FuncId,
    ctx: &mut Context,
    label: &str,
    listings: Listings,
    out: &mut Compiled,
) {
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    if listings.clif {
        let _ = writeln!(out.clif, "; {label}");
        for (user, name) in &referenced_names(m, &ctx.func) {
            let _ = writeln!(out.clif, ";   {user} = {name}");
        }
        let _ = writeln!(out.clif, "{}", codegen::annotated_clif(&ctx.func));
    }
}

/// Defines the code `ctx` has just compiled as `id`, with its machine code listing and debug
/// information if asked for, and clears the context.
fn after_compile(
    m: &mut ObjectModule,
    id: FuncId,
    ctx: &mut Context,
    label: &str,
    listings: Listings,
    out: &mut Compiled,
    sil: Option<&bytecode::Function>,
) -> Result<(), AotError> {
    let names = if listings.asm {
        referenced_names(m, &ctx.func)
    } else {
        Vec::new()
    };
    let failed = |message: String| AotError::Cranelift {
        func: label.to_string(),
        message,
    };
    let place = codegen::define_placed(m, ctx, id).map_err(|e| failed(format!("{e:?}")))?;
    if listings.asm {
        let symbols: Vec<String> = names.iter().map(|(_, name)| name.clone()).collect();
        let text = codegen::asm_listing(ctx, m.isa(), &symbols).map_err(failed)?;
        let _ = writeln!(out.asm, "{label}:\n{text}");
    }
    if let Some(funcs) = &mut out.debug {
        let (name, line, regs) = sil.map_or((label, 0, &[][..]), |f| {
            (f.name.as_str(), f.loc.line, &f.regs[..])
        });
        let address = cranelift_codegen::gimli::write::Address::Symbol {
            symbol: funcs.len(),
            addend: place.pad as i64,
        };
        if let Some(d) = codegen::DebugFunc::of(ctx, m.isa(), name.to_string(), address, line, regs)
        {
            funcs.push((id, d));
        }
    }
    m.clear_context(ctx);
    Ok(())
}

/// The symbols a function refers to, each with the `uNS:N` name its Cranelift IR gives it, in
/// the order of its external name references.
fn referenced_names(
    m: &ObjectModule,
    func: &cranelift_codegen::ir::Function,
) -> Vec<(String, String)> {
    let users = func.params.user_named_funcs().values();
    users
        .zip(codegen::referenced_names(m, func))
        .map(|(u, name)| (format!("u{}:{}", u.namespace, u.index), name))
        .collect()
}

fn declare_glue(m: &mut ObjectModule) -> Result<Glue, AotError> {
    let ptr = m.target_config().pointer_type();
    let mut declare = |name: &str, params: &[types::Type], ret: Option<types::Type>| {
        let mut sig = m.make_signature();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns.extend(ret.map(AbiParam::new));
        m.declare_function(name, Linkage::Import, &sig)
            .map_err(AotError::from)
    };
    Ok(Glue {
        enter: declare("vsp_aot_enter", &[ptr], None)?,
        leave: declare("vsp_aot_leave", &[ptr], Some(types::I32))?,
        memory: declare("vsp_aot_memory", &[ptr], Some(ptr))?,
        memory_size: declare("vsp_aot_memory_size", &[ptr], Some(types::I64))?,
        main: declare("vsp_aot_main", &[types::I32, ptr, ptr], Some(types::I32))?,
    })
}

fn declare_data(m: &mut ObjectModule, prefix: &str) -> Result<Data, AotError> {
    let mut d = |name: &str, writable: bool| {
        m.declare_data(
            &format!("{prefix}::{name}"),
            Linkage::Local,
            writable,
            false,
        )
        .map_err(AotError::from)
    };
    Ok(Data {
        vmctx: d("vmctx", true)?,
        funcs: d("funcs", false)?,
        sigs: d("sigs", false)?,
        strings: d("strings", false)?,
        names: d("func_names", false)?,
        image: d("data", false)?,
        segments: d("segments", false)?,
        main_types: d("main_types", false)?,
        main_names: d("main_names", false)?,
        module: d("module", true)?,
    })
}

/// `int main(int argc, char **argv)`.
fn declare_c_main(m: &mut ObjectModule, name: &str) -> Result<FuncId, AotError> {
    let ptr = m.target_config().pointer_type();
    let mut sig = m.make_signature();
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    Ok(m.declare_function(name, Linkage::Export, &sig)?)
}

/// The C wrapper of exported function `index`: enter, call the body, leave; a trap whose
/// handler returns makes the result 0.
#[allow(clippy::too_many_arguments)]
fn build_export(
    m: &mut ObjectModule,
    bc: &BcModule,
    env: &ModuleEnv,
    glue: &Glue,
    data: &Data,
    index: usize,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), AotError> {
    let f = &bc.funcs[index];
    let ptr = m.target_config().pointer_type();
    m.clear_context(ctx);
    ctx.func.signature = codegen::c_signature(m, &f.param_types(), f.ret);
    let enter = m.declare_func_in_func(glue.enter, &mut ctx.func);
    let leave = m.declare_func_in_func(glue.leave, &mut ctx.func);
    let body = m.declare_func_in_func(env.body_ids[index], &mut ctx.func);
    let module_gv = m.declare_data_in_func(data.module, &mut ctx.func);
    let vmctx_gv = m.declare_data_in_func(data.vmctx, &mut ctx.func);
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let info = b.ins().symbol_value(ptr, module_gv);
    let vmctx = b.ins().symbol_value(ptr, vmctx_gv);
    b.ins().call(enter, &[info]);
    let mut args = vec![vmctx];
    args.extend_from_slice(b.block_params(entry));
    let call = b.ins().call(body, &args);
    let result = b.inst_results(call).first().copied();
    let left = b.ins().call(leave, &[info]);
    let trapped = b.inst_results(left)[0];
    match (result, f.ret) {
        (Some(v), Some(t)) => {
            let zero = match t {
                Type::F64 => b.ins().f64const(0.0),
                other => b.ins().iconst(codegen::clif_type(other), 0),
            };
            let r = b.ins().select(trapped, zero, v);
            b.ins().return_(&[r]);
        }
        _ => {
            b.ins().return_(&[]);
        }
    }
    b.seal_all_blocks();
    b.finalize(m.target_config());
    Ok(())
}

/// A function of signature `sig` (no parameters) returning `glue_fn(&module)`.
fn build_forward(
    m: &mut ObjectModule,
    data: &Data,
    glue_fn: FuncId,
    sig: Signature,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), AotError> {
    let ptr = m.target_config().pointer_type();
    m.clear_context(ctx);
    ctx.func.signature = sig;
    let callee = m.declare_func_in_func(glue_fn, &mut ctx.func);
    let module_gv = m.declare_data_in_func(data.module, &mut ctx.func);
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let entry = b.create_block();
    b.switch_to_block(entry);
    let info = b.ins().symbol_value(ptr, module_gv);
    let call = b.ins().call(callee, &[info]);
    let r = b.inst_results(call)[0];
    b.ins().return_(&[r]);
    b.seal_all_blocks();
    b.finalize(m.target_config());
    Ok(())
}

/// `int main(int argc, char **argv) { return vsp_aot_main(argc, argv, &module); }`
fn build_c_main(
    m: &mut ObjectModule,
    data: &Data,
    glue: &Glue,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), AotError> {
    let ptr = m.target_config().pointer_type();
    m.clear_context(ctx);
    ctx.func.signature.params.push(AbiParam::new(types::I32));
    ctx.func.signature.params.push(AbiParam::new(ptr));
    ctx.func.signature.returns.push(AbiParam::new(types::I32));
    let callee = m.declare_func_in_func(glue.main, &mut ctx.func);
    let module_gv = m.declare_data_in_func(data.module, &mut ctx.func);
    let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (argc, argv) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let info = b.ins().symbol_value(ptr, module_gv);
    let call = b.ins().call(callee, &[argc, argv, info]);
    let r = b.inst_results(call)[0];
    b.ins().return_(&[r]);
    b.seal_all_blocks();
    b.finalize(m.target_config());
    Ok(())
}

/// Little-endian bytes with relocations, built up field by field.
struct Blob {
    bytes: Vec<u8>,
    desc: DataDescription,
}

impl Blob {
    fn new(size: usize) -> Blob {
        // Never empty: zero-sized symbols are legal but some tools dislike them.
        Blob {
            bytes: vec![0; size.max(8)],
            desc: DataDescription::new(),
        }
    }

    fn put_u64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put_data_addr(&mut self, m: &ObjectModule, at: usize, target: DataId, addend: usize) {
        let gv = m.declare_data_in_data(target, &mut self.desc);
        self.desc.write_data_addr(at as u32, gv, addend as i64);
    }

    fn put_func_addr(&mut self, m: &ObjectModule, at: usize, target: FuncId) {
        let fr = m.declare_func_in_data(target, &mut self.desc);
        self.desc.write_function_addr(at as u32, fr);
    }

    fn define(mut self, m: &mut ObjectModule, id: DataId, align: u64) -> Result<(), AotError> {
        self.desc.define(self.bytes.into_boxed_slice());
        self.desc.set_align(align);
        m.define_data(id, &self.desc)?;
        Ok(())
    }
}

/// A pool of NUL-terminated strings; each `add` returns the string's offset.
#[derive(Default)]
struct Strings(Vec<u8>);

impl Strings {
    fn add(&mut self, s: &str) -> usize {
        let at = self.0.len();
        // A NUL inside a name would cut it short; names are identifiers, so this never happens.
        self.0
            .extend(s.bytes().map(|b| if b == 0 { b'?' } else { b }));
        self.0.push(0);
        at
    }
}

/// Defines the module's data: VM context, function table and signature ids, names, memory
/// image and the module record.
fn define_data(
    m: &mut ObjectModule,
    bc: &BcModule,
    env: &ModuleEnv,
    sig_ids: &[u32],
    data: &Data,
    main_entry: Option<FuncId>,
) -> Result<(), AotError> {
    let n = bc.funcs.len();
    let mut strings = Strings::default();

    // Function table and signature ids (`calli` reads them through the VM context).
    let mut funcs = Blob::new(n * 8);
    let mut sigs = Blob::new(n * 4);
    for (i, (&body, &sig)) in env.body_ids.iter().zip(sig_ids).enumerate() {
        funcs.put_func_addr(m, i * 8, body);
        sigs.put_u32(i * 4, sig);
    }
    funcs.define(m, data.funcs, 8)?;
    sigs.define(m, data.sigs, 8)?;

    // Function names for backtraces.
    let mut names = Blob::new(n * 8);
    for (i, f) in bc.funcs.iter().enumerate() {
        let at = strings.add(&f.name);
        names.put_data_addr(m, i * 8, data.strings, at);
    }
    names.define(m, data.names, 8)?;

    // Data segments: the bytes one after another, and a table of (offset, len, pointer).
    let mut image = Vec::new();
    let mut segments = Blob::new(bc.data.len() * layout::segment_offsets::SIZE);
    for (i, seg) in bc.data.iter().enumerate() {
        let at = i * layout::segment_offsets::SIZE;
        segments.put_u64(at + layout::segment_offsets::OFFSET, seg.offset as u64);
        segments.put_u64(at + layout::segment_offsets::LEN, seg.bytes.len() as u64);
        segments.put_data_addr(
            m,
            at + layout::segment_offsets::BYTES,
            data.image,
            image.len(),
        );
        image.extend_from_slice(&seg.bytes);
    }
    segments.define(m, data.segments, 8)?;
    let mut image_blob = Blob::new(image.len());
    image_blob.bytes[..image.len()].copy_from_slice(&image);
    image_blob.define(m, data.image, 16)?;

    // `main`'s parameters, for the command line.
    let main = bc.find_func("main").map(|id| bc.func(id));
    let params = main.map(|f| f.params().to_vec()).unwrap_or_default();
    let mut main_types = Blob::new(params.len());
    let mut main_names = Blob::new(params.len() * 8);
    for (i, p) in params.iter().enumerate() {
        main_types.bytes[i] = if p.ty == Type::F64 { ARG_F64 } else { ARG_I64 };
        let at = strings.add(&p.name);
        main_names.put_data_addr(m, i * 8, data.strings, at);
    }
    main_types.define(m, data.main_types, 8)?;
    main_names.define(m, data.main_names, 8)?;

    // The VM context: the function table is static, everything else is set at run time.
    let mut vmctx = Blob::new(std::mem::size_of::<VmCtx>());
    vmctx.put_data_addr(m, vm_offsets::FUNCS as usize, data.funcs, 0);
    vmctx.put_data_addr(m, vm_offsets::FUNC_SIGS as usize, data.sigs, 0);
    vmctx.put_u64(vm_offsets::NUM_FUNCS as usize, n as u64);
    // A dangling, non-null base until the runtime allocates the memory.
    vmctx.put_u64(vm_offsets::MEM_BASE as usize, 1);
    vmctx.define(m, data.vmctx, 16)?;

    // The module record.
    use layout::offsets as o;
    let mut module = Blob::new(o::SIZE);
    module.put_data_addr(m, o::VMCTX, data.vmctx, 0);
    let name_at = strings.add(&bc.name);
    module.put_data_addr(m, o::NAME, data.strings, name_at);
    module.put_data_addr(m, o::FUNC_NAMES, data.names, 0);
    module.put_u64(o::NUM_FUNCS, n as u64);
    module.put_data_addr(m, o::SEGMENTS, data.segments, 0);
    module.put_u64(o::NUM_SEGMENTS, bc.data.len() as u64);
    module.put_u64(o::MIN_PAGES, bc.memory.min_pages);
    module.put_u64(o::MAX_PAGES, bc.memory.max_pages);
    if let (Some(f), Some(entry)) = (main, main_entry) {
        module.put_func_addr(m, o::MAIN_ENTRY, entry);
        let sig_at = strings.add(&f.signature());
        module.put_data_addr(m, o::MAIN_SIG, data.strings, sig_at);
        module.put_u64(o::MAIN_RETURNS, u64::from(f.ret.is_some()));
    }
    module.put_data_addr(m, o::MAIN_PARAM_TYPES, data.main_types, 0);
    module.put_data_addr(m, o::MAIN_PARAM_NAMES, data.main_names, 0);
    module.put_u64(o::MAIN_NUM_PARAMS, params.len() as u64);
    module.define(m, data.module, 16)?;

    let mut strings_blob = Blob::new(strings.0.len());
    strings_blob.bytes[..strings.0.len()].copy_from_slice(&strings.0);
    strings_blob.define(m, data.strings, 1)?;
    Ok(())
}
