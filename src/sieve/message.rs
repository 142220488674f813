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
    /// The MIME structure, parsed when a body test first needs it.
    parsed: OnceCell<Option<mail_parser::Message<'a>>>,
    /// Where the body starts.
    body_start: usize,
    /// Whether the empty line that starts a body is there at all.
    has_body: bool,
}

impl<'a> Message<'a> {
    pub fn new(raw: &'a [u8]) -> Message<'a> {
        let mut fields: Vec<(String, &[u8])> = Vec::new();
        let mut at = 0;
        let (body_start, has_body);
        loop {
            let end = raw[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |n| at + n + 1);
            let line = &raw[at..end];
            if line.is_empty() || line == b"\r\n" || line == b"\n" {
                body_start = end;
                has_body = !line.is_empty();
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
            parsed: OnceCell::new(),
            fields,
            body_start,
            has_body,
        }
    }

    pub fn size(&self) -> u64 {
        self.raw.len() as u64
    }

    /// The indexes of the fields with any of these names
    /// (case-insensitive), in message order.
    fn fields_named(&self, names: &[String]) -> Vec<usize> {
        let names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        (0..self.fields.len())
            .filter(|&i| names.contains(&self.fields[i].0))
            .collect()
    }

    /// The decoded values of the fields with any of `names`, in message
    /// order (what `header` and RFC 5260's `:index` count), leading and
    /// trailing white space removed.
    pub fn headers(&self, names: &[String]) -> Vec<String> {
        self.fields_named(names)
            .into_iter()
            .map(|i| self.decoded(i))
            .collect()
    }

    pub fn header(&self, name: &str) -> Vec<String> {
        self.headers(&[name.to_owned()])
    }

    fn decoded(&self, i: usize) -> String {
        let value = self.fields[i].1;
        self.decoded[i]
            .get_or_init(|| decode_value(value).trim().to_owned())
            .clone()
    }

    /// The raw values of the fields with any of `names`, unfolded.
    pub fn raw_headers(&self, names: &[String]) -> Vec<String> {
        self.fields_named(names)
            .into_iter()
            .map(|i| {
                let text = String::from_utf8_lossy(self.fields[i].1);
                text.replace("\r\n", "").replace('\n', "").trim().to_owned()
            })
            .collect()
    }

    pub fn raw_header(&self, name: &str) -> Vec<String> {
        self.raw_headers(&[name.to_owned()])
    }

    pub fn has_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.fields.iter().any(|(n, _)| *n == name)
    }

    /// The addresses (`local@domain`) of the fields with any of `names`,
    /// one list per field, in message order; group names are left out.
    pub fn address_lists(&self, names: &[String]) -> Vec<Vec<String>> {
        self.fields_named(names)
            .into_iter()
            .map(|i| {
                address::parse_list(self.fields[i].1)
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

    pub fn addresses(&self, name: &str) -> Vec<Vec<String>> {
        self.address_lists(&[name.to_owned()])
    }

    /// The body as sent, transfer encodings and all (`body :raw`); none
    /// for a message without the empty line that starts one (RFC 5173 §4:
    /// every body test is then false).
    pub fn raw_body(&self) -> Option<String> {
        let body = self.raw.get(self.body_start..)?;
        self.has_body
            .then(|| String::from_utf8_lossy(body).into_owned())
    }

    /// What `body :content`/`:text` read (RFC 5173 §5): the decoded text
    /// of each part whose content type matches one of `types` (`text`,
    /// `text/plain`; `None`: the text parts). A multipart's own text is its
    /// prologue and epilogue; a `message/rfc822` part is its header, and
    /// its own parts are looked into.
    pub fn body_parts(&self, types: Option<&[String]>) -> Vec<String> {
        if !self.has_body {
            return Vec::new();
        }
        let raw = self.raw;
        let parsed = self
            .parsed
            .get_or_init(|| MessageParser::default().parse(raw));
        let Some(parsed) = parsed else {
            return self.raw_body().into_iter().collect();
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
        let mut out = Vec::new();
        collect_parts(parsed, &wanted, &mut out, 0);
        out
    }
}

/// Nested messages looked into at most.
const MAX_DEPTH: usize = 8;

fn collect_parts(
    message: &mail_parser::Message,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Vec<String>,
    depth: usize,
) {
    let raw = message.raw_message();
    for part in &message.parts {
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "text/plain".to_owned())
            .to_ascii_lowercase();
        let matched = wanted(&content_type);
        match &part.body {
            PartType::Multipart(_) if matched => {
                let body = raw
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default();
                let boundary = part.content_type().and_then(|ct| ct.attribute("boundary"));
                out.push(outside_parts(body, boundary));
            }
            PartType::Message(nested) => {
                let nested_raw = nested.raw_message();
                if matched {
                    let end = nested_raw
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map_or(nested_raw.len(), |at| at + 2);
                    out.push(String::from_utf8_lossy(&nested_raw[..end]).into_owned());
                }
                // A nested message's offsets point into the outer one:
                // parsed again on its own octets to look into its parts.
                if depth < MAX_DEPTH
                    && let Some(inner) = MessageParser::default().parse(nested_raw)
                {
                    collect_parts(&inner, wanted, out, depth + 1);
                }
            }
            PartType::Text(text) | PartType::Html(text) if matched => out.push(text.to_string()),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) if matched => {
                out.push(String::from_utf8_lossy(bytes).into_owned());
            }
            _ => {}
        }
    }
}

/// A multipart body's prologue and epilogue: what lies before its first
/// boundary and after its last.
fn outside_parts(body: &[u8], boundary: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let Some(boundary) = boundary else {
        return String::new();
    };
    let delimiter = format!("--{boundary}");
    let prologue = text.find(&delimiter).map_or(&text[..], |at| &text[..at]);
    let closing = format!("--{boundary}--");
    let epilogue = text
        .rfind(&closing)
        .map_or("", |at| &text[at + closing.len()..]);
    format!("{prologue}{epilogue}")
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
        assert_eq!(message.raw_body().as_deref(), Some("Hello\r\n"));
        assert_eq!(
            Message::new(b"Subject: x\r\n").raw_body(),
            None,
            "no empty line, no body"
        );
        assert_eq!(message.body_parts(None), ["Hello\r\n"]);
        assert_eq!(split_address("a+b@c"), ("a+b", "c"));
    }
}
