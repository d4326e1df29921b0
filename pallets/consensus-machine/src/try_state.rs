//! Invariants, checked after every test and by `try-runtime`.

use crate::{pallet::*, types::RoundKind};
use alloc::collections::{BTreeMap, BTreeSet};
use consensus_machine_primitives::{
	membership,
	statement::{Hash, RoundId},
};
use frame_support::traits::{fungible::InspectHold, GetStorageVersion};
use sp_runtime::{traits::Zero, TryRuntimeError};

impl<T: Config> Pallet<T> {
	/// - the storage layout is the one this code reads;
	/// - round deposits and proposal bonds held equal those of rounds not yet settled;
	/// - commitments are drawn in order;
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
		let cursor = CommitteeRootCursor::<T>::get();
		for (id, record) in CommitteeRoots::<T>::iter() {
			ensure_that(id >= cursor, "a root kept below the expiry cursor")?;
			ensure_that(
				record.expires.is_some() != Rounds::<T>::contains_key(id),
				"a root's expiry disagrees with its round being pruned",
			)?;
		}
		ensure_that(
			NextDraw::<T>::get() <= NextRoundId::<T>::get(),
			"a draw ahead of commitments",
		)?;
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
		for (id, _, _) in CommitteeChunks::<T>::iter() {
			ensure_that(Rounds::<T>::contains_key(id), "the seats of a pruned round")?;
		}
		for (id, round) in Rounds::<T>::iter() {
			if !round.deposit.is_zero() {
				let bond = Self::deposit_reason(&round.kind) == HoldReason::ProposalBond;
				let key = (round.opener.clone(), bond);
				*deposits.entry(key).or_insert_with(Zero::zero) += round.deposit;
			}
			let committee = Self::committee(id);
			// The chunks hold exactly the committee (full ones, then the rest), or nothing once
			// a page of pruning cleared the round.
			let size = Self::committee_size(id);
			ensure_that(
				committee.is_empty() || committee.len() == size as usize,
				"a committee shorter than its size",
			)?;
			for (chunk, seats) in CommitteeChunks::<T>::iter_prefix(id) {
				let first = chunk.saturating_mul(SEATS_PER_CHUNK);
				let expected = size.saturating_sub(first).min(SEATS_PER_CHUNK);
				ensure_that(expected > 0, "a chunk beyond the committee's size")?;
				ensure_that(seats.len() == expected as usize, "a chunk not full")?;
			}
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
