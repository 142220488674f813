//! LIST (with the LIST-EXTENDED, LIST-STATUS and SPECIAL-USE options),
//! XLIST, LSUB and NAMESPACE.
//!
//! LIST and XLIST share one pipeline: [`Options`] checks what the command
//! asks for, [`Hierarchy::select`] decides which names get a response and
//! with which attributes (a pure function of the mailboxes and
//! subscriptions, so the RFC 5258 rules are unit-tested below), and
//! [`write_entries`] sends them, each followed by its `* STATUS` line when
//! LIST-STATUS asked for one.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::access::{self, OTHER_USERS, Place, SHARED, Visible};
use super::mailbox::status_response;
use super::{private_seen, user, wire_text};
use crate::proto::response::{CommandResult, Done, ListEntry, Untagged};
use crate::proto::{ListCommand, ListReturn, LsubCommand, StatusItem};
use crate::session::Session;
use crate::store::acl::Rights;
use crate::store::pattern::{Pattern, Patterns};
use crate::store::{
    Access, DELIMITER, MailStore, MailboxInfo, MailboxName, MailboxStatus, SpecialUse, StoreError,
    StoreResult, UserId,
};

/// RFC 2342: the personal namespace, other users' mailboxes and team
/// mailboxes (see [`access`]).
pub fn namespace(s: &mut Session) -> CommandResult {
    s.send(Untagged::Namespace {
        personal: vec![(String::new(), DELIMITER)],
        other_users: vec![(format!("{OTHER_USERS}{DELIMITER}"), DELIMITER)],
        shared: vec![(format!("{SHARED}{DELIMITER}"), DELIMITER)],
    });
    Ok(Done::ok("NAMESPACE completed"))
}

fn pattern(reference: &str, pattern: &str) -> Result<Pattern, Done> {
    Pattern::new(reference, pattern).ok_or_else(|| Done::bad("Mailbox pattern too long"))
}

/// The reply to an empty pattern: the delimiter and the reference's root
/// (RFC 3501 §6.3.8), e.g. `foo/` for reference `foo/bar`.
fn write_root(s: &mut Session, verb: &'static str, reference: &str) {
    let root = reference.find(DELIMITER).map_or("", |i| &reference[..=i]);
    write_entry(s, verb, &["\\Noselect"], root, false);
}

/// Sends one `* LIST` (or LSUB/XLIST) response.
fn write_entry(
    s: &mut Session,
    verb: &'static str,
    attributes: &[&'static str],
    name: &str,
    childinfo: bool,
) {
    s.send(Untagged::List(ListEntry {
        verb,
        attributes: attributes.to_vec(),
        delimiter: DELIMITER,
        name: name.to_owned(),
        childinfo,
    }));
}

/// LIST, or Apple's pre-RFC 6154 XLIST, which differs only in the response
/// name and in how it spells the special uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    List,
    Xlist,
}

impl Flavor {
    fn verb(self) -> &'static str {
        match self {
            Flavor::List => "LIST",
            Flavor::Xlist => "XLIST",
        }
    }

    /// XLIST clients know Gmail's names for \All, \Junk and \Flagged.
    fn special_use(self, special_use: SpecialUse) -> &'static str {
        match (self, special_use) {
            (Flavor::Xlist, SpecialUse::All) => "\\AllMail",
            (Flavor::Xlist, SpecialUse::Junk) => "\\Spam",
            (Flavor::Xlist, SpecialUse::Flagged) => "\\Starred",
            (_, special_use) => special_use.attribute(),
        }
    }
}

