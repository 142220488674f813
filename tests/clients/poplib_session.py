"""A POP3 session with Python's poplib, as a legacy client would run it.

Usage: poplib_session.py MODE HOST PORT CAFILE USER PASSWORD MESSAGE_DIR
MODE: plain (USER/PASS in the clear), stls (STLS first), pop3s (implicit
TLS, AUTH PLAIN). MESSAGE_DIR holds the INBOX's messages, one file each,
named so that they sort in UID order, with the octets the server stores
(CRLF line ends).

Checks CAPA, STAT, LIST, UIDL, RETR (byte for byte, after poplib undoes
the dot-stuffing), TOP, DELE, RSET and QUIT; deletes message 1 and
retrieves all the others. Prints "poplib ok" and the unique-ids.
"""

import base64
import os
import poplib
import ssl
import sys

mode, host, port, cafile, user, password, message_dir = sys.argv[1:8]
port = int(port)
names = sorted(os.listdir(message_dir))
expected = []
for name in names:
    with open(os.path.join(message_dir, name), "rb") as f:
        expected.append(f.read())
context = ssl.create_default_context(cafile=cafile)


def fails(call, code):
    try:
        call()
    except poplib.error_proto as e:
        assert code.encode() in e.args[0], e
        return
    raise AssertionError(f"expected -ERR {code}")


if mode == "pop3s":
    pop = poplib.POP3_SSL(host, port, context=context)
else:
    pop = poplib.POP3(host, port)
assert pop.getwelcome().startswith(b"+OK"), pop.getwelcome()
capa = pop.capa()
for needed in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]:
    assert needed in capa, capa
if mode == "stls":
    assert "STLS" in capa and "USER" not in capa, capa
    # No password in the clear before TLS.
    fails(lambda: pop.user(user), "[AUTH]")
    pop.stls(context=context)
    capa = pop.capa()
    assert "STLS" not in capa and "USER" in capa, capa
assert capa.get("SASL") == ["PLAIN"], capa

if mode == "plain":
    # A USER given before STLS is forgotten by it (RFC 2595 §4).
    pop.user(user)
    pop.stls(context=context)
    fails(lambda: pop.pass_(password), "-ERR")

if mode == "pop3s":
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    fails(lambda: pop._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0" + user.encode() + b"\0wrong").decode()), "[AUTH]")
    assert pop._shortcmd("AUTH PLAIN " + token).startswith(b"+OK")
else:
    pop.user(user)
    fails(lambda: pop.pass_("wrong password"), "[AUTH]")
    pop.user(user)
    pop.pass_(password)
# Announced in both states (RFC 2449 §5); STLS only before login.
assert "USER" in pop.capa() and "STLS" not in pop.capa()

count, octets = pop.stat()
assert count == len(expected), (count, len(expected))
assert octets == sum(len(m) for m in expected), (octets, [len(m) for m in expected])
listing = pop.list()[1]
assert listing == [f"{i + 1} {len(m)}".encode() for i, m in enumerate(expected)], listing
ids = [line.split()[1] for line in pop.uidl()[1]]
assert len(set(ids)) == len(expected), ids
assert pop.uidl(2).split()[2] == ids[1]

for number, message in enumerate(expected, start=1):
    response, lines, size = pop.retr(number)
    assert response.startswith(b"+OK"), response
    got = b"\r\n".join(lines) + b"\r\n"
    # A message stored without a last line end gets one on the wire: the
    # terminating "." must start a line (LIST's size is the stored one).
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    at = next((i for i, (a, b) in enumerate(zip(got, message)) if a != b), min(len(got), len(message)))
    assert got == message, (number, at, got[at - 80 : at + 80], message[at - 80 : at + 80])

header = expected[0].split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
response, lines, _ = pop.top(1, 0)
assert b"\r\n".join(lines) + b"\r\n" == header, lines

pop.dele(1)
fails(lambda: pop.retr(1), "-ERR")
fails(lambda: pop.dele(1), "-ERR")
assert pop.stat()[0] == len(expected) - 1
pop.rset()
assert pop.stat()[0] == len(expected)
pop.dele(1)
fails(lambda: pop.retr(len(expected) + 1), "-ERR")
fails(lambda: pop._shortcmd("XYZZY"), "-ERR")
pop.noop()
assert pop.quit().startswith(b"+OK")
print("poplib ok", " ".join(i.decode() for i in ids))
