#!/usr/bin/env bash
# Installs what building and testing this workspace needs, idempotently:
#   - the Rust toolchain's wasm32v1-none target and rust-src (the runtime's wasm build),
#   - clippy and rustfmt (the checks in .ci/run),
#   - protoc (Debian protobuf-compiler: the node's networking crates),
#   - zepter (cargo install: the feature-propagation check in scripts/test.sh).
# Fails with a message that says what is missing and how to get it.
set -euo pipefail

fail() { echo "setup: $*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1 \
	|| fail "cargo/rustup not found: install Rust with rustup (https://rustup.rs) and re-run"

installed_targets=$(rustup target list --installed)
if ! grep -qx wasm32v1-none <<<"$installed_targets"; then
	echo "setup: adding rustup target wasm32v1-none"
	rustup target add wasm32v1-none >/dev/null \
		|| fail "'rustup target add wasm32v1-none' failed: the runtime's wasm build needs it"
fi
installed_components=$(rustup component list --installed)
for component in rust-src clippy rustfmt; do
	if ! grep -q "^${component}" <<<"$installed_components"; then
		echo "setup: adding rustup component $component"
		rustup component add "$component" >/dev/null \
			|| fail "'rustup component add $component' failed"
	fi
done

if ! command -v protoc >/dev/null 2>&1; then
	echo "setup: installing protobuf-compiler (protoc)"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || fail "protoc missing and not root: install Debian package protobuf-compiler"
		sudo=sudo
	fi
	command -v apt-get >/dev/null 2>&1 || fail "protoc missing and no apt-get: install protobuf-compiler (protoc) by hand"
	$sudo apt-get update -qq >/dev/null || fail "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq protobuf-compiler >/dev/null \
		|| fail "apt-get install protobuf-compiler failed"
fi
command -v cc >/dev/null 2>&1 || fail "no C compiler (cc): install Debian package build-essential"

# Feature propagation check (.config/zepter.yaml); the version the config was written for.
zepter_version=1.88.2
if ! zepter --version 2>/dev/null | grep -qx "zepter $zepter_version"; then
	echo "setup: installing zepter $zepter_version (cargo install, a few minutes)"
	cargo install zepter --locked --version "$zepter_version" --quiet \
		|| fail "'cargo install zepter --locked --version $zepter_version' failed: scripts/test.sh checks feature propagation with it"
	command -v zepter >/dev/null 2>&1 \
		|| fail "zepter installed but not on PATH: add \$HOME/.cargo/bin (cargo's bin directory) to PATH"
fi
