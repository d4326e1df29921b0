//! Committees nobody can choose: the attacks a grinder would run against the draw, each
//! performed and shown to find nothing; stale randomness refused; stake snapshots; committees
//! reproducible from `(seed, snapshot)`.

use super::*;
use codec::Encode;
use consensus_machine_primitives::selection::{self, MemoryTree};
use pallet_pickets::bonds::StorageTree;

/// A committee as `(agent, slots)` in seat order.
fn committee_of(round: RoundId) -> Vec<(AccountId, u32)> {
	seats(round).into_iter().map(|s| (s.agent, s.slots)).collect()
}

/// What a grinder computes offline in the committing block: the committee `round` would get if
/// it were drawn now, from the randomness known now and the live stake tree (exactly what a
/// pallet that draws at once would draw).
fn predicted(round: RoundId, slots: u32) -> Vec<(AccountId, u32)> {
	let (seed, known_since) = ConsensusMachine::round_seed(round);
	assert!(known_since < System::block_number(), "the grinder knows this output");
	let tree = StorageTree::<Test>::new();
	let drawn =
		selection::draw(&tree, &seed.unwrap(), slots, pallet_pickets::TotalStake::<Test>::get())
			.unwrap();
	selection::group(&drawn)
		.into_iter()
		.map(|(index, slots)| (pallet_pickets::AgentAt::<Test>::get(index).unwrap(), slots))
		.collect()
}

/// Slots agent `who` holds in a committee.
fn slots_of(committee: &[(AccountId, u32)], who: AccountId) -> u32 {
	committee.iter().filter(|(a, _)| *a == who).map(|(_, s)| s).sum()
}

#[test]
fn grinding_bond_extra_against_the_known_seed_predicts_nothing() {
	// The attacker (agent 1) tries `bond_extra(δ)` for several δ offline, each time computing
	// the committee the round would get from everything known in the committing block; then it
	// bonds δ and commits the round in that same block.
	let deltas = [0, 100, 250, 500, 1_000, 2_000, 4_000, 8_000];
	let mut runs = Vec::new();
	for delta in deltas {
		ExtBuilder::default().build_and_execute(|| {
			let machine = create_machine();
			run_to_block(5);
			let round = NextRoundId::<Test>::get();
			if delta > 0 {
				assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(1), delta));
			}
			let prediction = predicted(round, SLOTS);
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				machine,
				h(9)
			));
			run_to_draw();
			let committee = committee_of(round);
			assert_ne!(committee, prediction, "δ = {delta}: the grinder's prediction failed");
			runs.push((delta, prediction, committee));
		});
	}
	// The predictions moved with δ, so the grinder had a choice to make (and the bond with the
	// most predicted seats is the one it would pick)...
	let best = runs.iter().max_by_key(|(_, p, _)| slots_of(p, 1)).unwrap();
	assert!(slots_of(&best.1, 1) > slots_of(&runs[0].1, 1));
	// ...but whatever it bonded, the round got the same committee: the snapshot froze before
	// the bond, and the seed did not exist when the round was committed.
	assert!(runs.windows(2).all(|w| w[0].2 == w[1].2));
}

