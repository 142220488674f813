//! GETQUOTA and SETQUOTA arguments (RFC 9208); GETQUOTAROOT takes one
//! mailbox name, read in `command.rs`.

use nom::Parser;

use crate::proto::command::{CommandBody, SetQuotaCommand};
use crate::proto::parse::core::{astring, atom_upper, number64, paren_list, sp};
use crate::proto::parse::error::{PResult, expect};

/// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list`
/// `setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"`
/// `setquota-resource = resource-name SP resource-limit` (RFC 9208 §7)
pub fn setquota_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, root) = expect("Missing quota root", astring).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let resource = |i| {
        let (r, name) = atom_upper(i)?;
        let (r, _) = sp(r)?;
        let (r, limit) = expect("Invalid resource limit", number64).parse(r)?;
        Ok((r, (name, limit)))
    };
    let (rest, limits) = paren_list(true, resource).parse(rest)?;
    Ok((
        rest,
        CommandBody::SetQuota(SetQuotaCommand { root, limits }),
    ))
}

/// `getquota = "GETQUOTA" SP quota-root-name` (RFC 9208 §7)
pub fn getquota_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, root) = expect("Missing quota root", astring).parse(rest)?;
    Ok((rest, CommandBody::GetQuota { root }))
}
