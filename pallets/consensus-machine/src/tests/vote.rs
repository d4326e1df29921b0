//! Statements one by one and aggregated certificates: the threshold, the checks, and that
//! both paths leave the same storage.

use super::*;

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
		assert_eq!(Rounds::<Test>::get(round).unwrap().decided(), Some(System::block_number()));
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
