//! The off-chain picket agents.

use super::*;
use crate::types::OffenceKind;
use codec::Decode;
use consensus_machine_primitives::light::{Light, ObjectRef};
use frame_support::traits::Hooks;
use sp_core::offchain::{
	testing::{TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use std::sync::Arc;

/// The transaction pool of a test externality.
pub(super) type Pool = Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>;

/// A keystore holding the picket keys of `agents`.
pub(super) fn keystore_of(agents: &[AccountId]) -> MemoryKeystore {
	let keystore = MemoryKeystore::new();
	for a in agents {
		keystore
			.sr25519_generate_new(crate::crypto::KEY_TYPE, Some(&format!("//picket//{a}")))
			.unwrap();
	}
	keystore
}

/// An externality of a node with an off-chain worker (its off-chain database `offchain`), a
/// pool and `keystore`; returns the pool's state too.
pub(super) fn node_ext(
	offchain: TestOffchainExt,
	keystore: MemoryKeystore,
) -> (sp_io::TestExternalities, Pool) {
	let mut ext = ExtBuilder::default().build();
	let (pool, state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state)
}

/// An externality with an off-chain worker, a pool and a keystore holding the picket keys of
/// `agents`; returns the pool's state too.
pub(super) fn with_agents(agents: &[AccountId]) -> (sp_io::TestExternalities, Pool) {
	node_ext(TestOffchainExt::new().0, keystore_of(agents))
}

/// Runs `test` in `ext`, then checks the pallet's invariants (as `build_and_execute` does).
pub(super) fn execute_checked(ext: &mut sp_io::TestExternalities, test: impl FnOnce()) {
	ext.execute_with(|| {
		test();
		ConsensusMachine::do_try_state().expect("invariants hold");
	});
}

/// Takes the pool's transactions and applies them as the block builder would: authorise,
/// drop those no longer valid (e.g. statements after the decision), dispatch the rest with the
/// authorised origin. Returns how many were applied.
pub(super) fn apply_pool(
	state: &parking_lot::RwLock<sp_core::offchain::testing::PoolState>,
) -> usize {
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
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		let machine = create_machine();
		let round = open(machine);
		let before = label(machine);
		ConsensusMachine::offchain_worker(1);
		assert_eq!(state.read().transactions.len(), seats(round).len(), "one statement per seat");
		// The worker signs in key order, so the pool holds the statements in key order: they
		// are applied until their slots reach the threshold, the rest refused as stale.
		let threshold = Rounds::<Test>::get(round).unwrap().threshold;
		let mut by_key = seats(round);
		by_key.sort_by_key(|s| s.key.clone());
		let mut slots = 0;
		let needed = by_key
			.iter()
			.take_while(|s| {
				let before = slots;
				slots += s.slots;
				before < threshold
			})
			.count();
		assert_eq!(apply_pool(&state), needed);
		let cert = Certificates::<Test>::get(round).expect("decided by the agents");
		let (output, to) = notary_step(&before.hash, &h(9));
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
	execute_checked(&mut ext, || {
		let machine = create_machine();
		open(machine);
		ConsensusMachine::offchain_worker(1);
		assert!(state.read().transactions.is_empty());
	});
}

#[test]
fn agents_hand_a_timed_out_primary_over() {
	let (mut ext, state) = with_agents(&[]);
	execute_checked(&mut ext, || {
		create_hierarchical_machine(&[4, 10], 5);
		let root = open(0);
		ConsensusMachine::offchain_worker(1);
		assert!(state.read().transactions.is_empty(), "not before the deadline");
		run_to_block(deadline(root));
		assert!(ConsensusMachine::due_handovers().is_empty(), "not at the deadline");
		run_past_deadline(root);
		assert_eq!(ConsensusMachine::due_handovers(), vec![root]);
		ConsensusMachine::offchain_worker(7);
		assert_eq!(apply_pool(&state), 1);
		assert_eq!(family_levels(root).len(), 2);
	});
}

fn propose_object(object: ObjectRef) -> RoundId {
	let round = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::propose(
		RuntimeOrigin::signed(OPENER),
		0,
		object.hash,
		object.size
	));
	round
}

#[test]
fn agents_judge_objects_green_and_red() {
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		create_judge();
		let good = propose_object(TestEvaluator::object(13, true));
		let bad = propose_object(TestEvaluator::object(14, false));
		// An object the agents hold no content for.
		let unknown = propose_object(ObjectRef { hash: h(77), size: 14 });
		run_to_draw();
		ConsensusMachine::offchain_worker(1);
		apply_pool(&state);
		assert_eq!(Rounds::<Test>::get(good).unwrap().light(), Some(Light::Green));
		assert_eq!(Rounds::<Test>::get(bad).unwrap().light(), Some(Light::Red));
		assert_eq!(Rounds::<Test>::get(unknown).unwrap().light(), None, "ambers do not decide");
		assert!(pallet_pickets::OffenceIndex::<Test>::iter_keys()
			.all(|(_, _, k)| k == OffenceKind::RedProposal));
	});
}
