//! One round id on two forks: what honest pickets sign there is never an equivocation, and a
//! node's worker never signs two bodies for one round instance.

use super::{
	agent::{apply_pool, execute_checked, keystore_of, node_ext, Pool},
	*,
};
use crate::{
	offchain::{Signing, SIGNED_PREFIX},
	types::OffenceKind,
};
use codec::{Decode, Encode};
use frame_support::traits::Hooks;
use sp_core::offchain::testing::TestOffchainExt;

/// The statements the worker put in `pool`, by seat: (statement, seat, signature).
fn pooled_statements(pool: &Pool) -> Vec<(Statement, u32, crate::crypto::Signature)> {
	pool.read()
		.transactions
		.iter()
		.filter_map(|tx| match Extrinsic::decode(&mut &tx[..]).unwrap().function {
			RuntimeCall::ConsensusMachine(CmCall::submit_statement {
				statement,
				seat,
				signature,
				..
			}) => Some((statement, seat, signature)),
			_ => None,
		})
		.collect()
}

/// Two sibling blocks on one node: the same parent open round 0 of the same notary machine, each
/// for a different document, and each fork draws it at the same height (so from the same
/// randomness and snapshot: the same committee). The node's worker signs on both forks.
#[test]
fn honest_statements_on_two_forks_are_never_an_equivocation() {
	let agents = default_agents();
	// One node: one off-chain database and the same picket keys on both forks.
	let offchain = TestOffchainExt::new().0;
	let (mut fork_a, pool_a) = node_ext(offchain.clone(), keystore_of(&agents));
	let (mut fork_b, pool_b) = node_ext(offchain, keystore_of(&agents));
	let on_fork = |ext: &mut sp_io::TestExternalities, document: u8| {
		let mut out = (Vec::new(), 0);
		execute_checked(ext, || {
			let machine = create_machine();
			let round = NextRoundId::<Test>::get();
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				machine,
				h(document)
			));
			run_to_draw();
			ConsensusMachine::offchain_worker(1);
			out = (seats(round), round);
		});
		out
	};
	let (committee_a, round) = on_fork(&mut fork_a, 9);
	let (committee_b, round_b) = on_fork(&mut fork_b, 10);
	assert_eq!((round, committee_a.clone()), (round_b, committee_b), "one id, one committee");
	let (signed_a, signed_b) = (pooled_statements(&pool_a), pooled_statements(&pool_b));
	assert_eq!(signed_a.len(), committee_a.len(), "every seat signed on fork A");
	assert_eq!(signed_b.len(), committee_a.len(), "and on fork B");
	let (a, seat, sig_a) = signed_a[0].clone();
	let (b, _, sig_b) = signed_b.iter().find(|(_, s, _)| *s == seat).cloned().unwrap();
	assert_eq!(a.round, b.round);
	assert_ne!(a.body, b.body, "two documents, two honest answers");
	assert_ne!(a.instance, b.instance);
	let picket = committee_a[seat as usize].clone();

	// Anyone holding both tries to have the picket slashed, on either fork.
	for (ext, ours, theirs) in [(&mut fork_a, &a, &b), (&mut fork_b, &b, &a)] {
		let (sig_ours, sig_theirs) = if ours == &a {
			(sig_a.clone(), sig_b.clone())
		} else {
			(sig_b.clone(), sig_a.clone())
		};
		execute_checked(ext, || {
			let report = |first: (&Statement, &crate::crypto::Signature),
			              second: (&Statement, &crate::crypto::Signature)| {
				ConsensusMachine::report_equivocation(
					RuntimeOrigin::signed(77),
					ConsensusMachine::membership_proof(round, seat).unwrap(),
					pair(
						(first.0.clone(), stored(first.1.clone())),
						(second.0.clone(), stored(second.1.clone())),
					),
				)
			};
			assert_noop!(
				report((ours, &sig_ours), (theirs, &sig_theirs)),
				Error::<Test>::NotAnEquivocation
			);
			assert_noop!(
				report((theirs, &sig_theirs), (ours, &sig_ours)),
				Error::<Test>::NotAnEquivocation
			);
			// Nor can the other fork's statement be submitted here, alone or certified.
			assert_noop!(
				ConsensusMachine::submit_statement(
					RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
					theirs.clone(),
					seat,
					sig_theirs.clone(),
					None
				),
				Error::<Test>::WrongInstance
			);
			let sigs = vec![(seat, stored(sig_theirs.clone()))];
			assert_noop!(
				ConsensusMachine::submit_certificate(
					RuntimeOrigin::signed(77),
					theirs.clone(),
					sigs
				),
				Error::<Test>::WrongInstance
			);
		});
	}

	// A real equivocation, two bodies for one instance, is still one.
	execute_checked(&mut fork_a, || {
		let mut other = a.clone();
		other.body = b.body.clone();
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			ConsensusMachine::membership_proof(round, seat).unwrap(),
			pair(
				(a.clone(), stored(sig_a.clone())),
				(other.clone(), stored(sign(picket.agent, &other)))
			)
		));
		let offences = pallet_pickets::Penalties::<Test>::iter_values()
			.filter(|p| p.offender == picket.agent && p.kind == OffenceKind::Equivocation)
			.count();
		assert_eq!(offences, 1);
	});
}