#[test]
fn burning_round_ids_against_the_known_seed_predicts_nothing() {
	// The attacker burns `k` round ids (validity rounds on throw-away objects, whose bonds come
	// back) so that its target round gets the id whose committee it computed offline.
	let mut committees = Vec::new();
	for burned in 0..5u8 {
		ExtBuilder::default().build_and_execute(|| {
			let machine = create_judge();
			run_to_block(5);
			for i in 0..burned {
				assert_ok!(ConsensusMachine::propose(
					RuntimeOrigin::signed(OPENER + 1),
					machine,
					h(100 + i),
					64
				));
			}
			let round = NextRoundId::<Test>::get();
			assert_eq!(round, u64::from(burned));
			let prediction = predicted(round, SLOTS);
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				machine,
				h(9)
			));
			run_to_draw();
			let committee = committee_of(round);
			assert_ne!(committee, prediction, "{burned} ids burned: the prediction failed");
			committees.push(committee);
		});
	}
	// Each id still gets its own committee (burning changes it), just not a known one.
	assert!(committees.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn a_round_is_never_drawn_from_randomness_known_at_its_commitment() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		run_to_block(3);
		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
		System::assert_last_event(Event::RoundCommitted { round, machine, level: 0 }.into());
		let committed = Rounds::<Test>::get(round).unwrap();
		assert!(!committed.is_drawn());
		assert!(seats(round).is_empty());
		assert!(CommitteeRoots::<Test>::get(round).is_none());
		// In the committing block, the randomness is the parent's: known before the commitment.
		assert_noop!(
			ConsensusMachine::draw_round(round, committed.clone()),
			Error::<Test>::RandomnessTooOld
		);
		// Nothing can be signed for the round yet.
		let s = statement(machine, round);
		assert_noop!(dispatch(1, &s), Error::<Test>::RoundNotDrawn);
		// The next block's randomness is the committing block's: still too old.
		run_to_block(4);
		assert!(!Rounds::<Test>::get(round).unwrap().is_drawn());
		assert_noop!(
			ConsensusMachine::draw_round(round, committed.clone()),
			Error::<Test>::RandomnessTooOld
		);
		// A source that says its output was known at the commitment is refused at any block,
		// and one with no output yet is waited for.
		KNOWN_SINCE.with(|k| k.set(Some(3)));
		run_to_block(6);
		assert!(!Rounds::<Test>::get(round).unwrap().is_drawn());
		assert_noop!(
			ConsensusMachine::draw_round(round, committed.clone()),
			Error::<Test>::RandomnessTooOld
		);
		KNOWN_SINCE.with(|k| k.set(None));
		NO_RANDOMNESS.with(|n| n.set(true));
		run_to_block(7);
		assert_noop!(
			ConsensusMachine::draw_round(round, committed.clone()),
			Error::<Test>::RandomnessUnavailable
		);
		assert!(!Rounds::<Test>::get(round).unwrap().is_drawn());
		// Randomness known since a block after the commitment draws it, and the deadline
		// counts from the draw.
		NO_RANDOMNESS.with(|n| n.set(false));
		run_to_block(8);
		let drawn = Rounds::<Test>::get(round).unwrap();
		assert!(drawn.is_drawn());
		assert_eq!(drawn.draw().unwrap().deadline, 8 + TIMEOUT);
		assert_eq!(drawn.draw().unwrap().seed, ConsensusMachine::round_seed(round).0.unwrap());
		assert_eq!(ConsensusMachine::round_seed(round).1, 7);
		assert!(!seats(round).is_empty());
		assert!(CommitteeRoots::<Test>::get(round).is_some());
		assert_noop!(ConsensusMachine::draw_round(round, drawn), Error::<Test>::AlreadyDrawn);
		KNOWN_SINCE.with(|k| k.set(None));
	});
}

#[test]
fn a_draw_waits_for_randomness_newer_than_the_snapshot() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		run_to_block(SNAPSHOT_PERIOD - 2);
		let round = open_without_draw(machine);
		// At the period's first block, the randomness (the previous block's) was known before
		// the new snapshot froze: a stake change in that block could have been aimed at it.
		run_to_block(SNAPSHOT_PERIOD);
		let committed = Rounds::<Test>::get(round).unwrap();
		assert!(!committed.is_drawn());
		assert_noop!(
			ConsensusMachine::draw_round(round, committed),
			Error::<Test>::RandomnessTooOld
		);
		run_to_block(SNAPSHOT_PERIOD + 1);
		let drawn = Rounds::<Test>::get(round).unwrap();
		assert!(drawn.is_drawn());
		assert_eq!(drawn.draw().unwrap().snapshot, 1);
	});
}

/// Commits a round of `machine` without running to its draw.
fn open_without_draw(machine: MachineId) -> RoundId {
	let round = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
	round
}

#[test]
fn draws_are_limited_per_block_and_run_in_commitment_order() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_judge();
		run_to_block(2);
		let first = NextRoundId::<Test>::get();
		let n = MAX_DRAWS_PER_BLOCK + 2;
		for i in 0..n {
			// From several accounts: one may hold only `MaxPendingDrawsPerAccount` places.
			assert_ok!(ConsensusMachine::propose(
				RuntimeOrigin::signed(OPENER + u64::from(i)),
				machine,
				h(100 + i as u8),
				64
			));
		}
		run_to_block(4);
		let drawn = |r: RoundId| Rounds::<Test>::get(r).unwrap().is_drawn();
		let ids: Vec<_> = (first..first + u64::from(n)).collect();
		assert!(ids[..MAX_DRAWS_PER_BLOCK as usize].iter().all(|&r| drawn(r)));
		assert!(ids[MAX_DRAWS_PER_BLOCK as usize..].iter().all(|&r| !drawn(r)));
		assert_eq!(NextDraw::<Test>::get(), first + u64::from(MAX_DRAWS_PER_BLOCK));
		run_to_block(5);
		assert!(ids.iter().all(|&r| drawn(r)));
		assert_eq!(Rounds::<Test>::get(ids[0]).unwrap().draw().unwrap().deadline, 4 + TIMEOUT);
		assert_eq!(
			Rounds::<Test>::get(*ids.last().unwrap()).unwrap().draw().unwrap().deadline,
			5 + TIMEOUT
		);
	});
}