/// What a LIST command asks for, once its options are checked.
#[derive(Debug, Default)]
struct Options {
    /// RFC 5258 §1: options or several patterns make a LIST "extended", and
    /// an extended LIST has no empty-pattern special case (§3).
    extended: bool,
    /// Selection SUBSCRIBED: subscribed names rather than mailboxes.
    subscribed_only: bool,
    /// Selection SPECIAL-USE (RFC 6154 §2): only mailboxes with a special use.
    special_use_only: bool,
    /// Selection RECURSIVEMATCH: parents of selected names too, with CHILDINFO.
    recursive: bool,
    /// Return `\Subscribed` (return SUBSCRIBED, or implied by selection).
    show_subscribed: bool,
    /// Return CHILDREN. Existing mailboxes always carry \HasChildren or
    /// \HasNoChildren (RFC 5258 §4 allows it, Dovecot does it); this adds
    /// them to names that do not exist.
    children: bool,
    /// LIST-STATUS items (RFC 5819); empty when STATUS was not asked for.
    status: Vec<StatusItem>,
}

impl Options {
    fn new(command: &ListCommand) -> Result<Options, Done> {
        let mut options = Options {
            extended: !command.selection_options.is_empty()
                || command.patterns.len() > 1
                || !command.return_options.is_empty(),
            ..Options::default()
        };
        for option in &command.selection_options {
            options.selection(option)?;
        }
        // RFC 5258 §3.1 and §6: RECURSIVEMATCH needs a base option beside it,
        // and SUBSCRIBED is the only one (REMOTE and RFC 6154's SPECIAL-USE
        // are "independent" options).
        if options.recursive && !options.subscribed_only {
            return Err(Done::bad(
                "RECURSIVEMATCH needs the SUBSCRIBED selection option",
            ));
        }
        for option in &command.return_options {
            options.return_option(option)?;
        }
        Ok(options)
    }

    /// RFC 5258 §3: an unknown option gets BAD; a repeated one counts once.
    fn selection(&mut self, option: &str) -> Result<(), Done> {
        match option {
            // §3.1: the selection option implies the return option.
            "SUBSCRIBED" => {
                self.subscribed_only = true;
                self.show_subscribed = true;
            }
            // There are no remote mailboxes to add.
            "REMOTE" => {}
            "RECURSIVEMATCH" => self.recursive = true,
            "SPECIAL-USE" => self.special_use_only = true,
            _ => {
                return Err(Done::bad(format!("Unknown LIST selection option {option}")));
            }
        }
        Ok(())
    }

    fn return_option(&mut self, option: &ListReturn) -> Result<(), Done> {
        match option {
            ListReturn::Subscribed => self.show_subscribed = true,
            ListReturn::Children => self.children = true,
            // Special-use attributes are always returned (RFC 6154 allows
            // it, and plain LIST has always sent them).
            ListReturn::SpecialUse => {}
            ListReturn::Status(items) => {
                for item in items {
                    if !self.status.contains(item) {
                        self.status.push(*item);
                    }
                }
            }
            ListReturn::Other(name) => {
                return Err(Done::bad(format!("Unknown LIST return option {name}")));
            }
        }
        Ok(())
    }
}

/// One LIST response to send.
#[derive(Debug, PartialEq, Eq)]
struct Entry<'a> {
    name: &'a str,
    attributes: Vec<&'static str>,
    /// RECURSIVEMATCH: a descendant meets the selection criteria (RFC 5258
    /// §3.5).
    childinfo: bool,
    /// LIST-STATUS: the name meets the selection criteria and is a
    /// selectable mailbox (RFC 5819 §2).
    status: bool,
}

impl Entry<'_> {
    /// RFC 5819 §2: a mailbox whose STATUS failed as unselectable is listed
    /// as `\Noselect`.
    fn mark_noselect(&mut self) {
        if !self.attributes.contains(&"\\Noselect") {
            self.attributes.insert(0, "\\Noselect");
        }
        self.status = false;
    }
}

/// The user's mailboxes and subscriptions, indexed for LIST.
struct Hierarchy<'a> {
    mailboxes: BTreeMap<&'a str, &'a MailboxInfo>,
    subscribed: HashSet<&'a str>,
    /// Names with at least one existing inferior.
    parents: HashSet<&'a str>,
}

