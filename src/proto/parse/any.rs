//! Arguments of the commands valid in any state: ENABLE (RFC 5161) and
//! ID (RFC 2971).

use nom::Parser;
use nom::branch::alt;
use nom::combinator::{map, value};

use crate::proto::command::CommandBody;
use crate::proto::parse::core::{atom_upper, nil, nstring, paren_list, sp, string};
use crate::proto::parse::error::{PResult, expect};

/// `enable = "ENABLE" 1*(SP capability)` (upper-cased)
pub fn enable_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (mut rest, _) = sp(i)?;
    let mut caps = Vec::new();
    loop {
        let (r, cap) = expect("Missing capability", atom_upper).parse(rest)?;
        caps.push(cap);
        match r.strip_prefix(b" ") {
            Some(after) => rest = after,
            None => return Ok((r, CommandBody::Enable(caps))),
        }
    }
}

/// `id = "ID" SP id-params-list` ; `id-params-list = "(" *(string SP
/// nstring) ")" / nil`
pub fn id_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let pair = |r| -> PResult<'_, (Vec<u8>, Option<Vec<u8>>)> {
        let (r, k) = expect("Invalid ID field", string).parse(r)?;
        let (r, _) = sp(r)?;
        let (r, v) = expect("Invalid ID value", nstring).parse(r)?;
        Ok((r, (k, v)))
    };
    let (rest, params) = expect(
        "Invalid ID parameters",
        alt((value(None, nil), map(paren_list(true, pair), Some))),
    )
    .parse(rest)?;
    Ok((rest, CommandBody::Id(params)))
}
