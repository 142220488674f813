//! POP3 (RFC 1939) for devices that know no IMAP: scanners, old phones,
//! accounting software. INBOX only, over the same store, passwords, app
//! passwords, login guard and connection limits as IMAP.
//!
//! Extensions: CAPA (RFC 2449) with TOP, UIDL, USER, SASL PLAIN
//! (RFC 5034), RESP-CODES, AUTH-RESP-CODE (RFC 3206), PIPELINING and
//! EXPIRE NEVER; STLS (RFC 2595) on plaintext listeners.
//!
//! No maildrop lock: like Dovecot's default, several POP3 and IMAP
//! sessions may use one INBOX at once. Each POP3 session sees the INBOX as
//! it was at login; QUIT removes what it deleted (an expunge other
//! sessions are told of) and marks what it retrieved `\Seen`, in one
//! transaction. A session that ends any other way changes nothing.

mod command;
mod commands;
mod connection;
mod maildrop;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::guard::AddressKey;
use crate::context::ServerContext;
use crate::context::limits::ConnectionGuard;
use crate::context::login::UserSlots;
use crate::session::Stream;
use connection::{Connection, End, Input, Reply};
use maildrop::Maildrop;

/// One POP3 connection's state.
pub struct Pop3 {
    ctx: Arc<ServerContext>,
    peer: SocketAddr,
    /// TLS is active (implicit, or after STLS).
    secure: bool,
    /// The slot of a connection not logged in yet, given back at login.
    unauthenticated_slot: Option<ConnectionGuard<AddressKey>>,
    state: State,
}

/// RFC 1939 §3: AUTHORIZATION until a login, then TRANSACTION; QUIT in
/// TRANSACTION is the UPDATE state.
enum State {
    /// The name of a USER command waiting for its PASS.
    Authorization {
        user: Option<String>,
    },
    Transaction(Box<Transaction>),
}

struct Transaction {
    user: String,
    maildrop: Maildrop,
    _slots: UserSlots,
}

/// What the loop does after a command.
enum Step {
    Continue,
    /// `+OK` to STLS was queued: flush it, then the TLS handshake.
    StartTls,
    Quit,
}

/// Output beyond this is written before the next command is read, so a
/// pipelined run of RETRs does not gather every message in memory.
const FLUSH_AT: usize = 256 * 1024;

impl Pop3 {
    pub fn new(
        secure: bool,
        peer: SocketAddr,
        ctx: Arc<ServerContext>,
        unauthenticated_slot: Option<ConnectionGuard<AddressKey>>,
    ) -> Pop3 {
        Pop3 {
            ctx,
            peer,
            secure,
            unauthenticated_slot,
            state: State::Authorization { user: None },
        }
    }

    /// How long the client may stay silent: the pre-login timeout, then
    /// the logged-in one (RFC 1939 §3 asks for at least 10 minutes; the
    /// default is 30).
    fn idle_timeout(&self) -> Duration {
        let limits = &self.ctx.config().limits;
        match self.state {
            State::Authorization { .. } => limits.preauth_timeout(),
            State::Transaction(_) => limits.auth_timeout(),
        }
    }

    /// Serves the connection until QUIT, EOF, a timeout or shutdown.
    pub async fn serve(mut self, io: Box<dyn Stream>, stop: watch::Receiver<bool>) {
        let write_limit = self.ctx.config().limits.auth_timeout();
        let mut conn = Connection::new(io, self.secure, stop, write_limit);
        conn.ok("letterbox POP3 server ready");
        loop {
            let input = match conn.buffered_line() {
                Some(input) => input,
                None => {
                    // Pipelining: answers go out when no command waits.
                    if conn.flush().await.is_err() {
                        return;
                    }
                    match conn.read_line(self.idle_timeout()).await {
                        Ok(input) => input,
                        Err(end) => return self.end(conn, end).await,
                    }
                }
            };
            let step = match input {
                Input::TooLong => {
                    conn.err("Line too long");
                    Step::Continue
                }
                Input::Line(line) => match command::parse(&line) {
                    Ok(command) => self.execute(command, &mut conn).await,
                    Err(error) => {
                        conn.err(&error.to_string());
                        Step::Continue
                    }
                },
            };
            match step {
                Step::Continue if conn.pending_output() > FLUSH_AT => {
                    if conn.flush().await.is_err() {
                        return;
                    }
                }
                Step::Continue => {}
                Step::StartTls => {
                    let (acceptor, limit) = (
                        self.ctx.tls.acceptor(),
                        self.ctx.config().limits.tls_handshake_timeout(),
                    );
                    if !conn.upgrade(acceptor, limit, self.peer, "pop3").await {
                        return;
                    }
                    self.secure = true;
                    // A USER sent in the clear is forgotten (RFC 2595 §4).
                    self.state = State::Authorization { user: None };
                }
                Step::Quit => {
                    let _ = conn.flush().await;
                    return;
                }
            }
        }
    }

    /// The connection ends without QUIT: nothing deleted is removed.
    async fn end(&self, mut conn: Connection, end: End) {
        let text = match end {
            End::Timeout => "Autologout; idle for too long",
            End::Shutdown => "[SYS/TEMP] Server shutting down",
            End::Eof | End::Io => return,
        };
        conn.err(text);
        let _ = conn.flush().await;
    }
}
