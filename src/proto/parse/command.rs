//! Top level: `command = tag SP (command-any / command-auth /
//! command-nonauth / command-select) CRLF` (RFC 3501 §9 and extensions).

use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::combinator::map;
use nom::sequence::preceded;

use crate::proto::command::{Command, CommandBody};
use crate::proto::parse::acl;
use crate::proto::parse::any::{enable_args, id_args};
use crate::proto::parse::append::append_args;
use crate::proto::parse::auth::{authenticate_args, login_args};
use crate::proto::parse::copy::copy_args;
use crate::proto::parse::core::{atom_upper, crlf, eof, sp};
use crate::proto::parse::error::{PResult, ParseError, expect, failure};
use crate::proto::parse::fetch::fetch_args;
use crate::proto::parse::list::{list_args, lsub_args};
use crate::proto::parse::mailbox::{create_args, one_mailbox, rename_args, status_args};
use crate::proto::parse::quota::{getquota_args, setquota_args};
use crate::proto::parse::search::search_args;
use crate::proto::parse::select::select_args;
use crate::proto::parse::sequence::message_set;
use crate::proto::parse::sort::sort_args;
use crate::proto::parse::store::store_args;
use crate::proto::parse::thread::thread_args;
use crate::proto::types::{Tag, is_tag_char};

/// Parses one complete framed command: its line(s) including the final CRLF,
/// with every literal's octets inline.
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    let tag_len = input.iter().take_while(|&&b| is_tag_char(b)).count();
    let tag = match (Tag::from_bytes(&input[..tag_len]), input.get(tag_len)) {
        (Some(tag), Some(b' ')) => tag,
        (Some(_), Some(b'\r' | b'\n') | None) => return Err(untagged("Missing command")),
        (None, _) if input.is_empty() => return Err(untagged("Empty command")),
        _ => return Err(untagged("Invalid tag")),
    };
    let rest = &input[tag_len + 1..];
    let result = command_body(rest).and_then(|(r, body)| {
        if r.is_empty() {
            return failure(r, "Missing CRLF");
        }
        let (r, _) = expect("Unexpected characters after command", crlf).parse(r)?;
        let (r, _) = eof(r)?;
        Ok((r, body))
    });
    match result {
        Ok((_, body)) => Ok(Command { tag, body }),
        Err(e) => {
            let message = match e {
                nom::Err::Error(e) | nom::Err::Failure(e) => match e.message {
                    Some(m) => m.to_owned(),
                    None => format!("Syntax error in {} arguments", command_name(rest)),
                },
                nom::Err::Incomplete(_) => "Incomplete command".to_owned(),
            };
            Err(ParseError {
                tag: Some(tag),
                message,
            })
        }
    }
}

fn untagged(message: &str) -> ParseError {
    ParseError {
        tag: None,
        message: message.to_owned(),
    }
}

/// The upper-cased command name (with a `UID ` prefix) for error messages.
fn command_name(i: &[u8]) -> String {
    let word = |i| -> PResult<'_, String> {
        map(
            take_while1(|b: u8| b.is_ascii_alphanumeric() || b == b'-'),
            |w| String::from_utf8_lossy(w).to_ascii_uppercase(),
        )
        .parse(i)
    };
    match word(i) {
        Ok((rest, w)) if w == "UID" => match preceded(sp, word).parse(rest) {
            Ok((_, w2)) => format!("UID {w2}"),
            Err(_) => w,
        },
        Ok((_, w)) => w,
        Err(_) => "command".to_owned(),
    }
}

