//! Local delivery: mapping recipient addresses to users and storing a
//! message for them. Used by LMTP and by the `deliver` command.

use chrono::Utc;

pub mod filter;
pub mod outgoing;
mod smtp;
mod vacation;

use crate::config::Config;
use crate::mail::{new_message, to_crlf};
use crate::quota_warning;
use crate::store::{Flags, MailStore, MailboxName, StoreError, UserRecord};

/// A recipient resolved to a user, with the mailbox a `+tag` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub tag: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    #[error("No such user here")]
    UnknownUser,
    #[error("Message is larger than {0} octets")]
    TooBig(u64),
    #[error("Empty message")]
    Empty,
    #[error("Mailbox full (quota exceeded)")]
    OverQuota,
    #[error("Temporary failure: {0}")]
    Temporary(String),
    /// A Sieve `reject`/`ereject`: refused, with the script's reason.
    #[error("Refused: {0}")]
    Rejected(String),
}

/// Maps an address (`<Alice+news@Example.com>`, `alice`) to a user name:
/// aliases first (the whole address, then its local part), then
/// plus-addressing (`user+tag`). `None` when the domain is not accepted.
pub fn resolve(config: &Config, address: &str) -> Option<Target> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let address = address.to_lowercase();
    let (local, domain) = match address.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (address.as_str(), None),
    };
    if local.is_empty() {
        return None;
    }
    let domains = &config.delivery.domains;
    if let Some(domain) = domain
        && !domains.is_empty()
        && !domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    {
        return None;
    }
    let alias = |key: &str| {
        config
            .aliases
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, user)| user.clone())
    };
    if let Some(user) = alias(&address).or_else(|| alias(local)) {
        return Some(Target { user, tag: None });
    }
    let (user, tag) = match local.split_once('+') {
        Some((user, tag)) if !user.is_empty() => (user, (!tag.is_empty()).then(|| tag.to_owned())),
        _ => (local, None),
    };
    let user = alias(user).unwrap_or_else(|| user.to_owned());
    Some(Target { user, tag })
}

/// The envelope of one delivery, for the trace headers.
pub struct Envelope<'a> {
    /// MAIL FROM (empty for bounces).
    pub sender: &'a str,
    /// The recipient address as given.
    pub recipient: &'a str,
}

/// Looks a user up, as delivery needs: unknown is a permanent failure,
/// a store error a temporary one.
pub fn find_user(store: &dyn MailStore, name: &str) -> Result<UserRecord, DeliveryError> {
    match store.find_user(name) {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(DeliveryError::UnknownUser),
        Err(e) => Err(DeliveryError::Temporary(e.to_string())),
    }
}

/// What a delivery stored: each copy's mailbox and UID (none when a
/// Sieve script discarded the message), and the mail it sends on, which
/// the caller sends after the store work ([`outgoing::Outgoing::send`]).
#[derive(Debug, Default)]
pub struct Delivered {
    pub stored: Vec<(String, u32)>,
    pub outgoing: Option<outgoing::Outgoing>,
}

