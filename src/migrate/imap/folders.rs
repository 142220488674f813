//! Which local mailbox each folder of the old server fills. Pure.
//!
//! - A remote name is shown with `/` as the delimiter whatever the old
//!   server's (`INBOX.Sent` on a `.` server is `INBOX/Sent`); `--exclude`
//!   and `--folder-map` match that form. A `/` inside a remote level
//!   becomes `_`.
//! - The personal namespace prefix (`INBOX.` on Courier-style servers) is
//!   dropped, so `INBOX.Sent` lands in `Sent`, not under INBOX.
//! - Special-use folders (RFC 6154 attributes, or XLIST's) land in the
//!   user's mailbox of the same use, whatever their name: Exchange's
//!   "Sent Items" and Gmail's "[Gmail]/Sent Mail" become Sent. A server
//!   that marks no folder at all gets its well-known names matched instead.
//!   Virtual folders (`\All`, `\Flagged`, Gmail's `\Important`) hold
//!   copies of mail from other folders and are skipped.
//! - `--folder-map OLD=NEW` wins over all of that, for OLD and its
//!   children (a virtual folder named there is copied).

use crate::store::pattern::Pattern;
use crate::store::{MailboxName, SpecialUse};

/// A folder as LIST showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFolder {
    /// The name as sent on the wire (modified UTF-7), for EXAMINE.
    pub wire: Vec<u8>,
    /// The name in UTF-8, with the server's delimiter.
    pub name: String,
    pub delimiter: Option<char>,
    /// Attributes, lower case with their backslash (`\noselect`).
    pub attributes: Vec<String>,
}

impl RemoteFolder {
    fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.eq_ignore_ascii_case(attribute))
    }

    /// The name with `/` as the delimiter.
    pub fn display(&self) -> String {
        match self.delimiter {
            Some('/') | None => self.name.clone(),
            Some(delimiter) => self
                .name
                .split(delimiter)
                .map(|level| level.replace('/', "_"))
                .collect::<Vec<_>>()
                .join("/"),
        }
    }

    fn special_use(&self) -> Option<SpecialUse> {
        SpecialUse::ALL
            .into_iter()
            .find(|use_| self.has(use_.attribute()))
    }

    /// Holds copies of mail kept in other folders.
    fn is_virtual(&self) -> bool {
        self.has("\\All") || self.has("\\Flagged") || self.has("\\Important")
    }
}

/// What the user asked for on the command line.
#[derive(Default)]
pub struct Rules {
    /// `OLD=NEW` pairs, OLD in the displayed form.
    pub folder_map: Vec<(String, String)>,
    pub exclude: Vec<Pattern>,
}

/// Where a remote folder goes, or why it is left.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Copy(MailboxName),
    Skip(&'static str),
}

/// Well-known names of special folders, for servers that mark none.
const KNOWN_NAMES: [(SpecialUse, &[&str]); 5] = [
    (
        SpecialUse::Sent,
        &[
            "sent",
            "sent items",
            "sent messages",
            "sent mail",
            "gesendet",
            "gesendete elemente",
            "envoyés",
            "elementos enviados",
        ],
    ),
    (
        SpecialUse::Drafts,
        &["drafts", "draft", "entwürfe", "brouillons", "borradores"],
    ),
    (
        SpecialUse::Trash,
        &[
            "trash",
            "deleted items",
            "deleted messages",
            "bin",
            "papierkorb",
            "corbeille",
            "gelöschte elemente",
        ],
    ),
    (
        SpecialUse::Junk,
        &[
            "junk",
            "spam",
            "junk e-mail",
            "junk email",
            "bulk mail",
            "junk-e-mail",
        ],
    ),
    (SpecialUse::Archive, &["archive", "archives", "archiv"]),
];

