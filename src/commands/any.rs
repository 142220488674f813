//! Commands valid in every state: CAPABILITY, LOGOUT, ID, ENABLE.

use crate::session::Session;
use crate::session::reply::{CommandResult, Done};
use crate::session::state::State;

/// Capabilities advertised in this session's current state.
pub fn capabilities(s: &Session) -> String {
    let mut caps = vec![
        "IMAP4rev1",
        "LITERAL+",
        "SASL-IR",
        "ID",
        "ENABLE",
        "NAMESPACE",
        "UNSELECT",
        "CHILDREN",
        "UIDPLUS",
        "IDLE",
        "MOVE",
    ];
    if matches!(s.state, State::NotAuthenticated) {
        if !s.secure && s.ctx.tls.is_some() {
            caps.push("STARTTLS");
        }
        if super::auth::login_allowed(s) {
            caps.push("AUTH=PLAIN");
        } else {
            caps.push("LOGINDISABLED");
        }
    }
    caps.join(" ")
}

pub fn capability(s: &mut Session) -> CommandResult {
    let caps = capabilities(s);
    s.untagged(format_args!("CAPABILITY {caps}"));
    Ok(Done::ok("CAPABILITY completed"))
}

pub fn logout(s: &mut Session) -> CommandResult {
    s.untagged(format_args!("BYE Logging out"));
    s.state = State::Logout;
    Ok(Done::ok("LOGOUT completed"))
}

/// RFC 2971: the client's identification is only logged.
pub fn id(s: &mut Session) -> CommandResult {
    s.untagged(format_args!(
        "ID (\"name\" \"letterbox\" \"version\" \"{}\")",
        env!("CARGO_PKG_VERSION")
    ));
    Ok(Done::ok("ID completed"))
}

/// RFC 5161: none of the capabilities this server has yet are enableable,
/// so every requested one is ignored, as the RFC asks for unknown ones.
pub fn enable(s: &mut Session) -> CommandResult {
    s.untagged(format_args!("ENABLED"));
    Ok(Done::ok("ENABLE completed"))
}
