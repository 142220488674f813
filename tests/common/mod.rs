//! Test harness: a real server on 127.0.0.1 port 0 over a real store (a
//! SQLite file in a temp dir, or with `LETTERBOX_TEST_BACKEND=postgres` a
//! database of its own on the test cluster: the README's test command runs
//! the integration tests on both), a TLS certificate generated for the
//! run, and a raw IMAP
//! client that speaks over TCP or TLS, or in-process over
//! `tokio::io::duplex` to a session sharing the server's context (for
//! command-level tests: no socket, no TLS handshake per client).
#![allow(dead_code)]

pub mod binary;
pub mod test_database;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use letterbox::auth::hash_password;
use letterbox::config::{Config, ListenConfig, StoreBackend, Synchronous, TlsConfig};
use letterbox::context::ServerContext;
use letterbox::server::{Server, Service};
use letterbox::session::{Session, Stream};
use letterbox::store::MailStore;
use letterbox::tls;
use test_database::TestDatabase;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio_rustls::rustls;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret pass";

pub struct TestServer {
    pub imap: SocketAddr,
    pub imaps: SocketAddr,
    /// The POP3 addresses, when the config asked for them.
    pub pop3: Option<SocketAddr>,
    pub pop3s: Option<SocketAddr>,
    /// The ManageSieve address, when the config asked for one.
    pub managesieve: Option<SocketAddr>,
    /// The LMTP TCP address, when the config asked for one.
    pub lmtp: Option<SocketAddr>,
    /// The metrics address, when the config asked for one.
    pub metrics: Option<SocketAddr>,
    /// The autoconfig address, when the config asked for one.
    pub autoconfig: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn MailStore>,
    /// The PostgreSQL database under test, dropped with the server.
    _database: Option<TestDatabase>,
    pub cert_path: std::path::PathBuf,
    /// What the server's sessions share; in-process sessions use it too.
    pub ctx: Arc<ServerContext>,
    stop: Option<oneshot::Sender<()>>,
    /// Tells in-process sessions the server is shutting down.
    stop_in_process: watch::Sender<bool>,
    pub task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has edited its config.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        tls::ensure_dev_certificate(&cert_path, &key_path).unwrap();
        let mut config = Config::dev();
        config.data_dir = dir.path().join("data");
        config.imap = ListenConfig {
            listen: vec!["127.0.0.1:0".parse().unwrap()],
            ..ListenConfig::default()
        };
        config.imaps = ListenConfig {
            listen: vec!["127.0.0.1:0".parse().unwrap()],
            ..ListenConfig::default()
        };
        // Tests that want POP3 ask for it; the dev ports would collide.
        config.pop3 = ListenConfig::default();
        config.pop3s = ListenConfig::default();
        config.managesieve = ListenConfig::default();
        config.tls = Some(TlsConfig {
            cert: cert_path.clone(),
            key: key_path.clone(),
        });
        config.store.synchronous = Synchronous::Normal;
        let database = use_test_backend(&mut config);
        // Tests fail logins on purpose; the delays have their own test.
        config.auth.failure_delay_ms = 0;
        adjust(&mut config);
        let tls_files = config.tls.clone().unwrap();
        let store = blocking(|| {
            let store = config.open_store().unwrap().mail();
            if store.find_user(USER).unwrap().is_none() {
                store.create_user(USER, &hash_password(PASSWORD)).unwrap();
            }
            store
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(
            tls::load_server_config(&tls_files.cert, &tls_files.key).unwrap(),
        );
        let server = Server::bind(config, store.clone(), Some(acceptor))
            .await
            .unwrap();
        let imap = server.addrs(Service::Imap)[0];
        let imaps = server.addrs(Service::Imaps)[0];
        let pop3 = server.addrs(Service::Pop3).first().copied();
        let pop3s = server.addrs(Service::Pop3s).first().copied();
        let managesieve = server.addrs(Service::ManageSieve).first().copied();
        let lmtp = server.lmtp_addrs().first().copied();
        let metrics = server.metrics_addr();
        let autoconfig = server.autoconfig_addrs().first().copied();
        let ctx = server.context();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestServer {
            imap,
            imaps,
            pop3,
            pop3s,
            managesieve,
            lmtp,
            metrics,
            autoconfig,
            dir,
            store,
            _database: database,
            cert_path: tls_files.cert,
            ctx,
            stop: Some(stop),
            stop_in_process: watch::channel(false).0,
            task: Some(task),
        }
    }

    /// Asks the server to shut down and waits for it.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.stop_in_process.send(true);
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("server stops in time")
                .unwrap();
        }
    }

    /// Writes a config file `name` for another process on this server's
    /// store (`letterbox deliver`, CLI commands), with `extra` TOML.
    pub fn config_file(&self, name: &str, extra: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        let text = format!(
            "data_dir = {:?}\n{}{extra}",
            self.dir.path().join("data"),
            store_section(&self.ctx.config())
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    pub async fn plain(&self) -> Client {
        Client::plain(self.imap).await
    }

    pub async fn tls(&self) -> Client {
        Client::tls(self.imaps, &self.cert_path).await
    }

    /// A client of a session run in this process over an in-memory pipe,
    /// as if it had come in over TLS from 127.0.0.1: the same context,
    /// store and command code as a socket session, without the socket.
    pub async fn in_process(&self) -> Client {
        let (client_end, server_end) = tokio::io::duplex(64 * 1024);
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let session = Session::new(
            Box::new(server_end),
            true,
            peer,
            Arc::clone(&self.ctx),
            self.stop_in_process.subscribe(),
        );
        tokio::spawn(letterbox::handler::run(session));
        let mut client = Client::over(Box::new(client_end));
        client.greeting().await;
        client
    }

    /// An in-process client already logged in as alice (command-level
    /// tests; those about sockets, TLS or limits use `tls()`/`plain()`).
    pub async fn logged_in(&self) -> Client {
        let mut client = self.in_process().await;
        client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        client
    }

    /// A TLS client already logged in as alice.
    pub async fn logged_in_tls(&self) -> Client {
        let mut client = self.tls().await;
        client.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        client
    }
}

/// Runs `f` on a thread of its own and waits for it: how async tests call
/// the store, whose calls block (the PostgreSQL client drives a runtime of
/// its own, which cannot start inside the test's), as the server's own
/// calls run on blocking threads.
pub fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Whether this run tests the PostgreSQL backend
/// (`LETTERBOX_TEST_BACKEND=postgres`, with `LETTERBOX_TEST_POSTGRES`).
pub fn on_postgres() -> bool {
    std::env::var("LETTERBOX_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// Points `config` at the backend under test: on PostgreSQL, a new
/// database, which lives as long as the returned guard.
pub fn use_test_backend(config: &mut Config) -> Option<TestDatabase> {
    if !on_postgres() {
        return None;
    }
    let database = TestDatabase::create()
        .expect("LETTERBOX_TEST_BACKEND=postgres needs LETTERBOX_TEST_POSTGRES");
    config.store.backend = StoreBackend::Postgres;
    config.store.url = Some(database.url.clone());
    Some(database)
}

/// The `[store]` section of `config`, for a config file of a second
/// process (`letterbox deliver`) on the same store.
pub fn store_section(config: &Config) -> String {
    format!("[store]\n{}", toml::to_string(&config.store).unwrap())
}

/// Runs one SQL statement on the store `config` names, behind the server's
/// back (to age messages, drop stored fields); returns the rows changed.
pub fn raw_sql(config: &Config, sql: &str) -> u64 {
    blocking(|| match config.store.backend {
        StoreBackend::Sqlite => rusqlite::Connection::open(config.database_path())
            .unwrap()
            .execute(sql, [])
            .unwrap() as u64,
        StoreBackend::Postgres => {
            let url = config.store.url.as_deref().unwrap();
            postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .execute(sql, &[])
                .unwrap()
        }
    })
}

/// How many rows `table` of the store `config` names holds.
pub fn count_rows(config: &Config, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    blocking(|| match config.store.backend {
        StoreBackend::Sqlite => rusqlite::Connection::open(config.database_path())
            .unwrap()
            .query_row(&sql, [], |r| r.get(0))
            .unwrap(),
        StoreBackend::Postgres => {
            let url = config.store.url.as_deref().unwrap();
            postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .query_one(&sql, &[])
                .unwrap()
                .get(0)
        }
    })
}

/// The client side of TLS, trusting only the run's certificate.
pub fn tls_connector(cert_path: &std::path::Path) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

const TIMEOUT: Duration = Duration::from_secs(20);

/// A raw IMAP client: sends bytes, reads response lines (with literals).
pub struct Client {
    stream: BufReader<Box<dyn Stream>>,
    next_tag: u32,
}

impl Client {
    pub async fn plain(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut client = Client::over(Box::new(tcp));
        client.greeting().await;
        client
    }

    /// A plaintext client whose connection comes from `source` (any
    /// address of 127.0.0.0/8 can be a client's source address on
    /// loopback), so tests can play several remote addresses.
    pub async fn plain_from(addr: SocketAddr, source: &str) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let mut client = Client::over(Box::new(tcp));
        client.greeting().await;
        client
    }

    pub async fn tls(addr: SocketAddr, cert_path: &std::path::Path) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tls_connector(cert_path).connect(name, tcp).await.unwrap();
        let mut client = Client::over(Box::new(tls));
        client.greeting().await;
        client
    }

    pub fn over(stream: Box<dyn Stream>) -> Client {
        Client {
            stream: BufReader::new(stream),
            next_tag: 1,
        }
    }

    /// After the server accepted STARTTLS (or STLS): the TLS handshake,
    /// trusting only the run's certificate.
    pub async fn start_tls(self, cert_path: &std::path::Path) -> Client {
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tls_connector(cert_path)
            .connect(name, self.into_inner())
            .await
            .unwrap();
        Client::over(Box::new(tls))
    }

    async fn greeting(&mut self) -> String {
        let greeting = self.line().await;
        assert!(
            greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
            "{greeting}"
        );
        greeting
    }

    /// Replaces the stream (after STARTTLS).
    pub fn into_inner(self) -> Box<dyn Stream> {
        self.stream.into_inner()
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        let stream = self.stream.get_mut();
        stream.write_all(bytes).await.unwrap();
        stream.flush().await.unwrap();
    }

    /// Reads one response line, literals included, without the final CRLF.
    /// Non-UTF-8 octets are replaced, which is fine for assertions.
    pub async fn line(&mut self) -> String {
        String::from_utf8_lossy(&self.raw_line().await).into_owned()
    }

    /// A line that may take long to come (benchmarks waiting in IDLE).
    pub async fn line_within(&mut self, limit: Duration) -> String {
        let raw = tokio::time::timeout(limit, self.read_logical_line())
            .await
            .expect("response line within the timeout");
        String::from_utf8_lossy(&raw).into_owned()
    }

    pub async fn raw_line(&mut self) -> Vec<u8> {
        tokio::time::timeout(TIMEOUT, self.read_logical_line())
            .await
            .expect("response line within the timeout")
    }

    async fn read_logical_line(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut part = Vec::new();
            let n = self.stream.read_until(b'\n', &mut part).await.unwrap();
            assert!(
                n > 0,
                "connection closed; got so far: {:?}",
                String::from_utf8_lossy(&out)
            );
            out.extend_from_slice(&part);
            match literal_size(&part) {
                Some(size) => {
                    let mut literal = vec![0; size];
                    self.stream.read_exact(&mut literal).await.unwrap();
                    out.extend_from_slice(&literal);
                }
                None => {
                    out.truncate(out.len() - if out.ends_with(b"\r\n") { 2 } else { 1 });
                    return out;
                }
            }
        }
    }

    /// True when the server closed the connection (reads EOF in time).
    pub async fn closed(&mut self) -> bool {
        let mut buf = Vec::new();
        match tokio::time::timeout(TIMEOUT, self.stream.read_to_end(&mut buf)).await {
            Ok(Ok(_)) => true,
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }

    /// Sends `tag command` and returns every line up to and including the
    /// tagged one.
    pub async fn command(&mut self, command: &str) -> Vec<String> {
        let tag = format!("t{}", self.next_tag);
        self.next_tag += 1;
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until_tagged(&tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Runs a command that must succeed; returns its untagged lines and the
    /// tagged line last.
    pub async fn ok(&mut self, command: &str) -> Vec<String> {
        let lines = self.command(command).await;
        let last = lines.last().unwrap();
        assert!(
            last.split(' ').nth(1) == Some("OK"),
            "{command} -> {lines:#?}"
        );
        lines
    }

    /// Runs a command and returns only its tagged status word and text.
    pub async fn status(&mut self, command: &str) -> String {
        let lines = self.command(command).await;
        let last = lines.last().unwrap();
        last.split_once(' ').unwrap().1.to_owned()
    }
}

fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))?;
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&line[open + 1..]).ok()?.parse().ok()
}

/// Runs `command` with `input` on its standard input and returns its
/// status and captured output. Blocking: from async code, call it inside
/// `spawn_blocking` (or accept the wait, as short commands do).
pub fn run_with_stdin(command: &mut std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a client program (python3, curl...) off the async threads and
/// returns what it did.
pub async fn client_output(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().expect("the client program runs"))
        .await
        .unwrap()
}

/// [`client_output`], asserting the program exited 0; its stdout.
pub async fn run_client(command: std::process::Command) -> String {
    let output = client_output(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}
