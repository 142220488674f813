//! Sieve (RFC 5228) and the extensions people use, run at delivery:
//! [`syntax`] reads the grammar, [`compile`] checks a script against the
//! extensions (a script that does not compile never becomes active),
//! [`run`] evaluates it for one message and says what to do with it.
//! Our own interpreter: the best-known Rust Sieve crate is AGPL-3.0,
//! which this MIT OR Apache-2.0 project cannot take.

pub mod cache;
pub mod compile;
mod encoded;
pub mod matching;
pub mod message;
pub mod program;
pub mod run;
pub mod syntax;

pub use compile::{CompileError, EXTENSIONS, Script, compile};

/// What went wrong in a script (compiling or running it), and on which
/// line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Why a script a user or sysadmin uploads is refused.
#[derive(Debug)]
pub enum Refusal {
    TooLarge { limit: u64 },
    NotUtf8,
    DoesNotCompile(ScriptError),
}

/// A script as uploaded (`letterbox sieve put`, ManageSieve PUTSCRIPT and
/// CHECKSCRIPT): at most `max_size` octets, UTF-8, compiling; a script
/// that fails any of these can never become active.
pub fn accept_upload(script: Vec<u8>, max_size: u64) -> Result<String, Refusal> {
    if script.len() as u64 > max_size {
        return Err(Refusal::TooLarge { limit: max_size });
    }
    let text = String::from_utf8(script).map_err(|_| Refusal::NotUtf8)?;
    compile(&text).map_err(Refusal::DoesNotCompile)?;
    Ok(text)
}

/// RFC 5804 §1.6: a script name is UTF-8 without control characters;
/// we also keep it to 128 characters.
pub fn valid_script_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 128 && !name.chars().any(char::is_control)
}
pub use message::{Envelope, Message};
pub use run::{Action, Limits, Outcome, RuntimeError, VacationReply, run, run_all};
