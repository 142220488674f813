//! Catch-ups shared by the sessions that ask the same question at once.
//!
//! A change wakes every session watching the mailbox, and sessions that
//! were up to date ask the same thing: what changed since MODSEQ m above
//! UID u. A team mailbox with 1,000 idlers would send PostgreSQL 1,000
//! identical transactions; the first answer serves the rest, for as long
//! as this node has heard of no later change to the mailbox and at most
//! [`FRESH`] (so a node cut off from the database soon stops answering
//! from memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::notify::ChangeNotifier;
use crate::store::{Changes, MailboxId};

const FRESH: Duration = Duration::from_millis(500);
/// Answers kept at most (sessions at different points of one mailbox, or
/// in different mailboxes, each need their own).
const MOST: usize = 4096;

/// (mailbox, since MODSEQ, last UID known).
type Question = (MailboxId, u64, u32);

#[derive(Default)]
pub struct CatchUps {
    answers: Mutex<HashMap<Question, (Instant, Changes)>>,
}

impl CatchUps {
    /// The answer given to another session, if it still holds: newer than
    /// any change this node has heard of since, and fresh.
    pub fn answer(&self, question: Question, notifier: &ChangeNotifier) -> Option<Changes> {
        let latest = notifier.latest(question.0)?;
        let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        let (at, changes) = answers.get(&question)?;
        (at.elapsed() < FRESH && changes.highest_modseq >= latest).then(|| changes.clone())
    }

    /// Keeps `changes` for the next session asking `question`. `\Recent`
    /// belongs to one session only: the others are told of none.
    pub fn keep(&self, question: Question, changes: &Changes) {
        let mut shared = changes.clone();
        for message in &mut shared.new {
            message.recent = false;
        }
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        if answers.len() >= MOST {
            answers.retain(|_, (at, _)| at.elapsed() < FRESH);
        }
        if answers.len() < MOST {
            answers.insert(question, (Instant::now(), shared));
        }
    }
}
