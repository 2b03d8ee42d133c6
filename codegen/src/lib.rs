//! Bytecode → Cranelift IR: one translator shared by the JIT and the AOT backend.
