//! Exhaustive model checks of the handover protocol (paper §8–9).
//!
//! Run with `-- --nocapture` to see states explored and time per configuration.

use consensus_machine_models::{
	distributed_model::{DistributedModel, PreDecisions, Registers, Thresholds},
	handover_model::{HandoverModel, Heavy, LevelSpec, OwnValue},
};
use stateright::{Checker, HasDiscoveries, Model};
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

/// Checks `model` exhaustively (breadth first, stopping at the first broken property);
/// returns unique states and the broken `always` and `eventually` properties, each with the
/// path that breaks it, printed.
fn check(model: HandoverModel) -> (usize, Vec<&'static str>) {
	// The `sometimes` are non-vacuity checks, each for a configuration with room for it.
	let properties: Vec<_> = model
		.properties()
		.into_iter()
		.filter(|p| p.expectation != stateright::Expectation::Sometimes)
		.collect();
	let label = format!("{:?} {:?}", model.levels, model.own_value);
	let checker = model.checker().finish_when(HasDiscoveries::AnyFailures).spawn_bfs().join();
	let broken = failed(properties, |name| checker.discovery(name).is_some());
	for name in &broken {
		let path = checker.discovery(name).expect("a discovery").into_actions();
		println!("{label}: {name} broken by {path:?}");
	}
	(checker.unique_state_count(), broken)
}

/// Every level spec with `slots` in `sizes`, each `max_bad` allowed by `complete`, each number
/// of bad slots up to it, and every seating: single seats only, and one heavy seat of any
/// weight from two slots up, held by a good or a bad agent, wherever there are that many such
/// slots.
fn specs(sizes: std::ops::RangeInclusive<u32>, complete: bool) -> Vec<LevelSpec> {
	let mut seatings = vec![Heavy::None];
	for weight in 2..=*sizes.end() {
		seatings.extend([Heavy::Good(weight), Heavy::Bad(weight)]);
	}
	seated(sizes, complete, &seatings)
}

/// As [`specs`], with the given seatings only (those a level has room for).
fn seated(
	sizes: std::ops::RangeInclusive<u32>,
	complete: bool,
	seatings: &[Heavy],
) -> Vec<LevelSpec> {
	let mut out = Vec::new();
	for slots in sizes {
		for max_bad in 0..slots {
			// A primary must be safe (max_bad < N); a backup complete (3·max_bad < N).
			if complete && 3 * max_bad >= slots {
				continue;
			}
			for bad in 0..=max_bad {
				for &heavy in seatings {
					let spec = LevelSpec { slots, max_bad, bad, heavy };
					if spec.is_valid() {
						out.push(spec);
					}
				}
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
				let (n, broken) = check(HandoverModel::new(vec![g, h], own_value));
				assert!(broken.is_empty(), "G {g:?} H {h:?} {own_value:?}: {broken:?}");
				states += n;
				configurations += 1;
			}
			total_states += states;
			println!(
				"{own_value:?} G {g:?} × every complete H (N ≤ 5): {states} states, {:?}",
				started.elapsed()
			);
		}
	}
	println!(
		"two levels: {configurations} configurations, {total_states} states, {:?}",
		start.elapsed()
	);
	assert_eq!(configurations, 2 * specs(1..=5, false).len() * specs(1..=5, true).len());
}

/// The heavy seats of the three-level check: two or three slots, good or bad.
const HEAVY: [Heavy; 4] = [Heavy::Good(2), Heavy::Bad(2), Heavy::Good(3), Heavy::Bad(3)];

#[test]
fn three_levels_hand_over_twice_without_forking() {
	// Every level of single seats (G and the middle level ≤ 3 slots, H ≤ 4), then every level
	// with a heavy seat of two or three slots (good or bad). Mixing the two per level as well
	// would take several times as long; the two-level check mixes them.
	for (name, seatings) in [("single seats", &[Heavy::None][..]), ("a heavy seat", &HEAVY[..])] {
		let start = Instant::now();
		let mut total = 0;
		let mut configurations = 0;
		for own_value in [OwnValue::Common, OwnValue::Individual] {
			for g in seated(1..=3, false, seatings) {
				for m in seated(1..=3, false, seatings) {
					for h in seated(1..=4, true, seatings) {
						let (n, broken) = check(HandoverModel::new(vec![g, m, h], own_value));
						assert!(broken.is_empty(), "{g:?} {m:?} {h:?} {own_value:?}: {broken:?}");
						total += n;
						configurations += 1;
					}
				}
			}
		}
		println!(
			"three levels, {name} at every level: {configurations} configurations, {total} \
			 states, {:?}",
			start.elapsed()
		);
	}
}

#[test]
fn four_levels_carry_a_requirement_over_two_stalled_levels() {
	// The most levels a machine may have: single seats, one or two slots a level.
	let start = Instant::now();
	let (mut total, mut configurations) = (0, 0);
	let small = seated(1..=2, false, &[Heavy::None]);
	for own_value in [OwnValue::Common, OwnValue::Individual] {
		for g in &small {
			for m in &small {
				for n in &small {
					for h in seated(1..=2, true, &[Heavy::None]) {
						let model = HandoverModel::new(vec![*g, *m, *n, h], own_value);
						let (states, broken) = check(model);
						assert!(broken.is_empty(), "{g:?} {m:?} {n:?} {h:?}: {broken:?}");
						total += states;
						configurations += 1;
					}
				}
			}
		}
	}
	println!("four levels: {configurations} configurations, {total} states, {:?}", start.elapsed());
}

