#!/usr/bin/env bash
# Everything CI checks: formatting, feature propagation (zepter), clippy (-D warnings) on the
# workspace's own crates, all tests natively (SKIP_WASM_BUILD=1), then the end-to-end tests on the
# real node (scripts/e2e.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export SKIP_WASM_BUILD=1
scripts/setup.sh
echo "== every test the docs name exists"
python3 scripts/check-docs.py
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== feature propagation (zepter)"
# std, runtime-benchmarks and try-runtime reach every dependency that has them (.config/zepter.yaml).
zepter run check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The pallets alone, as a production runtime builds them: without the `demo` feature.
cargo clippy --locked -p pallet-consensus-machine -p pallet-pickets --lib -- -D warnings
echo "== no_std: the runtime-side crates build for wasm32v1-none (the runtime without demo code)"
# substrate_runtime is the cfg substrate-wasm-builder sets; without it sp-io pulls native crypto.
RUSTFLAGS="--cfg substrate_runtime" cargo check --locked --target wasm32v1-none --no-default-features \
	-p consensus-machine-primitives -p consensus-machine-support -p pallet-consensus-machine -p pallet-pickets \
	-p consensus-machine-demo \
	-p consensus-machine-runtime-api -p consensus-machine-runtime
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"
echo "== the runtime as a production chain builds it: no demo feature, so no evaluator"
cargo test --locked -p consensus-machine-runtime --test production 2>&1 | tee -a "$log"
echo "== benchmarks and try-runtime: linted; the pallets' benchmarks run as tests; every pallet's"
echo "   try_state and the runtime's migrations checked on the development preset's genesis"
# One feature set for both, so the frame crates build once more, not twice.
features="runtime-benchmarks try-runtime"
cargo clippy --locked -p pallet-consensus-machine -p pallet-pickets -p consensus-machine-runtime \
	-p consensus-machine-tests --features "$features" --all-targets -- -D warnings
cargo test --locked -p pallet-consensus-machine -p pallet-pickets -p consensus-machine-tests --features "$features" \
	-- benchmarking try_state --skip the_byzantine_simulation 2>&1 | tee -a "$log"
echo "== the Byzantine simulation: 2,000 rounds, seed 1, every check after every block (optimised)"
scripts/simulate.sh --release --rounds 2000 --seed 1 2>&1 | tee -a "$log"
bash scripts/contract.sh 2>&1 | tee -a "$log"
SKIP_WASM_BUILD= bash scripts/e2e.sh 2>&1 | tee -a "$log"
# One closing line for the whole run (cargo's own last line is a doc-test crate's, often empty).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
	END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
