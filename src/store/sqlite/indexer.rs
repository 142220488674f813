//! Search text goes into the FTS index in batches, after the APPEND that
//! brought it has been acknowledged.
//!
//! Filling the trigram index is most of an APPEND's cost (perf, 10 clients
//! appending: 47% of the server's CPU in FTS5, two thirds of it merging the
//! small segments that per-commit inserts leave). So a message's text waits
//! in `search_pending`, committed with the message, until enough has
//! gathered for one large insert, or until it has waited a second. SEARCH
//! reads the waiting text directly (`search.rs`), so nothing is missed in
//! between; a crash leaves it waiting, to be indexed after the restart.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;

use super::writer::{self, BatchWriter, BeforeCommit, Durability};
use crate::store::StoreResult;

/// Messages whose text waits before a commit indexes them all.
const INDEX_BATCH: i64 = 256;
/// How long text waits at most (give or take a batch) on a quiet server.
const INDEX_DELAY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct SearchIndexer {
    /// Index whatever waits at the next commit, however little.
    requested: AtomicBool,
}

impl SearchIndexer {
    /// The batch writer's hook: indexes the waiting text when there is
    /// enough of it, or when asked to.
    pub fn before_commit(self: &Arc<Self>) -> BeforeCommit {
        let indexer = Arc::clone(self);
        Box::new(move |conn| indexer.index_if_due(conn))
    }

    fn index_if_due(&self, conn: &Connection) -> rusqlite::Result<()> {
        if !self.requested.swap(false, Ordering::SeqCst) {
            let waiting: i64 = conn
                .prepare_cached("SELECT count(*) FROM search_pending")?
                .query_row([], |r| r.get(0))?;
            if waiting < INDEX_BATCH {
                return Ok(());
            }
        }
        writer::run(
            conn,
            "INSERT INTO search_text (rowid, headers, body)
             SELECT id, headers, body FROM search_pending",
        )?;
        writer::run(conn, "DELETE FROM search_pending")
    }

    /// Indexes all waiting text now, in a commit of its own.
    pub fn index_now(&self, writer: &BatchWriter) -> StoreResult<()> {
        self.requested.store(true, Ordering::SeqCst);
        // Moving text between two tables of the same database loses
        // nothing if a power cut undoes it: no fsync needed.
        writer.write(Durability::Relaxed, |_| Ok(()))
    }
}

/// Starts the thread that indexes text which has waited [`INDEX_DELAY`];
/// it ends with the writer.
pub fn start(
    conn: Connection,
    indexer: Arc<SearchIndexer>,
    writer: Weak<BatchWriter>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("letterbox-indexer".into())
        .spawn(move || {
            loop {
                std::thread::sleep(INDEX_DELAY);
                let Some(writer) = writer.upgrade() else {
                    return;
                };
                let waiting = conn
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_pending)")
                    .and_then(|mut s| s.query_row([], |r| r.get::<_, bool>(0)));
                let outcome = match waiting {
                    Ok(true) => indexer.index_now(&writer),
                    Ok(false) => Ok(()),
                    Err(e) => Err(e.into()),
                };
                if let Err(e) = outcome {
                    tracing::warn!("indexing search text: {e}");
                }
            }
        })
        .map(|_| ())
}
