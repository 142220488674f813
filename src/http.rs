//! The little HTTP/1.1 the side listeners need (metrics, autoconfig): one
//! request per connection, a bounded head and body, then `Connection:
//! close`. Not a web server: no chunked bodies, no keep-alive.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Request line and headers, at most.
const MAX_HEAD: u64 = 8 * 1024;
/// A request body (autodiscover's XML), at most.
pub const MAX_BODY: usize = 64 * 1024;
/// The whole request must arrive within this.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// `name=value` pairs of the query, percent-decoded.
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The query parameter `name` (case-insensitive name), if given.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Response {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: "200 OK",
            content_type,
            body: body.into(),
        }
    }

    pub fn error(status: &'static str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{status}\n").into_bytes(),
        }
    }
}

/// The next connection, or `None` once `stop` is set. A failed accept
/// (out of descriptors) is retried after a pause rather than spun on.
pub async fn accept(listener: &TcpListener, stop: &mut watch::Receiver<bool>) -> Option<TcpStream> {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => return None,
        };
        match accepted {
            Ok((stream, _)) => return Some(stream),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Reads one request; `None` when it is malformed, too large or too slow
/// (the caller answers 400 or just closes).
pub async fn read_request(stream: impl AsyncRead + Unpin) -> Option<Request> {
    tokio::time::timeout(READ_TIMEOUT, read(stream))
        .await
        .ok()?
}

async fn read(stream: impl AsyncRead + Unpin) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    let mut limited = (&mut reader).take(MAX_HEAD);
    loop {
        let before = head.len();
        if limited.read_until(b'\n', &mut head).await.ok()? == 0 {
            return None;
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let head = String::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (request_line.next()?, request_line.next()?);
    let content_length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>())
        .transpose()
        .ok()?
        .unwrap_or(0);
    if content_length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).await.ok()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Some(Request {
        method: method.to_owned(),
        path: percent_decode(path),
        query: query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(name), percent_decode(value))
            })
            .collect(),
        body,
    })
}

/// `%XX` and `+` (a space, in a query) decoded; invalid escapes kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(octet)) => {
                out.push(octet);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `response` and ends the exchange.
pub async fn write_response(mut stream: impl AsyncWrite + Unpin, response: &Response) {
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&response.body).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Option<Request> {
        read_request(raw).await
    }

    #[tokio::test]
    async fn requests_are_read_with_query_and_body() {
        let request = parse(b"GET /mail/config-v1.1.xml?emailaddress=ann%40example.org&x=a+b HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/mail/config-v1.1.xml");
        assert_eq!(request.param("EmailAddress"), Some("ann@example.org"));
        assert_eq!(request.param("x"), Some("a b"));
        let request = parse(
            b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello",
        )
        .await
        .unwrap();
        assert_eq!(request.body, b"hello");
    }

    #[tokio::test]
    async fn bad_or_oversized_requests_are_refused() {
        assert!(parse(b"").await.is_none());
        assert!(
            parse(b"GET / HTTP/1.1\r\n").await.is_none(),
            "no end of head"
        );
        let big = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(parse(big.as_bytes()).await.is_none());
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(9000));
        assert!(parse(long.as_bytes()).await.is_none());
        assert!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n")
                .await
                .is_none()
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
