//! Hierarchical machines: the primary → backup handover.

use super::{light::penalties_of, *};
use crate::types::{LevelSpec, OffenceKind};

const LEVEL_TIMEOUT: u64 = 5;

fn spec(slots: u32) -> LevelSpec<u64> {
	level(slots, LEVEL_TIMEOUT)
}

/// G: 4 slots (max_bad 1, threshold 3); then the given levels. H of 10 slots is complete
/// (max_bad 2, threshold 7); a middle level of 6 slots is not (max_bad 2, threshold 5).
fn hierarchical(more: &[u32]) -> MachineId {
	let slots: Vec<u32> = [4].iter().chain(more).copied().collect();
	create_hierarchical_machine(&slots, LEVEL_TIMEOUT)
}

fn decision(round: RoundId, value: Option<Hash>) -> Statement {
	let info = Rounds::<Test>::get(round).unwrap();
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine: info.machine,
		round,
		instance: info.draw().unwrap().instance,
		level: info.level,
		body: Body::Decision { value },
	}
}

fn handover(round: RoundId) -> sp_runtime::DispatchResult {
	ConsensusMachine::start_handover(RuntimeOrigin::signed(99), round)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// The round of the family's current level.
fn current(root: RoundId) -> RoundId {
	*family_levels(root).last().unwrap()
}

/// Seats of `round`, in order, whose slots add up to exactly `slots`.
fn seats_with(round: RoundId, slots: u32) -> Vec<Seat<AccountId>> {
	let mut total = 0;
	let chosen: Vec<_> = seats(round)
		.into_iter()
		.filter(|s| {
			if total + s.slots <= slots {
				total += s.slots;
				true
			} else {
				false
			}
		})
		.collect();
	assert_eq!(total, slots, "the draw allows exactly {slots} slots");
	chosen
}

#[test]
fn the_primary_decides_before_its_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let v = h(42);
		for seat in seats_with(root, 3) {
			submit(seat.agent, &decision(root, Some(v)));
			System::assert_has_event(
				Event::PreDecided { round: root, agent: seat.agent, value: Some(v) }.into(),
			);
		}
		assert_family_decided(root, 0, v);
		assert_eq!(family_value(root), Some(v));
		assert!(Certificates::<Test>::get(root).is_some());
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
		run_past_deadline(root);
		assert_noop!(handover(root), Error::<Test>::RoundDecided);
	});
}

#[test]
fn a_stalled_primary_hands_over_and_the_backup_decides_its_own_value() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		// One slot endorses v: not more than max_bad, so nothing is required.
		let early = seats_with(root, 1);
		submit(early[0].agent, &decision(root, Some(h(1))));
		assert_noop!(handover(root), Error::<Test>::DeadlineNotPassed);
		run_past_deadline(root);
		let late = seats(root).into_iter().find(|s| s.agent != early[0].agent).unwrap();
		// Past the deadline the primary takes no statement, handed over or not.
		assert_noop!(
			dispatch(late.agent, &decision(root, Some(h(1)))),
			Error::<Test>::DeadlinePassed
		);
		assert_ok!(handover(root));
		let backup = current(root);
		System::assert_has_event(
			Event::HandoverStarted {
				round: root,
				from_level: 0,
				to_level: 1,
				backup_round: backup,
				required: None,
			}
			.into(),
		);
		// Frozen: a late pre-decision is refused, and the handover happens once.
		assert_noop!(dispatch(late.agent, &decision(root, Some(h(1)))), Error::<Test>::HandedOver);
		assert_noop!(handover(root), Error::<Test>::HandedOver);
		// The silent primary seats missed their duty; the early one did not.
		assert!(pallet_pickets::Misses::<Test>::get(early[0].agent).is_empty());
		assert_eq!(pallet_pickets::Misses::<Test>::get(late.agent).len(), 1);
		run_to_draw();
		let w = h(2);
		for seat in seats_with(backup, 7) {
			submit(seat.agent, &decision(backup, Some(w)));
		}
		assert_family_decided(root, 1, w);
		assert_eq!(family_value(root), Some(w));
		assert!(Certificates::<Test>::get(backup).is_some());
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
	});
}

