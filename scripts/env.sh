# Sourced by the scripts: one persistent target directory outside the clone, shared by every
# checkout, so CI and later runs reuse the (slow) Substrate build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cm-target}"
mkdir -p "$CARGO_TARGET_DIR"
# The wasm runtime builder looks for the workspace's Cargo.lock above its output directory,
# which lives in the shared target directory: point it at this clone.
export WASM_BUILD_WORKSPACE_HINT="${WASM_BUILD_WORKSPACE_HINT:-$(pwd)}"
