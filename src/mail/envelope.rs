//! The ENVELOPE structure (RFC 3501 §7.4.2) of a message header.
//!
//! Values are raw (RFC 2047 encoded-words stay encoded) and unfolded.
//! When a field occurs more than once the last one is used, as Dovecot
//! does. Sender and Reply-To fall back to From when absent or empty, as
//! RFC 3501 requires.

use crate::mail::address;
use crate::mail::header::{self, Field};
use crate::proto::encode;

/// Writes the parenthesised envelope of the header block `block`.
pub(crate) fn write(out: &mut Vec<u8>, block: &[u8]) {
    let fields = header::fields(block);
    let text = |name: &str| header::last(&fields, name).map(|f| header::unfold(f.value));
    let addrs = |name: &str| addresses(&fields, name);

    let from = addrs("From");
    let sender = addrs("Sender");
    let reply_to = addrs("Reply-To");

    out.push(b'(');
    encode::nstring(out, text("Date").as_deref());
    out.push(b' ');
    encode::nstring(out, text("Subject").as_deref());
    out.push(b' ');
    address::write_list(out, &from);
    out.push(b' ');
    address::write_list(out, if sender.is_empty() { &from } else { &sender });
    out.push(b' ');
    address::write_list(
        out,
        if reply_to.is_empty() {
            &from
        } else {
            &reply_to
        },
    );
    for name in ["To", "Cc", "Bcc"] {
        out.push(b' ');
        address::write_list(out, &addrs(name));
    }
    out.push(b' ');
    encode::nstring(out, text("In-Reply-To").as_deref());
    out.push(b' ');
    encode::nstring(out, text("Message-ID").as_deref());
    out.push(b')');
}

fn addresses(fields: &[Field<'_>], name: &str) -> Vec<address::Item> {
    header::last(fields, name)
        .map(|f| address::parse_list(f.value))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(block: &[u8]) -> String {
        let mut out = Vec::new();
        write(&mut out, block);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn absent_fields_are_nil() {
        assert_eq!(env(b""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
        assert_eq!(
            env(b"X: y\r\n\r\n"),
            "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn full_envelope() {
        let block = b"Date: Wed, 17 May 2000 19:35:05 -0400\r\nSubject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\n and more\r\nFrom: \"Doug\" <doug@example.com>\r\nReply-To:\r\nTo: group: a@b, c@d;, e@f\r\nCc: x@y (X)\r\nIn-Reply-To: <a@b>\r\nMessage-ID: <id@host>\r\n\r\n";
        assert_eq!(
            env(block),
            concat!(
                r#"("Wed, 17 May 2000 19:35:05 -0400" "=?utf-8?Q?Gr=C3=BC=C3=9Fe?= and more" "#,
                r#"(("Doug" NIL "doug" "example.com")) (("Doug" NIL "doug" "example.com")) "#,
                r#"(("Doug" NIL "doug" "example.com")) "#,
                r#"((NIL NIL "group" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)(NIL NIL "e" "f")) "#,
                r#"(("X" NIL "x" "y")) NIL "<a@b>" "<id@host>")"#
            )
        );
    }

    #[test]
    fn last_duplicate_wins_and_eight_bit_is_literal() {
        let block = "Subject: first\r\nSubject: Gr\u{fc}\u{df}e \"q\"\r\n\r\n".as_bytes();
        let e = env(block);
        assert!(
            e.starts_with("(NIL {11}\r\nGr\u{fc}\u{df}e \"q\" NIL"),
            "{e}"
        );
        let block = b"Subject: a \"quoted\" \\ word\r\n\r\n";
        assert!(env(block).starts_with(r#"(NIL "a \"quoted\" \\ word" NIL"#));
    }
}
