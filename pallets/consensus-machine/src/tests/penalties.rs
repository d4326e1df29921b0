//! Offences: equivocation reports, deferral and cancellation, non-participation and bans.

use super::{light::*, *};
use crate::types::OffenceKind;
use consensus_machine_primitives::light::Verdict;
use pallet_pickets::types::PenaltyStatus;

/// Two different verdicts signed by `who` for one round.
fn equivocation(
	who: AccountId,
	round: RoundId,
) -> ((Statement, sr25519::Signature), (Statement, sr25519::Signature)) {
	let a = verdict(round, Verdict::Green);
	let b = verdict(round, Verdict::Amber);
	((a.clone(), stored(sign(who, &a))), (b.clone(), stored(sign(who, &b))))
}

/// Account 77 reports `who`'s equivocation in `round`; returns the penalty's id.
pub(super) fn report(who: AccountId, round: RoundId) -> PenaltyId {
	let (first, second) = equivocation(who, round);
	assert_ok!(ConsensusMachine::report_equivocation(
		RuntimeOrigin::signed(77),
		seat_proof(round, who),
		pair(first, second)
	));
	penalties_of(who)[0].0
}

#[test]
fn a_reported_equivocation_is_slashed_in_full_even_when_the_cheat_reports_itself() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let (first, second) = equivocation(cheat, round);
		// The cheat reports itself first, from a second account it controls, hoping to collect
		// a reporter's share of its own slash.
		let reporter = 77;
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(reporter),
			seat_proof(round, cheat),
			pair(first.clone(), second.clone())
		));
		let reported = System::block_number();
		let [(id, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::Equivocation);
		assert_eq!(penalty.reporter, Some(reporter));
		assert_eq!(penalty.apply_at, reported + SLASH_DEFERRAL);
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(cheat).unwrap().status,
			AgentStatus::Suspended
		);
		assert_eq!(stake_in_draw(), 9_000, "out of the draw at once");
		// Punished once.
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(reporter),
				seat_proof(round, cheat),
				pair(second, first)
			),
			Error::<Test>::AlreadyReported
		);
		// Withdrawal waits for the penalty.
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(cheat)));
		let unbonded = System::block_number();
		run_to_block(reported + SLASH_DEFERRAL - 1);
		assert_eq!(held_bond(cheat), 1_000, "deferred");
		run_to_block(reported + SLASH_DEFERRAL);
		// 50% of 1_000, all of it to the treasury: the second account gets nothing back.
		assert_eq!(
			pallet_pickets::Penalties::<Test>::get(id).unwrap().status,
			PenaltyStatus::Applied { slashed: 500 }
		);
		System::assert_has_event(
			PicketsEvent::PenaltyApplied { penalty: id, offender: cheat, slashed: 500 }.into(),
		);
		assert_eq!(held_bond(cheat), 500);
		assert_eq!(pallet_pickets::Agents::<Test>::get(cheat).unwrap().bond, 500);
		assert_eq!(Balances::balance(&reporter), 10_000);
		assert_eq!(Balances::balance(&TREASURY), 1 + 500 + fees_paid_by(PROPOSER));
		assert_eq!(Balances::total_issuance(), issuance);
		run_to_block(unbonded + UNBONDING_DELAY + 1);
		// Until the round's committee root expires, another offence there could be reported.
		let expires = CommitteeRoots::<Test>::get(round).unwrap().expires.unwrap();
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)),
			PicketsError::<Test>::StillAccountable
		);
		run_to_block(expires + 1);
		assert_ok!(Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)));
		// The two accounts together lost the whole slash.
		assert_eq!(Balances::balance(&cheat) + Balances::balance(&reporter), 20_000 - 500);
	});
}

