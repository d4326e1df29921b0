//! Opening a round: the commitment, its deposit, and the stake-weighted draw.

use super::*;

#[test]
fn commit_round_draws_a_committee_and_holds_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		// The call commits the round and holds the deposit; the committee is not drawn yet.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
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
		assert_eq!(info.draw().unwrap().deadline, drawn_at + TIMEOUT);
		assert_eq!(info.draw().unwrap().total_stake, 10_000);
		assert!(CommitteeRoots::<Test>::get(round).is_some());
		let committee = seats(round);
		assert_eq!(committee.iter().map(|s| s.slots).sum::<u32>(), SLOTS);
		for seat in &committee {
			assert_eq!(seat.key, key(seat.agent));
		}
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), DEPOSIT);
		let summary = committee.iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>();
		System::assert_last_event(
			Event::RoundDrawn {
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
		let drawn = consensus_machine_primitives::selection::draw(
			&tree,
			&info.draw().unwrap().seed,
			SLOTS,
			10_000,
		)
		.unwrap();
		let expected: Vec<(AccountId, u32)> =
			consensus_machine_primitives::selection::group(&drawn)
				.into_iter()
				.map(|(i, n)| (pallet_pickets::AgentAt::<Test>::get(i).unwrap(), n))
				.collect();
		assert_eq!(committee.iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>(), expected);
	});
}

#[test]
fn commit_round_refuses_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), 7, h(1)),
			Error::<Test>::UnknownMachine
		);
		let machine = create_machine();
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::none(), machine, h(1)),
			DispatchError::BadOrigin
		);
		// Account 200 has no funds for the fee and the deposit.
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(200), machine, h(1)),
			Error::<Test>::CannotPayRoundFee
		);
		// Committed, then drawn: open either way.
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)));
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		run_to_draw();
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		// Once the deadline passed undecided, the step can be tried again.
		run_to_block(deadline(round));
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::RoundAlreadyOpen
		);
		run_past_deadline(round);
		open(machine);
	});
}

#[test]
fn commit_round_needs_agents() {
	ExtBuilder::default().agents(vec![]).build_and_execute(|| {
		let machine = create_machine();
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(1)),
			Error::<Test>::NoAgents
		);
	});
}

#[test]
fn unbonding_agents_are_never_drawn() {
	ExtBuilder::default().build_and_execute(|| {
		for a in 1..=7 {
			assert_ok!(Pickets::unbond(RuntimeOrigin::signed(a)));
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

/// A committee is stored 32 seats to a value: every index finds its own seat, one by one or
/// through the reader a certificate uses, and an index past the committee finds none.
#[test]
fn a_committee_of_several_chunks_is_read_back_seat_for_seat() {
	ExtBuilder::default().build_and_execute(|| {
		let round = open(create_machine());
		let (drawn, record) = (seats(round), CommitteeRoots::<Test>::get(round).unwrap());
		let many: Vec<_> =
			(0..45u64).map(|i| Seat { agent: 1_000 + i, key: key(1 + i % 4), slots: 1 }).collect();
		let _ = CommitteeChunks::<Test>::clear_prefix(round, u32::MAX, None);
		ConsensusMachine::store_committee(round, BoundedVec::truncate_from(many.clone()));
		CommitteeRoots::<Test>::mutate(round, |r| r.as_mut().unwrap().seats = 45);
		assert_eq!(CommitteeChunks::<Test>::iter_prefix(round).count(), 2);
		assert_eq!(CommitteeChunks::<Test>::get(round, 1).unwrap().len(), 13);
		assert_eq!(seats(round), many);
		let mut reader = ConsensusMachine::seat_reader(round);
		for index in [44, 0, 31, 32, 40, 33, 5] {
			assert_eq!(ConsensusMachine::seat(round, index).as_ref(), Some(&many[index as usize]));
			assert_eq!(reader(index).as_ref(), Some(&many[index as usize]));
		}
		assert_eq!(ConsensusMachine::seat(round, 45), None);
		assert_eq!(reader(45), None);
		assert_eq!(ConsensusMachine::seat(round, u32::MAX), None);
		// Back to the drawn committee, for the invariants checked after the test.
		let _ = CommitteeChunks::<Test>::clear_prefix(round, u32::MAX, None);
		ConsensusMachine::store_committee(round, BoundedVec::truncate_from(drawn));
		CommitteeRoots::<Test>::insert(round, record);
	});
}
