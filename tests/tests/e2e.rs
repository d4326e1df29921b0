//! End to end on the real dev node: `--dev --tmp` with 20 % of the local pickets silent
//! and a few equivocating. Waits (bounded) until rounds are decided with certificates that
//! re-verify off chain with the primitives, a hierarchical round was handed over and its
//! backup decided, an equivocation was recorded as an offence and slashed after the deferral,
//! and demo objects were judged green and red. The node is killed when the test ends, also when it fails.
//!
//! Ignored by plain `cargo test` (it needs the node binary): `scripts/e2e.sh` builds the node
//! and runs it, and `.ci/run` runs that script after the unit tests.

mod support;

use consensus_machine_primitives::{light::Light, statement::RoundId};
use consensus_machine_runtime::RuntimeEvent;
use pallet_consensus_machine::{types::OffenceKind, Event};
use pallet_pickets::Event as PicketsEvent;
use std::{
	collections::{BTreeMap, BTreeSet},
	time::{Duration, Instant},
};
use support::{free_port, Node};

/// What the test waits for.
#[derive(Debug, Default)]
struct Seen {
	blocks: u32,
	/// Rounds whose certificate re-verified off chain.
	verified: BTreeSet<RoundId>,
	/// Backup rounds started by handovers.
	backups: BTreeSet<RoundId>,
	/// Backup rounds decided (certificate re-verified).
	backups_decided: BTreeSet<RoundId>,
	equivocations: u32,
	/// Penalties of recorded equivocations, and how many of them were applied (slashed).
	equivocation_penalties: BTreeSet<u32>,
	equivocations_slashed: u32,
	misses: u32,
	lights: BTreeSet<String>,
	slashes: u32,
	/// The block at which each kind of event was first seen.
	first: BTreeMap<String, u32>,
}

impl Seen {
	fn done(&self) -> bool {
		self.verified.len() >= 3
			&& !self.backups_decided.is_empty()
			&& self.equivocations_slashed > 0
			&& self.lights.contains("Green")
			&& self.lights.contains("Red")
	}
}

#[test]
#[ignore = "needs the node binary: run scripts/e2e.sh"]
fn the_dev_node_decides_hands_over_and_punishes() {
	let port = free_port().to_string();
	let args = [
		"--dev",
		"--tmp",
		"--port",
		&port,
		"--picket-behaviour",
		"silent=20",
		"--picket-behaviour",
		"equivocate=10",
	];
	let mut node = Node::start("e2e-dev", &args.map(String::from));
	let started = Instant::now();
	node.wait_for_rpc(Duration::from_secs(300));
	let deadline = Instant::now() + Duration::from_secs(600);
	let mut seen = Seen::default();
	let mut next = 1;
	while !seen.done() {
		if Instant::now() > deadline {
			node.fail(&format!("timed out waiting; seen so far: {seen:?}"));
		}
		let best = node.best_number();
		while next <= best {
			let Some(hash) = node.block_hash(next) else { break };
			for event in node.events(hash) {
				let name = match &event {
					RuntimeEvent::ConsensusMachine(event) => format!("{event:?}"),
					RuntimeEvent::Pickets(event) => format!("{event:?}"),
					_ => continue,
				};
				let kind = name.split([' ', '(']).next().unwrap_or_default();
				let kind = kind.trim_start_matches("Event::").to_string();
				seen.first.entry(kind).or_insert(next);
				let event = match event {
					RuntimeEvent::ConsensusMachine(event) => event,
					RuntimeEvent::Pickets(event) => {
						match event {
							PicketsEvent::OffenceRecorded {
								kind: OffenceKind::Equivocation,
								penalty,
								..
							} => {
								seen.equivocations += 1;
								seen.equivocation_penalties.insert(penalty);
							}
							PicketsEvent::DutyMissed { .. } => seen.misses += 1,
							PicketsEvent::PenaltyApplied { penalty, .. } => {
								seen.slashes += 1;
								if seen.equivocation_penalties.contains(&penalty) {
									seen.equivocations_slashed += 1;
								}
							}
							_ => {}
						}
						continue;
					}
					_ => continue,
				};
				match event {
					Event::CertificateRecorded { round, .. } => {
						node.verify_certificate(round, hash)
							.unwrap_or_else(|e| node.fail(&format!("certificate: {e}")));
						seen.verified.insert(round);
						if seen.backups.contains(&round) {
							seen.backups_decided.insert(round);
						}
					}
					Event::HandoverStarted { backup_round, .. } => {
						seen.backups.insert(backup_round);
					}
					Event::LightDecided { light, .. } => {
						seen.lights.insert(format!("{light:?}"));
					}
					_ => {}
				}
			}
			seen.blocks = next;
			next += 1;
		}
		std::thread::sleep(Duration::from_secs(1));
	}
	assert!(seen
		.lights
		.iter()
		.all(|l| [Light::Green, Light::Amber, Light::Red].iter().any(|x| format!("{x:?}") == *l)));
	println!(
		"e2e dev node: {} blocks in {:.0?}: {} certificates re-verified, {} handovers ({} backups \
		 decided), {} equivocations recorded, {} missed duties, {} slashes applied, lights {:?}; \
		 first seen at block: {:?}",
		seen.blocks,
		started.elapsed(),
		seen.verified.len(),
		seen.backups.len(),
		seen.backups_decided.len(),
		seen.equivocations,
		seen.misses,
		seen.slashes,
		seen.lights,
		seen.first
	);
}
