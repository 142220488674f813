//! letterbox: a standalone IMAP4rev1 mail server backed by SQLite.
//!
//! # Layout
//! - [`proto`]: pure protocol: framing, the nom command parser, typed
//!   responses and their encoding, modified UTF-7. No I/O, no store.
//! - [`handler`]: one IMAP connection from greeting to goodbye: read a
//!   command, check its state, run it, catch up, answer.
//! - [`session`]: one connection's stream, framing, state (and which
//!   commands each state allows), output and timers, STARTTLS.
//! - [`commands`]: RFC semantics of each command, grouped by area.
//! - [`context`]: what sessions, LMTP and background tasks share (config,
//!   store calls, TLS, passwords, login guard, connection slots, metrics)
//!   and logging in, the same for IMAP and POP3.
//! - [`store`]: the [`store::MailStore`] trait in IMAP terms and its SQLite
//!   backend; nothing else touches SQL.
//! - [`server`]: listeners, accept loops, shutdown.
//! - [`delivery`]: recipient addresses to users, storing delivered mail;
//!   [`lmtp`]: RFC 2033 LMTP for MTAs.
//! - [`pop3`]: POP3 sessions (INBOX only) for devices that know no IMAP.
//! - [`migrate`]: `import` (Maildir, mbox) and `export`.
//! - [`auth`]: argon2id hashes and SASL PLAIN; [`tls`]: certificates;
//!   [`config`]: the TOML file; [`mail`]: message octets; [`cli`]: commands;
//!   [`memory`]: allocator settings.

pub mod auth;
pub mod autoconfig;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod control;
pub mod delivery;
pub mod handler;
pub mod http;
pub mod junk;
pub mod line_conn;
pub mod lmtp;
pub mod mail;
pub mod managesieve;
pub mod memory;
pub mod migrate;
pub mod pop3;
pub mod proto;
pub mod proxy_protocol;
pub mod quota_warning;
pub mod server;
pub mod session;
pub mod sieve;
pub mod store;
pub mod tls;
pub mod unix_socket;