#[test]
fn stake_changes_after_a_snapshot_change_no_draw_until_the_next() {
	// Two chains from the same genesis commit the same rounds at the same blocks; on one,
	// agent 1 bonds 8,000 more and a new agent registers in the middle of the period.
	let run = |bond: bool| {
		ExtBuilder::default().build().execute_with(|| {
			let machine = create_machine();
			run_to_block(3);
			if bond {
				assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(1), 8_000));
				assert_ok!(Pickets::register(
					RuntimeOrigin::signed(11),
					key(11),
					5_000,
					proof(11, 11)
				));
			}
			let same_period = open_without_draw(machine);
			run_to_draw();
			let this = Rounds::<Test>::get(same_period).unwrap();
			assert_eq!(this.draw().unwrap().snapshot, 0);
			let before = (committee_of(same_period), this.draw().unwrap().total_stake);
			run_to_next_snapshot();
			run_to_block(System::block_number() + TIMEOUT + 1);
			let next_period = open(machine);
			let that = Rounds::<Test>::get(next_period).unwrap();
			(
				before,
				(
					committee_of(next_period),
					that.draw().unwrap().total_stake,
					that.draw().unwrap().snapshot,
				),
			)
		})
	};
	let (quiet_now, quiet_next) = run(false);
	let (bonded_now, bonded_next) = run(true);
	// This period: the same committee and the same total, bond or no bond.
	assert_eq!(quiet_now, bonded_now);
	assert_eq!(quiet_now.1, 10 * 1_000);
	// From the next snapshot on, the new stake counts.
	assert_eq!(quiet_next.1, 10 * 1_000);
	assert_eq!(bonded_next.1, 10 * 1_000 + 8_000 + 5_000);
	assert_eq!(quiet_next.2, bonded_next.2);
	assert!(slots_of(&bonded_next.0, 1) + slots_of(&bonded_next.0, 11) > 0);
	assert_ne!(quiet_next.0, bonded_next.0);
}

#[test]
fn an_agent_that_leaves_after_the_snapshot_leaves_its_seats_empty() {
	// Removal counts at once, but cannot re-roll anything: the leaver's seats stay empty and
	// every other seat is what it would have been.
	let run = |leave: Option<AccountId>| {
		ExtBuilder::default().build().execute_with(|| {
			let machine = create_machine();
			run_to_block(3);
			if let Some(who) = leave {
				assert_ok!(Pickets::unbond(RuntimeOrigin::signed(who)));
			}
			let round = open(machine);
			committee_of(round)
		})
	};
	let full = run(None);
	let leaver = full[0].0;
	let without = run(Some(leaver));
	let expected: Vec<_> = full.iter().filter(|(a, _)| *a != leaver).cloned().collect();
	assert_eq!(without, expected);
	assert!(slots_of(&without, leaver) == 0 && slots_of(&full, leaver) > 0);
}

