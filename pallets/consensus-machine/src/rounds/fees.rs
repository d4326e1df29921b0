//! Round fees: whoever opens a round pays for the work the chain does for it that no
//! transaction pays for.
//!
//! A round's committee is drawn in `on_initialize`, its pickets' statements and a fee-less
//! handover are transactions without fees, and `on_idle` prunes it: none of that is charged to
//! anyone by the transaction-payment pallet. So opening a round costs, besides the returnable
//! deposit or bond, a *round fee* that is never returned: the chain's own price
//! ([`Config::WeightToFee`]) of the benchmarked weight of that work at a full committee
//! ([`Pallet::round_work`]), paid to [`Config::FeeDestination`].
//!
//! A hierarchical round pays its primary level's fee at once and holds the fees of its backup
//! levels with its deposit: a handover, which anyone may start fee-less, takes the next level's
//! fee from that hold (so no handover can fail for want of the opener's money), and whatever
//! the family did not use goes back with the deposit. A cheap round stays cheap: a family
//! decided at level 0 pays level 0's fee only.
//!
//! Work whose cause is an offence (a false red, an equivocation report) is paid by the
//! offender's slash, not by the round's fee. The price is `WeightToFee` alone: a runtime whose
//! transaction fees also scale with a congestion multiplier charges rounds the unscaled price.
//! A backup level's fee is priced when its handover starts: should an upgrade raise weights or
//! prices between a family's opening and its handover, the difference comes out of the
//! family's deposit (held for the opener, not a fee), as far as it goes.
//!
//! No account may have more than [`Config::MaxPendingDrawsPerAccount`] commitments waiting for
//! their draw ([`PendingDrawsOf`]), so one account cannot hold the whole draw queue.

