//! The `MailStore` conformance suite (`conformance/`), run against each
//! backend: a new backend adds a constructor and one macro call.

mod common;
mod conformance;

use std::sync::Arc;

use conformance::Backend;
use letterbox::config::Synchronous;
use letterbox::store::MailStore;
use letterbox::store::postgres::{PgOptions, PgStore};
use letterbox::store::sqlite::SqliteStore;

/// SQLite in a real file in a temp dir. `Normal` skips the fsyncs, which
/// the checks cannot observe; nothing else changes.
fn open_sqlite() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.db");
    let open = move || Arc::new(SqliteStore::open(&path, Synchronous::Normal).unwrap());
    let store = open();
    let indexed = Arc::clone(&store);
    Some(Backend::new(
        store,
        move || open() as Arc<dyn MailStore>,
        move || indexed.index_search_text().unwrap(),
        dir,
    ))
}

conformance::conformance_suite!(sqlite, open_sqlite);

/// PostgreSQL: a database of its own on the test cluster
/// (`LETTERBOX_TEST_POSTGRES`); skipped without one, never in CI. Its
/// search index is maintained within each transaction: nothing to settle.
fn open_postgres() -> Option<Backend> {
    let database = common::test_database::TestDatabase::create()?;
    let url = database.url.clone();
    let open = move || Arc::new(PgStore::open(&url, PgOptions::default()).unwrap());
    Some(Backend::new(
        open(),
        move || open() as Arc<dyn MailStore>,
        || {},
        database,
    ))
}

conformance::conformance_suite!(postgres, open_postgres);

/// The suite lets a backend not know its memory; SQLite does (its caches
/// and statements, for `letterbox_store_memory_bytes`).
#[test]
fn sqlite_knows_its_memory() {
    let backend = open_sqlite().unwrap();
    let used = backend.store().memory_used();
    assert!(used.is_some_and(|bytes| bytes > 0), "{used:?}");
}
