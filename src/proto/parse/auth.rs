//! LOGIN and AUTHENTICATE arguments (RFC 3501 §6.2, RFC 4959 SASL-IR).

use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::combinator::opt;
use nom::sequence::preceded;

use crate::proto::command::{AuthenticateCommand, CommandBody, LoginCommand};
use crate::proto::parse::core::{astring, atom_upper, sp};
use crate::proto::parse::error::{PResult, expect};

/// `login = "LOGIN" SP userid SP password` ; both `astring`
pub fn login_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, username) = expect("Missing user name", astring).parse(rest)?;
    let (rest, _) = sp(rest)?;
    let (rest, password) = expect("Missing password", astring).parse(rest)?;
    Ok((
        rest,
        CommandBody::Login(LoginCommand { username, password }),
    ))
}

/// `authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]`
/// (RFC 4959 SASL-IR); the initial response is kept as sent
pub fn authenticate_args(i: &[u8]) -> PResult<'_, CommandBody> {
    let (rest, _) = sp(i)?;
    let (rest, mechanism) = expect("Missing mechanism", atom_upper).parse(rest)?;
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let (rest, ir) = opt(preceded(
        sp,
        expect("Invalid initial response", take_while1(is_b64)),
    ))
    .parse(rest)?;
    Ok((
        rest,
        CommandBody::Authenticate(AuthenticateCommand {
            mechanism,
            initial_response: ir.map(<[u8]>::to_vec),
        }),
    ))
}
