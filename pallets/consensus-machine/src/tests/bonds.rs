//! Agents: registering with a bond and a picket key, bonding more, unbonding, withdrawing,
//! rotating keys; the stake tree's capacity.

use super::*;
use consensus_machine_primitives::selection;

#[test]
fn register_holds_the_bond_and_enters_the_draw() {
	ExtBuilder::default().build_and_execute(|| {
		let total = pallet_pickets::TotalStake::<Test>::get();
		assert_ok!(Pickets::register(RuntimeOrigin::signed(20), key(20), 500, proof(20, 20)));
		assert_eq!(held_bond(20), 500);
		assert_eq!(Balances::balance(&20), 10_000 - 500);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), total + 500);
		assert_eq!(pallet_pickets::KeyOwner::<Test>::get(key(20)), Some(20));
		System::assert_last_event(
			PicketsEvent::AgentRegistered { agent: 20, key: key(20), bond: 500 }.into(),
		);
	});
}

#[test]
fn register_refuses_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let register = |who, signer, bond, pop| {
			Pickets::register(RuntimeOrigin::signed(who), key(signer), bond, pop)
		};
		assert_noop!(register(1, 1, 500, proof(1, 1)), PicketsError::<Test>::AlreadyRegistered);
		assert_noop!(
			register(20, 20, MIN_BOND - 1, proof(20, 20)),
			PicketsError::<Test>::BondTooLow
		);
		assert_noop!(register(20, 1, 500, proof(1, 20)), PicketsError::<Test>::KeyInUse);
		// A proof made by another key, or for another account.
		assert_noop!(
			register(20, 20, 500, proof(21, 20)),
			PicketsError::<Test>::BadProofOfPossession
		);
		assert_noop!(
			register(20, 20, 500, proof(20, 21)),
			PicketsError::<Test>::BadProofOfPossession
		);
		assert_noop!(
			register(20, 20, 20_000, proof(20, 20)),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_noop!(
			Pickets::register(RuntimeOrigin::none(), key(20), 500, proof(20, 20)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn register_refuses_past_max_agents() {
	ExtBuilder::default().agents((1..=32).map(|a| (a, 100)).collect()).build_and_execute(|| {
		assert_noop!(
			Pickets::register(RuntimeOrigin::signed(40), key(40), 500, proof(40, 40)),
			PicketsError::<Test>::TooManyAgents
		);
	});
}

#[test]
fn bond_extra_adds_stake() {
	ExtBuilder::default().build_and_execute(|| {
		let total = pallet_pickets::TotalStake::<Test>::get();
		assert_ok!(Pickets::bond_extra(RuntimeOrigin::signed(1), 250));
		assert_eq!(held_bond(1), 1_250);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), total + 250);
		System::assert_last_event(
			PicketsEvent::BondIncreased { agent: 1, amount: 250, bond: 1_250 }.into(),
		);
		assert_noop!(
			Pickets::bond_extra(RuntimeOrigin::signed(20), 1),
			PicketsError::<Test>::NotRegistered
		);
		assert_noop!(
			Pickets::bond_extra(RuntimeOrigin::signed(1), 0),
			PicketsError::<Test>::ZeroAmount
		);
		assert_noop!(
			Pickets::bond_extra(RuntimeOrigin::signed(1), 1_000_000),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(1)));
		assert_noop!(
			Pickets::bond_extra(RuntimeOrigin::signed(1), 1),
			PicketsError::<Test>::AgentNotActive
		);
	});
}

