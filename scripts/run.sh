#!/usr/bin/env bash
# The main job: set up, build the dev node (with its wasm runtime) and run a one-node dev chain
# in a temporary directory. The demo driver opens rounds every 3 blocks, the node's 20 dev
# pickets sign as off-chain workers, and the node logs (target `consensus-machine`) every round
# opened, decision (certificate re-verified), handover, traffic light, offence and slash.
#
# With no arguments a share of the pickets misbehaves, so handovers and penalties show up:
#   --picket-behaviour silent=20 --picket-behaviour equivocate=10
# Any arguments replace those (e.g. `scripts/run.sh` with `--picket-behaviour wrong-green=20`,
# or none of them: `scripts/run.sh --`). RPC: ws/http on 127.0.0.1:9944. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
unset SKIP_WASM_BUILD
scripts/setup.sh
echo "== cargo build -p consensus-machine-node (first build: ~19 min on 2 cores)"
cargo build --locked -p consensus-machine-node
args=(--picket-behaviour silent=20 --picket-behaviour equivocate=10)
if [ "$#" -gt 0 ]; then
	[ "$1" = "--" ] && shift
	args=("$@")
fi
exec "$CARGO_TARGET_DIR/debug/consensus-machine-node" --dev --tmp "${args[@]}"
