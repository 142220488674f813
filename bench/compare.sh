#!/usr/bin/env bash
# Side-by-side benchmark: letterbox and Dovecot (Debian's dovecot-imapd) on
# loopback, the same users, passwords (the same argon2id hashes) and the
# same generated mailboxes, each scenario run against one server and then
# the other. Prints a table of ratios (docs/benchmarks.md explains it).
#
#   bench/compare.sh                 # the full run (100k-message mailbox)
#   QUICK=1 bench/compare.sh         # a small run to check the setup
#   REUSE=1 ONLY="mixed-10 append-10" bench/compare.sh
#                                    # again on the data of the last run,
#                                    # only the scenarios named
#
# Needs root (installs Dovecot, creates a mail user, raises fd limits).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

quick=${QUICK:-0}
users=${USERS:-100}
small=${SMALL:-200}                        # messages per user
big=${BIG:-$([ "$quick" = 1 ] && echo 5000 || echo 100000)}
seconds=${SECONDS_PER_RUN:-$([ "$quick" = 1 ] && echo 5 || echo 30)}
idlers=${IDLERS:-$([ "$quick" = 1 ] && echo 200 || echo 1000)}
many=${MANY_IDLERS:-$([ "$quick" = 1 ] && echo 1000 || echo 10000)}
password="bench password"
work=${WORK:-/tmp/letterbox-bench}
ours_plain=21143 ours_tls=21993 peer_plain=22143 peer_tls=22993

say() { printf '\n== %s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. bench/common.sh

if ! command -v dovecot >/dev/null; then
    say "installing dovecot-imapd"
    apt-get update -qq && apt-get install -y -qq dovecot-imapd >/dev/null
fi
# As many descriptors as allowed (10,000 sessions need that many on each side).
ulimit -n "$(ulimit -Hn)"
# Dovecot's IDLE watches the mailbox with inotify, one instance per imap
# process; past the default 128 per user it falls back to polling every
# 30 s. Raise the limit (as Dovecot's documentation advises) so that the
# IDLE comparison measures notification, not the fallback.
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 8192 ]; then
    echo 8192 > /proc/sys/fs/inotify/max_user_instances ||
        echo "warning: cannot raise fs.inotify.max_user_instances; Dovecot IDLE will poll" >&2
fi

say "building (release)"
cargo build --release --locked -q -p letterbox -p letterbox-bench
letterbox=$repo/target/release/letterbox
bench=$repo/target/release/letterbox-bench

# Generates the mail, creates the users and fills both servers.
prepare() {
rm -rf "$work"
mkdir -p "$work"/{mail,dovecot}

say "generating mail: $users users x $small messages, one user with $big"
"$bench" generate --out "$work/small" --count "$small" --seed 1
"$bench" generate --out "$work/big" --count "$big" --seed 2

# letterbox: config, users, import.
self_signed_cert "$work"
cat > "$work/letterbox.toml" <<EOF
data_dir = "$work/letterbox-data"
[imap]
listen = ["127.0.0.1:$ours_plain"]
[imaps]
listen = ["127.0.0.1:$ours_tls"]
[tls]
cert = "$work/cert.pem"
key = "$work/key.pem"
[auth]
allow_plaintext = true
[limits]
max_connections = 30000
max_connections_per_ip = 30000
max_connections_per_user = 30000
[log]
level = "warn"
EOF
say "letterbox: users and import"
for n in $(seq 1 "$users") big; do
    user=$([ "$n" = big ] && echo big || echo "bench$n")
    echo "$password" | "$letterbox" "${config[@]}" user add "$user" >/dev/null
    src=$([ "$n" = big ] && echo "$work/big" || echo "$work/small")
    "$letterbox" "${config[@]}" import --user "$user" "$src" >/dev/null
done

# Dovecot: the same users with the same argon2id hashes (Dovecot verifies
# any PHC argon2id string through libsodium), Maildirs copied as they are.
id benchmail >/dev/null 2>&1 || useradd --system --no-create-home benchmail
python3 - "$work/letterbox-data/letterbox.db" > "$work/dovecot/users" <<'EOF'
import sqlite3, sys
for name, hash in sqlite3.connect(sys.argv[1]).execute("SELECT name, password_hash FROM users"):
    print(f"{name}:{{ARGON2ID}}{hash}::::::")
EOF
for n in $(seq 1 "$users"); do cp -r "$work/small" "$work/mail/bench$n"; done
cp -r "$work/big" "$work/mail/big"
chown -R benchmail: "$work/mail"
cat > "$work/dovecot/dovecot.conf" <<EOF
base_dir = $work/dovecot/run
state_dir = $work/dovecot/state
log_path = $work/dovecot/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 10M
auth_cache_ttl = 1 hour
auth_cache_negative_ttl = 0
passdb {
  driver = passwd-file
  args = scheme=ARGON2ID $work/dovecot/users
}
userdb {
  driver = static
  args = uid=benchmail gid=benchmail home=$work/mail/%u
}
mail_location = maildir:$work/mail/%u
mail_max_userip_connections = 12000
default_client_limit = 15000
default_process_limit = 100
default_vsz_limit = 1G
service imap-login {
  inet_listener imap {
    port = $peer_plain
  }
  inet_listener imaps {
    port = $peer_tls
    ssl = yes
  }
  # High-performance mode: a few login processes serve every client.
  service_count = 0
  process_min_avail = 2
  process_limit = 4
}
service imap {
  process_limit = 12000
}
service auth {
  client_limit = 15000
}
service anvil {
  client_limit = 20000
}
EOF
}

