//! Sieve (RFC 5228) and the extensions people use, run at delivery:
//! [`syntax`] reads the grammar, [`compile`] checks a script against the
//! extensions (a script that does not compile never becomes active),
//! [`run`] evaluates it for one message and says what to do with it.
//! Our own interpreter: the best-known Rust Sieve crate is AGPL-3.0,
//! which this MIT OR Apache-2.0 project cannot take.

pub mod compile;
mod encoded;
pub mod matching;
pub mod message;
pub mod program;
pub mod run;
pub mod syntax;

pub use compile::{CompileError, EXTENSIONS, Script, compile};
pub use message::{Envelope, Message};
pub use run::{Action, Limits, Outcome, RuntimeError, VacationReply, run};
