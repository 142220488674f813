//! `letterbox store copy`: everything in one store copied into another,
//! empty one, of either backend, with the ids, UIDs, UIDVALIDITYs and
//! MODSEQs it had, so that clients carry on without a resync.
//!
//! Both schemas hold the same rows (PostgreSQL's v1 is SQLite's schema at
//! version 14 translated), so the copy goes table by table in the order
//! the foreign keys need, in batches, through [`Side`]: a plain
//! connection to each database, beside the stores' own code.

use std::fmt;

use rusqlite::OptionalExtension;

use super::postgres::{PgOptions, PgStore};
use super::sqlite::SqliteStore;
use super::{StoreError, StoreResult, Synchronous};

/// How a column is typed: PostgreSQL wants the exact integer width.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    I16,
    I32,
    I64,
    Bool,
    Text,
    Bytes,
}

/// One value, as either backend reads and writes it.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

struct Table {
    name: &'static str,
    /// The first `key` columns are a unique key, which orders the batches.
    columns: &'static [(&'static str, Kind)],
    key: usize,
}

use Kind::*;

/// In the order foreign keys need. `bodies` and `search_text` are laid
/// out differently on SQLite (see [`Side`]); the rest alike.
const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("id", I64),
            ("name", Text),
            ("password_hash", Text),
            ("created_at", I64),
            ("quota_bytes", I64),
            ("quota_messages", I64),
            ("kind", Text),
            ("private_seen", Bool),
        ],
        key: 1,
    },
    Table {
        name: "mailboxes",
        columns: &[
            ("id", I64),
            ("user_id", I64),
            ("name", Text),
            ("uidvalidity", I64),
            ("uidnext", I64),
            ("highest_modseq", I64),
            ("selectable", Bool),
            ("special_use", Text),
        ],
        key: 1,
    },
    Table {
        name: "app_passwords",
        columns: &[
            ("id", I64),
            ("user_id", I64),
            ("label", Text),
            ("password_hash", Text),
            ("created_at", I64),
            ("last_used", I64),
        ],
        key: 1,
    },
    Table {
        name: "imports",
        columns: &[("user_id", I64), ("mailbox", Text), ("digest", Text)],
        key: 3,
    },
    Table {
        name: "subscriptions",
        columns: &[("user_id", I64), ("name", Text)],
        key: 2,
    },
    Table {
        name: "bodies",
        columns: &[("id", I64), ("raw", Bytes), ("meta", Bytes)],
        key: 1,
    },
    Table {
        name: "search_text",
        columns: &[("id", I64), ("headers", Text), ("body", Text)],
        key: 1,
    },
    Table {
        name: "sort_fields",
        columns: &[
            ("id", I64),
            ("base_subject", Text),
            ("subject_is_reply", Bool),
            ("sent_at", I64),
            ("from_mailbox", Text),
            ("to_mailbox", Text),
            ("cc_mailbox", Text),
            ("display_from", Text),
            ("display_to", Text),
            ("message_id", Text),
            ("refs", Text),
        ],
        key: 1,
    },
    Table {
        name: "messages",
        columns: &[
            ("id", I64),
            ("mailbox_id", I64),
            ("uid", I64),
            ("modseq", I64),
            ("internal_date", I64),
            ("internal_tz", I32),
            ("added_at", I64),
            ("size", I64),
            ("flags", I16),
            ("keywords", Text),
            ("recent", Bool),
            ("body_id", I64),
            ("sent_date", I32),
        ],
        key: 1,
    },
    Table {
        name: "expunged",
        columns: &[("mailbox_id", I64), ("uid", I64), ("modseq", I64)],
        key: 2,
    },
    Table {
        name: "acl",
        columns: &[("mailbox_id", I64), ("identifier", Text), ("rights", Text)],
        key: 2,
    },
    Table {
        name: "seen_by",
        columns: &[("mailbox_id", I64), ("uid", I64), ("user_id", I64)],
        key: 3,
    },
    Table {
        name: "sieve_scripts",
        columns: &[
            ("user_id", I64),
            ("name", Text),
            ("script", Text),
            ("active", Bool),
        ],
        key: 2,
    },
    Table {
        name: "vacation_replies",
        columns: &[
            ("user_id", I64),
            ("sender", Text),
            ("handle", Text),
            ("until", I64),
        ],
        key: 3,
    },
];

