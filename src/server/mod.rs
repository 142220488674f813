//! Listeners, the accept loops, connection limits and graceful shutdown.
//!
//! Plain listeners (IMAP 143, POP3 110) start sessions in the clear with
//! STARTTLS/STLS offered; implicit-TLS listeners (993, 995) finish a TLS
//! handshake first. A failure in
//! one connection never ends an accept loop.

mod metrics_endpoint;
mod retention;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::auth::guard::AddressKey;
use crate::config::{Config, ListenConfig, LmtpListen};
use crate::context::ServerContext;
use crate::context::limits::{ConnectionGuard, ConnectionLimiter};
use crate::session::{Session, Stream};
use crate::store::MailStore;

pub struct Server {
    ctx: Arc<ServerContext>,
    limiter: Arc<ConnectionLimiter<AddressKey>>,
    /// IMAP and POP3 listeners, each with the service it offers.
    sessions: Vec<(Service, TcpListener)>,
    lmtp: Vec<LmtpListener>,
    metrics: Option<TcpListener>,
    autoconfig: Vec<TcpListener>,
    control: Option<tokio::net::UnixListener>,
}

/// What a session listener offers: a protocol, in the clear (with
/// STARTTLS/STLS) or behind implicit TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Imap,
    Imaps,
    Pop3,
    Pop3s,
    ManageSieve,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Imap,
        Service::Imaps,
        Service::Pop3,
        Service::Pop3s,
        Service::ManageSieve,
    ];

    /// The config section, also the listener's label in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Service::Imap => "imap",
            Service::Imaps => "imaps",
            Service::Pop3 => "pop3",
            Service::Pop3s => "pop3s",
            Service::ManageSieve => "managesieve",
        }
    }

    pub fn implicit_tls(self) -> bool {
        matches!(self, Service::Imaps | Service::Pop3s)
    }

    fn listen(self, config: &Config) -> &ListenConfig {
        match self {
            Service::Imap => &config.imap,
            Service::Imaps => &config.imaps,
            Service::Pop3 => &config.pop3,
            Service::Pop3s => &config.pop3s,
            Service::ManageSieve => &config.managesieve,
        }
    }

    /// The line that turns a connection away; none behind implicit TLS,
    /// where plaintext would only confuse the client's handshake.
    /// `lasting`: the refusal will not change by trying again (RFC 3206
    /// SYS/PERM rather than SYS/TEMP).
    fn refusal(self, why: &str, lasting: bool) -> Option<String> {
        let code = if lasting { "SYS/PERM" } else { "SYS/TEMP" };
        match self {
            Service::Imap => Some(format!("* BYE {why}\r\n")),
            Service::Pop3 => Some(format!("-ERR [{code}] {why}\r\n")),
            Service::ManageSieve => Some(format!("BYE \"{why}\"\r\n")),
            Service::Imaps | Service::Pop3s => None,
        }
    }
}

/// An LMTP listening socket.
enum LmtpListener {
    Tcp(TcpListener),
    Unix(tokio::net::UnixListener),
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS listeners are configured but [tls] is missing")]
    NoTls,
    #[error("cannot listen on {path}: {source}")]
    BindUnix {
        path: String,
        source: std::io::Error,
    },
}

