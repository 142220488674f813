//! Vacation replies (RFC 5230, RFC 6131 `:seconds`): whether a message
//! gets one, and the reply itself. No reply to bounces, to mail from
//! daemons and lists (`List-*`, `Precedence: bulk/list/junk`), to
//! automatic mail (`Auto-Submitted` other than `no`), to the user's own
//! addresses, nor to mail that does not name one of the user's addresses
//! in To/Cc/Bcc (a Bcc-ed list copy); one per sender per period, which
//! the store remembers.

use chrono::Utc;

use crate::sieve::{Message, VacationReply};

/// The default period: 7 days (RFC 5230 §4.1 suggests it).
pub const DEFAULT_PERIOD: u64 = 7 * 86_400;

/// The reply to send: who gets it, and its octets.
#[derive(Debug)]
pub struct Reply {
    pub recipient: String,
    pub message: Vec<u8>,
}

/// The reply, or why the message gets none (for the log).
pub fn reply(
    vacation: &VacationReply,
    message: &Message,
    sender: &str,
    own_addresses: &[String],
    hostname: &str,
) -> Result<Reply, &'static str> {
    let sender = sender.trim_start_matches('<').trim_end_matches('>');
    if sender.is_empty() {
        return Err("the message is a bounce (empty envelope sender)");
    }
    let local = sender
        .rsplit_once('@')
        .map_or(sender, |(local, _)| local)
        .to_ascii_lowercase();
    let daemons = [
        "mailer-daemon",
        "postmaster",
        "listserv",
        "majordomo",
        "noreply",
        "no-reply",
    ];
    if daemons.contains(&local.as_str())
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Err("the sender is a daemon or a list");
    }
    let automatic = message.header("auto-submitted");
    if automatic
        .iter()
        .any(|v| !v.trim().eq_ignore_ascii_case("no"))
    {
        return Err("the message was sent automatically (Auto-Submitted)");
    }
    let bulk = ["bulk", "list", "junk"];
    let precedence = message.header("precedence");
    if precedence
        .iter()
        .any(|p| bulk.contains(&p.trim().to_ascii_lowercase().as_str()))
    {
        return Err("the message is bulk or list mail (Precedence)");
    }
    let list_fields = [
        "list-id",
        "list-unsubscribe",
        "list-post",
        "list-help",
        "list-owner",
        "list-subscribe",
    ];
    if list_fields.iter().any(|f| message.has_header(f)) {
        return Err("the message came from a mailing list (List-*)");
    }
    let own = |address: &str| {
        own_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(address))
    };
    if own(sender) {
        return Err("the sender is the user");
    }
    let named = ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"]
        .iter()
        .flat_map(|f| message.addresses(f))
        .flatten()
        .any(|a| own(&a));
    if !named {
        return Err("none of the user's addresses is in To, Cc or Bcc");
    }
    let from = match &vacation.from {
        Some(from) => from.clone(),
        None => own_addresses.first().cloned().unwrap_or_default(),
    };
    let original_subject = message
        .header("subject")
        .into_iter()
        .next()
        .unwrap_or_default();
    let subject = match &vacation.subject {
        Some(subject) => subject.clone(),
        None => format!("Auto: {original_subject}"),
    };
    // Every value goes into a header line: a CR or LF in it (from the
    // script, or decoded from the original's encoded words) would start
    // header lines of someone else's choosing.
    let (from, sender, subject) = (one_line(&from), one_line(sender), one_line(&subject));
    let mut head = vec![
        format!("From: {from}"),
        format!("To: <{sender}>"),
        format!("Subject: {}", encode_word(&subject)),
        format!("Date: {}", Utc::now().to_rfc2822()),
        format!("Message-ID: <{}.vacation@{hostname}>", unique()),
        "Auto-Submitted: auto-replied (vacation)".to_owned(),
        "Precedence: bulk".to_owned(),
    ];
    if let Some(id) = message
        .raw_header("message-id")
        .into_iter()
        .next()
        .map(|id| one_line(&id))
    {
        let references = message
            .raw_header("references")
            .into_iter()
            .next()
            .map(|r| one_line(&r));
        let references = references.map_or(id.clone(), |r| format!("{r} {id}"));
        head.push(format!("In-Reply-To: {id}"));
        head.push(format!("References: {references}"));
    }
    head.push("MIME-Version: 1.0".to_owned());
    let mut out = head.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n");
    // With :mime the reason is a MIME entity: its own header, a blank
    // line, its body.
    if !vacation.mime {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
        out.extend_from_slice(b"Content-Transfer-Encoding: 8bit\r\n\r\n");
    }
    out.extend_from_slice(crate::mail::to_crlf(vacation.reason.as_bytes()).as_ref());
    Ok(Reply {
        recipient: sender.to_owned(),
        message: out,
    })
}

