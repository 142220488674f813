//! Schema and migrations, versioned by SQLite's `user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema from version `index` to
//! `index + 1`; they run in one transaction at open time.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: users, mailboxes, messages with shared bodies, search text,
    // expunge tombstones, subscriptions.
    r#"
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        -- Quota overrides (NULL: the configured default; 0: unlimited).
        quota_bytes INTEGER,
        quota_messages INTEGER,
        -- Usage, kept by the triggers below so quota checks are O(1).
        used_bytes INTEGER NOT NULL DEFAULT 0,
        used_messages INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uidnext INTEGER NOT NULL DEFAULT 1,
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        selectable INTEGER NOT NULL DEFAULT 1,
        special_use TEXT,
        UNIQUE (user_id, name)
    ) STRICT;
    -- Per-device passwords (argon2id), usable instead of the main one.
    CREATE TABLE app_passwords (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used INTEGER,
        UNIQUE (user_id, label)
    ) STRICT;
    -- What `letterbox import` already stored, so a re-run skips it:
    -- SHA-256 of the message octets, per user and mailbox.
    CREATE TABLE imports (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        mailbox TEXT NOT NULL,
        digest TEXT NOT NULL,
        PRIMARY KEY (user_id, mailbox, digest)
    ) STRICT;
    CREATE TABLE subscriptions (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (user_id, name)
    ) STRICT;
    -- Raw message octets, shared between copies of a message, with what
    -- FETCH and SEARCH need from parsing them (computed once at APPEND).
    CREATE TABLE bodies (
        id INTEGER PRIMARY KEY,
        raw BLOB NOT NULL,
        meta BLOB NOT NULL,
        sent_date INTEGER
    ) STRICT;
    -- Decoded header and body text; rowid = bodies.id. The trigram
    -- tokenizer gives case-insensitive substring matching, as SEARCH wants.
    CREATE VIRTUAL TABLE search_text USING fts5(headers, body, tokenize = 'trigram');
    CREATE TRIGGER bodies_search_delete AFTER DELETE ON bodies BEGIN
        DELETE FROM search_text WHERE rowid = old.id;
    END;
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        internal_date INTEGER NOT NULL,
        internal_tz INTEGER NOT NULL,
        -- When the message entered this mailbox (retention counts from it).
        added_at INTEGER NOT NULL DEFAULT (unixepoch()),
        size INTEGER NOT NULL,
        flags INTEGER NOT NULL DEFAULT 0,
        keywords TEXT NOT NULL DEFAULT '',
        recent INTEGER NOT NULL DEFAULT 1,
        body_id INTEGER NOT NULL REFERENCES bodies(id),
        UNIQUE (mailbox_id, uid)
    ) STRICT;
    CREATE INDEX messages_body ON messages (body_id);
    CREATE TRIGGER messages_usage_insert AFTER INSERT ON messages BEGIN
        UPDATE users SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1
         WHERE id = (SELECT user_id FROM mailboxes WHERE id = NEW.mailbox_id);
    END;
    CREATE TRIGGER messages_usage_delete AFTER DELETE ON messages BEGIN
        UPDATE users SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1
         WHERE id = (SELECT user_id FROM mailboxes WHERE id = OLD.mailbox_id);
    END;
    CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
    CREATE INDEX messages_added ON messages (mailbox_id, added_at);
    -- Tombstones: which UIDs left a mailbox at which MODSEQ, so sessions
    -- (and later QRESYNC) can catch up on expunges.
    CREATE TABLE expunged (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        modseq INTEGER NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
    ) STRICT;
    CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);
    "#,
    // 2: nothing small after a message's octets. SQLite keeps a large blob
    // on a chain of overflow pages and must walk all of it to reach a
    // column stored after it, so reading `meta` (ENVELOPE, BODYSTRUCTURE)
    // or `sent_date` (every SEARCH) cost a read of the whole message.
    // `meta` moves to its own table, `sent_date` to the message rows.
    r#"
    CREATE TABLE body_meta (
        id INTEGER PRIMARY KEY, -- bodies.id
        meta BLOB NOT NULL
    ) STRICT;
    INSERT INTO body_meta (id, meta) SELECT id, meta FROM bodies;
    CREATE TRIGGER bodies_meta_delete AFTER DELETE ON bodies BEGIN
        DELETE FROM body_meta WHERE id = old.id;
    END;
    ALTER TABLE messages ADD COLUMN sent_date INTEGER;
    UPDATE messages SET sent_date = (SELECT sent_date FROM bodies WHERE bodies.id = messages.body_id);
    ALTER TABLE bodies DROP COLUMN meta;
    ALTER TABLE bodies DROP COLUMN sent_date;
    "#,
    // 3: search text waits here until enough has gathered (or it has
    // waited a second), then goes into the FTS index in one insert
    // (indexer.rs), so the index writes one segment per batch instead of
    // one per message.
    r#"
    CREATE TABLE search_pending (
        id INTEGER PRIMARY KEY, -- bodies.id
        headers TEXT NOT NULL,
        body TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER bodies_pending_delete AFTER DELETE ON bodies BEGIN
        DELETE FROM search_pending WHERE id = old.id;
    END;
    "#,
    // 4: FTS5 merges a level's segments once there are `automerge` of them
    // (default 4). Merging was two thirds of the indexing cost (perf, 10
    // clients appending); merging 16 at a time rewrites the index about
    // half as often, for more segments per query: 10 APPEND clients went
    // from 1,350-1,560 to 1,730-1,980 messages/s.
    r#"
    INSERT INTO search_text (search_text, rank) VALUES ('automerge', 16);
    "#,
    // 5: but a level with `crisismerge` segments (default 16) is merged
    // whole, at once, in whichever write flushed the segment that tipped
    // it; with automerge at 16 as well, every merge was one of those, and
    // on a 2 GB index one took 15-30 s while every writer waited (soak).
    // Above automerge, the incremental merges (a share of each flush) keep
    // levels below it. bench/fts_merge.py, 38,400 messages to a 1.3-1.7 GB
    // index: 16/16 longest write 16.5 s; 16/64 1.8 s, 12% less time in
    // all and a smaller index; the default 4/16 1.9 s, but 15% more time
    // in all than 16/64.
    r#"
    INSERT INTO search_text (search_text, rank) VALUES ('crisismerge', 64);
    "#,
    // 6: ids are never given out twice. A rowid is max(id) + 1, so deleting
    // the newest user or mailbox freed its id for the next one, and a
    // session still holding it (logged in as the deleted user, or with the
    // deleted mailbox selected) reached the newcomer's mail (found by the
    // store conformance suite). The highest id ever used is kept in meta;
    // new rows take the next one (users.rs, mailboxes.rs).
    r#"
    INSERT INTO meta (key, value) SELECT 'last_user_id', coalesce(max(id), 0) FROM users;
    INSERT INTO meta (key, value) SELECT 'last_mailbox_id', coalesce(max(id), 0) FROM mailboxes;
    CREATE TRIGGER users_last_id AFTER INSERT ON users BEGIN
        UPDATE meta SET value = NEW.id WHERE key = 'last_user_id' AND value < NEW.id;
    END;
    CREATE TRIGGER mailboxes_last_id AFTER INSERT ON mailboxes BEGIN
        UPDATE meta SET value = NEW.id WHERE key = 'last_mailbox_id' AND value < NEW.id;
    END;
    "#,
    // 7: quota usage counted afresh. Deleting a mailbox used to drop its
    // messages after its row, when the usage trigger could no longer find
    // the owner, so their size stayed counted (fixed in mailboxes.rs in the
    // same release as migration 6); databases that went through that keep
    // an inflated usage until it is recounted.
    r#"
    UPDATE users SET
        used_bytes = coalesce((SELECT sum(m.size) FROM messages m
                                 JOIN mailboxes b ON b.id = m.mailbox_id
                                WHERE b.user_id = users.id), 0),
        used_messages = (SELECT count(*) FROM messages m
                           JOIN mailboxes b ON b.id = m.mailbox_id
                          WHERE b.user_id = users.id);
    "#,
    // 8: what SORT and THREAD read, per body (store/sort.rs), so that they
    // never parse message octets. Bodies stored before have no row here
    // until the first SORT that meets them extracts and keeps their fields.
    r#"
    CREATE TABLE sort_fields (
        id INTEGER PRIMARY KEY, -- bodies.id
        base_subject TEXT NOT NULL,
        subject_is_reply INTEGER NOT NULL,
        sent_at INTEGER,
        from_mailbox TEXT NOT NULL,
        to_mailbox TEXT NOT NULL,
        cc_mailbox TEXT NOT NULL,
        display_from TEXT NOT NULL,
        display_to TEXT NOT NULL,
        message_id TEXT,
        refs TEXT NOT NULL -- msg-ids separated by spaces
    ) STRICT;
    CREATE TRIGGER bodies_sort_delete AFTER DELETE ON bodies BEGIN
        DELETE FROM sort_fields WHERE id = old.id;
    END;
    "#,
    // 9: base subjects kept upper-cased, so SORT (SUBJECT) compares them
    // as stored. SQLite's upper() folds ASCII letters only: exactly
    // i;ascii-casemap.
    r#"
    UPDATE sort_fields SET base_subject = upper(base_subject);
    "#,
    // 10: the lowest usage since the quota warnings last looked (they warn
    // when usage crosses a threshold upward, also after a cleanup went
    // below it in between); starting at today's usage, so an upgrade warns
    // nobody for what they already knew.
    r#"
    ALTER TABLE users ADD COLUMN lowest_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN lowest_messages INTEGER NOT NULL DEFAULT 0;
    UPDATE users SET lowest_bytes = used_bytes, lowest_messages = used_messages;
    DROP TRIGGER messages_usage_delete;
    CREATE TRIGGER messages_usage_delete AFTER DELETE ON messages BEGIN
        UPDATE users SET used_bytes = used_bytes - OLD.size,
                         used_messages = used_messages - 1,
                         lowest_bytes = min(lowest_bytes, used_bytes - OLD.size),
                         lowest_messages = min(lowest_messages, used_messages - 1)
         WHERE id = (SELECT user_id FROM mailboxes WHERE id = OLD.mailbox_id);
    END;
    "#,
    // 11: team accounts (mailboxes that belong to no person) and access
    // control lists (RFC 4314). An identifier is a user name, `anyone` or
    // `authenticated`, with a leading `-` for negative rights; a deleted
    // user's entries go with them.
    r#"
    ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';
    CREATE TABLE acl (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        identifier TEXT NOT NULL,
        rights TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, identifier)
    ) STRICT;
    CREATE INDEX acl_by_identifier ON acl (identifier);
    CREATE TRIGGER users_acl_delete AFTER DELETE ON users BEGIN
        DELETE FROM acl WHERE identifier IN (OLD.name, '-' || OLD.name);
    END;
    "#,
    // 12: per-user \Seen for team accounts with `private_seen`: who has
    // seen which message, beside the shared flags. Rows go with their
    // message, mailbox and user.
    r#"
    ALTER TABLE users ADD COLUMN private_seen INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE seen_by (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (mailbox_id, uid, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX seen_by_user ON seen_by (user_id);
    CREATE TRIGGER messages_seen_by_delete AFTER DELETE ON messages BEGIN
        DELETE FROM seen_by WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid;
    END;
    "#,
    // 13: Sieve scripts, at most one active per user.
    r#"
    CREATE TABLE sieve_scripts (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        script TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, name)
    ) STRICT;
    CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (user_id) WHERE active;
    "#,
    // 14: the vacation replies sent, one per sender and handle per period
    // (RFC 5230 §4.2), until when each holds.
    r#"
    CREATE TABLE vacation_replies (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sender TEXT NOT NULL,
        handle TEXT NOT NULL,
        until INTEGER NOT NULL,
        PRIMARY KEY (user_id, sender, handle)
    ) STRICT, WITHOUT ROWID;
    "#,
];

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let fts_setting = |key: &str| -> i64 {
            conn.query_row(
                "SELECT v FROM search_text_config WHERE k = ?1",
                [key],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(fts_setting("automerge"), 16);
        assert_eq!(fts_setting("crisismerge"), 64);
    }

    /// A version-6 database whose usage counts mail of deleted mailboxes
    /// gets the usage of the mail it holds.
    #[test]
    fn version_7_recounts_quota_usage() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&MIGRATIONS[..6].concat()).unwrap();
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'u', 'h', 0);
             INSERT INTO users (id, name, password_hash, created_at) VALUES (2, 'v', 'h', 0);
             INSERT INTO mailboxes (id, user_id, name, uidvalidity) VALUES (1, 1, 'INBOX', 1);
             INSERT INTO mailboxes (id, user_id, name, uidvalidity) VALUES (2, 1, 'Old', 1);
             INSERT INTO bodies (id, raw) VALUES (7, x'41');
             INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size, body_id)
                  VALUES (1, 1, 1, 0, 0, 100, 7), (2, 1, 1, 0, 0, 5000, 7);
             DELETE FROM mailboxes WHERE id = 2;
             DELETE FROM messages WHERE mailbox_id = 2;
             UPDATE users SET used_bytes = 777, used_messages = 3 WHERE id = 2;",
        )
        .unwrap();
        let usage = |conn: &Connection| -> Vec<(i64, i64)> {
            let mut statement = conn
                .prepare("SELECT used_bytes, used_messages FROM users ORDER BY id")
                .unwrap();
            statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            usage(&conn),
            [(5100, 2), (777, 3)],
            "the old bug, reproduced"
        );
        migrate(&mut conn).unwrap();
        assert_eq!(usage(&conn), [(100, 1), (0, 0)]);
    }

    /// Version 9 folds ASCII letters of the stored base subjects, and no
    /// other character.
    #[test]
    fn version_9_folds_base_subjects_as_ascii_casemap() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&MIGRATIONS[..8].concat()).unwrap();
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute(
            "INSERT INTO sort_fields (id, base_subject, subject_is_reply, from_mailbox, to_mailbox,
                                      cc_mailbox, display_from, display_to, refs)
             VALUES (1, 'Grüße aus café zürich', 0, '', '', '', '', '', '')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let folded: String = conn
            .query_row("SELECT base_subject FROM sort_fields", [], |r| r.get(0))
            .unwrap();
        assert_eq!(folded, "GRüßE AUS CAFé ZüRICH");
    }

    /// Version 10 starts the lowest usage at today's, so an upgrade warns
    /// nobody about what they had already.
    #[test]
    fn version_10_starts_the_lowest_usage_at_the_usage() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&MIGRATIONS[..9].concat()).unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        conn.execute(
            "INSERT INTO users (id, name, password_hash, created_at, used_bytes, used_messages)
             VALUES (1, 'u', 'h', 0, 5000, 7)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let lowest: (i64, i64) = conn
            .query_row("SELECT lowest_bytes, lowest_messages FROM users", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(lowest, (5000, 7));
    }

    /// A version-1 database keeps its ENVELOPE data and sent dates.
    #[test]
    fn version_2_moves_meta_and_sent_date_off_the_body_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'u', 'h', 0);
             INSERT INTO mailboxes (id, user_id, name, uidvalidity) VALUES (1, 1, 'INBOX', 1);
             INSERT INTO bodies (id, raw, meta, sent_date) VALUES (7, x'41', x'4d', 20000);
             INSERT INTO messages (mailbox_id, uid, modseq, internal_date, internal_tz, size, body_id)
                  VALUES (1, 1, 1, 0, 0, 1, 7);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let meta: Vec<u8> = conn
            .query_row("SELECT meta FROM body_meta WHERE id = 7", [], |r| r.get(0))
            .unwrap();
        let sent: i64 = conn
            .query_row("SELECT sent_date FROM messages WHERE uid = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let raw: Vec<u8> = conn
            .query_row("SELECT raw FROM bodies WHERE id = 7", [], |r| r.get(0))
            .unwrap();
        assert_eq!((meta, sent, raw), (b"M".to_vec(), 20000, b"A".to_vec()));
        conn.execute("DELETE FROM messages", []).unwrap();
        conn.execute("DELETE FROM bodies", []).unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM body_meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "meta goes with its body");
    }
}
