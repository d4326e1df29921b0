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
cargo test --locked
