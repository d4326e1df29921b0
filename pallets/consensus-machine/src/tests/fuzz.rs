//! Fuzzed dispatch (`crate::fuzzing`): random inputs, a seeded batch that must reach the
//! pallet's deep paths, and the libFuzzer corpus replayed.

use crate::fuzzing::{run, run_checking_every_block, Stats};
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

/// Inputs of the libFuzzer corpus (`fuzz/corpus/dispatch`) replayed with `try_state` after
/// every block: the first `REPLAYED` by name (names are content hashes, so this is a fixed,
/// arbitrary sample; a debug build runs an input in about two seconds). `cargo fuzz run
/// dispatch` replays all of them.
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
	let mut total = Stats::default();
	for file in files.iter().take(REPLAYED) {
		total += run_checking_every_block(&std::fs::read(file).unwrap());
	}
	println!("{} of {} corpus inputs: {total:?}", files.len().min(REPLAYED), files.len());
}