use crate::{pallet::*, types::RoundKind, weights::WeightInfo};
use consensus_machine_primitives::statement::RoundId;
use frame_support::{
	dispatch::DispatchClass,
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{Balanced, BalancedHold, Inspect},
		tokens::{Fortitude, Precision, Preservation},
		Imbalance, OnUnbalanced,
	},
	weights::WeightToFee,
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// The storage a fee payment adds to a call's benchmarked weight, until the next benchmark
	/// run measures it: the opener's queue share or hold, its account and the fee
	/// destination's account.
	pub fn fee_db_weight() -> Weight {
		T::DbWeight::get().reads_writes(3, 3)
	}

	/// The weight of the work a level of `slots` slots makes the chain do that no transaction
	/// pays for: its draw; one fee-less statement from each of at most `slots` seats
	/// (authorised and dispatched), one of them deciding; for a validity round, one red with the
	/// longest evidence that overturns every green; its pruning; and for a backup level, the
	/// fee-less handover from a level of `handover_from` slots that starts it.
	pub fn round_work(slots: u32, validity: bool, handover_from: Option<u32>) -> Weight {
		// Every fee-less transaction also costs the block its base extrinsic weight.
		let base = T::BlockWeights::get().get(DispatchClass::Normal).base_extrinsic;
		let seat = T::WeightInfo::authorize_statement(0)
			.saturating_add(T::WeightInfo::submit_vote().max(T::WeightInfo::submit_statement(0)))
			.saturating_add(base);
		let decision =
			T::WeightInfo::submit_decision(slots).max(T::WeightInfo::submit_statement(slots));
		// The committee root's expiry, `ReportWindow` after the pruning: one read and write.
		let expiry = T::DbWeight::get().reads_writes(1, 1);
		let mut work = T::WeightInfo::draw_committee(slots)
			.saturating_add(seat.saturating_mul(u64::from(slots)))
			.saturating_add(decision)
			.saturating_add(T::WeightInfo::prune_round(slots))
			.saturating_add(expiry);
		if validity {
			let longest = T::MaxEvidenceLen::get();
			work = work
				.saturating_add(T::WeightInfo::authorize_statement(longest))
				.saturating_add(T::WeightInfo::submit_red(slots, longest))
				.saturating_add(base);
		}
		if let Some(from) = handover_from {
			work = work
				.saturating_add(T::WeightInfo::authorize_handover())
				.saturating_add(T::WeightInfo::start_handover(from))
				.saturating_add(Self::fee_db_weight())
				.saturating_add(base);
		}
		work
	}

	/// The fee of level `level` of `machine`, for a validity round or not; zero for a level the
	/// machine does not have.
	pub fn level_fee(machine: &MachineInfoOf<T>, level: u8, validity: bool) -> BalanceOf<T> {
		let slots = |l: usize| machine.levels.get(l).map(|c| c.rule.n);
		let Some(n) = slots(level as usize) else { return Zero::zero() };
		let from = (level as usize).checked_sub(1).and_then(slots);
		T::WeightToFee::weight_to_fee(&Self::round_work(n, validity, from))
	}

	/// What opening a round of `machine` costs beyond its deposit: the fee paid at once (level
	/// 0's) and, for a hierarchical machine, the fees held for its backup levels.
	pub fn opening_fees(
		machine: &MachineInfoOf<T>,
		validity: bool,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let backups = (1..machine.levels.len() as u8).fold(Zero::zero(), |sum: BalanceOf<T>, l| {
			sum.saturating_add(Self::level_fee(machine, l, false))
		});
		(Self::level_fee(machine, 0, validity), backups)
	}

	/// The checks and payments of committing a new question (not a backup level): `opener` has
	/// room in the draw queue and pays level 0's fee now; returns what must be held on top of
	/// the deposit (the backup levels' fees). Nothing changes on an error.
	pub(crate) fn pay_opening(
		opener: &T::AccountId,
		round: RoundId,
		machine: &MachineInfoOf<T>,
		kind: &RoundKind,
		deposit: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let pending = PendingDrawsOf::<T>::get(opener);
		ensure!(pending < T::MaxPendingDrawsPerAccount::get(), Error::<T>::TooManyDrawsOfAccount);
		let validity = matches!(kind, RoundKind::Validity { .. });
		let (fee, backups) = Self::opening_fees(machine, validity);
		// Only a hierarchical round hands over: a validity or transition round holds nothing
		// for backup levels (its bond would otherwise carry them, and an amber fee with it).
		let backups =
			if matches!(kind, RoundKind::Primary { .. }) { backups } else { Zero::zero() };
		let free =
			T::Currency::reducible_balance(opener, Preservation::Preserve, Fortitude::Polite);
		let needed = fee.saturating_add(backups).saturating_add(deposit);
		ensure!(free >= needed, Error::<T>::CannotPayRoundFee);
		if !fee.is_zero() {
			let credit = T::Currency::withdraw(
				opener,
				fee,
				Precision::Exact,
				Preservation::Preserve,
				Fortitude::Polite,
			)
			.map_err(|_| Error::<T>::CannotPayRoundFee)?;
			T::FeeDestination::on_unbalanced(credit);
		}
		PendingDrawsOf::<T>::insert(opener, pending.saturating_add(1));
		Self::deposit_event(Event::RoundFeePaid { round, payer: opener.clone(), fee });
		Ok(backups)
	}

	/// Takes backup level `level`'s fee from the family's held deposit (`root`, whose opener
	/// pays), as its handover starts round `round`.
	pub(crate) fn pay_backup(
		root: &mut RoundInfoOf<T>,
		machine: &MachineInfoOf<T>,
		level: u8,
		round: RoundId,
	) {
		let fee = Self::level_fee(machine, level, false).min(root.deposit);
		if fee.is_zero() {
			return;
		}
		let reason = HoldReason::RoundDeposit.into();
		let (credit, _) = <T::Currency as BalancedHold<_>>::slash(&reason, &root.opener, fee);
		let paid = credit.peek();
		T::FeeDestination::on_unbalanced(credit);
		root.deposit = root.deposit.saturating_sub(paid);
		Self::deposit_event(Event::RoundFeePaid { round, payer: root.opener.clone(), fee: paid });
	}

	/// A round `opener` committed as a new question was drawn: it leaves the opener's share of
	/// the queue.
	pub(crate) fn note_drawn(opener: &T::AccountId) {
		PendingDrawsOf::<T>::mutate_exists(opener, |pending| {
			let left = pending.unwrap_or_default().saturating_sub(1);
			*pending = (left > 0).then_some(left);
		});
	}
}
