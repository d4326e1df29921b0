#!/usr/bin/env bash
# The ink! certificate verifier (contracts/certificate-verifier, its own workspace): off-chain
# tests on the pallet's real certificates, then the contract built to wasm for pallet-contracts
# (wasm32v1-none: the MVP wasm pallet-contracts accepts; memory imported, see its
# .cargo/config.toml). `cargo contract build` would add wasm-opt and the metadata bundle;
# cargo-contract is not installed here (see docs/contract.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
cd contracts/certificate-verifier
echo "== ink! contract: fmt, clippy, test"
cargo fmt -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
echo "== ink! contract: wasm"
cargo rustc --locked --release --no-default-features --target wasm32v1-none --crate-type cdylib
wasm="$CARGO_TARGET_DIR/wasm32v1-none/release/certificate_verifier.wasm"
echo "contract wasm: $wasm ($(wc -c <"$wasm") bytes)"
