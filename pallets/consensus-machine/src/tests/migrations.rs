//! The version 1 → 2 migration, on storage written in the version-1 layout.

use super::{light::*, *};
use crate::{
	migrations::{
		self,
		v2::{v1, MigrateV1ToV2},
		v4,
	},
	types::{OffenceKind, PenaltyStatus},
};
use codec::Encode;
use consensus_machine_primitives::{light::Verdict, membership};
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

fn downgrade(s: &Statement) -> v1::Statement {
	v1::Statement {
		genesis: s.genesis,
		machine: s.machine,
		round: s.round,
		level: s.level,
		body: s.body.clone(),
	}
}

/// Rewrites today's storage in the version-1 layout: no instances, no committee roots, an
/// applied penalty that paid its reporter.
///
/// A version-1 round was drawn in its opening block, so its instance bound that block's parent;
/// today's rounds are drawn some blocks after their commitment (`opened`). The mock never
/// finalises a block: every block's parent hash is the genesis `ParentHash`, and `BlockHash`
/// holds only block 0's. So that the chain's `BlockHash` tells the migration the parent each
/// round was drawn under, record that hash for the block before each round's commitment.
fn rewrite_as_version_1() {
	// While rounds and committee roots still read in today's layout.
	rewrite_as_version_3_committees();
	for (_, r) in Rounds::<Test>::iter() {
		frame_system::BlockHash::<Test>::insert(r.opened - 1, System::parent_hash());
	}
	for (id, r) in Rounds::<Test>::iter() {
		let old = v1::RoundInfo {
			machine: r.machine,
			level: r.level,
			subject: r.subject,
			opener: r.opener,
			deposit: r.deposit,
			opened: r.opened,
			deadline: r.deadline,
			seed: r.seed,
			population_version: r.snapshot,
			total_stake: r.total_stake,
			slots: r.slots,
			threshold: r.threshold,
			decided: r.decided,
			closed: r.closed,
			kind: r.kind,
		};
		frame_support::storage::unhashed::put(&Rounds::<Test>::hashed_key_for(id), &old);
	}
	for (id, c) in Certificates::<Test>::iter() {
		let old = v1::CertificateRecord {
			statement: downgrade(&c.statement),
			signatures: c.signatures,
			slots: c.slots,
			block: c.block,
		};
		frame_support::storage::unhashed::put(&Certificates::<Test>::hashed_key_for(id), &old);
	}
	for (id, p) in Penalties::<Test>::iter() {
		let old = v1::Penalty {
			offender: p.offender,
			kind: p.kind,
			round: p.round,
			key: p.key,
			// Signed, as then, over the version-1 payload.
			statements: BoundedVec::truncate_from(
				p.statements
					.iter()
					.map(|(s, _)| {
						let old = downgrade(s);
						let payload = (migrations::v2::V1_STATEMENT_TAG, &old).encode();
						(old, crate::mock::pair(p.offender).sign(&payload))
					})
					.collect(),
			),
			fraction: p.fraction,
			base: p.base,
			reporter: p.reporter,
			recorded: p.recorded,
			apply_at: p.apply_at,
			status: match p.status {
				PenaltyStatus::Pending => v1::PenaltyStatus::Pending,
				PenaltyStatus::Applied { slashed } => {
					v1::PenaltyStatus::Applied { slashed, reward: slashed / 10 }
				}
				PenaltyStatus::Cancelled => v1::PenaltyStatus::Cancelled,
			},
		};
		frame_support::storage::unhashed::put(&Penalties::<Test>::hashed_key_for(id), &old);
	}
	let _ = CommitteeRoots::<Test>::clear(u32::MAX, None);
	CommitteeRootCursor::<Test>::kill();
	StorageVersion::new(1).put::<ConsensusMachine>();
}

/// Rewrites today's committees in the version-3 layout (one value per round, an empty one for
/// a committed round).
fn rewrite_as_version_3_committees() {
	for (id, _) in Rounds::<Test>::iter() {
		let committee = BoundedVec::truncate_from(ConsensusMachine::committee(id));
		v4::old::Committees::<Test>::insert(id, committee);
	}
	let _ = CommitteeSeats::<Test>::clear(u32::MAX, None);
}

