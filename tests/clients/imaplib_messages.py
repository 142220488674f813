"""Reading, flagging, searching, copying and deleting mail with imaplib.

Usage: imaplib_messages.py HOST PORT CAFILE USER PASSWORD CORPUS_DIR|-
APPENDs hand-made messages (and, when CORPUS_DIR is given, every .eml in
it), FETCHes each back byte for byte and parses it with the email module.
Exits non-zero (with a traceback) on any unexpected answer.
"""
import email
import email.policy
import imaplib
import pathlib
import re
import ssl
import sys

host, port, cafile, user, password, corpus = sys.argv[1:7]
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=cafile))
imap.login(user, password)

messages = [
    b"From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: lunch\r\n\r\nNoon?\r\n",
    "From: Jürgen <j@example.de>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Schöne Grüße\r\n".encode(),
    b"Subject: binary\r\nContent-Type: application/octet-stream\r\n\r\n\x01\x02\xff\xfe\r\n",
]
if corpus != "-":
    for path in sorted(pathlib.Path(corpus).rglob("*.eml")):
        # imaplib.append turns every CR, LF or CRLF into CRLF; do the same
        # so the expected octets are what was actually sent.
        raw = re.sub(rb"\r\n|\r(?!\n)|\n", b"\r\n", path.read_bytes())
        if raw:
            messages.append(raw)

imap.create("RoundTrip")
for raw in messages:
    typ, data = imap.append("RoundTrip", None, None, raw)
    assert typ == "OK", (typ, data)

typ, data = imap.select("RoundTrip")
assert typ == "OK" and int(data[0]) == len(messages), data
for number, raw in enumerate(messages, start=1):
    typ, data = imap.fetch(str(number), "(RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK", typ
    meta, body = data[0]
    assert b"RFC822.SIZE %d" % len(raw) in meta, (number, meta)
    # NUL is not allowed in IMAP literals; the server sends 0x80 instead.
    assert body == raw.replace(b"\0", b"\x80"), (number, len(body), len(raw))
    email.message_from_bytes(body, policy=email.policy.default)

# Reading sets \Seen; flags can be set and cleared.
typ, data = imap.fetch("1", "(BODY[TEXT])")
assert data[0][1] == b"Noon?\r\n", data
assert b"\\Seen" in data[1] or b"\\Seen" in data[0][0], data
typ, data = imap.store("2", "+FLAGS", r"(\Flagged)")
assert typ == "OK" and b"\\Flagged" in data[0], data
typ, data = imap.uid("STORE", "3", "+FLAGS.SILENT", r"(\Deleted)")
assert typ == "OK", typ

# Searching decoded text.
# Non-ASCII search strings go as a literal (imaplib's `literal` attribute).
imap.literal = "grüße".encode()
typ, data = imap.search("UTF-8", "SUBJECT")
assert data == [b"2"], data
typ, data = imap.search(None, "FLAGGED")
assert data == [b"2"], data
typ, data = imap.search(None, "BODY", "noon")
assert data == [b"1"], data
typ, data = imap.uid("SEARCH", "UNSEEN", "NOT", "DELETED")
assert data[0].split()[:1] == [b"2"], data

# Copying and deleting.
typ, data = imap.copy("1:2", "Archive")
assert typ == "OK" and b"COPYUID" in data[0], data
typ, data = imap.expunge()
assert typ == "OK" and data == [b"3"], data
typ, data = imap.status("Archive", "(MESSAGES)")
assert b"MESSAGES 2" in data[0], data
imap.close()
imap.logout()
print(f"imaplib messages ok ({len(messages)} round trips)")
