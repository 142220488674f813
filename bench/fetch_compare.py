#!/usr/bin/env python3
"""FETCH BINARY (RFC 3516) and BODY section answers of letterbox and
Dovecot side by side on the same messages.

Fills both servers (bench/peers.py) with the shared corpus plus generated
MIME messages in every transfer encoding (base64 with NULs and junk,
quoted-printable with soft breaks, trailing blanks and broken escapes,
bare-LF text, nested message/rfc822, an encoding nobody knows) and asks
both for BINARY[], BINARY.SIZE, partial BINARY, BODY[] and BODY[n.MIME]
of each part path, real or not. Prints every answer that differs; exit
status 1 when any does.

    cargo build -q && python3 bench/fetch_compare.py [path/to/letterbox]

Differences found and kept (docs/benchmarks.md says why): Dovecot refuses
BINARY of a quoted-printable part with a broken escape (NO [PARSE]) where
letterbox keeps the `=` as mail clients do; its BINARY.SIZE of a part
counts the whole message's parts (an undecodable sibling fails it, and on
some messages the size it reports is not the size it then sends).
"""

import base64
import os
import sys
import tempfile

from peers import Peers, corpus_files, letterbox_binary

PATHS = ["", "1", "2", "3", "1.1", "1.2", "2.1", "2.2", "4", "1.1.1", "2.1.1", "2.1.1.1"]


def part(content_type, cte, body):
    head = f"Content-Type: {content_type}\r\n"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    return head.encode() + b"\r\n" + body


def multipart(parts, subtype="mixed", boundary="=_b"):
    out = f"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\npreamble\r\n".encode()
    for p in parts:
        out += f"--{boundary}\r\n".encode() + p + b"\r\n"
    return out + f"--{boundary}--\r\nepilogue\r\n".encode()


def message(body_entity, subject):
    return f"From: a@example.org\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n".encode() + body_entity


def generated():
    blob = bytes(range(256)) * 3
    wrapped = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    qp = (b"Caf=C3=A9 cr=\r\n=C3=A8me   \r\ntab\there\t\r\nequals=3D=3d and =ZZ bad=\r\n"
          b"=\r\nlast line without break=")
    inner = message(part("text/plain; charset=utf-8", "quoted-printable", b"inner=20text=\r\n!\r\n"),
                    "inner")
    return [
        message(part("text/plain", "base64", b"aGVsbG8gd29ybGQ=\r\n"), "single base64"),
        message(part("application/octet-stream", "BASE64", wrapped), "binary octets"),
        message(part("text/plain", "base64", b"aGVs bG8*\r\nd29y\r\nbGQ\r\n"), "junk in base64"),
        message(part("text/plain; charset=utf-8", "quoted-printable", qp), "qp"),
        message(part("text/plain", None, b"bare\nLF\nlines\n"), "bare lf"),
        message(part("text/plain", "8bit", "8bit \u00e9t\u00e9\r\n".encode()), "8bit"),
        message(part("text/plain", "x-uuencode", b"begin 644 a\r\n`\r\nend\r\n"), "unknown cte"),
        message(multipart([
            part("text/plain", "quoted-printable", qp),
            part("image/png", "base64", wrapped),
            part("text/plain", "7bit", b"plain\r\n"),
        ]), "mixed"),
        message(multipart([
            multipart([part("text/plain", "quoted-printable", b"alt=20one\r\n"),
                       part("text/html", "base64", base64.b64encode(b"<p>two</p>"))],
                      "alternative", "=_inner"),
            part("message/rfc822", None, inner),
        ]), "nested"),
        message(multipart([part("text/plain", "base64", b"")]), "empty base64 part"),
    ]


def fetch(imap, uid, item):
    imap.untagged_responses.clear()  # imaplib keeps those of failed commands
    typ, data = imap.uid("FETCH", uid, f"({item})")
    if typ != "OK":
        # Only the response code is compared; the texts are each server's.
        return typ, (data[0] or b"").split(b"]")[0]
    return typ, data


def literal8_as_literal(answer):
    """The answer with `~{n}` written `{n}`: Dovecot sends a literal8 for
    anything it decoded, letterbox only for data holding a NUL (RFC 3516
    §4.3 asks for no more); both are valid, so they are counted apart."""
    typ, data = answer
    if typ != "OK":
        return answer
    return typ, [(d[0].replace(b"~{", b"{"), d[1]) if isinstance(d, tuple) else d for d in data]