#[test]
fn anyone_reproduces_a_committee_from_its_seed_and_snapshot() {
	ExtBuilder::default()
		.agents((1..=10).map(|a| (a, 100 * a as Balance)).collect())
		.build_and_execute(|| {
			let machine = create_machine();
			run_to_block(4);
			// Stake moves after the snapshot: the reproduction must ignore it.
			assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(2), 3_000));
			let round = open(machine);
			let info = Rounds::<Test>::get(round).unwrap();
			// Off chain: the stakes as of the snapshot (block snapshot·period − 1, here genesis)
			// and the seed, with the primitives alone.
			assert_eq!(info.draw().unwrap().snapshot, 0);
			let stakes: Vec<u128> = (1..=10).map(|a| 100 * a as u128).collect();
			let tree = MemoryTree::from_stakes(&stakes);
			assert_eq!(info.draw().unwrap().total_stake, stakes.iter().sum::<u128>());
			let drawn = selection::draw(
				&tree,
				&info.draw().unwrap().seed,
				info.slots,
				info.draw().unwrap().total_stake,
			)
			.unwrap();
			let expected: Vec<_> = selection::group(&drawn)
				.into_iter()
				.map(|(index, slots)| (index as AccountId + 1, slots))
				.collect();
			assert_eq!(committee_of(round), expected);
			// And the round decides with a certificate the primitives verify.
			let signers = seats_to_threshold(round);
			for seat in &signers {
				submit(seat.agent, &statement(machine, round));
			}
			let record = Certificates::<Test>::get(round).expect("decided");
			let committee = seats(round);
			let signatures = record.signatures.into_inner();
			let verified = certificate::verify(
				&committee,
				info.threshold,
				&record.statement,
				&signatures,
				|key: &crate::crypto::Public, msg, sig: &sr25519::Signature| {
					sr25519::Pair::verify(sig, msg, &key.clone().into())
				},
			);
			assert_eq!(verified, Ok(record.slots));
		});
}

#[test]
fn a_block_author_who_knows_the_seed_early_cannot_aim_stake_at_it() {
	// A source some author knows `LEAD` blocks before it is public, as BABE's per-block VRF
	// output is known to its slot owner once the epoch randomness is fixed. The author bonds δ
	// in the last blocks of a snapshot period and commits, having computed the committee from
	// every output it can know by then and the tree the next snapshot will freeze.
	const LEAD: u64 = 5;
	let deltas = [0, 100, 500, 2_000, 8_000];
	for delta in deltas {
		ExtBuilder::default().build_and_execute(|| {
			RandomnessLead::set(LEAD);
			let machine = create_machine();
			run_to_block(SNAPSHOT_PERIOD - 2);
			let bonded_at = System::block_number();
			if delta > 0 {
				assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(1), delta));
			}
			let round = NextRoundId::<Test>::get();
			// The first draw a rule blind to the lead would make: at the second block of the next
			// period, from the output public since its first block, known to the author now.
			let known_since = SNAPSHOT_PERIOD;
			assert!(known_since <= bonded_at + LEAD, "the author knows this output now");
			let subject = (*b"cm/round", round).encode();
			let seed = sp_io::hashing::blake2_256(&(subject.as_slice(), known_since).encode());
			let tree = StorageTree::<Test>::new();
			let drawn =
				selection::draw(&tree, &seed, SLOTS, pallet_pickets::TotalStake::<Test>::get())
					.unwrap();
			let prediction: Vec<_> = selection::group(&drawn)
				.into_iter()
				.map(|(index, slots)| (pallet_pickets::AgentAt::<Test>::get(index).unwrap(), slots))
				.collect();
			assert_ok!(ConsensusMachine::commit_round(
				RuntimeOrigin::signed(OPENER),
				machine,
				h(9)
			));
			run_to_draw();
			let info = Rounds::<Test>::get(round).unwrap();
			let drawn_at = info.draw().unwrap().deadline - TIMEOUT;
			// The output it was drawn from was public at `drawn_at − 1`: nobody, author
			// included, could know it before the bond and the commitment.
			assert!(drawn_at - 1 - LEAD > bonded_at);
			assert_ne!(committee_of(round), prediction, "δ = {delta}: the author's aim missed");
		});
	}
}

#[test]
fn commitments_beyond_max_pending_draws_wait_for_room() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_judge();
		let unitary = create_machine();
		run_to_block(2);
		for i in 0..MAX_PENDING_DRAWS {
			assert_ok!(ConsensusMachine::propose(
				RuntimeOrigin::signed(OPENER + 1 + u64::from(i)),
				machine,
				h(100 + i as u8),
				64
			));
		}
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(OPENER), machine, h(99), 64),
			Error::<Test>::TooManyPendingDraws
		);
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), unitary, h(9)),
			Error::<Test>::TooManyPendingDraws
		);
		// Draws make room, `MaxDrawsPerBlock` per block.
		run_to_draw();
		assert_eq!(NextDraw::<Test>::get(), u64::from(MAX_DRAWS_PER_BLOCK));
		assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), unitary, h(9)));
	});
}
