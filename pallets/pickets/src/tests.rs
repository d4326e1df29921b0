//! The registry on its own, through its calls and through the `Pickets` trait the machines use.
//! (The machines pallet's tests run it under real machines: equivocations, greens on red
//! objects, missed duties, drains.)

use crate::{
	mock::*,
	pallet::*,
	types::{AgentStatus, Offence, OffenceKind, PenaltyStatus, StoredSignature},
};
use consensus_machine_primitives::{
	pickets::{Pickets as _, ReportError, SignError},
	statement::{Body, Statement},
};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::Pair;

fn bond_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Bond.into(), &who)
}

fn forfeit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Forfeit.into(), &who)
}

/// Two different transitions `who`'s key signed for round `round`.
fn equivocation(who: AccountId, round: u64) -> Offence<AccountId, Balance> {
	let statement = |to| Statement {
		genesis: Pickets::genesis_hash(),
		machine: 0,
		round,
		instance: [0; 32],
		level: 0,
		body: Body::Transition { step: 0, from: [0; 32], output: [1; 32], to },
	};
	let signed = |s: Statement| -> (Statement, StoredSignature) {
		let signature = pair(who).sign(&s.signing_payload());
		(s, signature)
	};
	Offence::signed(
		OffenceKind::Equivocation,
		who,
		round,
		key(who),
		vec![signed(statement([2; 32])), signed(statement([3; 32]))],
	)
}

#[test]
fn a_draw_seats_active_pickets_only_and_is_sound() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Pickets::total_stake(), 4_000);
		let drawn = Pickets::draw(&[7; 32], 40);
		assert!(drawn.is_sound(40));
		assert_eq!(drawn.seats.iter().map(|s| s.slots).sum::<u32>(), 40);
		for seat in &drawn.seats {
			assert_eq!(seat.key, key(seat.picket));
		}
		// One leaves: its slots fall on nobody, the others' seats are unchanged.
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(1)));
		let after = Pickets::draw(&[7; 32], 40);
		assert!(after.is_sound(40));
		let without: Vec<_> = drawn.seats.iter().filter(|s| s.picket != 1).cloned().collect();
		assert_eq!(after.seats, without);
		// It still signs for seats it was drawn to before it left.
		assert_eq!(Pickets::may_sign(&1), Ok(()));
		assert_eq!(Pickets::may_sign(&77), Err(SignError::Unknown));
	});
}

#[test]
fn a_leaving_picket_withdraws_only_once_its_rounds_are_out_of_reach() {
	ExtBuilder::default().build_and_execute(|| {
		NEXT_ROUND.with(|n| n.set(5));
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(2)));
		assert!(matches!(
			Agents::<Test>::get(2).unwrap().status,
			AgentStatus::Unbonding { accountable: 5, .. }
		));
		run_to_block(1 + UNBONDING_DELAY);
		// Rounds 0..5 may have seated it: their reports are not closed yet.
		CLOSED_BELOW.with(|c| c.set(4));
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(2)),
			Error::<Test>::StillAccountable
		);
		CLOSED_BELOW.with(|c| c.set(5));
		assert_ok!(Pickets::withdraw_unbonded(RuntimeOrigin::signed(2)));
		assert_eq!(bond_held(2), 0);
		assert!(!Pickets::is_picket(&2));
	});
}

#[test]
fn an_overt_offence_suspends_the_picket_and_is_slashed_after_the_deferral() {
	ExtBuilder::default().build_and_execute(|| {
		let treasury = Balances::balance(&TREASURY);
		assert_eq!(Pickets::report(equivocation(3, 0)), Ok(()));
		assert!(Pickets::is_reported(&3, 0, OffenceKind::Equivocation));
		assert_eq!(Pickets::may_sign(&3), Err(SignError::Suspended));
		// Once per (offender, round, kind).
		assert_eq!(Pickets::report(equivocation(3, 0)), Err(ReportError::AlreadyReported));
		run_to_block(1 + SLASH_DEFERRAL);
		assert_eq!(
			Penalties::<Test>::get(0).unwrap().status,
			PenaltyStatus::Applied { slashed: 500 }
		);
		assert_eq!(bond_held(3), 500);
		assert_eq!(Balances::balance(&TREASURY), treasury + 500);
	});
}

