//! The [`MailStore`] conformance suite: checks of the trait's contract that
//! go through the trait alone, so that every backend runs the same ones.
//!
//! A backend joins with one line, `conformance_suite!(name, constructor)`,
//! which expands to one `#[test]` per check, named `name::area::check`.
//! A check is a plain function of the store (`&dyn MailStore`) or, when it
//! needs a second instance over the same data or the backend's deferred
//! work finished, of the whole [`Backend`].

pub mod acl;
pub mod concurrency;
pub mod flags;
pub mod mailboxes;
pub mod memory;
pub mod messages;
pub mod modseq;
pub mod quota;
pub mod search;
pub mod select;
pub mod sieve;
pub mod sort;
pub mod uids;
pub mod users;
pub mod watch;

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use letterbox::store::{
    FetchRequest, FetchedMessage, FlagChange, Flags, MailStore, MailboxId, MailboxName,
    MailboxStatus, NewMessage, StoreError, StoreOutcome, SystemFlags, UserId,
};

/// One backend's store under test, with what keeps its data alive.
pub struct Backend {
    store: Arc<dyn MailStore>,
    open_again: Box<dyn Fn() -> Arc<dyn MailStore>>,
    settle: Box<dyn Fn()>,
    // Declared last, so dropped after everything that uses the data.
    _data: Box<dyn Any>,
}

impl Backend {
    /// `open_again` opens another instance over the same data, as a
    /// restarted server or a second process (`letterbox deliver`) would;
    /// `settle` finishes the work the store leaves to the background (the
    /// SQLite search indexer), so that checks can see both states; `data`
    /// is whatever must live as long as the stores (a temp dir).
    pub fn new(
        store: Arc<dyn MailStore>,
        open_again: impl Fn() -> Arc<dyn MailStore> + 'static,
        settle: impl Fn() + 'static,
        data: impl Any,
    ) -> Backend {
        Backend {
            store,
            open_again: Box::new(open_again),
            settle: Box::new(settle),
            _data: Box::new(data),
        }
    }

    pub fn store(&self) -> &dyn MailStore {
        self.store.as_ref()
    }

    pub fn open_again(&self) -> Arc<dyn MailStore> {
        (self.open_again)()
    }

    pub fn settle(&self) {
        (self.settle)()
    }
}

/// What the suite can run: a check of the store or of the whole backend.
pub trait Check {
    fn run(self, backend: &Backend);
}

impl Check for fn(&dyn MailStore) {
    fn run(self, backend: &Backend) {
        self(backend.store())
    }
}

impl Check for fn(&Backend) {
    fn run(self, backend: &Backend) {
        self(backend)
    }
}