/// Rows per transaction.
const BATCH: usize = 500;

/// A store named on the command line: a PostgreSQL URL or an SQLite file.
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, options: PgOptions },
}

impl Location {
    pub fn parse(text: &str) -> Location {
        match text.starts_with("postgres://") || text.starts_with("postgresql://") {
            true => Location::Postgres {
                url: text.to_owned(),
                options: PgOptions::default(),
            },
            false => Location::Sqlite(text.into()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres { url, .. } => f.write_str(&super::postgres::without_password(url)),
        }
    }
}

/// What was copied, table by table.
pub struct Copied {
    pub tables: Vec<(&'static str, u64)>,
}

/// Copies everything in `from` into `to`, which must be empty (it is
/// created and brought to the current schema first); `progress` hears of
/// each table and of every batch of the large ones. Counts are compared
/// at the end.
pub fn copy(from: &Location, to: &Location, progress: &mut dyn FnMut(&str)) -> StoreResult<Copied> {
    prepare(from)?;
    prepare(to)?;
    let mut source = Side::connect(from)?;
    let mut target = Side::connect(to)?;
    if target.count("users")? > 0 {
        return Err(StoreError::Refused(format!(
            "{to} is not empty: store copy only fills an empty store"
        )));
    }
    source.begin_snapshot()?;
    let mut tables = Vec::new();
    for table in TABLES {
        let mut copied = 0u64;
        let mut after = None;
        loop {
            let rows = source.read(table, after.as_deref())?;
            if rows.is_empty() {
                break;
            }
            after = rows.last().map(|row| row[..table.key].to_vec());
            target.write(table, &rows)?;
            copied += rows.len() as u64;
            if copied % 10_000 < rows.len() as u64 {
                progress(&format!("{}: {copied} rows", table.name));
            }
        }
        progress(&format!("{}: {copied} rows copied", table.name));
        tables.push((table.name, copied));
    }
    // Usage as the source counted it (the target's triggers counted it
    // again while the messages went in), and the counters new rows start
    // from: UIDVALIDITYs and ids are never given out twice.
    for row in source.usage()? {
        target.set_usage(&row)?;
    }
    target.set_counters(&source.counters()?)?;
    source.end_snapshot()?;
    for (name, copied) in &tables {
        let there = target.count(name)?;
        if there != *copied {
            return Err(StoreError::Internal(format!(
                "{name}: {copied} rows copied but {there} in {to}"
            )));
        }
    }
    Ok(Copied { tables })
}

/// Creates the store (or brings it to the current schema) by opening it
/// the usual way, then lets it go.
fn prepare(location: &Location) -> StoreResult<()> {
    match location {
        Location::Sqlite(path) => drop(SqliteStore::open(path, Synchronous::Full)?),
        Location::Postgres { url, options } => drop(PgStore::open(url, options.clone())?),
    }
    Ok(())
}

/// Per user: used bytes, used messages, lowest bytes, lowest messages.
type Usage = (i64, [i64; 4]);

/// The counters kept beside the rows: the next UIDVALIDITY and the
/// highest user and mailbox ids ever given out.
#[derive(Debug, Default)]
struct Counters {
    next_uidvalidity: i64,
    last_user_id: i64,
    last_mailbox_id: i64,
}

/// One database, read or written a table at a time.
enum Side {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl Side {
    fn connect(location: &Location) -> StoreResult<Side> {
        Ok(match location {
            Location::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path)?;
                conn.busy_timeout(std::time::Duration::from_secs(30))?;
                Side::Sqlite(conn)
            }
            Location::Postgres { url, options } => {
                Side::Postgres(super::postgres::connect(url, options.clone())?)
            }
        })
    }

    /// Reads happen in one snapshot, so a store in use copies consistently.
    fn begin_snapshot(&mut self) -> StoreResult<()> {
        match self {
            Side::Sqlite(conn) => conn.execute_batch("BEGIN")?,
            Side::Postgres(client) => client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .map_err(super::postgres::error)?,
        }
        Ok(())
    }

