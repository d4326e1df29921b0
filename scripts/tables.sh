#!/usr/bin/env bash
# The `cm` CLI printing the paper's threshold tables next to the exact
# ones, the committee plan for p = 0.1, and a chart (thresholds.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/setup.sh
cargo build --release -q -p consensus-machine-cli
cm="$CARGO_TARGET_DIR/release/cm"
"$cm" table1
echo
"$cm" table2
echo
"$cm" plan --p 0.1
echo
"$cm" plot --out thresholds.svg