/// `conformance_suite!(name, constructor)`: a module `name` with one test
/// per check, each on a fresh backend from `constructor()`, which returns
/// `None` when the backend is not available here (the test then says it
/// was skipped).
macro_rules! conformance_suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            fn open() -> Option<$crate::conformance::Backend> {
                ($open)()
            }

            $crate::conformance::checks! {
                users {
                    new_users_get_the_default_mailboxes_subscribed,
                    a_taken_user_name_is_refused,
                    find_user_knows_only_existing_users,
                    set_password_hash_replaces_the_hash,
                    deleting_a_user_removes_them_and_their_mail,
                    a_deleted_users_id_is_never_given_to_another_user,
                    list_users_reports_mailboxes_usage_and_limits,
                    app_passwords_are_listed_with_their_creation_time,
                    app_password_labels_are_unique_per_user,
                    touching_an_app_password_records_its_use,
                    revoked_app_passwords_are_gone,
                }
                mailboxes {
                    create_makes_missing_superiors,
                    create_refuses_existing_names_and_inbox_in_any_case,
                    names_other_than_inbox_are_case_sensitive,
                    special_use_is_kept_and_reported,
                    deleting_a_leaf_removes_it_but_not_its_subscription,
                    inbox_cannot_be_deleted,
                    deleting_a_mailbox_with_inferiors_leaves_a_noselect_placeholder,
                    a_placeholder_without_inferiors_can_be_deleted,
                    creating_over_a_placeholder_makes_a_new_empty_mailbox,
                    a_deleted_mailbox_stays_gone_for_sessions_that_selected_it,
                    rename_moves_the_mailbox_with_its_inferiors,
                    rename_refuses_missing_source_taken_target_and_own_inferior,
                    renaming_inbox_moves_its_messages_and_leaves_it_empty,
                    subscriptions_need_not_name_existing_mailboxes,
                    status_counts_messages_flags_and_sizes,
                    status_and_select_of_missing_or_placeholder_mailboxes_fail,
                }
                select {
                    select_lists_the_messages_in_uid_order,
                    select_lists_the_keywords_in_use,
                    only_the_first_claiming_session_sees_recent,
                }
                uids {
                    uids_ascend_and_uidnext_stays_above_them,
                    expunged_uids_are_never_reused,
                    uidvalidity_stays_while_the_mailbox_lives,
                    uidvalidity_grows_when_a_name_is_reused,
                    uid_state_survives_reopening,
                }
                modseq {
                    every_change_raises_highest_modseq,
                    changed_messages_share_the_new_modseq,
                    changes_since_reports_exactly_the_later_changes,
                    vanished_since_lists_tombstones_after_a_modseq,
                }
                flags {
                    system_flags_are_added_removed_and_replaced,
                    keywords_match_case_insensitively,
                    unchanged_since_leaves_messages_modified_later,
                    store_flags_skips_uids_that_do_not_exist,
                }
                messages {
                    fetch_returns_what_was_appended,
                    fetch_skips_missing_uids,
                    copy_keeps_flags_and_dates_under_new_uids,
                    copy_and_move_keep_only_the_flags_allowed,
                    copy_to_missing_or_placeholder_mailboxes_fails,
                    move_removes_the_sources_with_tombstones,
                    move_into_the_same_mailbox_renumbers,
                    expunge_removes_only_deleted_messages,
                    uid_expunge_removes_only_the_given_deleted_messages,
                    expunge_without_deleted_messages_changes_nothing,
                    mark_seen_and_remove_updates_in_one_step,
                    import_stores_each_digest_once_per_mailbox,
                    import_ignores_the_quota,
                    imported_digests_are_listed_by_prefix,
                    purge_removes_what_entered_mailboxes_of_a_special_use_before_the_cutoff,
                }
                quota {
                    usage_follows_appends_copies_moves_and_expunges,
                    deleting_a_mailbox_frees_its_usage,
                    default_limits_apply_until_overridden,
                    appends_are_refused_beyond_any_limit,
                    a_copy_beyond_the_limit_is_refused_whole,
                    moving_within_the_account_needs_no_room,
                    a_look_at_quota_reports_the_lowest_usage_since_the_last,
                }
                search {
                    text_matches_substrings_not_words,
                    text_matching_ignores_case_in_any_script,
                    text_is_matched_after_decoding_charsets,
                    needles_are_literal_text,
                    header_criteria_match_one_field,
                    flag_and_keyword_criteria,
                    dates_are_compared_in_their_own_time_zone,
                    size_criteria_are_strict,
                    uid_modseq_and_boolean_criteria,
                    search_sees_only_the_searched_mailbox,
                }
                sort {
                    sort_rows_report_the_stored_fields_in_uid_order,
                    kept_sort_fields_never_replace_stored_ones,
                }
                acl {
                    acl_entries_are_set_replaced_and_removed,
                    new_children_inherit_their_parents_entries,
                    shared_with_finds_what_names_the_user_anyone_or_authenticated,
                    a_deleted_users_entries_go_with_them,
                    teams_have_an_inbox_and_share_the_user_namespace,
                    private_seen_is_kept_per_user,
                }
                sieve {
                    sieve_scripts_are_kept_with_one_active,
                    vacation_replies_are_remembered_per_period,
                }
                concurrency {
                    concurrent_appends_get_distinct_ascending_uids,
                    concurrent_flag_changes_are_all_kept,
                }
                watch {
                    watchers_see_the_modseq_of_an_append,
                    watchers_wake_for_every_kind_of_change,
                    watchers_of_other_mailboxes_sleep,
                    deleting_a_watched_mailbox_wakes_its_watchers,
                    renaming_inbox_wakes_its_watchers,
                    purging_wakes_watchers_of_the_purged_mailbox,
                    watchers_hear_of_changes_made_by_another_instance,
                }
                memory {
                    memory_figure_when_known_is_not_zero,
                }
            }
        }
    };
}

