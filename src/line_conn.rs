//! A line-based connection's bytes (POP3, ManageSieve): command lines in
//! (bounded, with over-long lines refused and skipped), literals of a
//! known length, responses out, and the switch to TLS.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;

use crate::session::Stream;

/// The longest line read, CRLF included. RFC 2449 §4 limits POP3 commands
/// to 255 octets; SASL responses (RFC 5034) and long passwords need more.
pub const MAX_LINE: usize = 8192;
const READ_SIZE: usize = 4096;
/// The first octet of a TLS handshake record: a client that should have
/// used the implicit-TLS port is dropped at once rather than after the
/// timeout.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What arrived.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A line without its line end.
    Line(Vec<u8>),
    /// A line longer than [`MAX_LINE`], skipped up to its end.
    TooLong,
}

/// Why no more lines come.
#[derive(Debug)]
pub enum End {
    Eof,
    Timeout,
    Shutdown,
    Io,
}

pub struct Connection {
    io: Option<Box<dyn Stream>>,
    secure: bool,
    stop: watch::Receiver<bool>,
    /// How long a write may take before the client counts as gone.
    write_limit: Duration,
    input: Vec<u8>,
    /// Inside a line already too long: dropping it up to its end.
    skipping: bool,
    out: Vec<u8>,
    heard_from_client: bool,
}

impl Connection {
    pub fn new(
        io: Box<dyn Stream>,
        secure: bool,
        stop: watch::Receiver<bool>,
        write_limit: Duration,
    ) -> Connection {
        Connection {
            io: Some(io),
            secure,
            stop,
            write_limit,
            input: Vec::new(),
            skipping: false,
            out: Vec::new(),
            heard_from_client: false,
        }
    }

    /// Queues `status`, a space and `text` (none when empty), CRLF.
    pub fn line(&mut self, status: &str, text: &str) {
        self.out.extend_from_slice(status.as_bytes());
        if !text.is_empty() {
            self.out.push(b' ');
            self.out.extend_from_slice(text.as_bytes());
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// Where multi-line responses are written.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// The next whole line already read, if any.
    pub fn buffered_line(&mut self) -> Option<Input> {
        let newline = self.input.iter().position(|&b| b == b'\n');
        if self.skipping {
            let Some(newline) = newline else {
                self.input.clear();
                return None;
            };
            self.input.drain(..=newline);
            self.skipping = false;
            return Some(Input::TooLong);
        }
        let Some(newline) = newline else {
            if self.input.len() >= MAX_LINE {
                self.input.clear();
                self.skipping = true;
            }
            return None;
        };
        if newline >= MAX_LINE {
            self.input.drain(..=newline);
            return Some(Input::TooLong);
        }
        let mut line: Vec<u8> = self.input.drain(..=newline).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(Input::Line(line))
    }

    /// Reads the `length` octets of a literal that follow the line just
    /// read, for at most `idle`. The caller has checked `length` against
    /// its limit.
    pub async fn read_literal(&mut self, length: usize, idle: Duration) -> Result<Vec<u8>, End> {
        let deadline = Instant::now() + idle;
        while self.input.len() < length {
            self.fill(deadline).await?;
        }
        Ok(self.input.drain(..length).collect())
    }

    /// Reads and drops a literal too large to keep, so that the next
    /// command is found where it starts.
    pub async fn skip_literal(&mut self, mut length: usize, idle: Duration) -> Result<(), End> {
        let deadline = Instant::now() + idle;
        loop {
            let dropped = length.min(self.input.len());
            self.input.drain(..dropped);
            length -= dropped;
            if length == 0 {
                return Ok(());
            }
            self.fill(deadline).await?;
        }
    }

    /// Reads until a whole line is in, for at most `idle`.
    pub async fn read_line(&mut self, idle: Duration) -> Result<Input, End> {
        let deadline = Instant::now() + idle;
        loop {
            if let Some(input) = self.buffered_line() {
                return Ok(input);
            }
            self.fill(deadline).await?;
        }
    }

    async fn fill(&mut self, deadline: Instant) -> Result<(), End> {
        let mut buf = [0u8; READ_SIZE];
        let io = self.io.as_mut().ok_or(End::Eof)?;
        let read = tokio::select! {
            read = timeout_at(deadline, io.read(&mut buf)) => read,
            _ = self.stop.wait_for(|stop| *stop) => return Err(End::Shutdown),
        };
        match read {
            Err(_) => Err(End::Timeout),
            Ok(Ok(0)) => Err(End::Eof),
            Ok(Ok(n)) => {
                if !self.secure && !self.heard_from_client && buf[0] == TLS_HANDSHAKE_RECORD {
                    return Err(End::Eof);
                }
                self.heard_from_client = true;
                self.input.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Ok(Err(_)) => Err(End::Io),
        }
    }

    /// Writes out everything queued, within the write limit.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let io = self.io.as_mut().ok_or(std::io::ErrorKind::NotConnected)?;
        let write = async {
            io.write_all(&self.out).await?;
            io.flush().await
        };
        let result = timeout(self.write_limit, write)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()));
        self.out.clear();
        self.out.shrink_to(READ_SIZE);
        result
    }

    /// After the answer to STLS/STARTTLS was queued: writes it, then the
    /// TLS handshake. False (logged) when the connection is done for.
    pub async fn upgrade(
        &mut self,
        acceptor: Option<TlsAcceptor>,
        limit: Duration,
        peer: std::net::SocketAddr,
        protocol: &str,
    ) -> bool {
        if self.flush().await.is_err() {
            return false;
        }
        let Some(acceptor) = acceptor else {
            return false;
        };
        match self.start_tls(acceptor, limit).await {
            Ok(()) => true,
            Err(error) => {
                tracing::info!(%peer, %error, protocol, "TLS handshake after STARTTLS failed");
                false
            }
        }
    }

    /// The TLS handshake after the answer to STLS/STARTTLS (flushed by
    /// the caller).
    pub async fn start_tls(
        &mut self,
        acceptor: TlsAcceptor,
        limit: Duration,
    ) -> std::io::Result<()> {
        // Anything pipelined after STLS was sent in the clear: drop it.
        self.input.clear();
        self.skipping = false;
        let io = self.io.take().ok_or(std::io::ErrorKind::NotConnected)?;
        let tls = timeout(limit, acceptor.accept(io))
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))?;
        self.io = Some(Box::new(tls));
        self.secure = true;
        Ok(())
    }
}
