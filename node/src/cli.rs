//! Command-line interface.

use consensus_machine_demo::{parse_behaviour, Behaviour};
use sp_runtime::Percent;
use std::ops::Range;

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub agents: AgentParams,
}

/// The local picket agents (dev and test networks).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgentParams {
	/// Make a share of the local picket agents misbehave: `silent`, `equivocate`,
	/// `false-red` or `wrong-green`, with `=PERCENT` of the local picket keys (default 100).
	/// Repeatable; the sorted keys are dealt out to the behaviours in order, the rest are good.
	/// Example: `--picket-behaviour silent=30 --picket-behaviour equivocate=10`.
	#[arg(long = "picket-behaviour", value_name = "KIND[=PERCENT]", value_parser = parse_behaviour)]
	pub picket_behaviour: Vec<(Behaviour, Percent)>,

	/// Put the picket keys of dev agents FROM..TO (seeds `//Agent{i}//picket`) in the keystore.
	/// Default: all 20 with `--dev`, none otherwise. For the three-node local network, give
	/// each node its own range (e.g. `0..7`, `7..14`, `14..20`).
	#[arg(long, value_name = "FROM..TO", value_parser = parse_range)]
	pub dev_pickets: Option<Range<u32>>,
}

/// Parses `FROM..TO`.
fn parse_range(s: &str) -> Result<Range<u32>, String> {
	let (from, to) = s.split_once("..").ok_or("expected FROM..TO, e.g. 0..7")?;
	let from: u32 = from.parse().map_err(|e| format!("FROM: {e}"))?;
	let to: u32 = to.parse().map_err(|e| format!("TO: {e}"))?;
	if from > to {
		return Err("FROM must not exceed TO".into());
	}
	Ok(from..to)
}

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
pub enum Subcommand {
	/// Key management.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),
	/// Export the chain spec.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),
	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	#[test]
	fn behaviours_and_dev_pickets_parse() {
		let cli = Cli::try_parse_from([
			"node",
			"--picket-behaviour",
			"silent=30",
			"--picket-behaviour",
			"equivocate",
			"--dev-pickets",
			"7..14",
		])
		.unwrap();
		assert_eq!(
			cli.agents.picket_behaviour,
			vec![
				(Behaviour::Silent, Percent::from_percent(30)),
				(Behaviour::Equivocate, Percent::from_percent(100))
			]
		);
		assert_eq!(cli.agents.dev_pickets, Some(7..14));
		assert!(Cli::try_parse_from(["node", "--picket-behaviour", "loud"]).is_err());
		assert!(Cli::try_parse_from(["node", "--dev-pickets", "9..3"]).is_err());
		assert!(Cli::try_parse_from(["node", "--dev-pickets", "3"]).is_err());
	}
}
