//! A small blocking IMAP client: just what copying an account needs
//! (TLS or STARTTLS, LOGIN, CAPABILITY, NAMESPACE, LIST, EXAMINE, UID
//! FETCH). Responses are read as whole lines with their literals and
//! parsed with [`crate::proto::value`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio_rustls::rustls;

use super::source::{Security, Source};
use super::trust::{Trust, Verifier};

/// How long the old server may stay silent before the connection counts
/// as lost (a FETCH of a large message is many reads, each bounded).
const READ_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest response line (without its literals) and the largest
/// literal accepted from the old server.
const MAX_LINE: u64 = 1 << 20;
const MAX_LITERAL: usize = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The connection failed or dropped: worth reconnecting.
    #[error("connection: {0}")]
    Connection(#[from] std::io::Error),
    /// The server refused the command (tagged NO or BAD).
    #[error("{command} refused: {answer}")]
    Refused { command: String, answer: String },
    /// The server said something this client cannot read.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

pub struct Client {
    stream: BufReader<Box<dyn Stream>>,
    next_tag: u32,
    capabilities: Vec<String>,
}

/// One part of a command: text sent as is, or a string the client sends
/// as a synchronizing literal (RFC 3501 §4.3) when it cannot be quoted.
pub enum Arg<'a> {
    Text(&'a str),
    String(&'a [u8]),
}

impl Client {
    /// Connects and secures the connection (implicit TLS, or STARTTLS
    /// before anything else), trusting the certificates `trust` says.
    pub fn connect(source: &Source, trust: &Trust) -> Result<Client, ImapError> {
        let verifier = Verifier::new(trust.clone()).map_err(ImapError::Protocol)?;
        let config = rustls::ClientConfig::builder()
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let connected = Client::connect_with(source, Arc::new(config));
        // A refused certificate: say which one was presented.
        connected.map_err(|error| match (error, verifier.presented()) {
            (ImapError::Connection(e), Some(fingerprint))
                if e.to_string().contains("certificate") =>
            {
                ImapError::Protocol(format!(
                    "{e}; the server's certificate has the SHA-256 fingerprint {fingerprint}: \
                     if that is the old server's, pass --tls-fingerprint {fingerprint}"
                ))
            }
            (error, _) => error,
        })
    }

    fn connect_with(source: &Source, tls: Arc<rustls::ClientConfig>) -> Result<Client, ImapError> {
        let address = (source.host.as_str(), source.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| ImapError::Protocol(format!("{} has no address", source.host)))?;
        let tcp = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)?;
        tcp.set_read_timeout(Some(READ_TIMEOUT))?;
        tcp.set_write_timeout(Some(READ_TIMEOUT))?;
        let secure = |tcp: TcpStream| -> Result<Box<dyn Stream>, ImapError> {
            let name = ServerName::try_from(source.host.clone())
                .map_err(|e| ImapError::Protocol(format!("{}: {e}", source.host)))?;
            let connection = rustls::ClientConnection::new(Arc::clone(&tls), name)
                .map_err(|e| ImapError::Protocol(e.to_string()))?;
            Ok(Box::new(rustls::StreamOwned::new(connection, tcp)))
        };
        let mut client = match source.security {
            Security::Implicit => Client::over(secure(tcp)?),
            Security::StartTls => {
                let mut plain = Client::over(Box::new(tcp.try_clone()?));
                plain.greeting()?;
                plain.run(&[Arg::Text("STARTTLS")])?;
                // Nothing may be buffered past the tagged OK: it would have
                // come in the clear.
                if !plain.stream.buffer().is_empty() {
                    return Err(ImapError::Protocol("data after STARTTLS".into()));
                }
                let mut client = Client::over(secure(tcp)?);
                client.refresh_capabilities()?;
                return Ok(client);
            }
        };
        client.greeting()?;
        Ok(client)
    }

    fn over(stream: Box<dyn Stream>) -> Client {
        Client {
            stream: BufReader::new(stream),
            next_tag: 1,
            capabilities: Vec::new(),
        }
    }

    fn greeting(&mut self) -> Result<(), ImapError> {
        let greeting = self.response()?;
        if !greeting.starts_with(b"* OK") {
            return Err(ImapError::Protocol(show(&greeting)));
        }
        self.refresh_capabilities()
    }

    fn refresh_capabilities(&mut self) -> Result<(), ImapError> {
        let responses = self.run(&[Arg::Text("CAPABILITY")])?;
        self.capabilities = responses
            .iter()
            .filter_map(|r| r.strip_prefix(b"* CAPABILITY "))
            .flat_map(|r| {
                String::from_utf8_lossy(r)
                    .to_ascii_uppercase()
                    .split(' ')
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        Ok(())
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    pub fn login(&mut self, user: &str, password: &str) -> Result<(), ImapError> {
        self.run(&[
            Arg::Text("LOGIN "),
            Arg::String(user.as_bytes()),
            Arg::Text(" "),
            Arg::String(password.as_bytes()),
        ])
        .map_err(|e| match e {
            // Never echo the command: it holds the password.
            ImapError::Refused { answer, .. } => ImapError::Refused {
                command: "LOGIN".into(),
                answer,
            },
            other => other,
        })?;
        // Servers may offer more after login (RFC 3501 §6.2.3).
        self.refresh_capabilities()
    }

    pub fn logout(mut self) {
        let _ = self.run(&[Arg::Text("LOGOUT")]);
    }

    /// Sends one command and returns its untagged responses (each a whole
    /// line with its literals, without the final CRLF), or why it failed.
    pub fn run(&mut self, args: &[Arg]) -> Result<Vec<Vec<u8>>, ImapError> {
        let mut untagged = Vec::new();
        self.run_each(args, |response| {
            untagged.push(response);
            Ok(())
        })?;
        Ok(untagged)
    }

    /// As [`Client::run`], handing each untagged response to `each` as it
    /// arrives: what was handled before a connection drops is kept.
    pub fn run_each(
        &mut self,
        args: &[Arg],
        mut each: impl FnMut(Vec<u8>) -> Result<(), ImapError>,
    ) -> Result<(), ImapError> {
        let tag = format!("m{}", self.next_tag);
        self.next_tag += 1;
        let mut line = format!("{tag} ").into_bytes();
        for arg in args {
            match arg {
                Arg::Text(text) => line.extend_from_slice(text.as_bytes()),
                Arg::String(bytes) if quotable(bytes) => {
                    line.push(b'"');
                    line.extend_from_slice(bytes);
                    line.push(b'"');
                }
                Arg::String(bytes) => {
                    line.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
                    self.write(&line)?;
                    line.clear();
                    let go_ahead = self.response()?;
                    if !go_ahead.starts_with(b"+") {
                        return Err(self.refused(args, &go_ahead));
                    }
                    line.extend_from_slice(bytes);
                }
            }
        }
        line.extend_from_slice(b"\r\n");
        self.write(&line)?;
        loop {
            let response = self.response()?;
            if response.starts_with(b"* BYE") {
                // The server is closing: the connection is lost.
                return Err(ImapError::Connection(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    show(&response),
                )));
            }
            if let Some(status) = response.strip_prefix(format!("{tag} ").as_bytes()) {
                return match status.starts_with(b"OK") {
                    true => Ok(()),
                    false => Err(self.refused(args, status)),
                };
            }
            each(response)?;
        }
    }

    fn refused(&self, args: &[Arg], answer: &[u8]) -> ImapError {
        let command = match args.first() {
            Some(Arg::Text(text)) => text.trim().to_owned(),
            _ => String::new(),
        };
        ImapError::Refused {
            command,
            answer: show(answer),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ImapError> {
        let stream = self.stream.get_mut();
        stream.write_all(bytes)?;
        stream.flush()?;
        Ok(())
    }

    /// One response line with its literals, without the final CRLF.
    fn response(&mut self) -> Result<Vec<u8>, ImapError> {
        let mut out = Vec::new();
        loop {
            let start = out.len();
            let read = (&mut self.stream)
                .take(MAX_LINE)
                .read_until(b'\n', &mut out)?;
            if read == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
            if !out.ends_with(b"\n") {
                return Err(ImapError::Protocol("response line too long".into()));
            }
            match literal_size(&out[start..]) {
                Some(size) if size <= MAX_LITERAL => {
                    let at = out.len();
                    out.resize(at + size, 0);
                    self.stream.read_exact(&mut out[at..])?;
                }
                Some(_) => return Err(ImapError::Protocol("literal too large".into())),
                None => {
                    let end = out.len() - if out.ends_with(b"\r\n") { 2 } else { 1 };
                    out.truncate(end);
                    return Ok(out);
                }
            }
        }
    }
}

/// Whether a string can go as a quoted string: short, printable ASCII.
fn quotable(bytes: &[u8]) -> bool {
    bytes.len() < 1000
        && bytes
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// The size of the literal that ends `line`, if it ends with `{n}`.
fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    // `{n+}` is the client's LITERAL+ form; servers send `{n}` only.
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_found_at_line_ends() {
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_size(b"* LIST () \"/\" {3}\n"), Some(3));
        assert_eq!(literal_size(b"* OK done\r\n"), None);
        assert_eq!(literal_size(b"* OK {x}\r\n"), None);
    }

    #[test]
    fn only_plain_ascii_is_quoted() {
        assert!(quotable(b"Sent Items"));
        assert!(!quotable(b"pass\"word"));
        assert!(!quotable(b"back\\slash"));
        assert!(!quotable("Entwürfe".as_bytes()));
        assert!(!quotable(b"line\r\nbreak"));
    }
}
