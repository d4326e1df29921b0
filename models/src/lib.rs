//! Model checks of consensus machines, with `stateright`.
//!
//! - [`handover_model`]: the on-chain handover protocol, driving the same
//!   `consensus_machine_primitives::handover` state machine the pallet runs, judged against the
//!   model's own record of the votes;
//! - [`distributed_model`]: the paper's own distributed protocol (`signals.csp`), with atomic
//!   and with regular registers, and with its thresholds changeable.
//!
//! The checks themselves are in `tests/model_check.rs`; `cargo test -p
//! consensus-machine-models --release -- --nocapture` prints the states explored and the time
//! per configuration. The crate depends on the primitives and `stateright` only, so that
//! `scripts/mutants.sh` can rebuild it for every mutant of the handover code in seconds.

pub mod distributed_model;
pub mod handover_model;
