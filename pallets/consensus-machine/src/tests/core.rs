//! Agents, machines, rounds, statements, certificates, trace and pruning.

use super::*;
use consensus_machine_primitives::selection;

// ---------------------------------------------------------------------------------------------
// Agents

#[test]
fn register_holds_the_bond_and_enters_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		let total = TotalStake::<Test>::get();
		assert_ok!(ConsensusMachine::register(
			RuntimeOrigin::signed(20),
			key(20),
			500,
			proof(20, 20)
		));
		assert_eq!(held_bond(20), 500);
		assert_eq!(Balances::balance(&20), 10_000 - 500);
		assert_eq!(TotalStake::<Test>::get(), total + 500);
		assert_eq!(KeyOwner::<Test>::get(key(20)), Some(20));
		System::assert_last_event(
			Event::AgentRegistered { agent: 20, key: key(20), bond: 500 }.into(),
		);
	});
}

#[test]
fn register_refuses_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let register = |who, signer, bond, pop| {
			ConsensusMachine::register(RuntimeOrigin::signed(who), key(signer), bond, pop)
		};
		assert_noop!(register(1, 1, 500, proof(1, 1)), Error::<Test>::AlreadyRegistered);
		assert_noop!(register(20, 20, MIN_BOND - 1, proof(20, 20)), Error::<Test>::BondTooLow);
		assert_noop!(register(20, 1, 500, proof(1, 20)), Error::<Test>::KeyInUse);
		// A proof made by another key, or for another account.
		assert_noop!(register(20, 20, 500, proof(21, 20)), Error::<Test>::BadProofOfPossession);
		assert_noop!(register(20, 20, 500, proof(20, 21)), Error::<Test>::BadProofOfPossession);
		assert_noop!(
			register(20, 20, 20_000, proof(20, 20)),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_noop!(
			ConsensusMachine::register(RuntimeOrigin::none(), key(20), 500, proof(20, 20)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn register_refuses_past_max_agents() {
	ExtBuilder::default().agents((1..=32).map(|a| (a, 100)).collect()).build_and_execute(|| {
		assert_noop!(
			ConsensusMachine::register(RuntimeOrigin::signed(40), key(40), 500, proof(40, 40)),
			Error::<Test>::TooManyAgents
		);
	});
}

#[test]
fn bond_extra_adds_stake() {
	ExtBuilder::default().build_and_execute(|| {
		let total = TotalStake::<Test>::get();
		assert_ok!(ConsensusMachine::bond_extra(RuntimeOrigin::signed(1), 250));
		assert_eq!(held_bond(1), 1_250);
		assert_eq!(TotalStake::<Test>::get(), total + 250);
		System::assert_last_event(
			Event::BondIncreased { agent: 1, amount: 250, bond: 1_250 }.into(),
		);
		assert_noop!(
			ConsensusMachine::bond_extra(RuntimeOrigin::signed(20), 1),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			ConsensusMachine::bond_extra(RuntimeOrigin::signed(1), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			ConsensusMachine::bond_extra(RuntimeOrigin::signed(1), 1_000_000),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_ok!(ConsensusMachine::unbond(RuntimeOrigin::signed(1)));
		assert_noop!(
			ConsensusMachine::bond_extra(RuntimeOrigin::signed(1), 1),
			Error::<Test>::AgentNotActive
		);
	});
}

#[test]
fn unbond_leaves_the_draw_but_keeps_the_bond_held() {
	ExtBuilder::default().build_and_execute(|| {
		let total = TotalStake::<Test>::get();
		assert_ok!(ConsensusMachine::unbond(RuntimeOrigin::signed(1)));
		let until = 1 + UNBONDING_DELAY;
		assert_eq!(
			Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Unbonding { until, suspended: false, accountable: 0 }
		);
		assert_eq!(held_bond(1), 1_000);
		assert_eq!(TotalStake::<Test>::get(), total - 1_000);
		System::assert_last_event(Event::UnbondingStarted { agent: 1, until }.into());
		assert_noop!(
			ConsensusMachine::unbond(RuntimeOrigin::signed(1)),
			Error::<Test>::AgentNotActive
		);
		assert_noop!(
			ConsensusMachine::unbond(RuntimeOrigin::signed(20)),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn withdraw_releases_after_the_delay_and_frees_the_index() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ConsensusMachine::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotUnbonding
		);
		assert_noop!(
			ConsensusMachine::withdraw_unbonded(RuntimeOrigin::signed(20)),
			Error::<Test>::NotRegistered
		);
		assert_ok!(ConsensusMachine::unbond(RuntimeOrigin::signed(1)));
		run_to_block(UNBONDING_DELAY);
		assert_noop!(
			ConsensusMachine::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::StillUnbonding
		);
		run_to_block(1 + UNBONDING_DELAY);
		let index = Agents::<Test>::get(1).unwrap().index;
		assert_ok!(ConsensusMachine::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(Event::BondWithdrawn { agent: 1, amount: 1_000 }.into());
		assert_eq!(held_bond(1), 0);
		assert_eq!(Balances::balance(&1), 10_000);
		assert!(Agents::<Test>::get(1).is_none());
		assert!(KeyOwner::<Test>::get(key(1)).is_none());
		// The freed index and key can be used again.
		assert_ok!(ConsensusMachine::register(
			RuntimeOrigin::signed(20),
			key(1),
			500,
			proof(1, 20)
		));
		assert_eq!(Agents::<Test>::get(20).unwrap().index, index);
	});
}

#[test]
fn rotate_key_replaces_the_key() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(ConsensusMachine::rotate_key(RuntimeOrigin::signed(1), key(20), proof(20, 1)));
		assert_eq!(Agents::<Test>::get(1).unwrap().key, key(20));
		assert_eq!(KeyOwner::<Test>::get(key(20)), Some(1));
		assert!(KeyOwner::<Test>::get(key(1)).is_none());
		System::assert_last_event(Event::KeyRotated { agent: 1, old: key(1), new: key(20) }.into());
		assert_noop!(
			ConsensusMachine::rotate_key(RuntimeOrigin::signed(1), key(2), proof(2, 1)),
			Error::<Test>::KeyInUse
		);
		assert_noop!(
			ConsensusMachine::rotate_key(RuntimeOrigin::signed(1), key(21), proof(22, 1)),
			Error::<Test>::BadProofOfPossession
		);
		assert_noop!(
			ConsensusMachine::rotate_key(RuntimeOrigin::signed(30), key(31), proof(31, 30)),
			Error::<Test>::NotRegistered
		);
	});
}

// ---------------------------------------------------------------------------------------------
// Machines and rounds

#[test]
fn create_machine_stores_the_exact_rule() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create_machine();
		let machine = Machines::<Test>::get(id).unwrap();
		assert_eq!(machine.levels[0].rule, rule());
		assert_eq!(rule().max_bad, 5);
		assert_eq!(rule().strong(), 8);
		assert_eq!(machine.label, Label::genesis(id, &h(0)));
		System::assert_last_event(
			Event::MachineCreated { machine: id, slots: SLOTS, max_bad: 5, threshold: 8 }.into(),
		);
	});
}