#[test]
fn the_backup_adopts_what_more_than_max_bad_primary_slots_pre_decided() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let v = h(7);
		for seat in seats_with(root, 2) {
			submit(seat.agent, &decision(root, Some(v)));
		}
		run_past_deadline(root);
		assert_ok!(handover(root));
		let backup = current(root);
		assert_eq!(Rounds::<Test>::get(backup).unwrap().required(), Some(v));
		run_to_draw();
		let seat = seats(backup)[0].clone();
		let own = decision(backup, Some(h(8)));
		assert_noop!(dispatch(seat.agent, &own), Error::<Test>::BreaksAdoptionRule);
		assert_eq!(
			authorize(seat.agent, &own, sign(seat.agent, &own)),
			Err(InvalidTransaction::Custom(error_index(Error::<Test>::BreaksAdoptionRule)).into())
		);
		assert_noop!(dispatch(seat.agent, &decision(backup, None)), Error::<Test>::NullInBackup);
		for seat in seats_with(backup, 7) {
			submit(seat.agent, &decision(backup, Some(v)));
		}
		assert_family_decided(root, 1, v);
	});
}

#[test]
fn a_backup_vote_breaking_the_rule_is_reportable_once() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		for seat in seats_with(root, 2) {
			submit(seat.agent, &decision(root, Some(h(7))));
		}
		run_past_deadline(root);
		assert_ok!(handover(root));
		let backup = current(root);
		run_to_draw();
		let cheat = seats(backup)[0].agent;
		let bad = decision(backup, Some(h(8)));
		let report = |s: &Statement, signer| {
			ConsensusMachine::report_backup_vote(
				RuntimeOrigin::signed(77),
				seat_of(s.round, signer),
				s.clone(),
				stored(sign(signer, s)),
			)
		};
		let good = decision(backup, Some(h(7)));
		assert_noop!(report(&good, cheat), Error::<Test>::NotAViolation);
		assert_noop!(report(&bad, 20), Error::<Test>::NotAPicket);
		// Another key's signature for the cheat's seat proves nothing.
		assert_noop!(
			ConsensusMachine::report_backup_vote(
				RuntimeOrigin::signed(77),
				seat_of(backup, cheat),
				bad.clone(),
				stored(sign(20, &bad)),
			),
			Error::<Test>::BadSignature
		);
		assert_noop!(report(&decision(root, Some(h(8))), cheat), Error::<Test>::NotABackupLevel);
		// The cheat's own signature over the bad vote re-addressed elsewhere proves nothing
		// here: another chain, an unknown round, another machine, fork instance or level.
		let index = seat_of(backup, cheat);
		let readdressed = |change: &dyn Fn(&mut Statement)| {
			let mut s = bad.clone();
			change(&mut s);
			ConsensusMachine::report_backup_vote(
				RuntimeOrigin::signed(77),
				index,
				s.clone(),
				stored(sign(cheat, &s)),
			)
		};
		assert_noop!(readdressed(&|s| s.genesis = h(77)), Error::<Test>::WrongGenesis);
		assert_noop!(readdressed(&|s| s.round = 999), Error::<Test>::UnknownRound);
		assert_noop!(readdressed(&|s| s.machine += 1), Error::<Test>::WrongMachine);
		assert_noop!(readdressed(&|s| s.instance = h(77)), Error::<Test>::WrongInstance);
		assert_noop!(readdressed(&|s| s.level = 0), Error::<Test>::WrongLevel);
		assert_ok!(report(&bad, cheat));
		let reported = System::block_number();
		let [(_, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::BackupRuleViolation);
		assert_eq!(penalty.reporter, Some(77));
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(cheat).unwrap().status,
			AgentStatus::Suspended
		);
		assert_noop!(report(&bad, cheat), Error::<Test>::AlreadyReported);
		run_to_block(reported + SLASH_DEFERRAL);
		// 40% of 1_000.
		assert_eq!(held_bond(cheat), 600);
	});
}

