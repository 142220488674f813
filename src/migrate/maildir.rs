//! Maildir (with Maildir++ folders: `.Work.Projects` is `Work/Projects`)
//! and Dovecot's keyword letters (`dovecot-keywords`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};

use super::Mail;
use crate::proto::mutf7;
use crate::store::{Flags, SystemFlags};

/// Maildir info letters and the flags they stand for (P, "passed", has no
/// IMAP flag and is dropped).
const LETTERS: [(char, u8); 5] = [
    ('D', SystemFlags::DRAFT),
    ('F', SystemFlags::FLAGGED),
    ('R', SystemFlags::ANSWERED),
    ('S', SystemFlags::SEEN),
    ('T', SystemFlags::DELETED),
];

pub fn is_maildir(path: &Path) -> bool {
    path.join("cur").is_dir() || path.join("new").is_dir()
}

/// Calls `folder` for every folder (INBOX first) and `store` for every
/// message of the Maildir.
pub fn read(
    root: &Path,
    folder: &mut dyn FnMut(&str) -> Result<(), String>,
    store: &mut dyn FnMut(Mail) -> Result<(), String>,
) -> Result<(), String> {
    let mut folders = vec![("INBOX".to_string(), root.to_path_buf())];
    let entries = std::fs::read_dir(root).map_err(|e| format!("{}: {e}", root.display()))?;
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(folder) = file_name.strip_prefix('.') else {
            continue;
        };
        if folder.is_empty() || folder == "." || !is_maildir(&entry.path()) {
            continue;
        }
        let name = mutf7::decode(folder.as_bytes()).unwrap_or_else(|_| folder.to_owned());
        folders.push((name.replace('.', "/"), entry.path()));
    }
    folders.sort();
    for (mailbox, dir) in folders {
        folder(&mailbox)?;
        let keywords = read_keywords(&dir);
        for (sub, seen_new) in [("cur", false), ("new", true)] {
            for path in sorted_files(&dir.join(sub)) {
                let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let flags = if seen_new {
                    Flags::default()
                } else {
                    flags_from_name(&name, &keywords)
                };
                store(Mail {
                    mailbox: mailbox.clone(),
                    raw,
                    flags,
                    internal_date: modified(&path),
                })?;
            }
        }
    }
    Ok(())
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// `dovecot-keywords`: lines `N name`, N = 0 for letter a, 1 for b, ...
fn read_keywords(dir: &Path) -> Vec<Option<String>> {
    let mut keywords = vec![None; 26];
    let text = std::fs::read_to_string(dir.join("dovecot-keywords")).unwrap_or_default();
    for line in text.lines() {
        if let Some((index, name)) = line.split_once(' ')
            && let Ok(index) = index.parse::<usize>()
            && index < 26
        {
            keywords[index] = Some(name.trim().to_owned());
        }
    }
    keywords
}

/// Flags from a `cur/` file name's `:2,` info part.
fn flags_from_name(name: &str, keywords: &[Option<String>]) -> Flags {
    let mut flags = Flags::default();
    let Some((_, info)) = name.rsplit_once(":2,") else {
        return flags;
    };
    for letter in info.chars() {
        if let Some((_, bit)) = LETTERS.iter().find(|(l, _)| *l == letter) {
            flags.system.0 |= bit;
        } else if letter.is_ascii_lowercase() {
            let index = (letter as u8 - b'a') as usize;
            if let Some(Some(keyword)) = keywords.get(index) {
                flags.keywords.push(keyword.clone());
            }
        }
    }
    flags
}

/// The file's modification time: Maildir's received date.
fn modified(path: &Path) -> DateTime<FixedOffset> {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now())
        .fixed_offset()
}

/// A writer of messages into the Maildir (folder) for `mailbox` below
/// `root`; keyword letters are recorded in its `dovecot-keywords`.
pub fn writer(
    root: &Path,
    mailbox: &str,
) -> Result<impl FnMut(&Mail) -> Result<(), String>, String> {
    let dir = if mailbox == "INBOX" {
        root.to_path_buf()
    } else {
        root.join(format!(".{}", mutf7::encode(mailbox).replace('/', ".")))
    };
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut keywords: Vec<String> = Vec::new();
    let mut counter = 0u64;
    Ok(move |mail: &Mail| {
        let mut info = String::new();
        for (letter, bit) in LETTERS {
            if mail.flags.system.has(bit) {
                info.push(letter);
            }
        }
        let mut letters = Vec::new();
        for keyword in &mail.flags.keywords {
            let index = match keywords.iter().position(|k| k == keyword) {
                Some(index) => index,
                None if keywords.len() < 26 => {
                    keywords.push(keyword.clone());
                    keywords.len() - 1
                }
                None => continue,
            };
            letters.push((b'a' + index as u8) as char);
        }
        letters.sort_unstable();
        info.extend(letters);
        counter += 1;
        let name = format!(
            "{}.M{counter}P{}.letterbox,S={}:2,{info}",
            mail.internal_date.timestamp(),
            std::process::id(),
            mail.raw.len()
        );
        let path = dir.join("cur").join(name);
        std::fs::write(&path, &mail.raw).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .map_err(|e| e.to_string())?;
        let time = std::time::SystemTime::from(mail.internal_date);
        file.set_modified(time).map_err(|e| e.to_string())?;
        let lines: Vec<String> = keywords
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{i} {k}\n"))
            .collect();
        if !lines.is_empty() {
            std::fs::write(dir.join("dovecot-keywords"), lines.concat())
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_from_file_names() {
        let keywords = vec![Some("$Work".to_string()), None, Some("later".to_string())];
        let flags = flags_from_name("123.M1P2.host,S=10:2,FPRSac", &keywords);
        assert_eq!(
            flags.system.0,
            SystemFlags::FLAGGED | SystemFlags::ANSWERED | SystemFlags::SEEN
        );
        assert_eq!(flags.keywords, ["$Work", "later"]);
        assert_eq!(
            flags_from_name("123.M1P2.host", &keywords),
            Flags::default()
        );
    }
}
