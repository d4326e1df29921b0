//! The consensus-machine dev node: BABE + GRANDPA over ParityDB, with the runtime's picket
//! agents running as off-chain workers.
//!
//! Beyond a standard node: `--dev` puts the 20 dev agents' picket keys in the keystore
//! (`--dev-pickets FROM..TO` chooses which, on any chain); `--picket-behaviour KIND[=PERCENT]`
//! makes a share of the local pickets misbehave (dev and test networks, see
//! `pallet_consensus_machine::agent`); and `watch.rs` logs what the consensus machines do, each
//! certificate re-verified off chain.
// `sc_cli::Error` and `sc_service::Error` are Substrate's own (large) error types; the node's
// functions return them as the service builder does.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;
mod watch;

fn main() -> sc_cli::Result<()> {
	command::run()
}
