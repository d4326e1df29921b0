//! The version 1 → 2 migration, on storage written in the version-1 layout.

use super::{light::*, *};
use crate::{
	migrations::{
		self,
		v2::{v1, MigrateV1ToV2},
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

#[test]
fn version_1_storage_migrates_to_version_2() {
	ExtBuilder::default().build_and_execute(|| {
		// A decided round with a certificate, a live undecided one, an applied penalty.
		let machine = create_machine();
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

		rewrite_as_version_1();
		assert!(Rounds::<Test>::try_get(live).is_err(), "the old layout no longer decodes");
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(2));

		for (id, before) in rounds {
			let after = Rounds::<Test>::get(id).expect("decodes in the new layout");
			// The opening block's parent is in `BlockHash`: the instance is the one the round
			// was opened with.
			assert_eq!(after, before);
			let committee = Committees::<Test>::get(id).unwrap();
			let record = CommitteeRoots::<Test>::get(id).unwrap();
			assert_eq!(record.root, membership::committee_root(&committee));
			assert_eq!((record.instance, record.expires), (before.instance, None));
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
		// Run again, it does nothing.
		let before = Rounds::<Test>::get(live);
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(Rounds::<Test>::get(live), before);
		// The runtime's upgrade then goes on to version 3 (`runtime::Migrations`), which leaves
		// the migrated rounds as they are: the code's version.
		migrations::v3::MigrateV2ToV3::<Test>::on_runtime_upgrade();
		assert_eq!(ConsensusMachine::on_chain_storage_version(), StorageVersion::new(3));
		assert_eq!(ConsensusMachine::on_chain_storage_version(), crate::STORAGE_VERSION);
		assert_eq!(Rounds::<Test>::get(live), before);
	});
}
