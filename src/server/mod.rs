//! Listeners, the accept loops, connection limits and graceful shutdown.
//!
//! Plain listeners (143) start sessions in the clear with STARTTLS offered;
//! implicit-TLS listeners (993) finish a TLS handshake first. A failure in
//! one connection never ends an accept loop.

pub mod http;
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
use crate::config::{Config, LmtpListen};
use crate::context::ServerContext;
use crate::context::limits::{ConnectionGuard, ConnectionLimiter};
use crate::session::{Session, Stream};
use crate::store::MailStore;

pub struct Server {
    ctx: Arc<ServerContext>,
    limiter: Arc<ConnectionLimiter<AddressKey>>,
    imap: Vec<TcpListener>,
    imaps: Vec<TcpListener>,
    lmtp: Vec<LmtpListener>,
    metrics: Option<TcpListener>,
    autoconfig: Vec<TcpListener>,
    control: Option<tokio::net::UnixListener>,
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
        if tls.is_none() && !config.imaps.listen.is_empty() {
            return Err(ServerError::NoTls);
        }
        let imap = bind_all(&config.imap.listen).await?;
        let imaps = bind_all(&config.imaps.listen).await?;
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
            imap,
            imaps,
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

    /// The bound plain (STARTTLS) addresses; useful with port 0.
    pub fn imap_addrs(&self) -> Vec<SocketAddr> {
        self.imap
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The bound implicit-TLS addresses.
    pub fn imaps_addrs(&self) -> Vec<SocketAddr> {
        self.imaps
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until `shutdown` completes, then sends `* BYE` to every
    /// session and waits (bounded) for them to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        // Every connection holds a sender; recv() returns None once all are gone.
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let listeners = self
            .imap
            .into_iter()
            .map(|l| (l, false))
            .chain(self.imaps.into_iter().map(|l| (l, true)));
        for (listener, implicit_tls) in listeners {
            let acceptor = Acceptor {
                ctx: Arc::clone(&self.ctx),
                limiter: Arc::clone(&self.limiter),
                implicit_tls,
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
    implicit_tls: bool,
    stop: watch::Receiver<bool>,
    alive: mpsc::Sender<()>,
}

impl Acceptor {
    async fn run(mut self, listener: TcpListener) {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = self.stop.wait_for(|stop| *stop) => return,
            };
            match accepted {
                Ok((tcp, peer)) => self.spawn_connection(tcp, peer),
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// `* BYE` on a plaintext listener; on an implicit-TLS one a plaintext
    /// line would only confuse the client's handshake, so just close.
    fn refuse(&self, mut tcp: TcpStream) {
        if !self.implicit_tls {
            tokio::spawn(async move {
                let _ = tcp.write_all(b"* BYE Too many connections\r\n").await;
            });
        }
    }

    fn spawn_connection(&self, mut tcp: TcpStream, peer: SocketAddr) {
        let listen = if self.implicit_tls {
            &self.ctx.config().imaps
        } else {
            &self.ctx.config().imap
        };
        if !listen.access().permits(peer.ip()) {
            tracing::warn!(%peer, "connection refused: address not allowed");
            if !self.implicit_tls {
                tokio::spawn(async move {
                    let _ = tcp.write_all(b"* BYE Access denied\r\n").await;
                });
            }
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
                tracing::warn!(%peer, "connection refused: {why}");
                self.refuse(tcp);
                return;
            }
        };
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            ctx: Arc::clone(&self.ctx),
            implicit_tls: self.implicit_tls,
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
    implicit_tls: bool,
    stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
    _guard: ConnectionGuard<AddressKey>,
    /// Handed to the session, which gives it back at login.
    unauthenticated: Option<ConnectionGuard<AddressKey>>,
}

impl Connection {
    async fn serve(mut self, tcp: TcpStream, peer: SocketAddr) {
        tracing::info!(%peer, tls = self.implicit_tls, "connection");
        let unauthenticated = self.unauthenticated.take();
        let listener = if self.implicit_tls { "imaps" } else { "imap" };
        self.ctx.metrics.connection(listener);
        let mut session = if self.implicit_tls {
            let Some(acceptor) = self.ctx.tls.acceptor() else {
                return;
            };
            let limit = self.ctx.config().limits.tls_handshake_timeout();
            match timeout(limit, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Session::new(Box::new(tls), true, peer, self.ctx, self.stop),
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        } else {
            Session::new(Box::new(tcp), false, peer, self.ctx, self.stop)
        };
        session.unauthenticated_slot = unauthenticated;
        crate::handler::run(session).await;
        tracing::info!(%peer, "disconnected");
    }
}