#[test]
fn create_machine_refuses_bad_configurations() {
	ExtBuilder::default().build_and_execute(|| {
		let create_with = |slots, p: ProbabilityArg, epsilon: EpsilonArg, timeout| {
			ConsensusMachine::create_machine(
				RuntimeOrigin::root(),
				slots,
				p,
				epsilon,
				timeout,
				0,
				h(0),
			)
		};
		let create =
			|slots, p: Probability, timeout| create_with(slots, p.into(), eps().into(), timeout);
		assert_noop!(
			ConsensusMachine::create_machine(
				RuntimeOrigin::signed(1),
				10,
				p().into(),
				eps().into(),
				5,
				0,
				h(0)
			),
			DispatchError::BadOrigin
		);
		// `p` and `ε` out of range decode (the call is well-formed SCALE) and get their own
		// errors; from anyone but the machine origin, `BadOrigin` first.
		let bad_p = ProbabilityArg { num: 3, den: 2 };
		let bad_e = EpsilonArg { num: 0, den: 0 };
		assert_noop!(
			ConsensusMachine::create_machine(
				RuntimeOrigin::signed(1),
				10,
				bad_p,
				bad_e,
				5,
				0,
				h(0)
			),
			DispatchError::BadOrigin
		);
		assert_noop!(create_with(10, bad_p, eps().into(), 5), Error::<Test>::ProbabilityOutOfRange);
		let wide = ProbabilityArg { num: 1, den: 0 };
		assert_noop!(create_with(10, wide, eps().into(), 5), Error::<Test>::ProbabilityOutOfRange);
		assert_noop!(create_with(10, p().into(), bad_e, 5), Error::<Test>::EpsilonOutOfRange);
		let too_loose = EpsilonArg { num: 1, den: 2 };
		assert_noop!(create_with(10, p().into(), too_loose, 5), Error::<Test>::EpsilonOutOfRange);
		let bad_level =
			crate::types::LevelSpec { slots: 10, p: bad_p, epsilon: eps().into(), timeout: 5 };
		assert_noop!(
			ConsensusMachine::create_hierarchical_machine(
				RuntimeOrigin::root(),
				vec![bad_level.clone(), bad_level],
				0
			),
			Error::<Test>::ProbabilityOutOfRange
		);
		assert_noop!(create(0, p(), 5), Error::<Test>::ZeroSlots);
		assert_noop!(create(MAX_COMMITTEE + 1, p(), 5), Error::<Test>::CommitteeTooLarge);
		let half = Probability::new(1, 2).unwrap();
		assert_noop!(create(10, half, 5), Error::<Test>::ProbabilityNotBelowHalf);
		assert_noop!(create(10, p(), 0), Error::<Test>::InvalidTimeout);
		assert_noop!(create(10, p(), MAX_ROUND_DURATION + 1), Error::<Test>::InvalidTimeout);
		// Two slots at p = 1/10 and ε = 1e-3: P(both bad) = 1e-2, unanimity proves nothing.
		assert_noop!(create(2, p(), 5), Error::<Test>::UnsafeCommittee);
	});
}

