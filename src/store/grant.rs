//! Changing an ACL entry, and what comes with a grant: a user newly
//! allowed to look up a mailbox of another account is subscribed to it
//! (when the configuration says so), so that clients showing subscribed
//! folders only, Thunderbird's default, show it at once. Used by SETACL,
//! DELETEACL and `letterbox acl`.

use super::acl::{Entry, Identifier, Rights, rights_of};
use super::names::full_name;
use super::{MailStore, MailboxName, StoreResult, UserRecord};

/// Sets `entry` on `owner`'s mailbox `name` (empty rights remove it).
pub fn set_entry(
    store: &dyn MailStore,
    owner: &UserRecord,
    name: &MailboxName,
    entry: &Entry,
    subscribe: bool,
) -> StoreResult<()> {
    let before = store.acl(owner.id, name)?;
    store.set_acl(owner.id, name, entry)?;
    let Identifier::User(user) = &entry.identifier else {
        return Ok(());
    };
    if !subscribe || entry.negative || *user == owner.name {
        return Ok(());
    }
    let after = store.acl(owner.id, name)?;
    let could = rights_of(user, &before).contains(Rights::LOOKUP);
    let can = rights_of(user, &after).contains(Rights::LOOKUP);
    if could || !can {
        return Ok(());
    }
    if let Some(grantee) = store.find_user(user)? {
        let shown = full_name(&owner.name, owner.kind, name.as_str());
        if let Ok(shown) = MailboxName::new(&shown) {
            store.set_subscribed(grantee.id, &shown, true)?;
        }
    }
    Ok(())
}
