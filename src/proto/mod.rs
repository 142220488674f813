//! Pure IMAP4rev1 protocol layer: command types, framing, parsing and
//! response-side encoding. No I/O and no storage here.

pub mod command;
pub mod encode;
pub mod framing;
pub mod mutf7;
pub mod parse;
pub mod response;
pub mod types;
pub mod value;

pub use command::*;
pub use types::*;