/// `command-any / command-auth / command-nonauth / command-select`, without
/// the tag and the final CRLF.
fn command_body(i: &[u8]) -> PResult<'_, CommandBody> {
    use CommandBody as C;
    let (rest, name) = expect("Missing command", atom_upper).parse(i)?;
    match name.as_str() {
        "CAPABILITY" => Ok((rest, C::Capability)),
        "NOOP" => Ok((rest, C::Noop)),
        "LOGOUT" => Ok((rest, C::Logout)),
        "STARTTLS" => Ok((rest, C::StartTls)),
        "NAMESPACE" => Ok((rest, C::Namespace)),
        "IDLE" => Ok((rest, C::Idle)),
        "CHECK" => Ok((rest, C::Check)),
        "CLOSE" => Ok((rest, C::Close)),
        "UNSELECT" => Ok((rest, C::Unselect)),
        "EXPUNGE" => Ok((rest, C::Expunge)),
        "ID" => id_args(rest),
        "ENABLE" => enable_args(rest),
        "AUTHENTICATE" => authenticate_args(rest),
        "LOGIN" => login_args(rest),
        "SELECT" => select_args(rest, false),
        "EXAMINE" => select_args(rest, true),
        "CREATE" => create_args(rest),
        "DELETE" => one_mailbox(rest, |mailbox| C::Delete { mailbox }),
        "SUBSCRIBE" => one_mailbox(rest, |mailbox| C::Subscribe { mailbox }),
        "UNSUBSCRIBE" => one_mailbox(rest, |mailbox| C::Unsubscribe { mailbox }),
        "RENAME" => rename_args(rest),
        "LIST" => list_args(rest),
        "LSUB" => map(lsub_args, C::Lsub).parse(rest),
        "XLIST" => map(lsub_args, C::Xlist).parse(rest),
        "STATUS" => status_args(rest),
        "GETQUOTA" => getquota_args(rest),
        "GETQUOTAROOT" => one_mailbox(rest, |mailbox| C::GetQuotaRoot { mailbox }),
        "SETQUOTA" => setquota_args(rest),
        "SETACL" => acl::setacl_args(rest),
        "DELETEACL" => acl::mailbox_identifier(rest, |mailbox, identifier| C::DeleteAcl {
            mailbox,
            identifier,
        }),
        "GETACL" => one_mailbox(rest, |mailbox| C::GetAcl { mailbox }),
        "LISTRIGHTS" => acl::mailbox_identifier(rest, |mailbox, identifier| C::ListRights {
            mailbox,
            identifier,
        }),
        "MYRIGHTS" => one_mailbox(rest, |mailbox| C::MyRights { mailbox }),
        "APPEND" => append_args(rest),
        "COMPRESS" => {
            let (r, _) = sp(rest)?;
            let (r, mechanism) = expect("Missing compression mechanism", atom_upper).parse(r)?;
            Ok((r, C::Compress { mechanism }))
        }
        "UID" => {
            let (r, _) = sp(rest)?;
            let (r, sub) = expect("Missing UID command", atom_upper).parse(r)?;
            uid_command(r, &sub, true)
        }
        "FETCH" | "SEARCH" | "SORT" | "THREAD" | "STORE" | "COPY" | "MOVE" => {
            uid_command(rest, &name, false)
        }
        _ => failure(i, "Unknown command"),
    }
}