/// The machines release a red proposal's bond as they report it: the registry holds it until
/// the penalty is applied (slashed whole) or cancelled (given back).
#[test]
fn a_red_proposal_takes_the_released_bond_into_custody() {
	ExtBuilder::default().build_and_execute(|| {
		let (proposer, other) = (50, 51);
		let red =
			|who| Offence { base: Some(200), ..Offence::new(OffenceKind::RedProposal, who, 7) };
		assert_eq!(Pickets::report(red(proposer)), Ok(()));
		assert_eq!(Pickets::report(red(other)), Ok(()));
		assert_eq!((forfeit_held(proposer), forfeit_held(other)), (200, 200));
		// A proposer is no picket: nothing to suspend.
		assert!(!Pickets::is_picket(&proposer));
		assert_ok!(Pickets::cancel_penalty(RuntimeOrigin::root(), 1));
		assert_eq!(forfeit_held(other), 0);
		assert_eq!(Balances::balance(&other), 10_000);
		let treasury = Balances::balance(&TREASURY);
		run_to_block(1 + SLASH_DEFERRAL);
		assert_eq!(forfeit_held(proposer), 0);
		assert_eq!(Balances::balance(&proposer), 10_000 - 200);
		assert_eq!(Balances::balance(&TREASURY), treasury + 200);
	});
}

#[test]
fn missed_duties_ban_a_picket_and_a_second_ban_is_an_offence() {
	ExtBuilder::default().build_and_execute(|| {
		for round in 0..3 {
			Pickets::note_miss(&4, round, System::block_number());
		}
		let AgentStatus::Banned { until } = Agents::<Test>::get(4).unwrap().status else {
			panic!("banned after three misses");
		};
		assert_noop!(Pickets::rejoin(RuntimeOrigin::signed(4)), Error::<Test>::NotBanned);
		run_to_block(until);
		assert_ok!(Pickets::rejoin(RuntimeOrigin::signed(4)));
		for round in 3..6 {
			Pickets::note_miss(&4, round, System::block_number());
		}
		assert!(Pickets::is_reported(&4, 5, OffenceKind::NonParticipation));
	});
}

#[test]
fn register_needs_the_keys_proof_of_possession_for_the_account() {
	ExtBuilder::default().build_and_execute(|| {
		let register = |proof| Pickets::register(RuntimeOrigin::signed(20), key(20), 500, proof);
		// Signed by another key, or for another account: refused, and nothing held.
		assert_noop!(register(proof(21, 20)), Error::<Test>::BadProofOfPossession);
		assert_noop!(register(proof(20, 21)), Error::<Test>::BadProofOfPossession);
		assert_ok!(register(proof(20, 20)));
		assert_eq!(bond_held(20), 500);
		assert!(Pickets::is_picket(&20));
		// Its stake counts in draws from the next snapshot on.
		assert_eq!(Pickets::total_stake(), 4_000);
		run_to_block(SNAPSHOT_PERIOD);
		assert_eq!(Pickets::total_stake(), 4_500);
	});
}

#[test]
fn with_no_stake_a_draw_seats_nobody() {
	ExtBuilder::default().agents(vec![]).build_and_execute(|| {
		assert_eq!(Pickets::total_stake(), 0);
		let drawn = Pickets::draw(&[7; 32], 10);
		assert!(drawn.seats.is_empty() && drawn.total == 0);
	});
}

/// A proposer that locks its whole balance before its red cannot keep the registry from the
/// released bond: were the report to fail on the lock, the red would be reverted and the object
/// could never be condemned; were it to take nothing, the proposer would keep its bond.
#[test]
fn a_lock_on_the_proposers_balance_does_not_keep_the_bond_from_the_registry() {
	use frame_support::traits::{LockableCurrency, WithdrawReasons};
	ExtBuilder::default().build_and_execute(|| {
		let proposer = 50;
		// The machines released the bond into the free balance just before the report.
		Balances::set_lock(*b"proposer", &proposer, 10_000, WithdrawReasons::all());
		let red =
			Offence { base: Some(200), ..Offence::new(OffenceKind::RedProposal, proposer, 7) };
		assert_eq!(Pickets::report(red), Ok(()));
		assert_eq!(forfeit_held(proposer), 200);
		assert_eq!(Penalties::<Test>::get(0).unwrap().base, Some(200));
		run_to_block(1 + SLASH_DEFERRAL);
		assert_eq!(
			Penalties::<Test>::get(0).unwrap().status,
			PenaltyStatus::Applied { slashed: 200 }
		);
		assert_eq!(Balances::total_balance(&proposer), 10_000 - 200);
	});
}

