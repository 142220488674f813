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
        "CONDSTORE",
        "QRESYNC",
        "ESEARCH",
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

/// RFC 5161: turns on CONDSTORE and QRESYNC (which implies CONDSTORE);
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
            _ => {}
        }
    }
    let mut line = String::from("ENABLED");
    for name in enabled {
        line.push(' ');
        line.push_str(name);
    }
    s.untagged(format_args!("{line}"));
    Ok(Done::ok("ENABLE completed"))
}
