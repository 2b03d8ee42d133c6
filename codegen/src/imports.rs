//! The runtime helpers compiled code calls, declared by name so each backend resolves them its
//! own way (the JIT registers the in-process functions, AOT links the runtime archive).

use crate::abi::c_param;
use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_module::{FuncId, Linkage, Module, ModuleResult};

use types::{F64, I8, I32, I64};

/// One helper: its symbol and C signature (`P` stands for the pointer type).
struct Helper {
    name: &'static str,
    params: &'static [Ty],
    ret: Option<Ty>,
}

#[derive(Clone, Copy)]
enum Ty {
    P,
    I8,
    I32,
    I64,
    F64,
}

macro_rules! helpers {
    ($($id:ident = $name:literal ($($p:ident),*) $(-> $r:ident)?;)*) => {
        /// Every helper compiled code may call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)]
        pub enum H { $($id,)* }
        const HELPERS: &[Helper] = &[
            $(Helper { name: $name, params: &[$(Ty::$p),*], ret: helpers!(@ret $($r)?) },)*
        ];
    };
    (@ret) => { None };
    (@ret $r:ident) => { Some(Ty::$r) };
}

helpers! {
    TrapBegin = "vsp_trap_begin"(P, I32, I32, I32);
    TrapFrame = "vsp_trap_frame"(P, I32, I32);
    Exit = "vsp_exit"(P, I64);
    MemGrow = "vsp_mem_grow"(P, I64) -> I64;
    MemCopy = "vsp_mem_copy"(P, I64, I64, I64) -> I32;
    MemFill = "vsp_mem_fill"(P, I64, I64, I64) -> I32;
    MemWrite = "vsp_mem_write"(P, I64, I64) -> I32;
    Getc = "vsp_getc"(P) -> I64;
    Clock = "vsp_clock_ns"() -> I64;
    HostCall = "vsp_host_call"(P, I32, P, P) -> I32;
    JitCompile = "vsp_jit_compile"(P, I64) -> P;
    PrintI64 = "vsp_out_print_i64"(P, I64, I32);
    PrintF64 = "vsp_out_print_f64"(P, F64, I32, I32);
    PrintSil = "vsp_out_print_sil"(P, I8, I32);
    Newline = "vsp_out_newline"(P);
    Putc = "vsp_out_putc"(P, I64);
    Sin = "vsp_f64_sin"(F64) -> F64;
    Cos = "vsp_f64_cos"(F64) -> F64;
    Tan = "vsp_f64_tan"(F64) -> F64;
    Asin = "vsp_f64_asin"(F64) -> F64;
    Acos = "vsp_f64_acos"(F64) -> F64;
    Atan = "vsp_f64_atan"(F64) -> F64;
    Exp = "vsp_f64_exp"(F64) -> F64;
    Ln = "vsp_f64_ln"(F64) -> F64;
    Log10 = "vsp_f64_log10"(F64) -> F64;
    Atan2 = "vsp_f64_atan2"(F64, F64) -> F64;
    Pow = "vsp_f64_pow"(F64, F64) -> F64;
    Hypot = "vsp_f64_hypot"(F64, F64) -> F64;
    Fmod = "vsp_f64_fmod"(F64, F64) -> F64;
    SilAdd = "vsp_sil_add"(I8, I8) -> I8;
    SilSub = "vsp_sil_sub"(I8, I8) -> I8;
    SilPow = "vsp_sil_pow"(I8, I64) -> I8;
    SilRoot = "vsp_sil_root"(I8, I64) -> I8;
    SilLerp = "vsp_sil_lerp"(I8, I8, F64) -> I8;
    SilFrom = "vsp_sil_from"(F64, F64) -> I8;
    SilRe = "vsp_sil_re"(I8) -> F64;
    SilIm = "vsp_sil_im"(I8) -> F64;
    SilAbs = "vsp_sil_abs"(I8) -> F64;
    SilArg = "vsp_sil_arg"(I8) -> F64;
}

/// Every helper's symbol name (for backends that register or check them).
pub fn helper_names() -> impl Iterator<Item = &'static str> {
    HELPERS.iter().map(|h| h.name)
}

/// The helpers declared in one `Module`, declared lazily on first use.
#[derive(Default)]
pub struct Imports {
    ids: std::collections::HashMap<H, FuncId>,
}

impl Imports {
    /// The helper's id if this module has declared it (without declaring it).
    pub(crate) fn declared(&self, h: H) -> Option<FuncId> {
        self.ids.get(&h).copied()
    }

    pub(crate) fn get(&mut self, m: &mut dyn Module, h: H) -> ModuleResult<FuncId> {
        if let Some(&id) = self.ids.get(&h) {
            return Ok(id);
        }
        let helper = &HELPERS[h as usize];
        let ptr = m.target_config().pointer_type();
        let conv = |t: Ty| match t {
            Ty::P => AbiParam::new(ptr),
            Ty::I8 => c_param(I8),
            Ty::I32 => AbiParam::new(I32),
            Ty::I64 => AbiParam::new(I64),
            Ty::F64 => AbiParam::new(F64),
        };
        let mut sig = Signature::new(m.target_config().default_call_conv);
        sig.params.extend(helper.params.iter().map(|&t| conv(t)));
        sig.returns.extend(helper.ret.map(conv));
        let id = m.declare_function(helper.name, Linkage::Import, &sig)?;
        self.ids.insert(h, id);
        Ok(id)
    }
}
