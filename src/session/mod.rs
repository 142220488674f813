//! One client connection: its byte stream, framing, state and output.
//!
//! The session owns the byte stream (plain TCP, or TLS after STARTTLS or on
//! an implicit-TLS port), the framer that cuts it into commands, the
//! RFC 3501 state and this connection's view of the selected mailbox. It
//! knows frames and responses, not what commands mean: `handler` runs the
//! loop that reads a command and has `commands` execute it.

pub mod dispatch;
pub mod reply;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};

use crate::auth::guard::AddressKey;
use crate::context::ServerContext;
use crate::context::limits::ConnectionGuard;
use crate::context::login::UserSlots;
use crate::proto::framing::{FrameError, FrameEvent, Framer, FramingLimits, LineEvent};
use crate::proto::response::{Code, Done, Untagged, write_status};
use crate::store::{Access, MailStore, StoreError};
use state::State;

/// Any byte stream a session can run over.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Why a session stops reading.
#[derive(Debug)]
pub enum End {
    Eof,
    Timeout,
    Shutdown,
    /// Another session deleted the selected mailbox.
    MailboxGone,
    /// A TLS handshake arrived on a plaintext listener.
    TlsOnPlaintext,
    /// A refused non-synchronizing literal is too large to read and drop.
    LiteralTooLargeToSkip,
    Io(std::io::Error),
}

pub struct Session {
    io: Option<Box<dyn Stream>>,
    framer: Framer,
    /// Responses waiting to be written, flushed once per command.
    pub out: Vec<u8>,
    pub state: State,
    pub ctx: Arc<ServerContext>,
    /// TLS is active on this connection.
    pub secure: bool,
    pub peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
    deadline: Instant,
    /// Set by a handler that found the connection over (EOF, shutdown)
    /// while it was reading mid-command (AUTHENTICATE, IDLE).
    pub ended: Option<End>,
    /// Extensions the client has turned on (ENABLE or implicitly).
    pub extensions: Extensions,
    /// The tag of the command being run (ESEARCH echoes it).
    pub current_tag: String,
    /// COMPRESS=DEFLATE is active.
    pub compressed: bool,
    /// The slot of a connection not logged in yet, given back at login.
    pub unauthenticated_slot: Option<ConnectionGuard<AddressKey>>,
    /// The logged-in user's session slots, given back when the session ends.
    pub user_slots: Option<UserSlots>,
    /// Whether the client has sent anything yet.
    heard_from_client: bool,
}

/// The first octet of a TLS handshake record: never the first octet of an
/// IMAP command, so a client that should have used port 993 is told at
/// once instead of waiting for the pre-auth timeout.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// Read sizes: between commands, and while a command is arriving.
const IDLE_READ: usize = 1024;
const BULK_READ: usize = 64 * 1024;
/// Output buffer capacity kept between responses.
const KEEP_OUT: usize = 16 * 1024;

/// Per-connection extension state (RFC 5161 ENABLE, RFC 7162).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// MODSEQ in unsolicited FETCH and STORE responses, HIGHESTMODSEQ on SELECT.
    pub condstore: bool,
    /// VANISHED instead of EXPUNGE; SELECT (QRESYNC ...).
    pub qresync: bool,
    /// Mailbox names as UTF-8 instead of modified UTF-7 (RFC 6855).
    pub utf8: bool,
}

/// What ends a wait during IDLE.
pub enum IdleEvent {
    /// A line from the client (normally `DONE`).
    Line(Vec<u8>),
    /// The selected mailbox changed.
    Changed,
    /// Time for a keepalive.
    Keepalive,
}

/// How often an idling client hears `* OK Still here`, which keeps NAT
/// and firewall state alive (RFC 2177 clients re-IDLE every 29 minutes).
const IDLE_KEEPALIVE: Duration = Duration::from_secs(120);

impl Session {
    pub fn new(
        io: Box<dyn Stream>,
        secure: bool,
        peer: SocketAddr,
        ctx: Arc<ServerContext>,
        shutdown: watch::Receiver<bool>,
    ) -> Session {
        let limits = &ctx.config().limits;
        let framer = Framer::new(FramingLimits {
            max_line: limits.max_command_line,
            max_literal: limits.max_literal,
            max_append_literal: limits.max_message_size,
        });
        let deadline = Instant::now() + limits.preauth_timeout();
        Session {
            io: Some(io),
            framer,
            out: Vec::new(),
            state: State::NotAuthenticated,
            ctx,
            secure,
            peer,
            shutdown,
            deadline,
            ended: None,
            extensions: Extensions::default(),
            current_tag: String::new(),
            compressed: false,
            unauthenticated_slot: None,
            user_slots: None,
            heard_from_client: false,
        }
    }

