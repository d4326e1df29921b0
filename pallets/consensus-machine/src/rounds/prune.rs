//! Settling and pruning rounds of every kind: `on_idle` removes rounds whose retention has
//! passed, oldest first, within the block's spare weight and `MaxPrunePerBlock`; anyone may
//! prune a due round at once ([`Call::prune_round`]). A round nobody closed is closed first
//! (misses counted, deposit released). A hierarchical round is settled and pruned as a family,
//! from its root: every level that is still open is closed (the current level's silent seats
//! get their misses if the family is undecided), the family's deposit goes back, and every
//! level's storage goes with the root. Settling cannot fail half-way: each step is infallible.
//!
//! # Families in pages
//!
//! A family's levels together may cost more to prune than a block holds, so a family is pruned
//! in pages, each no costlier than pruning one round: the first page settles the family and
//! clears its last level's seats, statements and tallies; each next page clears the level
//! before; the last page removes the levels' small records (rounds, certificates) at once.
//! [`FamiliesBeingPruned`] counts the levels cleared so far; `on_idle` finishes a family
//! before its cursor moves on, and [`Call::prune_round`] prunes as many pages as fit in the
//! one largest page it is charged. A family being pruned is settled (every level closed): no
//! handover can start a level in it.

use crate::{
	pallet::*,
	sweep::Sweep,
	types::{RoundInfo, RoundKind},
	weights::WeightInfo,
};
use consensus_machine_primitives::statement::RoundId;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Bounded, Saturating};

impl<T: Config> Pallet<T> {
	/// Prunes rounds whose retention has passed, oldest first, within `remaining` weight and
	/// `MaxPrunePerBlock` rounds (a family counts as its levels).
	pub(crate) fn prune_rounds(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let max = T::MaxPrunePerBlock::get();
		let Some(mut sweep) = Sweep::within(remaining, db.reads_writes(2, 1), Weight::zero(), max)
		else {
			return Weight::zero();
		};
		let (mut cursor, end) = (PruneCursor::<T>::get(), NextRoundId::<T>::get());
		while cursor < end && sweep.more() {
			if let Some(round) = Rounds::<T>::get(cursor) {
				if !Self::is_due_for_pruning(cursor, &round, now) {
					break;
				}
				// As many pages as the block has room for; a page that does not fit waits for
				// a block with room (no page costs more than one largest round).
				let Some(cost) = Self::prune_within(cursor, round, sweep.left()) else {
					break;
				};
				sweep.charge(cost);
				// A family with pages left: the block is full.
				if Rounds::<T>::contains_key(cursor) {
					break;
				}
				sweep.count();
			} else {
				sweep.charge(db.reads(1));
			}
			cursor += 1;
		}
		PruneCursor::<T>::put(cursor);
		sweep.used()
	}

	/// Drops committee roots whose report window has passed, oldest first, within `remaining`
	/// weight and `MaxPrunePerBlock` roots (from `on_initialize`, so full blocks cannot make
	/// them pile up). Stops at the first root still live or in its
	/// window: rounds are pruned roughly in id order, so later roots expire later.
	pub(crate) fn expire_committee_roots(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let per_root = db.reads_writes(1, 1);
		let max = T::MaxPrunePerBlock::get();
		let Some(mut sweep) = Sweep::within(remaining, db.reads_writes(2, 1), Weight::zero(), max)
		else {
			return Weight::zero();
		};
		let (mut cursor, end) = (CommitteeRootCursor::<T>::get(), PruneCursor::<T>::get());
		while cursor < end && sweep.room_for(per_root) {
			sweep.charge(per_root);
			match CommitteeRoots::<T>::get(cursor) {
				Some(record) if record.expires.is_some_and(|last| now > last) => {
					CommitteeRoots::<T>::remove(cursor);
					sweep.count();
				}
				Some(_) => break,
				None => {}
			}
			cursor += 1;
		}
		CommitteeRootCursor::<T>::put(cursor);
		sweep.used()
	}

	/// Prunes due round `round_id` page by page while the pages fit in `budget` (for a level
	/// of a family, its family's pages): the weight used, or `None` if not even the first page
	/// fits.
	pub(crate) fn prune_within(
		round_id: RoundId,
		round: RoundInfoOf<T>,
		budget: Weight,
	) -> Option<Weight> {
		let target = match &round.kind {
			RoundKind::Backup { root, .. } => *root,
			_ => round_id,
		};
		let mut used = Weight::zero();
		let mut next = Some(round);
		let mut current = round_id;
		while let Some(round) = next {
			let cost = Self::prune_weight(current, &round);
			if budget.any_lt(used.saturating_add(cost)) {
				break;
			}
			Self::do_prune(current, round);
			used = used.saturating_add(cost);
			current = target;
			next = Rounds::<T>::get(target);
		}
		(!used.is_zero()).then_some(used)
	}

	/// The most one page costs: a largest round, with a family's settling (first page) or its
	/// records (last page) on top.
	pub fn max_page_weight() -> Weight {
		let levels = u64::from(crate::types::MAX_LEVELS);
		T::WeightInfo::prune_round(T::MaxCommittee::get())
			.saturating_add(T::DbWeight::get().reads_writes(3 + 2 * levels, 5 * levels))
	}

