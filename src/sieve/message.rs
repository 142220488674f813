//! The message as Sieve tests see it (RFC 5228 §2.7): header fields by
//! name (unfolded, RFC 2047 words decoded), the addresses in them, the
//! envelope, the size, and the body's text.

use std::cell::OnceCell;

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::mail::address;
use crate::mail::search_text::decode_value;

/// The SMTP/LMTP envelope of a delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM, empty for a bounce.
    pub from: String,
    /// The RCPT TO this delivery is for.
    pub to: String,
    /// The authenticated submitter, if any.
    pub auth: Option<String>,
}

pub struct Message<'a> {
    pub raw: &'a [u8],
    /// (lower-cased name, raw value) of each top-level field, in order.
    fields: Vec<(String, &'a [u8])>,
    /// Each field's decoded value, made when a test first reads it: a
    /// script with many rules reads the same fields again and again.
    decoded: Vec<OnceCell<String>>,
    /// Where the body starts.
    body_start: usize,
}

impl<'a> Message<'a> {
    pub fn new(raw: &'a [u8]) -> Message<'a> {
        let mut fields: Vec<(String, &[u8])> = Vec::new();
        let mut at = 0;
        let body_start;
        loop {
            let end = raw[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |n| at + n + 1);
            let line = &raw[at..end];
            if line.is_empty() || line == b"\r\n" || line == b"\n" {
                body_start = end;
                break;
            }
            if matches!(line[0], b' ' | b'\t') {
                // A continuation of the field before (folded).
                if let Some((_, value)) = fields.last_mut() {
                    let start = value.as_ptr() as usize - raw.as_ptr() as usize;
                    *value = &raw[start..end];
                }
            } else if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = String::from_utf8_lossy(&line[..colon])
                    .trim()
                    .to_ascii_lowercase();
                fields.push((name, &raw[at + colon + 1..end]));
            }
            at = end;
        }
        Message {
            raw,
            decoded: fields.iter().map(|_| OnceCell::new()).collect(),
            fields,
            body_start,
        }
    }

    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }

    /// The decoded values of the fields named `name` (case-insensitive),
    /// in message order, leading and trailing white space removed.
    pub fn header(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        self.fields
            .iter()
            .zip(&self.decoded)
            .filter(|((n, _), _)| *n == name)
            .map(|((_, value), decoded)| {
                decoded
                    .get_or_init(|| decode_value(value).trim().to_owned())
                    .clone()
            })
            .collect()
    }

    /// The raw values of the fields named `name`, unfolded.
    pub fn raw_header(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        self.fields
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, value)| {
                let text = String::from_utf8_lossy(value);
                text.replace("\r\n", "").replace('\n', "").trim().to_owned()
            })
            .collect()
    }

    pub fn has_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.fields.iter().any(|(n, _)| *n == name)
    }

    /// The addresses (`local@domain`) of the fields named `name`, one list
    /// per field, in message order; group names are left out.
    pub fn addresses(&self, name: &str) -> Vec<Vec<String>> {
        let name = name.to_ascii_lowercase();
        self.fields
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, value)| {
                address::parse_list(value)
                    .into_iter()
                    .filter_map(|item| match item {
                        address::Item::Mailbox { mailbox, host, .. } => {
                            let local = String::from_utf8_lossy(&mailbox).into_owned();
                            let host = String::from_utf8_lossy(&host).into_owned();
                            Some(match host.is_empty() {
                                true => local,
                                false => format!("{local}@{host}"),
                            })
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// The body as sent, transfer encodings and all (`body :raw`).
    pub fn raw_body(&self) -> String {
        String::from_utf8_lossy(&self.raw[self.body_start.min(self.raw.len())..]).into_owned()
    }

    /// The decoded text of the parts whose content type matches one of
    /// `types` (`text`, `text/plain`; `None`: the text parts), as
    /// `body :content`/`:text` read them. Multipart containers are
    /// looked into, not matched themselves.
    pub fn body_parts(&self, types: Option<&[String]>) -> Vec<String> {
        let Some(parsed) = MessageParser::default().parse(self.raw) else {
            return vec![self.raw_body()];
        };
        let wanted = |content_type: &str| match types {
            None => content_type.starts_with("text/"),
            Some(types) => types.iter().any(|t| {
                let t = t.to_ascii_lowercase();
                t.is_empty()
                    || content_type == t
                    || content_type.split('/').next() == Some(t.as_str())
            }),
        };
        parsed
            .parts
            .iter()
            .filter_map(|part| {
                let content_type = part
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "text/plain".to_owned())
                    .to_ascii_lowercase();
                if content_type.starts_with("multipart/") || !wanted(&content_type) {
                    return None;
                }
                match &part.body {
                    PartType::Text(text) | PartType::Html(text) => Some(text.to_string()),
                    PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                        Some(String::from_utf8_lossy(bytes).into_owned())
                    }
                    PartType::Message(nested) => {
                        Some(String::from_utf8_lossy(nested.raw_message()).into_owned())
                    }
                    PartType::Multipart(_) => None,
                }
            })
            .collect()
    }
}

/// Splits `local@domain` (the domain empty when there is none).
pub fn split_address(address: &str) -> (&str, &str) {
    address.rsplit_once('@').unwrap_or((address, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"From: Ann <ann@example.org>\r\nTo: bob@example.com, \"C\" <c@x.org>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n and more\r\nX-Empty:\r\n\r\nHello\r\n";

    #[test]
    fn fields_addresses_and_body() {
        let message = Message::new(RAW);
        assert_eq!(message.header("SUBJECT"), ["café and more"]);
        assert_eq!(message.header("x-empty"), [""]);
        assert!(message.has_header("x-empty") && !message.has_header("cc"));
        assert_eq!(
            message.addresses("to"),
            [vec!["bob@example.com".to_owned(), "c@x.org".to_owned()]]
        );
        assert_eq!(message.raw_body(), "Hello\r\n");
        assert_eq!(message.body_parts(None), ["Hello\r\n"]);
        assert_eq!(split_address("a+b@c"), ("a+b", "c"));
    }
}
