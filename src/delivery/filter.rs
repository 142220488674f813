//! The user's active Sieve script at delivery: run it, then carry out
//! what it says. Whatever goes wrong (a script that no longer compiles, a
//! runtime error, a mailbox that cannot be made, an action this server
//! cannot carry out) ends in the message kept (in INBOX, or the `+tag`
//! mailbox it was addressed to), logged with the
//! script's name and line: a script never makes mail disappear.

use super::outgoing::Outgoing;
use super::{Delivered, DeliveryError, Envelope, store_copy, vacation};
use std::path::Path;
use std::sync::Arc;

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
    let active = store
        .active_sieve_script(user.id)
        .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
    let personal = active.and_then(|(name, text)| match sieve::cache::compiled(&text) {
        Ok(script) => Some((name, script)),
        Err(error) => {
            tracing::error!(user = %user.name, script = %name, line = error.line, error = %error.message, "sieve: the active script does not compile, skipped");
            None
        }
    });
    let before = sysadmin_script(config.sieve.before.as_deref());
    let after = sysadmin_script(config.sieve.after.as_deref());
    let scripts: Vec<&sieve::Script> = before
        .iter()
        .chain(personal.as_ref().map(|(_, script)| script))
        .chain(after.iter())
        .map(|script| script.as_ref())
        .collect();
    if scripts.is_empty() {
        let stored = store_copy(store, user, keep_into, message, Flags::default())?;
        return Ok(Delivered {
            stored: vec![stored],
            outgoing: None,
        });
    }
    let name = personal
        .as_ref()
        .map_or("(sysadmin's)", |(name, _)| name.as_str());
    let account = Mailboxes {
        store,
        user,
        global_dir: config.sieve.global_dir.as_deref(),
    };
    let sieve_envelope = sieve::Envelope {
        from: envelope.sender.to_owned(),
        to: envelope
            .recipient
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned(),
        auth: None,
    };
    let parsed = Message::new(message);
    let limits = config.sieve.limits();
    let outcome = sieve::run_all(&scripts, &parsed, &sieve_envelope, &account, limits);
    if let Some(error) = &outcome.error {
        tracing::warn!(user = %user.name, script = %name, line = error.line, error = %error.message, "sieve: runtime error, message kept");
    }
    let actions = outcome.actions;
    let delivery = Delivery {
        store,
        config,
        user,
        script: name,
        envelope,
        message,
        parsed: &parsed,
    };
    delivery.carry_out(keep_into, actions)
}

/// What a script may ask of the user's account: their mailboxes
/// (`mailboxexists`, `fileinto` without `:create`) and the scripts it
/// may include (theirs, and the sysadmin's in `[sieve] global_dir`).
pub struct Mailboxes<'a> {
    pub store: &'a dyn MailStore,
    pub user: &'a UserRecord,
    pub global_dir: Option<&'a Path>,
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

    fn script(&self, global: bool, name: &str) -> Option<String> {
        match global {
            false => self.store.sieve_script(self.user.id, name).ok().flatten(),
            // The name was checked at compile time: no `/`, so no way out
            // of the directory.
            true => std::fs::read_to_string(self.global_dir?.join(format!("{name}.sieve"))).ok(),
        }
    }
}

/// A sysadmin's script (`[sieve] before`/`after`), compiled; a missing or
/// broken one is logged and skipped, never blocking delivery.
fn sysadmin_script(path: Option<&Path>) -> Option<Arc<sieve::Script>> {
    let path = path?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            tracing::error!(script = %path.display(), %error, "sieve: cannot read a [sieve] before/after script, skipped");
            return None;
        }
    };
    match sieve::cache::compiled(&text) {
        Ok(script) => Some(script),
        Err(error) => {
            tracing::error!(script = %path.display(), line = error.line, error = %error.message, "sieve: a [sieve] before/after script does not compile, skipped");
            None
        }
    }
}

/// One message's delivery through a script: what carrying out its
/// actions needs.
struct Delivery<'a> {
    store: &'a dyn MailStore,
    config: &'a Config,
    user: &'a UserRecord,
    script: &'a str,
    envelope: &'a Envelope<'a>,
    message: &'a [u8],
    /// The message as the script read it (parsed once).
    parsed: &'a Message<'a>,
}

