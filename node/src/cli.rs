//! Command-line interface.

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,
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
