//! `cm`: consensus-machine thresholds from the command line.
//!
//! Every number comes from `consensus-machine-primitives`, the same code the pallet runs; the
//! normal approximation is shown only next to the exact value, for comparison with the paper.

mod plot;
mod report;

use clap::{Parser, Subcommand, ValueEnum};
use consensus_machine_primitives::{Epsilon, Probability};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(name = "cm", version, about = "Consensus-machine thresholds, tables and planning")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// The decision rule of one committee: max_bad and the safe/strong thresholds.
	Thresholds {
		/// Slots in the committee.
		#[arg(long)]
		n: u32,
		/// Bound on the bad share of stake: a decimal (0.05) or a fraction (1/3), exact.
		#[arg(long)]
		p: Probability,
		/// Tolerated failure probability: 1e-18, 10^-18, a decimal or a fraction.
		#[arg(long, default_value = "1e-18")]
		epsilon: Epsilon,
		/// `exact` (big-integer binomial tail) or `normal` (the paper's approximation).
		#[arg(long, value_enum, default_value_t = Method::Exact)]
		method: Method,
		/// Print one JSON object.
		#[arg(long)]
		json: bool,
	},
	/// The paper's Table 1 (smallest agreement that contains a good slot) next to the exact one.
	Table1 {
		/// Print JSON.
		#[arg(long)]
		json: bool,
	},
	/// The paper's Table 2 (committee size for an honest majority) next to the exact one.
	Table2 {
		/// Print JSON.
		#[arg(long)]
		json: bool,
	},
	/// Committee sizes a deployment needs: primary, backup and honest majority.
	Plan {
		/// Bound on the bad share of stake.
		#[arg(long)]
		p: Probability,
		/// Tolerated failure probability.
		#[arg(long, default_value = "1e-18")]
		epsilon: Epsilon,
		/// Silent slots the primary must tolerate and still decide.
		#[arg(long, default_value_t = 0)]
		silent: u32,
		/// Print JSON.
		#[arg(long)]
		json: bool,
	},
	/// An SVG chart of the strong threshold as a fraction of N, exact against normal.
	Plot {
		/// Where to write the SVG.
		#[arg(long)]
		out: PathBuf,
		/// Tolerated failure probability.
		#[arg(long, default_value = "1e-18")]
		epsilon: Epsilon,
	},
}

/// How `max_bad` is computed.
#[derive(Clone, Copy, ValueEnum)]
pub enum Method {
	/// The exact binomial tail (what the chain uses).
	Exact,
	/// The paper's normal approximation with `z` the normal quantile of ε.
	Normal,
}

fn run(cli: Cli) -> Result<(), String> {
	match cli.command {
		Command::Thresholds { n, p, epsilon, method, json } => {
			report::thresholds(n, p, epsilon, method, json)
		}
		Command::Table1 { json } => report::table1(json),
		Command::Table2 { json } => report::table2(json),
		Command::Plan { p, epsilon, silent, json } => report::plan(p, epsilon, silent, json),
		Command::Plot { out, epsilon } => plot::write(&out, epsilon),
	}
}

fn main() -> ExitCode {
	let cli = match Cli::try_parse() {
		Ok(cli) => cli,
		Err(e) if !e.use_stderr() => {
			// --help and --version.
			print!("{e}");
			return ExitCode::SUCCESS;
		}
		Err(e) => {
			// One line: clap's message up to its first blank line (before the usage block).
			let text = e.render().to_string();
			let message: Vec<&str> =
				text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
			eprintln!("{}", message.join(" "));
			return ExitCode::from(2);
		}
	};
	match run(cli) {
		Ok(()) => ExitCode::SUCCESS,
		Err(message) => {
			eprintln!("error: {message}");
			ExitCode::FAILURE
		}
	}
}