pkill -f "$work/letterbox.toml" 2>/dev/null || true
[ -f "$work/dovecot/dovecot.conf" ] && dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true
sleep 1
config=(--config "$work/letterbox.toml")
if [ "${REUSE:-0}" = 1 ]; then
    say "reusing the users and mail in $work"
else
    prepare
fi

start_ours() {
    "$letterbox" "${config[@]}" serve >"$work/letterbox.log" 2>&1 &
    ours_pid=$!
    wait_for_port "$ours_plain" && return
    echo "letterbox did not start"; cat "$work/letterbox.log"; exit 1
}
start_peer() {
    dovecot -c "$work/dovecot/dovecot.conf"
    for _ in $(seq 100); do
        if [ -s "$work/dovecot/run/master.pid" ] &&
            (echo > /dev/tcp/127.0.0.1/$peer_plain) 2>/dev/null; then
            peer_pid=$(cat "$work/dovecot/run/master.pid")
            return
        fi
        sleep 0.1
    done
    echo "dovecot did not start"; cat "$work/dovecot/dovecot.log"; exit 1
}
stop_both() {
    kill "$ours_pid" && wait "$ours_pid" || true
    dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true
    sleep 1
}
start_ours
start_peer

run_id=$(date -u +%Y%m%dT%H%M%S)
results_ours=$work/letterbox-$run_id.jsonl
results_peer=$work/dovecot-$run_id.jsonl
# wanted LABEL: whether ONLY (when set) names the scenario.
wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
# run LABEL ARGS...: the scenario against letterbox, then Dovecot.
run() {
    local label=$1; shift
    wanted "$label" || return 0
    say "$label"
    "$bench" run --addr "127.0.0.1:$ours_plain" --server-pid "$ours_pid" --users "$users" \
        --password "$password" --label "$label" --json "$results_ours" "$@"
    "$bench" run --addr "127.0.0.1:$peer_plain" --server-pid "$peer_pid" --users "$users" \
        --password "$password" --label "$label" --json "$results_peer" "$@"
}
run_tls() {
    local label=$1; shift
    wanted "$label" || return 0
    say "$label"
    "$bench" run --tls --addr "127.0.0.1:$ours_tls" --server-pid "$ours_pid" --users "$users" \
        --password "$password" --label "$label" --json "$results_ours" "$@"
    "$bench" run --tls --addr "127.0.0.1:$peer_tls" --server-pid "$peer_pid" --users "$users" \
        --password "$password" --label "$label" --json "$results_peer" "$@"
}

# Warm-up, not recorded: both servers open every mailbox once (Dovecot
# builds its index files, letterbox's page cache fills).
say "warm-up"
for port in $ours_plain $peer_plain; do
    "$bench" run --addr "127.0.0.1:$port" --users "$users" --password "$password" \
        --scenario mixed --clients "$users" --seconds 3 >/dev/null
    "$bench" run --addr "127.0.0.1:$port" --password "$password" \
        --scenario initial-sync --repeats 1 >/dev/null
done

run mixed-10 --scenario mixed --clients 10 --seconds "$seconds"
run mixed-100 --scenario mixed --clients 100 --seconds "$seconds"
run append-10 --scenario append --clients 10 --seconds "$seconds"
run "initial-sync-$big" --scenario initial-sync --repeats 3
run "search-$big" --scenario search --repeats 3
run "sort-thread-$big" --scenario sort-thread --repeats 5
# Memory per session from freshly started servers, so that what earlier
# scenarios left in the allocators does not hide the cost of a session.
wanted "idle-memory-$idlers" && { stop_both; start_ours; start_peer; }
run_tls "idle-memory-$idlers" --scenario idle-memory --connections "$idlers"
run "idle-latency-$idlers" --scenario idle-latency --connections "$idlers" --repeats 5

# letterbox alone: the 10,000-session target (Dovecot would need a
# process per session).
if wanted "idle-memory-$many"; then
    say "letterbox alone: $many TLS IDLE sessions"
    stop_both; start_ours
    "$bench" run --tls --addr "127.0.0.1:$ours_tls" --server-pid "$ours_pid" --users "$users" \
        --password "$password" --scenario idle-memory --connections "$many" \
        --label "idle-memory-$many" --json "$results_ours"
fi
stop_both

say "results ($(nproc) cores, $(date -u +%Y-%m-%d))"
"$bench" compare "$results_ours" "$results_peer"
echo
echo "raw results: $results_ours $results_peer"
