//! The PostgreSQL backend beyond the conformance suite: its schema
//! versions, and several nodes on one database. Against the cluster that
//! `LETTERBOX_TEST_POSTGRES` names; skipped without one (never in CI).

mod common;

use common::test_database::TestDatabase;
use letterbox::store::StoreError;
use letterbox::store::postgres::{PgOptions, PgStore};

#[test]
fn the_schema_migrates_once_and_a_newer_one_is_refused() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    drop(PgStore::open(&database.url, PgOptions::default()).unwrap());
    // A second node (or a restart) finds the schema current.
    drop(PgStore::open(&database.url, PgOptions::default()).unwrap());
    let mut client = postgres::Client::connect(&database.url, postgres::NoTls).unwrap();
    client
        .execute("UPDATE schema_version SET version = version + 1", &[])
        .unwrap();
    match PgStore::open(&database.url, PgOptions::default()) {
        Err(StoreError::Refused(message)) => assert!(message.contains("newer"), "{message}"),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}
