#!/usr/bin/env python3
"""Builds the fuzz seed corpora from what the tests already exercise.

command, encode_roundtrip: every byte-string literal in the parser's unit
tables and the integration tests that looks like a tagged command.
message: the shared real-world corpus (../shared/corpus, skipped when it is
not there) plus the messages the tests build inline.
sieve: the scripts the Sieve unit and integration tests use.

Usage: fuzz/seed.py  (writes fuzz/corpus/<target>/, which is not committed)
"""
import ast
import hashlib
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "fuzz" / "corpus"
literal = re.compile(rb'b?"((?:[^"\\]|\\.)*)"')


def rust_strings(path):
    """Contents of the string literals in a Rust file, escapes undone."""
    text = path.read_bytes()
    for m in literal.finditer(text):
        body = m.group(1).decode("utf-8", "replace").replace("\\\n", "")
        try:
            yield ast.literal_eval('b"' + body + '"')
        except (ValueError, SyntaxError):
            continue


def save(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


sources = list((root / "src" / "proto").rglob("*.rs")) + list((root / "tests").glob("*.rs"))
commands = 0
for path in sources:
    for s in rust_strings(path):
        if re.match(rb"^[A-Za-z0-9.]+ [A-Za-z]", s):
            line = s if s.endswith(b"\n") else s + b"\r\n"
            for target, data in (("command", bytes([5]) + line), ("encode_roundtrip", line)):
                save(target, data)
            commands += 1

messages = 0
corpus = root.parent / "shared" / "corpus"
if corpus.is_dir():
    for eml in sorted(corpus.rglob("*.eml")):
        save("message", eml.read_bytes())
        messages += 1
else:
    print("seed.py: ../shared/corpus not found, message seeds from tests only", file=sys.stderr)
for path in (root / "tests").glob("*.rs"):
    for s in rust_strings(path):
        if b"\r\n\r\n" in s and b":" in s.split(b"\r\n", 1)[0]:
            save("message", s)
            messages += 1
print(f"seed.py: {commands} command seeds, {messages} message seeds in {out}")

scripts = 0
sieve_sources = list((root / "src" / "sieve").rglob("*.rs")) + list((root / "tests").glob("*.rs"))
for path in sieve_sources:
    for s in rust_strings(path):
        if re.search(rb"\b(require|keep|fileinto|discard|if)\b", s) and (b";" in s or b"{" in s):
            save("sieve", s)
            scripts += 1
cases = root / "tests" / "sieve_cases.json"
if cases.exists():
    import json
    for case in json.loads(cases.read_text()):
        save("sieve", case["script"].encode())
        scripts += 1
print(f"seed.py: {scripts} sieve seeds")
