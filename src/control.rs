//! The control socket: a Unix socket (mode 0600, in the data directory by
//! default) through which `letterbox auth status|unblock` reach the login
//! guard of the running server, whose penalties live only in its memory.
//!
//! One request line per connection, the answer, then close:
//! `STATUS [address-or-network|-] [user|-]` and `UNBLOCK address`. The
//! answer is text for people; a first line `ERR ...` is a failure.

use std::io::{BufReader, Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::auth::guard::Status;
use crate::context::ServerContext;

/// A request longer than this is refused (the real ones are short).
const MAX_REQUEST: u64 = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Current penalties, optionally of one address or network and one user.
    Status {
        network: Option<IpNet>,
        user: Option<String>,
    },
    /// Lifts the lockout and failure count of the address's key.
    Unblock(IpAddr),
}

impl Request {
    /// The request line, without its line end.
    pub fn to_line(&self) -> String {
        match self {
            Request::Status { network, user } => format!(
                "STATUS {} {}",
                network.map_or("-".to_owned(), |n| n.to_string()),
                user.as_deref().unwrap_or("-")
            ),
            Request::Unblock(address) => format!("UNBLOCK {address}"),
        }
    }

    pub fn parse(line: &str) -> Result<Request, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let given = |word: Option<&&str>| word.filter(|w| **w != "-").map(|w| w.to_string());
        match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("STATUS") if words.len() <= 3 => Ok(Request::Status {
                network: given(words.get(1)).map(|w| parse_network(&w)).transpose()?,
                user: given(words.get(2)),
            }),
            Some("UNBLOCK") if words.len() == 2 => words[1]
                .parse()
                .map(Request::Unblock)
                .map_err(|_| format!("not an IP address: {}", words[1])),
            _ => Err(format!("unknown request: {line}")),
        }
    }
}

/// `203.0.113.7` (one address) or `203.0.113.0/24`.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("not an IP address or network: {text}"))
}

/// Answers one request against the running server's guard.
pub fn answer(ctx: &ServerContext, request: &Request) -> String {
    match request {
        Request::Status { network, user } => {
            format_status(&ctx.guard.status(*network, user.as_deref()))
        }
        Request::Unblock(address) => {
            if ctx.guard.unblock(*address) {
                ctx.guard.take_events().iter().for_each(|e| e.log());
                format!("unblocked {address}\n")
            } else {
                format!("{address} had no penalty\n")
            }
        }
    }
}

fn format_status(status: &Status) -> String {
    if status.addresses.is_empty() && status.users.is_empty() {
        return "no penalties\n".to_owned();
    }
    let mut out = String::new();
    if !status.addresses.is_empty() {
        out.push_str(&format!(
            "{:<42} {:>8} {:>12}  users tried\n",
            "address", "failures", "locked for"
        ));
        for a in &status.addresses {
            let locked = a
                .locked_for
                .map_or("-".to_owned(), |d| format!("{}s", d.as_secs()));
            out.push_str(&format!(
                "{:<42} {:>8} {:>12}  {}\n",
                a.key.to_string(),
                a.failures,
                locked,
                a.users.join(", ")
            ));
        }
    }
    if !status.users.is_empty() {
        out.push_str(&format!(
            "{:<42} {:>8} {:>12}\n",
            "user", "failures", "known addrs"
        ));
        for u in &status.users {
            out.push_str(&format!(
                "{:<42} {:>8} {:>12}\n",
                u.user, u.failures, u.known_addresses
            ));
        }
    }
    out
}

/// Binds the control socket, replacing one left by an earlier run, readable
/// and writable by the server's own user only.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves requests until `stop`.
pub async fn serve(
    listener: UnixListener,
    ctx: Arc<ServerContext>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => return,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let mut reader = tokio::io::BufReader::new(read).take(MAX_REQUEST);
            let read = reader.read_line(&mut line);
            if !matches!(
                tokio::time::timeout(Duration::from_secs(5), read).await,
                Ok(Ok(_))
            ) {
                return;
            }
            let reply = match Request::parse(line.trim_end()) {
                Ok(request) => {
                    tracing::info!(request = %request.to_line(), "control request");
                    answer(&ctx, &request)
                }
                Err(error) => format!("ERR {error}\n"),
            };
            let _ = write.write_all(reply.as_bytes()).await;
        });
    }
}

/// The client side (`letterbox auth ...`): sends `request` to the server
/// listening on `path` and returns its answer.
pub fn ask(path: &Path, request: &Request) -> Result<String, String> {
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        format!(
            "cannot reach a running server at {} ({e}); is `letterbox serve` running?",
            path.display()
        )
    })?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    stream
        .write_all(format!("{}\n", request.to_line()).as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    BufReader::new(stream.take(1 << 20))
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    match answer.strip_prefix("ERR ") {
        Some(error) => Err(error.trim_end().to_owned()),
        None => Ok(answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_bad_ones_are_refused() {
        let requests = [
            Request::Status {
                network: None,
                user: None,
            },
            Request::Status {
                network: Some("203.0.113.0/24".parse().unwrap()),
                user: Some("alice".into()),
            },
            Request::Status {
                network: Some("2001:db8::1/128".parse().unwrap()),
                user: None,
            },
            Request::Unblock("192.0.2.7".parse().unwrap()),
        ];
        for request in requests {
            assert_eq!(Request::parse(&request.to_line()), Ok(request));
        }
        assert_eq!(
            Request::parse("status 192.0.2.7"),
            Ok(Request::Status {
                network: Some("192.0.2.7/32".parse().unwrap()),
                user: None
            })
        );
        for bad in [
            "",
            "UNBLOCK",
            "UNBLOCK nothere",
            "STATUS x",
            "DROP TABLE",
            "STATUS - - -",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
    }
}
