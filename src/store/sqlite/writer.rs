//! Group commit: concurrent writes share one transaction and one fsync.
//!
//! SQLite has one writer, and with `synchronous = FULL` every COMMIT waits
//! for an fsync of the WAL. When several sessions write at once (APPENDs,
//! deliveries, flag changes), each write runs inside a SAVEPOINT of a
//! transaction left open while more writers are queued; the last writer of
//! the run commits for all of them. Nobody returns before the COMMIT that
//! holds its write has succeeded, so an acknowledged APPEND is as durable
//! as before; a write that fails rolls back only its own savepoint. Work
//! that is cheaper done once per batch (filling the FTS index) runs just
//! before the COMMIT, outside the savepoints (FTS5 writes a segment at
//! every savepoint's end).
//!
//! Not every write needs the fsync: a flag change or an expunge lost to a
//! power cut (never to a crash of the server, and never half-applied) costs
//! no mail, as with Dovecot's default `mail_fsync = optimized`. Such
//! *relaxed* writes commit with `synchronous = NORMAL` unless they share a
//! batch with a durable one (new messages, accounts, mailboxes). SQLite
//! takes the setting at BEGIN, so a durable write arriving at a relaxed
//! batch commits that batch first and starts its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// Writes in one transaction at most, so a steady stream of writers still
/// commits regularly.
const MAX_BATCH: usize = 64;
/// A write or a batch's commit that takes longer is logged: every other
/// writer waits for it.
const SLOW: Duration = Duration::from_secs(1);
/// How long a writer waits for someone else's COMMIT before checking that
/// its batch is still in hand (a writer that panicked commits nothing).
const COMMIT_CHECK: Duration = Duration::from_millis(20);

pub struct BatchWriter {
    state: Mutex<WriterState>,
    /// Whether relaxed batches may skip the fsync (the connection is
    /// configured `synchronous = FULL`); with NORMAL nothing changes.
    relax: bool,
    /// Runs once per batch, just before COMMIT.
    before_commit: BeforeCommit,
    /// Writers waiting for `state`: while there are any, the batch stays
    /// open for them.
    queued: AtomicUsize,
    committed: Mutex<Committed>,
    commit_done: Condvar,
}

struct WriterState {
    conn: Connection,
    /// Writes in the open transaction (0: none open).
    pending: usize,
    /// The batch being built; a batch's number is final once committed.
    batch: u64,
    /// Whether the open batch commits with an fsync.
    durable: bool,
    /// The `synchronous` setting last given to the connection.
    synchronous_full: bool,
}

/// Work done once per batch inside its transaction, just before COMMIT.
pub type BeforeCommit = Box<dyn Fn(&Connection) -> rusqlite::Result<()> + Send + Sync>;

/// Whether a write must survive a power cut once acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Commits with an fsync (under `synchronous = FULL`).
    Fsync,
    /// May ride on the next fsync; survives a crash, not a power cut.
    Relaxed,
}

#[derive(Default)]
struct Committed {
    /// Every batch below this number has ended (committed or failed).
    below: u64,
    /// The last batch whose COMMIT failed, with why.
    failed: Option<(u64, String)>,
}

impl BatchWriter {
    /// `synchronous_full`: how the connection was opened.
    pub fn new(
        conn: Connection,
        synchronous_full: bool,
        before_commit: BeforeCommit,
    ) -> BatchWriter {
        BatchWriter {
            state: Mutex::new(WriterState {
                conn,
                pending: 0,
                batch: 0,
                durable: synchronous_full,
                synchronous_full,
            }),
            relax: synchronous_full,
            before_commit,
            queued: AtomicUsize::new(0),
            committed: Mutex::new(Committed::default()),
            commit_done: Condvar::new(),
        }
    }

