#!/usr/bin/env bash
# Soak run (docs/robustness.md): a fresh letterbox (release build), 10
# users, SOAK_CLIENTS clients for SOAK_SECONDS with mid-command
# disconnects; then every acknowledged APPEND is read back. Fails on any
# client-visible error, lost or changed message, or an ERROR in the log.
# SOAK_REUSE=1 keeps the previous run's database (a large one: SQLite's
# page caches are full from the start, so memory should stay flat).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
clients=${SOAK_CLIENTS:-100}
seconds=${SOAK_SECONDS:-600}
work=${WORK:-/tmp/letterbox-soak}
port=23143
metrics_port=23190
password="soak password"
ulimit -n "$(ulimit -Hn)"

cargo build --release --locked -q -p letterbox -p letterbox-bench
letterbox=$PWD/target/release/letterbox
bench=$PWD/target/release/letterbox-bench

reuse=${SOAK_REUSE:-0}
if [ "$reuse" != 1 ]; then
    rm -rf "$work" && mkdir -p "$work"
    self_signed_cert "$work"
fi
# Written on every run, so a reused directory gets this script's settings.
cat > "$work/letterbox.toml" <<TOML
data_dir = "$work/data"
[imap]
listen = ["127.0.0.1:$port"]
[imaps]
listen = []
[tls]
cert = "$work/cert.pem"
key = "$work/key.pem"
[auth]
allow_plaintext = true
[limits]
max_connections_per_ip = 1000
max_connections_per_user = 1000
[log]
level = "info"
[metrics]
listen = "127.0.0.1:$metrics_port"
TOML
if [ "$reuse" != 1 ]; then
    for n in $(seq 1 10); do
        echo "$password" | "$letterbox" --config "$work/letterbox.toml" user add "soak$n" >/dev/null
    done
fi
"$letterbox" --config "$work/letterbox.toml" serve 2>"$work/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
wait_for_port "$port"

status=0
"$bench" run --scenario soak --addr "127.0.0.1:$port" --server-pid "$pid" \
    --metrics-addr "127.0.0.1:$metrics_port" \
    --user-prefix soak --users 10 --password "$password" \
    --clients "$clients" --seconds "$seconds" --json "$work/soak.jsonl" || status=1
if grep -E '"level":"ERROR"| ERROR ' "$work/server.log"; then
    echo "soak: the server logged errors (above)"
    status=1
fi
echo "soak: server log $work/server.log, results $work/soak.jsonl"
exit $status