/// An evaluator that reads the outside world (an oracle's price feed) may answer differently on
/// two blocks that open the same round instance; the worker's record keeps the key from
/// signing the second answer.
#[test]
fn the_worker_never_signs_a_second_body_for_one_round_instance() {
	let agents = default_agents();
	let offchain = TestOffchainExt::new().0;
	let (mut ext, pool) = node_ext(offchain, keystore_of(&agents));
	execute_checked(&mut ext, || {
		let machine = create_machine();
		let round = open(machine);
		let committee = seats(round);
		let honest = statement_of_worker(round);
		// An earlier run on another block of the same instance signed a different answer for
		// the first seat's key.
		let first = committee[0].clone();
		let mut earlier = honest.clone();
		earlier.body =
			Body::Transition { step: 0, from: label(machine).hash, output: h(1), to: h(2) };
		assert_ne!(earlier.body, honest.body);
		assert_eq!(ConsensusMachine::record_signing(&first.key, &earlier), Signing::Recorded);
		ConsensusMachine::offchain_worker(1);
		let signed = pooled_statements(&pool);
		let signers: Vec<_> =
			signed.iter().map(|(_, seat, _)| committee[*seat as usize].key.clone()).collect();
		assert!(!signers.contains(&first.key), "the first key signs no second answer");
		let others = committee.iter().filter(|s| s.key != first.key).count();
		assert_eq!(signed.len(), others, "every other seat signed");
		assert!(signed.iter().all(|(s, _, _)| s == &honest));
		// The record: the same statement again is fine, a different body is not, and another
		// instance of the round (another fork) is a different round.
		assert_eq!(ConsensusMachine::record_signing(&first.key, &earlier), Signing::Recorded);
		assert_eq!(ConsensusMachine::record_signing(&first.key, &honest), Signing::Conflict);
		let second = committee.iter().find(|s| s.key != first.key).unwrap();
		assert_eq!(ConsensusMachine::record_signing(&second.key, &honest), Signing::Recorded);
		let mut fork = honest.clone();
		fork.instance = h(42);
		assert_eq!(ConsensusMachine::record_signing(&first.key, &fork), Signing::Recorded);
		// An unreadable record signs nothing.
		let third = committee.iter().find(|s| s.key != first.key && s.key != second.key).unwrap();
		let storage_key = [SIGNED_PREFIX, &third.key.encode(), &round.encode()].concat();
		sp_io::offchain::local_storage_set(
			sp_core::offchain::StorageKind::PERSISTENT,
			&storage_key,
			&[0xff],
		);
		assert_eq!(ConsensusMachine::record_signing(&third.key, &honest), Signing::Unavailable);
		assert!(apply_pool(&pool) > 0);
	});
}

/// The statement a good worker signs in transition `round`.
fn statement_of_worker(round: RoundId) -> Statement {
	let info = Rounds::<Test>::get(round).unwrap();
	let machine = Machines::<Test>::get(info.machine).unwrap();
	let (output, to) = crate::mock::notary_step(&machine.label.hash, &info.subject);
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine: info.machine,
		round,
		instance: info.draw().unwrap().instance,
		level: 0,
		body: Body::Transition { step: machine.label.step, from: machine.label.hash, output, to },
	}
}