/// The version-1 stake tree (a Fenwick tree, snapshot values in a second map) becomes the paged
/// tree with every index's live stake and snapshot stake as they were, so a draw in the period
/// of the upgrade seats exactly whom the old tree would have seated.
#[test]
fn the_fenwick_tree_migrates_to_pages_keeping_the_snapshot_and_the_draws() {
	use crate::migrations::v2::{v1, MigrateV1ToV2};
	use consensus_machine_primitives::{fenwick, selection};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	let genesis = [(1, 1_000), (2, 3_000), (3, 500), (4, 2_000), (5, 1_500)];
	ExtBuilder::default().agents(genesis.to_vec()).build_and_execute(|| {
		run_to_block(2);
		// Stake moves within the period: the live tree differs from the snapshot.
		assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(2), 4_000));
		assert_ok!(Pickets::register(RuntimeOrigin::signed(9), key(9), 2_500, proof(9, 9)));
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(4)));
		let live = [1_000, 7_000, 500, 0, 1_500, 2_500];
		let snapshot = [1_000, 3_000, 500, 2_000, 1_500, 0];
		let draw_before = Pickets::draw(&[5; 32], 60);
		// What the Fenwick tree draws from the snapshot, inactive agent 4 left out.
		let fenwick_tree = fenwick::MemoryTree::from_stakes(&snapshot);
		let fenwick_seats: Vec<(AccountId, u32)> = selection::group(
			&fenwick::draw(&fenwick_tree, &[5; 32], 60, snapshot.iter().sum()).unwrap(),
		)
		.into_iter()
		.filter(|(index, _)| *index != 3)
		.map(|(index, slots)| (AgentAt::<Test>::get(index).unwrap(), slots))
		.collect();
		let seats = |drawn: &consensus_machine_primitives::pickets::Drawn<AccountId, _>| {
			drawn.seats.iter().map(|s| (s.picket, s.slots)).collect::<Vec<_>>()
		};
		assert_eq!(seats(&draw_before), fenwick_seats);

		// The same stakes in the version-1 layout, as that code kept them: the live Fenwick
		// tree, and the snapshot's value of every node that changed in this period.
		let capacity = 32u32;
		let period = Pickets::current_period();
		let _ = StakePages::<Test>::clear(u32::MAX, None);
		StakeTreeHeight::<Test>::kill();
		// Node `i` (1-based) sums the stakes at 0-based indices `i - lowbit(i) .. i`.
		let node = |stakes: &[u128], i: u32| -> u128 {
			let low = (i - (i & i.wrapping_neg())) as usize;
			stakes.iter().take(i as usize).skip(low).sum()
		};
		for i in 1..=capacity {
			let (l, s) = (node(&live, i), node(&snapshot, i));
			if l > 0 {
				v1::StakeNodes::<Test>::insert(i, l);
			}
			if l != s {
				v1::FrozenNodes::<Test>::insert(i, (period, s));
			}
		}
		v1::StakeTreeCapacity::<Test>::put(capacity);
		// A node tagged with an earlier period is not this period's snapshot.
		v1::FrozenNodes::<Test>::insert(capacity, (period.wrapping_sub(1), 1));
		StorageVersion::new(1).put::<Pickets>();
		let stakes: Vec<_> = v1::stakes::<Test>().collect();
		assert_eq!(stakes.len(), 6);
		for (i, l, s) in stakes {
			assert_eq!((l, s), (live[i as usize], snapshot[i as usize]), "index {i} before");
		}

		#[cfg(feature = "try-runtime")]
		let state = MigrateV1ToV2::<Test>::pre_upgrade().unwrap();
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		MigrateV1ToV2::<Test>::post_upgrade(state).unwrap();
		assert_eq!(Pickets::on_chain_storage_version(), StorageVersion::new(2));
		assert_eq!(v1::StakeNodes::<Test>::iter().count(), 0);
		assert_eq!(v1::FrozenNodes::<Test>::iter().count(), 0);
		assert!(!v1::StakeTreeCapacity::<Test>::exists());
		let (tree, snap) = (
			crate::bonds::StorageTree::<Test>::new(),
			crate::bonds::SnapshotTree::<Test>::current(),
		);
		for i in 0..6u32 {
			assert_eq!(selection::stake_of(&tree, i), live[i as usize], "live stake {i}");
			assert_eq!(selection::stake_of(&snap, i), snapshot[i as usize], "snapshot stake {i}");
		}
		assert_eq!(Pickets::draw(&[5; 32], 60), draw_before);
		// Pages, not nodes: two levels for 32 indices, one page each.
		assert_eq!(StakeTreeHeight::<Test>::get(), 2);
		assert_eq!(StakePages::<Test>::iter().count(), 2);
		// Run again, it changes nothing.
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Pickets::draw(&[5; 32], 60), draw_before);
	});
}
