//! STARTTLS, LOGIN and AUTHENTICATE PLAIN.

use super::capabilities;

use crate::auth::sasl;
use crate::context::login::{Attempt, LoginError, log_in};
use crate::proto::response::{Code, CommandResult, Done};
use crate::proto::{AuthenticateCommand, LoginCommand};
use crate::session::Session;
use crate::session::state::{State, User};

/// LOGIN and AUTHENTICATE need TLS unless plaintext was allowed.
pub fn login_allowed(s: &Session) -> bool {
    s.secure || s.ctx.config().auth.allow_plaintext
}

fn require_login_allowed(s: &Session) -> Result<(), Done> {
    if login_allowed(s) {
        Ok(())
    } else {
        Err(Done::no("Use STARTTLS before logging in").with_code(Code::PrivacyRequired))
    }
}

pub fn starttls(s: &mut Session) -> CommandResult {
    if s.secure {
        return Err(Done::bad("TLS is already active"));
    }
    if !s.ctx.tls.configured() {
        return Err(Done::no("TLS is not configured"));
    }
    Ok(Done::ok("Begin TLS negotiation now"))
}

pub async fn login(s: &mut Session, command: LoginCommand) -> CommandResult {
    require_login_allowed(s)?;
    verify(s, "LOGIN", command.username, command.password).await
}

pub async fn authenticate(s: &mut Session, command: AuthenticateCommand) -> CommandResult {
    let mechanism = &command.mechanism;
    if !mechanism.eq_ignore_ascii_case("PLAIN") {
        return Err(Done::no(format!(
            "Unsupported authentication mechanism {mechanism}"
        )));
    }
    require_login_allowed(s)?;
    let response = match command.initial_response {
        Some(response) => response,
        None => match s.continuation("").await {
            Ok(Some(line)) => line,
            Ok(None) => return Err(Done::bad("Authentication response too long")),
            Err(end) => {
                s.ended = Some(end);
                return Err(Done::bad("Connection closed during authentication"));
            }
        },
    };
    if response == b"*" {
        return Err(Done::bad("Authentication cancelled"));
    }
    let message = sasl::decode_response(&response).map_err(|e| Done::bad(e.to_string()))?;
    let credentials = sasl::parse_plain(&message).map_err(|e| Done::bad(e.to_string()))?;
    if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
        return Err(Done::no("Acting as another user is not permitted")
            .with_code(Code::AuthorizationFailed));
    }
    verify(s, "PLAIN", credentials.authcid, credentials.password).await
}

/// `mechanism` (LOGIN or PLAIN) is only logged.
async fn verify(
    s: &mut Session,
    mechanism: &str,
    username: Vec<u8>,
    password: Vec<u8>,
) -> CommandResult {
    let attempt = Attempt {
        peer: s.peer,
        secure: s.secure,
        protocol: "imap",
        mechanism,
    };
    let logged_in = match log_in(&s.ctx, attempt, username, password).await {
        Ok(logged_in) => logged_in,
        Err(LoginError::Failed) => {
            return Err(Done::no("Authentication failed").with_code(Code::AuthenticationFailed));
        }
        Err(LoginError::TooManySessions) => {
            return Err(Done::no("Too many sessions for this user").with_code(Code::Limit));
        }
        Err(LoginError::TooManySessionsFromAddress) => {
            return Err(
                Done::no("Too many sessions for this user from this address")
                    .with_code(Code::Limit),
            );
        }
        Err(LoginError::Store(e)) => return Err(e.into()),
    };
    s.user_slots = Some(logged_in.slots);
    // Logged in: no longer counted among this address's strangers.
    s.unauthenticated_slot = None;
    let record = logged_in.record;
    s.state = State::Authenticated(User {
        id: record.id,
        name: record.name,
    });
    Ok(Done::ok("Logged in").with_code(Code::Capability(capabilities(s))))
}
