//! The runtime as a production chain builds it: without the `demo` feature, so with no
//! evaluator (`Config::Evaluator = ()`). Its pickets cannot judge, so no machine is created by
//! call and no round is opened: otherwise every honest picket would miss every duty, and be
//! banned and slashed for it.
//!
//! The workspace's `cargo test` builds this crate with `demo` (the tests crate asks for it), so
//! this file is empty there; `cargo test -p consensus-machine-runtime --test production` runs
//! it (scripts/test.sh does).
#![cfg(not(feature = "demo"))]

use consensus_machine_primitives::{EpsilonArg, ProbabilityArg};
use consensus_machine_runtime::{
	genesis_config_presets, pallet_consensus_machine::Error, ConsensusMachine, Runtime,
	RuntimeGenesisConfig, RuntimeOrigin, System,
};
use frame_support::{assert_noop, genesis_builder_helper::build_state};

/// Applies a preset (a JSON patch) to the full default config, as a chain-spec builder does.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

#[test]
fn without_an_evaluator_no_round_opens_and_no_picket_has_a_duty() {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, genesis_config_presets::development_config_genesis());
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(serde_json::to_vec(&config).unwrap())
			.expect("the development preset builds");
		System::set_block_number(1);
		let alice = genesis_config_presets::agent_account(0);
		// The preset's machines exist, but nobody can open a round of them or propose.
		assert!(pallet_consensus_machine::Machines::<Runtime>::get(0).is_some());
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(alice.clone()), 0, [1; 32]),
			Error::<Runtime>::NoEvaluator
		);
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(alice), 0, [2; 32], 10),
			Error::<Runtime>::NoEvaluator
		);
		// Nor can governance create a machine.
		assert_noop!(
			ConsensusMachine::create_machine(
				RuntimeOrigin::root(),
				8,
				ProbabilityArg { num: 1, den: 20 },
				EpsilonArg { num: 1, den: 1_000_000 },
				10,
				0,
				[0; 32],
			),
			Error::<Runtime>::NoEvaluator
		);
		let key = genesis_config_presets::agent_picket(0);
		assert!(ConsensusMachine::duties(&key).is_empty());
	});
}
