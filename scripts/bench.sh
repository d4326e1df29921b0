#!/usr/bin/env bash
# Regenerates the two pallets' weights (pallets/consensus-machine/src/weights.rs and
# pallets/pickets/src/weights.rs) and the capacity report (docs/capacity.md) in one run on this
# machine: the runtime's wasm built with
# `runtime-benchmarks`, run by frame-omni-bencher (the standard tool, the version of the
# polkadot-sdk release this project pins), then the report computed from the same run's
# results, beside frame-benchmarking's own sr25519 baseline.
#
#   scripts/bench.sh                 # steps 10, repeat 5
#   STEPS=50 REPEAT=20 scripts/bench.sh
#   scripts/bench.sh --report-only   # docs/capacity.md again from the last run's results
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

STEPS="${STEPS:-10}"
REPEAT="${REPEAT:-5}"
OMNI_VERSION=0.28.0
results=target/bench
mkdir -p "$results"

if [ "${1:-}" != "--report-only" ]; then
	if ! frame-omni-bencher --version 2>/dev/null | grep -q "$OMNI_VERSION"; then
		echo "== installing frame-omni-bencher $OMNI_VERSION (once; its own target directory)"
		# Its default features build RocksDB, which needs libclang.
		command -v apt-get >/dev/null && ! [ -e /usr/lib/llvm-14/lib/libclang.so ] &&
			apt-get install -y libclang-dev >/dev/null
		CARGO_TARGET_DIR="$HOME/.cache/omni-target" cargo install --locked \
			frame-omni-bencher --version "$OMNI_VERSION"
	fi
	echo "== the runtime's wasm, with runtime-benchmarks"
	unset SKIP_WASM_BUILD
	cargo build --locked -p consensus-machine-runtime --features runtime-benchmarks
	wasm="$CARGO_TARGET_DIR/debug/wbuild/consensus-machine-runtime/consensus_machine_runtime.wasm"
	bench() {
		frame-omni-bencher v1 benchmark pallet --runtime "$wasm" \
			--genesis-builder-preset development --steps "$STEPS" --repeat "$REPEAT" "$@"
	}
	# The last run's results stay for the report's before-and-after table.
	if [ -e "$results/pallet.json" ] && [ -e "$results/baseline.json" ] && [ -e "$results/run.txt" ]; then
		rm -rf "$results/previous"
		mkdir -p "$results/previous"
		mv "$results"/pallet.json "$results"/baseline.json "$results"/run.txt "$results/previous/"
		[ -e "$results/pickets.json" ] && mv "$results/pickets.json" "$results/previous/"
	fi
	echo "== pallet_consensus_machine: steps $STEPS, repeat $REPEAT"
	bench --pallet pallet_consensus_machine --extrinsic '*' \
		--header scripts/weights-header.txt --template scripts/weights-template.hbs \
		--output pallets/consensus-machine/src/weights.rs --output-analysis max \
		--json-file "$results/pallet.json"
	echo "== pallet_pickets: steps $STEPS, repeat $REPEAT"
	bench --pallet pallet_pickets --extrinsic '*' \
		--header scripts/weights-header.txt --template scripts/weights-template.hbs \
		--output pallets/pickets/src/weights.rs --output-analysis max \
		--json-file "$results/pickets.json"
	echo "== frame_benchmarking baseline: sr25519_verification"
	bench --pallet frame_benchmarking --extrinsic sr25519_verification \
		--json-file "$results/baseline.json"
	{
		echo "machine: $(hostname), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
		echo "date: $(date -u +%Y-%m-%d)"
		echo "steps: $STEPS, repeat: $REPEAT"
		echo "tool: $(frame-omni-bencher --version)"
	} >"$results/run.txt"
	cargo fmt -p pallet-consensus-machine -p pallet-pickets
fi

echo "== docs/capacity.md"
python3 scripts/capacity.py "$results" >docs/capacity.md
echo "wrote pallets/consensus-machine/src/weights.rs, pallets/pickets/src/weights.rs and docs/capacity.md"
