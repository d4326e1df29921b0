//! The dev chain's demo on the real runtime: a node asks a share of its local pickets to
//! misbehave (`consensus_machine_demo::Misbehaving`, the dev node's `--picket-behaviour`), the
//! pallet's off-chain worker signs what the evaluator says, and the chain treats what they sign
//! as it treats anyone's: the same checks, the same penalties.

use codec::{Decode, Encode};
use consensus_machine_demo::{
	behaviour::deal, parse_behaviour, Behaviour, DemoEvaluator, BEHAVIOUR_KEY,
};
use consensus_machine_primitives::{
	light::{Light, ObjectRef},
	statement::RoundId,
};
use consensus_machine_runtime::{
	configs::CHUNK_SIZE,
	demo::NOTARY,
	genesis_config_presets::{agent_account, agent_picket, DEV_AGENTS},
	AccountId, ConsensusMachine, Runtime, RuntimeOrigin, System, UncheckedExtrinsic,
};
use frame_support::{
	assert_ok,
	pallet_prelude::TransactionSource,
	traits::{Authorize, Hooks, UnfilteredDispatchable},
};
use pallet_consensus_machine::{types::OffenceKind, Certificates, NextRoundId, Rounds};
use pallet_pickets::{OffenceIndex, Penalties};
use sp_core::offchain::StorageKind;
use sp_runtime::{traits::IdentifyAccount, Percent};

mod chain;
use chain::{development, next_block, with_dev_pickets, Pool};

/// A dev node on the development preset: an off-chain worker, a pool, and a keystore with
/// every dev agent's picket key. The demo driver is switched off, so that the only rounds are
/// the test's.
fn node() -> (sp_io::TestExternalities, Pool) {
	let (mut ext, state) = with_dev_pickets(development());
	ext.execute_with(|| consensus_machine_runtime::demo::Period::<Runtime>::put(0));
	(ext, state)
}

/// The dev account `//Alice` (endowed by the preset).
fn alice() -> RuntimeOrigin {
	use sp_core::Pair;
	let public = sp_core::sr25519::Pair::from_string("//Alice", None).unwrap().public();
	RuntimeOrigin::signed(sp_runtime::MultiSigner::from(public).into_account())
}

/// Asks the local pickets to misbehave, as the node's `--picket-behaviour` does.
fn set_behaviours(behaviours: &[(Behaviour, Percent)]) {
	let encoded = behaviours.to_vec().encode();
	sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, BEHAVIOUR_KEY, &encoded);
}

/// The dev agents whose keys `deal` gives `behaviour` (keys are dealt sorted).
fn dealt(behaviours: &[(Behaviour, Percent)], behaviour: Behaviour) -> Vec<AccountId> {
	let mut agents: Vec<u32> = (0..DEV_AGENTS).collect();
	// Each key is derived from the dev phrase (PBKDF2): once per agent, not per comparison.
	agents.sort_by_cached_key(|i| agent_picket(*i));
	let roles = deal(agents.len(), behaviours);
	agents
		.into_iter()
		.zip(roles)
		.filter(|(_, role)| *role == Some(behaviour))
		.map(|(i, _)| agent_account(i))
		.collect()
}

/// Runs blocks until round `round` is drawn.
fn run_to_draw(round: RoundId) {
	while !Rounds::<Runtime>::get(round).is_some_and(|r| r.is_drawn()) {
		assert!(next_block() < 100, "round {round} drawn");
	}
}

/// A round of the notary log, drawn.
fn notary_round() -> RoundId {
	let round = NextRoundId::<Runtime>::get();
	assert_ok!(ConsensusMachine::commit_round(alice(), NOTARY, [9; 32]));
	run_to_draw(round);
	round
}

/// A demo object proposed to the notary's committee, drawn.
fn proposed(good: bool) -> RoundId {
	let object: ObjectRef = DemoEvaluator::<CHUNK_SIZE>::object(2_048, good);
	let round = NextRoundId::<Runtime>::get();
	assert_ok!(ConsensusMachine::propose(alice(), NOTARY, object.hash, object.size));
	run_to_draw(round);
	round
}

/// The node's off-chain worker at the current block.
fn run_worker() {
	ConsensusMachine::offchain_worker(System::block_number());
}

/// Applies the pool's transactions as a block builder would: drops those no longer authorised
/// (statements after the decision), dispatches the rest. Returns how many were applied.
fn apply_pool(state: &Pool) -> usize {
	let txs = std::mem::take(&mut state.write().transactions);
	let mut applied = 0;
	for tx in txs {
		let call = UncheckedExtrinsic::decode(&mut &tx[..]).unwrap().function;
		if call.authorize(TransactionSource::Local).expect("a fee-less call").is_err() {
			continue;
		}
		let origin = RuntimeOrigin::from(frame_system::RawOrigin::Authorized);
		assert_ok!(call.dispatch_bypass_filter(origin));
		applied += 1;
	}
	applied
}

