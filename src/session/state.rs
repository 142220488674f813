//! The RFC 3501 §3 connection states and what each carries.

use crate::store::{MailboxId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
}

/// This session's view of its selected mailbox. Sequence numbers are
/// indexes into `uids` plus one; they change only when this session is told.
#[derive(Debug, Clone)]
pub struct Selection {
    pub mailbox: MailboxId,
    pub name: String,
    pub read_only: bool,
    pub uidvalidity: u32,
    pub uids: Vec<u32>,
    /// UIDs this session reports as `\Recent`.
    pub recent: Vec<u32>,
}

impl Selection {
    pub fn last_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub enum State {
    NotAuthenticated,
    Authenticated(User),
    Selected(User, Selection),
    Logout,
}

impl State {
    pub fn user(&self) -> Option<&User> {
        match self {
            State::Authenticated(user) | State::Selected(user, _) => Some(user),
            State::NotAuthenticated | State::Logout => None,
        }
    }

    pub fn selection(&self) -> Option<&Selection> {
        match self {
            State::Selected(_, selection) => Some(selection),
            _ => None,
        }
    }

    pub fn selection_mut(&mut self) -> Option<&mut Selection> {
        match self {
            State::Selected(_, selection) => Some(selection),
            _ => None,
        }
    }

    /// Leaves the selected state (CLOSE, UNSELECT, a failed SELECT).
    pub fn deselect(&mut self) {
        if let State::Selected(user, _) = self {
            *self = State::Authenticated(user.clone());
        }
    }
}
