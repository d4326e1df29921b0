//! The real runtime, natively: genesis from its own `development` preset, calls dispatched as
//! `RuntimeCall`s, and the consensus-machine runtime API.

use codec::Encode;
use consensus_machine_primitives::{
	certificate,
	statement::{Body, Statement},
	DecisionRule, Epsilon, EpsilonArg, Error as ThresholdError, Probability, ProbabilityArg,
};
use consensus_machine_runtime::{
	genesis_config_presets::{agent_account, agent_picket, picket_seed, DEV_AGENTS},
	AccountId, Runtime, RuntimeCall, RuntimeOrigin, System,
};
use consensus_machine_runtime_api::runtime_decl_for_consensus_machine_api::ConsensusMachineApiV2;
use frame_support::{
	assert_ok,
	pallet_prelude::TransactionSource,
	traits::{Authorize, UnfilteredDispatchable},
};
use pallet_consensus_machine::{
	types::{DutyTask, RoundKind},
	Event,
};
use pallet_pickets::Agents;
use sp_core::{sr25519, Pair};
use sp_runtime::traits::IdentifyAccount;

mod chain;
use chain::{development, next_block};

/// The dev account `//Alice` (endowed by the preset).
fn alice() -> AccountId {
	let public = sr25519::Pair::from_string("//Alice", None).unwrap().public();
	sp_runtime::MultiSigner::from(public).into_account()
}

/// Runs blocks until round `round` (committed) is drawn: `RANDOMNESS_LEAD + 2` blocks after
/// its commitment (up to `RANDOMNESS_LEAD` more just after a snapshot boundary).
fn run_to_draw(round: u64) {
	let committed = System::block_number();
	let lead = consensus_machine_runtime::RANDOMNESS_LEAD;
	while !pallet_consensus_machine::Rounds::<Runtime>::get(round).is_some_and(|r| r.is_drawn()) {
		let n = next_block();
		assert!(n <= committed + 2 * lead + 2, "round {round} not drawn by block {n}");
	}
	assert!(System::block_number() >= committed + lead + 2, "drawn before the lead passed");
}

fn picket(i: u32) -> sr25519::Pair {
	sr25519::Pair::from_string(&picket_seed(i), None).unwrap()
}

/// A rule across the two pallets, which neither pallet's `integrity_test` sees whole: a round
/// is drawn only from randomness known after the stake snapshot froze, so a snapshot period
/// must outlast the randomness lead by more than a block, or no draw ever happens.
#[test]
fn a_snapshot_period_outlasts_the_randomness_lead() {
	use frame_support::traits::Get;
	let period: u32 = <Runtime as pallet_pickets::Config>::SnapshotPeriod::get();
	let lead: u32 = <Runtime as pallet_consensus_machine::Config>::RandomnessLead::get();
	assert!(period > lead + 1, "SnapshotPeriod {period} against RandomnessLead {lead}");
}

#[test]
fn the_development_preset_bonds_the_dev_agents_and_creates_the_demo_machines() {
	development().execute_with(|| {
		assert_eq!(Agents::<Runtime>::iter().count(), DEV_AGENTS as usize);
		for i in 0..DEV_AGENTS {
			let agent = Agents::<Runtime>::get(agent_account(i)).expect("agent bonded");
			assert_eq!(agent.key, agent_picket(i));
			assert_eq!(agent.key, picket(i).public().into());
		}
		let notary = Runtime::machine(0).expect("notary machine");
		assert_eq!(notary.levels.len(), 1);
		let oracle = Runtime::machine(1).expect("hierarchical machine");
		assert_eq!(oracle.levels.len(), 2);
		assert!(oracle.levels[1].rule.is_complete(), "the backup is complete");
		let p = Probability::new(1, 20).unwrap();
		let e = Epsilon::from_exponent(6).unwrap();
		assert_eq!(
			Runtime::thresholds(40, p.into(), e.into()),
			DecisionRule::exact_allowing_unsafe(40, p, e)
		);
		// Out of range: an error the caller can read, not a decoding failure.
		let (bad_p, bad_e) = (ProbabilityArg { num: 3, den: 2 }, EpsilonArg { num: 0, den: 0 });
		assert_eq!(
			Runtime::thresholds(40, bad_p, e.into()),
			Err(ThresholdError::ProbabilityOutOfRange)
		);
		assert_eq!(
			Runtime::thresholds(40, p.into(), bad_e),
			Err(ThresholdError::EpsilonOutOfRange)
		);
		assert_eq!(oracle.levels[1].rule, DecisionRule::exact(40, p, e).unwrap());
		assert!(Runtime::machine(2).is_none());
	});
}

