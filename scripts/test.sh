#!/usr/bin/env bash
# The test command (README "Tests"): every test with the SQLite store, then
# the integration tests again with the PostgreSQL store when
# LETTERBOX_TEST_POSTGRES names a cluster the tests may create databases
# in (`source .ci/postgres.sh` starts a throwaway one; CI always does).
# Arguments go to both `cargo test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
if [ -n "${LETTERBOX_TEST_POSTGRES:-}" ]; then
    LETTERBOX_TEST_BACKEND=postgres cargo test --locked --test '*' "$@"
elif [ -n "${CI:-}" ]; then
    echo "CI must set LETTERBOX_TEST_POSTGRES (.ci/postgres.sh)" >&2
    exit 1
else
    echo "PostgreSQL pass skipped: no LETTERBOX_TEST_POSTGRES (source .ci/postgres.sh to start a cluster)"
fi
