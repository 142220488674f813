//! STARTTLS, LOGIN and AUTHENTICATE PLAIN.

use super::capabilities;
use std::sync::Arc;

use crate::auth::guard::GuardEvent;
use crate::auth::sasl;
use crate::context::ServerContext;
use crate::proto::response::{Code, CommandResult, Done};
use crate::proto::{AuthenticateCommand, LoginCommand};
use crate::session::Session;
use crate::session::state::{State, User};
use crate::store::{Access, StoreError, UserRecord};

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

/// Checks the credentials off the async threads and logs the user in.
/// The user when `password` is theirs: the main password or one of their
/// app passwords (whose last use is then recorded). Takes the context, not
/// the session, so the future does not borrow the session's stream.
async fn check_password(
    ctx: Arc<ServerContext>,
    name: String,
    password: Vec<u8>,
) -> Result<Option<UserRecord>, Done> {
    let (record, apps) = ctx
        .store
        .run(Access::Read, move |store| {
            let record = store.find_user(&name)?;
            let apps = match &record {
                Some(record) => store.app_passwords(record.id)?,
                None => Vec::new(),
            };
            Ok::<_, StoreError>((record, apps))
        })
        .await?;
    let hash = record.as_ref().map(|r| r.password_hash.clone());
    if ctx.passwords.verify(hash, password.clone()).await {
        return Ok(record);
    }
    let Some(record) = record else {
        return Ok(None);
    };
    for app in apps {
        if ctx
            .passwords
            .verify(Some(app.password_hash), password.clone())
            .await
        {
            let (user, label) = (record.id, app.label);
            ctx.store
                .run(Access::Write, move |store| {
                    store.touch_app_password(user, &label)
                })
                .await?;
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// `mechanism` (LOGIN or PLAIN) is only logged.
async fn verify(
    s: &mut Session,
    mechanism: &str,
    username: Vec<u8>,
    password: Vec<u8>,
) -> CommandResult {
    let failed = || Done::no("Authentication failed").with_code(Code::AuthenticationFailed);
    let name = String::from_utf8(username).map_err(|_| failed())?;
    let ctx = Arc::clone(&s.ctx);
    let key = ctx.guard.key(s.peer.ip());
    // A refused attempt gets the same answer and delay as a wrong password,
    // without its password being checked.
    let checked = match ctx.guard.check(key, &name) {
        Ok(attempt) => match check_password(Arc::clone(&ctx), name.clone(), password).await? {
            Some(record) => {
                attempt.succeeded(&record.name);
                Ok(record)
            }
            None => Err((attempt.failed(), None)),
        },
        Err(refusal) => Err((
            ctx.guard.refused(key, &name, refusal),
            Some(refusal.as_str()),
        )),
    };
    ctx.guard.take_events().iter().for_each(GuardEvent::log);
    let record = match checked {
        Ok(record) => record,
        Err((delay, refused)) => {
            ctx.metrics.auth_failure();
            tracing::info!(peer = %s.peer, user = %name, tls = s.secure, %mechanism, refused, "login failed");
            tokio::time::sleep(delay).await;
            return Err(failed());
        }
    };
    let Some(slot) = s.ctx.user_slots.try_acquire(record.name.clone()) else {
        tracing::warn!(peer = %s.peer, user = %record.name, "login refused: too many sessions");
        return Err(Done::no("Too many sessions for this user").with_code(Code::Limit));
    };
    let address_key = (record.name.clone(), key);
    let Some(address_slot) = s.ctx.user_address_slots.try_acquire(address_key) else {
        tracing::warn!(peer = %s.peer, user = %record.name, "login refused: too many sessions from this address");
        return Err(
            Done::no("Too many sessions for this user from this address").with_code(Code::Limit),
        );
    };
    s.user_slot = Some(slot);
    s.user_address_slot = Some(address_slot);
    // Logged in: no longer counted among this address's strangers.
    s.unauthenticated_slot = None;
    tracing::info!(peer = %s.peer, user = %record.name, tls = s.secure, %mechanism, "login");
    s.state = State::Authenticated(User {
        id: record.id,
        name: record.name,
    });
    Ok(Done::ok("Logged in").with_code(Code::Capability(capabilities(s))))
}
