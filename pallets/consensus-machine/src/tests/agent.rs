//! The off-chain picket agents.

use super::*;
use crate::{
	demo::{deal, notary_step, parse_behaviour, Behaviour, DemoEvaluator, BEHAVIOUR_KEY},
	types::OffenceKind,
};
use codec::{Decode, Encode};
use consensus_machine_primitives::light::{Light, ObjectRef};
use frame_support::traits::Hooks;
use sp_core::offchain::{
	testing::{TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::Percent;
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

/// Asks the local pickets to misbehave, as the node's `--picket-behaviour` does.
fn set_behaviours(behaviours: &[(Behaviour, Percent)]) {
	sp_io::offchain::local_storage_set(
		sp_core::offchain::StorageKind::PERSISTENT,
		BEHAVIOUR_KEY,
		&behaviours.to_vec().encode(),
	);
}

/// The agents among `agents` whose keys `deal` gives `behaviour` (keys are dealt sorted).
fn dealt(
	agents: &[AccountId],
	behaviours: &[(Behaviour, Percent)],
	behaviour: Behaviour,
) -> Vec<AccountId> {
	let mut sorted: Vec<AccountId> = agents.to_vec();
	sorted.sort_by_key(|a| key(*a));
	let roles = deal(sorted.len(), behaviours);
	sorted.into_iter().zip(roles).filter(|(_, r)| *r == Some(behaviour)).map(|(a, _)| a).collect()
}

fn offenders(round: RoundId, kind: OffenceKind) -> Vec<AccountId> {
	let mut found: Vec<AccountId> = OffenceIndex::<Test>::iter_keys()
		.filter(|(_, r, k)| *r == round && *k == kind)
		.map(|(a, _, _)| a)
		.collect();
	found.sort();
	found
}

fn committee_agents(round: RoundId, among: &[AccountId]) -> Vec<AccountId> {
	let mut agents: Vec<AccountId> =
		seats(round).into_iter().map(|s| s.agent).filter(|a| among.contains(a)).collect();
	agents.sort();
	agents.dedup();
	agents
}

#[test]
fn behaviours_parse_and_are_dealt_in_order() {
	assert_eq!(parse_behaviour("silent=30"), Ok((Behaviour::Silent, Percent::from_percent(30))));
	assert_eq!(parse_behaviour("equivocate"), Ok((Behaviour::Equivocate, Percent::one())));
	assert_eq!(parse_behaviour("false-red=0"), Ok((Behaviour::FalseRed, Percent::zero())));
	assert_eq!(parse_behaviour("wrong-green=5").map(|b| b.0), Ok(Behaviour::WrongGreen));
	assert!(parse_behaviour("loud").is_err());
	assert!(parse_behaviour("silent=101").is_err());
	assert!(parse_behaviour("silent=-1").is_err());
	assert!(parse_behaviour("silent=").is_err());
	let roles = deal(
		20,
		&[
			(Behaviour::Silent, Percent::from_percent(30)),
			(Behaviour::Equivocate, Percent::from_percent(10)),
		],
	);
	assert_eq!(roles.iter().filter(|r| **r == Some(Behaviour::Silent)).count(), 6);
	assert_eq!(roles[6..8], [Some(Behaviour::Equivocate); 2]);
	assert!(roles[8..].iter().all(Option::is_none));
	// Shares round up and never exceed the keys.
	assert_eq!(
		deal(3, &[(Behaviour::Silent, Percent::from_percent(10))])[0],
		Some(Behaviour::Silent)
	);
	let roles =
		deal(3, &[(Behaviour::Silent, Percent::one()), (Behaviour::FalseRed, Percent::one())]);
	assert_eq!(roles, vec![Some(Behaviour::Silent); 3]);
	assert!(deal(0, &[(Behaviour::Silent, Percent::one())]).is_empty());
}

#[test]
fn silent_pickets_sign_nothing() {
	let agents = default_agents();
	let behaviours = [(Behaviour::Silent, Percent::from_percent(30))];
	let silent = dealt(&agents, &behaviours, Behaviour::Silent);
	assert_eq!(silent.len(), 3);
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		set_behaviours(&behaviours);
		let round = open(create_machine());
		ConsensusMachine::offchain_worker(1);
		let speaking = seats(round).iter().filter(|s| !silent.contains(&s.agent)).count();
		assert!(speaking < seats(round).len(), "the draw seats a silent agent");
		assert_eq!(state.read().transactions.len(), speaking);
	});
}

