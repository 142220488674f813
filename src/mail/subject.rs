//! The base subject of RFC 5256 §2.1, which SORT (SUBJECT) orders by and
//! THREAD groups by: the subject without reply and forward markers
//! ("Re:", "Fwd:", "(fwd)", "[fwd: ...]") and without leading "[list]"
//! tags. Localised markers ("AW:", "SV:") are not part of the RFC and stay.
//!
//! The steps work on byte positions inside one collapsed string, never
//! copying it, so that a subject of thousands of markers costs linear time.

use std::borrow::Cow;

/// `text` under i;ascii-casemap (RFC 4790 §9.2): ASCII letters
/// upper-cased, everything else as it is; borrowed when nothing changes
/// (base subjects are stored folded already).
pub fn ascii_casemap(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(text.to_ascii_uppercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The base subject of a Subject value that is already unfolded and
/// RFC 2047-decoded. Not case-folded: SORT compares it with
/// i;ascii-casemap.
pub fn base_subject(subject: &str) -> String {
    extract(subject).0
}

/// Whether extracting the base subject removed a reply or forward marker
/// (a subj-refwd, a "(fwd)" trailer or a "[fwd: ]" wrapper): THREAD
/// (REFERENCES) merges such messages under their original.
pub fn is_reply_or_forward(subject: &str) -> bool {
    extract(subject).1
}

fn extract(subject: &str) -> (String, bool) {
    // (1) whitespace runs (tabs, what folding left) become one space.
    let text = subject
        .split_ascii_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let b = text.as_bytes();
    let (mut start, mut end) = (0, b.len());
    let mut reply = false;
    loop {
        // (2) trailers: "(fwd)" and white space, as often as they occur.
        loop {
            if end > start && b[end - 1] == b' ' {
                end -= 1;
            } else if end - start >= 5 && b[end - 5..end].eq_ignore_ascii_case(b"(fwd)") {
                end -= 5;
                reply = true;
            } else {
                break;
            }
        }
        // (3), (4) and (5): leaders and leading blobs until none is left.
        // A leader scan that ran over blobs and found no "re"/"fw" after
        // them fails again from any later blob of that run: remember where.
        let mut no_leader_before = start;
        loop {
            let t = &b[start..end];
            if t.first() == Some(&b' ') {
                start += 1;
                continue;
            }
            if start >= no_leader_before {
                match leader(t) {
                    Ok(len) => {
                        start += len;
                        reply = true;
                        continue;
                    }
                    Err(blobs) if blobs > 0 => no_leader_before = start + blobs,
                    Err(_) => {}
                }
            }
            // (4) one leading blob, if something is left after it.
            match blob(t) {
                Some(len) if len < t.len() => start += len,
                _ => break,
            }
        }
        // (6) a "[fwd: ...]" wrapper: unwrap it and start over from (2).
        let t = &b[start..end];
        if t.len() >= 6 && t[..5].eq_ignore_ascii_case(b"[fwd:") && t[t.len() - 1] == b']' {
            start += 5;
            end -= 1;
            reply = true;
            continue;
        }
        break;
    }
    (text[start..end].to_owned(), reply)
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`: its length at the start of `t`.
fn blob(t: &[u8]) -> Option<usize> {
    if t.first() != Some(&b'[') {
        return None;
    }
    let close = 1 + t[1..].iter().position(|&c| c == b']' || c == b'[')?;
    if t[close] != b']' {
        return None;
    }
    Some(close + 1 + spaces(&t[close + 1..]))
}

/// `subj-leader = *subj-blob subj-refwd`, with `subj-refwd = ("re" /
/// ("fw" ["d"])) *WSP [subj-blob] ":"`: its length at the start of `t`,
/// or how many bytes of blobs came before no refwd was found.
fn leader(t: &[u8]) -> Result<usize, usize> {
    let mut i = 0;
    while let Some(len) = blob(&t[i..]) {
        i += len;
    }
    let blobs = i;
    let word = |w: &[u8], at: usize| {
        t.len() >= at + w.len() && t[at..at + w.len()].eq_ignore_ascii_case(w)
    };
    if word(b"re", i) {
        i += 2;
    } else if word(b"fw", i) {
        i += 2;
        if word(b"d", i) {
            i += 1;
        }
    } else {
        return Err(blobs);
    }
    i += spaces(&t[i..]);
    if let Some(len) = blob(&t[i..]) {
        i += len;
    }
    if t.get(i) == Some(&b':') {
        Ok(i + 1)
    } else {
        Err(blobs)
    }
}

fn spaces(t: &[u8]) -> usize {
    t.iter().take_while(|&&c| c == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_subjects() {
        // (subject, base subject, reply or forward)
        let cases: &[(&str, &str, bool)] = &[
            // Nothing to remove; (1) collapses white space.
            ("Lunch", "Lunch", false),
            ("", "", false),
            ("   ", "", false),
            ("a \t b\r\n  c", "a b c", false),
            // (3) subj-refwd, any case, with or without space and blob.
            ("Re: Lunch", "Lunch", true),
            ("RE:Lunch", "Lunch", true),
            ("re : Lunch", "Lunch", true),
            ("Fwd: Lunch", "Lunch", true),
            ("FW: Lunch", "Lunch", true),
            ("fw[bar]:Lunch", "Lunch", true),
            ("re [foo]: Lunch", "Lunch", true),
            ("Re[2]: Lunch", "Lunch", true),
            ("Re: Re: re: Lunch", "Lunch", true),
            ("Re: Fwd: RE: Lunch", "Lunch", true),
            ("Re:", "", true),
            ("Re: ", "", true),
            // Only one blob may sit between "re" and ":".
            ("Re [2] [3]: Lunch", "Re [2] [3]: Lunch", false),
            // Not a subj-refwd.
            ("Re Lunch", "Re Lunch", false),
            ("Reply: Lunch", "Reply: Lunch", false),
            ("Fwdx: Lunch", "Fwdx: Lunch", false),
            ("Refactoring", "Refactoring", false),
            // Blobs before a refwd belong to the leader.
            ("[list] Re: Lunch", "Lunch", true),
            ("[a][b] Re: Lunch", "Lunch", true),
            // (4) a leading blob goes if something is left after it.
            ("[list] Lunch", "Lunch", false),
            ("Re: [list] Lunch", "Lunch", true),
            ("[a] [b] Lunch", "Lunch", false),
            ("[x]", "[x]", false),
            ("[a] [b]", "[b]", false),
            ("Re: [x]", "[x]", true),
            ("[foo x", "[foo x", false),
            ("[a[b] x", "[a[b] x", false),
            ("[] x", "x", false),
            // (2) trailers.
            ("Lunch (fwd)", "Lunch", true),
            ("Lunch (FWD) (fwd)", "Lunch", true),
            ("Lunch(fwd)", "Lunch", true),
            ("(fwd)", "", true),
            ("Lunch (fwd) x", "Lunch (fwd) x", false),
            // (6) the forward wrapper, then everything again.
            ("[fwd: Lunch]", "Lunch", true),
            ("[Fwd: Re: Lunch]", "Lunch", true),
            ("[FWD: [fwd: Lunch (fwd)]]", "Lunch", true),
            ("Re: [fwd: Lunch] (fwd)", "Lunch", true),
            ("[fwd: Lunch", "[fwd: Lunch", false),
            // It begins with "[fwd:" and ends with "]": unwrapped to nothing.
            ("[fwd:]", "", true),
            ("Meeting [room 2]", "Meeting [room 2]", false),
            // Not RFC 5256: localised markers stay.
            ("AW: Lunch", "AW: Lunch", false),
            ("SV: Re: Lunch", "SV: Re: Lunch", false),
            ("Re: AW: Lunch", "AW: Lunch", true),
            // Other scripts pass through.
            ("Re: Grüße aus Köln", "Grüße aus Köln", true),
            ("[рассылка] Re: Привет", "Привет", true),
            ("Re: 日本語 (fwd)", "日本語", true),
        ];
        for &(subject, base, reply) in cases {
            assert_eq!(extract(subject), (base.to_owned(), reply), "{subject:?}");
            assert_eq!(base_subject(subject), base);
            assert_eq!(is_reply_or_forward(subject), reply);
        }
    }

    #[test]
    fn pathological_subjects_take_linear_time() {
        let started = std::time::Instant::now();
        let many = |piece: &str| piece.repeat(100_000 / piece.len());
        assert_eq!(extract(&(many("Re: ") + "x")).0, "x");
        assert_eq!(extract(&many("[")).0, many("["));
        assert_eq!(extract(&(many("[a] ") + "[bbb")).0, "[bbb");
        assert!(extract(&many("x (fwd)")).0.ends_with('x'));
        assert!(extract(&(many("[fwd: ") + &many("]"))).1);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