/// The agents among `among` holding a seat of `round`, sorted.
fn seated(round: RoundId, among: &[AccountId]) -> Vec<AccountId> {
	let mut agents: Vec<AccountId> = ConsensusMachine::committee(round)
		.into_iter()
		.map(|s| s.agent)
		.filter(|a| among.contains(a))
		.collect();
	agents.sort();
	agents
}

/// The agents with an offence of `kind` in `round`, sorted.
fn offenders(round: RoundId, kind: OffenceKind) -> Vec<AccountId> {
	let mut found: Vec<AccountId> = OffenceIndex::<Runtime>::iter_keys()
		.filter(|(_, r, k)| *r == round && *k == kind)
		.map(|(a, _, _)| a)
		.collect();
	found.sort();
	found
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
	let behaviours = [(Behaviour::Silent, Percent::from_percent(30))];
	let silent = dealt(&behaviours, Behaviour::Silent);
	assert_eq!(silent.len(), 6);
	let (mut ext, state) = node();
	ext.execute_with(|| {
		set_behaviours(&behaviours);
		let round = notary_round();
		run_worker();
		let seats = ConsensusMachine::committee(round);
		let speaking = seats.iter().filter(|s| !silent.contains(&s.agent)).count();
		assert!(speaking < seats.len(), "the draw seats a silent agent");
		assert_eq!(state.read().transactions.len(), speaking);
	});
}

#[test]
fn an_undecodable_behaviour_leaves_every_picket_good() {
	let (mut ext, state) = node();
	ext.execute_with(|| {
		sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, BEHAVIOUR_KEY, b"\x07junk");
		let round = notary_round();
		run_worker();
		let seats = ConsensusMachine::committee(round).len();
		assert_eq!(state.read().transactions.len(), seats);
	});
}

#[test]
fn equivocating_pickets_are_reported_fee_less_and_penalised() {
	let behaviours = [(Behaviour::Equivocate, Percent::from_percent(20))];
	let equivocators = dealt(&behaviours, Behaviour::Equivocate);
	let (mut ext, state) = node();
	ext.execute_with(|| {
		set_behaviours(&behaviours);
		let round = notary_round();
		run_worker();
		let seated = seated(round, &equivocators);
		assert!(!seated.is_empty(), "the draw seats an equivocator");
		let seats = ConsensusMachine::committee(round).len();
		assert_eq!(state.read().transactions.len(), seats + seated.len());
		apply_pool(&state);
		assert!(Certificates::<Runtime>::get(round).is_some(), "the good statements decide");
		assert_eq!(offenders(round, OffenceKind::Equivocation), seated);
		// A fee-less report pays no reporter.
		assert!(Penalties::<Runtime>::iter_values().all(|p| p.reporter.is_none()));
		// The same report again is stale.
		run_worker();
		assert_eq!(apply_pool(&state), 0);
	});
}

#[test]
fn good_pickets_judge_demo_objects_green_and_red() {
	let (mut ext, state) = node();
	ext.execute_with(|| {
		let good = proposed(true);
		let bad = proposed(false);
		run_worker();
		apply_pool(&state);
		assert_eq!(Rounds::<Runtime>::get(good).unwrap().light(), Some(Light::Green));
		assert_eq!(Rounds::<Runtime>::get(bad).unwrap().light(), Some(Light::Red));
		let kinds: Vec<_> = OffenceIndex::<Runtime>::iter_keys().map(|(_, _, k)| k).collect();
		assert_eq!(kinds, vec![OffenceKind::RedProposal], "only the bad proposal's");
	});
}

#[test]
fn wrong_greens_are_penalised_once_a_red_proves_the_object_bad() {
	let behaviours = [(Behaviour::WrongGreen, Percent::from_percent(50))];
	let liars = dealt(&behaviours, Behaviour::WrongGreen);
	let (mut ext, state) = node();
	ext.execute_with(|| {
		set_behaviours(&behaviours);
		let bad = proposed(false);
		run_worker();
		apply_pool(&state);
		assert_eq!(Rounds::<Runtime>::get(bad).unwrap().light(), Some(Light::Red));
		let seated = seated(bad, &liars);
		assert!(!seated.is_empty(), "the draw seats a liar");
		assert_eq!(offenders(bad, OffenceKind::WrongVerdict), seated);
	});
}

#[test]
fn false_reds_are_offences_and_condemn_nothing() {
	let behaviours = [(Behaviour::FalseRed, Percent::from_percent(30))];
	let liars = dealt(&behaviours, Behaviour::FalseRed);
	let (mut ext, state) = node();
	ext.execute_with(|| {
		set_behaviours(&behaviours);
		let good = proposed(true);
		run_worker();
		apply_pool(&state);
		let seated = seated(good, &liars);
		assert!(!seated.is_empty(), "the draw seats a liar");
		assert_eq!(offenders(good, OffenceKind::FalseRed), seated);
		assert_ne!(Rounds::<Runtime>::get(good).unwrap().light(), Some(Light::Red));
	});
}