impl<'a> Hierarchy<'a> {
    fn new(mailboxes: &'a [MailboxInfo], subscriptions: &'a [String]) -> Hierarchy<'a> {
        Hierarchy {
            mailboxes: mailboxes.iter().map(|m| (m.name.as_str(), m)).collect(),
            subscribed: subscriptions.iter().map(String::as_str).collect(),
            parents: mailboxes.iter().flat_map(|m| superiors(&m.name)).collect(),
        }
    }

    /// RFC 5258 §3: whether a name satisfies every selection option.
    fn meets(&self, options: &Options, name: &str) -> bool {
        let mailbox = self.mailboxes.get(name);
        let base = if options.subscribed_only {
            self.subscribed.contains(name)
        } else {
            mailbox.is_some()
        };
        base && (!options.special_use_only || mailbox.is_some_and(|m| m.special_use.is_some()))
    }

    /// The names to answer, in name order (at most one response per name,
    /// RFC 5258 §3.3 rule 1), with their attributes.
    fn select(&self, options: &Options, patterns: &Patterns, flavor: Flavor) -> Vec<Entry<'a>> {
        let mut names: BTreeSet<&'a str> = self.mailboxes.keys().copied().collect();
        names.extend(self.subscribed.iter().copied());
        let childinfo = if options.recursive {
            self.childinfo(options, patterns, &names)
        } else {
            BTreeMap::new()
        };
        names.extend(childinfo.keys().copied());
        names
            .into_iter()
            .filter(|name| patterns.matches(name))
            .filter_map(|name| {
                let meets = self.meets(options, name);
                let escaped = childinfo.get(name).copied();
                // §3.3 rule 2: a name failing the criteria is listed only for
                // a descendant meeting them that the patterns miss; §3.5 asks
                // to leave out the redundant ones.
                (meets || escaped == Some(true))
                    .then(|| self.entry(options, flavor, name, meets, escaped.is_some()))
            })
            .collect()
    }

    /// RECURSIVEMATCH: every superior of a name meeting the criteria, with
    /// whether one of those descendants lies outside the patterns.
    fn childinfo(
        &self,
        options: &Options,
        patterns: &Patterns,
        names: &BTreeSet<&'a str>,
    ) -> BTreeMap<&'a str, bool> {
        let mut superiors_of_selected = BTreeMap::new();
        for &name in names.iter().filter(|name| self.meets(options, name)) {
            let escapes = !patterns.matches(name);
            for superior in superiors(name) {
                *superiors_of_selected.entry(superior).or_insert(false) |= escapes;
            }
        }
        superiors_of_selected
    }

    /// Attributes in a fixed order: existence, children, special use,
    /// subscription.
    fn entry(
        &self,
        options: &Options,
        flavor: Flavor,
        name: &'a str,
        meets: bool,
        childinfo: bool,
    ) -> Entry<'a> {
        let mailbox = self.mailboxes.get(name);
        let mut attributes = Vec::new();
        match mailbox {
            // RFC 5258 §3: \NonExistent implies \Noselect, which is not repeated.
            None => attributes.push("\\NonExistent"),
            Some(m) if !m.selectable => attributes.push("\\Noselect"),
            Some(_) => {}
        }
        if mailbox.is_some() || options.children {
            attributes.push(if self.parents.contains(name) {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
        }
        if flavor == Flavor::Xlist && name == "INBOX" {
            attributes.push("\\Inbox");
        }
        if let Some(special_use) = mailbox.and_then(|m| m.special_use) {
            attributes.push(flavor.special_use(special_use));
        }
        if options.show_subscribed && self.subscribed.contains(name) {
            attributes.push("\\Subscribed");
        }
        Entry {
            name,
            attributes,
            childinfo,
            status: !options.status.is_empty() && meets && mailbox.is_some_and(|m| m.selectable),
        }
    }
}

/// `a/b/c` -> `a`, `a/b`.
fn superiors(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices(DELIMITER).map(move |(i, _)| &name[..i])
}