#[test]
fn equivocation_reports_are_checked() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let (first, second) = equivocation(cheat, round);
		let report = |signer, a: (Statement, sr25519::Signature), b| {
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				seat_proof(round, signer),
				pair(a, b),
			)
		};
		assert_noop!(report(cheat, first.clone(), first.clone()), Error::<Test>::NotAnEquivocation);
		let mut elsewhere = second.0.clone();
		elsewhere.round = round + 1;
		let elsewhere = (elsewhere.clone(), stored(sign(cheat, &elsewhere)));
		assert_noop!(report(cheat, first.clone(), elsewhere), Error::<Test>::NotAnEquivocation);
		let mut foreign = (first.0.clone(), second.0.clone());
		foreign.0.genesis = h(77);
		foreign.1.genesis = h(77);
		assert_noop!(
			report(
				cheat,
				(foreign.0.clone(), stored(sign(cheat, &foreign.0))),
				(foreign.1.clone(), stored(sign(cheat, &foreign.1)))
			),
			Error::<Test>::WrongGenesis
		);
		let mut unknown = (first.0.clone(), second.0.clone());
		unknown.0.round = 99;
		unknown.1.round = 99;
		assert_noop!(
			report(
				cheat,
				(unknown.0.clone(), stored(sign(cheat, &unknown.0))),
				(unknown.1.clone(), stored(sign(cheat, &unknown.1)))
			),
			Error::<Test>::UnknownRound
		);
		// Agent 20 holds no seat: a proof naming it (or the cheat with more slots) fails.
		assert_noop!(report(20, first.clone(), second.clone()), Error::<Test>::BadMembershipProof);
		let mut inflated = seat_proof(round, cheat);
		inflated.seat.slots += 1;
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				inflated,
				pair(first.clone(), second.clone())
			),
			Error::<Test>::BadMembershipProof
		);
		let forged = (second.0.clone(), stored(sign(20, &second.0)));
		assert_noop!(report(cheat, first.clone(), forged), Error::<Test>::BadSignature);
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::none(),
				seat_proof(round, cheat),
				pair(first, second)
			),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn fee_less_equivocation_reports_must_prove_themselves() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let (first, second) = equivocation(cheat, round);
		let authorize = |signer, a: &(Statement, sr25519::Signature), b: &(Statement, _)| {
			RuntimeCall::ConsensusMachine(CmCall::report_equivocation {
				membership: seat_proof(round, signer),
				proof: pair(a.clone(), b.clone()),
			})
			.authorize(TransactionSource::External)
			.expect("report_equivocation has an authorize function")
			.map(|_| ())
		};
		let bad_proof = Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof));
		assert_eq!(authorize(cheat, &first, &first), bad_proof);
		assert_eq!(authorize(20, &first, &second), bad_proof);
		let forged = (second.0.clone(), stored(sign(20, &second.0)));
		assert_eq!(authorize(cheat, &first, &forged), bad_proof);
		assert_eq!(authorize(cheat, &first, &second), Ok(()));
		// Authorised, it records the offence without a reporter.
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
			seat_proof(round, cheat),
			pair(first.clone(), second.clone())
		));
		let (id, penalty) = penalties_of(cheat)[0].clone();
		assert_eq!((penalty.kind, penalty.reporter), (OffenceKind::Equivocation, None));
		assert!(pallet_pickets::Penalties::<Test>::contains_key(id));
		// Once reported, the same proof is stale.
		let stale = Err(TransactionValidityError::Invalid(InvalidTransaction::Stale));
		assert_eq!(authorize(cheat, &first, &second), stale);
	});
}

#[test]
fn a_certificate_that_contradicts_a_recorded_statement_convicts_its_signer() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let signers = seats_to_threshold(round);
		let cheat = signers[0].agent;
		submit(cheat, &verdict(round, Verdict::Amber));
		let green = verdict(round, Verdict::Green);
		let committee = seats(round);
		let sigs: Vec<_> = signers
			.iter()
			.map(|s| {
				let i = committee.iter().position(|c| c.agent == s.agent).unwrap() as u32;
				(i, stored(sign(s.agent, &green)))
			})
			.collect();
		assert_ok!(ConsensusMachine::submit_certificate(RuntimeOrigin::signed(88), green, sigs));
		let [(_, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::Equivocation);
		assert_eq!(penalty.reporter, Some(88));
		// Its first statement stands: the green tally lacks its slots.
		assert_eq!(
			Statements::<Test>::get(round, 0).unwrap().0,
			verdict(round, Verdict::Amber).body
		);
	});
}

