#!/usr/bin/env python3
"""How long single writes to a growing trigram FTS5 index take, by merge
settings (the reasoning behind migrations 4 and 5 in
src/store/sqlite/schema.rs).

Appends batches of 256 messages' text in one transaction (as the search
indexer does) and, between batches, deletes 16 random older ones four times
(as EXPUNGE does), timing every transaction. Prints median, p99 and longest
time per kind, and every transaction over a second.

Usage: bench/fts_merge.py DB AUTOMERGE CRISISMERGE BATCHES
e.g.   bench/fts_merge.py /tmp/fts.db 16 64 150   (about 1.3 GB, 3 minutes)
Uses Python's own SQLite, not letterbox's bundled one: good for comparing
settings with each other, not for absolute figures."""
import random
import sqlite3
import sys
import time

BATCH = 256
DELETES_PER_BATCH, DELETE_SIZE = 4, 16

db, automerge, crisis, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(7)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 11)))
         for _ in range(40000)]


def text(n):
    return " ".join(rng.choice(words) for _ in range(n))


conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS t USING fts5(headers, body, tokenize='trigram')")
conn.execute("INSERT INTO t (t, rank) VALUES ('automerge', ?)", (automerge,))
conn.execute("INSERT INTO t (t, rank) VALUES ('crisismerge', ?)", (crisis,))
times = []
next_id = 1
start = time.monotonic()
for _ in range(batches):
    docs = [(next_id + i, text(40), text(rng.randint(100, 1500))) for i in range(BATCH)]
    next_id += BATCH
    t0 = time.monotonic()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t (rowid, headers, body) VALUES (?, ?, ?)", docs)
    conn.execute("COMMIT")
    times.append(("insert", time.monotonic() - t0))
    for _ in range(DELETES_PER_BATCH):
        t0 = time.monotonic()
        conn.execute("BEGIN")
        for _ in range(DELETE_SIZE):
            conn.execute("DELETE FROM t WHERE rowid = ?", (rng.randint(1, next_id - 1),))
        conn.execute("COMMIT")
        times.append(("delete", time.monotonic() - t0))
total = time.monotonic() - start
for kind in ("insert", "delete"):
    ts = sorted(t for k, t in times if k == kind)
    print(f"{kind}: n={len(ts)} median={ts[len(ts) // 2] * 1000:.0f}ms "
          f"p99={ts[int(len(ts) * 0.99)] * 1000:.0f}ms max={ts[-1] * 1000:.0f}ms sum={sum(ts):.1f}s")
print(f"total {total:.1f}s, {next_id - 1} messages")
print("over 1 s:", [(i, k, round(t, 2)) for i, (k, t) in enumerate(times) if t > 1.0])
