#!/usr/bin/env bash
# The PostgreSQL store side by side with SQLite on this machine (issue 21,
# docs/benchmarks.md): the same users and mail, the mixed load against one
# node on SQLite, one node on PostgreSQL and two nodes on PostgreSQL (each
# client on one node, alternating), with the CPU each process used; then
# IDLE push latency across nodes (idlers on node A, APPENDs on node B).
#
#   bench/postgres_compare.sh            # the full run
#   QUICK=1 bench/postgres_compare.sh    # a small run to check the setup
#
# Needs root (PostgreSQL runs as the postgres user) and Debian's
# postgresql. The cluster keeps PostgreSQL's default durability (fsync
# and synchronous_commit on), as SQLite keeps synchronous = full.
set -euo pipefail
cd "$(dirname "$0")/.."
# A node answering on a port means a run before this one is still alive.
for port in 23143 23144 23145; do
    if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "something listens on $port already (an earlier run?)" >&2; exit 1
    fi
done
repo=$PWD

quick=${QUICK:-0}
users=${USERS:-100}
small=${SMALL:-200}
seconds=${SECONDS_PER_RUN:-$([ "$quick" = 1 ] && echo 5 || echo 30)}
idlers=${IDLERS:-$([ "$quick" = 1 ] && echo 200 || echo 1000)}
rounds=${ROUNDS:-$([ "$quick" = 1 ] && echo 5 || echo 20)}
password="bench password"
work=${WORK:-/tmp/letterbox-pg-bench}
sqlite_port=23143 a_port=23144 b_port=23145

say() { printf '\n== %s\n' "$*" >&2; }
# shellcheck source=bench/common.sh
. bench/common.sh
ulimit -n "$(ulimit -Hn)"

say "building (release)"
cargo build --release --locked -q -p letterbox -p letterbox-bench
letterbox=$repo/target/release/letterbox
bench=$repo/target/release/letterbox-bench

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "${pgbin:-}" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
rm -rf "$work"; mkdir -p "$work"

say "PostgreSQL cluster (defaults, fsync on)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
install -d -o postgres -m 700 "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -U letterbox --auth=trust >/dev/null
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$work/pg -c max_connections=200" >/dev/null
url="postgresql://letterbox@127.0.0.1:$pg_port/postgres"

self_signed_cert "$work"
# config FILE PORT STORE-SECTION
config() {
    cat > "$1" <<EOC
data_dir = "$work/data-$2"
[imap]
listen = ["127.0.0.1:$2"]
[tls]
cert = "$work/cert.pem"
key = "$work/key.pem"
[auth]
allow_plaintext = true
# One address opens every session: no login throttling in the way.
max_failures = 100000
failure_delay_ms = 0
[limits]
max_connections = 30000
max_connections_per_ip = 30000
max_connections_per_user = 30000
max_connections_per_user_ip = 30000
max_unauthenticated_per_ip = 30000
[log]
level = "warn"
$3
EOC
}
config "$work/sqlite.toml" $sqlite_port ""
config "$work/a.toml" $a_port "[store]
backend = \"postgres\"
url = \"$url\""
config "$work/b.toml" $b_port "[store]
backend = \"postgres\"
url = \"$url\""

say "mail: $users users x $small messages, imported into SQLite"
"$bench" generate --out "$work/small" --count "$small" --seed 1 >/dev/null
for n in $(seq 1 "$users"); do
    echo "$password" | "$letterbox" --config "$work/sqlite.toml" user add "bench$n" >/dev/null
    "$letterbox" --config "$work/sqlite.toml" import --user "bench$n" "$work/small" >/dev/null
done
say "store copy to PostgreSQL"
copy_started=$(date +%s.%N)
"$letterbox" --config "$work/sqlite.toml" store copy --to "$url" | tail -n 1
copy_seconds=$(echo "$(date +%s.%N) - $copy_started" | bc)

# cpu_ticks PID...: user+system clock ticks used by these processes and
# their children so far.
cpu_ticks() {
    local total=0 pid
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")))
    done
    echo "$total"
}
postgres_pids() { pgrep -u postgres -f "postgres" | tr '\n' ' '; }
# serve CONFIG PORT: starts a node; its pid in $served (and in pids, for
# the cleanup).
serve() {
    "$letterbox" --config "$1" serve >"$1.log" 2>&1 &
    served=$!
    pids+=("$served")
    wait_for_port "$2" || { cat "$1.log"; exit 1; }
}
results=$work/results.jsonl
cpu=$work/cpu.txt
hz=$(getconf CLK_TCK)
# measure LABEL "NODE-PIDS" ARGS...: one bench run, with each side's CPU.
measure() {
    local label=$1 nodes=$2; shift 2
    say "$label"
    local pg_before node_before started
    pg_before=$(cpu_ticks $(postgres_pids))
    node_before=$(cpu_ticks $nodes)
    started=$(date +%s.%N)
    "$bench" run --users "$users" --password "$password" --label "$label" --json "$results" "$@"
    local wall; wall=$(echo "$(date +%s.%N) - $started" | bc)
    local pg_used node_used
    pg_used=$(( $(cpu_ticks $(postgres_pids)) - pg_before ))
    node_used=$(( $(cpu_ticks $nodes) - node_before ))
    printf '%s: letterbox %.2f cores, postgres %.2f cores over %.1f s\n' "$label" \
        "$(echo "$node_used / $hz / $wall" | bc -l)" "$(echo "$pg_used / $hz / $wall" | bc -l)" "$wall" | tee -a "$cpu"
}

serve "$work/sqlite.toml" $sqlite_port; sqlite_pid=$served
"$bench" run --addr "127.0.0.1:$sqlite_port" --users "$users" --password "$password" \
    --scenario mixed --clients "$users" --seconds 3 >/dev/null
measure "mixed-10 sqlite" "$sqlite_pid" --addr "127.0.0.1:$sqlite_port" \
    --server-pid "$sqlite_pid" --scenario mixed --clients 10 --seconds "$seconds"
kill "$sqlite_pid"; wait "$sqlite_pid" 2>/dev/null || true

serve "$work/a.toml" $a_port; a_pid=$served
"$bench" run --addr "127.0.0.1:$a_port" --users "$users" --password "$password" \
    --scenario mixed --clients "$users" --seconds 3 >/dev/null
measure "mixed-10 postgres 1 node" "$a_pid" --addr "127.0.0.1:$a_port" \
    --server-pid "$a_pid" --scenario mixed --clients 10 --seconds "$seconds"
serve "$work/b.toml" $b_port; b_pid=$served
measure "mixed-10 postgres 2 nodes" "$a_pid $b_pid" --addr "127.0.0.1:$a_port" \
    --second-addr "127.0.0.1:$b_port" --server-pid "$a_pid" --scenario mixed --clients 10 \
    --seconds "$seconds"
measure "idle-latency-$idlers across nodes" "$a_pid $b_pid" --addr "127.0.0.1:$a_port" \
    --second-addr "127.0.0.1:$b_port" --server-pid "$a_pid" --scenario idle-latency \
    --connections "$idlers" --repeats "$rounds"

say "results ($(nproc) cores, $(date -u +%Y-%m-%d), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'))"
echo "store copy of $users x $small messages: ${copy_seconds} s"
cat "$cpu"
echo "raw results: $results"