#[test]
fn a_round_on_the_real_runtime_is_decided_and_its_certificate_re_verifies() {
	development().execute_with(|| {
		let genesis = Runtime::genesis_hash();
		assert_ok!(RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::commit_round {
			machine: 1,
			subject: [9; 32],
		})
		.dispatch_bypass_filter(RuntimeOrigin::signed(alice())));
		let round = 0;
		assert!(Runtime::committee(round).expect("committed").is_empty(), "not drawn yet");
		run_to_draw(round);
		let committee = Runtime::committee(round).expect("drawn");
		// The API's views are its own types, but encode as the records clients of earlier
		// versions decoded.
		let record = pallet_consensus_machine::CommitteeRoots::<Runtime>::get(round);
		assert_eq!(Runtime::committee_root(round).encode(), record.encode());
		assert_eq!(Runtime::committee_root(round).unwrap().seats as usize, committee.len());
		let machine = pallet_consensus_machine::Machines::<Runtime>::get(1);
		assert_eq!(Runtime::machine(1).encode(), machine.encode());
		assert_eq!(Runtime::machine(1).unwrap().deciding_round, None, "a hierarchical machine");
		let info = Runtime::round(round).unwrap();
		let value = [5u8; 32];
		let mut decided = false;
		for i in 0..DEV_AGENTS {
			let key = agent_picket(i);
			let duties = Runtime::duties(key.clone());
			let Some(duty) = duties.iter().find(|d| d.round == round) else {
				assert!(committee.iter().all(|s| s.key != key), "a seat holder has a duty");
				continue;
			};
			assert!(matches!(duty.task, DutyTask::Decision { required: None, .. }));
			let statement = Statement {
				genesis,
				machine: 1,
				round,
				instance: duty.instance,
				level: 0,
				body: Body::Decision { value: Some(value) },
			};
			let signature = picket(i).sign(&statement.signing_payload());
			let call =
				RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
					statement,
					seat: duty.seat,
					signature: signature.into(),
					evidence: None,
				});
			call.authorize(TransactionSource::External).unwrap().expect("authorised");
			assert_ok!(call
				.dispatch_bypass_filter(RuntimeOrigin::from(frame_system::RawOrigin::Authorized)));
			let info = Runtime::round(round).unwrap();
			if matches!(info.kind, RoundKind::Primary { value: Some(_), .. }) {
				decided = true;
				break;
			}
		}
		assert!(decided, "the primary decides when all its seats agree");
		let cert = Runtime::certificate(round).expect("certificate");
		System::assert_has_event(
			Event::<Runtime>::CertificateRecorded {
				round,
				family: Some(round),
				machine: 1,
				level: 0,
				value,
				slots: cert.slots,
				signers: cert.signatures.len() as u32,
			}
			.into(),
		);
		let verified = certificate::verify(
			&committee,
			info.threshold,
			&cert.statement,
			&cert.signatures,
			|key: &pallet_consensus_machine::crypto::Public, msg, sig: &sr25519::Signature| {
				sr25519::Pair::verify(sig, msg, &key.clone().into())
			},
		);
		assert_eq!(verified, Ok(cert.slots));
		// Nothing is left to do for anyone in that round.
		for i in 0..DEV_AGENTS {
			assert!(Runtime::duties(agent_picket(i)).iter().all(|d| d.round != round));
		}
	});
}

#[test]
fn picket_agents_on_the_real_runtime_submit_statements_the_runtime_accepts() {
	use codec::Decode;
	use consensus_machine_runtime::{Executive, UncheckedExtrinsic};

	let (mut ext, state) = chain::with_dev_pickets(development());
	ext.execute_with(|| {
		assert_ok!(RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::commit_round {
			machine: 0,
			subject: [7; 32],
		})
		.dispatch_bypass_filter(RuntimeOrigin::signed(alice())));
		run_to_draw(0);
		let now = System::block_number();
		<consensus_machine_runtime::ConsensusMachine as frame_support::traits::Hooks<_>>::offchain_worker(now);
		let txs = std::mem::take(&mut state.write().transactions);
		assert_eq!(txs.len(), Runtime::committee(0).unwrap().len(), "one statement per seat");
		let parent = System::parent_hash();
		for tx in txs {
			let xt = UncheckedExtrinsic::decode(&mut &tx[..]).unwrap();
			// The full transaction-extension pipeline accepts it without a signature or fee.
			// (Validation initialises the next block and leaves it here: each statement is
			// checked at the same block, as a pool checks them all against one best block.)
			System::set_block_number(now);
			let valid = Executive::validate_transaction(TransactionSource::Local, xt, parent);
			assert!(valid.is_ok(), "{valid:?}");
		}
	});
}

