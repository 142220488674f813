//! Spam filter training (`[junk] learn_spam`, `learn_ham`): messages a
//! user moves into Junk, or out of it to anywhere but Trash, go to the
//! configured command one by one, in the background. The MOVE never
//! waits for it and never fails because of it; failures are logged.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use crate::context::ServerContext;
use crate::store::{Access, FetchRequest, MailboxId, SpecialUse};

/// How long one run of the command may take.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Spam,
    Ham,
}

impl Verdict {
    /// What a transfer from a mailbox with `from` to one with `to` (their
    /// special uses) teaches, if anything.
    pub fn of_transfer(from: Option<SpecialUse>, to: Option<SpecialUse>) -> Option<Verdict> {
        let junk = Some(SpecialUse::Junk);
        match (from == junk, to == junk) {
            (false, true) => Some(Verdict::Spam),
            (true, false) if to != Some(SpecialUse::Trash) => Some(Verdict::Ham),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verdict::Spam => "spam",
            Verdict::Ham => "ham",
        }
    }
}

/// Training commands running at once, server-wide: a burst of moves
/// queues up rather than starting a process per message.
static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Hands the messages `uids` of `mailbox` to the command for `verdict`
/// (when one is configured), in a task of its own.
pub fn train(
    ctx: &Arc<ServerContext>,
    user: &str,
    verdict: Verdict,
    mailbox: MailboxId,
    uids: Vec<u32>,
) {
    let config = ctx.config();
    let command = match verdict {
        Verdict::Spam => config.junk.learn_spam.clone(),
        Verdict::Ham => config.junk.learn_ham.clone(),
    };
    let Some(command) = command else { return };
    let (ctx, user) = (Arc::clone(ctx), user.to_owned());
    tokio::spawn(async move {
        // A message at a time: a large MOVE holds one in memory, not all.
        for uid in uids {
            let request = FetchRequest {
                index: false,
                raw: true,
            };
            let fetched = ctx
                .store
                .run(Access::Read, move |store| {
                    store.fetch(mailbox, &[uid], request)
                })
                .await;
            let Some(raw) = fetched
                .ok()
                .and_then(|mut found| found.pop())
                .and_then(|m| m.raw)
            else {
                continue;
            };
            let Ok(_turn) = RUNNING.acquire().await else {
                return;
            };
            if let Err(error) = run(&command, &user, raw).await {
                tracing::warn!(%user, verdict = verdict.name(), uid, %error, "junk training failed");
            }
        }
    });
}

/// Runs `command` with the message on its standard input, the whole of
/// it (writing included) within the time limit; a command still running
/// then is killed and reaped.
async fn run(command: &str, user: &str, message: Vec<u8>) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", command])
        .env("LETTERBOX_USER", user)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{command}: {e}"))?;
    let mut stdin = child.stdin.take();
    let work = async {
        if let Some(stdin) = stdin.as_mut() {
            // A command that does not read its input is its own business.
            let _ = stdin.write_all(&message).await;
        }
        drop(stdin.take());
        child.wait().await
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("{command}: {status}")),
        Ok(Err(error)) => Err(format!("{command}: {error}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "{command}: still running after {}s, stopped",
                TIMEOUT.as_secs()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_transfer_teaches() {
        use SpecialUse::*;
        assert_eq!(Verdict::of_transfer(None, Some(Junk)), Some(Verdict::Spam));
        assert_eq!(
            Verdict::of_transfer(Some(Archive), Some(Junk)),
            Some(Verdict::Spam)
        );
        assert_eq!(Verdict::of_transfer(Some(Junk), None), Some(Verdict::Ham));
        assert_eq!(
            Verdict::of_transfer(Some(Junk), Some(Archive)),
            Some(Verdict::Ham)
        );
        assert_eq!(Verdict::of_transfer(Some(Junk), Some(Trash)), None);
        assert_eq!(Verdict::of_transfer(Some(Junk), Some(Junk)), None);
        assert_eq!(Verdict::of_transfer(None, Some(Archive)), None);
    }
}