#[test]
fn both_levels_can_decide_and_a_backup_can_bring_its_own_value() {
	// Non-vacuity: in a configuration with room for all of them, every `sometimes` is reached
	// and nothing is broken.
	let g = LevelSpec { slots: 3, max_bad: 1, bad: 1, heavy: Heavy::Good(2) };
	let h = LevelSpec { slots: 4, max_bad: 1, bad: 1, heavy: Heavy::Good(3) };
	let model = HandoverModel::new(vec![g, h], OwnValue::Common);
	let checker = model.checker().spawn_bfs().join();
	checker.assert_properties();
}

/// Checks the distributed model depth first with symmetry reduction; returns unique states and
/// failed properties.
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
			let model = DistributedModel::new(pn, pg, sn, sg, registers);
			let (states, failed) = check_distributed(model);
			println!(
				"paper's protocol {registers:?} PN={pn} PG={pg} SN={sn} SG={sg}: {states} states, \
				 {:?}, failing: {failed:?}",
				started.elapsed()
			);
			// Safe in both. Live only in the paper's: with PN = 4, PG = 2 (PDT = NDT = 2) a
			// backup that reads the good primaries as Null (not yet written) and the bad ones
			// as V1 has two of each and can decide neither, while the good primaries, seeing
			// it started, never finalise.
			let expected: &[&str] = if pn == 3 { &[] } else { &["something decides"] };
			assert_eq!(failed, expected, "{registers:?} ({pn},{pg},{sn},{sg})");
		}
	}
}

/// The safety properties `model` breaks (`G and H agree`, `H agrees with itself`), each
/// counterexample printed.
fn unsafe_properties(model: DistributedModel) -> Vec<&'static str> {
	let label = format!("{:?} {:?}", model.thresholds, model.registers);
	let checker = model.checker().symmetry().spawn_dfs().join();
	let mut broken = Vec::new();
	for name in ["G and H agree", "H agrees with itself"] {
		if let Some(path) = checker.discovery(name) {
			println!("{label}: {name} broken by {:?}", path.into_actions());
			broken.push(name);
		}
	}
	broken
}

#[test]
fn each_threshold_of_the_papers_protocol_lowered_by_one() {
	// The paper's configuration: PT = 3, PDT = NDT = 1, ST = 3, STT = 3.
	let paper = Thresholds::paper(3, 2, 4, 3);
	assert_eq!(paper, Thresholds { pt: 3, pdt: 1, ndt: 1, st: 3, stt: 3 });
	type Lower = fn(&mut Thresholds);
	let cases: [(&str, Lower, &[&str]); 5] = [
		// G decides with one good finalised primary and the bad one; H, started after it
		// finalised, reads the other good primary's Null and the bad one's: V2.
		("PT", |t| t.pt -= 1, &["G and H agree"]),
		// H decides V1 on one V1 read, perhaps the bad primary's, but V1 is G's only value and
		// two good backups must agree for H to decide: nothing conflicts.
		("PDT", |t| t.pdt -= 1, &[]),
		// H decides V2 on one Null read (the bad primary's) after G decided V1.
		("NDT", |t| t.ndt -= 1, &["G and H agree"]),
		// H decides with one good backup and the bad one, for each value.
		("ST", |t| t.st -= 1, &["H agrees with itself"]),
		// A primary finalises with one good backup started; that backup alone, with the bad
		// one, cannot make H decide V2.
		("STT", |t| t.stt -= 1, &[]),
	];
	for registers in [Registers::Atomic, Registers::Regular] {
		for (name, lower, expected) in cases {
			let mut model = DistributedModel::new(3, 2, 4, 3, registers);
			lower(&mut model.thresholds);
			let started = Instant::now();
			let broken = unsafe_properties(model);
			println!("{name} − 1, {registers:?}: breaks {broken:?}, {:?}", started.elapsed());
			assert_eq!(broken, expected, "{name} − 1 with {registers:?} registers");
		}
	}
}

#[test]
fn the_papers_protocol_always_decides_something_in_its_configuration() {
	// The CSP's `LIVE` assertions, with and without `CONVERGENCE`: every run that goes on to
	// its end decides (G, or H either value).
	for registers in [Registers::Atomic, Registers::Regular] {
		for pre_decisions in [PreDecisions::Free, PreDecisions::Converging] {
			let mut model = DistributedModel::new(3, 2, 4, 3, registers);
			model.pre_decisions = pre_decisions;
			let checker = model.checker().symmetry().spawn_dfs().join();
			assert!(
				checker.discovery("something decides").is_none(),
				"{registers:?} {pre_decisions:?}: {:?}",
				checker.discovery("something decides").map(|p| p.into_actions())
			);
			println!(
				"LIVE {registers:?} {pre_decisions:?}: holds, {} states",
				checker.unique_state_count()
			);
		}
	}
}
