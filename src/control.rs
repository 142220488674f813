//! The control socket: a Unix socket (mode 0600, in the data directory by
//! default) through which `letterbox auth status|unblock` reach the login
//! guard of the running server, whose penalties live only in its memory.
//!
//! One request line per connection, the answer, then close:
//! `STATUS [address-or-network|-] [user|-]` and
//! `UNBLOCK address-or-network|- [user|-]`. The answer is text for people;
//! a first line `ERR ...` is a failure.

use std::io::{BufReader, Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::auth::guard::{Status, Unblocked};
use crate::context::ServerContext;

/// A request longer than this is refused (the real ones are short).
const MAX_REQUEST: u64 = 1024;
/// Rows listed per table; the rest are counted (the guard tracks up to
/// 10,000 addresses and 50,000 names).
const MAX_ROWS: usize = 500;
/// A client that does not read its answer in this time is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Current penalties, optionally of one address or network and one user.
    Status {
        network: Option<IpNet>,
        user: Option<String>,
    },
    /// Lifts the lockouts and failure counts of the address keys in a
    /// network (of the key of a single address), and the failure count of
    /// a user; at least one of the two.
    Unblock {
        network: Option<IpNet>,
        user: Option<String>,
    },
}

impl Request {
    /// The request line, without its line end.
    pub fn to_line(&self) -> String {
        let (verb, network, user) = match self {
            Request::Status { network, user } => ("STATUS", network, user),
            Request::Unblock { network, user } => ("UNBLOCK", network, user),
        };
        format!(
            "{verb} {} {}",
            network.map_or("-".to_owned(), |n| n.to_string()),
            user.as_deref().unwrap_or("-")
        )
    }

    pub fn parse(line: &str) -> Result<Request, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let given = |word: Option<&&str>| word.filter(|w| **w != "-").map(|w| w.to_string());
        let network = || given(words.get(1)).map(|w| parse_network(&w)).transpose();
        let user = given(words.get(2));
        match words.first().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("STATUS") if words.len() <= 3 => Ok(Request::Status {
                network: network()?,
                user,
            }),
            Some("UNBLOCK") if words.len() <= 3 => match (network()?, user) {
                (None, None) => Err("unblock what? give an address or a user".to_owned()),
                (network, user) => Ok(Request::Unblock { network, user }),
            },
            _ => Err(format!("unknown request: {line}")),
        }
    }
}

/// `203.0.113.7` (one address) or `203.0.113.0/24`; IPv4-mapped IPv6
/// (`::ffff:203.0.113.7`) is taken as the IPv4 it maps, as the guard
/// counts it.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let net = text
        .parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("not an IP address or network: {text}"))?;
    let mapped = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6.addr().to_ipv4_mapped(),
        _ => None,
    };
    Ok(match mapped {
        Some(v4) => IpNet::new(IpAddr::V4(v4), net.prefix_len() - 96)
            .expect("a prefix of at most 32")
            .trunc(),
        None => net,
    })
}

/// Answers one request against the running server's guard.
pub fn answer(ctx: &ServerContext, request: &Request) -> String {
    match request {
        Request::Status { network, user } => {
            format_status(&ctx.guard.status(*network, user.as_deref()))
        }
        Request::Unblock { network, user } => {
            let unblocked = ctx.guard.unblock(*network, user.as_deref());
            ctx.guard.take_events().iter().for_each(|e| e.log());
            format_unblocked(&unblocked, *network, user.as_deref())
        }
    }
}

fn format_unblocked(unblocked: &Unblocked, network: Option<IpNet>, user: Option<&str>) -> String {
    let mut out = String::new();
    for a in &unblocked.addresses {
        let what = if a.locked_for.is_some() {
            "unblocked"
        } else {
            "cleared"
        };
        out.push_str(&format!("{what} {} ({} failures)\n", a.key, a.failures));
    }
    if let Some(network) = network.filter(|_| unblocked.addresses.is_empty()) {
        out.push_str(&format!("no penalty on {}\n", shown(network)));
    }
    match (&unblocked.user, user) {
        (Some((name, failures)), _) => {
            out.push_str(&format!("cleared {name} ({failures} failures)\n"))
        }
        (None, Some(name)) => out.push_str(&format!("no failures against {name}\n")),
        (None, None) => {}
    }
    out
}

/// A network as typed: a single address without its `/32` or `/128`.
fn shown(network: IpNet) -> String {
    if network.prefix_len() == network.max_prefix_len() {
        network.addr().to_string()
    } else {
        network.to_string()
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
        for a in status.addresses.iter().take(MAX_ROWS) {
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
        more(&mut out, status.addresses.len(), "addresses");
    }
    if !status.users.is_empty() {
        out.push_str(&format!(
            "{:<42} {:>8} {:>12}\n",
            "user", "failures", "known addrs"
        ));
        for u in status.users.iter().take(MAX_ROWS) {
            out.push_str(&format!(
                "{:<42} {:>8} {:>12}\n",
                u.user, u.failures, u.known_addresses
            ));
        }
        more(&mut out, status.users.len(), "users");
    }
    out
}

/// Counts the rows of a table beyond [`MAX_ROWS`].
fn more(out: &mut String, rows: usize, what: &str) {
    if rows > MAX_ROWS {
        out.push_str(&format!(
            "... and {} more {what} (narrow with --address or --user)\n",
            rows - MAX_ROWS
        ));
    }
}

/// Binds the control socket, readable and writable by the server's own
/// user only.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    crate::unix_socket::bind(path, 0o600)
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
            let _ = tokio::time::timeout(WRITE_TIMEOUT, write.write_all(reply.as_bytes())).await;
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
            Request::Unblock {
                network: Some("192.0.2.7/32".parse().unwrap()),
                user: None,
            },
            Request::Unblock {
                network: None,
                user: Some("alice".into()),
            },
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
        assert_eq!(
            parse_network("::ffff:192.0.2.7"),
            Ok("192.0.2.7/32".parse().unwrap())
        );
        assert_eq!(
            parse_network("::ffff:192.0.2.0/120"),
            Ok("192.0.2.0/24".parse().unwrap())
        );
        assert_eq!(
            parse_network("2001:db8::/64"),
            Ok("2001:db8::/64".parse().unwrap())
        );
        for bad in [
            "",
            "UNBLOCK",
            "UNBLOCK - -",
            "UNBLOCK nothere",
            "STATUS x",
            "DROP TABLE",
            "STATUS - - -",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
    }
}