# Malformed corpus messages whose BODY sections differ by the line break
# before a delimiter: letterbox gives it to the delimiter (RFC 2046 §5.1.1)
# or, for an embedded message cut off by one, to that message as Dovecot's
# own BODYSTRUCTURE sizes do; Dovecot's section fetch does otherwise.
KNOWN = {
    "mail-parser/malformed/020.eml": "an unclosed multipart inside a multipart",
    "mail-parser/malformed/021.eml": "an unclosed multipart inside a multipart",
    "mail-parser/malformed/022.eml": "a message/rfc822 part that is no message",
    "mail-parser/rfc/008.eml": "a base64 message/rfc822 part (not allowed by RFC 2046)",
}

# A Content-Transfer-Encoding that is not one token ("8 bit") is read as
# absent (7bit) by letterbox, as its BODYSTRUCTURE reports it; Dovecot
# calls it unknown.
MALFORMED_CTE = "mail-parser/thirdparty/004.eml"


def size_of(answer):
    """The octets a BINARY answer carried, or the number BINARY.SIZE gave."""
    typ, data = answer
    if typ != "OK":
        return None
    if isinstance(data[0], tuple):
        return len(data[0][1])
    return int(data[0].rstrip(b")").split()[-1])


def kind(name, item, ours, peer, peer_binary):
    """Why an answer differs, for the differences already understood."""
    if name in KNOWN and "[" in item:
        return f"line break before a delimiter in {KNOWN[name]}"
    if name == MALFORMED_CTE and peer[1] == b"[UNKNOWN-CTE":
        return "Dovecot calls a Content-Transfer-Encoding of two words unknown"
    if peer[0] == "NO" and peer[1] == b"[PARSE" and ours[0] == "OK" and "BINARY" in item:
        return "Dovecot refuses a broken base64/quoted-printable body, letterbox decodes it"
    if item.startswith("BINARY.SIZE") and size_of(peer) != size_of(peer_binary):
        return "Dovecot's BINARY.SIZE is not the size of its own BINARY answer"
    if item.startswith("BINARY.SIZE") and peer[1] == b"[UNKNOWN-CTE":
        return "Dovecot's BINARY.SIZE fails for an undecodable sibling part"
    return None


def main():
    named = corpus_files() + [(f"generated {n}", raw) for n, raw in enumerate(generated())]
    messages = [raw for _, raw in named]
    work = tempfile.mkdtemp(prefix="fetch-compare-")
    os.chmod(work, 0o755)
    differences = compared = literal8_only = 0
    understood = {}
    with Peers(letterbox_binary(sys.argv), work) as peers:
        ours, peer = peers.fill(messages)
        for uid in range(1, len(messages) + 1):
            for path in PATHS:
                items = [f"BINARY.PEEK[{path}]", f"BINARY.SIZE[{path}]",
                         f"BINARY.PEEK[{path}]<3.10>", f"BODY.PEEK[{path}]"]
                if path:
                    items.append(f"BODY.PEEK[{path}.MIME]")
                answers = {}
                for item in items:
                    a, b = fetch(ours, str(uid), item), fetch(peer, str(uid), item)
                    answers[item] = (a, b)
                    compared += 1
                    # RFC 3516 §4.3: BINARY.SIZE MUST be what BINARY sends.
                    if item.startswith("BINARY.SIZE"):
                        sent = answers[f"BINARY.PEEK[{path}]"][0]
                        assert size_of(a) == size_of(sent), (uid, item, a, sent)
                    if a == b:
                        continue
                    if literal8_as_literal(a) == literal8_as_literal(b):
                        literal8_only += 1
                        continue
                    reason = kind(named[uid - 1][0], item, a, b, answers[f"BINARY.PEEK[{path}]"][1])
                    if reason:
                        understood[reason] = understood.get(reason, 0) + 1
                        continue
                    differences += 1
                    print(f"DIFFERENT  UID {uid} {item}")
                    print(f"    letterbox {a!r:.400}")
                    print(f"    Dovecot   {b!r:.400}")
    print(f"{len(messages)} messages, {compared} fetches, {differences} different")
    print(f"  {literal8_only}: the same octets, Dovecot as literal8 (~{{n}}), letterbox as "
          "literal ({n}) as there is no NUL in them (RFC 3516 §4.3)")
    for reason, count in sorted(understood.items()):
        print(f"  {count}: {reason}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