#[test]
fn three_levels_carry_the_primarys_work_over_a_stalled_middle_level() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[6, 10]);
		let root = open(machine);
		let v = h(7);
		for seat in seats_with(root, 2) {
			submit(seat.agent, &decision(root, Some(v)));
		}
		run_past_deadline(root);
		assert_ok!(handover(root));
		let middle = current(root);
		// Not before the middle level's deadline: neither while undrawn nor once drawn.
		assert_noop!(handover(middle), Error::<Test>::DeadlineNotPassed);
		run_to_draw();
		assert_noop!(handover(middle), Error::<Test>::DeadlineNotPassed);
		run_past_deadline(middle);
		assert_ok!(handover(middle));
		let last = current(root);
		assert_eq!(Rounds::<Test>::get(last).unwrap().level, 2);
		assert_eq!(Rounds::<Test>::get(last).unwrap().required(), Some(v));
		run_to_draw();
		run_past_deadline(last);
		assert_noop!(handover(last), Error::<Test>::LastLevel);
	});
}

#[test]
fn the_last_level_closes_undecided_and_returns_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), root),
			Error::<Test>::RoundStillOpen
		);
		run_past_deadline(root);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), root),
			Error::<Test>::RoundStillOpen
		);
		assert_ok!(handover(root));
		let backup = current(root);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), root),
			Error::<Test>::AlreadyClosed
		);
		run_to_draw();
		let end = deadline(backup);
		run_past_deadline(backup);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), backup));
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
		// Both levels are pruned once the family's retention passes.
		run_to_block(end + RETENTION + 1);
		assert!(Rounds::<Test>::get(root).is_none());
		assert!(Rounds::<Test>::get(backup).is_none());
	});
}

#[test]
fn a_primary_certificate_after_the_handover_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let v = decision(root, Some(h(7)));
		let committee = seats(root);
		let sigs: Vec<_> = seats_with(root, 3)
			.iter()
			.map(|s| {
				let i = committee.iter().position(|c| c.agent == s.agent).unwrap() as u32;
				(i, stored(sign(s.agent, &v)))
			})
			.collect();
		run_past_deadline(root);
		assert_ok!(handover(root));
		assert_noop!(
			ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), v, sigs),
			Error::<Test>::HandedOver
		);
	});
}

#[test]
fn a_null_pre_decision_is_recorded_but_endorses_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let seat = seats(root)[0].agent;
		submit(seat, &decision(root, None));
		System::assert_last_event(
			Event::PreDecided { round: root, agent: seat, value: None }.into(),
		);
		assert_eq!(Tallies::<Test>::iter_prefix(root).count(), 0);
		// Statements of other kinds do not belong in a decision round.
		let other = seats(root)[1].agent;
		let mut transition = decision(root, None);
		transition.body = Body::Transition { step: 0, from: h(0), output: h(1), to: h(2) };
		assert_noop!(dispatch(other, &transition), Error::<Test>::WrongKind);
	});
}

