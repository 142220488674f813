//! Client autoconfiguration (`[autoconfig]`): an HTTP listener that gives
//! Thunderbird, Outlook and Apple Mail the account settings for an address,
//! so that users type only their address and password.
//!
//! - `GET /mail/config-v1.1.xml?emailaddress=...` and
//!   `GET /.well-known/autoconfig/mail/config-v1.1.xml`: Thunderbird
//!   (Thunderbird for Android asks without the address);
//! - `POST /autodiscover/autodiscover.xml`: Outlook (any case of the path);
//! - `GET /apple/mail.mobileconfig?emailaddress=...`: an Apple profile.

pub mod documents;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::context::ServerContext;
use crate::http::{Request, Response, accept, read_request, write_response};
use documents::Address;

/// Requests answered at once; past that a connection is closed unanswered,
/// so a flood of idle connections cannot pile up tasks (each also has its
/// handshake and read timeouts).
const CONCURRENT: usize = 256;

/// Serves `listener` until `stop`, over TLS when `[autoconfig] tls`.
pub async fn serve(
    listener: TcpListener,
    ctx: Arc<ServerContext>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENT));
    while let Some(stream) = accept(&listener, &mut stop).await {
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let _slot = slot;
            if !ctx.config().autoconfig.tls {
                exchange(stream, &ctx).await;
                return;
            }
            let Some(acceptor) = ctx.tls.acceptor() else {
                return;
            };
            let handshake = acceptor.accept(stream);
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), handshake).await {
                exchange(tls, &ctx).await;
            }
        });
    }
}

/// One request, one answer.
async fn exchange(stream: impl AsyncRead + AsyncWrite + Unpin, ctx: &ServerContext) {
    let (read, write) = tokio::io::split(stream);
    let Some(request) = read_request(read).await else {
        write_response(write, &Response::error("400 Bad Request")).await;
        return;
    };
    let response = answer(ctx, &request);
    tracing::debug!(
        method = request.method,
        path = request.path,
        status = response.status,
        "autoconfig"
    );
    write_response(write, &response).await;
}

fn answer(ctx: &ServerContext, request: &Request) -> Response {
    let config = ctx.config();
    let path = request.path.to_ascii_lowercase();
    let asked = request.param("emailaddress");
    match (request.method.as_str(), path.as_str()) {
        ("GET", "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml") => {
            let domain = match asked {
                Some(text) => match Address::parse(text) {
                    Some(address) => address.domain,
                    None => return Response::error("400 Bad Request"),
                },
                None => documents::default_domain(&config),
            };
            Response::ok(
                "application/xml; charset=utf-8",
                documents::thunderbird(&config, &domain),
            )
        }
        ("POST" | "GET", "/autodiscover/autodiscover.xml") => {
            let address = documents::autodiscover_request_address(&request.body)
                .or_else(|| asked.and_then(Address::parse));
            match address {
                Some(address) => Response::ok(
                    "application/xml; charset=utf-8",
                    documents::autodiscover(&config, &address),
                ),
                None => Response::error("400 Bad Request"),
            }
        }
        ("GET", "/apple/mail.mobileconfig") => match asked.and_then(Address::parse) {
            Some(address) => Response::ok(
                "application/x-apple-aspen-config",
                documents::mobileconfig(&config, &address),
            ),
            None => Response::error("400 Bad Request"),
        },
        _ => Response::error("404 Not Found"),
    }
}
