//! Store calls from async code: on tokio's blocking pool, with reads and
//! writes admitted separately.
//!
//! [`MailStore`] methods block, so each call needs a thread while it runs.
//! Writes spend most of that time waiting, for the single SQLite writer and
//! for the COMMIT's fsync; given a thread each, a 100-client soak ran the
//! server at 150-230 threads. Capping tokio's blocking pool instead made
//! reads queue behind those waiting writes (FETCH p50 3 ms -> 160 ms). Here
//! a call first takes a slot of its kind, waiting as a task (no thread),
//! and only then gets a blocking thread: writes wait for writes, reads for
//! reads, and never more than `READ_SLOTS + WRITE_SLOTS` calls run at once
//! (the threads tokio keeps for them are capped by [`BLOCKING_THREADS`]).

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{MailStore, StoreError};

/// Reads running at once. The SQLite store has 4 reader connections; the
/// rest of these wait for one, and calls that read first and sometimes
/// write (SELECT and catch-up claiming \Recent) may wait for the writer.
pub const READ_SLOTS: usize = 32;

/// Writes running at once. They commit in shared batches, so this also
/// bounds how many writes one fsync covers; measured APPEND throughput
/// peaks well below it (10 appending clients).
pub const WRITE_SLOTS: usize = 16;

/// Threads for tokio's blocking pool: enough for every slot, so a store
/// call never waits for a thread, plus a margin. Without a cap the pool
/// keeps more: a slot is freed as its call returns, a moment before its
/// thread is idle, so the next call may start a new one, and under steady
/// load no thread idles the 10 s after which tokio ends it (soak: 75
/// threads creeping to 97).
pub const BLOCKING_THREADS: usize = READ_SLOTS + WRITE_SLOTS + 16;

/// Runs closures over one store off the async runtime.
pub struct StoreCalls {
    store: Arc<dyn MailStore>,
    reads: Arc<Semaphore>,
    writes: Arc<Semaphore>,
}

/// Which slots a call takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Calls that only read, or write only now and then (claiming \Recent).
    Read,
    /// Calls that change the store.
    Write,
}

impl StoreCalls {
    pub fn new(store: Arc<dyn MailStore>) -> StoreCalls {
        StoreCalls::with_slots(store, READ_SLOTS, WRITE_SLOTS)
    }

    fn with_slots(store: Arc<dyn MailStore>, reads: usize, writes: usize) -> StoreCalls {
        StoreCalls {
            store,
            reads: Arc::new(Semaphore::new(reads)),
            writes: Arc::new(Semaphore::new(writes)),
        }
    }

    /// The store itself, for the few methods that never block (watching a
    /// mailbox, the memory figure, the default quota) and so need neither
    /// slot nor thread.
    pub fn direct(&self) -> &dyn MailStore {
        self.store.as_ref()
    }

    /// Runs `f` once a slot for `access` is free. The future borrows
    /// nothing, so a handler can hold it across `.await`. Dropped before
    /// its slot comes, the call never runs; dropped later, it still
    /// finishes (a write is never cut in half). A call that panics fails
    /// with [`StoreError::Internal`], converted to the call's error type.
    pub fn run<T, E, F>(
        &self,
        access: Access,
        f: F,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&dyn MailStore) -> Result<T, E> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let slots = Arc::clone(match access {
            Access::Read => &self.reads,
            Access::Write => &self.writes,
        });
        async move {
            let internal = |why: String| E::from(StoreError::Internal(why));
            let slot = slots
                .acquire_owned()
                .await
                .map_err(|_| internal("store calls closed".into()))?;
            tokio::task::spawn_blocking(move || {
                let _slot = slot;
                f(store.as_ref())
            })
            .await
            .unwrap_or_else(|e| Err(internal(format!("store task failed: {e}"))))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::StoreResult;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::Synchronous;
    use crate::store::sqlite::SqliteStore;

    fn calls(reads: usize, writes: usize) -> (tempfile::TempDir, StoreCalls) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("mail.db"), Synchronous::Normal).unwrap();
        (dir, StoreCalls::with_slots(Arc::new(store), reads, writes))
    }

    /// Starts `count` calls of `access` that each hold their thread for a
    /// while; returns how many ran at once at most.
    async fn most_at_once(calls: &StoreCalls, access: Access, count: usize) -> usize {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..count)
            .map(|_| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(calls.run(access, move |_| -> StoreResult<()> {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        most.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_kind_runs_at_most_its_slots_at_once() {
        let (_dir, calls) = calls(3, 2);
        assert_eq!(most_at_once(&calls, Access::Read, 12).await, 3);
        assert_eq!(most_at_once(&calls, Access::Write, 12).await, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_do_not_wait_for_busy_writes() {
        let (_dir, calls) = calls(2, 1);
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let write = tokio::spawn(calls.run(Access::Write, move |_| -> StoreResult<()> {
            let _ = started.send(());
            blocked.recv_timeout(Duration::from_secs(10)).ok();
            Ok(())
        }));
        // Spawned tasks start in any order: only once the first write
        // holds the one write slot is the second bound to wait.
        running.await.unwrap();
        // The only write slot is taken; a second write must wait ...
        let queued = tokio::spawn(calls.run(Access::Write, |_| StoreResult::Ok("second write")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!queued.is_finished());
        // ... while a read runs now.
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            calls.run(Access::Read, |store| store.list_users()),
        )
        .await;
        assert_eq!(read.expect("the read waited").unwrap().len(), 0);
        release.send(()).unwrap();
        write.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap().unwrap(), "second write");
    }

    #[tokio::test]
    async fn a_panicking_call_is_an_error_and_frees_its_slot() {
        let (_dir, calls) = calls(1, 1);
        let failed = calls
            .run(Access::Write, |_| -> StoreResult<()> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(StoreError::Internal(_))), "{failed:?}");
        assert_eq!(
            calls
                .run(Access::Write, |_| StoreResult::Ok(7))
                .await
                .unwrap(),
            7
        );
    }
}