    fn end_snapshot(&mut self) -> StoreResult<()> {
        match self {
            Side::Sqlite(conn) => conn.execute_batch("COMMIT")?,
            Side::Postgres(client) => client
                .batch_execute("COMMIT")
                .map_err(super::postgres::error)?,
        }
        Ok(())
    }

    fn count(&mut self, table: &str) -> StoreResult<u64> {
        let sql = match (table, &*self) {
            // SQLite keeps text not yet indexed apart (indexer.rs).
            ("search_text", Side::Sqlite(_)) => {
                "SELECT (SELECT count(*) FROM search_text) + (SELECT count(*) FROM search_pending)"
                    .to_owned()
            }
            _ => format!("SELECT count(*) FROM {table}"),
        };
        Ok(match self {
            Side::Sqlite(conn) => conn.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64,
            Side::Postgres(client) => client
                .query_one(&sql, &[])
                .map_err(super::postgres::error)?
                .get::<_, i64>(0) as u64,
        })
    }

    /// The next batch of `table`'s rows after the key `after`, by key.
    fn read(&mut self, table: &Table, after: Option<&[Cell]>) -> StoreResult<Vec<Vec<Cell>>> {
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let key = names[..table.key].join(", ");
        let mark = |i: usize| match self {
            Side::Sqlite(_) => format!("?{i}"),
            Side::Postgres(_) => format!("${i}"),
        };
        let marks: Vec<String> = (1..=table.key).map(mark).collect();
        // Row values compare key by key, on both backends.
        let condition = match after {
            Some(_) => format!("WHERE ({key}) > ({})", marks.join(", ")),
            None => String::new(),
        };
        let after = after.unwrap_or_default();
        match self {
            Side::Sqlite(conn) => {
                let source = match table.name {
                    "bodies" => {
                        "(SELECT b.id, b.raw, m.meta FROM bodies b JOIN body_meta m ON m.id = b.id)"
                    }
                    "search_text" => {
                        "(SELECT rowid AS id, headers, body FROM search_text
                          UNION ALL SELECT id, headers, body FROM search_pending)"
                    }
                    name => name,
                };
                let sql = format!(
                    "SELECT {} FROM {source} {condition} ORDER BY {key} LIMIT {BATCH}",
                    names.join(", ")
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let params: Vec<rusqlite::types::Value> = after.iter().map(sqlite_value).collect();
                let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                    table
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, (_, kind))| sqlite_cell(r, i, *kind))
                        .collect::<rusqlite::Result<Vec<Cell>>>()
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            }
            Side::Postgres(client) => {
                let sql = format!(
                    "SELECT {} FROM {} {condition} ORDER BY {key} LIMIT {BATCH}",
                    names.join(", "),
                    table.name
                );
                let values: Vec<Box<dyn postgres::types::ToSql + Sync>> = after
                    .iter()
                    .zip(table.columns)
                    .map(|(cell, (_, kind))| pg_value(cell, *kind, false))
                    .collect();
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref()).collect();
                let rows = client
                    .query(&sql, &params)
                    .map_err(super::postgres::error)?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        table
                            .columns
                            .iter()
                            .enumerate()
                            .map(|(i, (_, kind))| pg_cell(row, i, *kind))
                            .collect()
                    })
                    .collect())
            }
        }
    }

    fn write(&mut self, table: &Table, rows: &[Vec<Cell>]) -> StoreResult<()> {
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        match self {
            Side::Sqlite(conn) => {
                let tx = conn.transaction()?;
                {
                    // Bodies keep their meta in a table of their own, and
                    // search text waits for the indexer (as after APPEND).
                    let inserts: Vec<(String, Vec<usize>)> = match table.name {
                        "bodies" => vec![
                            (
                                "INSERT INTO bodies (id, raw) VALUES (?1, ?2)".into(),
                                vec![0, 1],
                            ),
                            (
                                "INSERT INTO body_meta (id, meta) VALUES (?1, ?2)".into(),
                                vec![0, 2],
                            ),
                        ],
                        "search_text" => vec![(
                            "INSERT INTO search_pending (id, headers, body) VALUES (?1, ?2, ?3)"
                                .into(),
                            vec![0, 1, 2],
                        )],
                        name => {
                            let marks: Vec<String> =
                                (1..=names.len()).map(|i| format!("?{i}")).collect();
                            let sql = format!(
                                "INSERT INTO {name} ({}) VALUES ({})",
                                names.join(", "),
                                marks.join(", ")
                            );
                            vec![(sql, (0..names.len()).collect())]
                        }
                    };
                    for (sql, picked) in inserts {
                        let mut stmt = tx.prepare_cached(&sql)?;
                        for row in rows {
                            let values: Vec<rusqlite::types::Value> =
                                picked.iter().map(|&i| sqlite_value(&row[i])).collect();
                            stmt.execute(rusqlite::params_from_iter(values))?;
                        }
                    }
                }
                tx.commit()?;
            }
            Side::Postgres(client) => {
                let mut tx = client.transaction().map_err(super::postgres::error)?;
                let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    table.name,
                    names.join(", "),
                    marks.join(", ")
                );
                let statement = tx.prepare(&sql).map_err(super::postgres::error)?;
                // SEARCH matches folded text on PostgreSQL (see its search.rs).
                let fold = table.name == "search_text";
                for row in rows {
                    let values: Vec<Box<dyn postgres::types::ToSql + Sync>> = row
                        .iter()
                        .zip(table.columns)
                        .map(|(cell, (_, kind))| pg_value(cell, *kind, fold))
                        .collect();
                    let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        values.iter().map(|v| v.as_ref()).collect();
                    tx.execute(&statement, &params)
                        .map_err(super::postgres::error)?;
                }
                tx.commit().map_err(super::postgres::error)?;
            }
        }
        Ok(())
    }

    fn usage(&mut self) -> StoreResult<Vec<Usage>> {
        let sql = "SELECT id, used_bytes, used_messages, lowest_bytes, lowest_messages FROM users";
        Ok(match self {
            Side::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql)?;
                let rows = stmt.query_map([], |r| {
                    Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?]))
                })?;
                rows.collect::<Result<_, _>>()?
            }
            Side::Postgres(client) => client
                .query(sql, &[])
                .map_err(super::postgres::error)?
                .iter()
                .map(|r| (r.get(0), [r.get(1), r.get(2), r.get(3), r.get(4)]))
                .collect(),
        })
    }

    fn set_usage(
        &mut self,
        (id, [bytes, messages, lowest_bytes, lowest_messages]): &Usage,
    ) -> StoreResult<()> {
        match self {
            Side::Sqlite(conn) => {
                conn.execute(
                    "UPDATE users SET used_bytes = ?2, used_messages = ?3, lowest_bytes = ?4,
                                      lowest_messages = ?5 WHERE id = ?1",
                    rusqlite::params![id, bytes, messages, lowest_bytes, lowest_messages],
                )?;
            }
            Side::Postgres(client) => {
                client
                    .execute(
                        "UPDATE users SET used_bytes = $2, used_messages = $3, lowest_bytes = $4,
                                          lowest_messages = $5 WHERE id = $1",
                        &[id, bytes, messages, lowest_bytes, lowest_messages],
                    )
                    .map_err(super::postgres::error)?;
            }
        }
        Ok(())
    }

    fn counters(&mut self) -> StoreResult<Counters> {
        Ok(match self {
            Side::Sqlite(conn) => {
                let meta = |key: &str| -> StoreResult<i64> {
                    Ok(conn
                        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                        .optional()?
                        .unwrap_or(0))
                };
                Counters {
                    next_uidvalidity: meta("next_uidvalidity")?,
                    last_user_id: meta("last_user_id")?,
                    last_mailbox_id: meta("last_mailbox_id")?,
                }
            }
            Side::Postgres(client) => {
                let row = client
                    .query_one(
                        "SELECT coalesce((SELECT value FROM meta WHERE key = 'next_uidvalidity'), 0),
                                (SELECT last_value FROM users_id_seq),
                                (SELECT last_value FROM mailboxes_id_seq)",
                        &[],
                    )
                    .map_err(super::postgres::error)?;
                Counters {
                    next_uidvalidity: row.get(0),
                    last_user_id: row.get(1),
                    last_mailbox_id: row.get(2),
                }
            }
        })
    }

    fn set_counters(&mut self, counters: &Counters) -> StoreResult<()> {
        match self {
            Side::Sqlite(conn) => {
                let set = "INSERT INTO meta (key, value) VALUES (?1, ?2)
                           ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)";
                conn.execute(
                    set,
                    rusqlite::params!["next_uidvalidity", counters.next_uidvalidity],
                )?;
                conn.execute(
                    set,
                    rusqlite::params!["last_user_id", counters.last_user_id],
                )?;
                conn.execute(
                    set,
                    rusqlite::params!["last_mailbox_id", counters.last_mailbox_id],
                )?;
            }
            Side::Postgres(client) => {
                client
                    .execute(
                        "INSERT INTO meta (key, value) VALUES ('next_uidvalidity', $1)
                         ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value, excluded.value)",
                        &[&counters.next_uidvalidity],
                    )
                    .map_err(super::postgres::error)?;
                // Rows went in with their ids: each identity continues
                // above the highest one used, here or in the source.
                for (table, floor) in [
                    ("users", counters.last_user_id),
                    ("mailboxes", counters.last_mailbox_id),
                    ("app_passwords", 0),
                    ("bodies", 0),
                    ("messages", 0),
                ] {
                    client
                        .execute(
                            &format!(
                                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                               greatest($1, (SELECT coalesce(max(id), 0) FROM {table}), 1))"
                            ),
                            &[&floor],
                        )
                        .map_err(super::postgres::error)?;
                }
            }
        }
        Ok(())
    }
}

