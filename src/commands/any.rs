//! Commands valid in every state: CAPABILITY, LOGOUT, ID, ENABLE.

use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::session::Session;
use crate::session::state::State;

/// What every state offers: enough to log in, plus what clients look for
/// in the greeting.
const BASE_CAPABILITIES: [&str; 6] = [
    "IMAP4rev1",
    "LITERAL+",
    "LITERAL-",
    "SASL-IR",
    "ID",
    "ENABLE",
];

/// Offered once logged in: these commands only work then.
const SESSION_CAPABILITIES: [&str; 32] = [
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "CHILDREN",
    "UIDPLUS",
    "MOVE",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "SEARCHRES",
    "SORT",
    "SORT=DISPLAY",
    "ESORT",
    "BINARY",
    "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "WITHIN",
    "SAVEDATE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "XLIST",
    "STATUS=SIZE",
    "COMPRESS=DEFLATE",
    "UTF8=ACCEPT",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "QUOTA=RES-MESSAGE",
    "ACL",
    // RFC 4314 §2.1: the rights groups of RFC 2086 "c" and "d" we split.
    "RIGHTS=texk",
];

/// Capabilities advertised in this session's current state.
pub fn capabilities(s: &Session) -> String {
    let mut caps: Vec<String> = BASE_CAPABILITIES.iter().map(|c| c.to_string()).collect();
    if matches!(s.state, State::NotAuthenticated) {
        if !s.secure && s.ctx.tls.configured() {
            caps.push("STARTTLS".into());
        }
        if super::auth::login_allowed(s) {
            caps.push("AUTH=PLAIN".into());
        } else {
            caps.push("LOGINDISABLED".into());
        }
    } else {
        caps.extend(SESSION_CAPABILITIES.iter().map(|c| c.to_string()));
        caps.push(format!(
            "APPENDLIMIT={}",
            s.ctx.config().limits.max_message_size
        ));
    }
    caps.join(" ")
}

pub fn capability(s: &mut Session) -> CommandResult {
    let caps = capabilities(s);
    s.send(Untagged::Capability(caps));
    Ok(Done::ok("CAPABILITY completed"))
}

pub fn logout(s: &mut Session) -> CommandResult {
    s.send(Untagged::Condition(Done::bye("Logging out")));
    s.state = State::Logout;
    Ok(Done::ok("LOGOUT completed"))
}

/// RFC 2971: the client's identification is only logged.
pub fn id(s: &mut Session) -> CommandResult {
    s.send(Untagged::Id(vec![
        ("name", "letterbox"),
        ("version", env!("CARGO_PKG_VERSION")),
    ]));
    Ok(Done::ok("ID completed"))
}

/// RFC 5161: turns on CONDSTORE, QRESYNC (which implies CONDSTORE) and
/// UTF8=ACCEPT;
/// unknown names are ignored, as the RFC asks. ENABLED lists what this
/// command turned on.
pub fn enable(s: &mut Session, names: &[String]) -> CommandResult {
    let mut enabled = Vec::new();
    for name in names {
        let ext = &mut s.extensions;
        match name.to_ascii_uppercase().as_str() {
            "CONDSTORE" if !ext.condstore => {
                ext.condstore = true;
                enabled.push("CONDSTORE");
            }
            "QRESYNC" if !ext.qresync => {
                ext.qresync = true;
                ext.condstore = true;
                enabled.push("QRESYNC");
            }
            "UTF8=ACCEPT" if !ext.utf8 => {
                ext.utf8 = true;
                enabled.push("UTF8=ACCEPT");
            }
            _ => {}
        }
    }
    s.send(Untagged::Enabled(enabled));
    Ok(Done::ok("ENABLE completed"))
}

/// COMPRESS DEFLATE (RFC 4978): the session switches after the tagged OK.
pub fn compress(s: &mut Session, mechanism: &str) -> CommandResult {
    if !mechanism.eq_ignore_ascii_case("DEFLATE") {
        return Err(Done::bad(format!(
            "Unknown compression mechanism {mechanism}"
        )));
    }
    if s.compressed {
        return Err(Done::no("Compression is already active").with_code(Code::CompressionActive));
    }
    if s.input_buffered() {
        // Bytes after COMPRESS would be read with the wrong framing.
        return Err(Done::bad("Send nothing after COMPRESS until its reply"));
    }
    Ok(Done::ok("DEFLATE active"))
}
