#!/usr/bin/env bash
# Everything CI checks: formatting, clippy (-D warnings) on the workspace's own crates, and all
# tests. Unit and integration tests run natively: SKIP_WASM_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export SKIP_WASM_BUILD=1
scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"
# One closing line for the whole run (cargo's own last line is a doc-test crate's, often empty).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
	END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