/// Decides for every folder. `prefix` is the personal namespace prefix;
/// `local` maps a special use to the user's mailbox of that use.
pub fn plan(
    folders: &[RemoteFolder],
    prefix: &str,
    rules: &Rules,
    local: impl Fn(SpecialUse) -> Option<String>,
) -> Vec<(RemoteFolder, Decision)> {
    let any_marked = folders.iter().any(|f| f.special_use().is_some());
    // Special folders move with their children: "Sent Items/2019" goes to
    // "Sent/2019".
    let mut renames: Vec<(String, String)> = Vec::new();
    for folder in folders {
        let use_ = match any_marked {
            true => folder.special_use(),
            false => known_name(&strip_prefix(&folder.display(), prefix)),
        };
        if let Some(target) = use_.filter(|_| !folder.is_virtual()).and_then(&local) {
            renames.push((folder.display(), target));
        }
    }
    renames.extend(rules.folder_map.iter().cloned());
    folders
        .iter()
        .map(|folder| (folder.clone(), decide(folder, prefix, rules, &renames)))
        .collect()
}

fn decide(
    folder: &RemoteFolder,
    prefix: &str,
    rules: &Rules,
    renames: &[(String, String)],
) -> Decision {
    let display = folder.display();
    if rules.exclude.iter().any(|p| p.matches(&display)) {
        return Decision::Skip("excluded");
    }
    if folder.has("\\Noselect") || folder.has("\\NonExistent") {
        return Decision::Skip("holds no messages (\\Noselect)");
    }
    let asked_for = rules
        .folder_map
        .iter()
        .any(|(old, _)| within(&display, old));
    if folder.is_virtual() && !asked_for {
        return Decision::Skip("virtual folder (copies of mail in other folders)");
    }
    // The longest matching OLD wins; the command line's come last, so on
    // a tie they win over special uses.
    let renamed = renames
        .iter()
        .enumerate()
        .filter(|(_, (old, _))| within(&display, old))
        .map(|(order, (old, new))| {
            (
                (old.len(), order),
                format!("{new}{}", &display[old.len()..]),
            )
        })
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, name)| name);
    let name = match renamed {
        Some(name) => name,
        None if display.eq_ignore_ascii_case("INBOX") => "INBOX".to_owned(),
        None => strip_prefix(&display, prefix),
    };
    match MailboxName::new(&name) {
        Ok(name) => Decision::Copy(name),
        Err(_) => Decision::Skip("no valid local name"),
    }
}

