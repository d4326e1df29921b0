//! Pruning rounds of every kind: `on_idle` removes rounds whose retention has passed, oldest
//! first, closing any that nobody closed, within the block's spare weight and
//! `MaxPrunePerBlock`. A level of a hierarchical round lives as long as its family.

use crate::{pallet::*, types::RoundKind, weights::WeightInfo};
use consensus_machine_primitives::statement::RoundId;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Prunes rounds whose retention has passed, oldest first, within `remaining` weight and
	/// `MaxPrunePerBlock` rounds.
	pub(crate) fn prune_rounds(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let per_round = T::WeightInfo::prune_round(T::MaxCommittee::get());
		let mut used = db.reads_writes(2, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let (mut cursor, end) = (PruneCursor::<T>::get(), NextRoundId::<T>::get());
		let mut pruned = 0u32;
		while cursor < end
			&& pruned < T::MaxPrunePerBlock::get()
			&& remaining.all_gte(used.saturating_add(per_round))
		{
			if let Some(round) = Rounds::<T>::get(cursor) {
				let ended = Self::round_end(cursor, &round);
				if now <= ended.saturating_add(T::RoundRetention::get()) {
					break;
				}
				Self::do_prune(cursor, round);
			}
			used = used.saturating_add(per_round);
			pruned += 1;
			cursor += 1;
		}
		PruneCursor::<T>::put(cursor);
		used
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

	fn do_prune(round_id: RoundId, round: RoundInfoOf<T>) {
		if !round.closed {
			// Past retention, so past the deadline and any challenge window: closing succeeds.
			if let Err(e) = Self::do_close_round(round_id, round.clone()) {
				log::warn!(target: crate::LOG_TARGET, "closing round {round_id} to prune it: {e:?}");
			}
		}
		let limit = T::MaxCommittee::get();
		let _ = Statements::<T>::clear_prefix(round_id, limit, None);
		let _ = Tallies::<T>::clear_prefix(round_id, limit, None);
		Committees::<T>::remove(round_id);
		Certificates::<T>::remove(round_id);
		Rounds::<T>::remove(round_id);
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
