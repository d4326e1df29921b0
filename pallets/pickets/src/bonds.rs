//! Bonds: agents register, bond, unbond, withdraw and rotate picket keys; bonds are held with
//! `fungible` holds, and the live stake tree follows every change.
//!
//! # Stake snapshots
//!
//! Draws do not read the live tree: they read the snapshot of the current snapshot period
//! (`SnapshotPeriod` blocks), the tree as it stood when the period began ([`SnapshotTree`]).
//! Nothing is copied at the boundary: the first write to a tree node in a period keeps the
//! node's old value tagged with the period ([`FrozenNodes`]), and a snapshot read takes the
//! tagged value when its tag is the current period, else the live one. So a stake change costs
//! one extra read and write per node it touches, and the boundary costs nothing. A draw's slots
//! descend the tree together ([`selection::find_all`]), each node read once: 1,000 slots over
//! 100,000 equal stakes read 6,750 distinct nodes (two storage reads each, the frozen value
//! and the live one) where one slot at a time would read 18,000 (a tree of capacity 2¹⁷),
//! plus two reads per distinct seat (its agent and the agent's record).
//!
//! Additions (registering, bonding more) therefore count only from the next period. Removals
//! count at once where it matters: a drawn index whose agent is no longer active (unbonding,
//! banned, suspended) leaves its seats empty. An empty seat never signs, so it can only cost
//! liveness, and emptying seats is no way to choose a committee: it cannot move any other seat.
//!
//! An index's agent needs no snapshot: an index with stake in the current snapshot belonged,
//! when the period began, to an agent that was active then, and that agent cannot have
//! withdrawn (freeing the index for someone else) within the period, because withdrawing waits
//! `UnbondingDelay`, which exceeds `SnapshotPeriod` (`integrity_test`). So [`AgentAt`] names the
//! snapshot's agent at every index a draw can find.

use crate::weights::WeightInfo;
use crate::{
	crypto::{Public, Signature},
	pallet::*,
	sweep::Sweep,
	types::{AgentInfo, AgentStatus},
};
use consensus_machine_primitives::{
	pickets::Accountability, selection, statement::possession_payload,
};
use core::marker::PhantomData;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating, UniqueSaturatedInto, Zero};

/// The largest stake-tree capacity (`MaxAgents` may not exceed it).
pub const MAX_TREE_CAPACITY: u32 = 1 << 31;

/// The live stake tree in storage ([`StakeNodes`], [`StakeTreeCapacity`]), for [`selection`]:
/// what bonds change. Its first write to a node in a snapshot period keeps the node's old value
/// in [`FrozenNodes`], so the period's snapshot ([`SnapshotTree`]) stays readable.
pub struct StorageTree<T> {
	capacity: u32,
	period: u32,
	_config: PhantomData<T>,
}

impl<T: Config> StorageTree<T> {
	/// The tree as stored; call [`Pallet::ensure_tree_capacity`] first to make room for every
	/// index below `MaxAgents`.
	// It reads storage: no `Default`.
	#[allow(clippy::new_without_default)]
	pub fn new() -> Self {
		Self {
			capacity: StakeTreeCapacity::<T>::get(),
			period: Pallet::<T>::current_period(),
			_config: PhantomData,
		}
	}
}

impl<T: Config> selection::StakeTree for StorageTree<T> {
	fn capacity(&self) -> u32 {
		self.capacity
	}
	fn node(&self, i: u32) -> u128 {
		StakeNodes::<T>::get(i)
	}
	fn set_node(&mut self, i: u32, value: u128) {
		Pallet::<T>::freeze_node(self.period, i);
		if value == 0 {
			StakeNodes::<T>::remove(i);
		} else {
			StakeNodes::<T>::insert(i, value);
		}
	}
}

/// The stake tree as it stood when its snapshot period began: what draws in that period use.
/// Reading a node costs one read more than the live tree's when the node changed during the
/// period. It cannot be written.
pub struct SnapshotTree<T> {
	capacity: u32,
	period: u32,
	_config: PhantomData<T>,
}

impl<T: Config> SnapshotTree<T> {
	/// The current period's snapshot.
	pub fn current() -> Self {
		Self {
			capacity: StakeTreeCapacity::<T>::get(),
			period: Pallet::<T>::current_period(),
			_config: PhantomData,
		}
	}

