//! Whose mailbox a name is and what the user may do with it (RFC 2342
//! namespaces, RFC 4314 rights).
//!
//! - Personal names (`INBOX`, `Projects/2026`): the user's own mailboxes,
//!   every right.
//! - `Other Users/bob/NAME`: bob's mailbox NAME, with the rights bob's
//!   ACL on it gives.
//! - `Shared/support` and `Shared/support/NAME`: the team account
//!   support's INBOX and its mailbox NAME.
//! - The prefixes themselves (`Other Users`, `Other Users/bob`,
//!   `Shared`) are never mailboxes.
//!
//! A mailbox the user may neither look up nor read (`l`, `r`) is answered
//! exactly as one that does not exist (RFC 4314 §6).

use super::mailbox_name;
use crate::proto::CommandBody;
use crate::proto::response::{Code, Done};
use crate::session::Session;
use crate::store::acl::{Rights, rights_of};
use crate::store::{Access, AccountKind, MailboxName, SharedMailbox, StoreError, UserId};

pub use crate::store::names::{OTHER_USERS, SHARED, full_name};

/// Where a full name points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place<'a> {
    Personal,
    /// `Other Users/user/rest` (rest never empty).
    OtherUser {
        user: &'a str,
        rest: &'a str,
    },
    /// `Shared/team` (rest empty: the team's INBOX) or `Shared/team/rest`.
    Team {
        team: &'a str,
        rest: &'a str,
    },
    /// A namespace prefix or an account's root: never a mailbox.
    Prefix,
}

impl Place<'_> {
    /// The account and its mailbox name, for names in another account.
    fn account(&self) -> Option<(&str, AccountKind, String)> {
        match *self {
            Place::OtherUser { user, rest } => Some((user, AccountKind::Person, rest.to_owned())),
            Place::Team { team, rest: "" } => Some((team, AccountKind::Team, "INBOX".into())),
            Place::Team { team, rest } => Some((team, AccountKind::Team, rest.to_owned())),
            Place::Personal | Place::Prefix => None,
        }
    }
}

/// Splits a full mailbox name into its namespace and parts.
pub fn place(name: &str) -> Place<'_> {
    let under = |prefix: &str| -> Option<Option<&str>> {
        match name.strip_prefix(prefix)? {
            "" => Some(None),
            rest => rest.strip_prefix('/').map(Some),
        }
    };
    if let Some(rest) = under(OTHER_USERS) {
        return match rest.map(|r| r.split_once('/')) {
            Some(Some((user, rest))) if !user.is_empty() && !rest.is_empty() => {
                Place::OtherUser { user, rest }
            }
            _ => Place::Prefix,
        };
    }
    if let Some(rest) = under(SHARED) {
        return match rest {
            Some(rest) => match rest.split_once('/') {
                Some((team, rest)) if !team.is_empty() && !rest.is_empty() => {
                    Place::Team { team, rest }
                }
                None if !rest.is_empty() => Place::Team {
                    team: rest,
                    rest: "",
                },
                _ => Place::Prefix,
            },
            None => Place::Prefix,
        };
    }
    Place::Personal
}

/// A mailbox a command names, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    /// The account that holds it.
    pub owner: UserId,
    pub owner_name: String,
    /// Its name in that account.
    pub name: MailboxName,
    /// The name the client used (what responses show).
    pub shown: String,
    pub rights: Rights,
    /// The user's own mailbox.
    pub personal: bool,
    /// Its account keeps `\Seen` per user (a team's `private_seen`).
    pub private_seen: bool,
}

impl Target {
    /// Fails with `NO [NOPERM]` unless the user holds `needed`.
    pub fn require(&self, needed: Rights) -> Result<(), Done> {
        match self.rights.contains(needed) {
            true => Ok(()),
            false => Err(no_permission()),
        }
    }
}

pub fn no_permission() -> Done {
    Done::no("Permission denied").with_code(Code::NoPerm)
}

/// Resolves a mailbox argument from the wire.
pub async fn target(s: &mut Session, raw: &[u8]) -> Result<Target, Done> {
    let name = mailbox_name(s, raw)?;
    resolve(s, name).await
}

/// Resolves a decoded name: the account, the rights (one store read for a
/// name in another account), or the answer for a mailbox that does not
/// exist when the user may neither see nor read it.
pub async fn resolve(s: &mut Session, name: MailboxName) -> Result<Target, Done> {
    let user = super::user(s)?;
    let shown = name.to_string();
    let place = place(&shown);
    let Some((owner, kind, inner)) = place.account() else {
        return match place {
            Place::Prefix => Err(StoreError::NoSuchMailbox.into()),
            _ => Ok(Target {
                owner: user.id,
                owner_name: user.name,
                name,
                shown,
                rights: Rights::ALL,
                personal: true,
                private_seen: false,
            }),
        };
    };
    let inner = MailboxName::new(&inner).map_err(|_| Done::from(StoreError::NoSuchMailbox))?;
    let owner_name = owner.to_owned();
    let owner = owner_name.clone();
    let me = user.name.clone();
    let lookup = inner.clone();
    let found = s
        .store(Access::Read, move |store| {
            let Some(account) = store
                .find_user(&owner)?
                .filter(|a| a.kind == kind && a.name != me)
            else {
                return Err(StoreError::NoSuchMailbox);
            };
            let entries = store.acl(account.id, &lookup)?;
            Ok((account.id, rights_of(&me, &entries), account.private_seen))
        })
        .await;
    let (owner, rights, private_seen) = found?;
    if !rights.contains(Rights::LOOKUP) && !rights.contains(Rights::READ) {
        return Err(StoreError::NoSuchMailbox.into());
    }
    Ok(Target {
        owner,
        owner_name,
        name: inner,
        shown,
        rights,
        personal: false,
        private_seen,
    })
}

