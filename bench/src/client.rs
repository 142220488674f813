//! A minimal IMAP client for load generation: tagged commands, responses
//! read with their literals, IDLE. It checks status words, not content,
//! so the same client drives letterbox and Dovecot.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where the server listens and how to reach it.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// Implicit TLS (the benchmark does not check the certificate).
    pub tls: Option<tokio_rustls::TlsConnector>,
}

impl Target {
    pub fn new(addr: SocketAddr, tls: bool) -> Target {
        Target {
            addr,
            tls: tls.then(insecure_connector),
        }
    }
}

/// How long one response may take before the run counts it as an error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    stream: BufReader<Box<dyn Io>>,
    tag: u64,
    /// `* n EXISTS` seen last, kept up to date from untagged responses.
    pub exists: u32,
    /// FETCHes answered `NO [EXPUNGEISSUED]` (RFC 2180 §4.1.2: another
    /// session expunged a message this one was not told of yet). Taken as
    /// an answer, and counted.
    pub expunge_races: u64,
}

impl Client {
    /// Connects and reads the greeting.
    pub async fn connect(target: &Target) -> io::Result<Client> {
        let tcp = TcpStream::connect(target.addr).await?;
        tcp.set_nodelay(true)?;
        let io: Box<dyn Io> = match &target.tls {
            Some(connector) => {
                let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
                Box::new(connector.connect(name, tcp).await?)
            }
            None => Box::new(tcp),
        };
        let mut client = Client {
            stream: BufReader::with_capacity(64 * 1024, io),
            tag: 0,
            exists: 0,
            expunge_races: 0,
        };
        let greeting = client.response().await?;
        if !greeting.starts_with(b"* OK") {
            return Err(refused("greeting", &greeting));
        }
        Ok(client)
    }

    pub async fn login(&mut self, user: &str, password: &str) -> io::Result<()> {
        self.command(&format!("LOGIN {user} \"{password}\""))
            .await?;
        Ok(())
    }

    /// Runs one command; its untagged responses, or an error unless the
    /// tagged reply is OK.
    pub async fn command(&mut self, command: &str) -> io::Result<Vec<Vec<u8>>> {
        let mut lines = Vec::new();
        self.send_command(command.as_bytes(), &[], |line| lines.push(line))
            .await?;
        Ok(lines)
    }

    /// Runs one command whose answer is too big to keep (an initial sync):
    /// the number of untagged responses and their total octets.
    pub async fn command_counted(&mut self, command: &str) -> io::Result<(usize, usize)> {
        let (mut count, mut octets) = (0, 0);
        self.send_command(command.as_bytes(), &[], |line| {
            count += 1;
            octets += line.len();
        })
        .await?;
        Ok((count, octets))
    }

    /// APPEND with a non-synchronizing literal (LITERAL+, both servers);
    /// returns the tagged line (with APPENDUID).
    pub async fn append(&mut self, mailbox: &str, message: &[u8]) -> io::Result<Vec<u8>> {
        let head = format!("APPEND {mailbox} {{{}+}}\r\n", message.len());
        self.send_command(head.as_bytes(), message, |_| {}).await
    }

    /// Sends `tag command literal CRLF`, hands each untagged response to
    /// `each`, and returns the tagged line when it is OK.
    async fn send_command(
        &mut self,
        command: &[u8],
        literal: &[u8],
        mut each: impl FnMut(Vec<u8>),
    ) -> io::Result<Vec<u8>> {
        self.tag += 1;
        let tag = format!("b{}", self.tag);
        let mut bytes = Vec::with_capacity(tag.len() + command.len() + literal.len() + 3);
        bytes.extend_from_slice(tag.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(command);
        bytes.extend_from_slice(literal);
        bytes.extend_from_slice(b"\r\n");
        self.stream.get_mut().write_all(&bytes).await?;
        loop {
            let line = self.response().await?;
            if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                let status = &line[tag.len() + 1..];
                if status.starts_with(b"NO [EXPUNGEISSUED]") {
                    self.expunge_races += 1;
                    return Ok(line);
                }
                if !status.starts_with(b"OK") {
                    return Err(refused(&String::from_utf8_lossy(command), &line));
                }
                return Ok(line);
            }
            self.track(&line);
            each(line);
        }
    }

    /// Sends bytes as they are (a deliberately broken client).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.get_mut().write_all(bytes).await
    }

    /// Starts IDLE and waits for the continuation.
    pub async fn idle(&mut self) -> io::Result<()> {
        self.tag += 1;
        let command = format!("b{} IDLE\r\n", self.tag);
        self.stream.get_mut().write_all(command.as_bytes()).await?;
        loop {
            let line = self.response().await?;
            if line.starts_with(b"+") {
                return Ok(());
            }
            self.track(&line);
        }
    }

    /// Waits (while idling) for an untagged response containing `word`.
    pub async fn wait_for(&mut self, word: &[u8], limit: Duration) -> io::Result<()> {
        tokio::time::timeout(limit, async {
            loop {
                let line = self.response().await?;
                self.track(&line);
                if line.windows(word.len()).any(|w| w == word) {
                    return Ok(());
                }
            }
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no IDLE notification"))?
    }

    /// Keeps `exists` current from EXISTS and EXPUNGE responses.
    fn track(&mut self, line: &[u8]) {
        let Some(rest) = line.strip_prefix(b"* ") else {
            return;
        };
        let mut words = rest.splitn(3, |&b| b == b' ');
        let number = words
            .next()
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u32>().ok());
        match (number, words.next()) {
            (Some(n), Some(b"EXISTS")) => self.exists = n,
            (Some(_), Some(b"EXPUNGE")) => self.exists = self.exists.saturating_sub(1),
            _ => {}
        }
    }

    /// One response: a line with its literals, without the final CRLF.
    async fn response(&mut self) -> io::Result<Vec<u8>> {
        tokio::time::timeout(RESPONSE_TIMEOUT, self.read_response())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "response timeout"))?
    }

    async fn read_response(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let start = out.len();
            if self.stream.read_until(b'\n', &mut out).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            match literal_size(&out[start..]) {
                Some(size) => {
                    let at = out.len();
                    out.resize(at + size, 0);
                    self.stream.read_exact(&mut out[at..]).await?;
                }
                None => {
                    let end = out.len() - if out.ends_with(b"\r\n") { 2 } else { 1 };
                    out.truncate(end);
                    return Ok(out);
                }
            }
        }
    }
}

fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"}\r\n")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&line[open + 1..]).ok()?.parse().ok()
}

fn refused(what: &str, line: &[u8]) -> io::Error {
    let what: String = what.chars().take(60).collect();
    io::Error::other(format!(
        "{what}: {}",
        String::from_utf8_lossy(&line[..line.len().min(200)])
    ))
}

/// TLS without certificate checks: both servers run with self-signed
/// certificates on loopback, and only the cost of TLS is of interest.
fn insecure_connector() -> tokio_rustls::TlsConnector {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

    #[derive(Debug)]
    struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}