#[test]
fn the_demo_driver_opens_rounds_every_period_and_stays_bounded() {
	use consensus_machine_runtime::{
		demo::{self, Tracked, MAX_TRACKED, NOTARY, ORACLE},
		genesis_config_presets::DEMO_PERIOD,
	};
	use pallet_consensus_machine::{NextRoundId, Rounds};
	development().execute_with(|| {
		let driver: AccountId = demo::account();
		let funds = consensus_machine_runtime::Balances::free_balance(&driver);
		assert!(funds > 0, "the preset endows the driver");
		while System::block_number() + 1 < DEMO_PERIOD {
			next_block();
		}
		assert_eq!(NextRoundId::<Runtime>::get(), 0, "nothing before the first period");
		assert_eq!(next_block(), DEMO_PERIOD);
		let opened: Vec<_> = (0..NextRoundId::<Runtime>::get())
			.map(|id| {
				let info = Rounds::<Runtime>::get(id).unwrap();
				(info.machine, info.object().is_some(), info.opener)
			})
			.collect();
		assert_eq!(
			opened,
			vec![
				(NOTARY, false, driver.clone()),
				(ORACLE, false, driver.clone()),
				(NOTARY, true, driver.clone())
			]
		);
		assert_eq!(Tracked::<Runtime>::get().len(), 3);
		// Nobody signs: the driver closes what timed out and never tracks more than its bound.
		while next_block() < 40 * DEMO_PERIOD {
			assert!(Tracked::<Runtime>::get().len() as u32 <= MAX_TRACKED);
		}
		let closed = (0..NextRoundId::<Runtime>::get())
			.filter(|id| Rounds::<Runtime>::get(id).is_some_and(|r| r.is_closed()))
			.count();
		assert!(closed > 3, "timed-out rounds were closed ({closed})");
		assert!(NextRoundId::<Runtime>::get() > 6, "the driver kept opening rounds");
	});
}

/// The upgrade path: on the development preset's genesis, every pallet is at its storage
/// version, the migrations run with their checks (no-ops: genesis is at the latest version),
/// and every pallet's `try_state` passes, before and after the demo driver has opened rounds.
#[cfg(feature = "try-runtime")]
#[test]
fn try_state_of_every_pallet_passes_on_the_development_genesis() {
	use consensus_machine_runtime::{AllPalletsWithSystem, Executive};
	use frame_support::traits::{
		GetStorageVersion, StorageVersion, TryState, TryStateSelect, UpgradeCheckSelect,
	};
	development().execute_with(|| {
		let version = consensus_machine_runtime::ConsensusMachine::on_chain_storage_version();
		assert_eq!(version, StorageVersion::new(9));
		let version = consensus_machine_runtime::Pickets::on_chain_storage_version();
		assert_eq!(version, StorageVersion::new(2));
		AllPalletsWithSystem::try_state(1, TryStateSelect::All).expect("genesis is consistent");
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("migrations pass");
		use consensus_machine_runtime::genesis_config_presets::DEMO_PERIOD;
		// Past the first draws: a round committed at `DEMO_PERIOD` is drawn `RANDOMNESS_LEAD + 2`
		// blocks later.
		let lead = consensus_machine_runtime::RANDOMNESS_LEAD;
		while next_block() < 4 * DEMO_PERIOD + 2 * lead {}
		assert!(pallet_consensus_machine::NextRoundId::<Runtime>::get() > 0);
		assert!(pallet_consensus_machine::NextDraw::<Runtime>::get() > 0, "rounds were drawn");
		AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
			.expect("consistent with rounds open");
	});
}

