//! Machines: creation and its exact rule, the certified trace, a named opener.

use super::*;

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
fn a_machine_with_a_named_opener_cannot_be_taken_by_another() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let squatter = 66;
		// An open machine: whoever opens first each time decides what the next step is about.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(squatter), machine, h(66)));
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
			ConsensusMachine::commit_round(RuntimeOrigin::signed(squatter), machine, h(66)),
			Error::<Test>::NotTheOpener
		);
		let next = open(machine);
		assert_eq!(Rounds::<Test>::get(next).unwrap().opener, OPENER);
		// Other machines stay open to all.
		let other = create_machine();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(squatter), other, h(66)));
		// And naming nobody opens the machine again.
		assert_ok!(ConsensusMachine::set_machine_opener(RuntimeOrigin::root(), machine, None));
		assert_eq!(MachineOpeners::<Test>::get(machine), None);
	});
}
