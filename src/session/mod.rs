//! One client connection: read, frame, parse, dispatch, reply.
//!
//! The session owns the byte stream (plain TCP, or TLS after STARTTLS or on
//! an implicit-TLS port), the framer that cuts it into commands, the
//! RFC 3501 state and this connection's view of the selected mailbox.

pub mod dispatch;
pub mod reply;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};

use crate::commands::{self, Flow};
use crate::proto::framing::{FrameError, FrameEvent, Framer, FramingLimits, LineEvent};
use crate::proto::parse::parse_command;
use crate::server::ServerContext;
use crate::store::{Access, MailStore, StoreError};
use reply::{Done, write_status};
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
    /// The logged-in user's session slot, given back when the session ends.
    pub user_slot: Option<crate::server::limits::ConnectionGuard<String>>,
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

impl Extensions {
    /// ` MODSEQ (n)` for a FETCH response once CONDSTORE is on, else "".
    pub fn modseq_item(&self, modseq: u64) -> String {
        if self.condstore {
            format!(" MODSEQ ({modseq})")
        } else {
            String::new()
        }
    }
}

/// Removes the (ascending) UIDs from the view and returns the untagged
/// lines announcing it: one `n EXPUNGE` per message, numbered as each is
/// sent, or with QRESYNC a single `VANISHED uid-set` (RFC 7162 §3.2.10).
pub fn expunge_lines(selection: &mut state::Selection, uids: &[u32], qresync: bool) -> Vec<String> {
    let known: Vec<u32> = uids
        .iter()
        .copied()
        .filter(|uid| selection.seq_of(*uid).is_some())
        .collect();
    let seqs = selection.remove_uids(&known);
    if !qresync {
        return seqs
            .into_iter()
            .map(|seq| format!("{seq} EXPUNGE"))
            .collect();
    }
    if known.is_empty() {
        return Vec::new();
    }
    vec![format!("VANISHED {}", crate::commands::uid_set(&known))]
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
            user_slot: None,
            heard_from_client: false,
        }
    }

    /// Serves the connection until logout, disconnect, timeout or shutdown.
    pub async fn run(mut self) {
        let greeting = Done::ok("letterbox ready")
            .with_code(reply::Code::Capability(commands::capabilities(&self)));
        write_status(&mut self.out, None, &greeting);
        if self.flush().await.is_err() {
            return;
        }
        if let Err(end) = self.serve().await {
            self.say_goodbye(end).await;
        }
    }

    async fn serve(&mut self) -> Result<(), End> {
        loop {
            match self.framer.next_command() {
                FrameEvent::Command(bytes) => {
                    let flow = self.handle_command(&bytes).await;
                    self.framer.allow_append(self.state.user().is_some());
                    self.flush().await.map_err(End::Io)?;
                    if let Some(end) = self.ended.take() {
                        return Err(end);
                    }
                    self.deadline = Instant::now() + self.idle_timeout();
                    match flow {
                        Flow::Continue => {}
                        Flow::Logout => return Ok(()),
                        Flow::StartTls => self.start_tls().await?,
                        Flow::Compress => self.start_compression(),
                    }
                }
                FrameEvent::NeedContinuation { .. } => {
                    self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    self.flush().await.map_err(End::Io)?;
                }
                FrameEvent::Rejected { tag, reason } => {
                    let done = match reason {
                        FrameError::LineTooLong => {
                            Done::bad("Command line too long").with_code(reply::Code::TooBig)
                        }
                        FrameError::LiteralTooLarge { size, limit } => Done::bad(format!(
                            "Literal of {size} octets is over the limit of {limit}"
                        ))
                        .with_code(reply::Code::TooBig),
                        FrameError::BadLiteral => Done::bad("Invalid literal"),
                    };
                    write_status(&mut self.out, tag.as_ref().map(|t| t.as_str()), &done);
                    self.flush().await.map_err(End::Io)?;
                }
                FrameEvent::Incomplete => self.fill().await?,
            }
        }
    }

    /// Parses and runs one framed command, leaving its replies in `out`.
    async fn handle_command(&mut self, bytes: &[u8]) -> Flow {
        let command = match parse_command(bytes) {
            Ok(command) => command,
            Err(error) => {
                let tag = error.tag.as_ref().map(|t| t.as_str());
                write_status(&mut self.out, tag, &Done::bad(error.message));
                return Flow::Continue;
            }
        };
        tracing::debug!(peer = %self.peer, command = command.body.name(), "command");
        let (name, started) = (command.body.name(), std::time::Instant::now());
        self.current_tag = command.tag.as_str().to_owned();
        let allow_expunge = dispatch::allows_expunge(&command.body);
        let (result, flow) = match dispatch::check(&self.state, &command.body) {
            Ok(()) => commands::execute(self, command.body).await,
            Err(done) => (Err(done), Flow::Continue),
        };
        let done = result.unwrap_or_else(|failure| failure);
        self.ctx
            .metrics
            .command(name, done.status.as_str(), started.elapsed());
        if self.ended.is_some() {
            return flow;
        }
        if let Err(done) = self.catch_up(allow_expunge).await {
            write_status(&mut self.out, None, &done);
        }
        write_status(&mut self.out, Some(command.tag.as_str()), &done);
        flow
    }

    /// Tells a selected session what changed in its mailbox since it last
    /// looked: expunges (only when `allow_expunge`; RFC 3501 §7.4.1 forbids
    /// them during FETCH, STORE and SEARCH), flag changes made elsewhere,
    /// new keywords, and new messages.
    pub async fn catch_up(&mut self, allow_expunge: bool) -> Result<(), Done> {
        let Some(selection) = self.state.selection() else {
            return Ok(());
        };
        let (mailbox, modseq, last_uid, claim) = (
            selection.mailbox,
            selection.modseq,
            selection.last_uid(),
            !selection.read_only,
        );
        let changes = match self
            .store(Access::Read, move |s| {
                s.changes_since(mailbox, modseq, last_uid, claim)
            })
            .await
        {
            Ok(changes) => changes,
            // Deleted by another session (RFC 2180 §3): say BYE, as Dovecot
            // does; no sequence numbers can be right any more.
            Err(StoreError::NoSuchMailbox) => {
                self.ended = Some(End::MailboxGone);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let Some(selection) = self.state.selection_mut() else {
            return Ok(());
        };
        selection.modseq = selection.modseq.max(changes.highest_modseq);
        let visible: Vec<u32> = changes
            .expunged
            .iter()
            .copied()
            .filter(|uid| selection.seq_of(*uid).is_some())
            .collect();
        selection.pending_expunges.extend(visible);
        let mut lines = Vec::new();
        if allow_expunge && !selection.pending_expunges.is_empty() {
            let mut expunged = std::mem::take(&mut selection.pending_expunges);
            expunged.sort_unstable();
            expunged.dedup();
            lines.extend(expunge_lines(selection, &expunged, self.extensions.qresync));
        }
        let mut keywords: Vec<String> = Vec::new();
        for message in &changes.updated {
            let own = selection.own_modseqs.contains(&message.modseq);
            let pending = selection.pending_expunges.contains(&message.uid);
            keywords.extend(message.flags.keywords.iter().cloned());
            if let (false, false, Some(seq)) = (own, pending, selection.seq_of(message.uid)) {
                let recent = selection.recent.contains(&message.uid);
                let flags = commands::flags::flag_list(&message.flags, recent);
                let modseq = self.extensions.modseq_item(message.modseq);
                lines.push(format!(
                    "{seq} FETCH (UID {} FLAGS {flags}{modseq})",
                    message.uid
                ));
            }
        }
        selection.own_modseqs.clear();
        for message in &changes.new {
            keywords.extend(message.flags.keywords.iter().cloned());
            selection.uids.push(message.uid);
            if message.recent {
                selection.recent.insert(message.uid);
            }
        }
        if !changes.new.is_empty() {
            lines.push(format!("{} EXISTS", selection.uids.len()));
            lines.push(format!("{} RECENT", selection.recent.len()));
        }
        self.announce_keywords(&keywords);
        for line in lines {
            self.untagged(format_args!("{line}"));
        }
        Ok(())
    }

    /// Sends a new FLAGS list (and PERMANENTFLAGS) when `keywords` holds
    /// any the selected mailbox has not announced yet (RFC 3501 §7.2.6).
    pub fn announce_keywords(&mut self, keywords: &[String]) {
        let Some(selection) = self.state.selection_mut() else {
            return;
        };
        let mut added = false;
        for keyword in keywords {
            if !selection
                .keywords
                .iter()
                .any(|k| k.eq_ignore_ascii_case(keyword))
            {
                selection.keywords.push(keyword.clone());
                added = true;
            }
        }
        if added {
            let (known, read_only) = (selection.keywords.clone(), selection.read_only);
            commands::select::write_flags(self, &known, read_only);
        }
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

    /// Queues `* <line>\r\n`.
    pub fn untagged(&mut self, line: std::fmt::Arguments<'_>) {
        use std::io::Write;
        let _ = write!(self.out, "* {line}\r\n");
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
    async fn start_tls(&mut self) -> Result<(), End> {
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
    fn start_compression(&mut self) {
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
    async fn say_goodbye(&mut self, end: End) {
        let text = match end {
            End::Timeout => "Autologout; idle for too long",
            End::Shutdown => "Server shutting down",
            End::MailboxGone => "Selected mailbox was deleted, have to disconnect",
            End::TlsOnPlaintext => "TLS on a plaintext port: use implicit TLS (993) or STARTTLS",
            End::Eof | End::Io(_) => return,
        };
        self.untagged(format_args!("BYE {text}"));
        let _ = self.flush().await;
    }
}