#[test]
fn the_handover_is_fee_less_once_per_level() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let call = RuntimeCall::ConsensusMachine(CmCall::start_handover { round: root });
		assert_eq!(
			call.authorize(TransactionSource::External).unwrap(),
			Err(InvalidTransaction::Stale.into())
		);
		run_past_deadline(root);
		let (valid, _) = call.authorize(TransactionSource::External).unwrap().unwrap();
		let tag = codec::Encode::encode(&("ConsensusMachineHandover", (root, 0u8)));
		assert_eq!(valid.provides, vec![tag]);
		assert_ok!(ConsensusMachine::start_handover(
			RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
			root
		));
		assert_noop!(
			ConsensusMachine::start_handover(RuntimeOrigin::none(), current(root)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_hierarchical_machine_needs_a_complete_last_level() {
	ExtBuilder::default().build_and_execute(|| {
		let create = |levels: Vec<LevelSpec<u64>>| {
			ConsensusMachine::create_hierarchical_machine(RuntimeOrigin::root(), levels, DEPOSIT)
		};
		assert_noop!(create(vec![spec(4)]), Error::<Test>::WrongLevelCount);
		// 6 slots at p = 1/100, ε = 1e-3: max_bad 2, and 3·2 >= 6.
		assert_noop!(create(vec![spec(4), spec(6)]), Error::<Test>::BackupNotComplete);
		let mut unsafe_level = spec(1);
		unsafe_level.p = Probability::new(1, 10).unwrap().into();
		assert_noop!(create(vec![unsafe_level, spec(10)]), Error::<Test>::UnsafeCommittee);
		assert_noop!(
			ConsensusMachine::create_hierarchical_machine(
				RuntimeOrigin::signed(1),
				vec![spec(4), spec(10)],
				DEPOSIT
			),
			DispatchError::BadOrigin
		);
		assert_ok!(create(vec![spec(4), spec(10)]));
	});
}

/// Holds of round deposits and proposal bonds of `who`.
fn held_deposit(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &who)
}

/// Each agent's misses, for the seats of `round` (its committee's agents).
fn misses_of(round: RoundId) -> Vec<(AccountId, usize)> {
	seats(round)
		.into_iter()
		.map(|s| (s.agent, pallet_pickets::Misses::<Test>::get(s.agent).len()))
		.collect()
}

/// The attack on openers and on accountability: a family whose primary timed out and that
/// nobody handed over could never close (`RoundStillOpen`), so pruning deleted it with the
/// opener's deposit still held, and its silent seats' misses were never counted. Pruning now
/// settles the family first.
#[test]
fn a_family_nobody_handed_over_is_settled_when_pruned() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		assert_eq!(held_deposit(OPENER), DEPOSIT + backup_fees(machine));
		let primary = seats(root);
		run_to_block(deadline(root) + RETENTION + 1);
		assert!(Rounds::<Test>::get(root).is_none(), "pruned");
		assert_eq!(held_deposit(OPENER), 0, "the deposit came back");
		for seat in primary {
			assert_eq!(
				pallet_pickets::Misses::<Test>::get(seat.agent).len(),
				1,
				"silent primary seats missed"
			);
		}
	});
}

/// The same when the last level timed out and nobody closed it; and when the family was
/// decided, nothing is missed and everything goes.
#[test]
fn every_way_a_family_ends_settles_its_deposit_and_misses() {
	// Timed out at the last level, never closed.
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		run_past_deadline(root);
		assert_ok!(handover(root));
		let backup = current(root);
		let primary_misses = misses_of(root);
		run_to_draw();
		let backup_seats: Vec<AccountId> = seats(backup).into_iter().map(|s| s.agent).collect();
		run_to_block(deadline(backup) + RETENTION + 1);
		assert!(Rounds::<Test>::get(root).is_none() && Rounds::<Test>::get(backup).is_none());
		assert_eq!(held_deposit(OPENER), 0);
		// The backup's silent seats missed once more than before.
		for seat in backup_seats {
			let before = primary_misses.iter().find(|(a, _)| *a == seat).map_or(0, |(_, n)| *n);
			assert_eq!(pallet_pickets::Misses::<Test>::get(seat).len(), before + 1, "agent {seat}");
		}
	});
	// Decided at level 0: nothing missed, deposit back at the decision, all pruned.
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let v = decision(root, Some(h(7)));
		for seat in seats_with(root, 3) {
			submit(seat.agent, &v);
		}
		assert_eq!(held_deposit(OPENER), 0);
		let decided = Rounds::<Test>::get(root).unwrap().decided().expect("decided");
		run_to_block(decided + RETENTION + 1);
		assert!(Rounds::<Test>::get(root).is_none());
		assert!(
			pallet_pickets::Misses::<Test>::iter().next().is_none(),
			"a decided family misses nothing"
		);
	});
}