pub async fn list(s: &mut Session, command: ListCommand) -> CommandResult {
    run(s, command, Flavor::List).await
}

/// XLIST: a plain LIST answered in XLIST's words (see [`Flavor`]).
pub async fn xlist(s: &mut Session, xlist: LsubCommand) -> CommandResult {
    let command = ListCommand {
        selection_options: Vec::new(),
        reference: xlist.reference,
        patterns: vec![xlist.pattern],
        return_options: Vec::new(),
    };
    run(s, command, Flavor::Xlist).await
}

async fn run(s: &mut Session, command: ListCommand, flavor: Flavor) -> CommandResult {
    let options = Options::new(&command)?;
    let done = Done::ok(format!("{} completed", flavor.verb()));
    // A reference or pattern that is not valid text matches nothing.
    let Ok(reference) = wire_text(s, &command.reference) else {
        return Ok(done);
    };
    let Ok(texts) = command
        .patterns
        .iter()
        .map(|raw| wire_text(s, raw))
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(done);
    };
    if !options.extended && texts.iter().all(String::is_empty) {
        write_root(s, flavor.verb(), &reference);
        return Ok(done);
    }
    // RFC 5258 §3: an extended LIST ignores empty patterns.
    let patterns = Patterns::new(
        texts
            .iter()
            .filter(|text| !text.is_empty())
            .map(|text| pattern(&reference, text))
            .collect::<Result<_, _>>()?,
    );

    let user = user(s)?;
    let want_subscriptions = options.show_subscribed;
    let me = user.name.clone();
    let (mailboxes, subscriptions, shared) = s
        .store(Access::Read, move |store| {
            let subscriptions = if want_subscriptions {
                store.list_subscriptions(user.id)?
            } else {
                Vec::new()
            };
            Ok((
                store.list_mailboxes(user.id)?,
                subscriptions,
                store.shared_with(&me)?,
            ))
        })
        .await?;
    let visible = access::visible(shared, &user.name);
    let mailboxes = with_shared(mailboxes, &visible);
    let entries = Hierarchy::new(&mailboxes, &subscriptions).select(&options, &patterns, flavor);
    let statuses = lookup_statuses(s, user.id, &visible, &entries).await?;
    write_entries(s, flavor, entries, statuses, &options.status);
    Ok(done)
}

