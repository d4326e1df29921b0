//! The `dispatch` target with the pallet's `try_state` after every block, not only at the end
//! of the input: slower, and it names the block that broke an invariant.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
	pallet_consensus_machine::fuzzing::run_checking_every_block(data);
});
