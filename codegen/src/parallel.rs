//! Compiling a batch of translated functions on several threads at once.
//!
//! Translation needs the `Module` (it declares names), and defining code mutates it, so both
//! stay on the caller's thread; what lies between, Cranelift's `Context::compile` (mid-end,
//! lowering, register allocation, emission), needs only the ISA and is most of the work. The
//! JIT and the AOT backend translate a batch into a pool of contexts, call `compile_batch`,
//! then define each context in order, so the code and its layout do not depend on the number
//! of threads.

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::TargetIsa;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Functions a backend translates before compiling them as one batch: enough to keep every
/// thread busy, few enough that the contexts (IR and machine code each) stay small in memory.
pub const BATCH: usize = 256;

/// Functions a thread takes from the batch at a time: small enough to balance the threads
/// when a few functions are much larger than the rest, large enough that the lock is cold.
const CHUNK: usize = 4;

/// A function of the batch Cranelift failed to compile.
#[derive(Debug)]
pub struct BatchError {
    /// Its position in the batch.
    pub index: usize,
    pub message: String,
}

/// How many threads compile by default: one per available core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Compiles every context's function (`Context::compile`) using up to `threads` threads, the
/// caller's among them; returns the time each one took. With one thread, or a batch too small
/// to share, everything runs on the caller's thread.
pub fn compile_batch(
    isa: &dyn TargetIsa,
    ctxs: &mut [Context],
    threads: usize,
) -> Result<Vec<Duration>, BatchError> {
    let mut times = vec![Duration::ZERO; ctxs.len()];
    let threads = threads.clamp(1, ctxs.len().div_ceil(CHUNK).max(1));
    // Largest first, so that one big function (a long straight-line initializer, say) starts
    // at once instead of last, when the other threads would have nothing left to do.
    let mut work: Vec<(usize, &mut Context, &mut Duration)> = ctxs
        .iter_mut()
        .zip(times.iter_mut())
        .enumerate()
        .map(|(index, (ctx, time))| (index, ctx, time))
        .collect();
    work.sort_by_key(|(index, ctx, _)| (std::cmp::Reverse(ctx.func.dfg.num_insts()), *index));
    let queue = Mutex::new(work.chunks_mut(CHUNK));
    let worker = || -> Result<(), BatchError> {
        loop {
            // Hold the lock only to take the next chunk.
            let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some(chunk) = next else {
                return Ok(());
            };
            for (index, ctx, time) in chunk {
                let start = Instant::now();
                ctx.compile(isa, &mut ControlPlane::default())
                    .map_err(|e| BatchError {
                        index: *index,
                        message: format!("{:?}", e.inner),
                    })?;
                **time = start.elapsed();
            }
        }
    };
    let first_error = std::thread::scope(|s| {
        // A helper the system will not start (a thread limit, no memory) is one fewer: the
        // work queue is shared, so the others (the caller's thread at least) do its share.
        let helpers: Vec<_> = (1..threads)
            .map_while(|_| std::thread::Builder::new().spawn_scoped(s, worker).ok())
            .collect();
        let mut results = vec![worker()];
        results.extend(helpers.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        results
            .into_iter()
            .filter_map(Result::err)
            .min_by_key(|e| e.index)
    });
    drop(work);
    match first_error {
        Some(e) => Err(e),
        None => Ok(times),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, Function, InstBuilder, Signature, types};
    use cranelift_codegen::isa::CallConv;
    use cranelift_codegen::settings;
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `fn(x) -> x * k + k` as a context ready to compile.
    fn context(k: i64, isa: &dyn TargetIsa) -> Context {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(Default::default(), sig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let x = b.block_params(block)[0];
        let m = b.ins().imul_imm_s(x, k);
        let r = b.ins().iadd_imm_s(m, k);
        b.ins().return_(&[r]);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
        Context::for_function(func)
    }

    fn isa() -> cranelift_codegen::isa::OwnedTargetIsa {
        let flags = settings::Flags::new(settings::builder());
        cranelift_codegen::isa::lookup_by_name("x86_64-unknown-linux-gnu")
            .expect("x86-64 backend is built")
            .finish(flags)
            .expect("default flags are valid")
    }

    #[test]
    fn the_same_code_on_any_number_of_threads() {
        let isa = isa();
        let code = |threads: usize| -> Vec<Vec<u8>> {
            let mut ctxs: Vec<Context> = (0..37).map(|k| context(k, &*isa)).collect();
            let times = compile_batch(&*isa, &mut ctxs, threads).expect("compiles");
            assert_eq!(times.len(), 37);
            ctxs.iter()
                .map(|c| c.compiled_code().expect("compiled").code_buffer().to_vec())
                .collect()
        };
        let one = code(1);
        assert_eq!(one, code(2));
        assert_eq!(one, code(8));
        // Different constants, different code: every context was compiled, none twice.
        assert_ne!(one[3], one[4]);
    }

    #[test]
    fn an_empty_batch_is_fine() {
        let isa = isa();
        assert!(
            compile_batch(&*isa, &mut [], 4)
                .expect("nothing to fail")
                .is_empty()
        );
    }

    #[test]
    fn the_first_failure_in_batch_order_is_reported() {
        let isa = isa();
        let mut ctxs: Vec<Context> = (0..20).map(|k| context(k, &*isa)).collect();
        // A block without a terminator does not compile.
        for k in [13, 6] {
            let f = &mut ctxs[k].func;
            let b = f.dfg.make_block();
            f.layout.append_block(b);
        }
        let err = compile_batch(&*isa, &mut ctxs, 3).expect_err("two are broken");
        assert_eq!(err.index, 6, "{}", err.message);
    }
}