/// Whether `name` is `folder` or one of its children.
fn within(name: &str, folder: &str) -> bool {
    name.strip_prefix(folder)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `display` without the personal namespace prefix (given with the
/// server's delimiter, e.g. `INBOX.`), unless that leaves nothing.
fn strip_prefix(display: &str, prefix: &str) -> String {
    let prefix = prefix.trim_end_matches(|c: char| !c.is_alphanumeric());
    if prefix.is_empty() {
        return display.to_owned();
    }
    match display
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => display.to_owned(),
    }
}

fn known_name(name: &str) -> Option<SpecialUse> {
    let lower = name.to_lowercase();
    KNOWN_NAMES
        .iter()
        .find(|(_, names)| names.contains(&lower.as_str()))
        .map(|(use_, _)| *use_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, delimiter: char, attributes: &[&str]) -> RemoteFolder {
        RemoteFolder {
            wire: name.as_bytes().to_vec(),
            name: name.to_owned(),
            delimiter: Some(delimiter),
            attributes: attributes.iter().map(|a| a.to_lowercase()).collect(),
        }
    }

    fn defaults(use_: SpecialUse) -> Option<String> {
        Some(
            match use_ {
                SpecialUse::Sent => "Sent",
                SpecialUse::Drafts => "Drafts",
                SpecialUse::Trash => "Trash",
                SpecialUse::Junk => "Junk",
                SpecialUse::Archive => "Archive",
                SpecialUse::All | SpecialUse::Flagged => return None,
            }
            .to_owned(),
        )
    }

    fn decisions(folders: &[RemoteFolder], prefix: &str, rules: &Rules) -> Vec<(String, String)> {
        plan(folders, prefix, rules, defaults)
            .into_iter()
            .map(|(f, d)| {
                let to = match d {
                    Decision::Copy(name) => name.to_string(),
                    Decision::Skip(why) => format!("skip: {why}"),
                };
                (f.name, to)
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn gmail() {
        let folders = [
            folder("INBOX", '/', &[]),
            folder("[Gmail]", '/', &["\\Noselect"]),
            folder("[Gmail]/All Mail", '/', &["\\All"]),
            folder("[Gmail]/Sent Mail", '/', &["\\Sent"]),
            folder("[Gmail]/Spam", '/', &["\\Junk"]),
            folder("[Gmail]/Starred", '/', &["\\Flagged"]),
            folder("[Gmail]/Important", '/', &["\\Important"]),
            folder("Receipts/2024", '/', &[]),
        ];
        let got = decisions(&folders, "", &Rules::default());
        assert_eq!(
            got,
            pairs(&[
                ("INBOX", "INBOX"),
                ("[Gmail]", "skip: holds no messages (\\Noselect)"),
                (
                    "[Gmail]/All Mail",
                    "skip: virtual folder (copies of mail in other folders)"
                ),
                ("[Gmail]/Sent Mail", "Sent"),
                ("[Gmail]/Spam", "Junk"),
                (
                    "[Gmail]/Starred",
                    "skip: virtual folder (copies of mail in other folders)"
                ),
                (
                    "[Gmail]/Important",
                    "skip: virtual folder (copies of mail in other folders)"
                ),
                ("Receipts/2024", "Receipts/2024"),
            ])
        );
    }

    #[test]
    fn courier_style_dot_delimiter_and_inbox_prefix() {
        let folders = [
            folder("INBOX", '.', &[]),
            folder("INBOX.Sent Items", '.', &[]),
            folder("INBOX.Sent Items.2019", '.', &[]),
            folder("INBOX.Projects.a/b", '.', &[]),
            folder("INBOX.Deleted Items", '.', &[]),
        ];
        let got = decisions(&folders, "INBOX.", &Rules::default());
        assert_eq!(
            got,
            pairs(&[
                ("INBOX", "INBOX"),
                ("INBOX.Sent Items", "Sent"),
                ("INBOX.Sent Items.2019", "Sent/2019"),
                ("INBOX.Projects.a/b", "Projects/a_b"),
                ("INBOX.Deleted Items", "Trash"),
            ])
        );
    }

    #[test]
    fn names_are_not_guessed_when_the_server_marks_folders() {
        let folders = [
            folder("Sent", '/', &["\\Sent"]),
            folder("Sent Items", '/', &[]),
        ];
        let got = decisions(&folders, "", &Rules::default());
        assert_eq!(
            got,
            pairs(&[("Sent", "Sent"), ("Sent Items", "Sent Items")])
        );
    }

    #[test]
    fn the_command_line_wins() {
        let folders = [
            folder("Sent Items", '/', &["\\Sent"]),
            folder("Old/2019", '/', &[]),
            folder("Old/2019/Q1", '/', &[]),
            folder("Scratch", '/', &[]),
            folder("Scratch/tmp", '/', &[]),
            folder("Older", '/', &[]),
            folder("[Gmail]/All Mail", '/', &["\\All"]),
        ];
        let rules = Rules {
            folder_map: vec![
                ("Sent Items".into(), "Sent/From old server".into()),
                ("Old".into(), "Archive".into()),
                ("[Gmail]/All Mail".into(), "All".into()),
            ],
            exclude: vec![Pattern::new("", "Scratch*").unwrap()],
        };
        let got = decisions(&folders, "", &rules);
        assert_eq!(
            got,
            pairs(&[
                ("Sent Items", "Sent/From old server"),
                ("Old/2019", "Archive/2019"),
                ("Old/2019/Q1", "Archive/2019/Q1"),
                ("Scratch", "skip: excluded"),
                ("Scratch/tmp", "skip: excluded"),
                ("Older", "Older"),
                ("[Gmail]/All Mail", "All"),
            ])
        );
    }
}
