//! The pallets benchmarked in this runtime (built with `--features runtime-benchmarks`).
//!
//! The two pallets' benchmarks are in their `src/benchmarking.rs` and run as tests in CI;
//! `scripts/bench.sh` runs them over this runtime's wasm and writes each pallet's `weights.rs`
//! and `docs/capacity.md`.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_pickets, Pickets]
	[pallet_consensus_machine, ConsensusMachine]
);

impl frame_system_benchmarking::Config for crate::Runtime {}
impl frame_benchmarking::baseline::Config for crate::Runtime {}
