//! WAL checkpoints on a thread of their own, off the write path.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
//! past 1,000 pages: it copies the WAL's pages into the database file and
//! fsyncs it, while the batch writer holds every other writer waiting. On
//! the soak database (2 GB, 100 clients) writes stalled for up to 11 s.
//! Here the writer connection does not checkpoint; this thread does, every
//! [`CHECKPOINT_EVERY`], in PASSIVE mode, which never blocks readers or
//! writers: commits go on appending to the WAL while it copies.

use std::sync::Weak;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the WAL is checked for pages to copy back.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// A checkpoint slower than this is logged.
const SLOW: Duration = Duration::from_secs(1);
/// The WAL file is cut back to this size when it starts over (otherwise it
/// keeps the size of its largest burst).
pub const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Configures `writer` not to checkpoint (this module does); the WAL file
/// is truncated to [`WAL_SIZE_LIMIT`] when it starts over.
pub fn leave_to_background(writer: &Connection) -> rusqlite::Result<()> {
    writer.pragma_update(None, "wal_autocheckpoint", 0)?;
    writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
}

/// Starts the checkpointing thread; it ends once `alive` has no strong
/// references left (the store is gone).
pub fn start<T: Send + Sync + 'static>(
    conn: Connection,
    alive: Weak<T>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("letterbox-checkpoint".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_EVERY);
                checkpoint(&conn);
            }
        })
}

/// Copies what the WAL holds, as far as no reader still needs it.
fn checkpoint(conn: &Connection) {
    let start = Instant::now();
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    });
    match outcome {
        Ok((frames, copied)) if start.elapsed() > SLOW => tracing::info!(
            frames,
            copied,
            ms = start.elapsed().as_millis() as u64,
            "slow WAL checkpoint"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("WAL checkpoint: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Synchronous;
    use crate::store::sqlite::open_connection;

    const ROWS: usize = 2_000;
    const ROW_BYTES: u64 = 4_000;

    #[test]
    fn commits_leave_the_copying_to_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.db");
        let writer = open_connection(&path, Synchronous::Full).unwrap();
        leave_to_background(&writer).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x BLOB); BEGIN;")
            .unwrap();
        // Twice the automatic checkpoint's 1,000 pages.
        for _ in 0..ROWS {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(?1))", [ROW_BYTES])
                .unwrap();
        }
        writer.execute_batch("COMMIT").unwrap();
        let written = ROWS as u64 * ROW_BYTES;
        let file_size = || std::fs::metadata(&path).unwrap().len();
        assert!(file_size() < written / 10, "the commit copied pages back");

        let background = open_connection(&path, Synchronous::Full).unwrap();
        checkpoint(&background);
        assert!(
            file_size() > written,
            "the checkpoint copied {} bytes",
            file_size()
        );
        let rows: u64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, ROWS as u64);
    }

    #[test]
    fn the_thread_ends_with_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("mail.db"), Synchronous::Normal).unwrap();
        let store = Arc::new(());
        let thread = start(conn, Arc::downgrade(&store)).unwrap();
        drop(store);
        let deadline = Instant::now() + 5 * CHECKPOINT_EVERY;
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "the thread outlived the store");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