/// One module per area, one `#[test]` per check (attributes such as
/// `#[ignore]` carried over).
macro_rules! checks {
    ($( $area:ident { $( $(#[$attr:meta])* $check:ident ),* $(,)? } )*) => {
        $(
            mod $area {
                $(
                    #[test]
                    $(#[$attr])*
                    fn $check() {
                        let Some(backend) = super::open() else {
                            eprintln!("skipped: backend not available");
                            return;
                        };
                        $crate::conformance::Check::run(
                            $crate::conformance::$area::$check as fn(&_),
                            &backend,
                        );
                    }
                )*
            }
        )*
    };
}

pub(crate) use {checks, conformance_suite};

/// The password hash checks store; the store never interprets it.
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

pub fn name(text: &str) -> MailboxName {
    MailboxName::new(text).unwrap()
}

pub fn flags(system: u8, keywords: &[&str]) -> Flags {
    Flags {
        system: SystemFlags(system),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
    }
}

/// A message as APPEND makes it, received now without flags.
pub fn message(raw: &str) -> NewMessage {
    message_with(raw, Flags::default(), Utc::now().fixed_offset())
}

pub fn message_with(raw: &str, flags: Flags, internal_date: DateTime<FixedOffset>) -> NewMessage {
    letterbox::mail::new_message(raw.as_bytes(), flags, internal_date)
}

/// RFC 3339 `text` with its own offset.
pub fn date(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap()
}

/// A short message numbered `n`, CRLF throughout.
pub fn numbered(n: usize) -> String {
    format!("From: a@example.org\r\nSubject: message {n}\r\n\r\nbody {n}\r\n")
}

/// Names in `account` that cannot take messages, with the error each
/// gives: one that does not exist, and a `\Noselect` placeholder (a
/// deleted mailbox kept for its inferiors).
pub fn unusable_mailboxes(account: &Account) -> [(MailboxName, StoreError); 2] {
    account.create_mailbox("Gone/Child");
    account.delete_mailbox("Gone");
    [
        (name("Nope"), StoreError::NoSuchMailbox),
        (name("Gone"), StoreError::NotSelectable),
    ]
}

/// What moving or copying a message must keep: everything but UID and
/// MODSEQ, the zone of INTERNALDATE included (its `==` compares instants).
pub type Content = (
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Flags,
    DateTime<FixedOffset>,
    i32,
    u32,
);

pub fn content(message: &FetchedMessage) -> Content {
    (
        message.raw.clone(),
        message.index.clone(),
        message.flags.clone(),
        message.internal_date,
        message.internal_date.offset().local_minus_utc(),
        message.size,
    )
}

pub fn contents(messages: &[FetchedMessage]) -> Vec<Content> {
    messages.iter().map(content).collect()
}

pub fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// A user of the store under test, with shorthands for the calls checks
/// make over and over. Every shorthand panics on a store error: a check
/// that expects an error calls the store itself.
pub struct Account<'s> {
    pub store: &'s dyn MailStore,
    pub id: UserId,
    pub name: String,
}

impl<'s> Account<'s> {
    /// Creates the user `name`.
    pub fn create(store: &'s dyn MailStore, name: &str) -> Account<'s> {
        let id = store.create_user(name, HASH).unwrap();
        Account {
            store,
            id,
            name: name.to_owned(),
        }
    }

    pub fn create_mailbox(&self, mailbox: &str) {
        self.store
            .create_mailbox(self.id, &name(mailbox), None)
            .unwrap();
    }

    pub fn delete_mailbox(&self, mailbox: &str) {
        self.store.delete_mailbox(self.id, &name(mailbox)).unwrap();
    }

    /// Appends `raw` (received now, no flags); returns its UID.
    pub fn append(&self, mailbox: &str, raw: &str) -> u32 {
        self.append_message(mailbox, message(raw))
    }

    pub fn append_message(&self, mailbox: &str, message: NewMessage) -> u32 {
        self.store
            .append(self.id, &name(mailbox), message)
            .unwrap()
            .uid
    }

    /// Appends messages `numbered(1..=count)`; returns their UIDs.
    pub fn append_numbered(&self, mailbox: &str, count: usize) -> Vec<u32> {
        (1..=count)
            .map(|n| self.append(mailbox, &numbered(n)))
            .collect()
    }

    /// The mailbox's id, as a session selecting it read-only learns it.
    pub fn id_of(&self, mailbox: &str) -> MailboxId {
        self.store
            .select(self.id, &name(mailbox), false)
            .unwrap()
            .id
    }

    pub fn status(&self, mailbox: &str) -> MailboxStatus {
        self.store.status(self.id, &name(mailbox)).unwrap()
    }

    pub fn highest_modseq(&self, mailbox: &str) -> u64 {
        self.status(mailbox).highest_modseq
    }

    /// The mailbox's UIDs, ascending.
    pub fn uids(&self, mailbox: &str) -> Vec<u32> {
        let selected = self.store.select(self.id, &name(mailbox), false).unwrap();
        selected.messages.iter().map(|m| m.uid).collect()
    }

    /// (name, selectable) of every mailbox, sorted by name.
    pub fn mailboxes(&self) -> Vec<(String, bool)> {
        let listed = self.store.list_mailboxes(self.id).unwrap();
        sorted(listed.into_iter().map(|m| (m.name, m.selectable)).collect())
    }

    pub fn subscriptions(&self) -> Vec<String> {
        sorted(self.store.list_subscriptions(self.id).unwrap())
    }

    pub fn store_flags(
        &self,
        mailbox: &str,
        uids: &[u32],
        change: FlagChange,
        flags: &Flags,
    ) -> StoreOutcome {
        self.store
            .store_flags(self.id_of(mailbox), uids, change, flags, None)
            .unwrap()
    }

    /// Sets `\Deleted` on `uids` and expunges them.
    pub fn expunge(&self, mailbox: &str, uids: &[u32]) {
        let deleted = flags(SystemFlags::DELETED, &[]);
        self.store_flags(mailbox, uids, FlagChange::Add, &deleted);
        let expunged = self.store.expunge(self.id_of(mailbox), Some(uids)).unwrap();
        assert_eq!(expunged.uids, uids);
    }

    /// Whole messages, octets and index included.
    pub fn fetch(&self, mailbox: &str, uids: &[u32]) -> Vec<FetchedMessage> {
        let everything = FetchRequest {
            index: true,
            raw: true,
        };
        self.store
            .fetch(self.id_of(mailbox), uids, everything)
            .unwrap()
    }

    pub fn fetch_one(&self, mailbox: &str, uid: u32) -> FetchedMessage {
        let mut found = self.fetch(mailbox, &[uid]);
        assert_eq!(found.len(), 1, "UID {uid} in {mailbox}");
        found.remove(0)
    }

    /// (messages, bytes) used.
    pub fn usage(&self) -> (u64, u64) {
        let quota = self.store.quota(self.id).unwrap();
        (quota.used_messages, quota.used_bytes)
    }
}
