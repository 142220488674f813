//! SASL PLAIN (RFC 4616) message decoding.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, PartialEq, Eq)]
pub struct PlainCredentials {
    pub authzid: Vec<u8>,
    pub authcid: Vec<u8>,
    pub password: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("Invalid base64")]
    Base64,
    #[error("Invalid PLAIN message")]
    Malformed,
}

/// Decodes a base64 client response; `=` is the empty response (RFC 4959).
pub fn decode_response(text: &[u8]) -> Result<Vec<u8>, SaslError> {
    if text == b"=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(text).map_err(|_| SaslError::Base64)
}

/// Splits `authzid NUL authcid NUL passwd`.
pub fn parse_plain(message: &[u8]) -> Result<PlainCredentials, SaslError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if authcid.is_empty() || authzid.len() > 255 || authcid.len() > 255 || password.len() > 255 {
        return Err(SaslError::Malformed);
    }
    Ok(PlainCredentials {
        authzid: authzid.to_vec(),
        authcid: authcid.to_vec(),
        password: password.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_messages() {
        let creds = parse_plain(b"\0tim\0tanstaaftanstaaf").unwrap();
        assert_eq!(creds.authcid, b"tim");
        assert_eq!(creds.password, b"tanstaaftanstaaf");
        assert!(creds.authzid.is_empty());
        assert_eq!(
            parse_plain(b"Ursel\0Kurt\0xipj3plmq").unwrap().authzid,
            b"Ursel"
        );
        for bad in [&b"tim"[..], b"\0tim", b"\0\0pw", b"a\0b\0c\0d"] {
            assert_eq!(parse_plain(bad), Err(SaslError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn base64_responses() {
        assert_eq!(
            decode_response(b"AHRpbQB0YW5zdGFhZnRhbnN0YWFm").unwrap(),
            b"\0tim\0tanstaaftanstaaf"
        );
        assert_eq!(decode_response(b"=").unwrap(), b"");
        assert_eq!(decode_response(b"!!"), Err(SaslError::Base64));
    }
}