impl Delivery<'_> {
    fn carry_out(
        &self,
        keep_into: &MailboxName,
        actions: Vec<Action>,
    ) -> Result<Delivered, DeliveryError> {
        let (store, user, script, message) = (self.store, self.user, self.script, self.message);
        let mut delivered = Delivered::default();
        let mut outgoing = Outgoing::new(
            user,
            script,
            self.envelope.sender,
            strip_return_path(message),
        );
        // Set when an action could not be carried out: the message then
        // goes to INBOX (once), as RFC 5228 §2.10.6's implicit keep.
        let mut fall_back = false;
        for action in actions {
            let result = match action {
                Action::Keep { flags } => {
                    store_copy(store, user, keep_into, message, to_flags(&flags)).map(Some)
                }
                Action::FileInto {
                    mailbox,
                    flags,
                    create,
                } => match file_into(store, user, &mailbox, create, message, to_flags(&flags)) {
                    Err(DeliveryError::Temporary(detail)) => {
                        tracing::warn!(user = %user.name, script, mailbox, %detail, "sieve: fileinto failed, message kept");
                        fall_back = true;
                        Ok(None)
                    }
                    other => other.map(Some),
                },
                Action::Reject { reason, .. } => {
                    // Still in the LMTP transaction (or `deliver`): refusing
                    // it there is what RFC 5429 §2.1 prefers for reject too.
                    tracing::info!(user = %user.name, script, %reason, "sieve: message rejected");
                    return Err(DeliveryError::Rejected(reason));
                }
                Action::Redirect { address } => {
                    match self.redirect_allowed(&address) {
                        Ok(()) => outgoing.redirects.push(address),
                        Err(error) => {
                            tracing::warn!(user = %user.name, script, address, %error, "sieve: no redirect, message kept");
                            fall_back = true;
                        }
                    }
                    Ok(None)
                }
                Action::Vacation(reply) => {
                    outgoing.vacation = self.vacation(&reply);
                    Ok(None)
                }
            };
            match result {
                Ok(Some(stored)) => delivered.stored.push(stored),
                Ok(None) => {}
                // Once a copy is in, a later failure (a full mailbox) must
                // not make the MTA bounce what was delivered, nor retry it.
                Err(error) if !delivered.stored.is_empty() => {
                    tracing::warn!(user = %user.name, script, %error, "sieve: an action failed after the message was stored");
                }
                Err(error) => return Err(error),
            }
        }
        let kept = delivered
            .stored
            .iter()
            .any(|(name, _)| name == "INBOX" || name == keep_into.as_str());
        if fall_back && !kept {
            delivered.stored.push(store_copy(
                store,
                user,
                keep_into,
                message,
                Flags::default(),
            )?);
        }
        outgoing.kept = kept || fall_back;
        delivered.outgoing = (!outgoing.is_empty()).then_some(outgoing);
        Ok(delivered)
    }

    /// Whether `redirect` may send to `address`: a relay is configured,
    /// and the message was not delivered to `address` before (a loop).
    fn redirect_allowed(&self, address: &str) -> Result<(), String> {
        if self.config.sieve.smtp_relay.is_none() {
            return Err("no [sieve] smtp_relay is configured".into());
        }
        let delivered_to = self.parsed.raw_header("delivered-to");
        if delivered_to.iter().any(|d| d.eq_ignore_ascii_case(address)) {
            return Err(format!(
                "a loop: the message was delivered to {address} before"
            ));
        }
        Ok(())
    }

    /// `vacation`: the reply to send, unless the message should get none
    /// or the sender was answered within the period (recorded now, so
    /// two deliveries at once send one reply).
    fn vacation(&self, vacation: &sieve::VacationReply) -> Option<vacation::Reply> {
        let (user, script) = (&self.user.name, self.script);
        let mut own = super::own_addresses(self.config, user, self.envelope.recipient);
        own.extend(vacation.addresses.iter().cloned());
        let hostname = super::hostname();
        let reply =
            match vacation::reply(vacation, self.parsed, self.envelope.sender, &own, &hostname) {
                Ok(reply) => reply,
                Err(why) => {
                    tracing::info!(%user, script, why, "sieve: no vacation reply");
                    return None;
                }
            };
        if self.config.sieve.smtp_relay.is_none() {
            tracing::warn!(%user, script, "sieve: no vacation reply: no [sieve] smtp_relay");
            return None;
        }
        let handle: String = vacation.handle.chars().take(200).collect();
        let now = chrono::Utc::now().timestamp();
        let period = vacation::period(vacation);
        let to = &reply.recipient;
        match self
            .store
            .vacation_reply_due(self.user.id, to, &handle, now, period)
        {
            Ok(true) => Some(reply),
            Ok(false) => {
                tracing::info!(%user, script, %to, "sieve: no vacation reply: answered within the period");
                None
            }
            Err(error) => {
                tracing::warn!(%user, script, %error, "sieve: no vacation reply: store failed");
                None
            }
        }
    }
}

/// The message without the `Return-Path` delivery put first.
fn strip_return_path(message: &[u8]) -> &[u8] {
    match message.starts_with(b"Return-Path:") {
        true => match message.iter().position(|&b| b == b'\n') {
            Some(end) => &message[end + 1..],
            None => message,
        },
        false => message,
    }
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