	/// The snapshot period this tree belongs to.
	pub fn period(&self) -> u32 {
		self.period
	}

	/// The snapshot's total stake: a Fenwick tree of power-of-two capacity keeps it in its
	/// last node.
	pub fn total(&self) -> u128 {
		if self.capacity == 0 {
			return 0;
		}
		selection::StakeTree::node(self, self.capacity)
	}
}

impl<T: Config> selection::StakeTree for SnapshotTree<T> {
	fn capacity(&self) -> u32 {
		self.capacity
	}
	fn node(&self, i: u32) -> u128 {
		match FrozenNodes::<T>::get(i) {
			Some((period, value)) if period == self.period => value,
			_ => StakeNodes::<T>::get(i),
		}
	}
	fn set_node(&mut self, _i: u32, _value: u128) {
		frame_support::defensive!("a stake snapshot is read-only");
	}
}

impl<T: Config> Pallet<T> {
	/// The snapshot period of block `now`: `now / SnapshotPeriod`.
	pub fn period_of(now: BlockNumberFor<T>) -> u32 {
		let period = T::SnapshotPeriod::get().max(One::one());
		(now / period).unique_saturated_into()
	}

	/// The current snapshot period.
	pub fn current_period() -> u32 {
		Self::period_of(frame_system::Pallet::<T>::block_number())
	}

	/// The first block of the current snapshot period: its snapshot is the stake tree as the
	/// block before it left it.
	pub fn current_period_start() -> BlockNumberFor<T> {
		let now = frame_system::Pallet::<T>::block_number();
		let period = T::SnapshotPeriod::get().max(One::one());
		now.saturating_sub(now % period)
	}

	/// Keeps node `i`'s value for snapshot period `period`'s snapshot before its first change in
	/// the period.
	pub fn freeze_node(period: u32, i: u32) {
		if FrozenNodes::<T>::get(i).map(|(e, _)| e) != Some(period) {
			FrozenNodes::<T>::insert(i, (period, StakeNodes::<T>::get(i)));
		}
	}

	/// A bond's weight in the draw.
	pub fn stake_weight(bond: BalanceOf<T>) -> u128 {
		bond.unique_saturated_into()
	}

	/// Checks `proof` is `key`'s signature over the possession payload of `who`.
	pub fn ensure_possession(
		who: &T::AccountId,
		key: &Public,
		proof: &Signature,
	) -> DispatchResult {
		let payload = possession_payload(who, &Self::genesis_hash());
		ensure!(
			sp_runtime::RuntimeAppPublic::verify(key, &payload, proof),
			Error::<T>::BadProofOfPossession
		);
		Ok(())
	}

	/// Checks that `bond` more stake fits in the draw: [`Self::enter_draw`] then cannot fail.
	pub fn ensure_stake_fits(bond: BalanceOf<T>) -> Result<u128, Error<T>> {
		TotalStake::<T>::get()
			.checked_add(Self::stake_weight(bond))
			.ok_or(Error::<T>::StakeOverflow)
	}

	/// The stake tree's capacity: the smallest power of two that holds `MaxAgents` indices.
	fn wanted_tree_capacity() -> u32 {
		T::MaxAgents::get().checked_next_power_of_two().unwrap_or(MAX_TREE_CAPACITY)
	}

	/// Grows the stake tree to hold every index below `MaxAgents` (after a runtime upgrade
	/// raised it), by doubling its power-of-two capacity. Doubling a Fenwick tree of capacity
	/// `c` whose agents all lie below `c` adds one non-empty node: node `2c`, which covers
	/// every index, holds the total stake; the nodes between cover only empty indices. So a
	/// doubling is one write, and draws stay what the stakes say. Returns the writes made.
	pub fn ensure_tree_capacity() -> u32 {
		let wanted = Self::wanted_tree_capacity();
		let mut capacity = StakeTreeCapacity::<T>::get();
		if capacity >= wanted {
			return 0;
		}
		let mut writes = 1;
		if capacity == 0 {
			// No stake ever entered the tree.
			StakeTreeCapacity::<T>::put(wanted);
			return writes;
		}
		let total = TotalStake::<T>::get();
		// The snapshot's new top node holds the snapshot's total, as the live one the live
		// total.
		let snapshot = SnapshotTree::<T>::current();
		let (period, frozen_total) = (snapshot.period(), snapshot.total());
		while capacity < wanted {
			capacity = capacity.saturating_mul(2);
			if total > 0 || frozen_total > 0 {
				StakeNodes::<T>::insert(capacity, total);
				FrozenNodes::<T>::insert(capacity, (period, frozen_total));
				writes += 2;
			}
		}
		StakeTreeCapacity::<T>::put(capacity);
		writes
	}