#[test]
fn a_penalty_can_be_cancelled_during_the_deferral_only() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let id = report(cheat, round);
		let reported = System::block_number();
		assert_noop!(
			Pickets::cancel_penalty(RuntimeOrigin::signed(1), id),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Pickets::cancel_penalty(RuntimeOrigin::root(), id + 1),
			PicketsError::<Test>::UnknownPenalty
		);
		assert_ok!(Pickets::cancel_penalty(RuntimeOrigin::root(), id));
		System::assert_last_event(PicketsEvent::PenaltyCancelled { penalty: id }.into());
		run_to_block(reported + SLASH_DEFERRAL + 1);
		assert_eq!(held_bond(cheat), 1_000, "nothing slashed");
		assert_eq!(
			pallet_pickets::Penalties::<Test>::get(id).unwrap().status,
			PenaltyStatus::Cancelled
		);
		assert!(
			!pallet_pickets::PendingPenalties::<Test>::contains_key(cheat),
			"no count kept at zero"
		);
		assert_noop!(
			Pickets::cancel_penalty(RuntimeOrigin::root(), id),
			PicketsError::<Test>::PenaltyNotPending
		);
		// Cleared, the agent may rejoin the draw.
		assert_ok!(Pickets::rejoin(RuntimeOrigin::signed(cheat)));
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 10_000);
	});
}

#[test]
fn applied_penalties_are_final() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let id = report(cheat, round);
		assert_eq!(pallet_pickets::PendingPenalties::<Test>::get(cheat), 1);
		run_to_block(System::block_number() + SLASH_DEFERRAL);
		assert!(
			!pallet_pickets::PendingPenalties::<Test>::contains_key(cheat),
			"no count kept at zero"
		);
		assert_noop!(
			Pickets::cancel_penalty(RuntimeOrigin::root(), id),
			PicketsError::<Test>::PenaltyNotPending
		);
		assert_noop!(
			Pickets::rejoin(RuntimeOrigin::signed(cheat)),
			PicketsError::<Test>::NotBanned
		);
	});
}

#[test]
fn a_slash_below_the_minimum_bond_takes_the_agent_out_of_the_draw() {
	// Agent 1 bonds 150; a 50% slash leaves 75 < MIN_BOND.
	ExtBuilder::default().agents(vec![(1, 150), (2, 1_000)]).build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		assert!(seats(round).iter().any(|s| s.agent == 1), "agent 1 is drawn");
		report(1, round);
		run_to_block(System::block_number() + SLASH_DEFERRAL);
		let agent = pallet_pickets::Agents::<Test>::get(1).unwrap();
		assert_eq!(agent.bond, 75);
		assert_eq!(agent.status, AgentStatus::Suspended);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 1_000);
	});
}

/// Lets a transition round of `machine` expire undecided, with nobody signing, and closes it.
fn expire(machine: MachineId) -> Vec<AccountId> {
	let round = open(machine);
	let silent = seats(round).into_iter().map(|s| s.agent).collect();
	run_to_block(System::block_number() + TIMEOUT + 1);
	assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
	silent
}

#[test]
fn missed_duties_ban_then_repeated_bans_slash() {
	MaxMisses::set(2);
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let machine = create_machine();
		assert_eq!(expire(machine), vec![1]);
		assert_eq!(pallet_pickets::Misses::<Test>::get(1).len(), 1);
		assert_eq!(pallet_pickets::Agents::<Test>::get(1).unwrap().status, AgentStatus::Active);
		expire(machine);
		let until = System::block_number() + BAN_PERIOD;
		System::assert_has_event(PicketsEvent::AgentBanned { agent: 1, until }.into());
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Banned { until }
		);
		// A banned agent is never drawn: it leaves the draw at once (its stake leaves the live
		// tree at the next block's start), so a round drawn from this period's snapshot (which
		// still holds it) leaves its seats empty...
		assert_eq!(stake_in_draw(), 0);
		let other = create_machine();
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), other, h(1)));
		run_to_draw();
		assert!(Rounds::<Test>::get(round).unwrap().is_drawn());
		assert!(seats(round).is_empty(), "the banned agent's seats stay empty");
		// ...and from the next snapshot on, nobody is left to draw.
		run_to_next_snapshot();
		assert!(System::block_number() <= until);
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::NoAgents
		);
		assert!(penalties_of(1).is_empty(), "a first ban is not slashed");
		assert_noop!(Pickets::rejoin(RuntimeOrigin::signed(1)), PicketsError::<Test>::NotBanned);
		run_to_block(until);
		assert_ok!(Pickets::rejoin(RuntimeOrigin::signed(1)));
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 1_000);
		// Back in the draw from the next snapshot on.
		run_to_next_snapshot();
		// Two more misses: a second ban, now slashed lightly.
		expire(machine);
		expire(machine);
		let [(_, penalty)] = penalties_of(1).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::NonParticipation);
		run_to_block(System::block_number() + SLASH_DEFERRAL);
		assert_eq!(held_bond(1), 950);
		assert_eq!(Balances::total_issuance(), issuance);
	});
	MaxMisses::set(100);
}

