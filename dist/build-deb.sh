#!/usr/bin/env bash
# Builds target/debian/letterbox_<version>_<arch>.deb with cargo-deb:
# the release binary as /usr/bin/letterbox, the systemd unit (pointing at
# it), /etc/letterbox/letterbox.toml as a conffile, the README. The
# package's scripts are in dist/debian/.
#
#   dist/build-deb.sh          # needs cargo-deb (cargo install cargo-deb)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p letterbox
# The unit as shipped names /usr/local/bin (a hand install); the package
# installs to /usr/bin.
mkdir -p target/debian-assets
sed 's|/usr/local/bin/letterbox|/usr/bin/letterbox|' dist/letterbox.service \
    > target/debian-assets/letterbox.service
cargo deb --no-build --locked -p letterbox "$@"
