//! LMTP (RFC 2033) delivery, for Postfix and other MTAs: one reply per
//! recipient after DATA, each message committed before its 250.
//! Extensions: PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES, SIZE.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::timeout;

use crate::context::ServerContext;
use crate::delivery::{self, DeliveryError, Envelope, Target};
use crate::store::Access;

/// The longest command line accepted (RFC 5321 allows 512; be generous).
const MAX_LINE: usize = 4096;
/// How long a client may stay silent.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

struct Recipient {
    address: String,
    target: Target,
}

/// One transaction's state (reset by RSET, LHLO and after DATA).
#[derive(Default)]
struct Transaction {
    sender: Option<String>,
    recipients: Vec<Recipient>,
}

/// Serves one LMTP connection until QUIT, EOF, timeout or error.
/// Between transactions a shutdown (`stop`) ends the session with 421;
/// a message being received is finished first.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    ctx: Arc<ServerContext>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (read, mut write) = tokio::io::split(io);
    let mut reader = BufReader::new(read);
    let mut session = Lmtp {
        ctx,
        greeted: false,
        transaction: Transaction::default(),
    };
    let mut out = format!("220 {} LMTP letterbox ready\r\n", delivery::hostname()).into_bytes();
    loop {
        // Pipelining: answer in batches, flushing when no more input waits.
        if reader.buffer().is_empty() && !out.is_empty() {
            if write.write_all(&out).await.is_err() || write.flush().await.is_err() {
                return;
            }
            out.clear();
        }
        let line = tokio::select! {
            line = read_line(&mut reader) => line,
            // The guard `wait_for` returns must not live across the write.
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => {
                out.extend_from_slice(b"421 4.3.2 Server shutting down\r\n");
                let _ = write.write_all(&out).await;
                return;
            }
        };
        let line = match line {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(reply) => {
                let _ = write.write_all(&out).await;
                let _ = write.write_all(reply.as_bytes()).await;
                return;
            }
        };
        match session.command(&line, &mut out).await {
            Step::Continue => {}
            Step::Data => {
                // The client waits for 354 before sending the message.
                if write.write_all(&out).await.is_err() || write.flush().await.is_err() {
                    return;
                }
                out.clear();
                if session.data(&mut reader, &mut out).await.is_err() {
                    return;
                }
            }
            Step::Quit => {
                let _ = write.write_all(&out).await;
                let _ = write.flush().await;
                return;
            }
        }
    }
}

enum Step {
    Continue,
    /// 354 was queued: flush it, then read the message.
    Data,
    Quit,
}

struct Lmtp {
    ctx: Arc<ServerContext>,
    greeted: bool,
    transaction: Transaction,
}

impl Lmtp {
    async fn command(&mut self, line: &str, out: &mut Vec<u8>) -> Step {
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let reply = match verb.to_ascii_uppercase().as_str() {
            "LHLO" => self.lhlo(rest),
            "HELO" | "EHLO" => "500 5.5.1 This is LMTP: use LHLO\r\n".to_string(),
            "MAIL" => self.mail(rest),
            "RCPT" => self.rcpt(rest).await,
            "DATA" if self.transaction.recipients.is_empty() => {
                "503 5.5.1 No valid recipients\r\n".to_string()
            }
            "DATA" => {
                out.extend_from_slice(b"354 Start mail input; end with <CRLF>.<CRLF>\r\n");
                return Step::Data;
            }
            "RSET" => {
                self.transaction = Transaction::default();
                "250 2.0.0 OK\r\n".to_string()
            }
            "NOOP" => "250 2.0.0 OK\r\n".to_string(),
            "VRFY" => "252 2.5.0 Cannot verify, but will accept and try\r\n".to_string(),
            "QUIT" => {
                out.extend_from_slice(b"221 2.0.0 Bye\r\n");
                return Step::Quit;
            }
            _ => "500 5.5.2 Unknown command\r\n".to_string(),
        };
        out.extend_from_slice(reply.as_bytes());
        Step::Continue
    }

    fn lhlo(&mut self, domain: &str) -> String {
        if domain.trim().is_empty() {
            return "501 5.5.4 LHLO needs a domain\r\n".to_string();
        }
        self.greeted = true;
        self.transaction = Transaction::default();
        format!(
            "250-{}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE {}\r\n",
            delivery::hostname(),
            self.ctx.config().limits.max_message_size
        )
    }

