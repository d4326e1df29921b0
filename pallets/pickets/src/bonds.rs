//! Bonds: agents register, bond, unbond, withdraw and rotate picket keys; bonds are held with
//! `fungible` holds, and the live stake tree follows every change.
//!
//! # Stake snapshots
//!
//! Draws do not read the live tree: they read the snapshot of the current snapshot period
//! (`SnapshotPeriod` blocks), the tree as it stood when the period began ([`SnapshotTree`]).
//! Nothing is copied at the boundary: each page of the paged stake tree ([`selection`],
//! [`StakePages`]) is one storage value holding its live sums and, beside them, the sums it had
//! when the period of its last write began ([`StakePage`]). The first write to a page in a
//! period keeps the old sums; a snapshot read takes them when the page's period is the current
//! one, else the live sums. So a stake change reads and writes one value per level (5 for up
//! to 1,048,576 agents) and the boundary costs nothing. A draw's slots descend the tree
//! together ([`selection::find_all`]), each page read once: 1,000 slots over 100,000 equal
//! stakes read about 1,300 pages, plus two reads per distinct seat (its agent and the agent's
//! record).
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
	types::{AgentInfo, AgentStatus, StakePage},
};
use consensus_machine_primitives::{
	pickets::Accountability,
	selection::{self, Page},
	statement::possession_payload,
};
use core::marker::PhantomData;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating, UniqueSaturatedInto, Zero};

/// The live stake tree in storage ([`StakePages`], [`StakeTreeHeight`]), for [`selection`]:
/// what bonds change. Its first write to a page in a snapshot period keeps the page's old sums
/// beside the new ones, so the period's snapshot ([`SnapshotTree`]) stays readable.
pub struct StorageTree<T> {
	height: u32,
	period: u32,
	_config: PhantomData<T>,
}

impl<T: Config> StorageTree<T> {
	/// The tree as stored; call [`Pallet::ensure_tree_height`] first to make room for every
	/// index below `MaxAgents`.
	// It reads storage: no `Default`.
	#[allow(clippy::new_without_default)]
	pub fn new() -> Self {
		Self {
			height: StakeTreeHeight::<T>::get().into(),
			period: Pallet::<T>::current_period(),
			_config: PhantomData,
		}
	}
}

/// The storage key of page `index` of level `level` (levels stay below `MAX_HEIGHT`).
fn page_key(level: u32, index: u32) -> (u8, u32) {
	(level.min(selection::MAX_HEIGHT) as u8, index)
}

impl<T: Config> selection::StakeTree for StorageTree<T> {
	fn height(&self) -> u32 {
		self.height
	}
	fn page(&self, level: u32, index: u32) -> Page {
		StakePages::<T>::get(page_key(level, index)).map(|p| p.live).unwrap_or_default()
	}
	fn set_page(&mut self, level: u32, index: u32, page: Page) {
		let key = page_key(level, index);
		let mut stored = StakePages::<T>::get(key).unwrap_or_default();
		stored.write(self.period, page);
		if stored.is_empty() {
			StakePages::<T>::remove(key);
		} else {
			StakePages::<T>::insert(key, stored);
		}
	}
}

/// The stake tree as it stood when its snapshot period began: what draws in that period use.
/// Reading a page costs what reading the live tree's does. It cannot be written.
pub struct SnapshotTree<T> {
	height: u32,
	period: u32,
	_config: PhantomData<T>,
}

impl<T: Config> SnapshotTree<T> {
	/// The current period's snapshot.
	pub fn current() -> Self {
		Self {
			height: StakeTreeHeight::<T>::get().into(),
			period: Pallet::<T>::current_period(),
			_config: PhantomData,
		}
	}

	/// The snapshot period this tree belongs to.
	pub fn period(&self) -> u32 {
		self.period
	}

	/// The snapshot's total stake: the sum of its top page.
	pub fn total(&self) -> u128 {
		selection::total(self)
	}
}

impl<T: Config> selection::StakeTree for SnapshotTree<T> {
	fn height(&self) -> u32 {
		self.height
	}
	fn page(&self, level: u32, index: u32) -> Page {
		StakePages::<T>::get(page_key(level, index))
			.map(|p| p.snapshot(self.period))
			.unwrap_or_default()
	}
	fn set_page(&mut self, _level: u32, _index: u32, _page: Page) {
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

	/// The stake tree's height: the lowest whose capacity holds `MaxAgents` indices.
	pub fn wanted_tree_height() -> u32 {
		selection::height_for(T::MaxAgents::get())
	}

	/// Grows the stake tree to hold every index below `MaxAgents` (after a runtime upgrade
	/// raised it), one level at a time: the new top page's first entry covers the whole old
	/// tree, live and snapshot alike, so a level is one write and draws stay what the stakes
	/// say. Returns the writes made.
	pub fn ensure_tree_height() -> u32 {
		let wanted = Self::wanted_tree_height();
		let mut height: u32 = StakeTreeHeight::<T>::get().into();
		if height >= wanted {
			return 0;
		}
		let mut writes = 1;
		let (live, snapshot) = (StorageTree::<T>::new(), SnapshotTree::<T>::current());
		let (total, frozen_total) = (selection::total(&live), snapshot.total());
		// A tree of height 0 holds no stake: its taller self starts empty.
		if height > 0 && (total > 0 || frozen_total > 0) {
			while height < wanted {
				let top = StakePage {
					live: selection::grown_top(total),
					frozen: selection::grown_top(frozen_total),
					period: snapshot.period(),
				};
				StakePages::<T>::insert(page_key(height, 0), top);
				height += 1;
				writes += 1;
			}
		}
		StakeTreeHeight::<T>::put(wanted.min(selection::MAX_HEIGHT) as u8);
		writes
	}

	/// Sets the whole stake tree, live and snapshot alike, to `population` equal stakes at
	/// indices `0..population` (a worst case for benchmarks), writing its pages directly
	/// rather than adding stakes one by one. Names no agents and leaves `TotalStake` alone.
	pub fn set_equal_stakes(population: u32, stake: u128) {
		let _ = StakePages::<T>::clear(u32::MAX, None);
		let height = Self::wanted_tree_height();
		StakeTreeHeight::<T>::put(height as u8);
		let period = Self::current_period();
		for level in 0..height {
			// Each entry of a level-`level` page covers `16^level` indices.
			let span = selection::capacity_of(level).max(1);
			let per_page = span.saturating_mul(selection::FANOUT);
			for at in 0..population.div_ceil(per_page) {
				let mut page = Page::default();
				for (entry, sum) in page.iter_mut().enumerate() {
					let first = at * per_page + entry as u32 * span;
					let covered = population.saturating_sub(first).min(span);
					*sum = stake.saturating_mul(covered.into());
				}
				let stored = StakePage { live: page, frozen: page, period };
				StakePages::<T>::insert(page_key(level, at), stored);
			}
		}
	}

	/// Adds `bond` at `index` to the draw; the caller checked [`Self::ensure_stake_fits`]
	/// (no tree node exceeds the total, so none overflows either).
	pub fn enter_draw(index: u32, bond: BalanceOf<T>) {
		Self::ensure_tree_height();
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