#[test]
fn misses_outside_the_window_are_forgotten() {
	MaxMisses::set(2);
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let machine = create_machine();
		expire(machine);
		run_to_block(System::block_number() + MISS_WINDOW);
		expire(machine);
		assert_eq!(pallet_pickets::Misses::<Test>::get(1).len(), 1);
		assert_eq!(pallet_pickets::Agents::<Test>::get(1).unwrap().status, AgentStatus::Active);
	});
	MaxMisses::set(100);
}

/// A miss is dated when the duty fell due (its round's deadline), not when the round is
/// settled: a round closed late (blocks with no spare weight, nobody calling `close_round`)
/// does not keep an old miss in the window beside a new one. And a round settled after its
/// miss's window has passed still counts that miss once, dated at the window's start: letting
/// a round go unsettled does not let its silent seats off.
#[test]
fn a_miss_counts_when_the_duty_fell_due_not_when_it_is_settled() {
	MaxMisses::set(2);
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let machines = [create_machine(), create_machine(), create_machine()];
		// Blocks without spare weight: nothing prunes (nor closes) a round in `on_idle`.
		let expire = |machine| {
			let round = NextRoundId::<Test>::get();
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				machine,
				h(1)
			));
			let at = System::block_number() + 2 + RandomnessLead::get();
			run_to_block_without_idle(at - at % SNAPSHOT_PERIOD + SNAPSHOT_PERIOD + 1);
			run_to_block_without_idle(deadline(round) + 1);
			round
		};
		let close = |round| {
			assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		};
		// Closed 60 blocks late, the first miss is dated at its deadline...
		let first = expire(machines[0]);
		run_to_block_without_idle(deadline(first) + 60);
		close(first);
		assert_eq!(pallet_pickets::Misses::<Test>::get(1).to_vec(), vec![deadline(first)]);
		// ...so a window after that deadline it is gone, and a new miss is the only one (dated
		// at the close, the two would ban the agent).
		run_to_block_without_idle(deadline(first) + MISS_WINDOW);
		let second = expire(machines[1]);
		assert!(deadline(second) < deadline(first) + 60 + MISS_WINDOW);
		close(second);
		assert_eq!(pallet_pickets::Misses::<Test>::get(1).to_vec(), vec![deadline(second)]);
		assert_eq!(pallet_pickets::Agents::<Test>::get(1).unwrap().status, AgentStatus::Active);
		// A round settled a window and more after its deadline still counts its miss.
		let late = expire(machines[2]);
		run_to_block_without_idle(deadline(late) + MISS_WINDOW + 50);
		let now = System::block_number();
		close(late);
		System::assert_has_event(
			PicketsEvent::DutyMissed { agent: 1, round: late, misses: 1 }.into(),
		);
		assert_eq!(pallet_pickets::Misses::<Test>::get(1).to_vec(), vec![now - MISS_WINDOW + 1]);
	});
	MaxMisses::set(100);
}

#[test]
fn withdrawal_waits_for_pending_penalties() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(cheat)));
		let unbonded = System::block_number();
		let id = report(cheat, round);
		// Make the penalty still pending when the unbonding delay ends.
		pallet_pickets::Penalties::<Test>::mutate(id, |p| {
			p.as_mut().unwrap().apply_at = 10 * UNBONDING_DELAY
		});
		run_to_block(unbonded + UNBONDING_DELAY);
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)),
			PicketsError::<Test>::PenaltyPending
		);
	});
}

