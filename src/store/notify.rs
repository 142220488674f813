//! Per-mailbox wake-ups: one `watch` channel per mailbox that some session
//! is watching, carrying the mailbox's latest MODSEQ. A change wakes every
//! watcher of that mailbox once; sessions then ask the store what changed.
//! Nothing polls per session, so thousands of idle sessions cost a channel
//! subscription each.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use super::MailboxId;

#[derive(Default)]
pub struct ChangeNotifier {
    channels: Mutex<HashMap<MailboxId, watch::Sender<u64>>>,
}

impl ChangeNotifier {
    /// A receiver that changes whenever `mailbox`'s MODSEQ rises above
    /// `modseq`.
    pub fn subscribe(&self, mailbox: MailboxId, modseq: u64) -> watch::Receiver<u64> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let sender = channels
            .entry(mailbox)
            .or_insert_with(|| watch::channel(modseq).0);
        sender.subscribe()
    }

    /// Records that `mailbox` reached `modseq`, waking its watchers when
    /// that is news. Channels nobody watches any more are dropped.
    pub fn notify(&self, mailbox: MailboxId, modseq: u64) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sender) = channels.get(&mailbox) else {
            return;
        };
        if sender.receiver_count() == 0 {
            channels.remove(&mailbox);
            return;
        }
        sender.send_if_modified(|current| {
            let newer = modseq > *current;
            if newer {
                *current = modseq;
            }
            newer
        });
    }

    /// The MODSEQ last announced for `mailbox`, while someone watches it.
    pub fn latest(&self, mailbox: MailboxId) -> Option<u64> {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.get(&mailbox).map(|sender| *sender.borrow())
    }

    /// The mailboxes someone is watching, with the MODSEQ last announced:
    /// what a poller for other processes' changes needs to compare.
    pub fn watched(&self) -> Vec<(MailboxId, u64)> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .iter()
            .map(|(&mailbox, sender)| (mailbox, *sender.borrow()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchers_wake_once_per_newer_modseq() {
        let notifier = ChangeNotifier::default();
        let mut a = notifier.subscribe(1, 5);
        let b = notifier.subscribe(1, 5);
        let other = notifier.subscribe(2, 1);
        notifier.notify(1, 5);
        assert!(!a.has_changed().unwrap(), "not newer");
        notifier.notify(1, 6);
        assert!(a.has_changed().unwrap() && b.has_changed().unwrap());
        assert_eq!(*a.borrow_and_update(), 6);
        assert!(!other.has_changed().unwrap());
        drop((a, b));
        notifier.notify(1, 7);
        assert_eq!(notifier.watched(), [(2, 1)]);
        assert!(!other.has_changed().unwrap());
    }
}