#[test]
fn unbond_leaves_the_draw_but_keeps_the_bond_held() {
	ExtBuilder::default().build_and_execute(|| {
		let total = pallet_pickets::TotalStake::<Test>::get();
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(1)));
		let until = 1 + UNBONDING_DELAY;
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(1).unwrap().status,
			AgentStatus::Unbonding { until, suspended: false, accountable: 0 }
		);
		assert_eq!(held_bond(1), 1_000);
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), total - 1_000);
		System::assert_last_event(PicketsEvent::UnbondingStarted { agent: 1, until }.into());
		assert_noop!(
			Pickets::unbond(RuntimeOrigin::signed(1)),
			PicketsError::<Test>::AgentNotActive
		);
		assert_noop!(
			Pickets::unbond(RuntimeOrigin::signed(20)),
			PicketsError::<Test>::NotRegistered
		);
	});
}

#[test]
fn withdraw_releases_after_the_delay_and_frees_the_index() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(1)),
			PicketsError::<Test>::NotUnbonding
		);
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(20)),
			PicketsError::<Test>::NotRegistered
		);
		assert_ok!(Pickets::unbond(RuntimeOrigin::signed(1)));
		run_to_block(UNBONDING_DELAY);
		assert_noop!(
			Pickets::withdraw_unbonded(RuntimeOrigin::signed(1)),
			PicketsError::<Test>::StillUnbonding
		);
		run_to_block(1 + UNBONDING_DELAY);
		let index = pallet_pickets::Agents::<Test>::get(1).unwrap().index;
		assert_ok!(Pickets::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(PicketsEvent::BondWithdrawn { agent: 1, amount: 1_000 }.into());
		assert_eq!(held_bond(1), 0);
		assert_eq!(Balances::balance(&1), 10_000);
		assert!(pallet_pickets::Agents::<Test>::get(1).is_none());
		assert!(pallet_pickets::KeyOwner::<Test>::get(key(1)).is_none());
		// The freed index and key can be used again.
		assert_ok!(Pickets::register(RuntimeOrigin::signed(20), key(1), 500, proof(1, 20)));
		assert_eq!(pallet_pickets::Agents::<Test>::get(20).unwrap().index, index);
	});
}

#[test]
fn rotate_key_replaces_the_key() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Pickets::rotate_key(RuntimeOrigin::signed(1), key(20), proof(20, 1)));
		assert_eq!(pallet_pickets::Agents::<Test>::get(1).unwrap().key, key(20));
		assert_eq!(pallet_pickets::KeyOwner::<Test>::get(key(20)), Some(1));
		assert!(pallet_pickets::KeyOwner::<Test>::get(key(1)).is_none());
		System::assert_last_event(
			PicketsEvent::KeyRotated { agent: 1, old: key(1), new: key(20) }.into(),
		);
		assert_noop!(
			Pickets::rotate_key(RuntimeOrigin::signed(1), key(2), proof(2, 1)),
			PicketsError::<Test>::KeyInUse
		);
		assert_noop!(
			Pickets::rotate_key(RuntimeOrigin::signed(1), key(21), proof(22, 1)),
			PicketsError::<Test>::BadProofOfPossession
		);
		assert_noop!(
			Pickets::rotate_key(RuntimeOrigin::signed(30), key(31), proof(31, 30)),
			PicketsError::<Test>::NotRegistered
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
			Pickets::register(RuntimeOrigin::signed(20), key(20), 500, foreign),
			PicketsError::<Test>::BadProofOfPossession
		);
	});
}

#[test]
fn genesis_agents_are_bonded() {
	ExtBuilder::default().build_and_execute(|| {
		for a in 1..=10 {
			assert_eq!(held_bond(a), 1_000);
			assert_eq!(pallet_pickets::Agents::<Test>::get(a).unwrap().status, AgentStatus::Active);
		}
		assert_eq!(pallet_pickets::TotalStake::<Test>::get(), 10_000);
	});
}

