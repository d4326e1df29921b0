//! Workspace-level verification of consensus machines.
//!
//! - [`handover_model`]: the on-chain handover protocol, driving the same
//!   `consensus_machine_primitives::handover` state machine the pallet runs;
//! - [`distributed_model`]: the paper's own distributed protocol (`signals.csp`), with atomic
//!   and with regular registers.
//!
//! The checks themselves are in `tests/model_check.rs`; `cargo test -p
//! consensus-machine-tests -- --nocapture` prints the states explored and the time per
//! configuration.

pub mod distributed_model;
pub mod handover_model;