#[test]
fn open_round_draws_a_committee_and_holds_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		// The call commits the round and holds the deposit; the committee is not drawn yet.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
		System::assert_last_event(Event::RoundCommitted { round, machine, level: 0 }.into());
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), DEPOSIT);
		let committed = Rounds::<Test>::get(round).unwrap();
		assert!(!committed.is_drawn());
		assert_eq!((committed.opened, committed.slots, committed.threshold), (1, SLOTS, 8));
		assert!(seats(round).is_empty());
		assert!(CommitteeRoots::<Test>::get(round).is_none());
		// A later block draws it; the deadline counts from the draw.
		run_to_draw();
		let drawn_at = System::block_number();
		assert!(drawn_at > 1);
		let info = Rounds::<Test>::get(round).unwrap();
		assert!(info.is_drawn());
		assert_eq!(info.slots, SLOTS);
		assert_eq!(info.threshold, 8);
		assert_eq!(info.deadline, drawn_at + TIMEOUT);
		assert_eq!(info.total_stake, 10_000);
		assert!(CommitteeRoots::<Test>::get(round).is_some());
		let committee = seats(round);
		assert_eq!(committee.iter().map(|s| s.slots).sum::<u32>(), SLOTS);
		for seat in &committee {
			assert_eq!(seat.key, key(seat.agent));
		}
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), DEPOSIT);
		let summary = committee.iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>();
		System::assert_last_event(
			Event::RoundOpened {
				round,
				machine,
				level: 0,
				deadline: drawn_at + TIMEOUT,
				committee: BoundedVec::truncate_from(summary),
			}
			.into(),
		);
		// The draw is reproducible off chain from the seed and the stakes (of the snapshot:
		// genesis, unchanged since).
		let stakes: Vec<u128> = (1..=10).map(|_| 1_000).collect();
		let tree = consensus_machine_primitives::selection::MemoryTree::from_stakes(&stakes);
		let drawn = consensus_machine_primitives::selection::draw(&tree, &info.seed, SLOTS, 10_000)
			.unwrap();
		let expected: Vec<(AccountId, u32)> =
			consensus_machine_primitives::selection::group(&drawn)
				.into_iter()
				.map(|(i, n)| (AgentAt::<Test>::get(i).unwrap(), n))
				.collect();
		assert_eq!(committee.iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>(), expected);
	});
}

#[test]
fn open_round_refuses_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), 7, h(1)),
			Error::<Test>::UnknownMachine
		);
		let machine = create_machine();
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::none(), machine, h(1)),
			DispatchError::BadOrigin
		);
		// Account 200 has no funds for the fee and the deposit.
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(200), machine, h(1)),
			Error::<Test>::CannotPayRoundFee
		);
		// Committed, then drawn: open either way.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)));
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		run_to_draw();
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		// Once the deadline passed undecided, the step can be tried again.
		run_to_block(deadline(round));
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		run_past_deadline(round);
		open(machine);
	});
}

#[test]
fn open_round_needs_agents() {
	ExtBuilder::default().agents(vec![]).build_and_execute(|| {
		let machine = create_machine();
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::NoAgents
		);
	});
}

#[test]
fn unbonding_agents_are_never_drawn() {
	ExtBuilder::default().build_and_execute(|| {
		for a in 1..=7 {
			assert_ok!(ConsensusMachine::unbond(RuntimeOrigin::signed(a)));
		}
		let machine = create_machine();
		for _ in 0..20 {
			let round = open(machine);
			assert!(seats(round).iter().all(|s| s.agent > 7), "only agents 8..=10 are active");
			run_to_block(System::block_number() + TIMEOUT + 1);
		}
	});
}

