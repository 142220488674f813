#!/usr/bin/env python3
"""Sieve: letterbox's dry run, Pigeonhole's sieve-test and the RFCs'
expected actions side by side, script by script.

Reads tests/sieve_cases.json (each case: a script, a raw message, the
envelope sender and recipient, and the actions the RFCs ask for, written
as `letterbox sieve test` prints them). For each case it runs

  - letterbox: `letterbox --config CONF sieve test alice MESSAGE --script
    FILE --from F --to T` against a throwaway data_dir with the user alice
    (whose mailboxes are the ones a new user gets: INBOX, Sent, Drafts,
    Trash, Junk, Archive), and reads its "actions:" section;
  - Pigeonhole: `sieve-test -c CONF -C -l maildir:DIR -a T -r T -f F
    SCRIPT MESSAGE` with a Dovecot configuration of its own (nothing in
    /etc is read; vacation-seconds enabled, "+" as the detail separator,
    a maildir holding the same mailboxes) run as the system user peercmp,
    and reads its "Performed actions" and "Implicit keep" sections (an
    implicit keep into a mailbox an action already stores into is counted
    once: the dry run prints both, executing it stores once);

brings both and the expected list to one form (stores with mailbox,
flags as a case-insensitive set and :create; redirects; vacation by the
reason's first line; rejects; discard as nothing; a runtime error as the
implicit keep) and prints per case:

  ok                 all three agree
  DIFFERENT          letterbox and Pigeonhole disagree (both shown, and
                     which of them matches the expected actions)
  expected-mismatch  both agree with each other but not with "expected"
  known difference   the case says "pigeonhole_differs": Pigeonhole
                     departs from the RFC there; only letterbox is judged
  not on Pigeonhole  the case says "pigeonhole_cannot" (e.g. sieve-test
                     cannot give a null envelope sender); only letterbox
                     is judged

and a summary "N cases: X agree, Y differ". Exit 0 when no case differs
or mismatches, 1 otherwise, 2 when setup fails.

    cargo build -q && python3 bench/sieve_compare.py [path/to/letterbox] [--only TEXT]

Run as root (sieve-test drops privileges to a mail user, created here as
the system user peercmp if missing). Installs nothing: it needs Debian's
dovecot-sieve for sieve-test (`apt-get install dovecot-sieve`) and a built
letterbox. --only runs the cases whose name contains TEXT.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from peers import REPO, mail_user

CASES = os.path.join(REPO, "tests", "sieve_cases.json")
# The mailboxes a new letterbox user has; Pigeonhole's maildir gets them too
# (mailboxexists).
MAILBOXES = ["Sent", "Drafts", "Trash", "Junk", "Archive"]


# ---------------------------------------------------------------------------
# One form for all three

def flag_set(text):
    """IMAP flags are case-insensitive; Pigeonhole prints system flags in
    lower case and in its own order."""
    return tuple(sorted({f.lower() for f in (text or "").split()}))


def store(mailbox, flags="", create=False):
    if mailbox.upper() == "INBOX":
        mailbox = "INBOX"
    return ("store", mailbox, flag_set(flags), bool(create))


def letterbox_action(line):
    """One action line as letterbox prints it (Display for Action)."""
    if line == "discard":
        return None
    m = re.fullmatch(r"keep(?: with flags (.*))?", line)
    if m:
        return store("INBOX", m.group(1))
    m = re.fullmatch(r'fileinto "(.*?)"(?: with flags (.*?))?( \(created if missing\))?', line)
    if m:
        return store(m.group(1), m.group(2), m.group(3))
    m = re.fullmatch(r"redirect to (.*)", line)
    if m:
        return ("redirect", m.group(1).strip("<>").lower())
    m = re.fullmatch(r"vacation reply: (.*)", line)
    if m:
        return ("vacation", m.group(1))
    m = re.fullmatch(r'reject "(.*)"', line, re.S)
    if m:
        return ("reject", m.group(1))
    return ("unknown", line)


def normalise(actions):
    return collections.Counter(a for a in actions if a is not None)


def shown(counter):
    if counter is None:
        return "(no result)"
    if not counter:
        return "(discard)"
    out = []
    for action, n in sorted(counter.items()):
        text = action[0] + " " + " ".join(
            "[" + " ".join(p) + "]" if isinstance(p, tuple) else
            ("create" if p is True else "" if p is False else repr(p))
            for p in action[1:])
        out.append(text.strip() + (f" x{n}" if n > 1 else ""))
    return "; ".join(out)


# ---------------------------------------------------------------------------
# letterbox

class Letterbox:
    def __init__(self, binary, work):
        self.binary = binary
        self.conf = os.path.join(work, "letterbox.toml")
        with open(self.conf, "w") as f:
            f.write(f'data_dir = "{work}/letterbox-data"\n')
        password = os.path.join(work, "password")
        with open(password, "w") as f:
            f.write("sieve compare\n")
        subprocess.run([binary, "--config", self.conf, "user", "add", "alice",
                        "--password-file", password],
                       check=True, stdout=subprocess.DEVNULL)

    def run(self, script, message, sender, recipient):
        """(normalised actions or None, what it printed)."""
        proc = subprocess.run(
            [self.binary, "--config", self.conf, "sieve", "test", "alice", message,
             "--script", script, "--from", sender, "--to", recipient],
            capture_output=True, text=True, timeout=60)
        out = proc.stdout
        if proc.returncode != 0:
            return None, (out + proc.stderr).strip()
        lines = out.splitlines()
        if "actions:" not in lines:
            return None, out.strip()
        at = lines.index("actions:")
        actions = [letterbox_action(l[2:]) for l in lines[at + 1:] if l.startswith("  ")]
        errors = [l for l in lines[:at] if ": error: " in l]
        raw = "\n".join(errors + lines[at:])
        return normalise(actions), raw


# ---------------------------------------------------------------------------
# Pigeonhole

class Pigeonhole:
    def __init__(self, work):
        self.user = mail_user()
        self.work = work
        self.maildir = os.path.join(work, "maildir")
        for box in [""] + ["." + b for b in MAILBOXES]:
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(self.maildir, box, sub), exist_ok=True)
        self.conf = os.path.join(work, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""base_dir = {work}/dovecot-run
state_dir = {work}/dovecot-state
log_path = {work}/dovecot.log
mail_uid = {self.user}
mail_gid = {self.user}
mail_home = {work}/home
mail_location = maildir:{self.maildir}
recipient_delimiter = +
plugin {{
  sieve_extensions = +vacation-seconds
  sieve_vacation_min_period = 0
}}
""")
        os.makedirs(os.path.join(work, "home"), exist_ok=True)

    def run(self, script, message, sender, recipient):
        command = ["sieve-test", "-c", self.conf, "-C", "-l", f"maildir:{self.maildir}",
                   "-a", recipient, "-r", recipient]
        if sender:
            command += ["-f", sender]
        proc = subprocess.run(command + [script, message], capture_output=True, text=True,
                              timeout=60)
        out, err = proc.stdout, proc.stderr
        messages = "\n".join(l for l in err.splitlines()
                             if "final result" in l or ": error:" in l or "Fatal" in l)
        if "resolved with successful implicit keep" in err:
            # A runtime error: no action carried out but the implicit keep.
            return normalise([store("INBOX")]), messages
        if proc.returncode != 0 or "Performed actions:" not in out:
            return None, (out + err).strip()
        performed, _, implicit = out.partition("Implicit keep:")
        performed = performed.split("Performed actions:", 1)[1]
        actions = parse_pigeonhole(performed)
        # The dry run prints the implicit keep even after a store into the
        # same mailbox (fileinto :copy "INBOX"), but carrying it out (-e)
        # stores the message there once: count it once too.
        stored = {a[1] for a in actions if a[0] == "store"}
        actions += [a for a in parse_pigeonhole(implicit)
                    if not (a[0] == "store" and a[1] in stored)]
        raw = ("Performed actions:" + performed.rstrip() + "\nImplicit keep:"
               + implicit.rstrip()).strip()
        if messages:
            raw += "\n" + messages
        return normalise(actions), raw


