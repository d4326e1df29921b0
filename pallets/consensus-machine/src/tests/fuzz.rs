//! Fuzzed dispatch (`crate::fuzzing`): random inputs, a seeded batch that must reach the
//! pallet's deep paths, and the libFuzzer corpus replayed.

use crate::fuzzing::{run, run_checking_every_block, seeds, Stats};
use proptest::prelude::*;

proptest! {
	#![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..Default::default() })]

	/// Whatever the calls, no panic, failed calls change nothing, after every block the
	/// issuance is the genesis one, and at the end `try_state` passes (`run` checks all of it).
	#[test]
	fn random_call_sequences_keep_every_invariant(
		data in proptest::collection::vec(any::<u8>(), 0..2_000)
	) {
		run(&data);
	}
}

/// Inputs from a fixed seed (xorshift), so that the batch is the same on every machine.
fn seeded_inputs(count: usize, len: usize) -> Vec<Vec<u8>> {
	let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
	(0..count)
		.map(|_| {
			(0..len)
				.map(|_| {
					x ^= x << 13;
					x ^= x >> 7;
					x ^= x << 17;
					x as u8
				})
				.collect()
		})
		.collect()
}

/// The harness is only as good as the paths it reaches: a seeded batch must draw committees,
/// record statements and decisions, hand rounds over, record offences and slash.
#[test]
fn the_fuzz_harness_reaches_decisions_handovers_and_slashes() {
	let mut total = Stats::default();
	for input in seeded_inputs(12, 3_000) {
		total += run(&input);
	}
	println!("{total:?}");
	assert!(total.failed > 0 && total.refused > 0 && total.succeeded > 0, "{total:?}");
	assert!(total.drawn > 0, "no committee drawn: {total:?}");
	assert!(total.statements > 0, "no statement recorded: {total:?}");
	assert!(total.decisions > 0, "no decision: {total:?}");
	assert!(total.handovers > 0, "no handover: {total:?}");
	assert!(total.offences > 0, "no offence: {total:?}");
	assert!(total.slashes > 0, "no slash: {total:?}");
}

/// The corpus's seeds (the simulation's attacks and the hostile table's calls in the fuzzer's
/// language) still do what they were written for: were a step's byte layout to change, a
/// seed would silently become noise.
#[test]
fn the_seeds_reach_what_they_are_for() {
	for (name, input) in seeds() {
		let s = run_checking_every_block(&input);
		println!("{name}: {s:?}");
		let reached = match name {
			// 13 opens accepted and drawn; the fifth of one account and the one beyond the
			// queue refused.
			"seed-flood" => s.drawn == 13 && s.failed == 2,
			// The lone seat's green decided, challenged, overturned: its WrongVerdict and the
			// proposer's RedProposal, both applied.
			"seed-weak-machine" => {
				s.decisions == 1 && s.challenges == 1 && s.offences == 2 && s.slashes == 2
			}
			// The equivocation, the bogus red and the relabelled one are offences (and the
			// equivocator's green is refused).
			"seed-attacks-on-an-honest-object" => {
				s.offences == 3 && s.refused == 1 && s.statements == 7
			}
			"seed-handover" => s.handovers == 1 && s.decisions == 1,
			// Every call but the machine's creation and the unbond fails in dispatch, or (the
			// fee-less handover) in its authorise step.
			"seed-hostile-calls" => s.failed + s.refused == s.calls - 2 && s.refused == 1,
			_ => false,
		};
		assert!(reached, "{name} no longer reaches what it is for: {s:?}");
	}
}

/// Inputs of the libFuzzer corpus (`fuzz/corpus/dispatch`) replayed with `try_state` after
/// every block: the first `REPLAYED` by name (names are content hashes, so this is a fixed,
/// arbitrary sample; a debug build runs an input in about two seconds) and the seeds. `cargo
/// fuzz run dispatch` replays all of them.
#[test]
fn the_fuzz_corpus_replays() {
	const REPLAYED: usize = 32;
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dispatch");
	let mut files: Vec<_> = std::fs::read_dir(&dir)
		.expect("the corpus is in the repository")
		.map(|entry| entry.unwrap().path())
		.collect();
	files.sort();
	assert!(!files.is_empty(), "an empty corpus replays nothing");
	let seed_files = files
		.iter()
		.filter(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("seed-")));
	assert_eq!(seed_files.clone().count(), seeds().len(), "every seed is in the corpus");
	let mut total = Stats::default();
	for file in files.iter().take(REPLAYED).chain(seed_files) {
		total += run_checking_every_block(&std::fs::read(file).unwrap());
	}
	println!("{} of {} corpus inputs: {total:?}", files.len().min(REPLAYED), files.len());
}