#[test]
fn draws_are_stake_weighted_with_replacement() {
	// Agent 1 has 60% of the stake, agents 2..=5 10% each. Over 300 rounds of 10 slots the
	// slot shares must match within 0.05 (σ of the big share is √(0.24/3000) ≈ 0.009).
	let stakes = [(1, 6_000), (2, 1_000), (3, 1_000), (4, 1_000), (5, 1_000)];
	ExtBuilder::default().agents(stakes.to_vec()).build_and_execute(|| {
		let machine = create_machine();
		// Three hundred round fees.
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(
			&OPENER, 1_000_000
		));
		let mut counts = [0u32; 6];
		let mut big_agent_had_several_slots = 0;
		for _ in 0..300 {
			let round = open(machine);
			for seat in seats(round) {
				counts[seat.agent as usize] += seat.slots;
				if seat.agent == 1 && seat.slots > 1 {
					big_agent_had_several_slots += 1;
				}
			}
			run_to_block(System::block_number() + TIMEOUT + 1);
		}
		let total: u32 = counts.iter().sum();
		assert_eq!(total, 3_000);
		for (agent, stake) in stakes {
			let share = f64::from(counts[agent as usize]) / f64::from(total);
			let expected = stake as f64 / 10_000.0;
			assert!((share - expected).abs() < 0.05, "agent {agent}: {share} vs {expected}");
		}
		assert!(big_agent_had_several_slots > 250, "{big_agent_had_several_slots} of 300 rounds");
	});
}

// ---------------------------------------------------------------------------------------------
// Statements

#[test]
fn statements_reaching_the_threshold_record_a_certificate() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round);
		let signers = seats_to_threshold(round);
		let before = label(machine);
		for seat in &signers {
			submit(seat.agent, &s);
			System::assert_has_event(
				Event::StatementRecorded {
					round,
					agent: seat.agent,
					slots: seat.slots,
					value: s.body.value_hash(),
				}
				.into(),
			);
		}
		let cert = Certificates::<Test>::get(round).expect("decided");
		assert!(cert.slots >= 8);
		assert_eq!(cert.signatures.len(), signers.len());
		assert_eq!(Rounds::<Test>::get(round).unwrap().decided, Some(System::block_number()));
		let after = before.advance(&s.body).unwrap();
		assert_eq!(label(machine), after);
		assert_eq!(ConsensusMachine::latest_label(machine), Some(after));
		assert_eq!(Trace::<Test>::get(machine, 0).unwrap().label, after);
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
		System::assert_has_event(
			Event::CertificateRecorded {
				round,
				family: None,
				machine,
				level: 0,
				value: s.body.value_hash(),
				slots: cert.slots,
				signers: signers.len() as u32,
			}
			.into(),
		);
		System::assert_last_event(Event::MachineAdvanced { machine, label: after }.into());

		// Anyone can re-verify the stored certificate with the primitives alone.
		let committee = seats(round);
		let signatures = cert.signatures.into_inner();
		let verified = certificate::verify(
			&committee,
			Rounds::<Test>::get(round).unwrap().threshold,
			&cert.statement,
			&signatures,
			|key: &crate::crypto::Public, msg, sig: &sr25519::Signature| {
				sr25519::Pair::verify(sig, msg, &key.clone().into())
			},
		);
		assert_eq!(verified, Ok(cert.slots));
	});
}

