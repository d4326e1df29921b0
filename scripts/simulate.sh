#!/usr/bin/env bash
# A seeded Byzantine simulation over the real runtime (natively): the dev chain's demo rounds,
# good pickets signing through the off-chain worker, bad ones played at random, every invariant
# and every pallet's try_state checked after each block; a progress bar, then a summary table.
#
#   scripts/simulate.sh --rounds 100000 --seed 7 [--agents 40] [--stakes uniform|heavy] [--bad 5]
#                       [--try-state-every K] [--release]
#
# --bad is the bad agents' share of the stake in percent (the demo machines assume 5).
# --try-state-every K runs every pallet's try_state after every K-th block only (default 1; the
# other invariants are still checked after each block). --release builds optimised (a long
# build once, then many times faster): for runs of many thousand rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

usage() {
	echo "usage: scripts/simulate.sh [--rounds N] [--seed S] [--agents P] [--stakes uniform|heavy] [--bad PERCENT] [--try-state-every K] [--release]" >&2
	exit 2
}
profile=()
while [ $# -gt 0 ]; do
	if [ "$1" = --release ]; then
		profile=(--release)
		shift
		continue
	fi
	[ $# -ge 2 ] || usage
	case "$1" in
	--rounds) export SIM_ROUNDS="$2" ;;
	--seed) export SIM_SEED="$2" ;;
	--agents) export SIM_AGENTS="$2" ;;
	--stakes) export SIM_STAKES="$2" ;;
	--bad) export SIM_BAD="$2" ;;
	--try-state-every) export SIM_TRY_STATE_EVERY="$2" ;;
	*) usage ;;
	esac
	shift 2
done
SKIP_WASM_BUILD=1 cargo test --locked "${profile[@]}" -p consensus-machine-tests \
	--features try-runtime --test simulation -- --nocapture
