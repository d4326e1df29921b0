//! The storage migrations from version 6 on, each on storage written in the layout it starts
//! from.

use super::*;
use crate::migrations;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

/// Writes every round in the version-7 layout (rounds were stored so from version 5 to 7),
/// and returns them as they are now, to compare after the upgrade.
fn rounds_written_in_version_7() -> Vec<(RoundId, crate::types::RoundInfo<AccountId, Balance, u64>)>
{
	let mut rounds: Vec<_> = Rounds::<Test>::iter().collect();
	rounds.sort_by_key(|(id, _)| *id);
	for (id, round) in &rounds {
		migrations::v8::v7::Rounds::<Test>::insert(
			id,
			migrations::v8::v7::RoundInfo::from_current(round.clone()),
		);
	}
	rounds
}

/// Every round, sorted by id.
fn rounds_now() -> Vec<(RoundId, crate::types::RoundInfo<AccountId, Balance, u64>)> {
	let mut rounds: Vec<_> = Rounds::<Test>::iter().collect();
	rounds.sort_by_key(|(id, _)| *id);
	rounds
}

/// Version 7 counts each account's rounds waiting for their draw: a chain at version 6 had
/// rounds committed and not drawn, and no count of them.
#[test]
fn version_6_openers_get_their_share_of_the_draw_queue() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let family = create_hierarchical_machine(&[4, 10], 5);
		// A backup level waiting for its draw is no opener's share.
		let root = open(family);
		run_past_deadline(root);
		assert_ok!(ConsensusMachine::start_handover(RuntimeOrigin::signed(99), root));
		assert!(!Rounds::<Test>::get(family_levels(root)[1]).unwrap().is_drawn());
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)));
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), family, h(2)));
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER + 1), family, h(3)));
		let counts: Vec<_> = PendingDrawsOf::<Test>::iter().collect();
		let _ = PendingDrawsOf::<Test>::clear(u32::MAX, None);
		let rounds = rounds_written_in_version_7();
		StorageVersion::new(6).put::<ConsensusMachine>();
		migrations::v7::MigrateV6ToV7::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(7));
		assert_eq!(PendingDrawsOf::<Test>::get(OPENER), 2);
		assert_eq!(PendingDrawsOf::<Test>::get(OPENER + 1), 1);
		let mut migrated: Vec<_> = PendingDrawsOf::<Test>::iter().collect();
		let mut counts = counts;
		migrated.sort();
		counts.sort();
		assert_eq!(migrated, counts);
		// Once at version 7, it does nothing.
		migrations::v7::MigrateV6ToV7::<Test>::on_runtime_upgrade();
		assert_eq!(PendingDrawsOf::<Test>::get(OPENER), 2);
		migrations::v8::MigrateV7ToV8::<Test>::on_runtime_upgrade();
		assert_eq!(rounds_now(), rounds, "every round is back in today's layout");
		migrations::v9::MigrateV8ToV9::<Test>::on_runtime_upgrade();
	});
}

/// Version 8 keeps a round's phase in one value: every round written in the version-7 layout
/// (a sentinel deadline until drawn, `decided`, `closed`) comes back in the phase it was in,
/// with its draw and decision block, whichever phase that was.
#[test]
fn version_7_rounds_come_back_in_the_phase_they_were_in() {
	ExtBuilder::default().build_and_execute(|| {
		let unitary = create_machine();
		let closed = decide(unitary);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), closed));
		let decided = decide(unitary);
		let drawn = open(unitary);
		let family = create_hierarchical_machine(&[4, 10], 5);
		let root = open(family);
		run_past_deadline(root);
		assert_ok!(ConsensusMachine::start_handover(RuntimeOrigin::signed(99), root));
		let backup = *family_levels(root).last().unwrap();
		let phase = |id| Rounds::<Test>::get(id).unwrap().phase;
		assert!(matches!(phase(closed), Phase::Closed { decided: Some(_), .. }));
		assert!(matches!(phase(decided), Phase::Decided { .. }));
		assert!(matches!(phase(drawn), Phase::Drawn(_)));
		assert!(matches!(phase(root), Phase::Closed { decided: None, .. }));
		assert!(matches!(phase(backup), Phase::Committed));
		let rounds = rounds_written_in_version_7();
		StorageVersion::new(7).put::<ConsensusMachine>();
		migrations::v8::MigrateV7ToV8::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(8));
		assert_eq!(rounds_now(), rounds);
		migrations::v9::MigrateV8ToV9::<Test>::on_runtime_upgrade();
	});
}

