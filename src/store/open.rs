//! `[store]`: which backend, and opening it (`Config::open_store`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::postgres::{PgOptions, PgStore, without_password};
use super::sqlite::SqliteStore;
use super::{MailStore, QuotaLimits, Synchronous};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite` (one file under `data_dir`) or `postgres` (`url`).
    pub backend: StoreBackend,
    /// SQLite's durability.
    pub synchronous: Synchronous,
    /// PostgreSQL: `postgresql://user:password@host:5432/database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// PostgreSQL: a file holding the password (first line), used unless
    /// the URL carries one (keeps it out of the config and environment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PostgreSQL: the certificates (PEM) the database's TLS certificate
    /// must chain to; the system's trusted ones without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PostgreSQL: connections this node keeps at most (plus one that
    /// listens for other nodes' changes).
    pub pool_size: usize,
    /// PostgreSQL: how long one statement may run before it is cancelled.
    pub statement_timeout_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: StoreBackend::Sqlite,
            synchronous: Synchronous::default(),
            url: None,
            password_file: None,
            ca_file: None,
            pool_size: 16,
            statement_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    #[default]
    Sqlite,
    Postgres,
}

impl StoreConfig {
    /// The password in `password_file` (its first line), if one is set.
    pub fn postgres_password(&self) -> Result<Option<String>, String> {
        let Some(file) = &self.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("store.password_file {}: {e}", file.display()))?;
        Ok(Some(text.lines().next().unwrap_or_default().to_owned()))
    }
}

/// An open store, by backend (for what only one backend offers).
pub enum OpenStore {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl OpenStore {
    pub fn mail(&self) -> Arc<dyn MailStore> {
        match self {
            OpenStore::Sqlite(store) => Arc::clone(store) as Arc<dyn MailStore>,
            OpenStore::Postgres(store) => Arc::clone(store) as Arc<dyn MailStore>,
        }
    }
}

impl StoreConfig {
    /// What `check-config` reports of the store (SQLite's file at
    /// `database_path`), without creating or migrating anything; an
    /// unreachable database is an error.
    pub fn describe(&self, database_path: &Path) -> Result<String, String> {
        match self.backend {
            StoreBackend::Sqlite => Ok(match database_path.exists() {
                true => format!("sqlite, {}", database_path.display()),
                false => format!(
                    "sqlite, {} (created at first start)",
                    database_path.display()
                ),
            }),
            StoreBackend::Postgres => {
                let url = self.url.as_deref().ok_or("store.url is not set")?;
                let (server, schema) = super::postgres::inspect(url, self.pg_options()?)
                    .map_err(|e| format!("{}: {e}", without_password(url)))?;
                let latest = super::postgres::schema_latest();
                let state = match schema {
                    0 => "empty (set up at first start)".to_owned(),
                    v if v < latest => {
                        format!("schema version {v} (migrated to {latest} at start)")
                    }
                    v if v == latest => format!("schema version {v}"),
                    v => {
                        format!("schema version {v}, newer than this letterbox ({latest}): refused")
                    }
                };
                Ok(format!("PostgreSQL {server}, {state}"))
            }
        }
    }

    /// The connection settings beside the URL.
    pub fn pg_options(&self) -> Result<PgOptions, String> {
        Ok(PgOptions {
            password: self.postgres_password()?,
            ca_file: self.ca_file.clone(),
            pool_size: self.pool_size,
            statement_timeout: Duration::from_secs(self.statement_timeout_secs),
        })
    }

    /// Opens (and migrates) the store, SQLite's at `database_path`, with
    /// `quota` for users without limits of their own.
    pub fn open(&self, database_path: &Path, quota: QuotaLimits) -> Result<OpenStore, String> {
        let store = match self.backend {
            StoreBackend::Sqlite => {
                let store = SqliteStore::open(database_path, self.synchronous)
                    .map_err(|e| format!("cannot open {}: {e}", database_path.display()))?;
                OpenStore::Sqlite(Arc::new(store))
            }
            StoreBackend::Postgres => {
                let url = self.url.as_deref().ok_or("store.url is not set")?;
                let store = PgStore::open(url, self.pg_options()?)
                    .map_err(|e| format!("cannot open {}: {e}", without_password(url)))?;
                OpenStore::Postgres(Arc::new(store))
            }
        };
        store.mail().set_default_quota(quota);
        Ok(store)
    }
}
