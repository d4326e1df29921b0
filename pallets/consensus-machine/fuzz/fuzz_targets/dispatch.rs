//! Arbitrary bytes as a sequence of calls against the pallet's test runtime, with blocks
//! advancing; `pallet_consensus_machine::fuzzing::run` panics on any broken invariant
//! (`try_state` at the end of each input).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
	pallet_consensus_machine::fuzzing::run(data);
});