    fn mail(&mut self, args: &str) -> String {
        if !self.greeted {
            return "503 5.5.1 Send LHLO first\r\n".to_string();
        }
        if self.transaction.sender.is_some() {
            return "503 5.5.1 Sender already given\r\n".to_string();
        }
        let Some((sender, params)) = path_argument(args, "FROM:") else {
            return "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".to_string();
        };
        let limit = self.ctx.config().limits.max_message_size;
        for param in params.split_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" if value.parse::<u64>().is_ok_and(|size| size > limit) => {
                    return format!("552 5.3.4 Message larger than {limit} octets\r\n");
                }
                "SIZE" | "BODY" => {}
                _ => return format!("555 5.5.4 Unsupported parameter {key}\r\n"),
            }
        }
        self.transaction.sender = Some(sender);
        "250 2.1.0 Sender OK\r\n".to_string()
    }

    async fn rcpt(&mut self, args: &str) -> String {
        if self.transaction.sender.is_none() {
            return "503 5.5.1 Send MAIL first\r\n".to_string();
        }
        let Some((address, _)) = path_argument(args, "TO:") else {
            return "501 5.5.4 Syntax: RCPT TO:<address>\r\n".to_string();
        };
        let Some(target) = delivery::resolve(&self.ctx.config(), &address) else {
            return format!("550 5.1.1 <{address}>: not a local domain or address\r\n");
        };
        let user = target.user.clone();
        let found = self
            .ctx
            .store
            .run(Access::Read, move |store| delivery::find_user(store, &user))
            .await;
        match found {
            Ok(_) => {
                self.transaction
                    .recipients
                    .push(Recipient { address, target });
                "250 2.1.5 Recipient OK\r\n".to_string()
            }
            Err(DeliveryError::UnknownUser) => {
                format!("550 5.1.1 <{address}>: no such user here\r\n")
            }
            Err(e) => format!("451 4.3.0 {e}\r\n"),
        }
    }

    /// After 354: reads the dot-stuffed message, then replies once per
    /// recipient (RFC 2033 §4.2), each after its copy is committed.
    async fn data<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut BufReader<R>,
        out: &mut Vec<u8>,
    ) -> Result<(), DataError> {
        let limit = self.ctx.config().limits.max_message_size;
        let message = read_data(reader, limit).await?;
        let transaction = std::mem::take(&mut self.transaction);
        let sender = transaction.sender.unwrap_or_default();
        for recipient in transaction.recipients {
            let reply = match &message {
                None => format!("552 5.3.4 Message larger than {limit} octets\r\n"),
                Some(message) => self.deliver_one(&sender, recipient, message.clone()).await,
            };
            out.extend_from_slice(reply.as_bytes());
        }
        Ok(())
    }

    async fn deliver_one(
        &self,
        sender: &str,
        recipient: Recipient,
        message: Arc<Vec<u8>>,
    ) -> String {
        let config = self.ctx.config();
        let sender = sender.to_owned();
        let address = recipient.address.clone();
        let stored_config = Arc::clone(&config);
        let mut result = self
            .ctx
            .store
            .run(Access::Write, move |store| {
                let envelope = Envelope {
                    sender: &sender,
                    recipient: &recipient.address,
                };
                let config = &stored_config;
                delivery::deliver(store, config, &recipient.target, None, &envelope, &message)
            })
            .await;
        // Redirects and the vacation reply go out after the store work,
        // holding no store slot while the relay answers.
        if let Ok(delivered) = &mut result
            && let Some(outgoing) = delivered.outgoing.take()
        {
            let outgoing = Arc::new(outgoing);
            let sending = Arc::clone(&outgoing);
            let sent = tokio::task::spawn_blocking(move || sending.send(&config)).await;
            // Should sending itself fail, a message not kept yet is kept.
            let must_keep = sent.unwrap_or(!outgoing.kept);
            if must_keep {
                let kept = self
                    .ctx
                    .store
                    .run(Access::Write, move |store| {
                        let mut kept = delivery::Delivered::default();
                        outgoing.keep(store, &mut kept).map(|_| kept.stored)
                    })
                    .await;
                match kept {
                    Ok(stored) => delivered.stored.extend(stored),
                    Err(error) => result = Err(error),
                }
            }
        }
        let counted = if result.is_ok() {
            "delivered"
        } else {
            "failed"
        };
        self.ctx.metrics.delivery(counted);
        match result {
            Ok(delivered) => {
                let stored: Vec<String> = delivered
                    .stored
                    .iter()
                    .map(|(mailbox, uid)| format!("{mailbox}:{uid}"))
                    .collect();
                tracing::info!(recipient = %address, stored = %stored.join(" "), "delivered");
                format!("250 2.0.0 <{address}> delivered\r\n")
            }
            Err(DeliveryError::Rejected(reason)) => {
                format!("550 5.7.1 {}\r\n", one_line(&reason))
            }
            Err(DeliveryError::UnknownUser) => {
                format!("550 5.1.1 <{address}>: no such user here\r\n")
            }
            Err(DeliveryError::TooBig(limit)) => {
                format!("552 5.3.4 Message larger than {limit} octets\r\n")
            }
            Err(DeliveryError::Empty) => "554 5.6.0 Empty message\r\n".to_string(),
            Err(DeliveryError::OverQuota) => {
                format!("552 5.2.2 <{address}>: mailbox full\r\n")
            }
            Err(DeliveryError::Temporary(detail)) => {
                tracing::error!(recipient = %address, %detail, "delivery failed");
                "451 4.3.0 Temporary failure, try again later\r\n".to_string()
            }
        }
    }
}

