//! RFC semantics of each command, one module per area. Handlers write
//! untagged data into the session and return the tagged result; the session
//! has already checked that the command is allowed in its state.

mod any;
mod append;
mod auth;
mod list;
mod mailbox;
mod pattern;
mod select;

use crate::proto::{CommandBody, mutf7};
use crate::session::Session;
use crate::session::reply::{CommandResult, Done};
use crate::session::state::{State, User};
use crate::store::MailboxName;

pub use any::capabilities;

/// What the session does after a command's tagged response is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Logout,
    StartTls,
}

/// Runs one command.
pub async fn execute(s: &mut Session, body: CommandBody) -> (CommandResult, Flow) {
    use CommandBody::*;
    let result = match body {
        Capability => any::capability(s),
        Noop | Check => Ok(Done::ok(format!("{} completed", body.name()))),
        Logout => any::logout(s),
        Id(_) => any::id(s),
        Enable(_) => any::enable(s),
        StartTls => {
            let result = auth::starttls(s);
            let flow = if result.is_ok() {
                Flow::StartTls
            } else {
                Flow::Continue
            };
            return (result, flow);
        }
        Login { username, password } => auth::login(s, username, password).await,
        Authenticate {
            mechanism,
            initial_response,
        } => auth::authenticate(s, &mechanism, initial_response).await,
        Select { mailbox, .. } => select::select(s, &mailbox, false).await,
        Examine { mailbox, .. } => select::select(s, &mailbox, true).await,
        Close => select::close(s).await,
        Unselect => select::unselect(s),
        Expunge => select::expunge(s).await,
        Create {
            mailbox,
            special_use,
        } => mailbox::create(s, &mailbox, &special_use).await,
        Delete { mailbox } => mailbox::delete(s, &mailbox).await,
        Rename { from, to } => mailbox::rename(s, &from, &to).await,
        Subscribe { mailbox } => mailbox::subscribe(s, &mailbox, true).await,
        Unsubscribe { mailbox } => mailbox::subscribe(s, &mailbox, false).await,
        Status { mailbox, items } => mailbox::status(s, &mailbox, &items).await,
        List(command) => list::list(s, command).await,
        Lsub { reference, pattern } => list::lsub(s, &reference, &pattern).await,
        Namespace => list::namespace(s),
        Append {
            mailbox,
            flags,
            internal_date,
            message,
        } => append::append(s, &mailbox, &flags, internal_date, message).await,
        Xlist { .. }
        | Idle
        | Compress { .. }
        | UidExpunge(_)
        | Search { .. }
        | Fetch { .. }
        | Store { .. }
        | Copy { .. }
        | Move { .. } => Err(Done::bad(format!(
            "{} is not supported by this server yet",
            body.name()
        ))),
    };
    let flow = if matches!(s.state, State::Logout) {
        Flow::Logout
    } else {
        Flow::Continue
    };
    (result, flow)
}

/// Decodes a mailbox argument (modified UTF-7 on the wire) and validates it.
fn mailbox_name(raw: &[u8]) -> Result<MailboxName, Done> {
    let decoded =
        mutf7::decode(raw).map_err(|_| Done::bad("Invalid modified UTF-7 in mailbox name"))?;
    MailboxName::new(&decoded).map_err(|e| Done::no(e.to_string()))
}

/// The logged-in user (dispatch guarantees there is one).
fn user(s: &Session) -> Result<User, Done> {
    s.state
        .user()
        .cloned()
        .ok_or_else(|| Done::bad("Not logged in"))
}
