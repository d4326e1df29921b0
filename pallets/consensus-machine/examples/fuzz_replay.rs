//! Replays fuzz inputs through `fuzzing::run` and reports executions a second: the throughput
//! a libFuzzer run of the `dispatch` target can reach before its own instrumentation.
//!
//! `cargo run --release -p pallet-consensus-machine --features fuzzing --example fuzz_replay
//! [DIR] [ROUNDS]` (default: the saved corpus, once); `-- --seeds DIR` writes the corpus's
//! seeds (`fuzzing::seeds`) into `DIR` instead.

use std::time::Instant;

fn main() {
	let mut args = std::env::args().skip(1).peekable();
	if args.next_if_eq("--seeds").is_some() {
		let dir = args.next().expect("--seeds DIR");
		for (name, input) in pallet_consensus_machine::fuzzing::seeds() {
			let path = std::path::Path::new(&dir).join(name);
			std::fs::write(&path, input).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
			println!("{}", path.display());
		}
		return;
	}
	let dir = args.next().unwrap_or_else(|| {
		concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/dispatch").to_string()
	});
	let rounds: u32 = args.next().map_or(1, |r| r.parse().expect("ROUNDS is a number"));
	let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
		.unwrap_or_else(|e| panic!("cannot read {dir}: {e}"))
		.map(|entry| std::fs::read(entry.expect("a directory entry").path()).expect("readable"))
		.collect();
	inputs.sort();
	let bytes: usize = inputs.iter().map(Vec::len).sum();
	let start = Instant::now();
	let mut stats = pallet_consensus_machine::fuzzing::Stats::default();
	for _ in 0..rounds {
		for input in &inputs {
			stats += pallet_consensus_machine::fuzzing::run(input);
		}
	}
	let secs = start.elapsed().as_secs_f64();
	let execs = inputs.len() as f64 * f64::from(rounds);
	println!(
		"{} inputs ({} bytes) x {rounds}: {:.1} s, {:.0} executions/s; {stats:?}",
		inputs.len(),
		bytes,
		secs,
		execs / secs
	);
}
