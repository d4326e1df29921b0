//! Pruning decided and expired rounds, with bounded work per block.

use super::*;

#[test]
fn rounds_are_pruned_after_retention_with_bounded_work() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let decided = decide(machine);
		let decided_at = Rounds::<Test>::get(decided).unwrap().decided().unwrap();
		let expired = open(machine);
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), DEPOSIT);
		run_to_block(decided_at + RETENTION);
		assert!(Rounds::<Test>::get(decided).is_some(), "kept during retention");
		run_to_block(decided_at + RETENTION + 1);
		assert!(Rounds::<Test>::get(decided).is_none());
		assert!(Certificates::<Test>::get(decided).is_none());
		assert_eq!(Statements::<Test>::iter_prefix(decided).count(), 0);
		assert_eq!(Tallies::<Test>::iter_prefix(decided).count(), 0);
		assert!(CommitteeChunks::<Test>::iter_prefix(decided).next().is_none());
		System::assert_has_event(Event::RoundPruned { round: decided }.into());
		// The undecided one closes at its deadline and is pruned RETENTION later, deposit back.
		assert!(Rounds::<Test>::get(expired).is_some());
		run_to_block(deadline(expired) + RETENTION + 1);
		assert!(Rounds::<Test>::get(expired).is_none());
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
		assert_eq!(Machines::<Test>::get(machine).unwrap().open_round, None);
	});
}

#[test]
fn pruning_stops_at_max_prune_per_block() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let mut last = 0;
		for _ in 0..5 {
			last = decide(machine);
		}
		// All five are prunable at the same block; MaxPrunePerBlock = 2.
		let at = Rounds::<Test>::get(last).unwrap().decided().unwrap() + RETENTION + 1;
		System::set_block_number(at);
		use frame_support::traits::Hooks;
		ConsensusMachine::on_idle(at, frame_support::weights::Weight::MAX);
		assert_eq!(Rounds::<Test>::iter().count(), 3);
		assert_eq!(PruneCursor::<Test>::get(), 2);
		// With no weight left, nothing happens.
		ConsensusMachine::on_idle(at, frame_support::weights::Weight::zero());
		assert_eq!(Rounds::<Test>::iter().count(), 3);
	});
}
