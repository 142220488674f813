//! How the write-ahead log is kept in bounds.
//!
//! The WAL starts over (instead of growing) only when a write begins with
//! every frame already copied into the database file, and only the writer
//! can see to that while it keeps appending: SQLite's automatic checkpoint,
//! which runs in the COMMIT that takes the WAL past 1,000 pages, does it.
//! It must stay on. Checkpoints on a thread of their own instead were
//! tried: under the 100-client soak the WAL grew by 400 MB a minute.
//!
//! The file itself keeps the size of the largest WAL so far unless told
//! otherwise; after a burst it is cut back to [`WAL_SIZE_LIMIT`].

use rusqlite::Connection;

/// The WAL file is cut back to this size when it starts over.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Makes the writer truncate the WAL file to [`WAL_SIZE_LIMIT`] when the
/// WAL starts over.
pub fn limit_wal_file(writer: &Connection) -> rusqlite::Result<()> {
    writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::store::Synchronous;
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
        // Writes without a pause, a page or two each.
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(3000))", [])
                .unwrap();
        }
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
}
