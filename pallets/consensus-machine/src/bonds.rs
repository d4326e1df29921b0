//! Bonds: agents register, bond, unbond, withdraw and rotate picket keys; bonds are held with
//! `fungible` holds, and the stake tree the draws use follows every change.

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	types::{AgentInfo, AgentStatus},
};
use consensus_machine_primitives::{selection, statement::possession_payload};
use core::marker::PhantomData;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision, DefensiveResult},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

/// The largest stake-tree capacity (`MaxAgents` may not exceed it).
pub(crate) const MAX_TREE_CAPACITY: u32 = 1 << 31;

/// The stake tree in storage ([`StakeNodes`], [`StakeTreeCapacity`]), for [`selection`].
pub(crate) struct StorageTree<T> {
	capacity: u32,
	_config: PhantomData<T>,
}

impl<T: Config> StorageTree<T> {
	/// The tree as stored; call [`Pallet::ensure_tree_capacity`] first to make room for every
	/// index below `MaxAgents`.
	pub(crate) fn new() -> Self {
		Self { capacity: StakeTreeCapacity::<T>::get(), _config: PhantomData }
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
		if value == 0 {
			StakeNodes::<T>::remove(i);
		} else {
			StakeNodes::<T>::insert(i, value);
		}
	}
}

impl<T: Config> Pallet<T> {
	/// A bond's weight in the draw.
	pub(crate) fn stake_weight(bond: BalanceOf<T>) -> u128 {
		bond.unique_saturated_into()
	}

	/// Checks `proof` is `key`'s signature over the possession payload of `who`.
	pub(crate) fn ensure_possession(
		who: &T::AccountId,
		key: &Public,
		proof: &Signature,
	) -> DispatchResult {
		let payload = possession_payload(who, &Self::genesis_hash());
		ensure!(crate::crypto::verify(key, &payload, proof), Error::<T>::BadProofOfPossession);
		Ok(())
	}

	/// Checks that `bond` more stake fits in the draw: [`Self::enter_draw`] then cannot fail.
	pub(crate) fn ensure_stake_fits(bond: BalanceOf<T>) -> Result<u128, Error<T>> {
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
	pub(crate) fn ensure_tree_capacity() -> u32 {
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
		while capacity < wanted {
			capacity = capacity.saturating_mul(2);
			if total > 0 {
				StakeNodes::<T>::insert(capacity, total);
				writes += 1;
			}
		}
		StakeTreeCapacity::<T>::put(capacity);
		writes
	}

	/// Adds `bond` at `index` to the draw; the caller checked [`Self::ensure_stake_fits`]
	/// (no tree node exceeds the total, so none overflows either).
	pub(crate) fn enter_draw(index: u32, bond: BalanceOf<T>) {
		Self::ensure_tree_capacity();
		let weight = Self::stake_weight(bond);
		if !selection::add(&mut StorageTree::<T>::new(), index, weight) {
			frame_support::defensive!("a stake that fits the total fits every tree node");
			return;
		}
		TotalStake::<T>::mutate(|t| *t = t.saturating_add(weight));
		PopulationVersion::<T>::mutate(|v| *v = v.wrapping_add(1));
	}

	/// Removes `bond` at `index` from the draw: an active agent's stake is in the tree.
	pub(crate) fn leave_draw(index: u32, bond: BalanceOf<T>) {
		let weight = Self::stake_weight(bond);
		if !selection::sub(&mut StorageTree::<T>::new(), index, weight) {
			frame_support::defensive!("an active agent's stake is in the tree");
			return;
		}
		TotalStake::<T>::mutate(|t| *t = t.saturating_sub(weight));
		PopulationVersion::<T>::mutate(|v| *v = v.wrapping_add(1));
	}

	/// Registers `who` with `key` and `bond`; the caller has checked the inputs (or they come
	/// from genesis).
	pub(crate) fn do_register(
		who: T::AccountId,
		key: Public,
		bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Agents::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(!KeyOwner::<T>::contains_key(&key), Error::<T>::KeyInUse);
		Self::ensure_stake_fits(bond)?;
		let mut free = FreeIndices::<T>::get();
		let (index, fresh) = match free.pop() {
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
		}
		Self::enter_draw(index, bond);
		FreeIndices::<T>::put(free);
		AgentAt::<T>::insert(index, &who);
		KeyOwner::<T>::insert(&key, &who);
		Agents::<T>::insert(
			&who,
			AgentInfo { key: key.clone(), bond, index, status: AgentStatus::Active },
		);
		Self::deposit_event(Event::AgentRegistered { agent: who, key, bond });
		Ok(())
	}

	pub(crate) fn do_bond_extra(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
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

	pub(crate) fn do_unbond(who: T::AccountId) -> DispatchResult {
		let mut agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		match agent.status {
			AgentStatus::Active => Self::leave_draw(agent.index, agent.bond),
			// Already out of the draw.
			AgentStatus::Banned { .. } | AgentStatus::Suspended => {}
			AgentStatus::Unbonding { .. } => return Err(Error::<T>::AgentNotActive.into()),
		}
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get());
		// Unbonding does not lift a suspension: the offender still signs for nothing.
		let suspended = matches!(agent.status, AgentStatus::Suspended);
		agent.status = AgentStatus::Unbonding { until, suspended };
		Agents::<T>::insert(&who, agent);
		Self::deposit_event(Event::UnbondingStarted { agent: who, until });
		Ok(())
	}

	pub(crate) fn do_withdraw_unbonded(who: T::AccountId) -> DispatchResult {
		let agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let AgentStatus::Unbonding { until, .. } = agent.status else {
			return Err(Error::<T>::NotUnbonding.into());
		};
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();
		ensure!(now >= until, Error::<T>::StillUnbonding);
		ensure!(PendingPenalties::<T>::get(&who) == 0, Error::<T>::PenaltyPending);
		let mut free = FreeIndices::<T>::get();
		// At most `MaxAgents` indices exist, and this one is taken, so it fits.
		free.try_push(agent.index).defensive_map_err(|_| Error::<T>::Corrupt)?;
		let amount = T::Currency::release(
			&HoldReason::Bond.into(),
			&who,
			agent.bond,
			Precision::BestEffort,
		)?;
		FreeIndices::<T>::put(free);
		AgentAt::<T>::remove(agent.index);
		KeyOwner::<T>::remove(&agent.key);
		Agents::<T>::remove(&who);
		Self::deposit_event(Event::BondWithdrawn { agent: who, amount });
		Ok(())
	}

	pub(crate) fn do_rotate_key(
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