	/// The weight of the next page of pruning `round`: a round of its committee's size; for a
	/// family, the level the page clears as a round of its size (with, on the first page, one
	/// write per level to close it), or, once every level is cleared, one read and a few writes
	/// per level. Reads the family's root and its progress.
	pub(crate) fn prune_weight(round_id: RoundId, round: &RoundInfoOf<T>) -> Weight {
		let db = T::DbWeight::get();
		let Ok((root_id, RoundInfo { kind: RoundKind::Primary { levels, .. }, .. })) =
			Self::family_root(round_id, round)
		else {
			return db
				.reads(2)
				.saturating_add(T::WeightInfo::prune_round(Self::committee_size(round_id)));
		};
		let count = levels.len() as u64;
		let reads = db.reads(3);
		match Self::next_page(root_id, &levels) {
			Some((level, first)) => {
				let settle = if first { db.reads_writes(count, count) } else { Weight::zero() };
				reads
					.saturating_add(settle)
					.saturating_add(T::WeightInfo::prune_round(Self::committee_size(level)))
			}
			None => reads.saturating_add(db.reads_writes(2 * count, 5 * count)),
		}
	}

	/// The level a family's next page clears, and whether it is the first page; `None` when
	/// every level is cleared (the last page removes the records).
	fn next_page(root_id: RoundId, levels: &[RoundId]) -> Option<(RoundId, bool)> {
		let cleared = FamiliesBeingPruned::<T>::get(root_id);
		let done = cleared.unwrap_or(0) as usize;
		let level = *levels.get(levels.len().checked_sub(done + 1)?)?;
		Some((level, cleared.is_none()))
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
		// A round not yet drawn has not started, so it does not end.
		let deadline = |round: &RoundInfoOf<T>| {
			round.draw().map_or(BlockNumberFor::<T>::max_value(), |draw| draw.deadline)
		};
		let Ok((_, root)) = Self::family_root(round_id, round) else {
			return round.decided().unwrap_or_else(|| deadline(round));
		};
		if let Some(at) = root.decided() {
			return at;
		}
		let RoundKind::Primary { levels, .. } = &root.kind else { return deadline(round) };
		levels
			.last()
			.and_then(|current| Rounds::<T>::get(*current))
			.map(|current| deadline(&current))
			.unwrap_or_else(|| deadline(round))
	}

	/// Settles and removes a due round; for a level of a hierarchical round, the next page of
	/// its family.
	pub(crate) fn do_prune(round_id: RoundId, round: RoundInfoOf<T>) {
		match round.kind {
			RoundKind::Primary { ref levels, .. } => {
				let levels = levels.clone().into_inner();
				match Self::next_page(round_id, &levels) {
					Some((level, first)) => {
						if first {
							Self::settle_family(round_id, round);
						}
						Self::clear_round(level);
						FamiliesBeingPruned::<T>::mutate(round_id, |cleared| {
							*cleared = Some(cleared.unwrap_or(0).saturating_add(1));
						});
					}
					None => {
						for level in levels.into_iter().rev() {
							Self::drop_round(level);
						}
						FamiliesBeingPruned::<T>::remove(round_id);
					}
				}
			}
			RoundKind::Backup { root, .. } => match Rounds::<T>::get(root) {
				Some(info) => Self::do_prune(root, info),
				// Its family was pruned without it: only a bug leaves a level behind.
				None => {
					frame_support::defensive!("a family's levels are pruned with its root");
					Self::clear_round(round_id);
					Self::drop_round(round_id);
				}
			},
			RoundKind::Transition { .. } | RoundKind::Validity { .. } => {
				if !round.is_closed() {
					// Past retention, so past the deadline and any challenge window: closing
					// succeeds.
					if let Err(e) = Self::do_close_round(round_id, round.clone()) {
						log::error!(target: crate::LOG_TARGET, "closing round {round_id}: {e:?}");
						frame_support::defensive!("a due round closes");
					}
				}
				Self::clear_round(round_id);
				Self::drop_round(round_id);
			}
		}
	}

	/// Closes what is still open of a family, before its storage goes (the first page): each
	/// open level is closed (its silent seats missed their duty if the family is undecided: the
	/// current level, or a level nobody handed over), and the family's deposit goes back to its
	/// opener.
	fn settle_family(root_id: RoundId, mut root: RoundInfoOf<T>) {
		let RoundKind::Primary { levels, value } = &root.kind else { return };
		let (levels, undecided) = (levels.clone(), value.is_none());
		for level in levels {
			let mut info = if level == root_id {
				root.clone()
			} else {
				let Some(info) = Rounds::<T>::get(level) else { continue };
				info
			};
			if info.is_closed() {
				continue;
			}
			if let (true, None, Some(draw)) = (undecided, info.decided(), info.draw()) {
				Self::note_silent_seats(level, draw.deadline);
			}
			if level == root_id {
				root.close();
			} else {
				info.close();
				Rounds::<T>::insert(level, info);
			}
			Self::deposit_event(Event::RoundClosed { round: level, light: None });
		}
		Self::release_deposit(&mut root);
		Rounds::<T>::insert(root_id, root);
	}

	/// Clears a round's seats, statements and tallies: at most one each per seat, and a chunk
	/// per `SEATS_PER_CHUNK` seats (the committee may predate an upgrade that lowered
	/// `MaxCommittee`).
	fn clear_round(round_id: RoundId) {
		let limit = T::MaxCommittee::get().max(Self::committee_size(round_id));
		let _ = Statements::<T>::clear_prefix(round_id, limit, None);
		let _ = Tallies::<T>::clear_prefix(round_id, limit, None);
		let _ = CommitteeChunks::<T>::clear_prefix(round_id, limit.div_ceil(SEATS_PER_CHUNK), None);
	}

	/// Removes what is left of a cleared round: its record and certificate; its committee root
	/// stays for reports until `ReportWindow` from now.
	fn drop_round(round_id: RoundId) {
		let Some(round) = Rounds::<T>::take(round_id) else { return };
		let now = frame_system::Pallet::<T>::block_number();
		CommitteeRoots::<T>::mutate(round_id, |record| {
			if let Some(record) = record {
				record.expires = Some(now.saturating_add(T::ReportWindow::get()));
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