/// `text` for one header line: control characters (CR, LF and the rest)
/// become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The period in seconds (`:days`/`:seconds`, else 7 days).
pub fn period(vacation: &VacationReply) -> u64 {
    vacation.period.unwrap_or(DEFAULT_PERIOD)
}

/// A subject as an RFC 2047 encoded word when it is not ASCII.
fn encode_word(text: &str) -> String {
    use base64::Engine;
    match text.is_ascii() {
        true => text.to_owned(),
        false => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            format!("=?utf-8?b?{encoded}?=")
        }
    }
}

fn unique() -> String {
    use rand::Rng;
    let random: u64 = rand::thread_rng().r#gen();
    format!("{:x}.{random:016x}", Utc::now().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vacation() -> VacationReply {
        VacationReply {
            period: None,
            subject: None,
            from: None,
            addresses: Vec::new(),
            mime: false,
            handle: "h".into(),
            reason: "I am away.\n".into(),
        }
    }

    fn try_reply(headers: &str, sender: &str) -> Result<Reply, &'static str> {
        let raw = format!("{headers}\r\n\r\nbody\r\n");
        let message = Message::new(raw.as_bytes());
        let own = ["alice@example.com".to_owned()];
        reply(&vacation(), &message, sender, &own, "mx.example.com")
    }

    #[test]
    fn who_gets_no_reply() {
        let to = "To: Alice <alice@example.com>\r\nSubject: hi";
        assert!(try_reply(to, "bob@example.net").is_ok());
        assert!(try_reply(to, "").is_err());
        assert!(try_reply(to, "MAILER-DAEMON@example.net").is_err());
        assert!(try_reply(to, "owner-list@example.net").is_err());
        assert!(try_reply(to, "alice@example.com").is_err());
        assert!(
            try_reply(
                &format!("{to}\r\nAuto-Submitted: auto-generated"),
                "b@x.net"
            )
            .is_err()
        );
        assert!(try_reply(&format!("{to}\r\nAuto-Submitted: no"), "b@x.net").is_ok());
        assert!(try_reply(&format!("{to}\r\nPrecedence: bulk"), "b@x.net").is_err());
        assert!(try_reply(&format!("{to}\r\nList-Id: <x.example>"), "b@x.net").is_err());
        assert!(try_reply("To: someone@else.org\r\nSubject: hi", "b@x.net").is_err());
        assert!(try_reply("To: x@y.org\r\nCc: ALICE@example.com", "b@x.net").is_ok());
    }

    #[test]
    fn nothing_starts_a_header_line_of_its_own() {
        let headers = "To: alice@example.com\r\nSubject: =?us-ascii?q?hi=0D=0ABcc:=20victim@x.org?=\r\n\
                       Message-ID: <m1@x>\rBcc: other@x.org";
        let reply = try_reply(headers, "bob@example.net").unwrap();
        let text = String::from_utf8(reply.message).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc")), "{head}");
        assert!(
            head.contains("Subject: Auto: hi  Bcc: victim@x.org\r\n"),
            "{head}"
        );
    }

    #[test]
    fn the_reply_answers_the_message() {
        let headers = "To: alice@example.com\r\nSubject: caf\u{e9}\r\nMessage-ID: <m1@x>\r\nReferences: <m0@x>";
        let reply = try_reply(headers, "<bob@example.net>").unwrap();
        assert_eq!(reply.recipient, "bob@example.net");
        let text = String::from_utf8(reply.message).unwrap();
        let start = "From: alice@example.com\r\nTo: <bob@example.net>\r\nSubject: =?utf-8?b?";
        assert!(text.starts_with(start), "{text}");
        assert!(text.contains("\r\nAuto-Submitted: auto-replied (vacation)\r\n"));
        assert!(text.contains("\r\nIn-Reply-To: <m1@x>\r\nReferences: <m0@x> <m1@x>\r\n"));
        assert!(text.ends_with("\r\n\r\nI am away.\r\n"), "{text}");
    }
}