fn sqlite_cell(row: &rusqlite::Row, i: usize, kind: Kind) -> rusqlite::Result<Cell> {
    use rusqlite::types::ValueRef;
    Ok(match (row.get_ref(i)?, kind) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(n), Bool) => Cell::Bool(n != 0),
        (ValueRef::Integer(n), _) => Cell::Int(n),
        (ValueRef::Text(t), _) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        (ValueRef::Blob(b), _) => Cell::Bytes(b.to_vec()),
        (ValueRef::Real(r), _) => Cell::Int(r as i64),
    })
}

fn sqlite_value(cell: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(n) => Value::Integer(*n),
        Cell::Bool(b) => Value::Integer(i64::from(*b)),
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Bytes(b) => Value::Blob(b.clone()),
    }
}

fn pg_cell(row: &postgres::Row, i: usize, kind: Kind) -> Cell {
    let some = |cell: Option<Cell>| cell.unwrap_or(Cell::Null);
    match kind {
        I16 => some(row.get::<_, Option<i16>>(i).map(|n| Cell::Int(n.into()))),
        I32 => some(row.get::<_, Option<i32>>(i).map(|n| Cell::Int(n.into()))),
        I64 => some(row.get::<_, Option<i64>>(i).map(Cell::Int)),
        Bool => some(row.get::<_, Option<bool>>(i).map(Cell::Bool)),
        Text => some(row.get::<_, Option<String>>(i).map(Cell::Text)),
        Bytes => some(row.get::<_, Option<Vec<u8>>>(i).map(Cell::Bytes)),
    }
}

