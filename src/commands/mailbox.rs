//! CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE and STATUS.

use super::{access, mailbox_name, private_seen, user};
use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::proto::{CreateCommand, RenameCommand, StatusCommand, StatusItem};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::{Access, MailboxStatus, SpecialUse};

pub async fn create(s: &mut Session, command: CreateCommand) -> CommandResult {
    let name = mailbox_name(s, &command.mailbox)?;
    if name.as_str().contains(['*', '%']) {
        return Err(Done::no(
            "Mailbox names may not contain the LIST wildcards * and %",
        ));
    }
    let special_use = use_attribute(&command.special_use)?;
    let user = user(s)?;
    let (who, what) = (user.name.clone(), name.clone());
    let (owner, name) = access::creation(s, name).await?;
    s.store(Access::Write, move |store| {
        store.create_mailbox(owner, &name, special_use)
    })
    .await?;
    tracing::info!(user = %who, mailbox = %what, "mailbox created");
    Ok(Done::ok("CREATE completed"))
}

/// The special use a `CREATE name (USE (...))` asks for. RFC 6154 §3: a use
/// the server does not support, or cannot assign (this store keeps one per
/// mailbox), fails the CREATE with `NO [USEATTR]` and creates nothing.
fn use_attribute(attributes: &[String]) -> Result<Option<SpecialUse>, Done> {
    match attributes {
        [] => Ok(None),
        [one] => SpecialUse::from_attribute(one).map(Some).ok_or_else(|| {
            Done::no(format!("{one} is not a supported special use")).with_code(Code::UseAttr)
        }),
        _ => Err(Done::no("Only one special-use attribute per mailbox").with_code(Code::UseAttr)),
    }
}

pub async fn delete(s: &mut Session, raw_name: &[u8]) -> CommandResult {
    let target = access::target(s, raw_name).await?;
    target.require(Rights::DELETE_MAILBOX)?;
    let who = user(s)?.name;
    let what = target.shown;
    let (owner, name) = (target.owner, target.name);
    s.store(Access::Write, move |store| {
        store.delete_mailbox(owner, &name)
    })
    .await?;
    tracing::info!(user = %who, mailbox = %what, "mailbox deleted");
    Ok(Done::ok("DELETE completed"))
}

pub async fn rename(s: &mut Session, command: RenameCommand) -> CommandResult {
    let from = mailbox_name(s, &command.from)?;
    let to = mailbox_name(s, &command.to)?;
    if to.as_str().contains(['*', '%']) {
        return Err(Done::no(
            "Mailbox names may not contain the LIST wildcards * and %",
        ));
    }
    let who = user(s)?.name;
    let (old, new) = (from.clone(), to.clone());
    let from = access::resolve(s, from).await?;
    from.require(Rights::DELETE_MAILBOX)?;
    let (owner, to) = access::creation(s, to).await?;
    if owner != from.owner {
        return Err(Done::no("Mailboxes cannot move between accounts").with_code(Code::Cannot));
    }
    let from = from.name;
    s.store(Access::Write, move |store| {
        store.rename_mailbox(owner, &from, &to)
    })
    .await?;
    tracing::info!(user = %who, from = %old, to = %new, "mailbox renamed");
    Ok(Done::ok("RENAME completed"))
}

pub async fn subscribe(s: &mut Session, raw_name: &[u8], subscribed: bool) -> CommandResult {
    let name = mailbox_name(s, raw_name)?;
    let user = user(s)?;
    s.store(Access::Write, move |store| {
        store.set_subscribed(user.id, &name, subscribed)
    })
    .await?;
    let verb = if subscribed {
        "SUBSCRIBE"
    } else {
        "UNSUBSCRIBE"
    };
    Ok(Done::ok(format!("{verb} completed")))
}

pub async fn status(s: &mut Session, command: StatusCommand) -> CommandResult {
    let target = access::target(s, &command.mailbox).await?;
    target.require(Rights::READ)?;
    let (owner, lookup) = (target.owner, target.name);
    let viewer = (!target.personal).then_some(user(s)?.id);
    let status = s
        .store(Access::Read, move |store| {
            private_seen::status(store, store.status(owner, &lookup)?, viewer)
        })
        .await?;
    s.send(status_response(&target.shown, &status, &command.items));
    Ok(Done::ok("STATUS completed"))
}

/// `* STATUS name (ITEM value ...)` with the items asked for. STATUS and
/// LIST-STATUS (RFC 5819 §2) share it so both answer every item alike.
pub(super) fn status_response(
    name: &str,
    status: &MailboxStatus,
    items: &[StatusItem],
) -> Untagged {
    Untagged::Status {
        mailbox: name.to_owned(),
        items: items
            .iter()
            .map(|item| (*item, status_value(status, *item)))
            .collect(),
    }
}

fn status_value(status: &MailboxStatus, item: StatusItem) -> u64 {
    match item {
        StatusItem::Messages => u64::from(status.messages),
        StatusItem::Recent => u64::from(status.recent),
        StatusItem::UidNext => u64::from(status.uidnext),
        StatusItem::UidValidity => u64::from(status.uidvalidity),
        StatusItem::Unseen => u64::from(status.unseen),
        StatusItem::HighestModSeq => status.highest_modseq,
        StatusItem::Size => status.size,
        StatusItem::Deleted => u64::from(status.deleted),
    }
}
