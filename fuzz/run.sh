#!/usr/bin/env bash
# Runs every fuzz target for $1 seconds (default 30) from fresh seeds.
# Needs the nightly toolchain; without it (or cargo-fuzz) it says so and
# exits 0, so CI on a machine without nightly still passes the rest.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz/run.sh: no nightly toolchain, fuzzing skipped"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet || {
        echo "fuzz/run.sh: cargo-fuzz could not be installed, fuzzing skipped"
        exit 0
    }
fi
python3 seed.py
for target in $(cargo +nightly fuzz list); do
    echo "== $target: ${seconds}s"
    cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)|panicked|Test unit written' || true
    # A crash leaves an artifact and a non-zero status: fail on either.
    if compgen -G "artifacts/$target/*" >/dev/null; then
        echo "fuzz/run.sh: $target found a failing input:"; ls "artifacts/$target"
        exit 1
    fi
done
