//! `GET /metrics` on an optional, normally loopback-only address: the
//! text that `context::metrics` renders.

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::{Response, accept, read_request, write_response};

/// Serves `GET /metrics` (anything else is 404) until `stop`.
pub async fn serve(
    listener: TcpListener,
    render: impl Fn() -> String + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(stream) = accept(&listener, &mut stop).await {
        let body = render();
        tokio::spawn(async move {
            let (read, write) = stream.into_split();
            let response = match read_request(read).await {
                Some(request) if request.method == "GET" && request.path == "/metrics" => {
                    Response::ok("text/plain; version=0.0.4", body)
                }
                Some(_) => Response::error("404 Not Found"),
                None => return,
            };
            write_response(write, &response).await;
        });
    }
}
