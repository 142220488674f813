//! QUOTA (RFC 9208): one quota root per user, named "", with the STORAGE
//! (in units of 1024 octets) and MESSAGE resources. Limits are the
//! administrator's (`letterbox quota set`), so SETQUOTA is refused.

use super::{mailbox_name, user};
use crate::proto::encode;
use crate::session::Session;
use crate::session::reply::{Code, CommandResult, Done};
use crate::store::{Access, Quota};

/// `* QUOTA "" (STORAGE used limit MESSAGE used limit)`, for the limited
/// resources; `None` when nothing is limited.
fn quota_line(quota: &Quota) -> Option<String> {
    let mut resources = Vec::new();
    if let Some(limit) = quota.limits.bytes {
        resources.push(format!(
            "STORAGE {} {}",
            quota.used_bytes.div_ceil(1024),
            limit / 1024
        ));
    }
    if let Some(limit) = quota.limits.messages {
        resources.push(format!("MESSAGE {} {limit}", quota.used_messages));
    }
    (!resources.is_empty()).then(|| format!("QUOTA \"\" ({})", resources.join(" ")))
}

pub async fn get_quota_root(s: &mut Session, raw_name: &[u8]) -> CommandResult {
    let name = mailbox_name(s, raw_name)?;
    let user = user(s)?;
    let lookup = name.clone();
    // The mailbox must exist; its root is the user's.
    let quota = s
        .store(Access::Read, move |store| {
            store.status(user.id, &lookup)?;
            store.quota(user.id)
        })
        .await?;
    let line = quota_line(&quota);
    let mut out = b"* QUOTAROOT ".to_vec();
    encode::mailbox(&mut out, name.as_str(), s.extensions.utf8);
    if line.is_some() {
        out.extend_from_slice(b" \"\"");
    }
    out.extend_from_slice(b"\r\n");
    s.out.extend_from_slice(&out);
    if let Some(line) = line {
        s.untagged(format_args!("{line}"));
    }
    Ok(Done::ok("GETQUOTAROOT completed"))
}

pub async fn get_quota(s: &mut Session, root: &[u8]) -> CommandResult {
    let user = user(s)?;
    let quota = s
        .store(Access::Read, move |store| store.quota(user.id))
        .await?;
    match (root.is_empty(), quota_line(&quota)) {
        (true, Some(line)) => {
            s.untagged(format_args!("{line}"));
            Ok(Done::ok("GETQUOTA completed"))
        }
        _ => Err(Done::no("No such quota root").with_code(Code::NonExistent)),
    }
}

pub fn set_quota(_s: &mut Session) -> CommandResult {
    Err(
        Done::no("Quotas are set by the administrator (letterbox quota set)")
            .with_code(Code::NoPerm),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::QuotaLimits;

    #[test]
    fn quota_lines() {
        let quota = Quota {
            used_bytes: 1025,
            used_messages: 3,
            limits: QuotaLimits {
                bytes: Some(10 * 1024 * 1024),
                messages: Some(100),
            },
        };
        assert_eq!(
            quota_line(&quota).unwrap(),
            "QUOTA \"\" (STORAGE 2 10240 MESSAGE 3 100)"
        );
        assert_eq!(quota_line(&Quota::default()), None);
    }
}
