//! Round fees: the opener pays for the work no transaction pays for, and one account cannot
//! hold the draw queue.
//!
//! The work is measured, not recomputed: the weight the blocks' hooks report for the draw and
//! the pruning, and each fee-less transaction's authorisation and actual dispatch weight, as
//! the pool and a block would run them. What the opener paid is its balance before and after,
//! once the round is pruned and its deposit back.

use super::{
	light::{bad_object, commit_proposal_to, good_object, many_agents, verdict, PROPOSER},
	spam::statement_call,
	*,
};
use consensus_machine_primitives::light::{Light, MerkleChunks, ObjectRef, Verdict};
use frame_support::{
	dispatch::GetDispatchInfo,
	traits::{fungible::Mutate, Hooks},
	weights::{Weight, WeightToFee},
};
use sp_runtime::traits::Dispatchable;

/// Runs the next block's hooks, the registry's and the machines': the weights their
/// `on_initialize` and `on_idle` report.
fn next_block() -> (Weight, Weight) {
	let now = System::block_number() + 1;
	System::set_block_number(now);
	let init = ConsensusMachine::on_initialize(now).saturating_add(Pickets::on_initialize(now));
	let idle = ConsensusMachine::on_idle(now, Weight::MAX);
	(init, idle.saturating_add(Pickets::on_idle(now, Weight::MAX)))
}

/// Runs blocks until `round` is drawn: the weight of that block's `on_initialize` (all of it,
/// so the measure is, if anything, too high).
fn draw_work(round: RoundId) -> Weight {
	for _ in 0..100 {
		let (init, _) = next_block();
		if Rounds::<Test>::get(round).is_some_and(|r| r.is_drawn()) {
			return init;
		}
	}
	panic!("round {round} was never drawn");
}

/// Runs blocks until `round` is pruned: the weight of that block's `on_idle`.
fn prune_work(round: RoundId) -> Weight {
	for _ in 0..200 {
		let (_, idle) = next_block();
		if Rounds::<Test>::get(round).is_none() {
			return idle;
		}
	}
	panic!("round {round} was never pruned");
}

/// Runs `call` as the pool and a block run a fee-less transaction: authorised from the
/// network, then dispatched with the authorised origin. The weight the block spends on it
/// (authorisation and actual dispatch), or `None` when the pool refuses it.
fn feeless(call: CmCall<Test>) -> Option<Weight> {
	let call = RuntimeCall::ConsensusMachine(call);
	let authorize = call.weight_of_authorize();
	call.authorize(TransactionSource::External).expect("authorisable").ok()?;
	let info = call.get_dispatch_info();
	let post = match call.dispatch(RuntimeOrigin::from(frame_system::RawOrigin::Authorized)) {
		Ok(post) => post,
		Err(e) => e.post_info,
	};
	Some(authorize.saturating_add(post.calc_actual_weight(&info)))
}

/// Every seat of `round` sends `make(round)`, fee-less: the weight of those the pool took.
fn every_seat_states(round: RoundId, make: impl Fn(RoundId) -> Statement) -> Weight {
	let mut work = Weight::zero();
	for (index, seat) in seats(round).into_iter().enumerate() {
		let call = statement_call(&make(round), index as u32, seat.agent);
		work = work.saturating_add(feeless(call).unwrap_or_default());
	}
	work
}

/// After block 1, `object` proposed to a new judge: the machine, the round and what the
/// proposer had before.
fn judged_proposal(object: ObjectRef) -> (MachineId, RoundId, Balance) {
	let machine = create_judge();
	run_to_block(2);
	let had = Balances::total_balance(&PROPOSER);
	(machine, commit_proposal_to(machine, object), had)
}

fn price(work: Weight) -> Balance {
	<Test as Config>::WeightToFee::weight_to_fee(&work)
}

/// The measured price of a round's fee-less work is at most what its opener paid, and the
/// opener paid something.
fn assert_paid_for(kind: &str, work: Weight, paid: Balance) {
	let unpaid = price(work);
	assert!(paid > 0, "{kind}: the opener paid nothing");
	assert!(unpaid <= paid, "{kind}: {unpaid} of unpaid work against {paid} paid");
	println!("{kind}: work priced {unpaid}, paid {paid} ({:.2})", unpaid as f64 / paid as f64);
}

#[test]
fn a_transition_round_pays_for_its_draw_statements_and_pruning() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let machine = create_machine();
		run_to_block(2);
		let had = Balances::total_balance(&OPENER);
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
		let mut work = draw_work(round);
		work += every_seat_states(round, |r| statement(machine, r));
		assert!(Rounds::<Test>::get(round).unwrap().decided().is_some());
		work += prune_work(round);
		assert_paid_for("transition", work, had - Balances::total_balance(&OPENER));
	});
}