    /// Reads until a whole command has arrived and returns its octets.
    /// Framing problems are answered here (a `+` for a synchronizing
    /// literal, `BAD [TOOBIG]` for what is over a limit).
    pub async fn read_command(&mut self) -> Result<Vec<u8>, End> {
        loop {
            match self.framer.next_command() {
                FrameEvent::Command(bytes) => return Ok(bytes),
                FrameEvent::NeedContinuation { .. } => {
                    self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    self.flush().await.map_err(End::Io)?;
                }
                FrameEvent::Rejected { tag, reason } => {
                    let done = match reason {
                        FrameError::LineTooLong => {
                            Done::bad("Command line too long").with_code(Code::TooBig)
                        }
                        FrameError::LiteralTooLarge { size, limit } => Done::bad(format!(
                            "Literal of {size} octets is over the limit of {limit}"
                        ))
                        .with_code(Code::TooBig),
                        FrameError::BadLiteral => Done::bad("Invalid literal"),
                    };
                    self.send_status(tag.as_ref().map(|t| t.as_str()), &done);
                    self.flush().await.map_err(End::Io)?;
                }
                FrameEvent::LiteralTooLargeToSkip => return Err(End::LiteralTooLargeToSkip),
                FrameEvent::Incomplete => self.fill().await?,
            }
        }
    }

    /// After a command's responses are queued: sends them, ends the
    /// session if the command found the connection over, and restarts the
    /// inactivity timer.
    pub async fn finish_command(&mut self) -> Result<(), End> {
        let logged_in = self.state.user().is_some();
        self.framer.allow_append(logged_in);
        // Refused literals are skipped after login up to the message size
        // (so a client whose oversized literal was not an APPEND can go on;
        // APPEND's own limit is the message size, so a refused one always
        // closes), and never before: see `Framer::set_max_skip`.
        let max_skip = self.ctx.config().limits.max_message_size;
        self.framer
            .set_max_skip(if logged_in { max_skip } else { 0 });
        self.flush().await.map_err(End::Io)?;
        if let Some(end) = self.ended.take() {
            return Err(end);
        }
        self.deadline = Instant::now() + self.idle_timeout();
        Ok(())
    }

    /// Runs a store call with the slots of its kind (see [`StoreCalls`]).
    /// The future does not borrow the session, so handlers can hold it
    /// across `.await`.
    ///
    /// [`StoreCalls`]: crate::store::calls::StoreCalls
    pub fn store<T, F>(
        &self,
        access: Access,
        f: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&dyn MailStore) -> Result<T, StoreError> + Send + 'static,
    {
        self.ctx.store.run(access, f)
    }

    /// Queues an untagged response.
    pub fn send(&mut self, response: Untagged) {
        response.encode(&mut self.out, self.extensions.utf8);
    }

    /// Queues a status line: tagged, or untagged with `None`.
    pub fn send_status(&mut self, tag: Option<&str>, done: &Done) {
        write_status(&mut self.out, tag, done);
    }

    /// Sends a `+` continuation request and waits for the client's line
    /// (AUTHENTICATE). `None` means the line was over the length limit (it
    /// was discarded, not buffered).
    pub async fn continuation(&mut self, text: &str) -> Result<Option<Vec<u8>>, End> {
        self.out.extend_from_slice(b"+ ");
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
        self.flush().await.map_err(End::Io)?;
        loop {
            match self.framer.next_line() {
                LineEvent::Line(line) => return Ok(Some(line)),
                LineEvent::TooLong => return Ok(None),
                LineEvent::Incomplete => self.fill().await?,
            }
        }
    }