/// Where CREATE (or RENAME's new name) puts a mailbox that does not exist
/// yet: the account, and its name there. In another account the parent
/// needs the `k` right; an account's top level has no parent to grant it,
/// except a team's, whose root is its INBOX (`Shared/support`).
pub async fn creation(s: &mut Session, name: MailboxName) -> Result<(UserId, MailboxName), Done> {
    let full = name.to_string();
    match place(&full) {
        Place::Personal => Ok((super::user(s)?.id, name)),
        Place::Prefix => Err(Done::no(format!(
            "{full} is reserved for other users' and shared mailboxes"
        ))
        .with_code(Code::Cannot)),
        place => {
            let (_, _, inner) = place.account().expect("an account place");
            let parent = full
                .rsplit_once('/')
                .map(|(parent, _)| parent)
                .unwrap_or("");
            let parent = match MailboxName::new(parent) {
                Ok(parent) if !matches!(self::place(parent.as_str()), Place::Prefix) => parent,
                _ => return Err(no_permission()),
            };
            let parent = resolve(s, parent).await?;
            parent.require(Rights::CREATE)?;
            let inner = MailboxName::new(&inner).map_err(|e| Done::no(e.to_string()))?;
            Ok((parent.owner, inner))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(place("INBOX"), Place::Personal);
        assert_eq!(place("Other Usersx/a"), Place::Personal);
        assert_eq!(place("Shared stuff"), Place::Personal);
        assert_eq!(place("Other Users"), Place::Prefix);
        assert_eq!(place("Other Users/bob"), Place::Prefix);
        assert_eq!(place("Other Users//INBOX"), Place::Prefix);
        assert_eq!(
            place("Other Users/bob/INBOX"),
            Place::OtherUser {
                user: "bob",
                rest: "INBOX"
            }
        );
        assert_eq!(
            place("Other Users/bob/a/b"),
            Place::OtherUser {
                user: "bob",
                rest: "a/b"
            }
        );
        assert_eq!(place("Shared"), Place::Prefix);
        assert_eq!(place("Shared/"), Place::Prefix);
        assert_eq!(
            place("Shared/support"),
            Place::Team {
                team: "support",
                rest: ""
            }
        );
        assert_eq!(
            place("Shared/support/Done/2026"),
            Place::Team {
                team: "support",
                rest: "Done/2026"
            }
        );
    }

    #[test]
    fn full_names_round_trip() {
        for (owner, kind, name) in [
            ("bob", AccountKind::Person, "INBOX"),
            ("bob", AccountKind::Person, "a/b"),
            ("support", AccountKind::Team, "INBOX"),
            ("support", AccountKind::Team, "Done"),
        ] {
            let full = full_name(owner, kind, name);
            let place = place(&full);
            let (o, k, n) = place.account().unwrap();
            assert_eq!((o, k, n.as_str()), (owner, kind, name), "{full}");
        }
    }
}

/// Before a command in a mailbox of another account: reads the user's
/// rights there again, and refuses the message commands once `r` is gone.
pub async fn refresh_selected(s: &mut Session, body: &CommandBody) -> Result<(), Done> {
    let Some((owner, name)) = s.state.selection().and_then(|sel| sel.shared.clone()) else {
        return Ok(());
    };
    let me = super::user(s)?.name;
    let entries = s
        .store(Access::Read, move |store| store.acl(owner, &name))
        .await;
    // A mailbox deleted meanwhile: catching up tells the session.
    let rights = entries
        .map(|entries| rights_of(&me, &entries))
        .unwrap_or(Rights::NONE);
    if let Some(selection) = s.state.selection_mut() {
        selection.rights = rights;
    }
    use CommandBody::*;
    let reads = matches!(
        body,
        Fetch(_)
            | Store(_)
            | Copy(_)
            | Move(_)
            | Search(_)
            | Sort(_)
            | Thread(_)
            | Expunge
            | UidExpunge(_)
    );
    match reads && !rights.contains(Rights::READ) {
        true => Err(no_permission()),
        false => Ok(()),
    }
}

/// A mailbox of another account that LIST shows: the user holds `l`.
#[derive(Debug, Clone)]
pub struct Visible {
    /// The full name (`Other Users/bob/INBOX`, `Shared/support`).
    pub full: String,
    pub owner: UserId,
    /// Its name in its account.
    pub name: String,
    pub selectable: bool,
    pub rights: Rights,
}

/// Of the mailboxes shared with `user`, those they may look up.
pub fn visible(shared: Vec<SharedMailbox>, user: &str) -> Vec<Visible> {
    shared
        .into_iter()
        .filter_map(|m| {
            let rights = rights_of(user, &m.entries);
            rights.contains(Rights::LOOKUP).then(|| Visible {
                full: full_name(&m.owner_name, m.owner_kind, &m.mailbox.name),
                owner: m.owner,
                name: m.mailbox.name,
                selectable: m.mailbox.selectable,
                rights,
            })
        })
        .collect()
}
