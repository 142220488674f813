//! Quota warnings: when an APPEND or a delivery takes a user's storage or
//! message count across a configured share of the limit (`[quota]
//! warn_at_percent`, 80 and 95 by default), a short message in their INBOX
//! says so, and the log records it. Once per crossing: the store keeps the
//! lowest usage since the last look, so a crossing is counted again only
//! after a cleanup went back below the threshold.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;

use crate::config::QuotaConfig;
use crate::mail::new_message;
use crate::store::{Flags, MailStore, MailboxName, StoreResult, UserId};

/// One threshold crossed upward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub resource: Resource,
    /// The threshold, in percent of the limit.
    pub percent: u8,
    pub used: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Storage,
    Messages,
}

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Storage => "storage",
            Resource::Messages => "message count",
        }
    }

    /// `used` or `limit` as the warning shows it.
    fn amount(self, n: u64) -> String {
        match self {
            Resource::Storage => {
                let units = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
                match units.iter().find(|(size, _)| n >= *size) {
                    Some((size, unit)) => format!("{:.1} {unit}", n as f64 / *size as f64),
                    None => format!("{n} bytes"),
                }
            }
            Resource::Messages => format!("{n} messages"),
        }
    }
}

/// After an APPEND or a delivery: `check`, logging what goes wrong (the
/// new message is stored whatever happens here).
pub fn after_new_mail(store: &dyn MailStore, config: &QuotaConfig, user: UserId, user_name: &str) {
    if let Err(error) = check(store, config, user, user_name) {
        tracing::warn!(user = user_name, %error, "could not check for a quota warning");
    }
}

/// Looks at the user's quota after a message came in and puts a warning in
/// their INBOX for each resource whose usage crossed a threshold upward
/// (the highest one crossed). Returns the crossings warned about.
pub fn check(
    store: &dyn MailStore,
    config: &QuotaConfig,
    user: UserId,
    user_name: &str,
) -> StoreResult<Vec<Crossing>> {
    if config.warn_at_percent.is_empty() {
        return Ok(Vec::new());
    }
    // Most users have no limit: a read, not the write of a look.
    let limits = store.quota(user)?.limits;
    if limits.bytes.is_none() && limits.messages.is_none() {
        return Ok(Vec::new());
    }
    let look = store.look_at_quota(user)?;
    let resources = [
        (
            Resource::Storage,
            look.lowest_bytes,
            look.now.used_bytes,
            look.now.limits.bytes,
        ),
        (
            Resource::Messages,
            look.lowest_messages,
            look.now.used_messages,
            look.now.limits.messages,
        ),
    ];
    let mut crossings = Vec::new();
    for (resource, lowest, used, limit) in resources {
        let Some(limit) = limit.filter(|&l| l > 0) else {
            continue;
        };
        let Some(percent) = crossed(&config.warn_at_percent, lowest, used, limit) else {
            continue;
        };
        let crossing = Crossing {
            resource,
            percent,
            used,
            limit,
        };
        let raw = warning(config, user_name, &crossing);
        let message = new_message(&raw, Flags::default(), Utc::now().fixed_offset());
        let inbox = MailboxName::new("INBOX").expect("INBOX is valid");
        // Imported: a warning must reach a user even when it is the one
        // message past the limit. The digest only has to be unique.
        let digest = format!("quota-warning {}", rand::random::<u64>());
        store.import(user, &inbox, message, &digest)?;
        tracing::info!(
            user = user_name,
            resource = resource.name(),
            percent,
            used,
            limit,
            "quota warning delivered"
        );
        crossings.push(crossing);
    }
    Ok(crossings)
}

/// The highest threshold `t` with `lowest < t% of limit <= used`, compared
/// exactly (no rounding of percentages).
fn crossed(thresholds: &[u8], lowest: u64, used: u64, limit: u64) -> Option<u8> {
    let at = |t: u8| u128::from(t) * u128::from(limit);
    thresholds
        .iter()
        .copied()
        .filter(|&t| u128::from(lowest) * 100 < at(t) && at(t) <= u128::from(used) * 100)
        .max()
}

/// The warning message, from the configured template.
fn warning(config: &QuotaConfig, user_name: &str, crossing: &Crossing) -> Vec<u8> {
    let fill = |template: &str| {
        template
            .replace("{user}", user_name)
            .replace("{resource}", crossing.resource.name())
            .replace("{percent}", &crossing.percent.to_string())
            .replace("{used}", &crossing.resource.amount(crossing.used))
            .replace("{limit}", &crossing.resource.amount(crossing.limit))
    };
    let now = Utc::now();
    let mut body = fill(&config.warning_body).replace("\r\n", "\n");
    if !body.ends_with('\n') {
        body.push('\n');
    }
    format!(
        "From: {}\r\nTo: {user_name}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <quota-warning.{}.{:016x}@letterbox>\r\n\
         Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        header_text(&fill(&config.warning_from)),
        header_text(&fill(&config.warning_subject)),
        now.to_rfc2822(),
        now.timestamp(),
        rand::random::<u64>(),
        body.replace('\n', "\r\n"),
    )
    .into_bytes()
}

/// Header text: as it is when printable ASCII, else one RFC 2047 word.
/// Line breaks never reach a header.
fn header_text(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        text
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_is_exact_and_takes_the_highest() {
        let t = [80, 95];
        assert_eq!(crossed(&t, 0, 79, 100), None);
        assert_eq!(crossed(&t, 79, 80, 100), Some(80));
        assert_eq!(crossed(&t, 80, 81, 100), None, "already past 80");
        assert_eq!(crossed(&t, 10, 99, 100), Some(95));
        assert_eq!(crossed(&t, 94, 200, 100), Some(95));
        // 80% of 3 is 2.4: 2 is below, 3 above.
        assert_eq!(crossed(&t, 2, 2, 3), None);
        assert_eq!(crossed(&t, 2, 3, 3), Some(95));
        assert_eq!(crossed(&[], 0, 100, 100), None);
        assert_eq!(crossed(&t, 0, u64::MAX, u64::MAX), Some(95));
    }

    #[test]
    fn the_warning_fills_the_template() {
        let config = QuotaConfig::default();
        let crossing = Crossing {
            resource: Resource::Storage,
            percent: 80,
            used: 85 * 1024 * 1024,
            limit: 100 * 1024 * 1024,
        };
        let raw = String::from_utf8(warning(&config, "ann", &crossing)).unwrap();
        assert!(raw.contains("\r\nTo: ann\r\n"), "{raw}");
        assert!(raw.contains("Subject: Your mailbox is 80% full"), "{raw}");
        assert!(raw.contains("85.0 MiB of 100.0 MiB"), "{raw}");
        let amount = |n| Resource::Storage.amount(n);
        assert_eq!(
            [amount(10), amount(2048), amount(3 << 30)],
            ["10 bytes", "2.0 KiB", "3.0 GiB"]
        );
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(!raw.replace("\r\n", "").contains('\n'), "CRLF only");
        assert_eq!(
            header_text("Grüße\r\nBcc: x"),
            "=?UTF-8?B?R3LDvMOfZSAgQmNjOiB4?="
        );
    }
}
