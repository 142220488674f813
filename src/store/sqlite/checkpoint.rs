//! WAL checkpoints: the bulk on a thread of their own, the rest in the
//! writer.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
//! past 1,000 pages: it copies every page the WAL holds into the database
//! file and fsyncs it, while the batch writer holds every other writer
//! waiting. It must stay there: the WAL starts over (instead of growing)
//! only when a write begins with every frame copied, and only the writer
//! can see to that while it appends; with it turned off and checkpoints
//! on this thread alone, a 100-client soak grew the WAL by 400 MB a
//! minute. So this thread copies what the WAL holds every
//! [`CHECKPOINT_EVERY`] in PASSIVE mode (never blocking readers or
//! writers: commits go on appending while it copies), and the writer's own
//! checkpoint is left the pages of the last second at most.

use std::sync::Weak;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the WAL is checked for pages to copy back.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// A checkpoint slower than this is logged.
const SLOW: Duration = Duration::from_secs(1);
/// The WAL file is cut back to this size when it starts over (otherwise it
/// keeps the size of its largest burst).
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Makes the writer truncate the WAL file to [`WAL_SIZE_LIMIT`] when the
/// WAL starts over.
pub fn limit_wal_file(writer: &Connection) -> rusqlite::Result<()> {
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

    /// Frames the WAL file has room for: it grows only when the WAL runs
    /// past its largest size so far, and stays put when the WAL starts over.
    fn wal_file_frames(path: &std::path::Path) -> u64 {
        const HEADER: u64 = 32;
        const FRAME: u64 = 24 + 4096;
        let wal = path.with_extension("db-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len().saturating_sub(HEADER) / FRAME)
    }

    #[test]
    fn the_wal_starts_over_under_continuous_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.db");
        let writer = open_connection(&path, Synchronous::Normal).unwrap();
        limit_wal_file(&writer).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let store = Arc::new(());
        let background = open_connection(&path, Synchronous::Normal).unwrap();
        let thread = start(background, Arc::downgrade(&store)).unwrap();
        // Writes without a pause for 3 checkpoint periods, a page or two
        // each: the background checkpoint never finds the WAL all copied.
        let until = Instant::now() + 3 * CHECKPOINT_EVERY;
        while Instant::now() < until {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                .unwrap();
        }
        drop(store);
        thread.join().unwrap();
        let rows: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        // Each write appends a frame at least: without restarts the WAL
        // would hold them all.
        assert!(rows > 3_000, "only {rows} writes");
        // The writer's checkpoint at 1,000 pages lets the WAL start over.
        let frames = wal_file_frames(&path);
        assert!(
            frames < 2_000,
            "the WAL grew to {frames} frames ({rows} writes)"
        );
    }

    #[test]
    fn the_thread_copies_the_wal_and_ends_with_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mail.db");
        let writer = open_connection(&path, Synchronous::Normal).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(100000));")
            .unwrap();
        let file_size = || std::fs::metadata(&path).unwrap().len();
        assert!(file_size() < 100_000, "copied at commit");
        let store = Arc::new(());
        let conn = open_connection(&path, Synchronous::Normal).unwrap();
        let thread = start(conn, Arc::downgrade(&store)).unwrap();
        let deadline = Instant::now() + 5 * CHECKPOINT_EVERY;
        while file_size() < 100_000 {
            assert!(Instant::now() < deadline, "nothing copied");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(store);
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "the thread outlived the store");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