/// The attack on honest agents: an agent drawn into a round and then unbonding (or banned)
/// could not sign for the seat it holds, and the silence the pallet forced on it counted as a
/// miss. A drawn agent finishes the seats it holds.
#[test]
fn an_unbonding_agent_finishes_the_seats_it_holds_and_is_not_charged_a_miss() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round);
		let seat = seats(round)[0].clone();
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(seat.agent)));
		submit(seat.agent, &s);
		run_to_block(System::block_number() + TIMEOUT + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert!(pallet_pickets::Misses::<Test>::get(seat.agent).is_empty(), "it signed: no miss");
	});
}

/// A suspended agent (an overt offence) may not sign for its seats: that silence is the
/// pallet's doing, so it is no miss either.
#[test]
fn a_suspended_agents_silence_is_not_a_miss() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let seat = seats(round)[0].clone();
		let s = statement(machine, round);
		report_transition_equivocation(machine, round, seat.agent);
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(seat.agent).unwrap().status,
			AgentStatus::Suspended
		);
		assert_noop!(dispatch(seat.agent, &s), Error::<Test>::AgentSuspended);
		run_to_block(System::block_number() + TIMEOUT + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert!(
			pallet_pickets::Misses::<Test>::get(seat.agent).is_empty(),
			"forced silence is no miss"
		);
		let others = seats(round).into_iter().filter(|s| s.agent != seat.agent);
		for other in others {
			assert_eq!(
				pallet_pickets::Misses::<Test>::get(other.agent).len(),
				1,
				"the others did miss"
			);
		}
	});
}

/// Bans are forgotten: a ban more than `BanMemory` blocks after the last one is a first ban
/// again, and is not slashed.
#[test]
fn a_ban_long_after_the_last_is_not_a_repeat() {
	MaxMisses::set(1);
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let machine = create_machine();
		expire(machine);
		let until = System::block_number() + BAN_PERIOD;
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Banned { until }
		);
		run_to_block(System::block_number() + BAN_MEMORY);
		assert_ok!(Pickets::rejoin(RuntimeOrigin::signed(1)));
		// Back in the draw from the next snapshot on.
		run_to_next_snapshot();
		expire(machine);
		assert!(matches!(
			pallet_pickets::Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Banned { .. }
		));
		assert!(penalties_of(1).is_empty(), "the ban count decayed: no repeat-ban slash");
	});
	MaxMisses::set(100);
}

/// Due penalties do not wait for spare block weight: `on_initialize` applies them, and anyone
/// may apply one out of turn once due, not before.
#[test]
fn due_penalties_apply_without_on_idle_and_on_request() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let first = seats(round)[0].agent;
		let second = seats(round)[1].agent;
		let a = report(first, round);
		let b = report(second, round);
		assert_noop!(
			Pickets::apply_penalty(RuntimeOrigin::signed(99), b),
			PicketsError::<Test>::PenaltyNotDue
		);
		// Due now, but (as behind a long queue) not yet reached by `on_initialize`.
		System::set_block_number(System::block_number() + SLASH_DEFERRAL);
		assert_ok!(Pickets::apply_penalty(RuntimeOrigin::signed(99), b));
		assert!(matches!(
			pallet_pickets::Penalties::<Test>::get(b).unwrap().status,
			PenaltyStatus::Applied { .. }
		));
		assert_noop!(
			Pickets::apply_penalty(RuntimeOrigin::signed(99), b),
			PicketsError::<Test>::PenaltyNotPending
		);
		assert_noop!(
			Pickets::apply_penalty(RuntimeOrigin::signed(99), 77),
			PicketsError::<Test>::UnknownPenalty
		);
		run_to_block_without_idle(System::block_number() + 1);
		assert!(matches!(
			pallet_pickets::Penalties::<Test>::get(a).unwrap().status,
			PenaltyStatus::Applied { .. }
		));
	});
}

/// A rotated-away key stays accountable: seats drawn before the rotation keep the key they were
/// drawn with, it still signs for them, and an equivocation it signs there is the agent's
/// offence; the new key holds none of those seats.
#[test]
fn a_rotated_away_key_still_answers_for_the_seats_drawn_before() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let agent = seats(round)[0].agent;
		assert_ok!(Pickets::rotate_key(RuntimeOrigin::signed(agent), key(200), proof(200, agent)));
		let s = statement(machine, round);
		assert_eq!(
			authorize(200, &s, sign(200, &s)),
			Err(InvalidTransaction::BadProof.into()),
			"the new key holds no seat drawn before"
		);
		submit(agent, &s);
		report_transition_equivocation(machine, round, agent);
		let [(_, penalty)] = penalties_of(agent).try_into().unwrap();
		assert_eq!((penalty.kind, penalty.key), (OffenceKind::Equivocation, Some(key(agent))));
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(agent).unwrap().status,
			AgentStatus::Suspended
		);
	});
}

