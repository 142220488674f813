//! ManageSieve responses (RFC 5804 §4): `OK`/`NO`/`BYE` with an optional
//! response code and text, and strings as quoted strings or literals.

use crate::line_conn::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    /// NO with a response code (`NONEXISTENT`, `QUOTA/MAXSIZE`...).
    NoCode(&'static str),
    Bye,
}

/// Queues a status line; `code` goes in parentheses before the text.
pub fn status(conn: &mut Connection, status: Status, code: Option<&str>, text: &str) {
    let (word, code) = match status {
        Status::Ok => ("OK", code),
        Status::No => ("NO", code),
        Status::NoCode(code) => ("NO", Some(code)),
        Status::Bye => ("BYE", code),
    };
    let out = conn.out();
    out.extend_from_slice(word.as_bytes());
    if let Some(code) = code {
        out.extend_from_slice(format!(" ({code})").as_bytes());
    }
    if !text.is_empty() {
        out.push(b' ');
        string(out, text.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// A string: quoted when it can be, else a literal (`{n}` CRLF octets).
pub fn string(out: &mut Vec<u8>, value: &[u8]) {
    let quotable = value.len() <= 1024 && !value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0));
    if quotable {
        out.push(b'"');
        for &b in value {
            if matches!(b, b'"' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", value.len()).as_bytes());
        out.extend_from_slice(value);
    }
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\" \\c");
        assert_eq!(out, b"\"a \\\"b\\\" \\\\c\"");
        out.clear();
        string(&mut out, b"keep;\r\n");
        assert_eq!(out, b"{7}\r\nkeep;\r\n");
    }
}