#[test]
fn statement_failures_are_precise_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round);
		let seat = seats(round)[0].clone();
		let outsider =
			default_agents().into_iter().find(|a| seats(round).iter().all(|s| s.agent != *a));

		// Bad signature: only the authorisation checks it.
		assert_eq!(
			authorize(seat.agent, &s, sign(seat.agent + 1, &s)),
			Err(InvalidTransaction::BadProof.into())
		);
		// Replay from another chain.
		let mut foreign = s.clone();
		foreign.genesis = h(77);
		assert_noop!(dispatch(seat.agent, &foreign), Error::<Test>::WrongGenesis);
		assert_eq!(
			authorize(seat.agent, &foreign, sign(seat.agent, &foreign)),
			Err(InvalidTransaction::BadProof.into())
		);
		// Wrong machine, level, round.
		let mut wrong = s.clone();
		wrong.machine = 5;
		assert_noop!(dispatch(seat.agent, &wrong), Error::<Test>::WrongMachine);
		wrong = s.clone();
		wrong.level = 1;
		assert_noop!(dispatch(seat.agent, &wrong), Error::<Test>::WrongLevel);
		wrong = s.clone();
		wrong.round = 9;
		assert_noop!(dispatch(seat.agent, &wrong), Error::<Test>::UnknownRound);
		// Stale step and wrong from-hash.
		wrong = s.clone();
		wrong.body =
			Body::Transition { step: 1, from: label(machine).hash, output: h(1), to: h(2) };
		assert_noop!(dispatch(seat.agent, &wrong), Error::<Test>::StaleStep);
		wrong.body = Body::Transition { step: 0, from: h(3), output: h(1), to: h(2) };
		assert_noop!(dispatch(seat.agent, &wrong), Error::<Test>::WrongFromHash);
		// Not in the committee.
		let outsider = outsider.expect("10 draws with replacement from 10 agents miss one");
		assert_noop!(dispatch(outsider, &s), Error::<Test>::NotAPicket);
		assert_noop!(dispatch(20, &s), Error::<Test>::NotAPicket);
		// Only the authorised origin.
		assert_noop!(
			ConsensusMachine::submit_statement(
				RuntimeOrigin::signed(seat.agent),
				s.clone(),
				seat_of(round, seat.agent),
				sign(seat.agent, &s),
				None
			),
			DispatchError::BadOrigin
		);
		// Duplicate.
		submit(seat.agent, &s);
		assert_noop!(dispatch(seat.agent, &s), Error::<Test>::DuplicateStatement);
		assert_eq!(
			authorize(seat.agent, &s, sign(seat.agent, &s)),
			Err(InvalidTransaction::Stale.into())
		);
		// Closed round.
		run_past_deadline(round);
		let other = seats(round)[1].agent;
		assert_noop!(dispatch(other, &s), Error::<Test>::DeadlinePassed);
	});
}

#[test]
fn a_statement_for_a_decided_round_or_an_old_step_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round);
		for seat in seats_to_threshold(round) {
			submit(seat.agent, &s);
		}
		let late = seats(round).into_iter().find(|seat| {
			!Statements::<Test>::contains_key(round, {
				seats(round).iter().position(|c| c.agent == seat.agent).unwrap() as u32
			})
		});
		let late = late.expect("a seat is left once the threshold is reached");
		assert_noop!(dispatch(late.agent, &s), Error::<Test>::RoundDecided);
		// The next round decides step 1: the step-0 statement, re-signed for it, is stale.
		let next = open(machine);
		let mut old = s.clone();
		old.round = next;
		let signer = seats(next)[0].agent;
		assert_noop!(dispatch(signer, &old), Error::<Test>::WrongInstance);
		old.instance = instance(next);
		assert_noop!(dispatch(signer, &old), Error::<Test>::StaleStep);
	});
}

#[test]
fn a_statement_signed_for_one_round_does_not_count_in_another() {
	// One agent holds all the stake, so it sits in every committee.
	ExtBuilder::default().agents(vec![(1, 1_000)]).build_and_execute(|| {
		let machine = create_machine();
		let first = open(machine);
		let s = statement(machine, first);
		let signature = sign(1, &s);
		run_past_deadline(first);
		let second = open(machine);
		let mut replay = s.clone();
		replay.round = second;
		replay.instance = instance(second);
		assert_eq!(authorize(1, &replay, signature), Err(InvalidTransaction::BadProof.into()));
	});
}

// ---------------------------------------------------------------------------------------------
// Certificates

#[test]
fn certificate_and_statements_give_identical_storage_and_events() {
	// Identical but for the events of single statements: a certificate's signers get none each.
	// sr25519 signatures are randomised: sign once, then replay the same bytes both ways.
	let (s, signers, sigs) = ExtBuilder::default().build().execute_with(|| {
		let machine = create_machine();
		let round = open(machine);
		let signers = seats_to_threshold(round);
		let (s, sigs) = certificate_of(round, &signers);
		(s, signers, sigs)
	});
	let run = |aggregated: bool| {
		ExtBuilder::default().build().execute_with(|| {
			let machine = create_machine();
			let round = open(machine);
			if aggregated {
				assert_ok!(ConsensusMachine::submit_certificate(
					RuntimeOrigin::signed(99),
					s.clone(),
					sigs.clone().into()
				));
			} else {
				for (seat, (_, signature)) in signers.iter().zip(sigs.iter()) {
					let signature: crate::crypto::Signature = (*signature).into();
					authorize(seat.agent, &s, signature.clone()).expect("authorised");
					assert_ok!(ConsensusMachine::submit_statement(
						RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
						s.clone(),
						seat_of(s.round, seat.agent),
						signature,
						None,
					));
				}
			}
			assert!(Certificates::<Test>::get(round).is_some());
			ConsensusMachine::do_try_state().unwrap();
			let events = System::events();
			System::reset_events();
			(sp_io::storage::root(sp_runtime::StateVersion::V1), events)
		})
	};
	let (one_by_one, mut events_a) = run(false);
	let (aggregated, events_b) = run(true);
	assert!(events_a.iter().any(|e| matches!(
		e.event,
		RuntimeEvent::ConsensusMachine(Event::CertificateRecorded { .. })
	)));
	let single = |e: &frame_system::EventRecord<RuntimeEvent, _>| {
		matches!(e.event, RuntimeEvent::ConsensusMachine(Event::StatementRecorded { .. }))
	};
	assert_eq!(events_a.iter().filter(|e| single(e)).count(), signers.len());
	events_a.retain(|e| !single(e));
	assert_eq!(events_a, events_b);
	assert_eq!(one_by_one, aggregated);
}