/// The attack on the suspension: a suspended agent called `unbond`, became `Unbonding`, and
/// signed its seats again; and an agent that unbonded first and then equivocated was never
/// suspended at all. Unbonding keeps the suspension.
#[test]
fn unbonding_does_not_lift_a_suspension() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let [first, second] = [seats(round)[0].agent, seats(round)[1].agent];
		let s = statement(machine, round);
		let equivocate = |who: AccountId| report_transition_equivocation(machine, round, who);
		// Suspended, then unbonding.
		equivocate(first);
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(first)));
		assert_noop!(dispatch(first, &s), Error::<Test>::AgentSuspended);
		// Unbonding, then an overt offence.
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(second)));
		equivocate(second);
		assert!(matches!(
			pallet_pickets::Agents::<Test>::get(second).unwrap().status,
			AgentStatus::Unbonding { suspended: true, .. }
		));
		assert_noop!(dispatch(second, &s), Error::<Test>::AgentSuspended);
	});
}

/// The attack on an offline agent: the misses of seats drawn before its ban counted towards a
/// second ban it never got, which was slashed as a repeat. One outage is one ban.
#[test]
fn seats_held_through_a_ban_do_not_make_a_second_ban() {
	MaxMisses::set(1);
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let (a, b) = (create_machine(), create_machine());
		let (first, second) = (open(a), open(b));
		run_to_block(System::block_number() + TIMEOUT + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), first));
		assert!(matches!(
			pallet_pickets::Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Banned { .. }
		));
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), second));
		assert!(penalties_of(1).is_empty(), "one outage, one ban, no repeat-ban slash");
	});
	MaxMisses::set(100);
}

/// The escape that once worked: an agent equivocates in a round, unbonds at once and tries to
/// withdraw as soon as the unbonding delay has passed, while the round's committee root still
/// takes reports. Withdrawal waits (`StillAccountable`, nothing changes) until every root of a
/// round that may have seated it has expired; a report in between is punished from the bond.
#[test]
fn an_equivocator_cannot_leave_before_its_rounds_can_no_longer_be_reported() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let cheat = seats(round)[0].agent;
		let s = statement(machine, round);
		let mut other = s.clone();
		other.body =
			Body::Transition { step: 0, from: label(machine).hash, output: h(7), to: h(8) };
		let (a, b) =
			((s.clone(), stored(sign(cheat, &s))), (other.clone(), stored(sign(cheat, &other))));
		let proof = seat_proof(round, cheat);
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(cheat)));
		let unbonded = System::block_number();
		// Rounds opened after it left cannot seat it, and do not hold it.
		let later = open(create_machine());
		assert!(seats(later).iter().all(|seat| seat.agent != cheat));
		// The round is pruned well within the delay; its root takes reports for
		// `UnbondingDelay` more.
		run_to_block(unbonded + UNBONDING_DELAY);
		assert!(!Rounds::<Test>::contains_key(round));
		let expires = CommitteeRoots::<Test>::get(round).unwrap().expires.unwrap();
		assert!(expires >= System::block_number());
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)),
			PicketsError::<Test>::StillAccountable
		);
		assert_eq!(held_bond(cheat), 1_000);
		// The equivocation surfaces now: still punished from the bond.
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			proof,
			pair(a, b)
		));
		let [(_, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::Equivocation);
		run_to_block(System::block_number() + SLASH_DEFERRAL);
		assert_eq!(held_bond(cheat), 500, "slashed 50 %");
		// Once the root has expired (and the penalty is settled), the rest comes back.
		run_to_block(expires);
		assert!(CommitteeRoots::<Test>::contains_key(round));
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)),
			PicketsError::<Test>::StillAccountable
		);
		run_to_block(expires + 1);
		assert!(!CommitteeRoots::<Test>::contains_key(round));
		assert_ok!(Pickets::withdraw_unbonded(RuntimeOrigin::signed(cheat)));
		assert_eq!(held_bond(cheat), 0);
	});
}