/// Pruning does not depend on spare block weight: anyone prunes a due round at once, and not
/// before.
#[test]
fn anyone_prunes_a_due_round_without_on_idle() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let end = deadline(root);
		run_to_block_without_idle(end + RETENTION);
		assert_noop!(
			ConsensusMachine::prune_round(RuntimeOrigin::signed(99), root),
			Error::<Test>::RoundNotDue
		);
		run_to_block_without_idle(end + RETENTION + 1);
		assert_ok!(ConsensusMachine::prune_round(RuntimeOrigin::signed(99), root));
		assert!(Rounds::<Test>::get(root).is_none());
		assert_eq!(held_deposit(OPENER), 0);
		assert_noop!(
			ConsensusMachine::prune_round(RuntimeOrigin::signed(99), root),
			Error::<Test>::UnknownRound
		);
	});
}

/// Two forks hand the same primary over at the same block: on one the primary pre-decided `v`
/// (the backup must adopt it), on the other nothing (the backup votes its own value). The
/// backup round has one id and one committee on both. An honest backup vote on the second fork
/// breaks the first fork's rule, yet is not reportable there.
#[test]
fn an_honest_backup_vote_on_another_fork_is_not_a_rule_violation() {
	let fork = |predecide: bool| {
		let mut out = None;
		ExtBuilder::default().build_and_execute(|| {
			let machine = hierarchical(&[10]);
			let root = open(machine);
			if predecide {
				for seat in seats_with(root, 2) {
					submit(seat.agent, &decision(root, Some(h(7))));
				}
			}
			run_past_deadline(root);
			assert_ok!(handover(root));
			let backup = current(root);
			run_to_draw();
			out = Some((backup, seats(backup), decision(backup, Some(h(8)))));
		});
		out.unwrap()
	};
	let (backup, committee, honest_on_b) = fork(false);
	let picket = committee[0].agent;
	let signature = stored(sign(picket, &honest_on_b));
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		for seat in seats_with(root, 2) {
			submit(seat.agent, &decision(root, Some(h(7))));
		}
		run_past_deadline(root);
		assert_ok!(handover(root));
		run_to_draw();
		assert_eq!((current(root), seats(current(root))), (backup, committee.clone()));
		assert_eq!(Rounds::<Test>::get(backup).unwrap().required(), Some(h(7)));
		assert_ne!(
			Rounds::<Test>::get(backup).unwrap().draw().unwrap().instance,
			honest_on_b.instance
		);
		assert_noop!(
			ConsensusMachine::report_backup_vote(
				RuntimeOrigin::signed(77),
				seat_of(backup, picket),
				honest_on_b.clone(),
				signature,
			),
			Error::<Test>::WrongInstance
		);
	});
}

#[test]
fn a_certificate_is_one_event_not_one_per_signer() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = hierarchical(&[10]);
		let root = open(machine);
		let v = decision(root, Some(h(7)));
		let signers = seats_to_threshold(root);
		assert!(signers.len() >= 2, "the test needs two signers");
		// The first signer already stated null: its signature of `v` proves an equivocation
		// and does not count, so the certificate falls short of the threshold.
		submit(signers[0].agent, &decision(root, None));
		System::reset_events();
		let sigs: Vec<_> =
			signers.iter().map(|s| (seat_of(root, s.agent), stored(sign(s.agent, &v)))).collect();
		assert_ok!(ConsensusMachine::submit_certificate(
			RuntimeOrigin::signed(99),
			v.clone(),
			sigs
		));
		let counted: u32 = signers[1..].iter().map(|s| s.slots).sum();
		System::assert_has_event(
			Event::CertificateCounted {
				round: root,
				value: v.body.value_hash(),
				signers: signers.len() as u32 - 1,
				slots: counted,
			}
			.into(),
		);
		let per_signer = System::events().into_iter().filter(|r| {
			matches!(
				r.event,
				RuntimeEvent::ConsensusMachine(
					Event::StatementRecorded { .. } | Event::PreDecided { .. }
				)
			)
		});
		assert_eq!(per_signer.count(), 0);
		// Recorded all the same: every counted signer's statement, and their tally.
		assert_eq!(Tallies::<Test>::get(root, h(7)), counted);
		for s in &signers[1..] {
			assert_eq!(
				Statements::<Test>::get(root, seat_of(root, s.agent)).map(|(b, _)| b),
				Some(v.body.clone())
			);
		}
		assert_eq!(family_value(root), None);
		assert_eq!(super::light::penalties_of(signers[0].agent).len(), 1);
	});
}

