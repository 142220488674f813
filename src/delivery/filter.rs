//! The user's active Sieve script at delivery: run it, then carry out
//! what it says. Whatever goes wrong (a script that no longer compiles, a
//! runtime error, a mailbox that cannot be made, an action this server
//! cannot carry out) ends in the message kept in INBOX, logged with the
//! script's name and line: a script never makes mail disappear.

use super::{Delivered, DeliveryError, Envelope, store_copy};
use crate::config::Config;
use crate::proto::Flag;
use crate::sieve::{self, Action, Message};
use crate::store::{Flags, MailStore, MailboxName, SystemFlags, UserRecord};

/// Delivers `message` for `user`: through their active script if they
/// have one, else into `keep_into`.
pub fn deliver(
    store: &dyn MailStore,
    config: &Config,
    user: &UserRecord,
    keep_into: &MailboxName,
    envelope: &Envelope,
    message: &[u8],
) -> Result<Delivered, DeliveryError> {
    let script = store
        .active_sieve_script(user.id)
        .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
    let Some((name, text)) = script else {
        let stored = store_copy(store, user, keep_into, message, Flags::default())?;
        return Ok(Delivered {
            stored: vec![stored],
        });
    };
    let actions = match sieve::compile(&text) {
        Ok(script) => {
            let account = Mailboxes { store, user };
            let envelope = sieve::Envelope {
                from: envelope.sender.to_owned(),
                to: envelope
                    .recipient
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned(),
                auth: None,
            };
            let outcome = sieve::run(
                &script,
                &Message::new(message),
                &envelope,
                &account,
                config.sieve.limits(),
            );
            if let Some(error) = &outcome.error {
                tracing::warn!(user = %user.name, script = %name, line = error.line, error = %error.message, "sieve: runtime error, message kept in INBOX");
            }
            outcome.actions
        }
        Err(error) => {
            tracing::error!(user = %user.name, script = %name, line = error.line, error = %error.message, "sieve: the active script does not compile, message kept in INBOX");
            vec![Action::Keep { flags: Vec::new() }]
        }
    };
    carry_out(store, user, &name, keep_into, message, actions)
}

/// What a script may ask of the user's mailboxes (`mailboxexists`,
/// `fileinto` without `:create`).
pub struct Mailboxes<'a> {
    pub store: &'a dyn MailStore,
    pub user: &'a UserRecord,
}

impl sieve::run::Account for Mailboxes<'_> {
    fn mailbox_exists(&self, name: &str) -> bool {
        let Ok(name) = MailboxName::new(name) else {
            return false;
        };
        self.store
            .list_mailboxes(self.user.id)
            .is_ok_and(|all| all.iter().any(|m| m.selectable && m.name == name.as_str()))
    }
}

fn carry_out(
    store: &dyn MailStore,
    user: &UserRecord,
    script: &str,
    keep_into: &MailboxName,
    message: &[u8],
    actions: Vec<Action>,
) -> Result<Delivered, DeliveryError> {
    let mut delivered = Delivered::default();
    // Set when an action could not be carried out: the message then goes
    // to INBOX (once), as RFC 5228 §2.10.6's implicit keep.
    let mut fall_back = false;
    let inbox = MailboxName::new("INBOX").expect("INBOX is valid");
    for action in actions {
        match action {
            Action::Keep { flags } => {
                delivered.stored.push(store_copy(
                    store,
                    user,
                    keep_into,
                    message,
                    to_flags(&flags),
                )?);
            }
            Action::FileInto {
                mailbox,
                flags,
                create,
            } => match file_into(store, user, &mailbox, create, message, to_flags(&flags)) {
                Ok(stored) => delivered.stored.push(stored),
                Err(DeliveryError::Temporary(detail)) => {
                    tracing::warn!(user = %user.name, script, mailbox, %detail, "sieve: fileinto failed, message kept in INBOX");
                    fall_back = true;
                }
                Err(other) => return Err(other),
            },
            Action::Reject { reason, .. } => {
                // Still in the LMTP transaction (or `deliver`): refusing
                // it there is what RFC 5429 §2.1 prefers for reject too.
                tracing::info!(user = %user.name, script, %reason, "sieve: message rejected");
                return Err(DeliveryError::Rejected(reason));
            }
            Action::Redirect { address } => {
                tracing::warn!(user = %user.name, script, address, "sieve: redirect needs an SMTP relay, which this server does not have yet; message kept in INBOX");
                fall_back = true;
            }
            Action::Vacation(_) => {
                tracing::warn!(user = %user.name, script, "sieve: vacation replies need an SMTP relay, which this server does not have yet; no reply sent");
            }
        }
    }
    let in_inbox = delivered.stored.iter().any(|(name, _)| name == "INBOX");
    if fall_back && !in_inbox {
        delivered
            .stored
            .push(store_copy(store, user, &inbox, message, Flags::default())?);
    }
    Ok(delivered)
}

/// `fileinto`: into `mailbox`, made first with `:create` (and
/// subscribed, as a client would); a store failure other than quota is
/// the caller's to fall back from.
fn file_into(
    store: &dyn MailStore,
    user: &UserRecord,
    mailbox: &str,
    create: bool,
    message: &[u8],
    flags: Flags,
) -> Result<(String, u32), DeliveryError> {
    let name = MailboxName::new(mailbox).map_err(|e| DeliveryError::Temporary(e.to_string()))?;
    if create
        && store
            .list_mailboxes(user.id)
            .is_ok_and(|all| !all.iter().any(|m| m.name == name.as_str()))
    {
        store
            .create_mailbox(user.id, &name, None)
            .and_then(|_| store.set_subscribed(user.id, &name, true))
            .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
    }
    match store_copy(store, user, &name, message, flags) {
        Err(DeliveryError::OverQuota) => Err(DeliveryError::OverQuota),
        Err(other) => Err(DeliveryError::Temporary(other.to_string())),
        Ok(stored) => Ok(stored),
    }
}

/// Sieve flag names as stored flags: the system flags by name, valid
/// keywords as they are; `\Recent` and anything else left out.
fn to_flags(names: &[String]) -> Flags {
    let mut flags = Flags::default();
    for name in names {
        let bit = match Flag::parse_str(name) {
            Some(Flag::Seen) => SystemFlags::SEEN,
            Some(Flag::Answered) => SystemFlags::ANSWERED,
            Some(Flag::Flagged) => SystemFlags::FLAGGED,
            Some(Flag::Deleted) => SystemFlags::DELETED,
            Some(Flag::Draft) => SystemFlags::DRAFT,
            Some(Flag::Keyword(keyword)) => {
                if !flags
                    .keywords
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&keyword))
                {
                    flags.keywords.push(keyword);
                }
                continue;
            }
            _ => continue,
        };
        flags.system = SystemFlags(flags.system.0 | bit);
    }
    flags
}