#[test]
fn an_equivocation_that_surfaces_after_pruning_is_punished_until_the_bond_could_be_gone() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let (cheat, late) = (seats(round)[0].agent, seats(round)[1].agent);
		// What a peer kept while the round was live: two statements by each key, and their
		// seats' membership proofs.
		let s = statement(machine, round);
		let mut other = s.clone();
		other.body =
			Body::Transition { step: 0, from: label(machine).hash, output: h(7), to: h(8) };
		let signed = |who: AccountId| {
			((s.clone(), stored(sign(who, &s))), (other.clone(), stored(sign(who, &other))))
		};
		let (cheat_proof, late_proof) = (seat_proof(round, cheat), seat_proof(round, late));
		// The round times out and is pruned: its committee is gone.
		run_to_block(deadline(round) + RETENTION + 1);
		assert!(
			!Rounds::<Test>::contains_key(round)
				&& CommitteeChunks::<Test>::iter_prefix(round).next().is_none()
		);
		let expires = CommitteeRoots::<Test>::get(round).unwrap().expires.unwrap();
		assert_eq!(expires, System::block_number() + UNBONDING_DELAY);
		// The equivocation surfaces now, and is punished.
		let (a, b) = signed(cheat);
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			cheat_proof.clone(),
			pair(a.clone(), b.clone())
		));
		let [(_, penalty)] = penalties_of(cheat).try_into().unwrap();
		assert_eq!((penalty.kind, penalty.round), (OffenceKind::Equivocation, round));
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(cheat).unwrap().status,
			AgentStatus::Suspended
		);
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				cheat_proof,
				pair(a, b)
			),
			Error::<Test>::AlreadyReported
		);
		// A proof must still match the root: another key in the cheat's seat fails.
		let (a, b) = signed(late);
		let mut wrong = late_proof.clone();
		wrong.index = 0;
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				wrong,
				pair(a.clone(), b.clone())
			),
			Error::<Test>::BadMembershipProof
		);
		// Past the window (`UnbondingDelay` after pruning: every member's bond could have been
		// withdrawn by then), reports fail, and the root goes.
		System::set_block_number(expires + 1);
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				late_proof.clone(),
				pair(a.clone(), b.clone())
			),
			Error::<Test>::ReportExpired
		);
		run_to_block_without_idle(expires + 2);
		assert!(!CommitteeRoots::<Test>::contains_key(round), "dropped without on_idle");
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				late_proof,
				pair(a, b)
			),
			Error::<Test>::UnknownRound
		);
	});
}

/// A settled offence is forgotten (its record and its index entry) once it can never be
/// recorded again, when its round's committee root expires, and not before: until then a
/// second report of it is refused as already reported; after, reports of the round fail as
/// unknown, so forgetting opens no second punishment. Storage does not grow with the chain.
#[test]
fn settled_offences_are_forgotten_once_they_can_no_longer_be_reported() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let cheat = seats(round)[0].agent;
		let proof = seat_proof(round, cheat);
		let (first, second) = equivocation(cheat, round);
		let id = report(cheat, round);
		let index = (cheat, round, OffenceKind::Equivocation);
		assert_eq!(pallet_pickets::OffenceIndex::<Test>::get(index), Some(id));
		// Applied after the deferral, and kept: the round's seats can still be proven.
		run_to_block(System::block_number() + SLASH_DEFERRAL + 1);
		assert!(matches!(
			pallet_pickets::Penalties::<Test>::get(id).unwrap().status,
			PenaltyStatus::Applied { .. }
		));
		run_to_block(deadline(round) + RETENTION + 1);
		assert!(!Rounds::<Test>::contains_key(round));
		let expires = CommitteeRoots::<Test>::get(round).unwrap().expires.unwrap();
		run_to_block(expires);
		assert!(
			pallet_pickets::Penalties::<Test>::contains_key(id)
				&& pallet_pickets::OffenceIndex::<Test>::contains_key(index)
		);
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				proof.clone(),
				pair(first.clone(), second.clone())
			),
			Error::<Test>::AlreadyReported
		);
		// The root expires: the offence goes, and cannot come back.
		run_to_block_without_idle(expires + 1);
		assert!(!CommitteeRoots::<Test>::contains_key(round));
		assert!(
			!pallet_pickets::Penalties::<Test>::contains_key(id)
				&& !pallet_pickets::OffenceIndex::<Test>::contains_key(index)
		);
		assert_eq!(pallet_pickets::PenaltyPruneCursor::<Test>::get(), id + 1);
		assert_noop!(
			ConsensusMachine::report_equivocation(
				RuntimeOrigin::signed(77),
				proof,
				pair(first, second)
			),
			Error::<Test>::UnknownRound
		);
	});
}

