//! `GET /metrics` on an optional, normally loopback-only address: the
//! text that `context::metrics` renders.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `GET /metrics` (anything else is 404) until `stop`.
pub async fn serve(
    listener: TcpListener,
    render: impl Fn() -> String + Send + 'static,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let body = render();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut request = String::new();
            let mut reader = BufReader::new(read).take(8192);
            let read = reader.read_line(&mut request);
            if tokio::time::timeout(Duration::from_secs(5), read)
                .await
                .is_err()
            {
                return;
            }
            let response = if request.starts_with("GET /metrics ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = write.write_all(response.as_bytes()).await;
        });
    }
}
