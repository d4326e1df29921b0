//! The storage migrations from version 5 on, each on storage written in the layout it starts
//! from.

use super::{light::*, *};
use crate::migrations;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

/// Version 5 had no round bound in an unbonding agent's status, and keyed verdicts by object
/// alone: the migration gives every unbonding agent the next round id at the upgrade and keeps
/// every other status; it moves a verdict of a live round under its machine and drops one whose
/// round is gone (no machine to file it under).
#[test]
fn version_5_unbonding_agents_get_an_accountability_bound_and_verdicts_a_machine() {
	use migrations::v6::v5;
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let machine = Rounds::<Test>::get(round).unwrap().machine;
		let record = Validity::<Test>::get(machine, object).unwrap();
		let _ = Validity::<Test>::clear(u32::MAX, None);
		let (forgotten, _) = bad_object();
		v5::Validity::<Test>::insert(object, record);
		v5::Validity::<Test>::insert(
			forgotten,
			crate::types::ValidityRecord { round: 999, ..record },
		);
		let next = NextRoundId::<Test>::get();
		assert!(next > 0);
		let agents = Agents::<Test>::iter().count();
		let old = |who: AccountId, status: v5::AgentStatus<u64>| {
			let info = Agents::<Test>::get(who).unwrap();
			let old = v5::AgentInfo { key: info.key, bond: info.bond, index: info.index, status };
			frame_support::storage::unhashed::put(&Agents::<Test>::hashed_key_for(who), &old);
		};
		old(1, v5::AgentStatus::Unbonding { until: 77, suspended: true });
		old(2, v5::AgentStatus::Banned { until: 9 });
		old(3, v5::AgentStatus::Active);
		StorageVersion::new(5).put::<ConsensusMachine>();

		migrations::v6::MigrateV5ToV6::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(6));
		assert_eq!(
			Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Unbonding { until: 77, suspended: true, accountable: next }
		);
		assert_eq!(Agents::<Test>::get(2).unwrap().status, AgentStatus::Banned { until: 9 });
		assert_eq!(Agents::<Test>::get(3).unwrap().status, AgentStatus::Active);
		assert_eq!(Agents::<Test>::iter().count(), agents, "every agent decodes");
		assert_eq!(Validity::<Test>::get(machine, object), Some(record));
		assert_eq!(Validity::<Test>::iter().count(), 1, "the pruned round's verdict is dropped");
		// Run again, it does nothing.
		migrations::v6::MigrateV5ToV6::<Test>::on_runtime_upgrade();
		assert_eq!(
			Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Unbonding { until: 77, suspended: true, accountable: next }
		);
		// The made-up statuses left the stake tree as it was: `try_state` would refuse them.
		for who in [1, 2] {
			Agents::<Test>::mutate(who, |a| a.as_mut().unwrap().status = AgentStatus::Active);
		}
		migrations::v7::MigrateV6ToV7::<Test>::on_runtime_upgrade();
	});
}

/// Version 7 counts each account's rounds waiting for their draw: a chain at version 6 had
/// rounds committed and not drawn, and no count of them.
#[test]
fn version_6_openers_get_their_share_of_the_draw_queue() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let family = create_hierarchical_machine(&[4, 10], 5);
		run_to_block(2);
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)));
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), family, h(2)));
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER + 1), family, h(3)));
		let counts: Vec<_> = PendingDrawsOf::<Test>::iter().collect();
		let _ = PendingDrawsOf::<Test>::clear(u32::MAX, None);
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
	});
}
