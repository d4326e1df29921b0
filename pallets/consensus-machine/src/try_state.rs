//! Invariants, checked after every test and by `try-runtime`.

use crate::{
	pallet::*,
	registry::bonds::StorageTree,
	types::{AgentStatus, OffenceKind, PenaltyStatus, RoundKind},
};
use alloc::collections::{BTreeMap, BTreeSet};
use consensus_machine_primitives::{
	membership, selection,
	statement::{Hash, RoundId},
};
use frame_support::traits::{fungible::InspectHold, GetStorageVersion};
use sp_runtime::RuntimeAppPublic;
use sp_runtime::{traits::Zero, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// - every agent's held bond equals its recorded bond; its key and index point back at it;
	///   active agents' stakes are in the tree, unbonding ones' are not; the tree's total equals
	///   `TotalStake`;
	/// - the storage layout is the one this code reads;
	/// - round deposits and proposal bonds held equal those of rounds not yet settled (and of
	///   forfeited proposal bonds whose penalty is pending);
	/// - an inactive agent's stake left the tree, or waits in `PendingExits` (queued);
	/// - the freed stake-tree indices form a stack of used indices no agent holds;
	/// - every committee's seats hold exactly the round's slots, each agent once, and its
	///   committee root commits to them; a pruned round's root has an expiry, and none is kept
	///   below the expiry cursor;
	/// - a round with a certificate is decided, and a decided round has a certificate or is red;
	/// - the tallies equal the stored statements.
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
					accountable <= NextRoundId::<T>::get(),
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
		let cursor = CommitteeRootCursor::<T>::get();
		for (id, record) in CommitteeRoots::<T>::iter() {
			ensure_that(id >= cursor, "a root kept below the expiry cursor")?;
			ensure_that(
				record.expires.is_some() != Rounds::<T>::contains_key(id),
				"a root's expiry disagrees with its round being pruned",
			)?;
		}
		let capacity = StakeTreeCapacity::<T>::get();
		ensure_that(capacity.is_power_of_two() || capacity == 0, "a power-of-two tree")?;
		let last = capacity.saturating_sub(1);
		ensure_that(selection::prefix(&tree, last) == active_total + pending_total, "tree total")?;
		// The current snapshot is a consistent tree too: its nodes sum to its total.
		let snapshot = crate::registry::bonds::SnapshotTree::<T>::current();
		ensure_that(selection::prefix(&snapshot, last) == snapshot.total(), "snapshot total")?;
		ensure_that(
			NextDraw::<T>::get() <= NextRoundId::<T>::get(),
			"a draw ahead of commitments",
		)?;
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

		// By (opener, whether it is a proposal bond).
		let mut deposits: BTreeMap<(T::AccountId, bool), BalanceOf<T>> = BTreeMap::new();
		// Levels of families pruned in pages whose seats, statements and tallies are gone.
		let mut cleared: BTreeSet<RoundId> = BTreeSet::new();
		for (root_id, count) in FamiliesBeingPruned::<T>::iter() {
			let root = Rounds::<T>::get(root_id).ok_or("a family being pruned without a root")?;
			let RoundKind::Primary { levels, .. } = &root.kind else {
				return Err("a round being pruned in pages is no family's root".into());
			};
			ensure_that(
				count > 0 && usize::from(count) <= levels.len(),
				"a family's pruned levels",
			)?;
			ensure_that(root.is_closed(), "a family being pruned is settled")?;
			cleared.extend(levels.iter().rev().take(usize::from(count)).copied());
		}
		// Each account's share of the draw queue, counted from the undrawn rounds themselves.
		let mut queued: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (id, _, _) in CommitteeSeats::<T>::iter() {
			ensure_that(Rounds::<T>::contains_key(id), "the seats of a pruned round")?;
		}
		for (id, round) in Rounds::<T>::iter() {
			if !round.deposit.is_zero() {
				let bond = Self::deposit_reason(&round.kind) == HoldReason::ProposalBond;
				let key = (round.opener.clone(), bond);
				*deposits.entry(key).or_insert_with(Zero::zero) += round.deposit;
			}
			let committee = Self::committee(id);
			let stored = CommitteeSeats::<T>::iter_prefix(id).count();
			ensure_that(stored == committee.len(), "seats outside the committee's size")?;
			// Rounds are drawn in commitment order: those from `NextDraw` on wait, with an
			// empty committee, no root and no decision.
			ensure_that(round.is_drawn() == (id < NextDraw::<T>::get()), "drawn out of order")?;
			let Some(draw) = round.draw() else {
				if !matches!(round.kind, RoundKind::Backup { .. }) {
					*queued.entry(round.opener.clone()).or_default() += 1;
				}
				ensure_that(committee.is_empty(), "an undrawn round with a committee")?;
				ensure_that(!CommitteeRoots::<T>::contains_key(id), "an undrawn round's root")?;
				continue;
			};
			if cleared.contains(&id) {
				ensure_that(committee.is_empty(), "a cleared level keeps seats")?;
				ensure_that(round.is_closed(), "a cleared level is closed")?;
				continue;
			}
			// Seats whose agent left after the snapshot stay empty: at most `N` slots.
			let slots: u32 = committee.iter().map(|s| s.slots).sum();
			ensure_that(slots <= round.slots, "committee slots above the round's")?;
			let agents: BTreeSet<_> = committee.iter().map(|s| s.agent.clone()).collect();
			ensure_that(agents.len() == committee.len(), "an agent holds two seats")?;
			// Its committee root is kept, live, and commits to this committee and instance
			// (recomputed here, not read back from what `start_round` wrote).
			let record = CommitteeRoots::<T>::get(id).ok_or("a live round without a root")?;
			ensure_that(record.expires.is_none(), "a live round's root has an expiry")?;
			ensure_that(record.instance == draw.instance, "the root's instance")?;
			ensure_that(record.seats == committee.len() as u32, "the root's seat count")?;
			ensure_that(
				record.root == membership::committee_root(&committee),
				"the root does not commit to the committee",
			)?;
			let certificate = Certificates::<T>::get(id);
			// Decided by a certificate, by a verified red alone (validity rounds), or (the root
			// of a hierarchical round) by a certificate of one of its levels.
			ensure_that(certificate.is_none() || round.decided().is_some(), "certified ⇒ decided")?;
			let family_certified = match &round.kind {
				RoundKind::Primary { levels, value: Some(_) } => {
					levels.iter().filter(|r| Certificates::<T>::contains_key(**r)).count() == 1
				}
				_ => false,
			};
			ensure_that(
				round.decided().is_none()
					|| certificate.is_some()
					|| family_certified
					|| round.light() == Some(consensus_machine_primitives::light::Light::Red),
				"decided ⇒ certified or red",
			)?;
			if let Some(c) = certificate {
				ensure_that(c.slots >= round.threshold, "certificate below threshold")?;
			}
			let mut tallies: BTreeMap<Hash, u32> = BTreeMap::new();
			for (seat, (body, _)) in Statements::<T>::iter_prefix(id) {
				let seat = committee.get(seat as usize).ok_or("a vote from no seat")?;
				if let Some(key) = body.tally_key() {
					*tallies.entry(key).or_default() += seat.slots;
				}
			}
			let stored: BTreeMap<Hash, u32> = Tallies::<T>::iter_prefix(id).collect();
			ensure_that(tallies == stored, "tallies differ from the stored statements")?;
		}
		let shares: BTreeMap<T::AccountId, u32> = PendingDrawsOf::<T>::iter().collect();
		ensure_that(shares == queued, "an account's share of the draw queue")?;
		let mut pending: BTreeMap<T::AccountId, u32> = BTreeMap::new();
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
					let key = (penalty.offender.clone(), true);
					*deposits.entry(key).or_insert_with(Zero::zero) += bond;
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
		for ((who, bond), deposit) in deposits {
			let reason = if bond { HoldReason::ProposalBond } else { HoldReason::RoundDeposit };
			let held = T::Currency::balance_on_hold(&reason.into(), &who);
			ensure_that(held == deposit, "held round deposits and proposal bonds")?;
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