/// A close that bans a whole committee leaves the banned agents' stakes in the live tree for
/// `on_initialize` to take out, `MaxExitsPerBlock` a block, oldest first: nobody pays a
/// committee's tree updates in one call, the banned are not drawn meanwhile, and an agent that
/// rejoins or withdraws before the queue reaches it settles its own exit first (so its stake is
/// never counted twice, nor taken from whoever gets its index next).
#[test]
fn banned_stakes_leave_the_tree_over_the_next_blocks() {
	MaxMisses::set(1);
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let banned = expire(machine);
		assert!(banned.len() > MAX_EXITS_PER_BLOCK as usize, "more exits than one block takes");
		let queued: u128 = banned
			.iter()
			.map(|a| u128::from(pallet_pickets::Agents::<Test>::get(a).unwrap().bond))
			.sum();
		assert_eq!(pallet_pickets::PendingExits::<Test>::iter_values().sum::<u128>(), queued);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 10_000, "the tree still holds them");
		assert_eq!(stake_in_draw(), 10_000 - queued);
		// The last one queued unbonds before the queue reaches it: it takes its own stake out
		// of the tree then, so the unbonding delay (after which its index may go to a newcomer)
		// runs from a tree, and snapshots, without it.
		let leaver = *banned.last().unwrap();
		let index = pallet_pickets::Agents::<Test>::get(leaver).unwrap().index;
		assert!(pallet_pickets::PendingExits::<Test>::contains_key(index));
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(leaver)));
		assert!(
			!pallet_pickets::PendingExits::<Test>::contains_key(index),
			"settled by the unbonding"
		);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 9_000);
		ConsensusMachine::do_try_state().expect("consistent while exits wait");
		// `on_initialize` takes `MaxExitsPerBlock` of the rest, oldest first...
		let before = pallet_pickets::PendingExits::<Test>::iter().count();
		run_to_block_without_idle(System::block_number() + 1);
		let settled = before - pallet_pickets::PendingExits::<Test>::iter().count();
		assert_eq!(settled, before.min(MAX_EXITS_PER_BLOCK as usize), "the bound");
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 9_000 - 1_000 * settled as u128);
		// ...and `on_idle` the others, when the block has weight to spare.
		run_to_block(System::block_number() + 1);
		assert_eq!(pallet_pickets::PendingExits::<Test>::iter().count(), 0);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 10_000 - queued);
	});
}

/// An agent banned and rejoining before the exit queue reaches it settles its exit, then
/// re-enters: its stake is in the tree once.
#[test]
fn rejoining_before_the_exit_queue_settles_the_exit_first() {
	MaxMisses::set(1);
	ExtBuilder::default().agents(vec![(1, 1_000), (2, 1_000)]).build_and_execute(|| {
		let machine = create_machine();
		let banned = expire(machine);
		assert!(banned.contains(&1));
		let Some(AgentStatus::Banned { until }) =
			pallet_pickets::Agents::<Test>::get(1).map(|a| a.status)
		else {
			panic!("banned")
		};
		// Hold the queue back: the exit is still pending when the ban ends.
		let index = pallet_pickets::Agents::<Test>::get(1).unwrap().index;
		System::set_block_number(until);
		assert!(pallet_pickets::PendingExits::<Test>::contains_key(index));
		assert_ok!(Pickets::rejoin(RuntimeOrigin::signed(1)));
		assert!(!pallet_pickets::PendingExits::<Test>::contains_key(index));
		let tree = pallet_pickets::bonds::StorageTree::<Test>::new();
		assert_eq!(consensus_machine_primitives::selection::stake_of(&tree, index), 1_000);
		// The stale queue entry settles nothing.
		run_to_block(System::block_number() + 1);
		assert_eq!(consensus_machine_primitives::selection::stake_of(&tree, index), 1_000);
	});
}
