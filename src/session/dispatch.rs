//! Which commands each state allows (RFC 3501 §6), in one table.

use super::state::State;
use crate::proto::CommandBody;
use crate::proto::response::Done;

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
        StartTls | Authenticate(_) | Login(_) => Needs::NotAuthenticated,
        Enable(_)
        | Select(_)
        | Examine(_)
        | Create(_)
        | Delete { .. }
        | Rename(_)
        | Subscribe { .. }
        | Unsubscribe { .. }
        | List(_)
        | Lsub(_)
        | Xlist(_)
        | GetQuota { .. }
        | GetQuotaRoot { .. }
        | SetQuota(_)
        | SetAcl { .. }
        | DeleteAcl { .. }
        | GetAcl { .. }
        | ListRights { .. }
        | MyRights { .. }
        | Namespace
        | Status(_)
        | Append(_)
        | Idle
        | Compress { .. } => Needs::Authenticated,
        Check | Close | Unselect | Expunge | UidExpunge(_) | Search(_) | Sort(_) | Thread(_)
        | Fetch(_) | Store(_) | Copy(_) | Move(_) => Needs::Selected,
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