/// A family whose committees together cost more to prune than a block gives (four levels, three
/// of up to 64 seats) once stalled pruning for good: `prune_round` refused it and `on_idle`
/// waited for a block with room for all of it, which never came. It is pruned in pages now,
/// each no costlier than one round: one page per block, through `on_idle` and through
/// `prune_round`, every invariant holding in between; and no handover can start a level in a
/// family being pruned.
#[test]
fn a_family_larger_than_one_block_is_pruned_in_pages() {
	use crate::weights::WeightInfo;
	use frame_support::{
		traits::{Get, Hooks},
		weights::Weight,
	};
	ExtBuilder::default().agents(super::light::many_agents()).build_and_execute(|| {
		let machine = hierarchical(&[64, 64, 64]);
		let root = open(machine);
		for _ in 0..3 {
			let level = current(root);
			run_past_deadline(level);
			assert_ok!(handover(level));
			run_to_draw();
		}
		let levels = family_levels(root);
		assert_eq!(levels.len(), 4);
		let seats: u32 = levels.iter().map(|l| ConsensusMachine::committee_size(*l)).sum();
		assert!(seats > MAX_COMMITTEE, "{seats} seats in the family");
		let due = deadline(current(root)) + RETENTION + 1;
		run_to_block_without_idle(due);
		let prune = |n| <() as WeightInfo>::prune_round(n);
		let whole = levels
			.iter()
			.fold(Weight::zero(), |sum, l| sum + prune(ConsensusMachine::committee_size(*l)));
		// Blocks with room for one level's page (its largest) and little more.
		let largest = levels.iter().map(|l| ConsensusMachine::committee_size(*l)).max().unwrap();
		let db: frame_support::weights::RuntimeDbWeight =
			<Test as frame_system::Config>::DbWeight::get();
		let budget = prune(largest) + db.reads_writes(20, 30);
		assert!(whole.any_gt(budget), "the family does not fit in one block");
		let mut now = due;
		let mut pages = 0;
		while Rounds::<Test>::contains_key(root) {
			let info = Rounds::<Test>::get(root).unwrap();
			assert!(ConsensusMachine::prune_weight(root, &info).all_lte(budget));
			// Every other page through `prune_round`, the rest through `on_idle`.
			if pages % 2 == 1 {
				assert_ok!(ConsensusMachine::prune_round(RuntimeOrigin::signed(99), root));
			} else {
				now += 1;
				System::set_block_number(now);
				assert!(ConsensusMachine::on_idle(now, budget).all_lte(budget));
			}
			pages += 1;
			ConsensusMachine::do_try_state().expect("invariants hold between pages");
			if pages == 1 {
				// Settled by the first page: the deposit is back, and the family takes no
				// new level.
				assert_eq!(held_deposit(OPENER), 0);
				assert_noop!(handover(current(root)), Error::<Test>::AlreadyClosed);
			}
			assert!(pages <= levels.len(), "a level per page at least (the records ride along)");
		}
		assert!(pages >= 3, "{pages} blocks or calls: three levels of the largest size");
		assert!(levels.iter().all(|l| !Rounds::<Test>::contains_key(l)));
		assert!(FamiliesBeingPruned::<Test>::iter().next().is_none());
		// `on_idle`'s cursor moves past the family.
		System::set_block_number(now + 1);
		ConsensusMachine::on_idle(now + 1, budget);
		assert!(PruneCursor::<Test>::get() > *levels.last().unwrap());
	});
}
