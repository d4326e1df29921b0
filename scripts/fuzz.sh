#!/usr/bin/env bash
# Fuzzed dispatch under libFuzzer: `cargo fuzz` (nightly) runs the `dispatch` target of
# pallets/consensus-machine/fuzz, which feeds arbitrary bytes to
# `pallet_consensus_machine::fuzzing::run` (calls against the test runtime, blocks advancing,
# invariants checked after every call and block, try_state at the end of each input), or the
# `dispatch_every_block` target (try_state after every block: slower). Inputs that found new
# coverage go to fuzz/corpus/dispatch (replayed by the pallet's tests); a crashing input goes
# to fuzz/artifacts/<target>.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET]   (default 60 and dispatch; docs/simulation-and-fuzzing.md
# reports a 30-minute run)
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
# One process per core, each fuzzing the shared corpus directory (libFuzzer's `-jobs`, which
# re-reads what the others add; its fork mode made half as many executions here, restarting a
# short job every few seconds). FUZZ_JOBS=1 for a single process. Each process logs to
# target/fuzz-logs/fuzz-N.log; the totals are printed at the end. Both targets share the one
# corpus.
jobs="${FUZZ_JOBS:-$(nproc)}"
root="$(pwd)"
logs="$root/target/fuzz-logs"
rm -rf "$logs"
mkdir -p "$logs"
status=0
(cd "$logs" && cargo +nightly fuzz run "$name" "$root/$fuzz_dir/corpus/dispatch" \
	--fuzz-dir "$root/$fuzz_dir" --target-dir "$target" --sanitizer none --no-trace-compares \
	-- -max_total_time="$seconds" -max_len=800 -print_final_stats=1 -jobs="$jobs" \
	-workers="$jobs") || status=$?
executions=0
for log in "$logs"/fuzz-*.log; do
	[ -e "$log" ] || continue
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	echo "fuzz: $(basename "$log"): ${runs:-?} executions, last: $(grep -E '(NEW|REDUCE|pulse) ' "$log" | tail -1 | cut -c1-90)"
	executions=$((executions + ${runs:-0}))
	if grep -qE '^==[0-9]+== ERROR: libFuzzer|deadly signal|panicked at' "$log"; then
		echo "fuzz: $(basename "$log") found a crash (input in $fuzz_dir/artifacts/$name):" >&2
		grep -m3 -E 'panicked at|ERROR: libFuzzer' "$log" >&2
		status=1
	fi
done
echo "fuzz: $executions executions in ${seconds} s by $jobs processes; corpus $(ls "$fuzz_dir/corpus/dispatch" | wc -l) inputs"
exit "$status"
