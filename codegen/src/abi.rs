//! Calling conventions and signatures: module functions use the tail convention with the VM
//! context first; the runtime helpers and C exports use the platform's C convention.

use bytecode::Type;
use cranelift_codegen::ir::{AbiParam, Signature, types};
use cranelift_codegen::isa::CallConv;
use cranelift_module::Module;

/// The Cranelift type of a bytecode type: sil is a byte.
pub fn clif_type(t: Type) -> types::Type {
    match t {
        Type::I64 => types::I64,
        Type::F64 => types::F64,
        Type::Sil => types::I8,
    }
}

/// A parameter or result of a C function; bytes are zero-extended as C expects of `uint8_t`.
pub(crate) fn c_param(t: types::Type) -> AbiParam {
    if t == types::I8 {
        AbiParam::new(t).uext()
    } else {
        AbiParam::new(t)
    }
}

/// The signature of a module function's body: `(vmctx, params...) -> ret`, tail convention
/// (so `tail` can be `return_call` between any two of them).
pub fn body_signature(m: &dyn Module, params: &[Type], ret: Option<Type>) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::new(m.target_config().pointer_type()));
    sig.params
        .extend(params.iter().map(|&t| AbiParam::new(clif_type(t))));
    sig.returns.extend(ret.map(|t| AbiParam::new(clif_type(t))));
    sig
}

/// The signature of an on-stack-replacement entry: `(vmctx, slots: *const u64) -> ret`, tail
/// convention (its body may `tail` like the function it enters).
pub fn osr_signature(m: &dyn Module, ret: Option<Type>) -> Signature {
    let ptr = m.target_config().pointer_type();
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.extend([AbiParam::new(ptr), AbiParam::new(ptr)]);
    sig.returns.extend(ret.map(|t| AbiParam::new(clif_type(t))));
    sig
}

/// The signature of an array trampoline: `extern "C" fn(vmctx, args: *const u64, ret: *mut u64)`,
/// one shape for every function, so a host can call any of them without generated Rust glue.
pub fn array_signature(m: &dyn Module) -> Signature {
    let ptr = m.target_config().pointer_type();
    let mut sig = Signature::new(m.target_config().default_call_conv);
    sig.params
        .extend([AbiParam::new(ptr), AbiParam::new(ptr), AbiParam::new(ptr)]);
    sig
}

/// The C signature of an exported function or an `extern func`: plain C types, no VM context.
pub fn c_signature(m: &dyn Module, params: &[Type], ret: Option<Type>) -> Signature {
    let mut sig = Signature::new(m.target_config().default_call_conv);
    sig.params
        .extend(params.iter().map(|&t| c_param(clif_type(t))));
    sig.returns.extend(ret.map(|t| c_param(clif_type(t))));
    sig
}

/// Interned function signatures, compared by `calli`: two functions have the same id iff they
/// have the same parameter and result types.
#[derive(Clone, Debug, Default)]
pub struct SigInterner {
    sigs: Vec<(Vec<Type>, Option<Type>)>,
}

impl SigInterner {
    pub fn intern(&mut self, params: &[Type], ret: Option<Type>) -> u32 {
        if let Some(i) = self.sigs.iter().position(|(p, r)| p == params && *r == ret) {
            return i as u32;
        }
        self.sigs.push((params.to_vec(), ret));
        self.sigs.len() as u32 - 1
    }
}
