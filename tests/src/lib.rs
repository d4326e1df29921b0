//! Workspace-level tests of consensus machines (the code is in `tests/`):
//!
//! - `runtime.rs`: the real runtime from its development preset, natively;
//! - `e2e.rs`, `network.rs` (ignored by default; `scripts/e2e.sh` runs them): the real node and
//!   a three-node network over JSON-RPC, with `support/` as their client.
//!
//! The model checks are in the `consensus-machine-models` crate.