/// The upgrade from version 7 with its checks: rounds the demo driver opened (committed, drawn,
/// decided and closed) are written back in the version-7 layout, their committees one value
/// per seat as before version 9, and the runtime's migrations run as `try-runtime` runs them:
/// `pre_upgrade`, the migration, `post_upgrade`, then every pallet's `try_state`. Each round
/// and each committee comes back as it was.
#[cfg(feature = "try-runtime")]
#[test]
fn try_state_passes_after_the_version_8_migration_of_live_rounds() {
	use consensus_machine_runtime::{ConsensusMachine, Executive};
	use frame_support::traits::UncheckedOnRuntimeUpgrade;
	use frame_support::traits::{GetStorageVersion, StorageVersion, UpgradeCheckSelect};
	use pallet_consensus_machine::{
		migrations::v8::{v7, InnerMigrateV7ToV8},
		types::Phase,
		Rounds,
	};
	development().execute_with(|| {
		use consensus_machine_runtime::genesis_config_presets::DEMO_PERIOD;
		let lead = consensus_machine_runtime::RANDOMNESS_LEAD;
		while next_block() < 12 * DEMO_PERIOD + 2 * lead {}
		let mut rounds: Vec<_> = Rounds::<Runtime>::iter().collect();
		rounds.sort_by_key(|(id, _)| *id);
		let phases: Vec<_> = rounds.iter().map(|(_, r)| &r.phase).collect();
		let closed = |p: &&Phase<_>| matches!(p, Phase::Closed { .. });
		assert!(phases.iter().any(closed), "closed rounds: {phases:?}");
		assert!(phases.iter().any(|p| matches!(p, Phase::Drawn(_))), "live rounds: {phases:?}");
		let committees: Vec<_> =
			rounds.iter().map(|(id, _)| (*id, ConsensusMachine::committee(*id))).collect();
		assert!(committees.iter().any(|(_, seats)| !seats.is_empty()), "drawn committees");
		let _ = pallet_consensus_machine::CommitteeChunks::<Runtime>::clear(u32::MAX, None);
		for (id, seats) in &committees {
			for (index, seat) in (0u32..).zip(seats) {
				pallet_consensus_machine::migrations::v9::v8::CommitteeSeats::<Runtime>::insert(
					id, index, seat,
				);
			}
		}
		StorageVersion::new(7).put::<consensus_machine_runtime::ConsensusMachine>();
		for (id, round) in &rounds {
			frame_support::storage::unhashed::put(
				&Rounds::<Runtime>::hashed_key_for(id),
				&v7::RoundInfo::from_current(round.clone()),
			);
		}
		// What the checks remember of the old layout, to show below that they can fail.
		let before = InnerMigrateV7ToV8::<Runtime>::pre_upgrade().expect("version-7 rounds decode");
		// A version-7 round marked decided before its draw would lose its decision: refused.
		let (id, round) = &rounds[0];
		let mut undrawn = v7::RoundInfo::from_current(round.clone());
		(undrawn.deadline, undrawn.decided) = (u32::MAX, Some(1));
		v7::Rounds::<Runtime>::insert(id, &undrawn);
		let refused = InnerMigrateV7ToV8::<Runtime>::pre_upgrade();
		assert_eq!(refused, Err("a version-7 round decided or closed before its draw".into()));
		v7::Rounds::<Runtime>::insert(id, v7::RoundInfo::from_current(round.clone()));
		Executive::try_runtime_upgrade(UpgradeCheckSelect::All)
			.expect("the migration's checks pass");
		let version = consensus_machine_runtime::ConsensusMachine::on_chain_storage_version();
		assert_eq!(version, StorageVersion::new(9));
		let mut migrated: Vec<_> = Rounds::<Runtime>::iter().collect();
		migrated.sort_by_key(|(id, _)| *id);
		assert_eq!(migrated, rounds);
		for (id, seats) in &committees {
			assert_eq!(&ConsensusMachine::committee(*id), seats, "round {id}'s committee");
		}
		// A migration that mixed up phases would be caught: a live round closed, or decided.
		let (live, _) = rounds.iter().find(|(_, r)| matches!(r.phase, Phase::Drawn(_))).unwrap();
		Rounds::<Runtime>::mutate(live, |r| r.as_mut().unwrap().phase.close());
		let refused = InnerMigrateV7ToV8::<Runtime>::post_upgrade(before.clone());
		assert_eq!(refused, Err("a round's closing changed".into()));
		Rounds::<Runtime>::insert(live, &rounds.iter().find(|(id, _)| id == live).unwrap().1);
		InnerMigrateV7ToV8::<Runtime>::post_upgrade(before.clone()).expect("restored");
		Rounds::<Runtime>::mutate(live, |r| r.as_mut().unwrap().phase.decide(1));
		let refused = InnerMigrateV7ToV8::<Runtime>::post_upgrade(before.clone());
		assert_eq!(refused, Err("a round's decision block changed".into()));
		// Or one that lost any other field.
		Rounds::<Runtime>::insert(live, &rounds.iter().find(|(id, _)| id == live).unwrap().1);
		Rounds::<Runtime>::mutate(live, |r| r.as_mut().unwrap().threshold += 1);
		let refused = InnerMigrateV7ToV8::<Runtime>::post_upgrade(before);
		assert_eq!(refused, Err("a round's other fields changed".into()));
	});
}
