#!/usr/bin/env bash
# End-to-end: builds the dev node (with its wasm runtime), then runs the ignored node tests:
# tests/tests/e2e.rs (one `--dev` node: decisions with re-verified certificates, a handover,
# an equivocation penalised, green and red objects), tests/tests/hostile.rs (a table of bad
# calls from a client, each with its exact error and the pallet's storage root unchanged) and
# tests/tests/network.rs (three nodes on loopback finalise and agree). Each test kills the
# nodes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# The node needs the wasm runtime; the tests then reuse the same runtime build.
unset SKIP_WASM_BUILD
echo "== cargo build -p consensus-machine-node"
start=$(date +%s)
cargo build --locked -p consensus-machine-node
echo "node build: $(($(date +%s) - start)) s"
echo "== end-to-end tests"
cargo test --locked -p consensus-machine-tests --test e2e --test hostile --test network -- \
	--ignored --nocapture --test-threads 1