/// The version-7 fields say the phase: a round whose deadline is the largest block number was
/// not drawn; otherwise `closed` and `decided` pick the phase, and the draw keeps its fields.
#[test]
fn a_version_7_round_is_read_by_its_flags() {
	use migrations::v8::{phase_of, v7};
	let old = |deadline: u64, decided: Option<u64>, closed: bool| v7::RoundInfo::<u64, u128, u64> {
		machine: 1,
		level: 0,
		subject: h(1),
		opener: 7,
		deposit: 5,
		opened: 3,
		deadline,
		seed: h(2),
		instance: h(3),
		snapshot: 4,
		total_stake: 600,
		slots: 10,
		threshold: 8,
		decided,
		closed,
		kind: crate::types::RoundKind::Transition { step: 0 },
	};
	let draw = crate::types::Draw {
		deadline: 20,
		seed: h(2),
		instance: h(3),
		snapshot: 4,
		total_stake: 600,
	};
	assert_eq!(phase_of(&old(u64::MAX, None, false)), Phase::Committed);
	assert_eq!(phase_of(&old(20, None, false)), Phase::Drawn(draw.clone()));
	assert_eq!(phase_of(&old(20, Some(15), false)), Phase::Decided { draw: draw.clone(), at: 15 });
	assert_eq!(phase_of(&old(20, None, true)), Phase::Closed { draw: draw.clone(), decided: None });
	assert_eq!(phase_of(&old(20, Some(15), true)), Phase::Closed { draw, decided: Some(15) });
}

/// Version 9 stores a committee in chunks: every live round's seats, written one value per
/// seat as version 8 did, come back in their order, and statements still find their seats.
#[test]
fn version_8_committees_come_back_in_chunks_seat_for_seat() {
	use migrations::v9::{v8, MigrateV8ToV9};
	ExtBuilder::default().build_and_execute(|| {
		let unitary = create_machine();
		let small = open(unitary);
		let family = create_hierarchical_machine(&[4, 10], 5);
		let root = open(family);
		let committees: Vec<_> =
			[small, root].iter().map(|&id| (id, ConsensusMachine::committee(id))).collect();
		assert!(committees.iter().all(|(_, seats)| !seats.is_empty()));
		// The version-8 layout: one value per seat.
		let _ = CommitteeChunks::<Test>::clear(u32::MAX, None);
		for (id, seats) in &committees {
			for (index, seat) in (0u32..).zip(seats) {
				v8::CommitteeSeats::<Test>::insert(id, index, seat);
			}
		}
		StorageVersion::new(8).put::<ConsensusMachine>();
		#[cfg(feature = "try-runtime")]
		let state = MigrateV8ToV9::<Test>::pre_upgrade().unwrap();
		MigrateV8ToV9::<Test>::on_runtime_upgrade();
		#[cfg(feature = "try-runtime")]
		MigrateV8ToV9::<Test>::post_upgrade(state).unwrap();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(9));
		assert_eq!(v8::CommitteeSeats::<Test>::iter().count(), 0);
		for (id, seats) in &committees {
			assert_eq!(&ConsensusMachine::committee(*id), seats, "round {id}");
		}
		// The last seat still votes under its old index.
		let last = committees[0].1.last().unwrap().agent;
		submit(last, &statement(unitary, small));
		let index = committees[0].1.len() as u32 - 1;
		assert_eq!(seat_of(small, last), index);
		assert!(Statements::<Test>::contains_key(small, index));
	});
}
