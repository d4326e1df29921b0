//! Offences and penalties.
//!
//! - **Overt** offences are signed statements that are provably wrong: equivocation, a green on
//!   an object that ended red, a red whose evidence fails. Recording one takes the agent out of
//!   the draw at once ([`AgentStatus::Suspended`]) and schedules a slash of a configurable
//!   fraction of its bond, applied after `SlashDeferral` blocks unless `CancelOrigin` cancels it
//!   first (as Polkadot defers slashes). Applied penalties are final.
//! - **Non-participation**: a seat that made no statement in a round that closed undecided
//!   gets a miss. `MaxMisses` misses within `MissWindow` ban the agent from draws for
//!   `BanPeriod`; a second ban and every later one is slashed lightly.
//! - **Covert** misbehaviour cannot be seen on chain: the backup committee makes it pointless.
//!
//! Slashed funds go to `T::Slash`, all of them. Every offence is recorded once per (offender,
//! round, kind), with its proof and, if it was reported, its reporter.
//!
//! Reporters are not paid from the slash. A report's proof is complete without its reporter,
//! so an offender can always report itself from a second account first; any share of its slash
//! paid to the reporter would come back to it and only lower its penalty. Reporting costs an
//! honest node nothing instead: a complete proof is a fee-less transaction (the machines'
//! `authorize_equivocation_report`). Whoever sees two conflicting statements (a
//! gossip peer, an indexer, the dev chain's equivocating pickets themselves) reports them
//! at no cost; a certificate that contradicts a recorded statement convicts its signer without
//! any report.

