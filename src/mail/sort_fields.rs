//! Extracts what SORT and THREAD read of a message ([`SortFields`]) from
//! its header, once, when it is stored.

use crate::mail::address::{self, Item};
use crate::mail::date;
use crate::mail::header::{self, Field};
use crate::mail::search_text::decode_value as decoded;
use crate::mail::subject;
use crate::store::SortFields;

/// The sort and thread fields of the message `raw` (header fields are
/// taken from their first occurrence, as Dovecot does).
pub fn extract(raw: &[u8]) -> SortFields {
    let fields = header::fields(raw);
    let value = |name: &str| header::first(&fields, name).map(|f: Field| f.value);
    let subject_text = value("subject").map(decoded).unwrap_or_default();
    let from = value("from").and_then(first_address);
    let to = value("to").and_then(first_address);
    let cc = value("cc").and_then(first_address);
    let references = value("references").map(msg_ids).unwrap_or_default();
    let references = if references.is_empty() {
        // RFC 5256 §2.2 (1.A): without References, In-Reply-To's first.
        value("in-reply-to")
            .map(msg_ids)
            .and_then(|ids| ids.into_iter().next())
            .into_iter()
            .collect()
    } else {
        references
    };
    SortFields {
        // Folded once here: SORT and THREAD compare it under
        // i;ascii-casemap, and nothing shows it.
        base_subject: subject::base_subject(&subject_text).to_ascii_uppercase(),
        subject_is_reply: subject::is_reply_or_forward(&subject_text),
        sent_at: value("date").and_then(date::parse),
        from: from.as_ref().map(Address::mailbox).unwrap_or_default(),
        to: to.as_ref().map(Address::mailbox).unwrap_or_default(),
        cc: cc.as_ref().map(Address::mailbox).unwrap_or_default(),
        display_from: from.as_ref().map(Address::display).unwrap_or_default(),
        display_to: to.as_ref().map(Address::display).unwrap_or_default(),
        message_id: value("message-id").and_then(|v| msg_ids(v).into_iter().next()),
        references,
    }
}

struct Address {
    name: Option<String>,
    mailbox: String,
    host: Option<String>,
}

impl Address {
    /// RFC 5256 addr-mailbox: the local part.
    fn mailbox(&self) -> String {
        self.mailbox.clone()
    }

    /// RFC 5957: the decoded display name, else the addr-spec.
    fn display(&self) -> String {
        match (&self.name, &self.host) {
            (Some(name), _) => name.clone(),
            (None, Some(host)) => format!("{}@{host}", self.mailbox),
            (None, None) => self.mailbox.clone(),
        }
    }
}

/// The first address of an address list as ENVELOPE lists it (RFC 5256
/// sorts by the addr-mailbox of that structure): for a group, its start
/// marker, whose mailbox is the group's name, as in Dovecot.
fn first_address(value: &[u8]) -> Option<Address> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match address::parse_list(value).into_iter().next()? {
        Item::GroupStart(group) => Some(Address {
            name: None,
            mailbox: text(&group),
            host: None,
        }),
        Item::GroupEnd => None,
        Item::Mailbox {
            name,
            mailbox,
            host,
            ..
        } => Some(Address {
            name: name.map(|n| decoded(&n)).filter(|n| !n.trim().is_empty()),
            mailbox: if mailbox == address::MISSING_MAILBOX {
                String::new()
            } else {
                text(&mailbox)
            },
            // MISSING_DOMAIN stays: the ENVELOPE shows it as the host, and
            // Dovecot sorts by it too.
            host: Some(text(&host)),
        }),
    }
}

/// The msg-ids (`<left@right>`, brackets kept) of a Message-ID,
/// References or In-Reply-To value, in order. Comments and phrases between
/// them are skipped; an id with whitespace inside or without `@` is not
/// one (RFC 5256 treats an invalid Message-ID as missing).
fn msg_ids(value: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(value);
    let mut ids = Vec::new();
    let mut rest = text.as_ref();
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(['>', '<']) else {
            break;
        };
        let inner = &rest[..close];
        if rest[close..].starts_with('>')
            && inner.contains('@')
            && !inner.contains(char::is_whitespace)
        {
            ids.push(format!("<{inner}>"));
        }
        rest = &rest[close..];
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_reply() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <Juergen@Example.org>\r\n\
            To: undisclosed:;, bob@example.com\r\n\
            Cc: <carol (x) @example.net>\r\n\
            Subject: Re: [team] Fwd: Plan\r\n\
            Date: Tue, 3 Feb 2026 23:30:00 -0800\r\n\
            Message-ID: <m2@example.org>\r\n\
            In-Reply-To: <ignored@example.org>\r\n\
            References: <m0@example.org> (comment)\r\n <m1@example.org> <bad id@x>\r\n\
            \r\nbody\r\n";
        let fields = extract(raw);
        assert_eq!(fields.from, "Juergen");
        assert_eq!(fields.display_from, "Jürgen");
        // A group first: its name, as the ENVELOPE's group marker has it.
        assert_eq!(fields.to, "undisclosed");
        assert_eq!(fields.display_to, "undisclosed");
        assert_eq!(fields.cc, "carol");
        assert_eq!(fields.sent_at, Some(1_770_190_200));
        assert_eq!(fields.message_id.as_deref(), Some("<m2@example.org>"));
        assert_eq!(fields.references, ["<m0@example.org>", "<m1@example.org>"]);
        assert!(fields.subject_is_reply);
    }

    #[test]
    fn missing_and_broken_fields() {
        let fields = extract(b"Date: not a date\r\nIn-Reply-To: <parent@x>, <other@x>\r\n\r\n");
        assert_eq!(fields.base_subject, "");
        assert!(!fields.subject_is_reply);
        assert_eq!(fields.sent_at, None);
        assert_eq!(
            (fields.from.as_str(), fields.display_from.as_str()),
            ("", "")
        );
        assert_eq!(fields.message_id, None);
        assert_eq!(fields.references, ["<parent@x>"], "In-Reply-To's first");
        let fields = extract(b"From: nobody\r\nMessage-ID: no brackets@x\r\n\r\n");
        assert_eq!(
            fields.display_from, "nobody@MISSING_DOMAIN",
            "as ENVELOPE shows it"
        );
        assert_eq!(fields.message_id, None);
    }
}
