//! Handing a message to the SMTP relay (`[sieve] smtp_relay`) for Sieve's
//! `redirect` and vacation replies: plain SMTP to a relay the sysadmin
//! trusts (usually the local Postfix), with a timeout on every step.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Each connect, read and write.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `message` (CRLF lines) from `sender` (empty for `<>`) to
/// `recipient` through `relay` (`host:port`). `Err` says which step
/// failed and what the relay answered.
pub fn send(
    relay: &str,
    helo: &str,
    sender: &str,
    recipient: &str,
    message: &[u8],
) -> Result<(), String> {
    // An address reaches the relay inside a command line: nothing in it
    // may end the line or the path.
    let unsafe_char = |c: char| c.is_control() || c.is_whitespace() || "<>".contains(c);
    if sender.contains(unsafe_char) || recipient.contains(unsafe_char) || recipient.is_empty() {
        return Err(format!(
            "not an address for SMTP: {sender:?} -> {recipient:?}"
        ));
    }
    let addr = std::net::ToSocketAddrs::to_socket_addrs(relay)
        .map_err(|e| format!("{relay}: {e}"))?
        .next()
        .ok_or_else(|| format!("{relay}: no address"))?;
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{relay}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut writer = stream;
    expect(&mut reader, "greeting", 220)?;
    let steps = [
        (format!("EHLO {helo}"), 250),
        (format!("MAIL FROM:<{sender}>"), 250),
        (format!("RCPT TO:<{recipient}>"), 250),
        ("DATA".to_owned(), 354),
    ];
    for (command, code) in steps {
        write!(writer, "{command}\r\n").map_err(|e| e.to_string())?;
        expect(&mut reader, &command, code)?;
    }
    writer
        .write_all(&dot_stuffed(message))
        .map_err(|e| e.to_string())?;
    writer.write_all(b".\r\n").map_err(|e| e.to_string())?;
    expect(&mut reader, "end of data", 250)?;
    let _ = writer.write_all(b"QUIT\r\n");
    Ok(())
}

/// Reads one (possibly multi-line) reply and checks its code's first digit.
fn expect(reader: &mut impl BufRead, step: &str, code: u16) -> Result<(), String> {
    let last = loop {
        let mut line = String::new();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| format!("{step}: {e}"))?;
        if read == 0 {
            return Err(format!("{step}: the relay closed the connection"));
        }
        // `250-...` lines go on; `250 ...` ends the reply.
        if line.as_bytes().get(3) != Some(&b'-') {
            break line.trim_end().to_owned();
        }
    };
    match last.get(..1) == Some(&code.to_string()[..1]) {
        true => Ok(()),
        false => Err(format!("{step}: {last}")),
    }
}

/// The message as DATA carries it: lines starting with `.` get another,
/// and it ends with CRLF.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuffed;

    #[test]
    fn dots_are_doubled() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n");
    }
}