def parse_pigeonhole(section):
    """The actions of one section of sieve-test's output."""
    actions = []
    current = None  # [kind, value, flags, create]
    in_message = False
    message_lines = []

    def close():
        if current is not None:
            actions.append(finish(current))

    for line in section.splitlines():
        stripped = line.strip()
        if in_message:
            if stripped == "END MESSAGE":
                in_message = False
                if current is not None and current[0] == "vacation":
                    current[1] = message_lines[0] if message_lines else ""
            else:
                message_lines.append(line)
            continue
        if stripped == "START MESSAGE":
            in_message, message_lines = True, []
        elif line.startswith(" * "):
            close()
            current = pigeonhole_action(line[3:].strip())
        elif stripped.startswith("+ add IMAP flags:") and current is not None:
            current[2] += " " + stripped.split(":", 1)[1]
        elif stripped == "+ create mailbox if it does not exist" and current is not None:
            current[3] = True
    close()
    return [a for a in actions if a is not None]


def pigeonhole_action(text):
    if text == "keep":
        return ["store", "INBOX", "", False]
    if text == "discard":
        return ["discard", None, "", False]
    for prefix, kind in (("store message in folder: ", "store"),
                         ("redirect message to: ", "redirect"),
                         ("reject message with reason: ", "reject")):
        if text.startswith(prefix):
            return [kind, text[len(prefix):], "", False]
    if text.startswith("send vacation message"):
        return ["vacation", "", "", False]
    return ["unknown", text, "", False]