/// A script's text fit for one reply line: printable, at most 200
/// characters.
fn one_line(text: &str) -> String {
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    match line.is_empty() {
        true => "Rejected by the recipient's filter".to_owned(),
        false => line,
    }
}

/// `FROM:<path> params` / `TO:<path> params` -> (path, params).
fn path_argument(args: &str, keyword: &str) -> Option<(String, String)> {
    let args = args.trim_start();
    // Compare bytes: the argument may hold multi-byte characters.
    let head = args.as_bytes().get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword.as_bytes()) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((rest[..end].to_owned(), rest[end + 1..].trim().to_owned()))
}

/// Reads one CRLF (or LF) line; `Ok(None)` at EOF; an error reply for an
/// over-long line or a silent client.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    let read = timeout(IDLE_TIMEOUT, async {
        let mut limited = (&mut *reader).take(MAX_LINE as u64 + 2);
        limited.read_until(b'\n', &mut line).await
    })
    .await;
    match read {
        Err(_) => Err("421 4.4.2 Idle for too long, closing\r\n".to_string()),
        Ok(Err(_)) | Ok(Ok(0)) => Ok(None),
        Ok(Ok(_)) if !line.ends_with(b"\n") => {
            Err("500 5.5.2 Line too long, closing\r\n".to_string())
        }
        Ok(Ok(_)) => {
            let text = String::from_utf8_lossy(&line);
            Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
        }
    }
}

enum DataError {
    Closed,
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing. Returns
/// `None` (after reading to the end) when the message exceeds `limit`:
/// it is discarded as it arrives, never buffered whole.
async fn read_data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    limit: u64,
) -> Result<Option<Arc<Vec<u8>>>, DataError> {
    let mut message = Vec::new();
    let mut too_big = false;
    let mut line_start = true;
    loop {
        // Read in bounded pieces: a line without an end must not grow
        // without limit.
        let mut piece = Vec::new();
        let read = timeout(IDLE_TIMEOUT, async {
            let mut limited = (&mut *reader).take(64 * 1024);
            limited.read_until(b'\n', &mut piece).await
        })
        .await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Err(DataError::Closed),
            Ok(Ok(_)) => {}
        }
        if line_start && (piece == b".\r\n" || piece == b".\n") {
            break;
        }
        let data = if line_start {
            piece.strip_prefix(b".").unwrap_or(&piece)
        } else {
            &piece[..]
        };
        line_start = piece.ends_with(b"\n");
        if too_big || (message.len() + data.len()) as u64 > limit {
            too_big = true;
            message = Vec::new();
            continue;
        }
        message.extend_from_slice(data);
    }
    Ok((!too_big).then(|| Arc::new(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_arguments() {
        assert_eq!(
            path_argument("FROM:<a@b> SIZE=10 BODY=8BITMIME", "FROM:"),
            Some(("a@b".into(), "SIZE=10 BODY=8BITMIME".into()))
        );
        assert_eq!(
            path_argument("from: <>", "FROM:"),
            Some(("".into(), "".into()))
        );
        assert_eq!(path_argument("TO:a@b", "TO:"), None);
        assert_eq!(path_argument("FROM<a@b>", "FROM:"), None);
        assert_eq!(
            path_argument("FRé:<a@b>", "FROM:"),
            None,
            "no panic inside a character"
        );
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_capped() {
        let input = b"Subject: x\r\n\r\n..leading dot\r\n.\r\nNEXT".to_vec();
        let mut reader = BufReader::new(&input[..]);
        let message = read_data(&mut reader, 1000).await.ok().flatten().unwrap();
        assert_eq!(&message[..], b"Subject: x\r\n\r\n.leading dot\r\n");
        let mut rest = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut rest)
            .await
            .unwrap();
        assert_eq!(rest, "NEXT");
        let mut reader = BufReader::new(&input[..]);
        assert!(read_data(&mut reader, 5).await.ok().unwrap().is_none());
        // A 200 KiB line with no end is read in pieces and refused, not kept.
        let mut long = vec![b'x'; 200 * 1024];
        long.extend_from_slice(b"\r\n.\r\n");
        let mut reader = BufReader::new(&long[..]);
        assert!(read_data(&mut reader, 1024).await.ok().unwrap().is_none());
    }
}