/// How long shutdown waits for sessions to finish their current command.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Server {
    /// Binds every configured listener.
    pub async fn bind(
        config: Config,
        store: Arc<dyn MailStore>,
        tls: Option<TlsAcceptor>,
    ) -> Result<Server, ServerError> {
        let mut sessions = Vec::new();
        for service in Service::ALL {
            let addresses = &service.listen(&config).listen;
            if service.implicit_tls() && tls.is_none() && !addresses.is_empty() {
                return Err(ServerError::NoTls);
            }
            let listeners = bind_all(addresses).await?;
            sessions.extend(listeners.into_iter().map(|l| (service, l)));
        }
        let lmtp = bind_lmtp(&config.lmtp.listen).await?;
        let metrics = match config.metrics.listen {
            Some(addr) => bind_all(&[addr]).await?.pop(),
            None => None,
        };
        let autoconfig = bind_all(&config.autoconfig.listen).await?;
        let control_path = config.control_socket_path();
        // Without it only `letterbox auth` is lost: not worth refusing mail.
        let control = crate::control::bind(&control_path)
            .inspect_err(|error| {
                tracing::warn!(path = %control_path.display(), %error,
                    "control socket not available; `letterbox auth` will not reach this server")
            })
            .ok();
        let ctx = ServerContext::new(config, store, tls);
        let limiter = Arc::clone(&ctx.connection_slots);
        Ok(Server {
            ctx,
            limiter,
            sessions,
            lmtp,
            metrics,
            autoconfig,
            control,
        })
    }

    /// The bound autoconfig addresses.
    pub fn autoconfig_addrs(&self) -> Vec<SocketAddr> {
        self.autoconfig
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The bound metrics address, when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The bound LMTP TCP addresses.
    pub fn lmtp_addrs(&self) -> Vec<SocketAddr> {
        self.lmtp
            .iter()
            .filter_map(|l| match l {
                LmtpListener::Tcp(l) => l.local_addr().ok(),
                LmtpListener::Unix(_) => None,
            })
            .collect()
    }

    /// The state every session shares (for example to reload TLS on SIGHUP).
    pub fn context(&self) -> Arc<ServerContext> {
        Arc::clone(&self.ctx)
    }

    /// The bound addresses of one service; useful with port 0.
    pub fn addrs(&self, service: Service) -> Vec<SocketAddr> {
        self.sessions
            .iter()
            .filter(|(offered, _)| *offered == service)
            .filter_map(|(_, l)| l.local_addr().ok())
            .collect()
    }

    /// Serves until `shutdown` completes, then sends `* BYE` to every
    /// session and waits (bounded) for them to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        // Every connection holds a sender; recv() returns None once all are gone.
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        for (service, listener) in self.sessions {
            let acceptor = Acceptor {
                ctx: Arc::clone(&self.ctx),
                limiter: Arc::clone(&self.limiter),
                service,
                stop: stop_rx.clone(),
                alive: alive_tx.clone(),
            };
            tokio::spawn(acceptor.run(listener));
        }
        for listener in self.lmtp {
            let lmtp = LmtpAcceptor {
                ctx: Arc::clone(&self.ctx),
                limiter: Arc::clone(&self.limiter),
                stop: stop_rx.clone(),
                alive: alive_tx.clone(),
            };
            tokio::spawn(lmtp.run(listener));
        }
        tokio::spawn(retention::run(Arc::clone(&self.ctx), stop_rx.clone()));
        if let Some(control) = self.control {
            let ctx = Arc::clone(&self.ctx);
            tokio::spawn(crate::control::serve(control, ctx, stop_rx.clone()));
        }
        for listener in self.autoconfig {
            let ctx = Arc::clone(&self.ctx);
            tokio::spawn(crate::autoconfig::serve(listener, ctx, stop_rx.clone()));
        }
        if let Some(listener) = self.metrics {
            let ctx = Arc::clone(&self.ctx);
            let render = move || ctx.render_metrics();
            tokio::spawn(metrics_endpoint::serve(listener, render, stop_rx.clone()));
        }
        drop(alive_tx);
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        if timeout(SHUTDOWN_GRACE, alive_rx.recv()).await.is_err() {
            tracing::warn!("sessions still running after the shutdown grace period");
        }
    }
}

async fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, ServerError> {
    let mut listeners = Vec::new();
    for &addr in addrs {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        tracing::info!(address = %listener.local_addr().unwrap_or(addr), "listening");
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Binds LMTP listeners; a unix socket left by an earlier run is replaced,
/// and made writable by the local MTA (mode 0666, as Dovecot's default).
async fn bind_lmtp(addresses: &[LmtpListen]) -> Result<Vec<LmtpListener>, ServerError> {
    let mut listeners = Vec::new();
    for address in addresses {
        match address {
            LmtpListen::Tcp(addr) => {
                let mut tcp = bind_all(std::slice::from_ref(addr)).await?;
                listeners.extend(tcp.drain(..).map(LmtpListener::Tcp));
            }
            LmtpListen::Unix(path) => {
                let error = |source| ServerError::BindUnix {
                    path: path.display().to_string(),
                    source,
                };
                // Any local user may deliver, as with a TCP listener.
                let listener = crate::unix_socket::bind(path, 0o666).map_err(error)?;
                tracing::info!(path = %path.display(), "LMTP listening");
                listeners.push(LmtpListener::Unix(listener));
            }
        }
    }
    Ok(listeners)
}

/// Accepts LMTP connections; each is served by `lmtp::serve`.
struct LmtpAcceptor {
    ctx: Arc<ServerContext>,
    limiter: Arc<ConnectionLimiter<AddressKey>>,
    stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
}

impl LmtpAcceptor {
    async fn run(mut self, listener: LmtpListener) {
        loop {
            let accepted = tokio::select! {
                accepted = accept_lmtp(&listener) => accepted,
                _ = self.stop.wait_for(|stop| *stop) => return,
            };
            match accepted {
                Ok((mut stream, ip)) => {
                    if ip.is_some_and(|ip| !self.ctx.config().lmtp.access().permits(ip)) {
                        tracing::warn!(?ip, "LMTP connection refused: address not allowed");
                        tokio::spawn(async move {
                            let _ = stream.write_all(b"421 4.7.0 Access denied\r\n").await;
                        });
                        continue;
                    }
                    // Same slots as IMAP; unix-socket peers share one key.
                    let ip = ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
                    let key = self.ctx.guard.key(ip);
                    let Some(guard) = self.limiter.try_acquire(key) else {
                        tokio::spawn(async move {
                            let _ = stream
                                .write_all(b"421 4.3.2 Too many connections\r\n")
                                .await;
                        });
                        continue;
                    };
                    let (ctx, alive, stop) =
                        (Arc::clone(&self.ctx), self.alive.clone(), self.stop.clone());
                    tokio::spawn(async move {
                        crate::lmtp::serve(stream, ctx, stop).await;
                        drop((alive, guard));
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LMTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// The stream and, for TCP, the peer's address.
async fn accept_lmtp(
    listener: &LmtpListener,
) -> std::io::Result<(Box<dyn Stream>, Option<IpAddr>)> {
    Ok(match listener {
        LmtpListener::Tcp(tcp) => {
            let (stream, peer) = tcp.accept().await?;
            (Box::new(stream), Some(peer.ip()))
        }
        LmtpListener::Unix(unix) => (Box::new(unix.accept().await?.0), None),
    })
}

struct Acceptor {
    ctx: Arc<ServerContext>,
    limiter: Arc<ConnectionLimiter<AddressKey>>,
    service: Service,
    stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
}

impl Acceptor {
    async fn run(self, listener: TcpListener) {
        // Connections from a balancer come back here once its PROXY
        // header named the client.
        let (proxied_tx, mut proxied) = mpsc::channel(64);
        loop {
            let mut stop = self.stop.clone();
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                Some((tcp, client)) = proxied.recv() => {
                    // Its header read: the checks see the client.
                    self.spawn_connection(tcp, client);
                    continue;
                }
                _ = stop.wait_for(|stop| *stop) => return,
            };
            match accepted {
                Ok((tcp, peer)) if self.is_balancer(peer) => {
                    self.read_proxy_header(tcp, peer, proxied_tx.clone())
                }
                Ok((tcp, peer)) => self.spawn_connection(tcp, peer),
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn is_balancer(&self, peer: SocketAddr) -> bool {
        let config = self.ctx.config();
        let balancers = &self.service.listen(&config).proxy_from;
        balancers.iter().any(|net| net.contains(&peer.ip()))
    }

    /// Reads a balancer's PROXY header beside the accepting loop (it may
    /// be slow to come), then hands the connection back under the
    /// client's address for the usual checks. Without a valid header in
    /// time the connection is closed: a balancer that does not send one
    /// is misconfigured, and guessing would count clients as the balancer.
    fn read_proxy_header(
        &self,
        mut tcp: TcpStream,
        peer: SocketAddr,
        admit: mpsc::Sender<(TcpStream, SocketAddr)>,
    ) {
        let timeout = self.ctx.config().limits.tls_handshake_timeout();
        let service = self.service.name();
        tokio::spawn(async move {
            let header =
                tokio::time::timeout(timeout, crate::proxy_protocol::read_header(&mut tcp));
            match header.await {
                Ok(Ok(client)) => {
                    let _ = admit.send((tcp, client.unwrap_or(peer))).await;
                }
                Ok(Err(e)) => tracing::warn!(%peer, service, "connection refused: {e}"),
                Err(_) => {
                    tracing::warn!(%peer, service, "connection refused: no PROXY header in time")
                }
            }
        });
    }

    /// Turns a connection away, with a line saying why where the
    /// protocol has one.
    fn refuse(&self, mut tcp: TcpStream, why: &str, lasting: bool) {
        if let Some(line) = self.service.refusal(why, lasting) {
            tokio::spawn(async move {
                let _ = tcp.write_all(line.as_bytes()).await;
            });
        }
    }

    fn spawn_connection(&self, tcp: TcpStream, peer: SocketAddr) {
        if !self
            .service
            .listen(&self.ctx.config())
            .access()
            .permits(peer.ip())
        {
            tracing::warn!(%peer, service = self.service.name(), "connection refused: address not allowed");
            self.refuse(tcp, "Access denied", true);
            return;
        }
        let key = self.ctx.guard.key(peer.ip());
        let slots = match self.limiter.try_acquire(key) {
            None => Err("too many connections"),
            Some(guard) => match self.ctx.unauthenticated_slots.try_acquire(key) {
                None => Err("too many connections not logged in from this address"),
                Some(unauthenticated) => Ok((guard, unauthenticated)),
            },
        };
        let (guard, unauthenticated) = match slots {
            Ok(slots) => slots,
            Err(why) => {
                tracing::warn!(%peer, service = self.service.name(), "connection refused: {why}");
                self.refuse(tcp, "Too many connections", false);
                return;
            }
        };
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            ctx: Arc::clone(&self.ctx),
            service: self.service,
            stop: self.stop.clone(),
            _alive: self.alive.clone(),
            _guard: guard,
            unauthenticated: Some(unauthenticated),
        };
        tokio::spawn(connection.serve(tcp, peer));
    }
}

/// One accepted connection and the slots it holds while it lives.
struct Connection {
    ctx: Arc<ServerContext>,
    service: Service,
    stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
    _guard: ConnectionGuard<AddressKey>,
    /// Handed to the session, which gives it back at login.
    unauthenticated: Option<ConnectionGuard<AddressKey>>,
}

impl Connection {
    async fn serve(mut self, tcp: TcpStream, peer: SocketAddr) {
        let service = self.service;
        tracing::info!(%peer, service = service.name(), "connection");
        self.ctx.metrics.connection(service.name());
        let Some(io) = self.start_tls(tcp, peer).await else {
            return;
        };
        let secure = service.implicit_tls();
        let unauthenticated = self.unauthenticated.take();
        match service {
            Service::Imap | Service::Imaps => {
                let mut session = Session::new(io, secure, peer, self.ctx, self.stop);
                session.unauthenticated_slot = unauthenticated;
                crate::handler::run(session).await;
            }
            Service::Pop3 | Service::Pop3s => {
                let session = crate::pop3::Pop3::new(secure, peer, self.ctx, unauthenticated);
                session.serve(io, self.stop).await;
            }
            Service::ManageSieve => {
                let session =
                    crate::managesieve::ManageSieve::new(secure, peer, self.ctx, unauthenticated);
                session.serve(io, self.stop).await;
            }
        }
        tracing::info!(%peer, "disconnected");
    }

    /// The stream sessions run over: behind implicit TLS, after the
    /// handshake (None when it failed or took too long).
    async fn start_tls(&self, tcp: TcpStream, peer: SocketAddr) -> Option<Box<dyn Stream>> {
        if !self.service.implicit_tls() {
            return Some(Box::new(tcp));
        }
        let acceptor = self.ctx.tls.acceptor()?;
        let limit = self.ctx.config().limits.tls_handshake_timeout();
        match timeout(limit, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => Some(Box::new(tls)),
            Ok(Err(e)) => {
                tracing::info!(%peer, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::info!(%peer, "TLS handshake timed out");
                None
            }
        }
    }
}
