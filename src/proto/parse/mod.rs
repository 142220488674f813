//! Command parsing (RFC 3501 §9 and extensions), built with nom over one
//! complete framed command.

pub mod command;
pub mod core;
pub mod datetime;
pub mod error;
pub mod fetch;
pub mod mailbox;
pub mod mailbox_args;
pub mod search;
pub mod sequence;
pub mod store;

pub use command::parse_command;
pub use error::ParseError;
pub use sequence::parse_sequence_set;
