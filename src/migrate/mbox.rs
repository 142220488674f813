//! mbox (mboxrd): messages separated by `From ` lines, `>From ` quoting,
//! flags from `Status`/`X-Status` headers.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use super::Mail;
use crate::store::{Flags, SystemFlags};

/// Imports every regular file below `dir` as an mbox; the mailbox is its
/// relative path without a `.mbox` extension (`inbox` is INBOX).
pub fn read_dir(
    dir: &Path,
    store: &mut dyn FnMut(Mail) -> Result<(), String>,
) -> Result<(), String> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    files.sort();
    for (mailbox, path) in files {
        read_file(&path, &mailbox, store)?;
    }
    Ok(())
}

fn collect_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if path.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let name = relative
                .strip_suffix(".mbox")
                .unwrap_or(&relative)
                .to_owned();
            let name = if name.eq_ignore_ascii_case("inbox") {
                "INBOX".to_owned()
            } else {
                name
            };
            out.push((name, path));
        }
    }
    Ok(())
}

/// Reads one mbox file message by message (never the whole file at once).
pub fn read_file(
    path: &Path,
    mailbox: &str,
    store: &mut dyn FnMut(Mail) -> Result<(), String>,
) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut current: Option<(DateTime<FixedOffset>, Vec<u8>)> = None;
    let mut previous_blank = true;
    loop {
        let mut line = Vec::new();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // A separator is a `From ` line after a blank line (or first) that
        // carries a date: an unquoted "From here on..." in a body is not.
        let first = current.is_none();
        let date = (read > 0 && (previous_blank || first) && line.starts_with(b"From "))
            .then(|| from_line_date(&line))
            .flatten()
            .or_else(|| (first && line.starts_with(b"From ")).then(|| Utc::now().fixed_offset()));
        if read == 0 || date.is_some() {
            if let Some((date, raw)) = current.take() {
                store(finish(mailbox, date, raw))?;
            }
            let Some(date) = date else {
                return Ok(());
            };
            current = Some((date, Vec::new()));
            previous_blank = false;
            continue;
        }
        previous_blank = line == b"\n" || line == b"\r\n";
        if let Some((_, raw)) = current.as_mut() {
            raw.extend_from_slice(unquote(&line));
        }
    }
}

/// Drops the blank line that separates messages and reads the flags.
fn finish(mailbox: &str, internal_date: DateTime<FixedOffset>, mut raw: Vec<u8>) -> Mail {
    if raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\r\n") {
        raw.truncate(raw.len() - 2);
    } else if raw.ends_with(b"\n\n") {
        raw.truncate(raw.len() - 1);
    }
    Mail {
        mailbox: mailbox.to_owned(),
        flags: status_flags(&raw),
        raw,
        internal_date,
    }
}

/// mboxrd: `>From `, `>>From `, ... lose one `>`.
fn unquote(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

/// `From sender Mon Jan  1 00:00:00 2024` -> its date (UTC).
fn from_line_date(line: &[u8]) -> Option<DateTime<FixedOffset>> {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_whitespace().collect();
    let date = (words.len() >= 7).then(|| words[words.len() - 4..].join(" "))?;
    let naive = NaiveDateTime::parse_from_str(&date, "%b %d %H:%M:%S %Y").ok()?;
    Some(naive.and_utc().fixed_offset())
}

/// Flags from `Status: RO` and `X-Status: AFTD` in the header.
fn status_flags(raw: &[u8]) -> Flags {
    let mut flags = Flags::default();
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    for line in raw[..end].split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let (name, value) = line.split_once(':').unwrap_or(("", ""));
        let letters: &[(char, u8)] = if name.eq_ignore_ascii_case("Status") {
            &[('R', SystemFlags::SEEN)]
        } else if name.eq_ignore_ascii_case("X-Status") {
            &[
                ('A', SystemFlags::ANSWERED),
                ('F', SystemFlags::FLAGGED),
                ('T', SystemFlags::DRAFT),
                ('D', SystemFlags::DELETED),
            ]
        } else {
            continue;
        };
        for (letter, bit) in letters {
            if value.contains(*letter) {
                flags.system.0 |= bit;
            }
        }
    }
    flags
}

/// A writer appending messages to `<dir>/<mailbox>.mbox` (`/` in the name
/// becomes a subdirectory).
pub fn writer(
    dir: &Path,
    mailbox: &str,
) -> Result<impl FnMut(&Mail) -> Result<(), String>, String> {
    let path = dir.join(format!("{mailbox}.mbox"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    Ok(move |mail: &Mail| {
        let date = mail
            .internal_date
            .with_timezone(&Utc)
            .format("%a %b %e %H:%M:%S %Y");
        let mut chunk = format!("From MAILER-DAEMON {date}\r\n").into_bytes();
        for line in mail.raw.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if line[quotes..].starts_with(b"From ") {
                chunk.push(b'>');
            }
            chunk.extend_from_slice(line);
        }
        chunk.extend_from_slice(b"\r\n");
        out.write_all(&chunk)
            .and_then(|_| out.flush())
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lines_and_quoting() {
        assert_eq!(
            from_line_date(b"From bob@example.com Mon Jan  5 09:30:00 2026\n")
                .unwrap()
                .to_rfc3339(),
            "2026-01-05T09:30:00+00:00"
        );
        assert_eq!(from_line_date(b"From here on, we talk\n"), None);
        assert_eq!(unquote(b">>From me\n"), b">From me\n");
        assert_eq!(unquote(b">Fromage\n"), b">Fromage\n");
        let flags = status_flags(b"Status: RO\r\nX-Status: AF\r\n\r\nbody");
        assert_eq!(
            flags.system.0,
            SystemFlags::SEEN | SystemFlags::ANSWERED | SystemFlags::FLAGGED
        );
    }
}
