//! One IMAP connection from greeting to goodbye: reads each command from
//! the session, checks that its state allows it, has `commands` run it,
//! tells a selected session what changed meanwhile and sends the tagged
//! answer (as mini-redis's `Handler`: the loop lives above both the
//! connection and the commands, so neither reaches back into the other).

use crate::commands::{self, Flow};
use crate::proto::parse::parse_command;
use crate::proto::response::{Code, Done};
use crate::session::{End, Session, dispatch};

/// Serves the connection until logout, disconnect, timeout or shutdown.
pub async fn run(mut s: Session) {
    let greeting =
        Done::ok("letterbox ready").with_code(Code::Capability(commands::capabilities(&s)));
    s.send_status(None, &greeting);
    if s.flush().await.is_err() {
        return;
    }
    if let Err(end) = serve(&mut s).await {
        s.say_goodbye(end).await;
    }
}

async fn serve(s: &mut Session) -> Result<(), End> {
    loop {
        let bytes = s.read_command().await?;
        let flow = handle_command(s, &bytes).await;
        s.finish_command().await?;
        match flow {
            Flow::Continue => {}
            Flow::Logout => return Ok(()),
            Flow::StartTls => s.start_tls().await?,
            Flow::Compress => s.start_compression(),
        }
    }
}

/// Parses and runs one framed command, leaving its replies in the
/// session's output.
async fn handle_command(s: &mut Session, bytes: &[u8]) -> Flow {
    let command = match parse_command(bytes) {
        Ok(command) => command,
        Err(error) => {
            let tag = error.tag.as_ref().map(|t| t.as_str());
            s.send_status(tag, &Done::bad(error.message));
            return Flow::Continue;
        }
    };
    tracing::debug!(peer = %s.peer, command = command.body.name(), "command");
    let (name, started) = (command.body.name(), std::time::Instant::now());
    s.current_tag = command.tag.as_str().to_owned();
    let allow_expunge = command.body.allows_expunge();
    let (result, flow) = match dispatch::check(&s.state, &command.body) {
        Ok(()) => commands::execute(s, command.body).await,
        Err(done) => (Err(done), Flow::Continue),
    };
    let done = result.unwrap_or_else(|failure| failure);
    s.ctx
        .metrics
        .command(name, done.status.as_str(), started.elapsed());
    if s.ended.is_some() {
        return flow;
    }
    if let Err(done) = commands::catch_up(s, allow_expunge).await {
        s.send_status(None, &done);
    }
    s.send_status(Some(command.tag.as_str()), &done);
    flow
}