use crate::{
	pallet::*,
	sweep::Sweep,
	types::{AgentStatus, Offence, OffenceKind, Penalty, PenaltyStatus},
	weights::WeightInfo,
};
use consensus_machine_primitives::pickets::Accountability;
use consensus_machine_primitives::statement::RoundId;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{BalancedHold, Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
		Imbalance, OnUnbalanced,
	},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{One, Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Whether `offender`'s offence of `kind` in `round` was recorded already.
	pub fn is_offence_recorded(offender: &T::AccountId, round: RoundId, kind: OffenceKind) -> bool {
		OffenceIndex::<T>::contains_key((offender, round, kind))
	}

	/// Records an offence and schedules its penalty. Fails before writing anything: with
	/// [`Error::AlreadyReported`] if this (offender, round, kind) was recorded before, or
	/// [`Error::IdsExhausted`].
	pub fn record_offence(offence: OffenceOf<T>) -> Result<PenaltyId, Error<T>> {
		let Offence { kind, offender, round, key, statements, reporter, base } = offence;
		let index = (offender.clone(), round, kind);
		ensure!(!OffenceIndex::<T>::contains_key(&index), Error::<T>::AlreadyReported);
		let id = NextPenaltyId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		if statements.len() > 2 {
			frame_support::defensive!("an offence is proven by at most two statements");
		}
		let statements = BoundedVec::truncate_from(statements);
		let fraction = T::SlashRates::get().of(kind);
		// A forfeited proposal bond comes into custody here, as the machines released it in
		// this call: as much of it as the account can hold (all of it, unless its free balance
		// was below the existential deposit before). The offence is recorded whatever it
		// holds: the machines must not be stopped from condemning an object.
		let base = match (kind, base) {
			(OffenceKind::RedProposal, Some(bond)) => {
				let holdable = <T::Currency as Inspect<_>>::reducible_balance(
					&offender,
					Preservation::Protect,
					Fortitude::Force,
				);
				let take = bond.min(holdable);
				let held = T::Currency::hold(&HoldReason::Forfeit.into(), &offender, take);
				Some(if held.is_ok() { take } else { Zero::zero() })
			}
			(_, base) => base,
		};
		NextPenaltyId::<T>::put(next);
		let now = frame_system::Pallet::<T>::block_number();
		let apply_at = now.saturating_add(T::SlashDeferral::get());
		Penalties::<T>::insert(
			id,
			Penalty {
				offender: offender.clone(),
				kind,
				round,
				key,
				statements,
				fraction,
				base,
				reporter,
				recorded: now,
				apply_at,
				status: PenaltyStatus::Pending,
			},
		);
		OffenceIndex::<T>::insert(&index, id);
		PendingPenalties::<T>::mutate(&offender, |n| *n = n.saturating_add(1));
		if kind.is_overt() {
			Self::suspend(&offender);
		}
		Self::deposit_event(Event::OffenceRecorded {
			penalty: id,
			offender,
			kind,
			round,
			apply_at,
		});
		Ok(id)
	}

	/// Takes an agent out of the draw for an overt offence.
	fn suspend(who: &T::AccountId) {
		if let Some(mut agent) = Agents::<T>::get(who) {
			match agent.status {
				AgentStatus::Active => {
					// One offence may suspend a whole committee: the tree follows in
					// `on_initialize`.
					Self::leave_draw_later(agent.index, agent.bond);
					agent.status = AgentStatus::Suspended;
				}
				AgentStatus::Banned { .. } => agent.status = AgentStatus::Suspended,
				// Still leaving, but no longer signing.
				AgentStatus::Unbonding { ref mut suspended, .. } => *suspended = true,
				AgentStatus::Suspended => {}
			}
			Agents::<T>::insert(who, agent);
		}
	}

	/// Applies pending penalties whose deferral has passed, oldest first, within `remaining`
	/// weight and `MaxPenaltiesPerBlock`.
	pub fn apply_due_penalties(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let per_penalty = T::WeightInfo::apply_penalty();
		let fixed = T::DbWeight::get().reads_writes(2, 1);
		let max = T::MaxPenaltiesPerBlock::get();
		let Some(mut sweep) = Sweep::within(remaining, fixed, Weight::zero(), max) else {
			return Weight::zero();
		};
		let (mut cursor, end) = (PenaltyCursor::<T>::get(), NextPenaltyId::<T>::get());
		while cursor < end && sweep.room_for(per_penalty) {
			if let Some(penalty) = Penalties::<T>::get(cursor) {
				if penalty.status == PenaltyStatus::Pending {
					if penalty.apply_at > now {
						break;
					}
					Self::do_apply_penalty(cursor, penalty);
				}
			}
			sweep.charge(per_penalty);
			sweep.count();
			cursor += 1;
		}
		PenaltyCursor::<T>::put(cursor);
		sweep.used()
	}

	/// Forgets settled offences that can never be recorded again, oldest first, at most
	/// `MaxPenaltiesPerBlock` a block: a penalty applied or cancelled whose round's committee
	/// root has expired (no report can prove a seat of it any more, and the round, whose
	/// settlement records the other kinds, is gone). Its record and its offence-index entry
	/// go, so that neither grows with the chain; the events keep the history. Stops at the
	/// first penalty not yet forgettable: penalties are recorded, and their rounds' roots
	/// expire, roughly in order, so one waits about as long as the roots before it.
	pub fn forget_settled_offences() -> Weight {
		let db = T::DbWeight::get();
		let per_penalty = db.reads_writes(1, 2);
		let mut sweep = Sweep::bounded(db.reads_writes(3, 1), T::MaxPenaltiesPerBlock::get());
		let (mut cursor, settled, expired) = (
			PenaltyPruneCursor::<T>::get(),
			PenaltyCursor::<T>::get(),
			T::Machines::reports_closed_below(),
		);
		while cursor < settled && sweep.more() {
			sweep.charge(per_penalty);
			if let Some(penalty) = Penalties::<T>::get(cursor) {
				if penalty.status == PenaltyStatus::Pending || penalty.round >= expired {
					break;
				}
				OffenceIndex::<T>::remove((&penalty.offender, penalty.round, penalty.kind));
				Penalties::<T>::remove(cursor);
				sweep.count();
			}
			cursor += 1;
		}
		PenaltyPruneCursor::<T>::put(cursor);
		sweep.used()
	}

	pub fn do_apply_penalty(id: PenaltyId, mut penalty: PenaltyOf<T>) {
		let who = penalty.offender.clone();
		let (reason, base) = match (penalty.kind, penalty.base) {
			(OffenceKind::RedProposal, base) => {
				(HoldReason::Forfeit, base.unwrap_or_else(Zero::zero))
			}
			(_, Some(base)) => (HoldReason::Bond, base),
			(_, None) => (
				HoldReason::Bond,
				Agents::<T>::get(&who).map(|a| a.bond).unwrap_or_else(Zero::zero),
			),
		};
		let (credit, _) =
			<T::Currency as BalancedHold<_>>::slash(&reason.into(), &who, penalty.fraction * base);
		let slashed = credit.peek();
		if reason == HoldReason::Bond {
			Self::reduce_bond(&who, slashed);
		}
		T::Slash::on_unbalanced(credit);
		penalty.status = PenaltyStatus::Applied { slashed };
		Penalties::<T>::insert(id, penalty);
		Self::settle_pending(&who);
		Self::deposit_event(Event::PenaltyApplied { penalty: id, offender: who, slashed });
	}

	/// Lowers an agent's bond after a slash; an active agent's stake in the draw follows, and one
	/// left below `MinBond` is suspended.
	fn reduce_bond(who: &T::AccountId, slashed: BalanceOf<T>) {
		let Some(mut agent) = Agents::<T>::get(who) else { return };
		agent.bond = agent.bond.saturating_sub(slashed);
		if agent.status == AgentStatus::Active {
			let below = agent.bond < T::MinBond::get();
			let out = if below { slashed.saturating_add(agent.bond) } else { slashed };
			Self::leave_draw(agent.index, out);
			if below {
				agent.status = AgentStatus::Suspended;
			}
		}
		Agents::<T>::insert(who, agent);
	}

	/// One of `who`'s pending penalties is settled: the count drops by one, and its entry goes
	/// at zero (an offender's count is not kept after its last penalty, or every account ever
	/// punished would leave one). Returns what is still pending.
	fn settle_pending(who: &T::AccountId) -> u32 {
		PendingPenalties::<T>::mutate_exists(who, |n| {
			let left = n.unwrap_or(0).saturating_sub(1);
			*n = (left > 0).then_some(left);
			left
		})
	}

	pub fn do_cancel_penalty(id: PenaltyId) -> DispatchResult {
		let mut penalty = Penalties::<T>::get(id).ok_or(Error::<T>::UnknownPenalty)?;
		ensure!(penalty.status == PenaltyStatus::Pending, Error::<T>::PenaltyNotPending);
		let who = penalty.offender.clone();
		if let (OffenceKind::RedProposal, Some(bond)) = (penalty.kind, penalty.base) {
			T::Currency::release(&HoldReason::Forfeit.into(), &who, bond, Precision::BestEffort)?;
		}
		penalty.status = PenaltyStatus::Cancelled;
		Penalties::<T>::insert(id, penalty);
		let pending = Self::settle_pending(&who);
		// A suspended agent with nothing else pending may rejoin the draw.
		if pending == 0 {
			if let Some(mut agent) = Agents::<T>::get(&who) {
				if agent.status == AgentStatus::Suspended {
					agent.status =
						AgentStatus::Banned { until: frame_system::Pallet::<T>::block_number() };
					Agents::<T>::insert(&who, agent);
				}
			}
		}
		Self::deposit_event(Event::PenaltyCancelled { penalty: id });
		Ok(())
	}

	/// Counts a missed duty in `round`, dated `due`, when it fell due, not when the round is
	/// settled (so a round settled late does not put an old miss beside new ones); a miss
	/// settled after its window has passed still counts once, dated at the window's start (a
	/// round nobody closes, or pruning held up, must not let its silent seats off). Enough
	/// misses in the window ban the agent.
	pub fn record_miss(who: &T::AccountId, round: RoundId, due: BlockNumberFor<T>) {
		let Some(mut agent) = Agents::<T>::get(who) else { return };
		let now = frame_system::Pallet::<T>::block_number();
		let window = T::MissWindow::get();
		let mut misses = Misses::<T>::get(who);
		misses.retain(|at| now.saturating_sub(*at) < window);
		let oldest = now.saturating_sub(window).saturating_add(One::one());
		// Full means MaxMisses within the window already: the ban below clears it.
		let _ = misses.try_push(due.max(oldest));
		let count = misses.len() as u32;
		Self::deposit_event(Event::DutyMissed { agent: who.clone(), round, misses: count });
		if count < T::MaxMisses::get() {
			Misses::<T>::insert(who, misses);
			return;
		}
		Misses::<T>::remove(who);
		// Only an active agent is banned; misses of seats it still holds once out of the draw
		// (banned, unbonding) are no second ban.
		if agent.status != AgentStatus::Active {
			return;
		}
		let bans = Bans::<T>::mutate(who, |record| {
			let count = match *record {
				Some((count, last)) if now.saturating_sub(last) < T::BanMemory::get() => {
					count.saturating_add(1)
				}
				// Never banned, or long enough ago: a first ban.
				_ => 1,
			};
			*record = Some((count, now));
			count
		});
		// One close may ban a whole committee: the tree follows in `on_initialize`.
		Self::leave_draw_later(agent.index, agent.bond);
		let until = now.saturating_add(T::BanPeriod::get());
		agent.status = AgentStatus::Banned { until };
		Agents::<T>::insert(who, agent);
		Self::deposit_event(Event::AgentBanned { agent: who.clone(), until });
		let kind = OffenceKind::NonParticipation;
		// An agent holds one seat per round, so this is recorded at most once per round.
		if bans > 1 && !Self::is_offence_recorded(who, round, kind) {
			if let Err(e) = Self::record_offence(Offence::new(kind, who.clone(), round)) {
				log::warn!(target: crate::LOG_TARGET, "non-participation of a repeated ban: {e:?}");
			}
		}
	}

	pub fn do_rejoin(who: T::AccountId) -> DispatchResult {
		let mut agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let now = frame_system::Pallet::<T>::block_number();
		match agent.status {
			AgentStatus::Banned { until } if now >= until => {}
			_ => return Err(Error::<T>::NotBanned.into()),
		}
		ensure!(agent.bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		// Its stake from before the ban leaves the tree first, should it still be there.
		Self::settle_exit(agent.index);
		Self::ensure_stake_fits(agent.bond)?;
		Self::enter_draw(agent.index, agent.bond);
		agent.status = AgentStatus::Active;
		Agents::<T>::insert(&who, agent);
		Self::deposit_event(Event::AgentRejoined { agent: who });
		Ok(())
	}
}
