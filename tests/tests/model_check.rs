//! Exhaustive model checks of the handover protocol (paper §8–9).
//!
//! Run with `-- --nocapture` to see states explored and time per configuration.

use consensus_machine_primitives::handover::Mutation;
use consensus_machine_tests::{
	distributed_model::{DistributedModel, Registers},
	handover_model::{HandoverModel, LevelSpec, OwnValue},
};
use stateright::{Checker, Model};
use std::time::Instant;

/// The properties that failed, given whether the checker made a discovery for each: an
/// `always` or `eventually` with a counterexample, or a `sometimes` without an example.
fn failed<M: Model>(
	properties: Vec<stateright::Property<M>>,
	discovered: impl Fn(&'static str) -> bool,
) -> Vec<&'static str> {
	properties
		.iter()
		.filter(|p| match p.expectation {
			stateright::Expectation::Sometimes => !discovered(p.name),
			_ => discovered(p.name),
		})
		.map(|p| p.name)
		.collect()
}

/// Checks `model` exhaustively (breadth first); returns unique states and failed properties.
fn check(model: HandoverModel) -> (usize, Vec<&'static str>) {
	let properties = model.properties();
	let checker = model.checker().spawn_bfs().join();
	(checker.unique_state_count(), failed(properties, |name| checker.discovery(name).is_some()))
}

/// Every level spec with `slots` in `sizes`, each `max_bad` allowed by `complete`, each number
/// of bad slots up to it.
fn specs(sizes: std::ops::RangeInclusive<u32>, complete: bool) -> Vec<LevelSpec> {
	let mut out = Vec::new();
	for slots in sizes {
		for max_bad in 0..slots {
			// A primary must be safe (max_bad < N); a backup complete (3·max_bad < N).
			if complete && 3 * max_bad >= slots {
				continue;
			}
			for bad in 0..=max_bad {
				out.push(LevelSpec { slots, max_bad, bad });
			}
		}
	}
	out
}

#[test]
fn the_on_chain_handover_is_safe_and_live_for_every_small_configuration() {
	let mut total_states = 0usize;
	let mut configurations = 0usize;
	let start = Instant::now();
	for own_value in [OwnValue::Common, OwnValue::Individual] {
		for g in specs(1..=5, false) {
			let started = Instant::now();
			let mut states = 0;
			for h in specs(1..=5, true) {
				let (n, failed) = check(HandoverModel::new(vec![g, h], own_value));
				// "primary decides" is unreachable when G cannot reach its threshold
				// without bad slots that may stay silent: only safety must hold everywhere.
				let failed: Vec<_> =
					failed.into_iter().filter(|p| !p.ends_with("decides")).collect();
				assert!(failed.is_empty(), "G {g:?} H {h:?} {own_value:?}: {failed:?} fail");
				states += n;
				configurations += 1;
			}
			total_states += states;
			println!(
				"{own_value:?} G(n={}, max_bad={}, bad={}) × every complete H(n≤5): {states} states, {:?}",
				g.slots,
				g.max_bad,
				g.bad,
				started.elapsed()
			);
		}
	}
	println!(
		"two levels: {configurations} configurations, {total_states} states, {:?}",
		start.elapsed()
	);
	assert_eq!(configurations, 2 * 35 * 9);
}

#[test]
fn three_levels_hand_over_twice_without_forking() {
	let start = Instant::now();
	let mut total = 0;
	let mut configurations = 0;
	for own_value in [OwnValue::Common, OwnValue::Individual] {
		for g in specs(1..=3, false) {
			for m in specs(1..=3, false) {
				for h in specs(1..=4, true) {
					let (n, failed) = check(HandoverModel::new(vec![g, m, h], own_value));
					let failed: Vec<_> =
						failed.into_iter().filter(|p| !p.ends_with("decides")).collect();
					assert!(failed.is_empty(), "{g:?} {m:?} {h:?} {own_value:?}: {failed:?}");
					total += n;
					configurations += 1;
				}
			}
		}
	}
	println!(
		"three levels: {configurations} configurations, {total} states, {:?}",
		start.elapsed()
	);
}

#[test]
fn both_levels_can_decide_and_the_backup_can_decide_its_own_value() {
	// Non-vacuity: in a configuration with room for both, every `sometimes` is reached.
	let g = LevelSpec { slots: 3, max_bad: 1, bad: 1 };
	let h = LevelSpec { slots: 4, max_bad: 1, bad: 1 };
	let model = HandoverModel::new(vec![g, h], OwnValue::Common);
	let checker = model.checker().spawn_bfs().join();
	checker.assert_properties();
}

/// Finds a counterexample to `property` for `mutation` in some small configuration.
fn caught(mutation: Mutation, property: &'static str, own_value: OwnValue) -> bool {
	for g in specs(1..=4, false) {
		for h in specs(1..=4, true) {
			let mut model = HandoverModel::new(vec![g, h], own_value);
			model.mutation = Some(mutation);
			let checker = model.checker().spawn_bfs().join();
			if let Some(path) = checker.discovery(property) {
				println!(
					"{mutation:?} breaks {property} with G {g:?} H {h:?}: {:?}",
					path.into_actions()
				);
				return true;
			}
		}
	}
	false
}

#[test]
fn a_primary_that_still_decides_after_the_handover_forks() {
	assert!(caught(Mutation::LatePrimary, "agreement", OwnValue::Common));
}

#[test]
fn a_backup_that_ignores_the_pre_decisions_loses_primacy() {
	assert!(caught(Mutation::IgnoreAdoption, "primacy", OwnValue::Common));
}

#[test]
fn a_backup_threshold_one_below_strong_admits_conflicting_certificates() {
	assert!(caught(
		Mutation::BackupThresholdOneBelow,
		"certificate agreement",
		OwnValue::Individual
	));
}

/// Checks the distributed model depth first with symmetry reduction.
fn check_distributed(model: DistributedModel) -> (usize, Vec<&'static str>) {
	let properties = model.properties();
	let checker = model.checker().symmetry().spawn_dfs().join();
	(checker.unique_state_count(), failed(properties, |name| checker.discovery(name).is_some()))
}

#[test]
fn the_papers_distributed_protocol_is_safe_in_its_configuration_and_a_larger_one() {
	for registers in [Registers::Atomic, Registers::Regular] {
		for (pn, pg, sn, sg) in [(3, 2, 4, 3), (4, 2, 5, 3)] {
			let started = Instant::now();
			let model = DistributedModel { pn, pg, sn, sg, registers };
			let (states, failed) = check_distributed(model);
			println!(
				"paper's protocol {registers:?} PN={pn} PG={pg} SN={sn} SG={sg}: {states} states, \
				 {:?}, failing: {failed:?}",
				started.elapsed()
			);
			assert!(failed.is_empty(), "{registers:?} ({pn},{pg},{sn},{sg}): {failed:?}");
		}
	}
}