#[test]
fn a_certificate_completes_what_single_statements_started() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let signers = seats_to_threshold(round);
		let (s, sigs) = certificate_of(round, &signers);
		submit(signers[0].agent, &s);
		assert_ok!(ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s, sigs.into()));
		assert_eq!(Certificates::<Test>::get(round).unwrap().signatures.len(), signers.len());
	});
}

#[test]
fn certificate_failures_are_precise_and_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let committee = seats(round);
		let signers = seats_to_threshold(round);
		let (s, sigs) = certificate_of(round, &signers);
		let submit_cert = |s: &Statement, sigs: Vec<(u32, sr25519::Signature)>| {
			ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s.clone(), sigs)
		};
		let good = sigs.clone().into_inner();
		assert_noop!(submit_cert(&s, vec![]), Error::<Test>::NoSignatures);
		let mut too_many = good.clone();
		while too_many.len() <= committee.len() {
			too_many.push(good[0]);
		}
		assert_noop!(submit_cert(&s, too_many), Error::<Test>::TooManySigners);
		let mut unknown = good.clone();
		unknown[0].0 = committee.len() as u32;
		assert_noop!(submit_cert(&s, unknown), Error::<Test>::NotAPicket);
		let mut duplicate = good.clone();
		duplicate.push(good[0]);
		assert_noop!(submit_cert(&s, duplicate), Error::<Test>::DuplicateSigner);
		let short = good[..good.len() - 1].to_vec();
		assert_noop!(submit_cert(&s, short), Error::<Test>::BelowThreshold);
		let mut tampered = good.clone();
		tampered[0].1 = stored(sign(99, &s));
		assert_noop!(submit_cert(&s, tampered), Error::<Test>::BadSignature);
		let mut foreign = s.clone();
		foreign.genesis = h(77);
		assert_noop!(submit_cert(&foreign, good.clone()), Error::<Test>::WrongGenesis);
		assert_noop!(
			ConsensusMachine::submit_certificate(RuntimeOrigin::none(), s.clone(), sigs.into()),
			DispatchError::BadOrigin
		);
		// A signer suspended for an overt offence (here: an equivocation) signs for no seat.
		let cheat = signers[0].agent;
		report_transition_equivocation(machine, round, cheat);
		assert_noop!(submit_cert(&s, good), Error::<Test>::AgentSuspended);
	});
}

/// A whole certificate is held to the round's clock like a single statement: refused once the
/// round is decided, and once its deadline has passed.
#[test]
fn a_certificate_too_late_is_refused_and_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let (s, sigs) = certificate_of(round, &seats_to_threshold(round));
		assert_ok!(ConsensusMachine::submit_certificate(
			RuntimeOrigin::signed(99),
			s.clone(),
			sigs.clone().into()
		));
		assert_noop!(
			ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s, sigs.into()),
			Error::<Test>::RoundDecided
		);
		let next = open(machine);
		let (s, sigs) = certificate_of(next, &seats_to_threshold(next));
		run_past_deadline(next);
		assert_noop!(
			ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s, sigs.into()),
			Error::<Test>::DeadlinePassed
		);
	});
}

/// A proof of possession binds the chain: one made for another genesis hash does not register.
#[test]
fn a_proof_of_possession_from_another_chain_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let payload = consensus_machine_primitives::statement::possession_payload(&20u64, &h(77));
		let foreign: crate::crypto::Signature = crate::mock::pair(20).sign(&payload).into();
		assert_noop!(
			ConsensusMachine::register(RuntimeOrigin::signed(20), key(20), 500, foreign),
			Error::<Test>::BadProofOfPossession
		);
	});
}

// ---------------------------------------------------------------------------------------------
// Trace and pruning

fn decide(machine: MachineId) -> RoundId {
	let round = open(machine);
	let (s, sigs) = certificate_of(round, &seats_to_threshold(round));
	assert_ok!(ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s, sigs.into()));
	round
}