#[test]
fn an_undecodable_behaviour_leaves_every_picket_good() {
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		sp_io::offchain::local_storage_set(
			sp_core::offchain::StorageKind::PERSISTENT,
			BEHAVIOUR_KEY,
			b"\x07junk",
		);
		let round = open(create_machine());
		ConsensusMachine::offchain_worker(1);
		assert_eq!(state.read().transactions.len(), seats(round).len());
	});
}

#[test]
fn equivocating_pickets_are_reported_fee_less_and_penalised() {
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		set_behaviours(&[(Behaviour::Equivocate, Percent::from_percent(20))]);
		let equivocators = dealt(
			&agents,
			&[(Behaviour::Equivocate, Percent::from_percent(20))],
			Behaviour::Equivocate,
		);
		let round = open(create_machine());
		ConsensusMachine::offchain_worker(1);
		let seated = committee_agents(round, &equivocators);
		assert!(!seated.is_empty(), "the draw seats an equivocator");
		assert_eq!(state.read().transactions.len(), seats(round).len() + seated.len());
		apply_pool(&state);
		assert!(Certificates::<Test>::get(round).is_some(), "the good statements still decide");
		assert_eq!(offenders(round, OffenceKind::Equivocation), seated);
		// A fee-less report pays no reporter.
		assert!(Penalties::<Test>::iter_values().all(|p| p.reporter.is_none()));
		// The same report again is stale.
		ConsensusMachine::offchain_worker(1);
		assert_eq!(apply_pool(&state), 0);
		ConsensusMachine::do_try_state().unwrap();
	});
}

fn propose_demo(object: ObjectRef) -> RoundId {
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
fn agents_judge_demo_objects_green_and_red() {
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		create_judge();
		let good = propose_demo(DemoEvaluator::<CHUNK>::object(13, true));
		let bad = propose_demo(DemoEvaluator::<CHUNK>::object(14, false));
		// An object the agents hold no content for.
		let unknown = propose_demo(ObjectRef { hash: h(77), size: 14 });
		run_to_draw();
		ConsensusMachine::offchain_worker(1);
		apply_pool(&state);
		assert_eq!(Rounds::<Test>::get(good).unwrap().light(), Some(Light::Green));
		assert_eq!(Rounds::<Test>::get(bad).unwrap().light(), Some(Light::Red));
		assert_eq!(Rounds::<Test>::get(unknown).unwrap().light(), None, "ambers do not decide");
		assert!(OffenceIndex::<Test>::iter_keys().all(|(_, _, k)| k == OffenceKind::RedProposal));
	});
}

#[test]
fn wrong_greens_are_penalised_once_a_red_proves_the_object_bad() {
	let agents = default_agents();
	let behaviours = [(Behaviour::WrongGreen, Percent::from_percent(50))];
	let liars = dealt(&agents, &behaviours, Behaviour::WrongGreen);
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		set_behaviours(&behaviours);
		create_judge();
		let bad = propose_demo(DemoEvaluator::<CHUNK>::object(14, false));
		run_to_draw();
		ConsensusMachine::offchain_worker(1);
		apply_pool(&state);
		assert_eq!(Rounds::<Test>::get(bad).unwrap().light(), Some(Light::Red));
		let seated = committee_agents(bad, &liars);
		assert!(!seated.is_empty());
		assert_eq!(offenders(bad, OffenceKind::WrongVerdict), seated);
	});
}

#[test]
fn false_reds_are_offences_and_condemn_nothing() {
	let agents = default_agents();
	let (mut ext, state) = with_agents(&agents);
	execute_checked(&mut ext, || {
		set_behaviours(&[(Behaviour::FalseRed, Percent::from_percent(30))]);
		let liars = dealt(
			&agents,
			&[(Behaviour::FalseRed, Percent::from_percent(30))],
			Behaviour::FalseRed,
		);
		create_judge();
		let good = propose_demo(DemoEvaluator::<CHUNK>::object(13, true));
		run_to_draw();
		ConsensusMachine::offchain_worker(1);
		apply_pool(&state);
		let seated = committee_agents(good, &liars);
		assert!(!seated.is_empty());
		assert_eq!(offenders(good, OffenceKind::FalseRed), seated);
		assert_ne!(Rounds::<Test>::get(good).unwrap().light(), Some(Light::Red));
	});
}
