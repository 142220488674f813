//! Message octets: the canonical form messages are stored in, the parsed
//! facts FETCH needs (ENVELOPE, BODY, BODYSTRUCTURE, section offsets) and
//! the decoded text SEARCH needs, all computed once at APPEND time.

use std::borrow::Cow;

pub(crate) mod address;
mod binary;
mod bodystructure;
pub(crate) mod date;
mod envelope;
mod header;
mod index;
mod lexer;
mod mime;
mod parser;
pub mod search_text;
mod section;
mod serial;
pub mod sort_fields;
pub mod subject;
pub mod threads;

#[cfg(test)]
mod golden_tests;

pub use binary::UnknownCte;
pub use index::{MessageIndex, index_message};

use chrono::{DateTime, FixedOffset};

use crate::store::{Flags, NewMessage};

/// Everything the store keeps for a new message: CRLF octets, the FETCH
/// index and the SEARCH text. Parsing is slow: call this off the async
/// threads.
pub fn new_message(raw: &[u8], flags: Flags, internal_date: DateTime<FixedOffset>) -> NewMessage {
    new_message_exact(to_crlf(raw).into_owned(), flags, internal_date)
}

/// As [`new_message`], keeping the octets exactly as given: for a message
/// APPENDed as a literal8 (RFC 3516 §4.4), whose binary parts a line-end
/// conversion would corrupt.
pub fn new_message_exact(
    raw: Vec<u8>,
    flags: Flags,
    internal_date: DateTime<FixedOffset>,
) -> NewMessage {
    NewMessage {
        flags,
        internal_date,
        index: index_message(&raw).to_bytes(),
        search: search_text::extract(&raw),
        sort: sort_fields::extract(&raw),
        raw,
    }
}

/// Converts bare LF line endings to CRLF, so RFC822.SIZE and BODY[] agree
/// with what clients count. Existing CRLF pairs are left alone.
pub fn to_crlf(raw: &[u8]) -> Cow<'_, [u8]> {
    let bare_lf = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
    if !bare_lf {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(&*to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(&*to_crlf(b"\n"), b"\r\n");
        assert!(matches!(to_crlf(b"a\r\nb"), Cow::Borrowed(_)));
        assert_eq!(&*to_crlf(b"a\rb"), b"a\rb");
    }
}