#[test]
fn version_1_storage_migrates_to_version_2() {
	ExtBuilder::default().build_and_execute(|| {
		// A decided round with a certificate, a live undecided one, an applied penalty.
		let machine = create_judge();
		let decided = open(machine);
		for seat in seats_to_threshold(decided) {
			submit(seat.agent, &statement(machine, decided));
		}
		let (object, _) = good_object();
		let live = propose(object);
		let cheat = seats(live)[0].agent;
		let (a, b) = (verdict(live, Verdict::Green), verdict(live, Verdict::Amber));
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			seat_proof(live, cheat),
			pair((a.clone(), stored(sign(cheat, &a))), (b.clone(), stored(sign(cheat, &b))))
		));
		run_to_block(System::block_number() + SLASH_DEFERRAL + 1);
		let rounds: Vec<_> = Rounds::<Test>::iter().collect();
		assert_eq!(rounds.len(), 2);
		let certificate = Certificates::<Test>::get(decided).unwrap();

		let committees: Vec<_> = rounds.iter().map(|(id, _)| seats(*id)).collect();

		rewrite_as_version_1();
		assert!(Rounds::<Test>::try_get(live).is_err(), "the old layout no longer decodes");
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(2));

		for (id, before) in &rounds {
			let after = Rounds::<Test>::get(id).expect("decodes in the new layout");
			// The opening block's parent is in `BlockHash`: the instance is the one the round
			// was opened with.
			assert_eq!(&after, before);
			let committee = v4::old::Committees::<Test>::get(id).unwrap();
			let record = CommitteeRoots::<Test>::get(id).unwrap();
			assert_eq!(record.root, membership::committee_root(&committee));
			assert_eq!((record.instance, record.expires), (before.instance, None));
		}
		// The runtime's upgrade goes on to versions 3 and 4 (`runtime::Migrations`): the
		// committees move seat by seat.
		migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		migrations::v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		migrations::v5::MigrateV4ToV5::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(5));
		// Version 6 reads version-5 agents and verdicts; this test's verdicts were written in
		// today's layout, so it stops here (the 5 → 6 test builds its own version-5 state).
		crate::STORAGE_VERSION.put::<ConsensusMachine>();
		for ((id, _), committee) in rounds.iter().zip(committees) {
			assert_eq!(seats(*id), committee);
		}
		let migrated = Certificates::<Test>::get(decided).unwrap();
		assert_eq!(migrated.statement.instance, [0; 32], "signed before instances");
		assert_eq!(
			Statement { instance: certificate.statement.instance, ..migrated.statement },
			certificate.statement
		);
		let [(_, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::Equivocation);
		assert!(matches!(penalty.status, PenaltyStatus::Applied { slashed } if slashed > 0));
		assert_eq!(penalty.statements.len(), 2);
		assert_eq!(CommitteeRootCursor::<Test>::get(), PruneCursor::<Test>::get());
		// New statements bind the migrated instance; reports find the root.
		let late = seats(live)[1].agent;
		let (c, d) = (verdict(live, Verdict::Green), verdict(live, Verdict::Amber));
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			seat_proof(live, late),
			pair((c.clone(), stored(sign(late, &c))), (d.clone(), stored(sign(late, &d))))
		));
		// Run again, they do nothing.
		let before = Rounds::<Test>::get(live);
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		migrations::v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(Rounds::<Test>::get(live), before);
		assert_eq!(ConsensusMachine::on_chain_storage_version(), crate::STORAGE_VERSION);
		ConsensusMachine::do_try_state().expect("consistent after the upgrade");
	});
}

/// Version 3 kept a round's committee and the freed stake-tree indices in one value each; the
/// migration spreads them out, keeping seat order and which index is reused next.
#[test]
fn version_3_committees_and_free_indices_move_to_per_entry_storage() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let committee = seats(round);
		assert!(committee.len() > 1);
		rewrite_as_version_3_committees();
		v4::old::FreeIndices::<Test>::put(BoundedVec::truncate_from(vec![40, 41]));
		StorageVersion::new(3).put::<ConsensusMachine>();
		assert!(seats(round).is_empty(), "the new layout is empty before the upgrade");

		migrations::v4::MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(4));
		assert_eq!(seats(round), committee);
		assert!(!v4::old::Committees::<Test>::contains_key(round));
		assert!(!v4::old::FreeIndices::<Test>::exists());
		assert_eq!(FreeIndexCount::<Test>::get(), 2);
		assert_eq!(
			(FreeIndexStack::<Test>::get(0), FreeIndexStack::<Test>::get(1)),
			(Some(40), Some(41))
		);
		// A statement reads its seat in the new layout.
		submit(committee[0].agent, &statement(machine, round));
		assert!(Statements::<Test>::contains_key(round, 0));
		// The made-up indices are held by agents: the free stack's check refuses them.
		assert!(ConsensusMachine::do_try_state().is_err());
		let _ = FreeIndexStack::<Test>::clear(u32::MAX, None);
		FreeIndexCount::<Test>::kill();
		crate::STORAGE_VERSION.put::<ConsensusMachine>();
	});
}

/// Version 4 kept an offender's pending-penalty count at zero once its penalties were settled;
/// the migration removes those and keeps the live counts.
#[test]
fn version_4_pending_penalty_counts_at_zero_are_removed() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		super::penalties::report(cheat, round);
		assert_eq!(PendingPenalties::<Test>::get(cheat), 1);
		// Two settled offenders, as version 4 left them.
		PendingPenalties::<Test>::insert(5, 0);
		PendingPenalties::<Test>::insert(6, 0);
		assert!(ConsensusMachine::do_try_state().is_err(), "zero counts are refused");
		StorageVersion::new(4).put::<ConsensusMachine>();

		migrations::v5::MigrateV4ToV5::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(5));
		assert!(!PendingPenalties::<Test>::contains_key(5));
		assert!(!PendingPenalties::<Test>::contains_key(6));
		assert_eq!(PendingPenalties::<Test>::get(cheat), 1, "a live count is kept");
		// Version 6 leaves pending-penalty counts alone (it has its own test).
		crate::STORAGE_VERSION.put::<ConsensusMachine>();
		ConsensusMachine::do_try_state().expect("consistent after the upgrade");
		StorageVersion::new(5).put::<ConsensusMachine>();
		// Run again, it does nothing.
		PendingPenalties::<Test>::insert(5, 0);
		migrations::v5::MigrateV4ToV5::<Test>::on_runtime_upgrade();
		assert!(PendingPenalties::<Test>::contains_key(5), "a no-op at version 5");
		PendingPenalties::<Test>::remove(5);
		crate::STORAGE_VERSION.put::<ConsensusMachine>();
	});
}

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