fn pg_int(n: i64, kind: Kind) -> Box<dyn postgres::types::ToSql + Sync> {
    match kind {
        I16 => Box::new(n as i16),
        I32 => Box::new(n as i32),
        _ => Box::new(n),
    }
}

/// A value for a PostgreSQL column of `kind`; text there holds no NUL,
/// and search text is folded as APPEND folds it.
fn pg_value(cell: &Cell, kind: Kind, fold: bool) -> Box<dyn postgres::types::ToSql + Sync> {
    match (cell, kind) {
        (Cell::Null, I16) => Box::new(None::<i16>),
        (Cell::Null, I32) => Box::new(None::<i32>),
        (Cell::Null, I64) => Box::new(None::<i64>),
        (Cell::Null, Bool) => Box::new(None::<bool>),
        (Cell::Null, Text) => Box::new(None::<String>),
        (Cell::Null, Bytes) => Box::new(None::<Vec<u8>>),
        (Cell::Int(n), Bool) => Box::new(*n != 0),
        (Cell::Int(n), kind) => pg_int(*n, kind),
        (Cell::Bool(b), _) => Box::new(*b),
        (Cell::Text(t), _) if fold => Box::new(t.to_lowercase().replace('\0', "")),
        (Cell::Text(t), _) => Box::new(t.replace('\0', "")),
        (Cell::Bytes(b), _) => Box::new(b.clone()),
    }
}
