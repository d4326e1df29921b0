#!/usr/bin/env bash
# Fuzzed dispatch under libFuzzer: `cargo fuzz` (nightly) runs the `dispatch` target of
# pallets/consensus-machine/fuzz, which feeds arbitrary bytes to
# `pallet_consensus_machine::fuzzing::run` (calls against the test runtime, blocks advancing,
# invariants checked after every call and block, try_state at the end of each input), or the
# `dispatch_every_block` target (try_state after every block: slower). Inputs that found new
# coverage go to fuzz/corpus/dispatch (replayed by the pallet's tests); a crashing input goes
# to fuzz/artifacts/<target>.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]   (default 60 and dispatch; the README reports a
# 30-minute run)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
name="${2:-dispatch}"
fuzz_dir=pallets/consensus-machine/fuzz
# Its own target directory: instrumented nightly builds share nothing with the main one.
target="${CM_FUZZ_TARGET_DIR:-$HOME/.cache/cm-fuzz-target}"
if ! rustup toolchain list | grep -q '^nightly'; then
	rustup toolchain install nightly --profile minimal ||
		{ echo "fuzz: could not install the nightly toolchain (cargo fuzz needs it)" >&2; exit 1; }
fi
if ! command -v cargo-fuzz > /dev/null; then
	cargo install cargo-fuzz --locked ||
		{ echo "fuzz: could not install cargo-fuzz from crates.io" >&2; exit 1; }
fi
# Safe Rust: panics are what is looked for, so no sanitizer (twice the executions), and no
# comparison tracing (it instruments every compare of the hashing and signature code too:
# without it, twice the executions from the saved corpus, 188 against 96 a second). Inputs
# of at most 800 bytes (about 150 steps, a few hundred blocks): longer inputs mostly cost time.
# One process per core (libFuzzer's fork mode; FUZZ_FORKS=1 for a single process). Both targets
# share the one corpus.
forks="${FUZZ_FORKS:-$(nproc)}"
fork=()
[ "$forks" -gt 1 ] && fork=(-fork="$forks")
cargo +nightly fuzz run "$name" "$fuzz_dir/corpus/dispatch" --fuzz-dir "$fuzz_dir" \
	--target-dir "$target" --sanitizer none --no-trace-compares -- -max_total_time="$seconds" \
	-max_len=800 -print_final_stats=1 "${fork[@]}"
