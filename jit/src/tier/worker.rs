//! The background compiler: one thread per instance, started at the first tier-up, compiling
//! hot code in request order while the interpreter keeps running.

use super::Shared;
use crate::interp::HotCode;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub(crate) struct Worker {
    /// Dropping it ends the thread once the queue is empty (it is never joined: an instance
    /// dropped mid-compile does not wait, the thread owns what it needs).
    queue: Sender<HotCode>,
    progress: Arc<(Mutex<Progress>, Condvar)>,
}

#[derive(Default)]
struct Progress {
    pending: usize,
    busy: Duration,
}

impl Worker {
    /// Starts the thread; `None` if the system will not start one.
    pub fn spawn(shared: Arc<Shared>) -> Option<Worker> {
        let (queue, jobs) = channel::<HotCode>();
        let progress = Arc::new((Mutex::new(Progress::default()), Condvar::new()));
        let theirs = progress.clone();
        std::thread::Builder::new()
            .name("vsp-tier-compile".into())
            .spawn(move || {
                for hot in jobs {
                    let took = shared.compile(hot);
                    let (lock, cv) = &*theirs;
                    let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
                    p.pending -= 1;
                    p.busy += took;
                    cv.notify_all();
                }
            })
            .ok()?;
        Some(Worker { queue, progress })
    }

    /// Queues `hot`; compiles it on this thread if the worker is gone.
    pub fn send(&self, hot: HotCode, shared: &Shared) {
        self.progress
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending += 1;
        if self.queue.send(hot).is_err() {
            self.progress
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pending -= 1;
            shared.compile(hot);
        }
    }

    /// Blocks until every queued job is done.
    pub fn wait_idle(&self) {
        let (lock, cv) = &*self.progress;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        while p.pending > 0 {
            p = cv.wait(p).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Time spent compiling so far.
    pub fn busy(&self) -> Duration {
        self.progress
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .busy
    }
}