/// LIST-STATUS: the STATUS of every entry that wants one, in entry order.
/// Each lookup's failure is kept so its LIST line can reflect it.
async fn lookup_statuses(
    s: &mut Session,
    user: UserId,
    visible: &[Visible],
    entries: &[Entry<'_>],
) -> Result<Vec<StoreResult<MailboxStatus>>, Done> {
    // Each name in the account it lives in; another's needs the `r` right.
    let lookups: Vec<Option<(UserId, String)>> = entries
        .iter()
        .filter(|entry| entry.status)
        .map(
            |entry| match visible.iter().find(|v| v.full == entry.name) {
                Some(v) => v
                    .rights
                    .contains(Rights::READ)
                    .then(|| (v.owner, v.name.clone())),
                None => Some((user, entry.name.to_owned())),
            },
        )
        .collect();
    if lookups.is_empty() {
        return Ok(Vec::new());
    }
    let statuses = s
        .store(Access::Read, move |store| {
            Ok(lookups
                .iter()
                .map(|lookup| match lookup {
                    Some((owner, name)) => status_of(store, *owner, name, user),
                    None => Err(StoreError::Refused("no read right".into())),
                })
                .collect())
        })
        .await?;
    Ok(statuses)
}

/// The STATUS of `owner`'s mailbox `name` as `user` sees it.
fn status_of(
    store: &dyn MailStore,
    owner: UserId,
    name: &str,
    user: UserId,
) -> StoreResult<MailboxStatus> {
    let name = MailboxName::new(name).map_err(|_| StoreError::NoSuchMailbox)?;
    let viewer = (owner != user).then_some(user);
    private_seen::status(store, store.status(owner, &name)?, viewer)
}

/// The user's own mailboxes (less any under the namespace prefixes,
/// which those shadow) and the ones shared with them under their full
/// names, with the prefixes as `\Noselect` levels above them. Another
/// account's special uses are not the user's: they are left out.
fn with_shared(mut mailboxes: Vec<MailboxInfo>, visible: &[Visible]) -> Vec<MailboxInfo> {
    mailboxes.retain(|m| access::place(&m.name) == Place::Personal);
    let mut levels = BTreeSet::new();
    for v in visible {
        mailboxes.push(MailboxInfo {
            name: v.full.clone(),
            selectable: v.selectable,
            special_use: None,
        });
        levels.extend(superiors(&v.full).map(str::to_owned));
    }
    let known: HashSet<String> = mailboxes.iter().map(|m| m.name.clone()).collect();
    for level in levels.into_iter().filter(|level| !known.contains(level)) {
        mailboxes.push(MailboxInfo {
            name: level,
            selectable: false,
            special_use: None,
        });
    }
    mailboxes
}

/// Sends each LIST line, then its STATUS line when it has one (RFC 5819 §2:
/// "an untagged LIST response followed by an untagged STATUS response").
fn write_entries(
    s: &mut Session,
    flavor: Flavor,
    entries: Vec<Entry<'_>>,
    statuses: Vec<StoreResult<MailboxStatus>>,
    items: &[StatusItem],
) {
    let mut statuses = statuses.into_iter();
    for mut entry in entries {
        let status = if entry.status { statuses.next() } else { None };
        let status = match status {
            Some(Ok(status)) => Some(status),
            // Deleted or made \Noselect since the listing: say so.
            Some(Err(StoreError::NoSuchMailbox | StoreError::NotSelectable)) => {
                entry.mark_noselect();
                None
            }
            // RFC 5819 §2: on unexpected problems the STATUS may be dropped.
            Some(Err(error)) => {
                tracing::warn!(%error, mailbox = entry.name, "LIST-STATUS lookup failed");
                None
            }
            None => None,
        };
        write_entry(
            s,
            flavor.verb(),
            &entry.attributes,
            entry.name,
            entry.childinfo,
        );
        if let Some(status) = status {
            s.send(status_response(entry.name, &status, items));
        }
    }
}

pub async fn lsub(s: &mut Session, command: LsubCommand) -> CommandResult {
    let done = Done::ok("LSUB completed");
    // A reference or pattern that is not valid text matches nothing.
    let (Ok(reference), Ok(pattern_text)) = (
        wire_text(s, &command.reference),
        wire_text(s, &command.pattern),
    ) else {
        return Ok(done);
    };
    if pattern_text.is_empty() {
        write_root(s, "LSUB", &reference);
        return Ok(done);
    }
    let pattern = pattern(&reference, &pattern_text)?;
    let user = user(s)?;
    let subscriptions = s
        .store(Access::Read, move |store| store.list_subscriptions(user.id))
        .await?;
    let subscribed: HashSet<&str> = subscriptions.iter().map(String::as_str).collect();
    // RFC 3501 §6.3.9: with `%`, an unsubscribed level above a subscribed
    // name that the pattern does not reach is listed as \Noselect.
    let mut implied = BTreeSet::new();
    for name in &subscriptions {
        if pattern.matches(name) {
            write_entry(s, "LSUB", &[], name, false);
            continue;
        }
        for superior in superiors(name) {
            if !subscribed.contains(superior) && pattern.matches(superior) {
                implied.insert(superior);
            }
        }
    }
    for superior in implied {
        write_entry(s, "LSUB", &["\\Noselect"], superior, false);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: &str) -> MailboxInfo {
        MailboxInfo {
            name: name.into(),
            selectable: true,
            special_use: None,
        }
    }

    fn options(selection: &[&str], return_options: Vec<ListReturn>) -> Result<Options, Done> {
        Options::new(&ListCommand {
            selection_options: selection.iter().map(|o| o.to_string()).collect(),
            reference: Vec::new(),
            patterns: vec![b"*".to_vec()],
            return_options,
        })
    }

    /// (name, attributes, childinfo) for compact comparisons.
    fn run_select(
        mailboxes: &[MailboxInfo],
        subscriptions: &[&str],
        options: &Options,
        pattern_text: &str,
    ) -> Vec<(String, String, bool)> {
        let subscriptions: Vec<String> = subscriptions.iter().map(|s| s.to_string()).collect();
        let patterns = Patterns::new(vec![Pattern::new("", pattern_text).unwrap()]);
        Hierarchy::new(mailboxes, &subscriptions)
            .select(options, &patterns, Flavor::List)
            .into_iter()
            .map(|e| (e.name.to_owned(), e.attributes.join(" "), e.childinfo))
            .collect()
    }

    fn row(name: &str, attributes: &str, childinfo: bool) -> (String, String, bool) {
        (name.into(), attributes.into(), childinfo)
    }

    /// RFC 5258 §5 example 9, whose hierarchy has `qux2/bar2` without
    /// `qux2` (the store never builds that, so it is tested here).
    #[test]
    fn rfc5258_example_9_recursivematch() {
        let names = [
            "INBOX",
            "foo2",
            "foo2/bar1",
            "foo2/bar2",
            "baz2",
            "baz2/bar2",
            "baz2/bar22",
            "baz2/bar222",
            "eps2",
            "eps2/mamba",
            "qux2/bar2",
        ];
        let mailboxes: Vec<MailboxInfo> = names.iter().map(|n| mailbox(n)).collect();
        let subscribed = [
            "foo2/bar1",
            "foo2/bar2",
            "baz2/bar2",
            "baz2/bar22",
            "baz2/bar222",
            "eps2",
            "eps2/mamba",
            "qux2/bar2",
        ];
        let options = options(&["RECURSIVEMATCH", "SUBSCRIBED"], vec![]).unwrap();
        let listed = run_select(&mailboxes, &subscribed, &options, "*2");
        let sub = "\\HasNoChildren \\Subscribed";
        assert_eq!(
            listed,
            [
                row("baz2/bar2", sub, false),
                row("baz2/bar22", sub, false),
                row("baz2/bar222", sub, false),
                row("eps2", "\\HasChildren \\Subscribed", true),
                row("foo2", "\\HasChildren", true),
                row("foo2/bar2", sub, false),
                row("qux2/bar2", sub, false),
            ]
        );
    }

    #[test]
    fn recursivematch_needs_subscribed_and_unknown_options_are_bad() {
        for selection in [
            &["RECURSIVEMATCH"][..],
            &["REMOTE", "RECURSIVEMATCH"],
            &["SPECIAL-USE", "RECURSIVEMATCH"],
            &["BOGUS"],
        ] {
            assert!(options(selection, vec![]).is_err(), "{selection:?}");
        }
        assert!(options(&[], vec![ListReturn::Other("X-Y".into())]).is_err());
        let merged = options(
            &["SUBSCRIBED", "SUBSCRIBED"],
            vec![
                ListReturn::Status(vec![StatusItem::Messages]),
                ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen]),
            ],
        )
        .unwrap();
        assert!(merged.extended && merged.subscribed_only && merged.show_subscribed);
        assert_eq!(merged.status, [StatusItem::Messages, StatusItem::Unseen]);
    }

    #[test]
    fn xlist_spells_gmail_names() {
        assert_eq!(Flavor::Xlist.special_use(SpecialUse::All), "\\AllMail");
        assert_eq!(Flavor::Xlist.special_use(SpecialUse::Junk), "\\Spam");
        assert_eq!(Flavor::Xlist.special_use(SpecialUse::Flagged), "\\Starred");
        assert_eq!(Flavor::Xlist.special_use(SpecialUse::Sent), "\\Sent");
        assert_eq!(Flavor::List.special_use(SpecialUse::Junk), "\\Junk");
    }
}
