//! Command parsing (RFC 3501 §9 and extensions), built with nom over one
//! complete framed command.
//!
//! A command's arguments are parsed in the file named like the file of its
//! handler in `commands/` (FETCH: `parse/fetch.rs` and `commands/fetch.rs`);
//! `command.rs` reads the command name and hands over; `core`, `datetime`,
//! `mailbox_name` and `sequence` hold the shared grammar rules. Arguments
//! that are one token, one mailbox name or one sequence set (COMPRESS,
//! GETQUOTAROOT, UID EXPUNGE, ...) are read in `command.rs` itself.

pub mod acl;
pub mod any;
pub mod append;
pub mod auth;
pub mod command;
pub mod copy;
pub mod core;
pub mod datetime;
pub mod error;
pub mod fetch;
pub mod list;
pub mod mailbox;
pub mod mailbox_name;
pub mod quota;
pub mod search;
pub mod select;
pub mod sequence;
pub mod sort;
pub mod store;
pub mod thread;

pub use command::parse_command;
pub use error::ParseError;
pub use sequence::parse_sequence_set;
