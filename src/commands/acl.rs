//! SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS (RFC 4314 §3).
//!
//! The owner of a personal mailbox holds every right and cannot lose
//! any: their entry is shown, never stored. Every change is written to
//! the audit log (target `audit`).

use super::access::{self, Target};
use super::user;
use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::session::Session;
use crate::store::acl::{
    Change, Entry, Rights, entry_rights, names_owner, parse_identifier, valid_identifier,
};
use crate::store::{Access, StoreError, grant};

/// SETACL with `+`/`-` (add, take away) or plain rights (replace).
pub async fn set_acl(
    s: &mut Session,
    mailbox: &[u8],
    identifier: &[u8],
    rights: &[u8],
) -> CommandResult {
    let identifier = identifier_text(identifier)?;
    let rights = String::from_utf8(rights.to_vec()).map_err(|_| Done::bad("Invalid rights"))?;
    // RFC 4314 §3.1: an unknown right is a BAD, never ignored.
    let change =
        Change::parse(&rights).map_err(|c| Done::bad(format!("The {c} right is not supported")))?;
    let target = administered(s, mailbox, &identifier).await?;
    let (owner, name) = (target.owner, target.name.clone());
    let entries = s
        .store(Access::Read, move |store| store.acl(owner, &name))
        .await?;
    let (parsed, negative) = parse_identifier(&identifier);
    let rights = change.apply(entry_rights(&entries, &parsed, negative));
    store_entry(s, &target, parsed, negative, rights).await?;
    audit(s, &target, &identifier, &rights.to_string());
    Ok(Done::ok("SETACL completed"))
}

pub async fn delete_acl(s: &mut Session, mailbox: &[u8], identifier: &[u8]) -> CommandResult {
    let identifier = identifier_text(identifier)?;
    let target = administered(s, mailbox, &identifier).await?;
    let (parsed, negative) = parse_identifier(&identifier);
    store_entry(s, &target, parsed, negative, Rights::NONE).await?;
    audit(s, &target, &identifier, "");
    Ok(Done::ok("DELETEACL completed"))
}

pub async fn get_acl(s: &mut Session, mailbox: &[u8]) -> CommandResult {
    let target = access::target(s, mailbox).await?;
    target.require(Rights::ADMIN)?;
    let (owner, name) = (target.owner, target.name.clone());
    let entries = s
        .store(Access::Read, move |store| store.acl(owner, &name))
        .await?;
    let mut shown = Vec::new();
    if target.personal {
        shown.push((target.owner_name.clone(), Rights::ALL.with_obsolete()));
    }
    shown.extend(entries.iter().map(|e| (e.name(), e.rights.with_obsolete())));
    s.send(Untagged::Acl {
        mailbox: target.shown,
        entries: shown,
    });
    Ok(Done::ok("GETACL completed"))
}

/// What may be granted: nothing is required (everything for the owner,
/// who always has it), every right is optional on its own.
pub async fn list_rights(s: &mut Session, mailbox: &[u8], identifier: &[u8]) -> CommandResult {
    let identifier = identifier_text(identifier)?;
    let target = access::target(s, mailbox).await?;
    target.require(Rights::ADMIN)?;
    let owner = target.personal && identifier == target.owner_name;
    let (required, optional) = match owner {
        true => (Rights::ALL.with_obsolete(), Vec::new()),
        false => (String::new(), Rights::ALL.each()),
    };
    s.send(Untagged::ListRights {
        mailbox: target.shown,
        identifier,
        required,
        optional,
    });
    Ok(Done::ok("LISTRIGHTS completed"))
}

pub async fn my_rights(s: &mut Session, mailbox: &[u8]) -> CommandResult {
    let target = access::target(s, mailbox).await?;
    s.send(Untagged::MyRights {
        mailbox: target.shown,
        rights: target.rights.with_obsolete(),
    });
    Ok(Done::ok("MYRIGHTS completed"))
}

fn identifier_text(raw: &[u8]) -> Result<String, Done> {
    let text = String::from_utf8(raw.to_vec()).map_err(|_| Done::bad("Identifier is not UTF-8"))?;
    match valid_identifier(&text) {
        true => Ok(text),
        false => Err(Done::bad("Invalid identifier")),
    }
}

/// The mailbox, when the user holds `a` there and the change is not one
/// of the owner's rights (which cannot change).
async fn administered(s: &mut Session, mailbox: &[u8], identifier: &str) -> Result<Target, Done> {
    let target = access::target(s, mailbox).await?;
    target.require(Rights::ADMIN)?;
    if target.personal && names_owner(identifier, &target.owner_name) {
        return Err(Done::no("The owner always holds every right").with_code(Code::Cannot));
    }
    Ok(target)
}

async fn store_entry(
    s: &mut Session,
    target: &Target,
    identifier: crate::store::acl::Identifier,
    negative: bool,
    rights: Rights,
) -> Result<(), Done> {
    let entry = Entry {
        identifier,
        negative,
        rights,
    };
    let (owner, name) = (target.owner_name.clone(), target.name.clone());
    let subscribe = s.ctx.config().sharing.subscribe_on_grant;
    s.store(Access::Write, move |store| {
        let owner = store.find_user(&owner)?.ok_or(StoreError::NoSuchMailbox)?;
        grant::set_entry(store, &owner, &name, &entry, subscribe)
    })
    .await?;
    Ok(())
}

fn audit(s: &Session, target: &Target, identifier: &str, rights: &str) {
    let by = user(s).map(|u| u.name).unwrap_or_default();
    tracing::info!(
        target: "audit",
        by = %by,
        account = %target.owner_name,
        mailbox = %target.name,
        identifier,
        rights,
        "ACL changed"
    );
}
