//! encoded-character (RFC 5228 §2.4.2.4): `${hex: 4a 6f}` and
//! `${unicode: 263a}` in strings stand for the characters they encode.
//! A sequence that is not well-formed stays as written.

/// The string with every well-formed encoded-character sequence decoded.
pub fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match candidate
            .find('}')
            .and_then(|end| Some((end, expand(&candidate[2..end])?)))
        {
            Some((end, decoded)) => {
                out.push_str(&decoded);
                rest = &candidate[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `hex: 4a 6f` or `unicode: 263a` (case-insensitive, spaces between
/// and around the numbers); `None` when not well-formed.
fn expand(inner: &str) -> Option<String> {
    let (kind, numbers) = inner.split_once(':')?;
    let kind = kind.to_ascii_lowercase();
    // hex-pair = 1*2HEXDIG; unicode-hex = 1*HEXDIG (RFC 5228 §2.4.2.4).
    let widest = if kind == "hex" { 2 } else { 8 };
    let values = numbers
        .split([' ', '\t', '\r', '\n'])
        .filter(|n| !n.is_empty())
        .map(|n| {
            u32::from_str_radix(n, 16)
                .ok()
                .filter(|_| n.len() <= widest)
        })
        .collect::<Option<Vec<u32>>>()?;
    if values.is_empty() {
        return None;
    }
    match kind.as_str() {
        "hex" => {
            let bytes = values
                .into_iter()
                .map(|v| u8::try_from(v).ok())
                .collect::<Option<Vec<u8>>>()?;
            String::from_utf8(bytes).ok()
        }
        "unicode" => values.into_iter().map(char::from_u32).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn rfc_5228_examples() {
        assert_eq!(decode("${hex:40}"), "@");
        assert_eq!(decode("${hex: 40 }"), "@");
        assert_eq!(decode("${HEX: 40}"), "@");
        assert_eq!(decode("${hex:40"), "${hex:40");
        assert_eq!(decode("${hex:400}"), "${hex:400}");
        assert_eq!(decode("${hex:004a}"), "${hex:004a}", "hex pairs only");
        assert_eq!(decode("${hex:4${hex:30}}"), "${hex:40}");
        assert_eq!(decode("${unicode:40}"), "@");
        assert_eq!(decode("${ unicode:40}"), "${ unicode:40}");
        assert_eq!(decode("${UNICODE:40}"), "@");
        assert_eq!(decode("${UnICoDE:0000040}"), "@");
        assert_eq!(decode("${Unicode:40}"), "@");
        assert_eq!(decode("${Unicode:Cool}"), "${Unicode:Cool}");
        assert_eq!(decode("${unicode:d800}"), "${unicode:d800}");
        assert_eq!(decode("x${hex:e2 98 ba}y ${other}"), "x\u{263a}y ${other}");
    }
}
