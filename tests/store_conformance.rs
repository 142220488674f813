//! The `MailStore` conformance suite (`conformance/`), run against each
//! backend: a new backend adds a constructor and one macro call.

mod conformance;

use std::sync::Arc;

use conformance::Backend;
use letterbox::config::Synchronous;
use letterbox::store::MailStore;
use letterbox::store::sqlite::SqliteStore;

/// SQLite in a real file in a temp dir. `Normal` skips the fsyncs, which
/// the checks cannot observe; nothing else changes.
fn open_sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.db");
    let open = move || Arc::new(SqliteStore::open(&path, Synchronous::Normal).unwrap());
    let store = open();
    let indexed = Arc::clone(&store);
    Backend::new(
        store,
        move || open() as Arc<dyn MailStore>,
        move || indexed.index_search_text().unwrap(),
        dir,
    )
}

conformance::conformance_suite!(sqlite, open_sqlite);

/// The suite lets a backend not know its memory; SQLite does (its caches
/// and statements, for `letterbox_store_memory_bytes`).
#[test]
fn sqlite_knows_its_memory() {
    let backend = open_sqlite();
    let used = backend.store().memory_used();
    assert!(used.is_some_and(|bytes| bytes > 0), "{used:?}");
}