#[test]
fn a_validity_round_pays_for_its_work_whether_green_or_overturned_by_a_red() {
	// An honest object: every seat says green.
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, _) = good_object();
		let (machine, round, had) = judged_proposal(object);
		let mut work = draw_work(round);
		work += every_seat_states(round, |r| verdict(r, Verdict::Green));
		work += prune_work(round);
		assert!(ConsensusMachine::is_valid(machine, &object));
		assert_paid_for("validity, green", work, had - Balances::total_balance(&PROPOSER));
	});
	// A bad object: greens decide it, then a valid red with the evidence overturns every one
	// (the costliest statement there is). The forfeited bond is not a fee: it is left out.
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, chunks) = bad_object();
		let (machine, round, had) = judged_proposal(object);
		let mut work = draw_work(round);
		let greens = seats_to_threshold(round);
		for seat in &greens {
			let call = statement_call(
				&verdict(round, Verdict::Green),
				seat_of(round, seat.agent),
				seat.agent,
			);
			work += feeless(call).expect("a green before the decision");
		}
		let evidence = MerkleChunks::<CHUNK>::evidence(&chunks, 1).expect("chunk 1 exists");
		let red_seat = seats(round).into_iter().find(|s| !greens.contains(s)).expect("a seat");
		let red = verdict(round, Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) });
		let call = CmCall::submit_statement {
			signature: sign(red_seat.agent, &red),
			seat: seat_of(round, red_seat.agent),
			statement: red,
			evidence: Some(evidence),
		};
		work += feeless(call).expect("a valid red");
		assert_eq!(ConsensusMachine::light(machine, &object).map(|l| l.0), Some(Light::Red));
		work += prune_work(round);
		let paid = had - Balances::total_balance(&PROPOSER) - PROPOSAL_BOND;
		assert_paid_for("validity, red", work, paid);
	});
}

/// A hierarchical round whose primary stalls: the fee-less handover and the backup's draw,
/// statements and pruning are paid from the fees the family held at opening.
#[test]
fn a_handed_over_family_pays_for_every_level_it_ran() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let machine = create_hierarchical_machine(&[4, 10], 5);
		run_to_block(2);
		let had = Balances::total_balance(&OPENER);
		let root = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
		let mut work = draw_work(root);
		// The primary says nothing; its deadline passes; anyone hands over without a fee.
		run_past_deadline(root);
		work += feeless(CmCall::start_handover { round: root }).expect("the handover");
		let backup = *family_levels(root).last().unwrap();
		work += draw_work(backup);
		work += every_seat_states(backup, |r| {
			let info = Rounds::<Test>::get(r).unwrap();
			Statement {
				genesis: ConsensusMachine::genesis_hash(),
				machine,
				round: r,
				instance: info.draw().unwrap().instance,
				level: info.level,
				body: Body::Decision { value: Some(h(7)) },
			}
		});
		assert_eq!(family_value(root), Some(h(7)));
		work += prune_work(root);
		assert!(Rounds::<Test>::get(backup).is_none(), "the family goes together");
		assert_paid_for("hierarchical, two levels", work, had - Balances::total_balance(&OPENER));
	});
}

/// Cheap when things go well: a family decided by its primary pays the primary's fee only;
/// the backup levels' fees held at opening come back with the deposit.
#[test]
fn a_family_decided_by_its_primary_gets_its_backup_fees_back() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let machine = create_hierarchical_machine(&[4, 10, 20], 5);
		let had = Balances::total_balance(&OPENER);
		let root = open(machine);
		let held = Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER);
		let (fee, backups) =
			ConsensusMachine::opening_fees(&Machines::<Test>::get(machine).unwrap(), false);
		assert!(backups > 0);
		assert_eq!(held, DEPOSIT + backups);
		assert_eq!(had - Balances::total_balance(&OPENER), fee, "level 0's fee, paid at once");
		let _ = every_seat_states(root, |r| {
			let info = Rounds::<Test>::get(r).unwrap();
			Statement {
				genesis: ConsensusMachine::genesis_hash(),
				machine,
				round: r,
				instance: info.draw().unwrap().instance,
				level: 0,
				body: Body::Decision { value: Some(h(3)) },
			}
		});
		assert_eq!(family_value(root), Some(h(3)));
		run_to_block(System::block_number() + RETENTION + 2);
		assert!(Rounds::<Test>::get(root).is_none());
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER), 0);
		assert_eq!(had - Balances::total_balance(&OPENER), fee);
	});
}

/// The opener cannot stall a family by emptying its account after opening: the handover takes
/// the backup's fee from what the family holds.
#[test]
fn an_opener_who_spends_everything_cannot_stop_the_handover() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let machine = create_hierarchical_machine(&[4, 10], 5);
		let root = open(machine);
		let free = Balances::reducible_balance(
			&OPENER,
			frame_support::traits::tokens::Preservation::Expendable,
			frame_support::traits::tokens::Fortitude::Polite,
		);
		assert_ok!(<Balances as Mutate<_>>::transfer(
			&OPENER,
			&99,
			free,
			frame_support::traits::tokens::Preservation::Expendable
		));
		run_past_deadline(root);
		let treasury = Balances::total_balance(&TREASURY);
		assert!(feeless(CmCall::start_handover { round: root }).is_some());
		let backup = *family_levels(root).last().unwrap();
		let fee = ConsensusMachine::level_fee(&Machines::<Test>::get(machine).unwrap(), 1, false);
		System::assert_has_event(Event::RoundFeePaid { round: backup, payer: OPENER, fee }.into());
		assert_eq!(Balances::total_balance(&TREASURY), treasury + fee);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &OPENER),
			DEPOSIT,
			"the deposit itself is untouched"
		);
	});
}