	/// Adds `bond` at `index` to the draw; the caller checked [`Self::ensure_stake_fits`]
	/// (no tree node exceeds the total, so none overflows either).
	pub fn enter_draw(index: u32, bond: BalanceOf<T>) {
		Self::ensure_tree_capacity();
		let weight = Self::stake_weight(bond);
		if !selection::add(&mut StorageTree::<T>::new(), index, weight) {
			frame_support::defensive!("a stake that fits the total fits every tree node");
			return;
		}
		TotalStake::<T>::mutate(|t| *t = t.saturating_add(weight));
	}

	/// Removes `bond` at `index` from the draw: an active agent's stake is in the tree.
	pub fn leave_draw(index: u32, bond: BalanceOf<T>) {
		Self::take_out_of_tree(index, Self::stake_weight(bond));
	}

	fn take_out_of_tree(index: u32, weight: u128) {
		if !selection::sub(&mut StorageTree::<T>::new(), index, weight) {
			frame_support::defensive!("an active agent's stake is in the tree");
			return;
		}
		TotalStake::<T>::mutate(|t| *t = t.saturating_sub(weight));
	}

	/// Removes `bond` at `index` from the draw later, in `on_initialize` ([`PendingExits`]):
	/// for an agent no longer active (so no draw seats it meanwhile), by a call that may do
	/// this to a whole committee. Two writes, not a tree update.
	pub fn leave_draw_later(index: u32, bond: BalanceOf<T>) {
		let weight = Self::stake_weight(bond);
		let queued = PendingExits::<T>::contains_key(index);
		PendingExits::<T>::mutate(index, |stake| {
			*stake = Some(stake.unwrap_or_default().saturating_add(weight))
		});
		if !queued {
			let tail = ExitQueueTail::<T>::get();
			ExitQueue::<T>::insert(tail, index);
			ExitQueueTail::<T>::put(tail.wrapping_add(1));
		}
	}

	/// Takes the pending exit at `index` out of the tree now, if there is one: before the
	/// agent rejoins or unbonds (which starts the delay after which its index is freed).
	pub fn settle_exit(index: u32) {
		if let Some(weight) = PendingExits::<T>::take(index) {
			Self::take_out_of_tree(index, weight);
		}
	}

	/// Settles the oldest pending exits, at most `MaxExitsPerBlock` (from `on_initialize`).
	/// Returns the weight used.
	pub fn settle_pending_exits() -> Weight {
		Self::settle_exits_within(T::MaxExitsPerBlock::get(), Weight::MAX)
	}

	/// Settles the oldest pending exits, at most `limit` and within `remaining` weight (from
	/// `on_idle` too, so that a mass ban drains faster when blocks have room). Returns the
	/// weight used.
	pub fn settle_exits_within(limit: u32, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		// The head's write is kept free for the end.
		let Some(mut sweep) = Sweep::within(remaining, db.reads(2), db.writes(1), limit) else {
			return Weight::zero();
		};
		let (mut head, tail) = (ExitQueueHead::<T>::get(), ExitQueueTail::<T>::get());
		let per_exit = T::WeightInfo::settle_exit();
		while head != tail && sweep.room_for(per_exit) {
			if let Some(index) = ExitQueue::<T>::take(head) {
				Self::settle_exit(index);
			}
			head = head.wrapping_add(1);
			sweep.count();
			sweep.charge(per_exit);
		}
		if sweep.counted() > 0 {
			ExitQueueHead::<T>::put(head);
			sweep.charge(db.writes(1));
		}
		sweep.used()
	}

