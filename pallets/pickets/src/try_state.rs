//! Invariants, checked after every test and by `try-runtime`.

use crate::{
	bonds::StorageTree,
	pallet::*,
	types::{AgentStatus, OffenceKind, PenaltyStatus},
};
use alloc::collections::{BTreeMap, BTreeSet};
use consensus_machine_primitives::{
	pickets::Accountability,
	selection::{self, Page, StakeTree},
};
use frame_support::traits::{fungible::InspectHold, GetStorageVersion};
use sp_runtime::RuntimeAppPublic;
use sp_runtime::{traits::Zero, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// - the storage layout is the one this code reads;
	/// - every agent's held bond equals its recorded bond; its key and index point back at it;
	///   active agents' stakes are in the tree, unbonding ones' are not; the tree's total equals
	///   `TotalStake`;
	/// - an inactive agent's stake left the tree, or waits in `PendingExits` (queued);
	/// - the freed stake-tree indices form a stack of used indices no agent holds;
	/// - every penalty is indexed once, an overt one proven by statements its key signed, and
	///   the pending ones counted per offender;
	/// - forfeited proposal bonds held equal those of pending red-proposal penalties.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		ensure_that(
			Self::on_chain_storage_version() == Self::in_code_storage_version(),
			"the storage version differs from the code's",
		)?;
		let tree = StorageTree::<T>::new();
		let mut active_total = 0u128;
		let mut pending_total = 0u128;
		for (who, agent) in Agents::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::Bond.into(), &who);
			ensure_that(held == agent.bond, "held bond differs from the agent's bond")?;
			ensure_that(KeyOwner::<T>::get(&agent.key) == Some(who.clone()), "key owner")?;
			ensure_that(AgentAt::<T>::get(agent.index) == Some(who.clone()), "agent index")?;
			let in_tree = selection::stake_of(&tree, agent.index);
			let pending = PendingExits::<T>::get(agent.index);
			if let AgentStatus::Unbonding { accountable, .. } = agent.status {
				ensure_that(
					accountable <= T::Machines::next_round(),
					"an unbonding agent accountable for rounds not yet opened",
				)?;
			}
			match agent.status {
				AgentStatus::Active => {
					ensure_that(in_tree == Self::stake_weight(agent.bond), "stake in the tree")?;
					ensure_that(pending.is_none(), "an active agent with a pending exit")?;
					active_total += in_tree;
				}
				AgentStatus::Unbonding { .. }
				| AgentStatus::Banned { .. }
				| AgentStatus::Suspended => {
					// Out of the draw, or on its way out: only its pending exit is left.
					let left = pending.unwrap_or_default();
					ensure_that(in_tree == left, "an inactive agent is still in the draw")?;
					pending_total += left;
				}
			}
		}
		ensure_that(active_total + pending_total == TotalStake::<T>::get(), "TotalStake")?;
		// Every pending exit is an agent's, and queued.
		let (head, tail) = (ExitQueueHead::<T>::get(), ExitQueueTail::<T>::get());
		let queued: BTreeSet<u32> = ExitQueue::<T>::iter()
			.map(|(position, index)| {
				ensure_that(position.wrapping_sub(head) < tail.wrapping_sub(head), "queue bounds")
					.map(|_| index)
			})
			.collect::<Result<_, _>>()?;
		for (index, _) in PendingExits::<T>::iter() {
			ensure_that(AgentAt::<T>::contains_key(index), "a pending exit without an agent")?;
			ensure_that(queued.contains(&index), "a pending exit not queued")?;
		}
		let height = u32::from(StakeTreeHeight::<T>::get());
		ensure_that(height <= selection::MAX_HEIGHT, "a stake tree taller than the tallest")?;
		ensure_that(
			height == 0 || height >= Self::wanted_tree_height(),
			"a stake tree too low for MaxAgents",
		)?;
		ensure_that(selection::total(&tree) == active_total + pending_total, "tree total")?;
		// Every entry above the leaves is the sum of the page below it, live and in the
		// current snapshot; no page lies outside the tree.
		let snapshot = crate::bonds::SnapshotTree::<T>::current();
		for ((level, at), _) in StakePages::<T>::iter() {
			let level = u32::from(level);
			ensure_that(level < height, "a stake page above the tree's top")?;
			let pages = selection::capacity_of(height - level) / selection::FANOUT;
			ensure_that(at < pages, "a stake page beyond its level")?;
			if level == 0 {
				continue;
			}
			for (entry, (live, frozen)) in
				tree.page(level, at).into_iter().zip(snapshot.page(level, at)).enumerate()
			{
				let child = at * selection::FANOUT + entry as u32;
				let sum = |page: Page| page.iter().fold(0u128, |s, v| s.saturating_add(*v));
				ensure_that(live == sum(tree.page(level - 1, child)), "a live sum")?;
				ensure_that(frozen == sum(snapshot.page(level - 1, child)), "a snapshot sum")?;
			}
		}
		ensure_that(
			KeyOwner::<T>::iter().count() == Agents::<T>::iter().count(),
			"a key without an agent",
		)?;
		// The free stack holds positions `0..FreeIndexCount`, each a used index now unheld.
		let free = FreeIndexCount::<T>::get();
		ensure_that(FreeIndexStack::<T>::iter().count() == free as usize, "free stack size")?;
		for (position, index) in FreeIndexStack::<T>::iter() {
			ensure_that(position < free, "a free index above the stack's top")?;
			ensure_that(index < NextIndex::<T>::get(), "a free index never used")?;
			ensure_that(!AgentAt::<T>::contains_key(index), "a free index held by an agent")?;
		}

		let mut pending: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut forfeits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let forgotten = PenaltyPruneCursor::<T>::get();
		ensure_that(forgotten <= PenaltyCursor::<T>::get(), "an unsettled penalty forgotten")?;
		let mut penalties = 0usize;
		for (id, penalty) in Penalties::<T>::iter() {
			penalties += 1;
			ensure_that(id >= forgotten, "a forgotten penalty kept")?;
			let index = (penalty.offender.clone(), penalty.round, penalty.kind);
			ensure_that(OffenceIndex::<T>::get(&index) == Some(id), "offence index")?;
			if penalty.status == PenaltyStatus::Pending {
				*pending.entry(penalty.offender.clone()).or_default() += 1;
				if let (OffenceKind::RedProposal, Some(bond)) = (penalty.kind, penalty.base) {
					*forfeits.entry(penalty.offender.clone()).or_insert_with(Zero::zero) += bond;
				}
			}
			// Every overt offence points at real statements signed by the offender's key.
			if penalty.kind.is_overt() {
				let key = penalty.key.as_ref().ok_or("an overt offence without a key")?;
				ensure_that(!penalty.statements.is_empty(), "an overt offence without proof")?;
				for (statement, signature) in penalty.statements.iter() {
					let signature = crate::crypto::Signature::from(*signature);
					ensure_that(
						key.verify(&statement.signing_payload(), &signature),
						"an offence's statement is not signed by its key",
					)?;
				}
			}
		}
		// Every index entry names a kept penalty (the loop above checks the converse).
		ensure_that(OffenceIndex::<T>::iter().count() == penalties, "offence index")?;
		for (who, count) in PendingPenalties::<T>::iter() {
			ensure_that(count > 0, "a pending-penalty count kept at zero")?;
			ensure_that(pending.get(&who).copied().unwrap_or(0) == count, "pending penalties")?;
		}
		for (who, count) in pending {
			ensure_that(PendingPenalties::<T>::get(&who) == count, "pending penalties")?;
		}
		for (who, forfeit) in forfeits {
			let held = T::Currency::balance_on_hold(&HoldReason::Forfeit.into(), &who);
			ensure_that(held == forfeit, "held forfeits")?;
		}
		Ok(())
	}
}

fn ensure_that(condition: bool, what: &'static str) -> Result<(), TryRuntimeError> {
	if condition {
		Ok(())
	} else {
		Err(what.into())
	}
}
