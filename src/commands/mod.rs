//! RFC semantics of each command, one module per area. Handlers write
//! untagged data into the session and return the tagged result; the session
//! has already checked that the command is allowed in its state.

pub mod access;
mod acl;
mod any;
mod append;
mod auth;
mod copy;
mod fetch;
mod flags;
mod idle;
mod list;
mod mailbox;
mod private_seen;
mod quota;
mod search;
mod select;
mod sort;
mod store;
mod thread;
mod updates;

use crate::proto::response::{CommandResult, Done, Untagged};
use crate::proto::{CommandBody, MessageSet, mutf7};
use crate::session::Session;
use crate::session::state::{Selection, State, User};
use crate::store::MailboxName;

pub use any::capabilities;
use copy::Transfer;
pub use updates::catch_up;

/// What the session does after a command's tagged response is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Logout,
    StartTls,
    Compress,
}

/// Runs one command; the handler has checked that the session's state
/// allows it.
pub async fn execute(s: &mut Session, body: CommandBody) -> (CommandResult, Flow) {
    use CommandBody::*;
    if body.enables_condstore() && !s.extensions.condstore {
        s.extensions.condstore = true;
        announce_highest_modseq(s, &body);
    }
    // Rights changed by the owner apply from the next command (RFC 4314
    // leaves it open; reading them again costs one store read).
    if let Err(done) = access::refresh_selected(s, &body).await {
        return (Err(done), Flow::Continue);
    }
    let result = match body {
        Capability => any::capability(s),
        Noop | Check => Ok(Done::ok(format!("{} completed", body.name()))),
        Logout => any::logout(s),
        Id(_) => any::id(s),
        Enable(names) => any::enable(s, &names),
        StartTls => return switch_on_success(auth::starttls(s), Flow::StartTls),
        Login(command) => auth::login(s, command).await,
        Authenticate(command) => auth::authenticate(s, command).await,
        Select(command) => select::select(s, command, false).await,
        Examine(command) => select::select(s, command, true).await,
        Close => select::close(s).await,
        Unselect => select::unselect(s),
        Expunge => select::expunge(s, None).await,
        UidExpunge(set) => select::expunge(s, Some(&set)).await,
        Fetch(command) => fetch::fetch(s, command).await,
        Store(command) => store::store(s, command).await,
        Copy(command) => copy::transfer(s, Transfer::Copy, command).await,
        Move(command) => copy::transfer(s, Transfer::Move, command).await,
        Search(command) => search::search(s, command).await,
        Sort(command) => sort::sort(s, command).await,
        Thread(command) => thread::thread(s, command).await,
        Create(command) => mailbox::create(s, command).await,
        Delete { mailbox } => mailbox::delete(s, &mailbox).await,
        Rename(command) => mailbox::rename(s, command).await,
        Subscribe { mailbox } => mailbox::subscribe(s, &mailbox, true).await,
        Unsubscribe { mailbox } => mailbox::subscribe(s, &mailbox, false).await,
        Status(command) => mailbox::status(s, command).await,
        List(command) => list::list(s, command).await,
        Lsub(command) => list::lsub(s, command).await,
        Xlist(command) => list::xlist(s, command).await,
        Namespace => list::namespace(s),
        GetQuota { root } => quota::get_quota(s, &root).await,
        GetQuotaRoot { mailbox } => quota::get_quota_root(s, &mailbox).await,
        SetQuota(_) => quota::set_quota(s),
        SetAcl {
            mailbox,
            identifier,
            rights,
        } => acl::set_acl(s, &mailbox, &identifier, &rights).await,
        DeleteAcl {
            mailbox,
            identifier,
        } => acl::delete_acl(s, &mailbox, &identifier).await,
        GetAcl { mailbox } => acl::get_acl(s, &mailbox).await,
        ListRights {
            mailbox,
            identifier,
        } => acl::list_rights(s, &mailbox, &identifier).await,
        MyRights { mailbox } => acl::my_rights(s, &mailbox).await,
        Append(command) => append::append(s, command).await,
        Idle => idle::idle(s).await,
        Compress { mechanism } => {
            return switch_on_success(any::compress(s, &mechanism), Flow::Compress);
        }
    };
    let flow = if matches!(s.state, State::Logout) || s.ended.is_some() {
        Flow::Logout
    } else {
        Flow::Continue
    };
    (result, flow)
}

/// RFC 7162 §3.1: the first CONDSTORE enabling command of a session with a
/// mailbox selected gets `* OK [HIGHESTMODSEQ n]`, which the client would
/// otherwise only have had from a SELECT (CONDSTORE). SELECT and EXAMINE
/// send it in their own responses.
fn announce_highest_modseq(s: &mut Session, body: &CommandBody) {
    if matches!(body, CommandBody::Select(_) | CommandBody::Examine(_)) {
        return;
    }
    if let Some(modseq) = s.state.selection().map(|selection| selection.modseq) {
        let code = crate::proto::response::Code::HighestModSeq(modseq);
        s.send(Untagged::Condition(Done::ok("Highest").with_code(code)));
    }
}

/// STARTTLS and COMPRESS change the stream once their OK is sent.
fn switch_on_success(result: CommandResult, flow: Flow) -> (CommandResult, Flow) {
    let flow = if result.is_ok() { flow } else { Flow::Continue };
    (result, flow)
}

/// Decodes a mailbox name or LIST pattern from the wire: modified UTF-7,
/// or plain UTF-8 once the client enabled UTF8=ACCEPT (RFC 6855 §3).
/// Text that is neither names no mailbox: a NO, not a BAD, because the
/// command itself is well-formed and clients take BAD for a protocol
/// failure (some drop the connection).
fn wire_text(s: &Session, raw: &[u8]) -> Result<String, Done> {
    let decoded = if s.extensions.utf8 {
        String::from_utf8(raw.to_vec()).ok()
    } else {
        mutf7::decode(raw).ok()
    };
    decoded.ok_or_else(|| {
        let encoding = if s.extensions.utf8 {
            "UTF-8"
        } else {
            "modified UTF-7"
        };
        Done::no(format!("No such mailbox: the name is not valid {encoding}"))
    })
}

/// A missing target mailbox is `NO [TRYCREATE]` for APPEND, COPY and MOVE
/// (RFC 3501 §6.3.11), so clients offer to create it.
fn try_create(e: crate::store::StoreError) -> Done {
    match e {
        crate::store::StoreError::NoSuchMailbox => {
            Done::no("Mailbox does not exist").with_code(crate::proto::response::Code::TryCreate)
        }
        other => Done::from(other),
    }
}

/// Decodes and validates a mailbox argument.
fn mailbox_name(s: &Session, raw: &[u8]) -> Result<MailboxName, Done> {
    MailboxName::new(&wire_text(s, raw)?).map_err(|e| Done::no(e.to_string()))
}

/// The logged-in user (dispatch guarantees there is one).
fn user(s: &Session) -> Result<User, Done> {
    s.state
        .user()
        .cloned()
        .ok_or_else(|| Done::bad("Not logged in"))
}

/// Resolves a sequence or UID set against the session's view.
fn resolve(
    selection: &Selection,
    messages: &MessageSet,
    uid: bool,
) -> Result<Vec<(u32, u32)>, Done> {
    match messages {
        MessageSet::Numbers(set) => selection.resolve(set, uid).map_err(Done::bad),
        MessageSet::Saved => Ok(selection.saved_messages()),
    }
}