#[test]
fn the_trace_chains_labels_and_keeps_the_last_steps() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let mut expected = Label::genesis(machine, &h(0));
		for _ in 0..5 {
			let round = decide(machine);
			expected = expected
				.advance(&Certificates::<Test>::get(round).unwrap().statement.body)
				.unwrap();
		}
		assert_eq!(label(machine), expected);
		assert_eq!(expected.step, 5);
		// MAX_TRACE = 3: steps 0 and 1 are gone, 2..=4 kept.
		assert!(Trace::<Test>::get(machine, 1).is_none());
		assert!(Trace::<Test>::get(machine, 2).is_some());
		assert_eq!(Trace::<Test>::get(machine, 4).unwrap().label, expected);
		assert_eq!(Trace::<Test>::iter_prefix(machine).count(), MAX_TRACE as usize);
	});
}

#[test]
fn rounds_are_pruned_after_retention_with_bounded_work() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let decided = decide(machine);
		let decided_at = Rounds::<Test>::get(decided).unwrap().decided.unwrap();
		let expired = open(machine);
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), DEPOSIT);
		run_to_block(decided_at + RETENTION);
		assert!(Rounds::<Test>::get(decided).is_some(), "kept during retention");
		run_to_block(decided_at + RETENTION + 1);
		assert!(Rounds::<Test>::get(decided).is_none());
		assert!(Certificates::<Test>::get(decided).is_none());
		assert_eq!(Statements::<Test>::iter_prefix(decided).count(), 0);
		assert_eq!(Tallies::<Test>::iter_prefix(decided).count(), 0);
		assert!(CommitteeSeats::<Test>::iter_prefix(decided).next().is_none());
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
		let at = Rounds::<Test>::get(last).unwrap().decided.unwrap() + RETENTION + 1;
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

#[test]
fn genesis_agents_are_bonded() {
	ExtBuilder::default().build_and_execute(|| {
		for a in 1..=10 {
			assert_eq!(held_bond(a), 1_000);
			assert_eq!(Agents::<Test>::get(a).unwrap().status, AgentStatus::Active);
		}
		assert_eq!(TotalStake::<Test>::get(), 10_000);
	});
}

#[test]
fn authorised_statements_provide_one_tag_per_seat_and_live_until_the_deadline() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round);
		let seat = seats(round)[0].clone();
		let (valid, _) = ConsensusMachine::authorize_statement(
			TransactionSource::External,
			&s,
			&seat_of(s.round, seat.agent),
			&sign(seat.agent, &s),
			&None,
		)
		.expect("valid");
		assert_eq!(valid.priority, 1_000);
		assert_eq!(valid.longevity, TIMEOUT);
		assert_eq!(valid.provides.len(), 1);
		let expected = codec::Encode::encode(&("ConsensusMachine", (round, 0u8, seat.agent)));
		assert_eq!(valid.provides[0], expected);
		assert!(valid.propagate);
	});
}

/// The attack on draws: the stake tree's nodes were laid out for `MaxAgents` indices, so a
/// runtime upgrade raising `MaxAgents` past a power of two left the new top nodes empty and
/// every draw failed (or found the wrong agents). The tree's capacity is a power of two kept in
/// storage, and grows by doubling, so draws stay what the stakes say.
#[test]
fn raising_max_agents_past_a_power_of_two_keeps_draws_right() {
	// The committee a draw from these stakes (agent `i + 1` at index `i`) gives.
	let expected = |round: RoundId, stakes: &[u128]| {
		let info = Rounds::<Test>::get(round).unwrap();
		let tree = selection::MemoryTree::from_stakes(stakes);
		let drawn = selection::draw(&tree, &info.seed, SLOTS, stakes.iter().sum()).unwrap();
		selection::group(&drawn)
			.into_iter()
			.map(|(i, n)| (AgentAt::<Test>::get(i).unwrap(), n))
			.collect::<Vec<(AccountId, u32)>>()
	};
	let committee =
		|round: RoundId| seats(round).iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>();
	// The snapshot's top node: what a draw from it descends from.
	let snapshot_top = || {
		use selection::StakeTree;
		let snapshot = crate::bonds::SnapshotTree::<Test>::current();
		(snapshot.capacity(), snapshot.node(snapshot.capacity()), snapshot.total())
	};
	MaxAgents::set(3);
	ExtBuilder::default().agents(vec![(1, 1_000), (2, 2_000), (3, 3_000)]).build_and_execute(
		|| {
			MaxAgents::set(5);
			assert_eq!(StakeTreeCapacity::<Test>::get(), 4);
			let machine = create_machine();
			let round = open(machine);
			// The draw doubled the tree; the snapshot's new top node holds the snapshot's total.
			assert_eq!(StakeTreeCapacity::<Test>::get(), 8);
			assert_eq!(snapshot_top(), (8, 6_000, 6_000));
			assert_eq!(Rounds::<Test>::get(round).unwrap().total_stake, 6_000);
			assert_eq!(committee(round), expected(round, &[1_000, 2_000, 3_000]));
			// Two more agents join the larger tree (one beyond the old capacity)...
			for a in [4, 5] {
				let pop = proof(a, a);
				assert_ok!(ConsensusMachine::register(
					RuntimeOrigin::signed(a),
					key(a),
					1_000,
					pop
				));
			}
			assert_eq!(Agents::<Test>::get(5).unwrap().index, 4);
			// ...the live tree at once, the snapshot from the next period on.
			assert_eq!(StakeNodes::<Test>::get(8), 8_000);
			assert_eq!(snapshot_top(), (8, 6_000, 6_000));
			// Growing again after stake moved this period: the new top node's snapshot value
			// is the snapshot's total, the live one the live total.
			MaxAgents::set(9);
			ConsensusMachine::ensure_tree_capacity();
			assert_eq!(StakeNodes::<Test>::get(16), 8_000);
			assert_eq!(snapshot_top(), (16, 6_000, 6_000));
			let round = open(create_machine());
			assert_eq!(Rounds::<Test>::get(round).unwrap().total_stake, 6_000);
			assert_eq!(committee(round), expected(round, &[1_000, 2_000, 3_000]));
			run_to_next_snapshot();
			assert_eq!(snapshot_top(), (16, 8_000, 8_000));
			let round = open(create_machine());
			assert_eq!(Rounds::<Test>::get(round).unwrap().total_stake, 8_000);
			assert_eq!(committee(round), expected(round, &[1_000, 2_000, 3_000, 1_000, 1_000]));
		},
	);
	MaxAgents::set(32);
}