/// The attack on draws: the stake tree's levels were laid out for `MaxAgents` indices, so a
/// runtime upgrade raising `MaxAgents` past the tree's capacity left the new top empty and
/// every draw failed (or found the wrong agents). The tree's height is kept in storage and
/// grows a level at a time, so draws stay what the stakes say.
#[test]
fn raising_max_agents_past_the_trees_capacity_keeps_draws_right() {
	// The committee a draw from these stakes (agent `i + 1` at index `i`) gives.
	let expected = |round: RoundId, stakes: &[u128]| {
		let info = Rounds::<Test>::get(round).unwrap();
		let tree = selection::MemoryTree::from_stakes(stakes);
		let drawn =
			selection::draw(&tree, &info.draw().unwrap().seed, SLOTS, stakes.iter().sum()).unwrap();
		selection::group(&drawn)
			.into_iter()
			.map(|(i, n)| (pallet_pickets::AgentAt::<Test>::get(i).unwrap(), n))
			.collect::<Vec<(AccountId, u32)>>()
	};
	let committee =
		|round: RoundId| seats(round).iter().map(|s| (s.agent, s.slots)).collect::<Vec<_>>();
	// The snapshot's height, its top page's first entry and its total.
	let snapshot_top = || {
		use selection::StakeTree;
		let snapshot = pallet_pickets::bonds::SnapshotTree::<Test>::current();
		let height = snapshot.height();
		(height, snapshot.page(height - 1, 0)[0], snapshot.total())
	};
	// The live tree's top page's first entry and its total.
	let live_top = || {
		use selection::StakeTree;
		let live = pallet_pickets::bonds::StorageTree::<Test>::new();
		(live.page(live.height() - 1, 0)[0], selection::total(&live))
	};
	// Sixteen agents fill a tree of height 1.
	let stakes: Vec<u128> = (1..=16).map(|a| 1_000 * (a % 3 + 1)).collect();
	let old_total: u128 = stakes.iter().sum();
	MaxAgents::set(16);
	ExtBuilder::default()
		.agents((1..=16).map(|a| (a, 1_000 * (u128::from(a) % 3 + 1) as Balance)).collect())
		.build_and_execute(|| {
			MaxAgents::set(17);
			assert_eq!(pallet_pickets::StakeTreeHeight::<Test>::get(), 1);
			let machine = create_machine();
			let round = open(machine);
			// The draw raised the tree; the new top page's first entry holds the snapshot's total.
			assert_eq!(pallet_pickets::StakeTreeHeight::<Test>::get(), 2);
			assert_eq!(snapshot_top(), (2, old_total, old_total));
			assert_eq!(Rounds::<Test>::get(round).unwrap().draw().unwrap().total_stake, old_total);
			assert_eq!(committee(round), expected(round, &stakes));
			// Agent 17 joins the taller tree, beyond the old capacity...
			assert_ok!(Pickets::register(RuntimeOrigin::signed(17), key(17), 1_000, proof(17, 17)));
			assert_eq!(pallet_pickets::Agents::<Test>::get(17).unwrap().index, 16);
			// ...the live tree at once (the top page's second entry), the snapshot from the
			// next period on.
			assert_eq!(live_top(), (old_total, old_total + 1_000));
			assert_eq!(snapshot_top(), (2, old_total, old_total));
			// Growing again after stake moved this period: the new top page's snapshot entry
			// is the snapshot's total, the live one the live total.
			MaxAgents::set(257);
			Pickets::ensure_tree_height();
			assert_eq!(live_top(), (old_total + 1_000, old_total + 1_000));
			assert_eq!(snapshot_top(), (3, old_total, old_total));
			let round = open(create_machine());
			assert_eq!(Rounds::<Test>::get(round).unwrap().draw().unwrap().total_stake, old_total);
			assert_eq!(committee(round), expected(round, &stakes));
			run_to_next_snapshot();
			assert_eq!(snapshot_top(), (3, old_total + 1_000, old_total + 1_000));
			let round = open(create_machine());
			let mut all = stakes.clone();
			all.push(1_000);
			assert_eq!(
				Rounds::<Test>::get(round).unwrap().draw().unwrap().total_stake,
				old_total + 1_000
			);
			assert_eq!(committee(round), expected(round, &all));
		});
	MaxAgents::set(32);
}
