//! Closing rounds of every kind ([`Call::close_round`], or pruning when nobody did): once the
//! round is decided or its deadline has passed (and a green's challenge window), the silent seats of an undecided
//! round get a miss, an undecided validity round turns amber, and the opener's deposit or
//! proposer's bond is settled. The proposer's two unhappy regimes differ: red forfeits the
//! bond ([`OffenceKind::RedProposal`](crate::types::OffenceKind::RedProposal), recorded when
//! the red verified), amber returns it minus `AmberFee`, but only when more than `max_bad`
//! slots said Amber: then at least one good picket could not get the object, and the proposer
//! pays for that. An amber that bad slots alone can cause (at most `max_bad` saying Amber, the
//! rest silent) costs the proposer nothing: a tolerated minority cannot make it pay. (It cannot
//! block a green either: validity rounds need a complete committee, whose good slots alone reach
//! the threshold.)
//!
//! A level of a hierarchical round that handed over was closed by the handover; only a
//! family's last level closes here while undecided, and then the family's deposit goes back.

use crate::{
	pallet::*,
	types::{RoundKind, ValidityRecord},
};
use consensus_machine_primitives::{
	light::{outcome, Light, Verdict},
	statement::{Body, RoundId},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{BalancedHold, MutateHold},
		tokens::Precision,
		DefensiveOption, Imbalance, OnUnbalanced,
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Every check of closing `round`: returns the family root to settle with it, for the
	/// last level of an undecided hierarchical round.
	fn ensure_closable(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
	) -> Result<Option<(RoundId, RoundInfoOf<T>)>, Error<T>> {
		ensure!(!round.is_closed(), Error::<T>::AlreadyClosed);
		let now = frame_system::Pallet::<T>::block_number();
		// A decided round needs nothing more from its seats; an undecided one waits for its
		// deadline (a decided round is pruned once retained long enough, deadline or not).
		ensure!(round.is_over(now), Error::<T>::RoundStillOpen);
		if let (Some(Light::Green), Some(at)) = (round.light(), round.decided()) {
			ensure!(now > at.saturating_add(T::ChallengeWindow::get()), Error::<T>::RoundStillOpen);
		}
		if !round.is_hierarchical() {
			return Ok(None);
		}
		let (root_id, root) = Self::family_root(round_id, round)?;
		let RoundKind::Primary { value, .. } = root.kind else { return Ok(None) };
		if value.is_some() {
			return Ok(None);
		}
		// An undecided family's earlier levels hand over instead (and were closed then).
		let machine = Self::machine_of(round)?;
		ensure!(round.level as usize + 1 == machine.levels.len(), Error::<T>::RoundStillOpen);
		Ok((root_id != round_id).then_some((root_id, root)))
	}

	/// Closes a round after its deadline (and a green's challenge window): settles the light,
	/// counts misses if it ended undecided, and settles the deposit or bond.
	pub(crate) fn do_close_round(round_id: RoundId, mut round: RoundInfoOf<T>) -> DispatchResult {
		let root = Self::ensure_closable(round_id, &round)?;
		// A round whose outcome is fixed was drawn.
		let deadline = round.draw().defensive_ok_or(Error::<T>::Corrupt)?.deadline;
		let now = frame_system::Pallet::<T>::block_number();
		if let Some((root_id, mut root)) = root {
			Self::release_deposit(&mut root);
			Rounds::<T>::insert(root_id, root);
		}
		if round.decided().is_none() {
			Self::note_silent_seats(round_id, deadline);
		}
		let threshold = round.threshold;
		let mut amber = None;
		if let RoundKind::Validity { object, ref mut light } = round.kind {
			let green = Body::Verdict { object: object.hash, verdict: Verdict::Green };
			let green_slots = Tallies::<T>::get(round_id, green.value_hash());
			*light = outcome(*light == Some(Light::Red), green_slots, threshold, true);
			if *light == Some(Light::Amber) {
				amber = Some(object);
			}
		}
		if let Some(object) = amber {
			let said_amber = Body::Verdict { object: object.hash, verdict: Verdict::Amber };
			let amber_slots = Tallies::<T>::get(round_id, said_amber.value_hash());
			// The rule's safe threshold (`max_bad + 1`): Amber from that many slots includes a
			// good picket's.
			let good_said_amber = Machines::<T>::get(round.machine)
				.and_then(|m| m.levels.get(round.level as usize).map(|l| l.rule.safe()))
				.defensive_map_or_else(|| false, |safe| amber_slots >= safe);
			Validity::<T>::insert(
				round.machine,
				object,
				ValidityRecord {
					round: round_id,
					light: Some(Light::Amber),
					evidence: None,
					at: now,
				},
			);
			Self::deposit_event(Event::LightDecided {
				round: round_id,
				object,
				light: Light::Amber,
			});
			if good_said_amber {
				Self::charge_amber_fee(round_id, &mut round);
			}
		}
		if matches!(round.kind, RoundKind::Validity { .. }) && !round.deposit.is_zero() {
			Self::deposit_event(Event::ProposalBondReturned {
				round: round_id,
				proposer: round.opener.clone(),
				returned: round.deposit,
				fee: Zero::zero(),
			});
		}
		Self::release_deposit(&mut round);
		round.close();
		let light = round.light();
		Rounds::<T>::insert(round_id, round);
		Self::deposit_event(Event::RoundClosed { round: round_id, light });
		Ok(())
	}

	/// Amber's regime: `AmberFee` of the proposer's bond goes to `T::FeeDestination`, the rest
	/// back.
	fn charge_amber_fee(round_id: RoundId, round: &mut RoundInfoOf<T>) {
		let reason = HoldReason::ProposalBond.into();
		let fee = T::AmberFee::get() * round.deposit;
		let (credit, _) = <T::Currency as BalancedHold<_>>::slash(&reason, &round.opener, fee);
		let fee = credit.peek();
		T::FeeDestination::on_unbalanced(credit);
		let returned = round.deposit.saturating_sub(fee);
		if T::Currency::release(&reason, &round.opener, returned, Precision::BestEffort).is_err() {
			frame_support::defensive!("a proposal bond is held until settled");
		}
		round.deposit = Zero::zero();
		Self::deposit_event(Event::ProposalBondReturned {
			round: round_id,
			proposer: round.opener.clone(),
			returned,
			fee,
		});
	}
}