/// [`deliver`], then what it sends on, in one go: for `letterbox
/// deliver`, a process of its own where nothing else waits on the store.
pub fn deliver_and_send(
    store: &dyn MailStore,
    config: &Config,
    target: &Target,
    mailbox: Option<&str>,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<Delivered, DeliveryError> {
    let mut delivered = deliver(store, config, target, mailbox, envelope, raw)?;
    if let Some(outgoing) = delivered.outgoing.take()
        && outgoing.send(config)
    {
        outgoing.keep(store, &mut delivered)?;
    }
    Ok(delivered)
}

/// Stores `raw` for `target`, with `Return-Path` and `Delivered-To`
/// prepended and line ends made CRLF, where the user's active Sieve
/// script puts it (see [`filter`]). Without a script, or for what the
/// script keeps: `mailbox` (or the `+tag` mailbox when configured and
/// present) when it exists, INBOX otherwise. Every copy is committed when
/// this returns `Ok`.
pub fn deliver(
    store: &dyn MailStore,
    config: &Config,
    target: &Target,
    mailbox: Option<&str>,
    envelope: &Envelope,
    raw: &[u8],
) -> Result<Delivered, DeliveryError> {
    if raw.is_empty() {
        return Err(DeliveryError::Empty);
    }
    let user = find_user(store, &target.user)?;
    let mut message = format!(
        "Return-Path: <{}>\r\nDelivered-To: {}\r\n",
        envelope.sender,
        envelope
            .recipient
            .trim_start_matches('<')
            .trim_end_matches('>')
    )
    .into_bytes();
    message.extend_from_slice(raw);
    let message = to_crlf(&message).into_owned();
    let limit = config.limits.max_message_size;
    if message.len() as u64 > limit {
        return Err(DeliveryError::TooBig(limit));
    }
    let wanted = mailbox.map(str::to_owned).or_else(|| {
        target
            .tag
            .clone()
            .filter(|_| config.delivery.plus_to_mailbox)
    });
    let inbox = MailboxName::new("INBOX").expect("INBOX is valid");
    let keep_into = wanted
        .and_then(|name| existing_mailbox(store, user.id, &name))
        .unwrap_or(inbox);
    let delivered = filter::deliver(store, config, &user, &keep_into, envelope, &message)?;
    quota_warning::after_new_mail(store, &config.quota, user.id, &user.name);
    Ok(delivered)
}

/// Stores one copy of `message` in `mailbox` with `flags`.
fn store_copy(
    store: &dyn MailStore,
    user: &UserRecord,
    mailbox: &MailboxName,
    message: &[u8],
    flags: Flags,
) -> Result<(String, u32), DeliveryError> {
    let message = new_message(message, flags, Utc::now().fixed_offset());
    let outcome = store
        .append(user.id, mailbox, message)
        .map_err(DeliveryError::from)?;
    Ok((mailbox.to_string(), outcome.uid))
}

/// This machine's name: LMTP's greeting, SMTP's EHLO, Message-IDs.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The addresses that reach `user`: the recipient address used, the
/// user at each delivery domain, and the aliases that name them.
pub fn own_addresses(config: &Config, user: &str, recipient: &str) -> Vec<String> {
    let mut out = vec![
        recipient
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned(),
    ];
    let domains = &config.delivery.domains;
    out.extend(domains.iter().map(|d| format!("{user}@{d}")));
    for (alias, _) in config.aliases.iter().filter(|(_, target)| *target == user) {
        match alias.contains('@') {
            true => out.push(alias.clone()),
            false => out.extend(domains.iter().map(|d| format!("{alias}@{d}"))),
        }
    }
    out
}

/// The user's selectable mailbox with this name (exact, else the only one
/// matching case-insensitively, as a `+tag` is usually lower-cased).
fn existing_mailbox(store: &dyn MailStore, user: i64, name: &str) -> Option<MailboxName> {
    let mailboxes = store.list_mailboxes(user).ok()?;
    let selectable = mailboxes.iter().filter(|m| m.selectable);
    let found = selectable.clone().find(|m| m.name == name).or_else(|| {
        let mut folded = selectable.filter(|m| m.name.eq_ignore_ascii_case(name));
        match (folded.next(), folded.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    })?;
    MailboxName::new(&found.name).ok()
}

impl From<StoreError> for DeliveryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OverQuota => DeliveryError::OverQuota,
            other => DeliveryError::Temporary(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(domains: &[&str], aliases: &[(&str, &str)]) -> Config {
        let mut config = Config::dev();
        config.delivery.domains = domains.iter().map(|d| d.to_string()).collect();
        config.aliases = aliases
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        config
    }

    fn target(user: &str, tag: Option<&str>) -> Option<Target> {
        Some(Target {
            user: user.into(),
            tag: tag.map(str::to_owned),
        })
    }

    #[test]
    fn addresses_map_to_users() {
        let c = config(
            &["example.com"],
            &[("sales@example.com", "alice"), ("postmaster", "bob")],
        );
        assert_eq!(resolve(&c, "<Alice@Example.com>"), target("alice", None));
        assert_eq!(
            resolve(&c, "alice+News@example.com"),
            target("alice", Some("news"))
        );
        assert_eq!(resolve(&c, "alice+@example.com"), target("alice", None));
        assert_eq!(resolve(&c, "sales@example.com"), target("alice", None));
        assert_eq!(resolve(&c, "postmaster@example.com"), target("bob", None));
        assert_eq!(resolve(&c, "alice@other.org"), None, "domain not accepted");
        assert_eq!(
            resolve(&c, "carol"),
            target("carol", None),
            "bare user names (deliver --to)"
        );
        assert_eq!(resolve(&c, "<>"), None);
        let any = config(&[], &[]);
        assert_eq!(resolve(&any, "alice@anywhere.net"), target("alice", None));
    }
}