    /// Waits during IDLE for the client's next line, a change announced by
    /// `watcher`, or the keepalive interval. There is no autologout while
    /// idling: the client chose to wait.
    pub async fn idle_event(
        &mut self,
        mut watcher: Option<&mut watch::Receiver<u64>>,
    ) -> Result<IdleEvent, End> {
        loop {
            match self.framer.next_line() {
                LineEvent::Line(line) => return Ok(IdleEvent::Line(line)),
                LineEvent::TooLong => return Ok(IdleEvent::Line(Vec::new())),
                LineEvent::Incomplete => {}
            }
            let changed = async {
                match watcher.as_mut() {
                    Some(w) => w.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                filled = self.fill_until(None) => filled?,
                alive = changed => {
                    if alive {
                        return Ok(IdleEvent::Changed);
                    }
                    watcher = None;
                }
                _ = tokio::time::sleep(IDLE_KEEPALIVE) => return Ok(IdleEvent::Keepalive),
            }
        }
    }

    fn idle_timeout(&self) -> Duration {
        let limits = &self.ctx.config().limits;
        match self.state {
            State::NotAuthenticated => limits.preauth_timeout(),
            _ => limits.auth_timeout(),
        }
    }

    /// Reads more bytes into the framer, or says why it cannot.
    async fn fill(&mut self) -> Result<(), End> {
        self.fill_until(Some(self.deadline)).await
    }

    /// Reads more bytes, giving up at `deadline` (never, with `None`).
    async fn fill_until(&mut self, deadline: Option<Instant>) -> Result<(), End> {
        // The buffer lives as long as the read waits, and idle sessions
        // wait here for hours: 1 KiB between commands (they are short),
        // 64 KiB only while a command's bytes are arriving (literals). A
        // 16 KiB array here was a quarter of an idle TLS session's memory.
        let size = if self.framer.buffered() > 0 {
            BULK_READ
        } else {
            IDLE_READ
        };
        let mut buf = vec![0u8; size];
        let io = self.io.as_mut().ok_or(End::Eof)?;
        let read = async {
            match deadline {
                Some(deadline) => timeout_at(deadline, io.read(&mut buf)).await,
                None => Ok(io.read(&mut buf).await),
            }
        };
        tokio::select! {
            read = read => match read {
                Err(_) => Err(End::Timeout),
                Ok(Ok(0)) => Err(End::Eof),
                Ok(Ok(n)) => {
                    if !self.secure && !self.heard_from_client && buf[0] == TLS_HANDSHAKE_RECORD {
                        tracing::info!(peer = %self.peer, "TLS handshake on a plaintext port");
                        return Err(End::TlsOnPlaintext);
                    }
                    self.heard_from_client = true;
                    self.framer.push(&buf[..n]);
                    Ok(())
                }
                Ok(Err(e)) => Err(End::Io(e)),
            },
            _ = self.shutdown.wait_for(|stop| *stop) => Err(End::Shutdown),
        }
    }

    /// Writes out everything queued. Bounded by the idle timeout so a client
    /// that stops reading cannot pin the session forever.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let io = self.io.as_mut().ok_or(std::io::ErrorKind::NotConnected)?;
        let limit = self.ctx.config().limits.auth_timeout();
        let write = async {
            io.write_all(&self.out).await?;
            io.flush().await
        };
        let result = timeout(limit, write)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()));
        self.out.clear();
        // A large FETCH must not leave its size allocated to the session.
        self.out.shrink_to(KEEP_OUT);
        result
    }

    /// Upgrades the connection after `OK Begin TLS negotiation now`.
    pub async fn start_tls(&mut self) -> Result<(), End> {
        // Anything pipelined after STARTTLS was sent in the clear: drop it.
        self.framer.clear();
        let acceptor = self.ctx.tls.acceptor().ok_or(End::Eof)?;
        let io = self.io.take().ok_or(End::Eof)?;
        let limit = self.ctx.config().limits.tls_handshake_timeout();
        match timeout(limit, acceptor.accept(io)).await {
            Ok(Ok(tls)) => {
                self.io = Some(Box::new(tls));
                self.secure = true;
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::info!(peer = %self.peer, error = %e, "STARTTLS handshake failed");
                Err(End::Eof)
            }
            Err(_) => Err(End::Eof),
        }
    }

    /// Wraps the stream in raw DEFLATE both ways after `OK DEFLATE active`
    /// (RFC 4978). Every flush of a response is a sync flush, so IDLE pushes
    /// reach the client at once.
    pub fn start_compression(&mut self) {
        use async_compression::tokio::{bufread::DeflateDecoder, write::DeflateEncoder};
        let Some(io) = self.io.take() else {
            return;
        };
        let (read, write) = tokio::io::split(io);
        let reader = DeflateDecoder::new(tokio::io::BufReader::new(read));
        let writer = DeflateEncoder::new(write);
        self.io = Some(Box::new(tokio::io::join(reader, writer)));
        self.compressed = true;
    }

    /// Whether a command could still arrive uncompressed, i.e. nothing is
    /// buffered behind the COMPRESS command.
    pub fn input_buffered(&self) -> bool {
        self.framer.buffered() > 0
    }

    /// Sends `* BYE` where the end is the server's decision.
    pub async fn say_goodbye(&mut self, end: End) {
        let text = match end {
            End::Timeout => "Autologout; idle for too long",
            End::Shutdown => "Server shutting down",
            End::MailboxGone => "Selected mailbox was deleted, have to disconnect",
            End::TlsOnPlaintext => "TLS on a plaintext port: use implicit TLS (993) or STARTTLS",
            End::LiteralTooLargeToSkip => "Literal too large; closing the connection",
            End::Eof | End::Io(_) => return,
        };
        self.send(Untagged::Condition(Done::bye(text)));
        let _ = self.flush().await;
    }
}
