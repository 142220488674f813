//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3).

use thiserror::Error;

/// Why a wire mailbox name is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mutf7Error {
    #[error("invalid byte in mailbox name")]
    InvalidByte,
    #[error("unterminated '&' sequence in mailbox name")]
    Unterminated,
    #[error("invalid modified base64 in mailbox name")]
    InvalidBase64,
    #[error("non-canonical modified UTF-7 in mailbox name")]
    NonCanonical,
    #[error("invalid UTF-16 in mailbox name")]
    InvalidUtf16,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_direct(c: char) -> bool {
    matches!(c, ' '..='~') && c != '&'
}

fn b64_value(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Encodes a UTF-8 mailbox name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) || c == '&' {
            flush_run(&mut out, &mut run);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush_run(&mut out, &mut run);
    out
}

fn flush_run(out: &mut String, run: &mut Vec<u16>) {
    if run.is_empty() {
        return;
    }
    out.push('&');
    let mut acc: u32 = 0;
    let mut bits = 0;
    for unit in run.drain(..) {
        acc = (acc << 16) | u32::from(unit);
        bits += 16;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(ALPHABET[((acc >> bits) & 0x3f) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (6 - bits)) & 0x3f) as usize]));
    }
    out.push('-');
}

/// Decodes a wire mailbox name, rejecting anything not in canonical
/// modified UTF-7.
pub fn decode(wire: &[u8]) -> Result<String, Mutf7Error> {
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    let mut after_run = false;
    while let Some(&b) = wire.get(i) {
        if b == b'&' {
            let rest = &wire[i + 1..];
            let end = rest
                .iter()
                .position(|&c| c == b'-')
                .ok_or(Mutf7Error::Unterminated)?;
            if end == 0 {
                out.push('&');
                after_run = false;
            } else {
                if after_run {
                    return Err(Mutf7Error::NonCanonical);
                }
                decode_run(&rest[..end], &mut out)?;
                after_run = true;
            }
            i += end + 2;
        } else if (0x20..=0x7e).contains(&b) {
            out.push(char::from(b));
            after_run = false;
            i += 1;
        } else {
            return Err(Mutf7Error::InvalidByte);
        }
    }
    Ok(out)
}

fn decode_run(run: &[u8], out: &mut String) -> Result<(), Mutf7Error> {
    let mut units = Vec::with_capacity(run.len() * 6 / 16);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in run {
        let v = b64_value(b).ok_or(Mutf7Error::InvalidBase64)?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 16 {
            bits -= 16;
            units.push(((acc >> bits) & 0xffff) as u16);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 || acc != 0 {
        return Err(Mutf7Error::InvalidBase64);
    }
    for c in char::decode_utf16(units) {
        let c = c.map_err(|_| Mutf7Error::InvalidUtf16)?;
        if is_direct(c) || c == '&' {
            return Err(Mutf7Error::NonCanonical);
        }
        out.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example() {
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        let name = "~peter/mail/台北/日本語";
        assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(name));
        assert_eq!(encode(name), wire);
    }

    #[test]
    fn ampersand_and_plain() {
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode(b"A&-B").as_deref(), Ok("A&B"));
        assert_eq!(decode(b"&-&-").as_deref(), Ok("&&"));
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(decode(b"").as_deref(), Ok(""));
    }

    #[test]
    fn round_trips() {
        for s in [
            "Entwürfe",
            "Отправленные",
            "a\u{1F600}b",
            "日本語&x",
            "é",
            "éé",
            "ééé",
            "tab\there",
            "\u{10FFFF}",
        ] {
            let wire = encode(s);
            assert!(wire.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{wire}");
            assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(s), "{wire}");
        }
    }

    #[test]
    fn rejects_invalid() {
        let bad: &[&[u8]] = &[
            b"caf\xc3\xa9", // raw 8-bit
            b"a\tb",        // raw control
            b"&U,BTFw",     // unterminated
            b"&U,B*Fw-",    // bad base64 char
            b"&AGE-&AGE-",  // adjacent runs
            b"&AEE-",       // encodes printable 'A'
            b"&ACY-",       // encodes '&'
            b"&2D0-",       // lone high surrogate
            b"&3gA-",       // lone low surrogate
            b"&AOkA-",      // leftover bits
            b"&AOl-",       // non-zero padding bits
            b"&A-",         // too short for a unit
            b"&AOk=-",      // padding char
        ];
        for b in bad {
            assert!(decode(b).is_err(), "{:?}", String::from_utf8_lossy(b));
        }
    }
}
