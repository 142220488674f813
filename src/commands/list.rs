//! LIST, LSUB and NAMESPACE.

use std::collections::{BTreeSet, HashSet};

use super::pattern::Pattern;
use super::user;
use crate::proto::{ListCommand, ListReturn, encode, mutf7};
use crate::session::Session;
use crate::session::reply::{CommandResult, Done};
use crate::store::{DELIMITER, MailboxInfo};

pub fn namespace(s: &mut Session) -> CommandResult {
    s.untagged(format_args!("NAMESPACE ((\"\" \"{DELIMITER}\")) NIL NIL"));
    Ok(Done::ok("NAMESPACE completed"))
}

fn decode(raw: &[u8]) -> Result<String, Done> {
    mutf7::decode(raw).map_err(|_| Done::bad("Invalid modified UTF-7 in mailbox pattern"))
}

fn pattern(reference: &str, pattern: &str) -> Result<Pattern, Done> {
    Pattern::new(reference, pattern).ok_or_else(|| Done::bad("Mailbox pattern too long"))
}

/// The reply to an empty pattern: the delimiter and the reference's root
/// (RFC 3501 §6.3.8), e.g. `foo/` for reference `foo/bar`.
fn write_root(s: &mut Session, verb: &str, reference: &str) {
    let root = reference.find(DELIMITER).map_or("", |i| &reference[..=i]);
    write_entry(s, verb, &["\\Noselect"], root);
}

fn write_entry(s: &mut Session, verb: &str, attributes: &[&str], name: &str) {
    s.out.extend_from_slice(
        format!("* {verb} ({}) \"{DELIMITER}\" ", attributes.join(" ")).as_bytes(),
    );
    encode::mailbox(&mut s.out, name, false);
    s.out.extend_from_slice(b"\r\n");
}

pub async fn list(s: &mut Session, command: ListCommand) -> CommandResult {
    if !command.selection_options.is_empty() {
        return Err(Done::bad(
            "LIST selection options are not supported (no LIST-EXTENDED)",
        ));
    }
    let mut want_subscribed = false;
    for option in &command.return_options {
        match option {
            // Special-use and children attributes are always returned.
            ListReturn::SpecialUse | ListReturn::Children => {}
            ListReturn::Subscribed => want_subscribed = true,
            ListReturn::Status(_) | ListReturn::Other(_) => {
                return Err(Done::bad("Unsupported LIST return option"));
            }
        }
    }
    let reference = decode(&command.reference)?;
    let patterns = command
        .patterns
        .iter()
        .map(|raw| decode(raw))
        .collect::<Result<Vec<_>, _>>()?;
    if patterns.iter().all(String::is_empty) {
        write_root(s, "LIST", &reference);
        return Ok(Done::ok("LIST completed"));
    }
    let patterns = patterns
        .iter()
        .map(|p| pattern(&reference, p))
        .collect::<Result<Vec<_>, _>>()?;

    let user = user(s)?;
    let (mailboxes, subscriptions) = s
        .store(move |store| {
            let subscriptions = if want_subscribed {
                store.list_subscriptions(user.id)?
            } else {
                Vec::new()
            };
            Ok((store.list_mailboxes(user.id)?, subscriptions))
        })
        .await?;
    let subscriptions: HashSet<&str> = subscriptions.iter().map(String::as_str).collect();
    let parents = parents(&mailboxes);
    for mailbox in &mailboxes {
        if !patterns.iter().any(|p| p.matches(&mailbox.name)) {
            continue;
        }
        let mut attributes = Vec::new();
        if !mailbox.selectable {
            attributes.push("\\Noselect");
        }
        attributes.push(if parents.contains(mailbox.name.as_str()) {
            "\\HasChildren"
        } else {
            "\\HasNoChildren"
        });
        if let Some(special_use) = mailbox.special_use {
            attributes.push(special_use.attribute());
        }
        if subscriptions.contains(mailbox.name.as_str()) {
            attributes.push("\\Subscribed");
        }
        write_entry(s, "LIST", &attributes, &mailbox.name);
    }
    Ok(Done::ok("LIST completed"))
}

/// Names that have at least one inferior.
fn parents(mailboxes: &[MailboxInfo]) -> HashSet<&str> {
    mailboxes
        .iter()
        .flat_map(|m| m.name.match_indices(DELIMITER).map(|(i, _)| &m.name[..i]))
        .collect()
}

pub async fn lsub(s: &mut Session, raw_reference: &[u8], raw_pattern: &[u8]) -> CommandResult {
    let reference = decode(raw_reference)?;
    let pattern_text = decode(raw_pattern)?;
    if pattern_text.is_empty() {
        write_root(s, "LSUB", &reference);
        return Ok(Done::ok("LSUB completed"));
    }
    let pattern = pattern(&reference, &pattern_text)?;
    let user = user(s)?;
    let subscriptions = s
        .store(move |store| store.list_subscriptions(user.id))
        .await?;
    let subscribed: HashSet<&str> = subscriptions.iter().map(String::as_str).collect();
    // RFC 3501 §6.3.9: with `%`, an unsubscribed level above a subscribed
    // name that the pattern does not reach is listed as \Noselect.
    let mut implied = BTreeSet::new();
    for name in &subscriptions {
        if pattern.matches(name) {
            write_entry(s, "LSUB", &[], name);
            continue;
        }
        for (i, _) in name.match_indices(DELIMITER) {
            let superior = &name[..i];
            if !subscribed.contains(superior) && pattern.matches(superior) {
                implied.insert(superior);
            }
        }
    }
    for superior in implied {
        write_entry(s, "LSUB", &["\\Noselect"], superior);
    }
    Ok(Done::ok("LSUB completed"))
}
