//! The decoded text SEARCH matches against, extracted once at APPEND time:
//! header values with RFC 2047 encoded words decoded, and the text of every
//! text/* part with its transfer encoding undone and its charset converted
//! to UTF-8 (HTML reduced to text). Nested messages are included; parts
//! that are not text (attachments such as PDFs or images) are not, as
//! their octets are not text a user could search for.

use chrono::NaiveDate;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, Message, MessageParser, PartType};

use crate::mail::address;
use crate::store::search::SearchText;

/// Nested message/rfc822 levels followed.
const MAX_DEPTH: usize = 8;

pub fn extract(raw: &[u8]) -> SearchText {
    let Some(message) = MessageParser::default().parse(raw) else {
        return SearchText {
            body: String::from_utf8_lossy(raw).into_owned(),
            ..SearchText::default()
        };
    };
    let mut text = SearchText {
        headers: header_lines(&message),
        sent_date: message
            .date()
            .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
        body: String::new(),
    };
    collect_body(&message, &mut text.body, 0);
    text
}

/// Fields holding addresses, which SEARCH FROM/TO/CC/BCC match also in
/// their normalised form.
const ADDRESS_FIELDS: [&str; 6] = ["from", "sender", "reply-to", "to", "cc", "bcc"];

fn header_lines(message: &Message) -> String {
    let raw = message.raw_message();
    let mut out = String::new();
    for header in message.headers() {
        let (start, end) = (header.offset_start as usize, header.offset_end as usize);
        let value = raw.get(start..end.max(start)).unwrap_or_default();
        let name = header.name.as_str().to_lowercase();
        push_line(&mut out, &name, &decode_value(value));
        if ADDRESS_FIELDS.contains(&name.as_str()) {
            let addresses = normalised_addresses(value);
            if !addresses.is_empty() {
                push_line(&mut out, &name, &addresses);
            }
        }
    }
    out
}

fn push_line(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

/// The addresses of an address field as people write them, `Display Name
/// <local@domain>`, with comments and folding whitespace gone and display
/// names decoded, so that `<user (comment)@ (comment) example.org>` is
/// found as `user@example.org`.
fn normalised_addresses(raw: &[u8]) -> String {
    let mut addresses = Vec::new();
    for item in address::parse_list(raw) {
        let address::Item::Mailbox {
            name,
            mailbox,
            host,
            ..
        } = item
        else {
            continue;
        };
        let mailbox = String::from_utf8_lossy(&mailbox);
        let spec = if host == address::MISSING_DOMAIN {
            mailbox.into_owned()
        } else {
            format!("{mailbox}@{}", String::from_utf8_lossy(&host))
        };
        addresses.push(match name {
            Some(name) => format!("{} <{spec}>", decode_value(&name)),
            None => spec,
        });
    }
    addresses.join(", ")
}

/// Unfolds a raw header value and decodes its encoded words.
pub(crate) fn decode_value(raw: &[u8]) -> String {
    // The parser reads up to the end of the field's line.
    let mut owned;
    let raw = if raw.ends_with(b"\n") {
        raw
    } else {
        owned = raw.to_vec();
        owned.extend_from_slice(b"\r\n");
        &owned
    };
    match MessageStream::new(raw).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        _ => String::from_utf8_lossy(raw)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn collect_body(message: &Message, out: &mut String, depth: usize) {
    for part in &message.parts {
        match &part.body {
            PartType::Text(text) => push_text(out, text),
            PartType::Html(html) => push_text(out, &html_text(html)),
            // A nested message's header offsets point into the outer
            // message, so it is parsed again on its own octets.
            PartType::Message(nested) if depth < MAX_DEPTH => {
                if let Some(inner) = MessageParser::default().parse(nested.raw_message()) {
                    push_text(out, &header_lines(&inner));
                    collect_body(&inner, out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// HTML reduced to its text: tags dropped (block tags become line breaks),
/// script/style content dropped, the common entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let close = after.find('>').map_or(after.len(), |i| i + 1);
        let tag = after[..close].to_ascii_lowercase();
        rest = &after[close..];
        for skipped in ["script", "style"] {
            if tag.starts_with(&format!("<{skipped}")) {
                let end = format!("</{skipped}");
                let stop = rest.to_ascii_lowercase().find(&end).unwrap_or(rest.len());
                rest = &rest[stop..];
            }
        }
        let block = [
            "<br", "<p", "</p", "<div", "</div", "<li", "<tr", "</tr", "<h",
        ];
        if block.iter().any(|b| tag.starts_with(b)) {
            out.push('\n');
        }
    }
    out.push_str(rest);
    for (entity, text) in [
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ] {
        out = out.replace(entity, text);
    }
    out
}

fn push_text(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_decoded_and_unfolded() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.com>\r\nSubject: a\r\n long =?ISO-8859-1?Q?caf=E9?=\r\nDate: Tue, 3 Feb 2026 23:30:00 -0800\r\n\r\nbody\r\n";
        let text = extract(raw);
        assert!(
            text.headers.contains("from: Jürgen <j@example.com>\n"),
            "{}",
            text.headers
        );
        assert!(
            text.headers.contains("subject: a long café\n"),
            "{}",
            text.headers
        );
        assert_eq!(text.sent_date, NaiveDate::from_ymd_opt(2026, 2, 3));
        assert_eq!(text.body.trim(), "body");
    }

    /// SEARCH FROM/TO/CC/BCC find an address as written and as it is
    /// meant: comments and folding whitespace removed, names decoded.
    #[test]
    fn address_fields_are_also_searchable_normalised() {
        let raw = b"From: <user-from (comment)@ (comment) domain.org>\r\nTo: \"Smith, John\" <j@x.org>,\r\n =?UTF-8?Q?J=C3=BCrgen?= <jg (home) @y.org>\r\nCc: undisclosed-recipients:;\r\nSubject: <a (b)@c>\r\n\r\nbody\r\n";
        let headers = extract(raw).headers;
        let lines: Vec<&str> = headers.lines().collect();
        assert_eq!(
            lines,
            [
                "from: <user-from (comment)@ (comment) domain.org>",
                "from: user-from@domain.org",
                "to: \"Smith, John\" <j@x.org>, Jürgen <jg (home) @y.org>",
                "to: Smith, John <j@x.org>, Jürgen <jg@y.org>",
                "cc: undisclosed-recipients:;",
                "subject: <a (b)@c>",
            ]
        );
    }

    #[test]
    fn body_text_is_decoded_from_every_text_part() {
        let raw = concat!(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n",
            "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 cr=E8me\r\n",
            "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+Ym9sZDwvYj4gdGV4dA==\r\n",
            "--b\r\nContent-Type: application/octet-stream\r\n\r\nsecret-binary\r\n",
            "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner subject\r\n\r\ninner body\r\n",
            "--b--\r\n"
        );
        let text = extract(raw.as_bytes());
        for needle in ["café crème", "bold text", "inner subject", "inner body"] {
            assert!(text.body.contains(needle), "{needle}: {}", text.body);
        }
        assert!(
            text.body.contains("subject: inner subject"),
            "{}",
            text.body
        );
        assert!(!text.body.contains("secret-binary"));
        assert_eq!(text.sent_date, None);
    }

    #[test]
    fn html_becomes_text() {
        let text = html_text(
            "<p>Fish &amp; <b>chips</b></p><script>var x;</script><style>p{}</style>tail",
        );
        assert_eq!(text, "\nFish & chips\ntail");
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"no header separator",
            b"A: \r\n\r\n",
        ] {
            let _ = extract(raw);
        }
    }
}