def finish(current):
    kind, value, flags, create = current
    if kind == "discard":
        return None
    if kind == "store":
        return store(value, flags, create)
    if kind == "redirect":
        return ("redirect", value.strip("<>").lower())
    return (kind, value)


# ---------------------------------------------------------------------------

def main(argv):
    args = [a for a in argv[1:]]
    only = None
    if "--only" in args:
        at = args.index("--only")
        only = args[at + 1]
        del args[at:at + 2]
    binary = args[0] if args else os.path.join(REPO, "target", "debug", "letterbox")
    if not os.access(binary, os.X_OK):
        print(f"no letterbox binary at {binary} (cargo build first)", file=sys.stderr)
        return 2
    if shutil.which("sieve-test") is None:
        print("sieve-test not found: apt-get install dovecot-sieve", file=sys.stderr)
        return 2
    with open(CASES) as f:
        cases = json.load(f)
    if only:
        cases = [c for c in cases if only in c["name"]]

    work = tempfile.mkdtemp(prefix="sieve-compare-")
    try:
        letterbox = Letterbox(binary, work)
        pigeonhole = Pigeonhole(work)
        cases_dir = os.path.join(work, "cases")
        os.makedirs(cases_dir)
        counts = collections.Counter()
        for n, case in enumerate(cases):
            script = os.path.join(cases_dir, f"{n}.sieve")
            message = os.path.join(cases_dir, f"{n}.eml")
            with open(script, "w", newline="") as f:
                f.write(case["script"])
            with open(message, "w", newline="") as f:
                f.write(case["message"])
            subprocess.run(["chown", "-R", pigeonhole.user, work], check=True)
            expected = normalise(letterbox_action(a) for a in case["expected"])
            ours, ours_raw = letterbox.run(script, message, case["from"], case["to"])
            cannot = case.get("pigeonhole_cannot")
            known = case.get("pigeonhole_differs")
            if cannot:
                theirs, theirs_raw = None, "(not run: " + cannot + ")"
            else:
                theirs, theirs_raw = pigeonhole.run(script, message, case["from"], case["to"])
            name = case["name"]

            def detail():
                print(f"    expected:   {shown(expected)}")
                print(f"    letterbox:  {shown(ours)}")
                print("      | " + ours_raw.replace("\n", "\n      | "))
                print(f"    pigeonhole: {shown(theirs)}")
                print("      | " + theirs_raw.replace("\n", "\n      | "))

            if cannot or known:
                status = "not on Pigeonhole" if cannot else "known difference"
                if ours != expected:
                    counts["differ"] += 1
                    print(f"expected-mismatch  {name}  (letterbox; {status})")
                    detail()
                    continue
                counts["unchecked" if cannot else "known"] += 1
                why = cannot or known
                note = ""
                if known and theirs == expected:
                    note = " (but Pigeonhole now agrees: drop pigeonhole_differs?)"
                print(f"ok ({status})  {name}: {why}{note}")
                if known:
                    print(f"    pigeonhole: {shown(theirs)}")
                continue
            if ours == theirs == expected:
                counts["agree"] += 1
                print(f"ok  {name}")
            elif ours != theirs:
                counts["differ"] += 1
                right = [who for who, got in (("letterbox", ours), ("Pigeonhole", theirs))
                         if got == expected]
                verdict = (f"{' and '.join(right)} as expected" if right
                           else "neither as expected")
                print(f"DIFFERENT  {name}  ({verdict})")
                detail()
            else:
                counts["differ"] += 1
                print(f"expected-mismatch  {name}  (letterbox and Pigeonhole agree)")
                detail()
        print()
        extra = []
        if counts["known"]:
            extra.append(f"{counts['known']} known Pigeonhole differences")
        if counts["unchecked"]:
            extra.append(f"{counts['unchecked']} not run on Pigeonhole")
        print(f"{len(cases)} cases: {counts['agree']} agree, {counts['differ']} differ"
              + (f" (and {', '.join(extra)}, letterbox as expected)" if extra else ""))
        return 1 if counts["differ"] else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
