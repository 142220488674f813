//! Which commands each state allows (RFC 3501 §6), in one table.

use super::reply::Done;
use super::state::State;
use crate::commands::search::uses_sequence_numbers;
use crate::proto::CommandBody;

enum Needs {
    Any,
    NotAuthenticated,
    Authenticated,
    Selected,
}

fn needs(body: &CommandBody) -> Needs {
    use CommandBody::*;
    match body {
        Capability | Noop | Logout | Id(_) => Needs::Any,
        StartTls | Authenticate { .. } | Login { .. } => Needs::NotAuthenticated,
        Enable(_)
        | Select { .. }
        | Examine { .. }
        | Create { .. }
        | Delete { .. }
        | Rename { .. }
        | Subscribe { .. }
        | Unsubscribe { .. }
        | List(_)
        | Lsub { .. }
        | Xlist { .. }
        | GetQuota { .. }
        | GetQuotaRoot { .. }
        | SetQuota { .. }
        | Namespace
        | Status { .. }
        | Append { .. }
        | Idle
        | Compress { .. } => Needs::Authenticated,
        Check
        | Close
        | Unselect
        | Expunge
        | UidExpunge(_)
        | Search { .. }
        | Fetch { .. }
        | Store { .. }
        | Copy { .. }
        | Move { .. } => Needs::Selected,
    }
}

/// `Ok` when `body` may run in `state`, else the BAD to answer with.
pub fn check(state: &State, body: &CommandBody) -> Result<(), Done> {
    let allowed = match (needs(body), state) {
        (_, State::Logout) => false,
        (Needs::Any, _) => true,
        (Needs::NotAuthenticated, State::NotAuthenticated) => true,
        (Needs::NotAuthenticated, _) => {
            return Err(Done::bad(format!(
                "{} is not allowed after login",
                body.name()
            )));
        }
        (Needs::Authenticated, State::Authenticated(_) | State::Selected(..)) => true,
        (Needs::Selected, State::Selected(..)) => true,
        (Needs::Authenticated | Needs::Selected, State::NotAuthenticated) => {
            return Err(Done::bad(format!("{}: log in first", body.name())));
        }
        (Needs::Selected, _) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Done::bad(format!(
            "{}: select a mailbox first",
            body.name()
        )))
    }
}

/// RFC 3501 §7.4.1: no EXPUNGE response while answering FETCH, STORE or
/// SEARCH. Their UID forms are fine, except a UID SEARCH whose criteria
/// use sequence numbers (RFC 7162 §3.2.10).
pub fn allows_expunge(body: &CommandBody) -> bool {
    use CommandBody::*;
    match body {
        Fetch { uid, .. } | Store { uid, .. } => *uid,
        Search { uid, criteria, .. } => *uid && !uses_sequence_numbers(criteria),
        _ => true,
    }
}
