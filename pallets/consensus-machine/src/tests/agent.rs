//! The off-chain picket agents.

use super::*;
use crate::agent::DemoEvaluator;
use codec::Decode;
use frame_support::traits::Hooks;
use sp_core::offchain::{
	testing::{TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use std::sync::Arc;

/// An externality with an off-chain worker, a pool and a keystore holding the picket keys of
/// `agents`; returns the pool's state too.
fn with_agents(
	agents: &[AccountId],
) -> (sp_io::TestExternalities, Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>) {
	let mut ext = ExtBuilder::default().build();
	let (offchain, _) = TestOffchainExt::new();
	let (pool, state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for a in agents {
		keystore
			.sr25519_generate_new(crate::crypto::KEY_TYPE, Some(&format!("//picket//{a}")))
			.unwrap();
	}
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state)
}

/// Takes the pool's transactions and applies them as the block builder would: authorise,
/// drop those no longer valid (e.g. statements after the decision), dispatch the rest with the
/// authorised origin. Returns how many were applied.
fn apply_pool(state: &parking_lot::RwLock<sp_core::offchain::testing::PoolState>) -> usize {
	let txs = std::mem::take(&mut state.write().transactions);
	let mut applied = 0;
	for tx in &txs {
		let xt = Extrinsic::decode(&mut &tx[..]).unwrap();
		let call = xt.function;
		if call.authorize(TransactionSource::Local).unwrap().is_err() {
			continue;
		}
		assert_ok!(frame_support::traits::UnfilteredDispatchable::dispatch_bypass_filter(
			call,
			RuntimeOrigin::from(frame_system::RawOrigin::Authorized)
		));
		applied += 1;
	}
	applied
}

#[test]
fn picket_agents_sign_their_duties_and_decide_a_notary_step() {
	let agents: Vec<AccountId> = (1..=10).collect();
	let (mut ext, state) = with_agents(&agents);
	ext.execute_with(|| {
		let machine = create_machine();
		let round = open(machine);
		let before = label(machine);
		ConsensusMachine::offchain_worker(1);
		assert_eq!(state.read().transactions.len(), seats(round).len(), "one statement per seat");
		assert!(apply_pool(&state) >= seats_to_threshold(round).len());
		let cert = Certificates::<Test>::get(round).expect("decided by the agents");
		let (output, to) = DemoEvaluator::notary_step(&before.hash, &h(9));
		let body = Body::Transition { step: 0, from: before.hash, output, to };
		assert_eq!(cert.statement.body, body);
		assert_eq!(label(machine), before.advance(&body).unwrap());
		// Nothing left to do.
		ConsensusMachine::offchain_worker(1);
		assert!(state.read().transactions.is_empty());
		ConsensusMachine::do_try_state().unwrap();
	});
}

#[test]
fn an_agent_without_keys_does_nothing() {
	let (mut ext, state) = with_agents(&[]);
	ext.execute_with(|| {
		let machine = create_machine();
		open(machine);
		ConsensusMachine::offchain_worker(1);
		assert!(state.read().transactions.is_empty());
	});
}

#[test]
fn agents_hand_a_timed_out_primary_over() {
	let (mut ext, state) = with_agents(&[]);
	ext.execute_with(|| {
		let levels = [4u32, 10].iter().map(|n| crate::types::LevelSpec {
			slots: *n,
			p: Probability::new(1, 100).unwrap(),
			epsilon: Epsilon::from_exponent(3).unwrap(),
			timeout: 5,
		});
		assert_ok!(ConsensusMachine::create_hierarchical_machine(
			RuntimeOrigin::root(),
			BoundedVec::truncate_from(levels.collect::<Vec<_>>()),
			DEPOSIT
		));
		let root = open(0);
		ConsensusMachine::offchain_worker(1);
		assert!(state.read().transactions.is_empty(), "not before the deadline");
		run_to_block(7);
		assert_eq!(ConsensusMachine::due_handovers(), vec![root]);
		ConsensusMachine::offchain_worker(7);
		assert_eq!(apply_pool(&state), 1);
		assert_eq!(Rounds::<Test>::get(root).unwrap().family.len(), 2);
	});
}