	/// Registers `who` with `key` and `bond`; the caller has checked the inputs (or they come
	/// from genesis).
	pub fn do_register(who: T::AccountId, key: Public, bond: BalanceOf<T>) -> DispatchResult {
		ensure!(!Agents::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(!KeyOwner::<T>::contains_key(&key), Error::<T>::KeyInUse);
		Self::ensure_stake_fits(bond)?;
		let free = FreeIndexCount::<T>::get();
		let top = free.checked_sub(1).and_then(FreeIndexStack::<T>::get);
		let (index, fresh) = match top {
			Some(index) => (index, false),
			None => {
				let next = NextIndex::<T>::get();
				ensure!(next < T::MaxAgents::get(), Error::<T>::TooManyAgents);
				(next, true)
			}
		};
		T::Currency::hold(&HoldReason::Bond.into(), &who, bond)?;
		if fresh {
			NextIndex::<T>::put(index.saturating_add(1));
		} else {
			let position = free.saturating_sub(1);
			FreeIndexStack::<T>::remove(position);
			FreeIndexCount::<T>::put(position);
		}
		Self::enter_draw(index, bond);
		AgentAt::<T>::insert(index, &who);
		KeyOwner::<T>::insert(&key, &who);
		Agents::<T>::insert(
			&who,
			AgentInfo { key: key.clone(), bond, index, status: AgentStatus::Active },
		);
		Self::deposit_event(Event::AgentRegistered { agent: who, key, bond });
		Ok(())
	}

	pub fn do_bond_extra(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let mut agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		ensure!(agent.status == AgentStatus::Active, Error::<T>::AgentNotActive);
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		Self::ensure_stake_fits(amount)?;
		T::Currency::hold(&HoldReason::Bond.into(), &who, amount)?;
		Self::enter_draw(agent.index, amount);
		agent.bond = agent.bond.saturating_add(amount);
		let bond = agent.bond;
		Agents::<T>::insert(&who, agent);
		Self::deposit_event(Event::BondIncreased { agent: who, amount, bond });
		Ok(())
	}

	pub fn do_unbond(who: T::AccountId) -> DispatchResult {
		let mut agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		match agent.status {
			AgentStatus::Active => Self::leave_draw(agent.index, agent.bond),
			// Out of the draw; its stake leaves the tree now if it has not yet, so that the
			// unbonding delay runs from a tree without it: a snapshot taken after this never
			// holds its stake when its index is freed and reused.
			AgentStatus::Banned { .. } | AgentStatus::Suspended => Self::settle_exit(agent.index),
			AgentStatus::Unbonding { .. } => return Err(Error::<T>::AgentNotActive.into()),
		}
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get());
		// Unbonding does not lift a suspension: the offender still signs for nothing.
		let suspended = matches!(agent.status, AgentStatus::Suspended);
		let accountable = T::Machines::next_round();
		agent.status = AgentStatus::Unbonding { until, suspended, accountable };
		Agents::<T>::insert(&who, agent);
		Self::deposit_event(Event::UnbondingStarted { agent: who, until });
		Ok(())
	}

	pub fn do_withdraw_unbonded(who: T::AccountId) -> DispatchResult {
		let agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let AgentStatus::Unbonding { until, accountable, .. } = agent.status else {
			return Err(Error::<T>::NotUnbonding.into());
		};
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();
		ensure!(now >= until, Error::<T>::StillUnbonding);
		ensure!(PendingPenalties::<T>::get(&who) == 0, Error::<T>::PenaltyPending);
		// An offence in a round it may have sat in can still be reported: the bond answers.
		ensure!(T::Machines::reports_closed_below() >= accountable, Error::<T>::StillAccountable);
		let amount = T::Currency::release(
			&HoldReason::Bond.into(),
			&who,
			agent.bond,
			Precision::BestEffort,
		)?;
		// At most `MaxAgents` indices exist and this one is taken: the stack stays below that.
		let free = FreeIndexCount::<T>::get();
		FreeIndexStack::<T>::insert(free, agent.index);
		FreeIndexCount::<T>::put(free.saturating_add(1));
		AgentAt::<T>::remove(agent.index);
		KeyOwner::<T>::remove(&agent.key);
		Agents::<T>::remove(&who);
		Self::deposit_event(Event::BondWithdrawn { agent: who, amount });
		Ok(())
	}

	pub fn do_rotate_key(
		who: T::AccountId,
		mut agent: AgentInfoOf<T>,
		key: Public,
	) -> DispatchResult {
		let old = core::mem::replace(&mut agent.key, key.clone());
		KeyOwner::<T>::remove(&old);
		KeyOwner::<T>::insert(&key, &who);
		Agents::<T>::insert(&who, agent);
		Self::deposit_event(Event::KeyRotated { agent: who, old, new: key });
		Ok(())
	}
}
