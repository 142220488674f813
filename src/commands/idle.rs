//! IDLE (RFC 2177): changes to the selected mailbox are pushed as they
//! happen until the client sends DONE. Bytes that follow `DONE` in the same
//! packet (iOS sends its next commands that way) stay buffered and run as
//! the next commands.

use super::updates::catch_up;
use crate::proto::response::{CommandResult, Done, Untagged};
use crate::session::{IdleEvent, Session};

pub async fn idle(s: &mut Session) -> CommandResult {
    s.out.extend_from_slice(b"+ idling\r\n");
    s.flush().await.map_err(|_| Done::bad("Connection lost"))?;
    let mut watcher = s.state.selection_mut().map(|v| v.watcher.clone());
    let result = idle_until_done(s, watcher.as_mut()).await;
    // The clone advanced past what was reported; keep that position.
    if let (Some(selection), Some(watcher)) = (s.state.selection_mut(), watcher) {
        selection.watcher = watcher;
    }
    result
}

async fn idle_until_done(
    s: &mut Session,
    mut watcher: Option<&mut tokio::sync::watch::Receiver<u64>>,
) -> CommandResult {
    // Report what changed since the last command, then wait for more.
    if let Some(w) = watcher.as_mut() {
        w.borrow_and_update();
    }
    push_changes(s).await?;
    loop {
        let event = match s.idle_event(watcher.as_deref_mut()).await {
            Ok(event) => event,
            Err(end) => {
                s.ended = Some(end);
                return Err(Done::bad("Connection closed during IDLE"));
            }
        };
        match event {
            IdleEvent::Line(line) if line.eq_ignore_ascii_case(b"DONE") => {
                return Ok(Done::ok("IDLE terminated"));
            }
            IdleEvent::Line(_) => return Err(Done::bad("Expected DONE to end IDLE")),
            IdleEvent::Changed => push_changes(s).await?,
            IdleEvent::Keepalive => {
                s.send(Untagged::Condition(Done::ok("Still here")));
                s.flush().await.map_err(|_| Done::bad("Connection lost"))?;
            }
        }
    }
}

async fn push_changes(s: &mut Session) -> Result<(), Done> {
    catch_up(s, true).await?;
    if s.ended.is_some() {
        return Err(Done::bad("IDLE ended"));
    }
    s.flush().await.map_err(|_| Done::bad("Connection lost"))
}
