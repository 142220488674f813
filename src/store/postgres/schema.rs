//! The PostgreSQL schema and its migrations by version, like SQLite's:
//! several nodes may start at once (an advisory lock orders them), and a
//! database on a newer schema than this binary knows is refused.

use postgres::Client;

use crate::store::{StoreError, StoreResult};

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[include_str!("v1.sql")];

/// The advisory lock key migrations hold (any constant of our own).
const MIGRATION_LOCK: i64 = 0x6c65_7474_6572;

/// The version this binary's schema is at.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to date; refuses one on a newer schema.
pub fn migrate(client: &mut Client) -> StoreResult<i64> {
    let mut tx = client.transaction().map_err(super::error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(super::error)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        .map_err(super::error)?;
    let version: i64 = match tx
        .query_opt("SELECT version FROM schema_version", &[])
        .map_err(super::error)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO schema_version VALUES (0)", &[])
                .map_err(super::error)?;
            0
        }
    };
    if version > latest() {
        return Err(StoreError::Refused(format!(
            "the database is at schema version {version}, newer than this letterbox knows ({}): upgrade letterbox",
            latest()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).map_err(super::error)?;
        tx.execute(
            "UPDATE schema_version SET version = $1",
            &[&(index as i64 + 1)],
        )
        .map_err(super::error)?;
    }
    tx.commit().map_err(super::error)?;
    Ok(latest())
}

/// The version the database is at; 0 before the first migration.
pub fn version(client: &mut Client) -> StoreResult<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .map_err(super::error)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .map_err(super::error)?;
    Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
}
