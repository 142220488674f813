//! Push across nodes: every transaction that changes a mailbox sends
//! `NOTIFY letterbox_changes, '<mailbox id> <highest modseq>'`, delivered
//! when it commits; each node keeps one connection of its own (never a
//! pooled one) listening, and wakes its sessions watching that mailbox.
//! After a lost connection the node listens again and reads the MODSEQ of
//! every watched mailbox, so a notification missed meanwhile costs a
//! catch-up, never a change unseen.

use std::sync::Weak;
use std::time::Duration;

use postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::MailboxId;
use crate::store::notify::ChangeNotifier;

pub const CHANNEL: &str = "letterbox_changes";

/// How long the listener waits for a notification before checking that
/// the store still exists (and, every [`PROBE_EVERY`] waits, that the
/// connection still answers: a silent network loss shows no error).
const WAIT: Duration = Duration::from_secs(1);
const PROBE_EVERY: u32 = 10;
const RETRY_MAX: Duration = Duration::from_secs(5);

/// The payload for a mailbox at `modseq`.
pub fn payload(mailbox: MailboxId, modseq: u64) -> String {
    format!("{mailbox} {modseq}")
}

fn parse(payload: &str) -> Option<(MailboxId, u64)> {
    let (mailbox, modseq) = payload.split_once(' ')?;
    Some((mailbox.parse().ok()?, modseq.parse().ok()?))
}

/// Starts the listening thread; it ends with the store (the notifier).
pub fn start(
    config: postgres::Config,
    tls: MakeRustlsConnect,
    notifier: Weak<ChangeNotifier>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("letterbox-pg-listen".into())
        .spawn(move || run(config, tls, notifier))
        .map(|_| ())
}

fn run(config: postgres::Config, tls: MakeRustlsConnect, notifier: Weak<ChangeNotifier>) {
    let mut retry = Duration::from_millis(100);
    while notifier.strong_count() > 0 {
        match config.connect(tls.clone()) {
            Ok(mut client) => match client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                Ok(()) => {
                    retry = Duration::from_millis(100);
                    if catch_up(&mut client, &notifier).is_ok() {
                        listen(&mut client, &notifier);
                    }
                }
                Err(e) => tracing::warn!("cannot listen for changes: {e}"),
            },
            Err(e) => tracing::warn!("change listener cannot reach the database: {e}"),
        }
        std::thread::sleep(retry);
        retry = (retry * 2).min(RETRY_MAX);
    }
}

/// Wakes the watchers of every watched mailbox whose MODSEQ moved while
/// nobody listened (a deleted one wakes with the highest MODSEQ).
fn catch_up(client: &mut Client, notifier: &Weak<ChangeNotifier>) -> Result<(), postgres::Error> {
    let Some(notifier) = notifier.upgrade() else {
        return Ok(());
    };
    let watched: Vec<MailboxId> = notifier.watched().into_iter().map(|(id, _)| id).collect();
    if watched.is_empty() {
        return Ok(());
    }
    let rows = client.query(
        "SELECT id, highest_modseq FROM mailboxes WHERE id = ANY($1)",
        &[&watched],
    )?;
    let mut found = std::collections::HashMap::new();
    for row in rows {
        found.insert(row.get::<_, MailboxId>(0), row.get::<_, i64>(1) as u64);
    }
    for mailbox in watched {
        notifier.notify(mailbox, found.get(&mailbox).copied().unwrap_or(u64::MAX));
    }
    Ok(())
}

/// Hands notifications to the notifier until the connection fails or
/// the store is gone.
fn listen(client: &mut Client, notifier: &Weak<ChangeNotifier>) {
    let mut quiet = 0;
    loop {
        let next = {
            let mut notifications = client.notifications();
            let mut waiting = notifications.timeout_iter(WAIT);
            postgres::fallible_iterator::FallibleIterator::next(&mut waiting)
        };
        let Some(notifier) = notifier.upgrade() else {
            return;
        };
        match next {
            Ok(Some(notification)) => {
                quiet = 0;
                if let Some((mailbox, modseq)) = parse(notification.payload()) {
                    notifier.notify(mailbox, modseq);
                }
            }
            Ok(None) => {
                quiet += 1;
                if quiet % PROBE_EVERY == 0 && client.simple_query("").is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("change listener lost the database: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        assert_eq!(parse(&payload(7, u64::MAX)), Some((7, u64::MAX)));
        assert_eq!(parse("7"), None);
        assert_eq!(parse("x 1"), None);
    }
}