#[test]
fn an_opener_who_cannot_pay_the_fee_is_refused_and_nothing_changes() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_judge();
		let unitary = Machines::<Test>::get(machine).unwrap();
		let (fee, _) = ConsensusMachine::opening_fees(&unitary, false);
		let (validity_fee, _) = ConsensusMachine::opening_fees(&unitary, true);
		assert!(validity_fee > fee, "a validity round also pays for a red");
		let ed = <Balances as Inspect<_>>::minimum_balance();
		// Enough for the deposit and the existential deposit, one unit short of the fee.
		let poor = 300;
		assert_ok!(<Balances as Mutate<_>>::mint_into(&poor, ed + DEPOSIT + fee - 1));
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(poor), machine, h(1)),
			Error::<Test>::CannotPayRoundFee
		);
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(poor), machine, h(1), 64),
			Error::<Test>::CannotPayRoundFee
		);
		assert_ok!(<Balances as Mutate<_>>::mint_into(&poor, 1));
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(poor), machine, h(1)));
		assert_eq!(Balances::total_balance(&poor), ed + DEPOSIT);
		assert_eq!(Balances::balance_on_hold(&HoldReason::RoundDeposit.into(), &poor), DEPOSIT);
	});
}

/// The flood: one account commits as many rounds as it may in every block (proposals of new
/// objects and rounds of a hierarchical machine, which are not one at a time). It holds at most
/// `MaxPendingDrawsPerAccount` places, pays a fee for each, and an honest opener gets a place
/// in the same block, every block.
#[test]
fn one_account_cannot_hold_the_draw_queue() {
	const FLOODER: AccountId = 70;
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_judge();
		let family = create_hierarchical_machine(&[4, 10], 5);
		let honest_machines: Vec<MachineId> = (0..6).map(|_| create_machine()).collect();
		assert_ok!(<Balances as Mutate<_>>::mint_into(&FLOODER, 1_000_000));
		run_to_block(2);
		let mut object = 0u8;
		for (block, honest) in honest_machines.iter().enumerate() {
			let treasury = Balances::total_balance(&TREASURY);
			let mut committed = 0;
			loop {
				object = object.wrapping_add(1);
				let proposed = ConsensusMachine::propose(
					RuntimeOrigin::signed(FLOODER),
					machine,
					h(object),
					64,
				);
				let opened =
					ConsensusMachine::commit_round(RuntimeOrigin::signed(FLOODER), family, h(1));
				committed += u32::from(proposed.is_ok()) + u32::from(opened.is_ok());
				if proposed.is_err() && opened.is_err() {
					assert_noop!(
						ConsensusMachine::propose(
							RuntimeOrigin::signed(FLOODER),
							machine,
							h(0),
							64
						),
						Error::<Test>::TooManyDrawsOfAccount
					);
					break;
				}
			}
			assert_eq!(PendingDrawsOf::<Test>::get(FLOODER), MAX_PENDING_DRAWS_PER_ACCOUNT);
			if block == 0 {
				assert_eq!(committed, MAX_PENDING_DRAWS_PER_ACCOUNT);
			}
			// Each place was paid for.
			assert!(committed == 0 || Balances::total_balance(&TREASURY) > treasury);
			// The honest opener gets in, in the same block.
			let round = NextRoundId::<Test>::get();
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				*honest,
				h(9)
			));
			let waiting = round - NextDraw::<Test>::get();
			assert!(waiting < u64::from(MAX_PENDING_DRAWS));
			run_to_block(System::block_number() + 1);
		}
		// Every honest round is drawn once the commitments before it are.
		run_to_draw();
		run_to_block(System::block_number() + u64::from(MAX_PENDING_DRAWS / MAX_DRAWS_PER_BLOCK));
		for honest in honest_machines {
			let open = Machines::<Test>::get(honest).unwrap().open_round.unwrap();
			assert!(Rounds::<Test>::get(open).unwrap().is_drawn());
		}
	});
}

/// A validity round never hands over: a proposal to a hierarchical machine (its first level
/// complete) holds the bond alone, no backup levels' fees (which an amber fee would take a
/// share of).
#[test]
fn a_proposal_to_a_hierarchical_machine_holds_the_bond_alone() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let machine = create_hierarchical_machine(&[10, 20], 5);
		assert!(backup_fees(machine) > 0);
		let had = Balances::total_balance(&PROPOSER);
		let (object, _) = good_object();
		commit_proposal_to(machine, object);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ProposalBond.into(), &PROPOSER),
			PROPOSAL_BOND
		);
		let (fee, _) =
			ConsensusMachine::opening_fees(&Machines::<Test>::get(machine).unwrap(), true);
		assert_eq!(had - Balances::total_balance(&PROPOSER), fee);
	});
}
