//! Logging a user in, the same way for every protocol (IMAP LOGIN and
//! AUTHENTICATE, POP3 USER/PASS and AUTH): the login guard's delays and
//! lockouts, the password or one of the user's app passwords checked off
//! the async threads, and the per-user session slots.

use std::net::SocketAddr;
use std::sync::Arc;

use super::ServerContext;
use super::limits::ConnectionGuard;
use crate::auth::guard::{AddressKey, GuardEvent};
use crate::store::{Access, AccountKind, StoreError, UserRecord};

/// Who is logging in, from where, and how (the last three only logged).
pub struct Attempt<'a> {
    pub peer: SocketAddr,
    pub secure: bool,
    /// `imap` or `pop3`.
    pub protocol: &'static str,
    /// `LOGIN`, `PLAIN`, `USER`...
    pub mechanism: &'a str,
}

/// A logged-in user and the session slots they hold while logged in.
pub struct LoggedIn {
    pub record: UserRecord,
    pub slots: UserSlots,
}

/// Slots counted against `[limits] max_connections_per_user` and
/// `max_connections_per_user_ip`; given back when dropped.
pub struct UserSlots {
    _user: ConnectionGuard<String>,
    _user_address: ConnectionGuard<(String, AddressKey)>,
}

#[derive(Debug)]
pub enum LoginError {
    /// Wrong name or password, or refused by the guard: the same answer,
    /// after the same delay, so a client cannot tell which.
    Failed,
    TooManySessions,
    TooManySessionsFromAddress,
    Store(StoreError),
}

impl From<StoreError> for LoginError {
    fn from(e: StoreError) -> LoginError {
        LoginError::Store(e)
    }
}

/// Checks `username` and `password` and takes the user's session slots.
/// A failure has already waited the guard's delay when it returns.
pub async fn log_in(
    ctx: &Arc<ServerContext>,
    attempt: Attempt<'_>,
    username: Vec<u8>,
    password: Vec<u8>,
) -> Result<LoggedIn, LoginError> {
    let Attempt {
        peer,
        secure,
        protocol,
        mechanism,
    } = attempt;
    let name = String::from_utf8(username).map_err(|_| LoginError::Failed)?;
    let key = ctx.guard.key(peer.ip());
    // A refused attempt gets the same answer and delay as a wrong password,
    // without its password being checked.
    let checked = match ctx.guard.check(key, &name) {
        Ok(attempt) => match check_password(Arc::clone(ctx), name.clone(), password).await? {
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
            tracing::info!(%peer, user = %name, tls = secure, %protocol, %mechanism, refused, "login failed");
            tokio::time::sleep(delay).await;
            return Err(LoginError::Failed);
        }
    };
    let Some(user) = ctx.user_slots.try_acquire(record.name.clone()) else {
        tracing::warn!(%peer, user = %record.name, %protocol, "login refused: too many sessions");
        return Err(LoginError::TooManySessions);
    };
    let Some(user_address) = ctx
        .user_address_slots
        .try_acquire((record.name.clone(), key))
    else {
        tracing::warn!(%peer, user = %record.name, %protocol, "login refused: too many sessions from this address");
        return Err(LoginError::TooManySessionsFromAddress);
    };
    tracing::info!(%peer, user = %record.name, tls = secure, %protocol, %mechanism, "login");
    Ok(LoggedIn {
        record,
        slots: UserSlots {
            _user: user,
            _user_address: user_address,
        },
    })
}

/// The user when `password` is theirs: the main password or one of their
/// app passwords (whose last use is then recorded).
async fn check_password(
    ctx: Arc<ServerContext>,
    name: String,
    password: Vec<u8>,
) -> Result<Option<UserRecord>, StoreError> {
    let (record, apps) = ctx
        .store
        .run(Access::Read, move |store| {
            // Team accounts never log in: treated as unknown names (the
            // dummy hash is checked, so the answer takes as long).
            let record = store
                .find_user(&name)?
                .filter(|record| record.kind == AccountKind::Person);
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
