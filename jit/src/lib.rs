//! In-process engines: the reference interpreter, and (later) the Cranelift JIT and tiering.
