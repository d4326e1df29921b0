//! The consensus-machine dev node: Aura + GRANDPA over ParityDB, with the runtime's picket
//! agents running as off-chain workers.
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
