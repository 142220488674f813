//! QUOTA (RFC 9208): one quota root per user, named "", with the STORAGE
//! (in units of 1024 octets) and MESSAGE resources. Limits are the
//! administrator's (`letterbox quota set`), so SETQUOTA is refused.

use super::{mailbox_name, user};
use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::session::Session;
use crate::store::{Access, Quota};

/// The user's one quota root.
const ROOT: &str = "";

/// `* QUOTA "" (STORAGE used limit MESSAGE used limit)`, for the limited
/// resources; `None` when nothing is limited.
fn quota_response(quota: &Quota) -> Option<Untagged> {
    let mut resources = Vec::new();
    if let Some(limit) = quota.limits.bytes {
        resources.push(("STORAGE", quota.used_bytes.div_ceil(1024), limit / 1024));
    }
    if let Some(limit) = quota.limits.messages {
        resources.push(("MESSAGE", quota.used_messages, limit));
    }
    (!resources.is_empty()).then(|| Untagged::Quota {
        root: ROOT.to_owned(),
        resources,
    })
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
    // Without any limit there is no quota to speak of: no QUOTAROOT line
    // either, as in Dovecot. A `* QUOTAROOT INBOX` without roots made
    // Roundcube draw an empty 0% bar.
    let Some(response) = quota_response(&quota) else {
        return Ok(Done::ok("No quota"));
    };
    s.send(Untagged::QuotaRoot {
        mailbox: name.as_str().to_owned(),
        roots: vec![ROOT.to_owned()],
    });
    s.send(response);
    Ok(Done::ok("GETQUOTAROOT completed"))
}

pub async fn get_quota(s: &mut Session, root: &[u8]) -> CommandResult {
    let user = user(s)?;
    let quota = s
        .store(Access::Read, move |store| store.quota(user.id))
        .await?;
    match (root.is_empty(), quota_response(&quota)) {
        (true, Some(response)) => {
            s.send(response);
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
        let mut out = Vec::new();
        quota_response(&quota).unwrap().encode(&mut out, false);
        assert_eq!(out, b"* QUOTA \"\" (STORAGE 2 10240 MESSAGE 3 100)\r\n");
        assert_eq!(quota_response(&Quota::default()), None);
    }
}
