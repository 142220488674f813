//! letterbox: a standalone IMAP4rev1 mail server backed by SQLite.
pub mod config;
pub mod store;
pub mod tls;
