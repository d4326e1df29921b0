//! Settling and pruning rounds of every kind: `on_idle` removes rounds whose retention has
//! passed, oldest first, within the block's spare weight and `MaxPrunePerBlock`; anyone may
//! prune a due round at once ([`Call::prune_round`]). A round nobody closed is closed first
//! (misses counted, deposit released). A hierarchical round is settled and pruned as a family,
//! from its root: every level that is still open is closed (the current level's silent seats
//! get their misses if the family is undecided), the family's deposit goes back, and every
//! level's storage goes with the root. Settling cannot fail half-way: each step is infallible.

use crate::{
	pallet::*,
	types::{RoundInfo, RoundKind},
	weights::WeightInfo,
};
use consensus_machine_primitives::statement::RoundId;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Prunes rounds whose retention has passed, oldest first, within `remaining` weight and
	/// `MaxPrunePerBlock` rounds (a family counts as its levels).
	pub(crate) fn prune_rounds(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let mut used = db.reads_writes(2, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let (mut cursor, end) = (PruneCursor::<T>::get(), NextRoundId::<T>::get());
		let mut pruned = 0u32;
		while cursor < end && pruned < T::MaxPrunePerBlock::get() {
			if let Some(round) = Rounds::<T>::get(cursor) {
				if !Self::is_due_for_pruning(cursor, &round, now) {
					break;
				}
				// What its family's committees cost to settle and remove, each level charged
				// as a round of its size; a family that does not fit waits for a block with
				// room.
				let cost = Self::prune_weight(cursor, &round);
				if remaining.any_lt(used.saturating_add(cost)) {
					break;
				}
				Self::do_prune(cursor, round);
				used = used.saturating_add(cost);
				pruned += 1;
			} else {
				used = used.saturating_add(db.reads(1));
			}
			cursor += 1;
		}
		PruneCursor::<T>::put(cursor);
		used
	}

	/// Drops committee roots whose report window has passed, oldest first, within `remaining`
	/// weight and `MaxPrunePerBlock` roots (from `on_initialize`, so full blocks cannot make
	/// them pile up). Stops at the first root still live or in its
	/// window: rounds are pruned roughly in id order, so later roots expire later.
	pub(crate) fn expire_committee_roots(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let per_root = db.reads_writes(1, 1);
		let mut used = db.reads_writes(2, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let (mut cursor, end) = (CommitteeRootCursor::<T>::get(), PruneCursor::<T>::get());
		let mut dropped = 0u32;
		while cursor < end
			&& dropped < T::MaxPrunePerBlock::get()
			&& remaining.all_gte(used.saturating_add(per_root))
		{
			used = used.saturating_add(per_root);
			match CommitteeRoots::<T>::get(cursor) {
				Some(record) if record.expires.is_some_and(|last| now > last) => {
					CommitteeRoots::<T>::remove(cursor);
					dropped += 1;
				}
				Some(_) => break,
				None => {}
			}
			cursor += 1;
		}
		CommitteeRootCursor::<T>::put(cursor);
		used
	}

	/// The weight of pruning `round` (with its family): each level as a round of its own
	/// committee's size. Reads the family's root and levels.
	pub(crate) fn prune_weight(round_id: RoundId, round: &RoundInfoOf<T>) -> Weight {
		let levels = match Self::family_root(round_id, round) {
			Ok((_, RoundInfo { kind: RoundKind::Primary { levels, .. }, .. })) => {
				levels.into_inner()
			}
			_ => alloc::vec![round_id],
		};
		let reads = T::DbWeight::get().reads(2);
		levels.into_iter().fold(reads, |total, level| {
			total.saturating_add(T::WeightInfo::prune_round(Self::committee_size(level)))
		})
	}

	/// Whether `round`'s retention has passed at `now`.
	pub(crate) fn is_due_for_pruning(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
		now: BlockNumberFor<T>,
	) -> bool {
		now > Self::round_end(round_id, round).saturating_add(T::RoundRetention::get())
	}

	/// When a round stopped taking statements. A level of a hierarchical round lives as long as
	/// its family: until the decision, or the deadline of the family's current level.
	fn round_end(round_id: RoundId, round: &RoundInfoOf<T>) -> BlockNumberFor<T> {
		let Ok((_, root)) = Self::family_root(round_id, round) else {
			return round.decided.unwrap_or(round.deadline);
		};
		if let Some(at) = root.decided {
			return at;
		}
		let RoundKind::Primary { levels, .. } = &root.kind else { return round.deadline };
		levels
			.last()
			.and_then(|current| Rounds::<T>::get(*current))
			.map(|current| current.deadline)
			.unwrap_or(round.deadline)
	}

	/// Settles and removes a due round; for a level of a hierarchical round, its whole family.
	pub(crate) fn do_prune(round_id: RoundId, round: RoundInfoOf<T>) {
		match round.kind {
			RoundKind::Primary { ref levels, .. } => {
				let levels = levels.clone().into_inner();
				Self::settle_family(round_id, round);
				for level in levels {
					Self::remove_round(level);
				}
				Self::remove_round(round_id);
			}
			RoundKind::Backup { root, .. } => match Rounds::<T>::get(root) {
				Some(info) => Self::do_prune(root, info),
				// Its family was pruned without it: only a bug leaves a level behind.
				None => {
					frame_support::defensive!("a family's levels are pruned with its root");
					Self::remove_round(round_id);
				}
			},
			RoundKind::Transition { .. } | RoundKind::Validity { .. } => {
				if !round.closed {
					// Past retention, so past the deadline and any challenge window: closing
					// succeeds.
					if let Err(e) = Self::do_close_round(round_id, round.clone()) {
						log::error!(target: crate::LOG_TARGET, "closing round {round_id}: {e:?}");
						frame_support::defensive!("a due round closes");
					}
				}
				Self::remove_round(round_id);
			}
		}
	}

	/// Closes what is still open of a family, before its storage goes: each open level is
	/// closed (its silent seats missed their duty if the family is undecided: the current
	/// level, or a level nobody handed over), and the family's deposit goes back to its
	/// opener.
	fn settle_family(root_id: RoundId, mut root: RoundInfoOf<T>) {
		let RoundKind::Primary { levels, value } = &root.kind else { return };
		let (levels, undecided) = (levels.clone(), value.is_none());
		for level in levels {
			let info = if level == root_id { Some(root.clone()) } else { Rounds::<T>::get(level) };
			let Some(info) = info else { continue };
			if info.closed {
				continue;
			}
			if undecided && info.decided.is_none() {
				Self::record_silent_seats(level);
			}
			Self::deposit_event(Event::RoundClosed { round: level, light: None });
		}
		Self::release_deposit(&mut root);
	}

	/// Removes a round's storage.
	fn remove_round(round_id: RoundId) {
		let Some(round) = Rounds::<T>::take(round_id) else { return };
		// Seats, statements and tallies: at most one each per seat (the committee may predate
		// an upgrade that lowered `MaxCommittee`).
		let limit = T::MaxCommittee::get().max(Self::committee_size(round_id));
		let _ = Statements::<T>::clear_prefix(round_id, limit, None);
		let _ = Tallies::<T>::clear_prefix(round_id, limit, None);
		let _ = CommitteeSeats::<T>::clear_prefix(round_id, limit, None);
		let now = frame_system::Pallet::<T>::block_number();
		CommitteeRoots::<T>::mutate(round_id, |record| {
			if let Some(record) = record {
				record.expires = Some(now.saturating_add(T::UnbondingDelay::get()));
			}
		});
		Certificates::<T>::remove(round_id);
		Machines::<T>::mutate(round.machine, |m| {
			if let Some(m) = m {
				if m.open_round == Some(round_id) {
					m.open_round = None;
				}
			}
		});
		Self::deposit_event(Event::RoundPruned { round: round_id });
	}
}
