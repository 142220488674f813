//! Error types: the public [`ParseError`] and the nom error [`PError`]
//! that carries a short message from the place that failed.

use nom::error::ErrorKind;
use nom::{IResult, Parser};
use thiserror::Error;

use crate::proto::types::Tag;

/// A command that could not be parsed. `tag` is set when the input started
/// with a valid tag and a space, so the reply can be `tag BAD message`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ParseError {
    pub tag: Option<Tag>,
    pub message: String,
}

/// The nom error type used by every parser here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PError<'a> {
    pub input: &'a [u8],
    pub message: Option<&'static str>,
}

impl<'a> nom::error::ParseError<&'a [u8]> for PError<'a> {
    fn from_error_kind(input: &'a [u8], _kind: ErrorKind) -> Self {
        PError {
            input,
            message: None,
        }
    }

    fn append(_input: &'a [u8], _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        if other.message.is_none() && self.message.is_some() {
            self
        } else {
            other
        }
    }
}

/// Result of every parser in this module.
pub type PResult<'a, T> = IResult<&'a [u8], T, PError<'a>>;

/// A recoverable error with `message` at `input`.
pub fn error<'a, T>(input: &'a [u8], message: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(PError {
        input,
        message: Some(message),
    }))
}

/// A definitive error (stops `alt`) with `message` at `input`.
pub fn failure<'a, T>(input: &'a [u8], message: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PError {
        input,
        message: Some(message),
    }))
}

/// Runs `parser`, labelling its errors with `message` unless a deeper
/// parser already gave a more specific one.
pub fn expect<'a, O, P>(
    message: &'static str,
    mut parser: P,
) -> impl Parser<&'a [u8], Output = O, Error = PError<'a>>
where
    P: Parser<&'a [u8], Output = O, Error = PError<'a>>,
{
    move |i: &'a [u8]| {
        parser.parse(i).map_err(|e| {
            e.map(|mut err| {
                err.message.get_or_insert(message);
                err
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::bytes::complete::tag;

    #[test]
    fn expect_labels_only_unlabelled_errors() {
        let mut p = expect("Missing x", tag::<_, _, PError>(&b"x"[..]));
        let Err(nom::Err::Error(e)) = p.parse(b"y") else {
            panic!("expected an error");
        };
        assert_eq!(e.message, Some("Missing x"));
        let mut q = expect("outer", |i| failure::<()>(i, "inner"));
        let Err(nom::Err::Failure(e)) = q.parse(b"y") else {
            panic!("expected a failure");
        };
        assert_eq!(e.message, Some("inner"));
    }
}