    /// Runs `f` as one atomic write and returns once it is committed
    /// (and fsynced, for [`Durability::Fsync`]).
    pub fn write<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let durable = durability == Durability::Fsync || !self.relax;
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if state.pending > 0 && durable && !state.durable {
            // A relaxed batch cannot become durable: end it first.
            self.commit(&mut state);
        }
        if state.pending == 0 {
            if self.relax && state.synchronous_full != durable {
                let setting = if durable { "FULL" } else { "NORMAL" };
                state.conn.pragma_update(None, "synchronous", setting)?;
                state.synchronous_full = durable;
            }
            state.durable = durable;
            run(&state.conn, "BEGIN IMMEDIATE")?;
        }
        run(&state.conn, "SAVEPOINT write")?;
        let start = Instant::now();
        let result = f(&state.conn);
        let took = start.elapsed();
        if took > SLOW {
            tracing::info!(ms = took.as_millis() as u64, "slow write");
        }
        let end = if result.is_ok() {
            run(&state.conn, "RELEASE write")
        } else {
            run(&state.conn, "ROLLBACK TO write").and_then(|()| run(&state.conn, "RELEASE write"))
        };
        if let Err(e) = end {
            // The transaction is in an unknown state: end the whole batch.
            let batch = state.batch;
            self.commit(&mut state);
            drop(state);
            self.wait_for(batch)?;
            return Err(e.into());
        }
        state.pending += 1;
        let batch = state.batch;
        if self.queued.load(Ordering::SeqCst) == 0 || state.pending >= MAX_BATCH {
            self.commit(&mut state);
        }
        drop(state);
        // A failed write changed nothing: no need to wait for the COMMIT.
        let value = result?;
        self.wait_for(batch)?;
        Ok(value)
    }

    /// Commits the open batch and wakes its writers.
    fn commit(&self, state: &mut WriterState) {
        let start = Instant::now();
        let outcome = (self.before_commit)(&state.conn).and_then(|()| {
            let hook = start.elapsed();
            let committed = run(&state.conn, "COMMIT");
            let took = start.elapsed();
            if took > SLOW {
                tracing::info!(
                    writes = state.pending,
                    before_commit_ms = hook.as_millis() as u64,
                    commit_ms = (took - hook).as_millis() as u64,
                    "slow commit"
                );
            }
            committed
        });
        if outcome.is_err() {
            let _ = run(&state.conn, "ROLLBACK");
        }
        let batch = state.batch;
        state.pending = 0;
        state.batch += 1;
        let mut committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        committed.below = batch + 1;
        if let Err(e) = outcome {
            committed.failed = Some((batch, e.to_string()));
        }
        self.commit_done.notify_all();
    }

    /// Waits until `batch` has ended; its COMMIT's outcome.
    fn wait_for(&self, batch: u64) -> StoreResult<()> {
        let mut committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        while committed.below <= batch {
            let (guard, timeout) = self
                .commit_done
                .wait_timeout(committed, COMMIT_CHECK)
                .unwrap_or_else(|p| p.into_inner());
            committed = guard;
            if timeout.timed_out() && committed.below <= batch {
                // Nobody is committing (the writer expected to went away):
                // commit the batch ourselves if it is still the open one.
                drop(committed);
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                if state.batch == batch
                    && state.pending > 0
                    && self.queued.load(Ordering::SeqCst) == 0
                {
                    self.commit(&mut state);
                }
                drop(state);
                committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
            }
        }
        match &committed.failed {
            Some((failed, why)) if *failed == batch => {
                Err(StoreError::Internal(format!("commit failed: {why}")))
            }
            _ => Ok(()),
        }
    }
}

/// Runs one statement without arguments, prepared once per connection
/// (`execute_batch` would parse it again every time: 8% of the CPU of an
/// APPEND load went to preparing statements).
pub fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn writer(dir: &std::path::Path) -> Arc<BatchWriter> {
        let conn = Connection::open(dir.join("w.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        Arc::new(BatchWriter::new(conn, true, Box::new(|_| Ok(()))))
    }

    fn count(dir: &std::path::Path) -> i64 {
        let conn = Connection::open(dir.join("w.db")).unwrap();
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn concurrent_writes_are_all_committed_before_they_return() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (w, path) = (Arc::clone(&w), dir.path().to_owned());
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let n = t * 1000 + i;
                        w.write(Durability::Fsync, |c| {
                            Ok(c.execute("INSERT INTO t VALUES (?1)", [n])?)
                        })
                        .unwrap();
                        // Visible to another connection once acknowledged.
                        let other = Connection::open(path.join("w.db")).unwrap();
                        let found: i64 = other
                            .query_row("SELECT count(*) FROM t WHERE n = ?1", [n], |r| r.get(0))
                            .unwrap();
                        assert_eq!(found, 1, "write {n} acknowledged but not committed");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count(dir.path()), 400);
    }

    #[test]
    fn a_failed_write_rolls_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        w.write(Durability::Fsync, |c| {
            Ok(c.execute("INSERT INTO t VALUES (1)", [])?)
        })
        .unwrap();
        let failed = w.write(Durability::Fsync, |c| {
            c.execute("INSERT INTO t VALUES (2)", [])?;
            c.execute("INSERT INTO t VALUES (1)", [])?; // duplicate key
            Ok(())
        });
        assert!(failed.is_err());
        w.write(Durability::Fsync, |c| {
            Ok(c.execute("INSERT INTO t VALUES (3)", [])?)
        })
        .unwrap();
        assert_eq!(count(dir.path()), 2, "1 and 3, not the half-done 2");
    }

    #[test]
    fn before_commit_runs_once_per_batch_outside_the_savepoints() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER PRIMARY KEY);
             CREATE TABLE staged (n INTEGER); CREATE TABLE batches (rows INTEGER)",
        )
        .unwrap();
        let w = Arc::new(BatchWriter::new(
            conn,
            true,
            Box::new(|conn| {
                conn.execute_batch(
                    "INSERT INTO batches SELECT count(*) FROM staged;
                     INSERT INTO t SELECT n FROM staged; DELETE FROM staged;",
                )
            }),
        ));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || {
                    for i in 0..25 {
                        w.write(Durability::Fsync, |c| {
                            Ok(c.execute("INSERT INTO staged VALUES (?1)", [t * 100 + i])?)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            count(dir.path()),
            100,
            "every staged row moved at its commit"
        );
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        let (batches, staged): (i64, i64) = other
            .query_row(
                "SELECT (SELECT sum(rows) FROM batches), (SELECT count(*) FROM staged)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((batches, staged), (100, 0));
    }

    #[test]
    fn relaxed_and_durable_writes_all_commit() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path());
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || {
                    let durability = if t % 2 == 0 {
                        Durability::Fsync
                    } else {
                        Durability::Relaxed
                    };
                    for i in 0..30 {
                        w.write(durability, |c| {
                            Ok(c.execute("INSERT INTO t VALUES (?1)", [t * 100 + i])?)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count(dir.path()), 180);
    }
}
