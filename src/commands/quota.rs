//! QUOTA (RFC 9208): one quota root per account, with the STORAGE (in
//! units of 1024 octets) and MESSAGE resources: the user's own is named
//! "", another account's (for its shared mailboxes) after its place in
//! the namespaces, `Other Users/bob` or `Shared/support`. Limits are the
//! administrator's (`letterbox quota set`), so SETQUOTA is refused.

use super::access::{self, OTHER_USERS, SHARED, Visible};
use super::user;
use crate::proto::response::{Code, CommandResult, Done, Untagged};
use crate::session::Session;
use crate::store::{Access, AccountKind, Quota, UserId};

/// The user's own quota root.
const ROOT: &str = "";

/// The quota root of another account.
fn account_root(owner: &str, kind: AccountKind) -> String {
    match kind {
        AccountKind::Person => format!("{OTHER_USERS}/{owner}"),
        AccountKind::Team => format!("{SHARED}/{owner}"),
    }
}

/// `* QUOTA "" (STORAGE used limit MESSAGE used limit)`, for the limited
/// resources; `None` when nothing is limited.
fn quota_response(root: &str, quota: &Quota) -> Option<Untagged> {
    let mut resources = Vec::new();
    if let Some(limit) = quota.limits.bytes {
        resources.push(("STORAGE", quota.used_bytes.div_ceil(1024), limit / 1024));
    }
    if let Some(limit) = quota.limits.messages {
        resources.push(("MESSAGE", quota.used_messages, limit));
    }
    (!resources.is_empty()).then(|| Untagged::Quota {
        root: root.to_owned(),
        resources,
    })
}

pub async fn get_quota_root(s: &mut Session, raw_name: &[u8]) -> CommandResult {
    // The mailbox must exist (and be visible); its root is its account's.
    let target = access::target(s, raw_name).await?;
    let (owner, name) = (target.owner, target.name.clone());
    let quota = s
        .store(Access::Read, move |store| {
            store.status(owner, &name)?;
            store.quota(owner)
        })
        .await?;
    let root = match access::place(&target.shown) {
        access::Place::Team { .. } => account_root(&target.owner_name, AccountKind::Team),
        access::Place::OtherUser { .. } => account_root(&target.owner_name, AccountKind::Person),
        _ => ROOT.to_owned(),
    };
    // Without any limit there is no quota to speak of: no QUOTAROOT line
    // either, as in Dovecot. A `* QUOTAROOT INBOX` without roots made
    // Roundcube draw an empty 0% bar.
    let Some(response) = quota_response(&root, &quota) else {
        return Ok(Done::ok("No quota"));
    };
    s.send(Untagged::QuotaRoot {
        mailbox: target.shown,
        roots: vec![root],
    });
    s.send(response);
    Ok(Done::ok("GETQUOTAROOT completed"))
}

/// The user's own root, or the root of an account one of whose
/// mailboxes the user may see.
pub async fn get_quota(s: &mut Session, root: &[u8]) -> CommandResult {
    let user = user(s)?;
    let root = String::from_utf8_lossy(root).into_owned();
    let me = user.name.clone();
    let wanted = root.clone();
    let quota = s
        .store(Access::Read, move |store| {
            if wanted.is_empty() {
                return store.quota(user.id).map(Some);
            }
            let shared = store.shared_with(&me)?;
            let kinds: Vec<(UserId, AccountKind, String)> = shared
                .iter()
                .map(|m| (m.owner, m.owner_kind, m.owner_name.clone()))
                .collect();
            let visible: Vec<Visible> = access::visible(shared, &me);
            let owner = kinds
                .iter()
                .find(|(id, kind, name)| {
                    account_root(name, *kind) == wanted && visible.iter().any(|v| v.owner == *id)
                })
                .map(|(id, _, _)| *id);
            owner.map(|id| store.quota(id)).transpose()
        })
        .await?;
    match quota.and_then(|quota| quota_response(&root, &quota)) {
        Some(response) => {
            s.send(response);
            Ok(Done::ok("GETQUOTA completed"))
        }
        None => Err(Done::no("No such quota root").with_code(Code::NonExistent)),
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
        quota_response(ROOT, &quota)
            .unwrap()
            .encode(&mut out, false);
        assert_eq!(out, b"* QUOTA \"\" (STORAGE 2 10240 MESSAGE 3 100)\r\n");
        assert_eq!(quota_response(ROOT, &Quota::default()), None);
    }
}