/// The commands that may follow `UID`: COPY, MOVE, FETCH, SEARCH, SORT,
/// THREAD, STORE and (with `uid`) EXPUNGE.
fn uid_command<'a>(i: &'a [u8], name: &str, uid: bool) -> PResult<'a, CommandBody> {
    use CommandBody as C;
    match name {
        "FETCH" => fetch_args(i, uid),
        "SEARCH" => search_args(i, uid),
        "SORT" => sort_args(i, uid),
        "THREAD" => thread_args(i, uid),
        "STORE" => store_args(i, uid),
        "COPY" => map(|i| copy_args(i, uid), C::Copy).parse(i),
        "MOVE" => map(|i| copy_args(i, uid), C::Move).parse(i),
        "EXPUNGE" if uid => {
            let (r, _) = sp(i)?;
            let (r, set) = message_set(r)?;
            Ok((r, C::UidExpunge(set)))
        }
        _ if uid => failure(i, "Unknown UID command"),
        _ => failure(i, "Unknown command"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::command::{
        AppendCommand, AuthenticateCommand, CopyCommand, CreateCommand, FetchAttribute as F,
        FetchCommand, ListCommand, ListReturn, LoginCommand, LsubCommand, QresyncParams,
        RenameCommand, SearchCommand, SearchKey as K, Section, SectionText, SelectCommand,
        StatusCommand, StoreCommand, StoreMode,
    };
    use crate::proto::parse::sequence::parse_sequence_set;
    use crate::proto::types::{Flag, MessageSet, SequenceSet, StatusItem};
    use CommandBody as C;
    use chrono::{NaiveDate, TimeZone};

    fn set(s: &str) -> SequenceSet {
        parse_sequence_set(s.as_bytes()).expect("test set")
    }

    fn msgs(s: &str) -> MessageSet {
        MessageSet::Numbers(set(s))
    }

    fn v(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    fn section(peek: bool, part: Vec<u32>, text: Option<SectionText>) -> F {
        F::BodySection {
            peek,
            section: Section { part, text },
            partial: None,
        }
    }

    fn fetch(uid: bool, s: &str, attributes: Vec<F>) -> CommandBody {
        C::Fetch(FetchCommand {
            uid,
            messages: msgs(s),
            attributes,
            changed_since: None,
            vanished: false,
        })
    }

    fn search(uid: bool, charset: Option<&str>, keys: Vec<K>) -> CommandBody {
        C::Search(SearchCommand {
            uid,
            charset: charset.map(str::to_owned),
            criteria: K::And(keys),
            return_options: None,
        })
    }

    fn list(sel: &[&str], reference: &str, patterns: &[&str], ret: Vec<ListReturn>) -> CommandBody {
        C::List(ListCommand {
            selection_options: sel.iter().map(|s| s.to_string()).collect(),
            reference: v(reference),
            patterns: patterns.iter().map(|p| v(p)).collect(),
            return_options: ret,
        })
    }

    fn valid_cases() -> Vec<(Vec<u8>, CommandBody)> {
        let tb_fields = "From To Cc Bcc Subject Date Message-ID Priority X-Priority References \
                         Newsgroups In-Reply-To Content-Type Reply-To";
        let tz = chrono::FixedOffset::west_opt(8 * 3600).expect("tz");
        let appended = tz
            .with_ymd_and_hms(1994, 2, 7, 21, 52, 25)
            .single()
            .expect("dt");
        let mut cases: Vec<(Vec<u8>, CommandBody)> = vec![
            (v("a CAPABILITY\r\n"), C::Capability),
            (v("a noop\r\n"), C::Noop),
            (v("a LoGoUt\r\n"), C::Logout),
            (v("A]1 NOOP\r\n"), C::Noop),
            (v("a NOOP\n"), C::Noop),
            (v("a ID NIL\r\n"), C::Id(None)),
            (
                v("a ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n"),
                C::Id(Some(vec![(v("name"), Some(v("Thunderbird"))), (v("version"), None)])),
            ),
            (v("a ID ()\r\n"), C::Id(Some(vec![]))),
            (
                v("a ENABLE CONDSTORE qresync\r\n"),
                C::Enable(vec!["CONDSTORE".into(), "QRESYNC".into()]),
            ),
            (v("a ENABLE UTF8=ACCEPT\r\n"), C::Enable(vec!["UTF8=ACCEPT".into()])),
            (v("a STARTTLS\r\n"), C::StartTls),
            (
                v("a AUTHENTICATE plain\r\n"),
                C::Authenticate(AuthenticateCommand { mechanism: "PLAIN".into(), initial_response: None }),
            ),
            (
                v("a AUTHENTICATE PLAIN AGZvbwBiYXI=\r\n"),
                C::Authenticate(AuthenticateCommand {
                    mechanism: "PLAIN".into(),
                    initial_response: Some(v("AGZvbwBiYXI=")),
                }),
            ),
            (
                v("a AUTHENTICATE PLAIN =\r\n"),
                C::Authenticate(AuthenticateCommand { mechanism: "PLAIN".into(), initial_response: Some(v("=")) }),
            ),
            (v("a LOGIN fred secret\r\n"), C::Login(LoginCommand { username: v("fred"), password: v("secret") })),
            (
                v("a LOGIN \"fr\\\"ed\" \"se\\\\cret\"\r\n"),
                C::Login(LoginCommand { username: v("fr\"ed"), password: v("se\\cret") }),
            ),
            (
                b"a LOGIN {4}\r\nfred {6+}\r\nse\x01\r\n\xff\r\n".to_vec(),
                C::Login(LoginCommand { username: v("fred"), password: b"se\x01\r\n\xff".to_vec() }),
            ),
            (v("a LOGIN \"\" \"\"\r\n"), C::Login(LoginCommand { username: vec![], password: vec![] })),
            (
                v("a SELECT INBOX\r\n"),
                C::Select(SelectCommand { mailbox: v("INBOX"), condstore: false, qresync: None }),
            ),
            (
                v("a SELECT INBOX (CONDSTORE)\r\n"),
                C::Select(SelectCommand { mailbox: v("INBOX"), condstore: true, qresync: None }),
            ),
            (
                v("a select \"inbox\"\r\n"),
                C::Select(SelectCommand { mailbox: v("INBOX"), condstore: false, qresync: None }),
            ),
            (
                v("a EXAMINE \"Sent Items\"\r\n"),
                C::Examine(SelectCommand { mailbox: v("Sent Items"), condstore: false, qresync: None }),
            ),
            (
                v("a SELECT A (QRESYNC (1 2) CONDSTORE)\r\n"),
                C::Select(SelectCommand {
                    mailbox: v("A"),
                    condstore: true,
                    qresync: Some(QresyncParams {
                        uidvalidity: 1,
                        modseq: 2,
                        known_uids: None,
                        seq_match: None,
                    }),
                }),
            ),
            (v("a CREATE Foo/Bar\r\n"), C::Create(CreateCommand { mailbox: v("Foo/Bar"), special_use: vec![] })),
            (
                v("a CREATE Sent (USE (\\Sent))\r\n"),
                C::Create(CreateCommand { mailbox: v("Sent"), special_use: vec!["\\Sent".into()] }),
            ),
            (v("a DELETE \"Old\"\r\n"), C::Delete { mailbox: v("Old") }),
            (v("a RENAME old new\r\n"), C::Rename(RenameCommand { from: v("old"), to: v("new") })),
            (v("a SUBSCRIBE &U,BTFw-\r\n"), C::Subscribe { mailbox: v("&U,BTFw-") }),
            (v("a UNSUBSCRIBE {3}\r\nfoo\r\n"), C::Unsubscribe { mailbox: v("foo") }),
            (v("a LIST \"\" *\r\n"), list(&[], "", &["*"], vec![])),
            (
                v("a LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE)\r\n"),
                list(&["SUBSCRIBED"], "", &["*"], vec![ListReturn::SpecialUse]),
            ),
            (
                v("a list \"\" (\"INBOX\" Sent/%) return (subscribed children)\r\n"),
                list(&[], "", &["INBOX", "Sent/%"], vec![
                    ListReturn::Subscribed,
                    ListReturn::Children,
                ]),
            ),
            (
                v("a LIST \"\" \"\" RETURN (STATUS (MESSAGES UIDNEXT))\r\n"),
                list(&[], "", &[""], vec![ListReturn::Status(vec![
                    StatusItem::Messages,
                    StatusItem::UidNext,
                ])]),
            ),
            (v("a LSUB \"\" %\r\n"), C::Lsub(LsubCommand { reference: vec![], pattern: v("%") })),
            (v("a XLIST \"\" \"*\"\r\n"), C::Xlist(LsubCommand { reference: vec![], pattern: v("*") })),
            (v("a NAMESPACE\r\n"), C::Namespace),
            (
                v("a STATUS \"box\" (UIDNEXT MESSAGES UNSEEN RECENT)\r\n"),
                C::Status(StatusCommand {
                    mailbox: v("box"),
                    items: vec![
                        StatusItem::UidNext,
                        StatusItem::Messages,
                        StatusItem::Unseen,
                        StatusItem::Recent,
                    ],
                }),
            ),
            (
                v("a STATUS inbox (highestmodseq SIZE DELETED UIDVALIDITY)\r\n"),
                C::Status(StatusCommand {
                    mailbox: v("INBOX"),
                    items: vec![
                        StatusItem::HighestModSeq,
                        StatusItem::Size,
                        StatusItem::Deleted,
                        StatusItem::UidValidity,
                    ],
                }),
            ),
            (
                v("a APPEND INBOX {7}\r\nHi\r\nyou\r\n"),
                C::Append(AppendCommand {
                    mailbox: v("INBOX"),
                    flags: vec![],
                    internal_date: None,
                    message: v("Hi\r\nyou"),
                    binary: false,
                }),
            ),
            (
                v("a APPEND Drafts (\\Seen \\Draft) \" 7-Feb-1994 21:52:25 -0800\" {3+}\r\nabc\r\n"),
                C::Append(AppendCommand {
                    mailbox: v("Drafts"),
                    flags: vec![Flag::Seen, Flag::Draft],
                    internal_date: Some(appended),
                    message: v("abc"),
                    binary: false,
                }),
            ),
            (
                b"a APPEND Sent ~{3}\r\na\0b\r\n".to_vec(),
                C::Append(AppendCommand {
                    mailbox: v("Sent"),
                    flags: vec![],
                    internal_date: None,
                    message: b"a\0b".to_vec(),
                    binary: true,
                }),
            ),
            (
                v("a APPEND {4}\r\nSent () {0}\r\n\r\n"),
                C::Append(AppendCommand { mailbox: v("Sent"), flags: vec![], internal_date: None, message: vec![], binary: false }),
            ),
            (v("a IDLE\r\n"), C::Idle),
            (v("a COMPRESS deflate\r\n"), C::Compress { mechanism: "DEFLATE".into() }),
            (v("a CHECK\r\n"), C::Check),
            (v("a CLOSE\r\n"), C::Close),
            (v("a UNSELECT\r\n"), C::Unselect),
            (v("a EXPUNGE\r\n"), C::Expunge),
            (v("a UID EXPUNGE 1:3,5\r\n"), C::UidExpunge(msgs("1:3,5"))),
            (v("a SEARCH ALL\r\n"), search(false, None, vec![K::All])),
            (
                v("a SEARCH CHARSET UTF-8 OR FROM \"a\" (SUBJECT {3}\r\nfoo SINCE 1-Feb-1994) NOT 1:5\r\n"),
                search(false, Some("UTF-8"), vec![
                    K::Or(
                        Box::new(K::From(v("a"))),
                        Box::new(K::And(vec![K::Subject(v("foo")), K::Since(date(1994, 2, 1))])),
                    ),
                    K::Not(Box::new(K::SequenceSet(set("1:5")))),
                ]),
            ),
            (
                v("a UID SEARCH RETURN () UNSEEN\r\n"),
                C::Search(SearchCommand {
                    uid: true,
                    charset: None,
                    criteria: K::And(vec![K::Unseen]),
                    return_options: Some(vec![]),
                }),
            ),
            (
                v("a UID SEARCH RETURN (MIN max) UID 1:*\r\n"),
                C::Search(SearchCommand {
                    uid: true,
                    charset: None,
                    criteria: K::And(vec![K::Uid(set("1:*"))]),
                    return_options: Some(vec!["MIN".into(), "MAX".into()]),
                }),
            ),
            (
                v("a SEARCH HEADER Message-ID \"<x@y>\" LARGER 100 SMALLER 1000 MODSEQ 5\r\n"),
                search(false, None, vec![
                    K::Header("Message-ID".into(), v("<x@y>")),
                    K::Larger(100),
                    K::Smaller(1000),
                    K::ModSeq(5),
                ]),
            ),
            (
                v("a search 2:4 not (seen deleted) keyword $Forwarded on \"3-Mar-2003\"\r\n"),
                search(false, None, vec![
                    K::SequenceSet(set("2:4")),
                    K::Not(Box::new(K::And(vec![K::Seen, K::Deleted]))),
                    K::Keyword("$Forwarded".into()),
                    K::On(date(2003, 3, 3)),
                ]),
            ),
            (
                v("a SEARCH ANSWERED BCC b BEFORE 1-jan-2000 BODY x CC c DRAFT FLAGGED NEW OLD \
                   RECENT SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000 TEXT t TO u \
                   UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN\r\n"),
                search(false, None, vec![
                    K::Answered,
                    K::Bcc(v("b")),
                    K::Before(date(2000, 1, 1)),
                    K::Body(v("x")),
                    K::Cc(v("c")),
                    K::Draft,
                    K::Flagged,
                    K::New,
                    K::Old,
                    K::Recent,
                    K::SentBefore(date(2000, 1, 1)),
                    K::SentOn(date(2000, 1, 1)),
                    K::SentSince(date(2000, 1, 1)),
                    K::Text(v("t")),
                    K::To(v("u")),
                    K::Unanswered,
                    K::Undeleted,
                    K::Undraft,
                    K::Unflagged,
                    K::Unkeyword("k".into()),
                    K::Unseen,
                ]),
            ),
            (v("a FETCH 1 FLAGS\r\n"), fetch(false, "1", vec![F::Flags])),
            (
                v("a FETCH 1:* ALL\r\n"),
                fetch(false, "1:*", vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope]),
            ),
            (
                v("a fetch 2 fast\r\n"),
                fetch(false, "2", vec![F::Flags, F::InternalDate, F::Rfc822Size]),
            ),
            (
                format!(
                    "a UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS ({tb_fields})])\r\n"
                )
                .into_bytes(),
                fetch(true, "1:*", vec![
                    F::Uid,
                    F::Rfc822Size,
                    F::Flags,
                    section(
                        true,
                        vec![],
                        Some(SectionText::HeaderFields(
                            tb_fields.split(' ').map(str::to_owned).collect(),
                        )),
                    ),
                ]),
            ),
            (
                v("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0 VANISHED)\r\n"),
                C::Fetch(FetchCommand {
                    uid: true,
                    messages: msgs("1:*"),
                    attributes: vec![F::Flags],
                    changed_since: Some(0),
                    vanished: true,
                }),
            ),
            (
                v("a FETCH 3 (BODY[1.2.MIME] body.peek[2.TEXT]<0.1024> BODY BODYSTRUCTURE \
                   ENVELOPE INTERNALDATE RFC822 RFC822.HEADER RFC822.TEXT MODSEQ)\r\n"),
                fetch(false, "3", vec![
                    section(false, vec![1, 2], Some(SectionText::Mime)),
                    F::BodySection {
                        peek: true,
                        section: Section { part: vec![2], text: Some(SectionText::Text) },
                        partial: Some((0, 1024)),
                    },
                    F::Body,
                    F::BodyStructure,
                    F::Envelope,
                    F::InternalDate,
                    F::Rfc822,
                    F::Rfc822Header,
                    F::Rfc822Text,
                    F::ModSeq,
                ]),
            ),
            (
                v("a FETCH 1 BODY[]<0.100>\r\n"),
                fetch(false, "1", vec![F::BodySection {
                    peek: false,
                    section: Section { part: vec![], text: None },
                    partial: Some((0, 100)),
                }]),
            ),
            (
                v("a FETCH 1 BODY[HEADER.FIELDS.NOT ({7}\r\nX-Spam1 \"Received\")]\r\n"),
                fetch(false, "1", vec![section(
                    false,
                    vec![],
                    Some(SectionText::HeaderFieldsNot(vec!["X-Spam1".into(), "Received".into()])),
                )]),
            ),
            (
                v("a UID FETCH 4294967295 UID\r\n"),
                fetch(true, "4294967295", vec![F::Uid]),
            ),
            (
                v("a STORE 1 +FLAGS (\\Seen)\r\n"),
                C::Store(StoreCommand {
                    uid: false,
                    messages: msgs("1"),
                    mode: StoreMode::Add,
                    silent: false,
                    flags: vec![Flag::Seen],
                    unchanged_since: None,
                }),
            ),
            (
                v("a UID STORE 1:2 -FLAGS.SILENT \\Deleted $Junk\r\n"),
                C::Store(StoreCommand {
                    uid: true,
                    messages: msgs("1:2"),
                    mode: StoreMode::Remove,
                    silent: true,
                    flags: vec![Flag::Deleted, Flag::Keyword("$Junk".into())],
                    unchanged_since: None,
                }),
            ),
            (
                v("a STORE 1 (UNCHANGEDSINCE 5) FLAGS ()\r\n"),
                C::Store(StoreCommand {
                    uid: false,
                    messages: msgs("1"),
                    mode: StoreMode::Replace,
                    silent: false,
                    flags: vec![],
                    unchanged_since: Some(5),
                }),
            ),
            (
                v("a COPY 1:3 Trash\r\n"),
                C::Copy(CopyCommand { uid: false, messages: msgs("1:3"), mailbox: v("Trash") }),
            ),
            (
                v("a UID COPY 5 \"Deleted Items\"\r\n"),
                C::Copy(CopyCommand { uid: true, messages: msgs("5"), mailbox: v("Deleted Items") }),
            ),
            (
                v("a MOVE 1 Archive\r\n"),
                C::Move(CopyCommand { uid: false, messages: msgs("1"), mailbox: v("Archive") }),
            ),
            (
                v("a uid move 1:* {7}\r\nArchive\r\n"),
                C::Move(CopyCommand { uid: true, messages: msgs("1:*"), mailbox: v("Archive") }),
            ),
        ];
        cases.push((
            v("a SEARCH (((((((((((ALL)))))))))))\r\n"),
            search(
                false,
                None,
                vec![(0..11).fold(K::All, |k, _| K::And(vec![k]))],
            ),
        ));
        cases
    }

    #[test]
    fn valid_commands() {
        let cases = valid_cases();
        assert!(cases.len() >= 60, "only {} cases", cases.len());
        for (input, expected) in cases {
            let shown = String::from_utf8_lossy(&input).into_owned();
            let parsed = parse_command(&input).unwrap_or_else(|e| panic!("{shown:?}: {e:?}"));
            assert_eq!(parsed.body, expected, "{shown:?}");
            let tag_len = input.iter().position(|&b| b == b' ').unwrap_or(0);
            assert_eq!(parsed.tag.as_str().as_bytes(), &input[..tag_len]);
        }
    }

    fn invalid_cases() -> Vec<(Vec<u8>, bool)> {
        let mut cases: Vec<(Vec<u8>, bool)> = [
            ("", false),
            ("\r\n", false),
            ("+ NOOP\r\n", false),
            ("a+ NOOP\r\n", false),
            ("a\r\n", false),
            ("* NOOP\r\n", false),
            ("(a NOOP\r\n", false),
            ("a{ NOOP\r\n", false),
            ("\"a\" NOOP\r\n", false),
            (" a NOOP\r\n", false),
            ("a\0 NOOP\r\n", false),
            ("a NOOP", true),
            ("a  NOOP\r\n", true),
            ("a FOO\r\n", true),
            ("a NOOP \r\n", true),
            ("a NOOP extra\r\n", true),
            ("a NOOP\r\n\r\n", true),
            ("a N\0OP\r\n", true),
            ("a LOGIN a\r\n", true),
            ("a LOGIN a b c\r\n", true),
            ("a LOGIN\r\n", true),
            ("a LOGIN a (b)\r\n", true),
            ("a LOGIN fr\0ed pw\r\n", true),
            // NUL is not CHAR8, in a literal either (found by fuzzing).
            ("a LOGIN {4}\r\nfred {6+}\r\nse\0\r\nx\r\n", true),
            ("a LOGIN {1}\r\nab\r\n", true),
            ("a LOGIN {5}\r\nab\r\n", true),
            ("a LOGIN {1} \r\na b\r\n", true),
            ("a SELECT\r\n", true),
            ("a SELECT INBOX (FOO)\r\n", true),
            ("a SELECT INBOX (CONDSTORE\r\n", true),
            ("a SELECT \"INBOX\r\n", true),
            ("a SELECT INBOX (QRESYNC (0 1))\r\n", true),
            ("a FETCH 0 FLAGS\r\n", true),
            ("a FETCH 1: FLAGS\r\n", true),
            ("a FETCH *: FLAGS\r\n", true),
            ("a FETCH 1,,2 FLAGS\r\n", true),
            ("a FETCH 1 (FLAGS\r\n", true),
            ("a FETCH 1 FLAGS)\r\n", true),
            ("a FETCH 1 BODY[1.MIME\r\n", true),
            ("a FETCH 1 BODY[MIME]\r\n", true),
            ("a FETCH 1 RFC822.SIZE<0.10>\r\n", true),
            ("a FETCH 1 BODY<0.10>\r\n", true),
            ("a FETCH 1 BODY[]<0.0>\r\n", true),
            ("a FETCH 1 BODY.PEEK\r\n", true),
            ("a FETCH 1 BODY[HEADER.FIELDS ()]\r\n", true),
            ("a FETCH 1 (ALL)\r\n", true),
            ("a FETCH 1\r\n", true),
            ("a FETCH 1 (FLAGS) (VANISHED)\r\n", true),
            ("a SEARCH\r\n", true),
            ("a SEARCH ALL \r\n", true),
            ("a SEARCH SINCE 32-Jan-2000\r\n", true),
            ("a SEARCH SINCE 1-Jnu-2000\r\n", true),
            ("a SEARCH BEFORE 1-Jan-99\r\n", true),
            ("a SEARCH (ALL\r\n", true),
            ("a SEARCH ALL)\r\n", true),
            ("a SEARCH CHARSET\r\n", true),
            ("a SEARCH UID 1:0\r\n", true),
            ("a STORE 1 FLAGS\r\n", true),
            ("a STORE 1 +FLAGS (\\Seen\r\n", true),
            ("a STORE 1 FLAG (\\Seen)\r\n", true),
            ("a STORE 1 +FLAGS (\\*)\r\n", true),
            ("a UID FOO 1\r\n", true),
            ("a UID EXPUNGE\r\n", true),
            ("a UID CAPABILITY\r\n", true),
            ("a EXPUNGE 1\r\n", true),
            ("a UID\r\n", true),
            ("a APPEND INBOX\r\n", true),
            ("a APPEND INBOX \"hello\"\r\n", true),
            ("a APPEND INBOX {10}\r\nabc\r\n", true),
            (
                "a APPEND INBOX (\\Seen) \"31-Feb-2020 00:00:00 +0000\" {1}\r\nx\r\n",
                true,
            ),
            ("a APPEND INBOX {1}\r\nxy\r\n", true),
            ("a LIST \"\" \r\n", true),
            ("a LIST \"\"\r\n", true),
            ("a LIST (SUBSCRIBED \"\" *\r\n", true),
            ("a STATUS INBOX (FOO)\r\n", true),
            ("a STATUS INBOX\r\n", true),
            ("a RENAME a\r\n", true),
            ("a ID (\"name\")\r\n", true),
            ("a ID foo\r\n", true),
            ("a ENABLE\r\n", true),
            ("a AUTHENTICATE\r\n", true),
            ("a AUTHENTICATE PLAIN a b\r\n", true),
            ("a CREATE a (USE (Sent))\r\n", true),
            ("a COPY 1\r\n", true),
            ("a COMPRESS\r\n", true),
        ]
        .into_iter()
        .map(|(s, t)| (v(s), t))
        .collect();
        // Quoted strings take well-formed UTF-8 (RFC 6855), not other 8-bit.
        cases.push((b"a SEARCH FROM \"caf\xe9\"\r\n".to_vec(), true));
        cases.push((b"\xc3\xa9 NOOP\r\n".to_vec(), false));
        let deep = format!(
            "a SEARCH {}ALL{}\r\n",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        cases.push((deep.into_bytes(), true));
        cases.push((
            format!("a SEARCH {}ALL\r\n", "NOT ".repeat(10_000)).into_bytes(),
            true,
        ));
        cases.push((
            format!("a SEARCH {}ALL ALL\r\n", "OR ".repeat(10_000)).into_bytes(),
            true,
        ));
        cases
    }

    #[test]
    fn invalid_commands() {
        let cases = invalid_cases();
        assert!(cases.len() >= 60, "only {} cases", cases.len());
        for (input, tagged) in cases {
            let shown = String::from_utf8_lossy(&input[..input.len().min(60)]).into_owned();
            match parse_command(&input) {
                Ok(c) => panic!("{shown:?} parsed as {c:?}"),
                Err(e) => {
                    assert_eq!(e.tag.is_some(), tagged, "{shown:?}: {e:?}");
                    assert!(!e.message.is_empty());
                    if let Some(t) = e.tag {
                        assert_eq!(t.as_str(), "a", "{shown:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for (input, _) in valid_cases() {
            for cut in 0..input.len() {
                let _ = parse_command(&input[..cut]);
            }
            for _ in 0..200 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut m = input.clone();
                let pos = (seed % m.len() as u64) as usize;
                m[pos] = (seed >> 32) as u8;
                let _ = parse_command(&m);
            }
        }
    }

    #[test]
    fn error_messages() {
        let msg = |s: &str| parse_command(s.as_bytes()).err().map(|e| e.message);
        assert_eq!(msg("a FOO\r\n").as_deref(), Some("Unknown command"));
        assert_eq!(msg("a SELECT\r\n").as_deref(), Some("Missing argument"));
        assert_eq!(msg("a NOOP").as_deref(), Some("Missing CRLF"));
        assert_eq!(
            msg("a SELECT \r\n").as_deref(),
            Some("Missing mailbox name")
        );
        assert_eq!(
            msg("a FETCH 1,,2 FLAGS\r\n").as_deref(),
            Some("Invalid sequence set")
        );
        assert_eq!(
            msg("a NOOP x\r\n").as_deref(),
            Some("Unexpected characters after command")
        );
        assert_eq!(
            msg("a FETCH 1 BODY[MIME]\r\n").as_deref(),
            Some("MIME requires a part number")
        );
        assert_eq!(msg("+ NOOP\r\n").as_deref(), Some("Invalid tag"));
        assert_eq!(
            msg(&format!("a SEARCH {}ALL\r\n", "NOT ".repeat(100))).as_deref(),
            Some("Search nesting too deep")
        );
    }
}
