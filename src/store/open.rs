//! Opening the store the config names: `[store] backend`.

use std::sync::Arc;
use std::time::Duration;

use super::MailStore;
use super::postgres::{PgOptions, PgStore, without_password};
use super::sqlite::SqliteStore;
use crate::config::{Config, StoreBackend};

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

/// What `check-config` reports of the configured store, without creating
/// or migrating anything; an unreachable database is an error.
pub fn describe(config: &Config) -> Result<String, String> {
    match config.store.backend {
        StoreBackend::Sqlite => {
            let path = config.database_path();
            Ok(match path.exists() {
                true => format!("sqlite, {}", path.display()),
                false => format!("sqlite, {} (created at first start)", path.display()),
            })
        }
        StoreBackend::Postgres => {
            let url = config.store.url.as_deref().ok_or("store.url is not set")?;
            let (server, schema) = super::postgres::inspect(url, pg_options(config)?)
                .map_err(|e| format!("{}: {e}", without_password(url)))?;
            let latest = super::postgres::schema_latest();
            let state = match schema {
                0 => "empty (set up at first start)".to_owned(),
                v if v < latest => format!("schema version {v} (migrated to {latest} at start)"),
                v if v == latest => format!("schema version {v}"),
                v => format!("schema version {v}, newer than this letterbox ({latest}): refused"),
            };
            Ok(format!("PostgreSQL {server}, {state}"))
        }
    }
}

/// The connection settings `[store]` gives beside the URL.
pub fn pg_options(config: &Config) -> Result<PgOptions, String> {
    Ok(PgOptions {
        password: config.store.postgres_password()?,
        ca_file: config.store.ca_file.clone(),
        pool_size: config.store.pool_size,
        statement_timeout: Duration::from_secs(config.store.statement_timeout_secs),
    })
}

/// Opens (and migrates) the configured store, with the config's default
/// quota; the error names what could not be opened.
pub fn open(config: &Config) -> Result<OpenStore, String> {
    let store = match config.store.backend {
        StoreBackend::Sqlite => {
            let path = config.database_path();
            let store = SqliteStore::open(&path, config.store.synchronous)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            OpenStore::Sqlite(Arc::new(store))
        }
        StoreBackend::Postgres => {
            let url = config.store.url.as_deref().ok_or("store.url is not set")?;
            let store = PgStore::open(url, pg_options(config)?)
                .map_err(|e| format!("cannot open {}: {e}", without_password(url)))?;
            OpenStore::Postgres(Arc::new(store))
        }
    };
    store.mail().set_default_quota(config.quota.limits());
    Ok(store)
}
