"""A real-client session with Python's imaplib over IMAPS.

Usage: imaplib_session.py HOST PORT CAFILE USER PASSWORD
Exits non-zero (with a traceback) on any unexpected answer.
"""
import imaplib
import ssl
import sys

host, port, cafile, user, password = sys.argv[1:6]
context = ssl.create_default_context(cafile=cafile)
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=context)
assert "IMAP4REV1" in imap.capabilities, imap.capabilities
assert "AUTH=PLAIN" in imap.capabilities, imap.capabilities

typ, _ = imap.login(user, password)
assert typ == "OK", typ

typ, listing = imap.list()
assert typ == "OK", typ
names = [line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in listing]
for expected in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"]:
    assert expected in names, (expected, names)

typ, _ = imap.create("Projects/Letterbox")
assert typ == "OK", typ

message = b"From: Ann <ann@example.com>\r\nSubject: imaplib test\r\n\r\nHello from imaplib.\r\n"
typ, data = imap.append("Projects/Letterbox", r"(\Seen \Flagged)",
                        imaplib.Time2Internaldate(1_700_000_000), message)
assert typ == "OK", (typ, data)
assert b"APPENDUID" in data[0], data

typ, data = imap.status("Projects/Letterbox", "(MESSAGES UNSEEN UIDNEXT)")
assert typ == "OK", typ
assert b"MESSAGES 1" in data[0] and b"UNSEEN 0" in data[0] and b"UIDNEXT 2" in data[0], data

typ, data = imap.select("Projects/Letterbox")
assert typ == "OK" and data == [b"1"], (typ, data)
assert imap.untagged_responses.get("UIDVALIDITY"), imap.untagged_responses

typ, data = imap.select("INBOX", readonly=True)
assert typ == "OK" and data == [b"0"], (typ, data)

typ, _ = imap.logout()
assert typ == "BYE", typ
print("imaplib session ok")
