//! ManageSieve (RFC 5804): users upload, list, activate and delete their
//! Sieve scripts (Thunderbird's sieve add-on, Roundcube's managesieve
//! plugin, K-9/Thunderbird for Android, sieve-connect). Same passwords,
//! app passwords, login guard and connection limits as IMAP; STARTTLS on
//! the plaintext listener; a script that does not compile is refused
//! with its line, so it can never become active.

mod command;
mod commands;
mod response;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::guard::AddressKey;
use crate::context::ServerContext;
use crate::context::limits::ConnectionGuard;
use crate::context::login::UserSlots;
use crate::line_conn::{Connection, End, Input, MAX_LINE};
use crate::session::Stream;
use command::{Line, Reader};
use response::Status;

/// One ManageSieve connection.
pub struct ManageSieve {
    ctx: Arc<ServerContext>,
    peer: SocketAddr,
    /// TLS is active (implicit, or after STARTTLS).
    secure: bool,
    /// The slot of a connection not logged in yet, given back at login.
    unauthenticated_slot: Option<ConnectionGuard<AddressKey>>,
    user: Option<LoggedIn>,
}

struct LoggedIn {
    id: crate::store::UserId,
    name: String,
    _slots: UserSlots,
}

/// What the loop does after a command.
enum Step {
    Continue,
    /// The OK to STARTTLS was queued: flush it, then the handshake.
    StartTls,
    Logout,
}

/// What came in as one command.
enum Read {
    Command(Vec<command::Token>),
    /// Malformed, or too large: answered NO, the session goes on.
    Refused(Status, String),
}

fn too_large(budget: usize) -> (Status, String) {
    (
        Status::NoCode("QUOTA/MAXSIZE"),
        format!("Command larger than the {budget} octets allowed"),
    )
}

impl ManageSieve {
    pub fn new(
        secure: bool,
        peer: SocketAddr,
        ctx: Arc<ServerContext>,
        unauthenticated_slot: Option<ConnectionGuard<AddressKey>>,
    ) -> ManageSieve {
        ManageSieve {
            ctx,
            peer,
            secure,
            unauthenticated_slot,
            user: None,
        }
    }

    fn idle_timeout(&self) -> Duration {
        let limits = &self.ctx.config().limits;
        match self.user {
            None => limits.preauth_timeout(),
            Some(_) => limits.auth_timeout(),
        }
    }

    /// The largest literal kept: a script, with room for a long SASL
    /// response before login.
    fn max_literal(&self) -> usize {
        let script = self.ctx.config().sieve.max_script_size as usize;
        match self.user {
            None => 8192,
            Some(_) => script,
        }
    }

    /// Serves the connection until LOGOUT, EOF, a timeout or shutdown.
    pub async fn serve(mut self, io: Box<dyn Stream>, stop: watch::Receiver<bool>) {
        let write_limit = self.ctx.config().limits.auth_timeout();
        let mut conn = Connection::new(io, self.secure, stop, write_limit);
        self.capabilities(&mut conn);
        response::status(&mut conn, Status::Ok, None, "letterbox ManageSieve ready");
        loop {
            if conn.flush().await.is_err() {
                return;
            }
            let read = match self.read(&mut conn).await {
                Ok(read) => read,
                Err(end) => return self.end(conn, end).await,
            };
            let step = match read {
                Read::Refused(status, text) => {
                    response::status(&mut conn, status, None, &text);
                    Step::Continue
                }
                Read::Command(tokens) => match command::parse(tokens) {
                    Ok(command) => self.execute(command, &mut conn).await,
                    Err(error) => {
                        response::status(&mut conn, Status::No, None, &error);
                        Step::Continue
                    }
                },
            };
            match step {
                Step::Continue => {}
                Step::StartTls => {
                    let (acceptor, limit) = (
                        self.ctx.tls.acceptor(),
                        self.ctx.config().limits.tls_handshake_timeout(),
                    );
                    if !conn
                        .upgrade(acceptor, limit, self.peer, "managesieve")
                        .await
                    {
                        return;
                    }
                    self.secure = true;
                    // RFC 5804 §2.2: the capabilities again, then OK.
                    self.capabilities(&mut conn);
                    response::status(&mut conn, Status::Ok, None, "TLS negotiation successful");
                }
                Step::Logout => {
                    let _ = conn.flush().await;
                    return;
                }
            }
        }
    }

    /// Reads one command: its line, and each literal with the line that
    /// goes on after it. A literal over the limit is read past, not kept.
    async fn read(&self, conn: &mut Connection) -> Result<Read, End> {
        let idle = self.idle_timeout();
        let mut reader = Reader::default();
        let mut refused: Option<(Status, String)> = None;
        // What one command may hold in all: many small literals must not
        // add up to what one large one may not.
        let budget = self.max_literal() + MAX_LINE;
        let mut kept = 0;
        loop {
            let line = match conn.read_line(idle).await? {
                Input::Line(line) => line,
                Input::TooLong => {
                    return Ok(Read::Refused(Status::No, "Line too long".into()));
                }
            };
            kept += line.len();
            if refused.is_some() || kept > budget {
                // Only the end of the refused command is left to read;
                // what is read past is not kept.
                if let Ok(Line::Literal(length)) = Reader::default().line(&line) {
                    conn.skip_literal(length, idle).await?;
                    refused.get_or_insert(too_large(budget));
                    continue;
                }
                let (status, text) = refused.unwrap_or_else(|| too_large(budget));
                return Ok(Read::Refused(status, text));
            }
            match reader.line(&line) {
                Ok(Line::Done) => return Ok(Read::Command(reader.tokens)),
                Ok(Line::Literal(length)) if kept + length > budget => {
                    conn.skip_literal(length, idle).await?;
                    refused = Some(too_large(budget));
                }
                Ok(Line::Literal(length)) if length > self.max_literal() => {
                    conn.skip_literal(length, idle).await?;
                    refused = Some((
                        Status::NoCode("QUOTA/MAXSIZE"),
                        format!("Larger than the {} octets allowed", self.max_literal()),
                    ));
                }
                Ok(Line::Literal(length)) => {
                    kept += length;
                    let octets = conn.read_literal(length, idle).await?;
                    reader.literal(octets);
                }
                Err(error) => return Ok(Read::Refused(Status::No, error)),
            }
        }
    }

    async fn end(&self, mut conn: Connection, end: End) {
        let text = match end {
            End::Timeout => "Disconnected for inactivity",
            End::Shutdown => "Server shutting down",
            End::Eof | End::Io => return,
        };
        response::status(&mut conn, Status::Bye, None, text);
        let _ = conn.flush().await;
    }
}
