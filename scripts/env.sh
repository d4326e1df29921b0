# Sourced by the scripts: one persistent target directory outside the clone, shared by every
# checkout, so CI and later runs reuse the (slow) Substrate build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cm-target}"
mkdir -p "$CARGO_TARGET_DIR"