#[test]
fn a_statement_names_its_seat_and_only_that_seats_key_signs_for_it() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let committee = seats(round);
		let (a, b) = (
			committee[0].agent,
			committee.iter().find(|s| s.agent != committee[0].agent).unwrap().agent,
		);
		let s = statement(machine, round);
		let authorize_as = |seat: u32, signer: AccountId| {
			RuntimeCall::ConsensusMachine(CmCall::submit_statement {
				statement: s.clone(),
				seat,
				signature: sign(signer, &s),
				evidence: None,
			})
			.authorize(TransactionSource::External)
			.expect("submit_statement has an authorize function")
			.map(|_| ())
		};
		// B's signature naming A's seat, and a seat the committee does not have.
		assert_eq!(authorize_as(seat_of(round, a), b), Err(InvalidTransaction::BadProof.into()));
		let beyond = committee.len() as u32;
		assert_eq!(authorize_as(beyond, a), Err(InvalidTransaction::BadProof.into()));
		assert_noop!(
			ConsensusMachine::submit_statement(
				RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
				s.clone(),
				beyond,
				sign(a, &s),
				None
			),
			Error::<Test>::NotAPicket
		);
		assert_eq!(authorize_as(seat_of(round, a), a), Ok(()));
	});
}

#[test]
fn a_machine_with_a_named_opener_cannot_be_taken_by_another() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let squatter = 66;
		// An open machine: whoever opens first each time decides what the next step is about.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(squatter), machine, h(66)));
		assert_eq!(Rounds::<Test>::get(round).unwrap().opener, squatter);
		run_to_draw();
		run_past_deadline(round);
		// Only the machine origin names an opener.
		assert_noop!(
			ConsensusMachine::set_machine_opener(
				RuntimeOrigin::signed(squatter),
				machine,
				Some(squatter)
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ConsensusMachine::set_machine_opener(RuntimeOrigin::root(), 99, Some(OPENER)),
			Error::<Test>::UnknownMachine
		);
		assert_ok!(ConsensusMachine::set_machine_opener(
			RuntimeOrigin::root(),
			machine,
			Some(OPENER)
		));
		System::assert_last_event(Event::MachineOpenerSet { machine, opener: Some(OPENER) }.into());
		assert_noop!(
			ConsensusMachine::open_round(RuntimeOrigin::signed(squatter), machine, h(66)),
			Error::<Test>::NotTheOpener
		);
		let next = open(machine);
		assert_eq!(Rounds::<Test>::get(next).unwrap().opener, OPENER);
		// Other machines stay open to all.
		let other = create_machine();
		assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(squatter), other, h(66)));
		// And naming nobody opens the machine again.
		assert_ok!(ConsensusMachine::set_machine_opener(RuntimeOrigin::root(), machine, None));
		assert_eq!(MachineOpeners::<Test>::get(machine), None);
	});
}
