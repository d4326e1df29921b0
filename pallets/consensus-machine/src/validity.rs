//! Validity rounds and the traffic light (paper §7.2, DESIGN §5).
//!
//! `propose` opens a validity round for an object; pickets sign verdicts; the light follows
//! [`consensus_machine_primitives::light::outcome`]: green at the strong threshold, red on one
//! verified red (overturning a green within `ChallengeWindow`), amber when the round closes
//! with neither. Closing also counts missed duties and settles the proposer's bond, whose two
//! unhappy regimes differ: red forfeits it ([`OffenceKind::RedProposal`]), amber returns it
//! minus `AmberFee`.

use crate::{
	pallet::*,
	types::{OffenceKind, StoredSignature, ValidityRecord},
};
use consensus_machine_primitives::{
	light::{outcome, Light, ObjectRef},
	statement::{Body, Hash, MachineId, RoundId, Statement},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::{BalancedHold, MutateHold},
		tokens::Precision,
		Imbalance, OnUnbalanced,
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_propose(
		proposer: T::AccountId,
		machine_id: MachineId,
		object: Hash,
		size: u32,
	) -> Result<RoundId, DispatchError> {
		let machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::UnknownMachine)?;
		ensure!(size > 0 && size <= T::MaxObjectSize::get(), Error::<T>::InvalidObjectSize);
		if let Some(record) = Validity::<T>::get(object) {
			// Amber objects may be proposed again; pending, green and red ones may not.
			ensure!(record.light == Some(Light::Amber), Error::<T>::ObjectAlreadyJudged);
		}
		let spec = crate::rounds::NewRound {
			level: 0,
			root: None,
			required: None,
			object: Some(ObjectRef { hash: object, size }),
		};
		let round = Self::start_round(
			proposer.clone(),
			machine_id,
			&machine,
			T::ProposalBond::get(),
			object,
			spec,
		)?;
		let now = frame_system::Pallet::<T>::block_number();
		Validity::<T>::insert(
			object,
			ValidityRecord { round, light: None, evidence: None, at: now },
		);
		Self::deposit_event(Event::Proposed { round, proposer, object, size });
		Ok(round)
	}

	/// A red's evidence verified: the object is red for good. Every green on it is an offence,
	/// and the proposer forfeits its bond.
	pub(crate) fn do_condemn(
		round_id: RoundId,
		mut round: RoundInfoOf<T>,
		red: Statement,
		signature: StoredSignature,
		evidence: Hash,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let object = round.object.ok_or(Error::<T>::Corrupt)?;
		let overturned = round.light == Some(Light::Green);
		round.light = Some(Light::Red);
		round.decided = Some(now);
		// The bond now belongs to the penalty, not to the round.
		let bond = core::mem::replace(&mut round.deposit, Zero::zero());
		Rounds::<T>::insert(round_id, &round);
		Validity::<T>::insert(
			object.hash,
			ValidityRecord {
				round: round_id,
				light: Some(Light::Red),
				evidence: Some(evidence),
				at: now,
			},
		);
		if overturned {
			Self::deposit_event(Event::GreenOverturned { round: round_id, object: object.hash });
		}
		Self::deposit_event(Event::LightDecided {
			round: round_id,
			object: object.hash,
			light: Light::Red,
		});
		// Greens on a red object: bounded by the committee size.
		let committee = Committees::<T>::get(round_id).ok_or(Error::<T>::Corrupt)?;
		let greens: alloc::vec::Vec<_> = Votes::<T>::iter_prefix(round_id)
			.filter(|(_, (body, _))| matches!(body, Body::Verdict { verdict, .. } if *verdict == consensus_machine_primitives::light::Verdict::Green))
			.collect();
		for (seat, (body, green_signature)) in greens {
			let seat = committee.get(seat as usize).ok_or(Error::<T>::Corrupt)?;
			let green = Statement { body, ..red.clone() };
			Self::record_offence(
				OffenceKind::WrongVerdict,
				seat.agent.clone(),
				round_id,
				Some(seat.key.clone()),
				alloc::vec![(green, green_signature)],
				None,
				None,
			)?;
		}
		if !bond.is_zero() {
			Self::record_offence(
				OffenceKind::RedProposal,
				round.opener.clone(),
				round_id,
				None,
				alloc::vec![(red, signature)],
				None,
				Some(bond),
			)?;
		}
		Ok(())
	}

	/// Closes a round after its deadline (and a green's challenge window): settles the light,
	/// counts misses if it ended undecided, and settles the deposit or bond.
	pub(crate) fn do_close_round(round_id: RoundId, mut round: RoundInfoOf<T>) -> DispatchResult {
		ensure!(!round.closed, Error::<T>::AlreadyClosed);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now > round.deadline, Error::<T>::RoundStillOpen);
		if let (Some(Light::Green), Some(at)) = (round.light, round.decided) {
			ensure!(now > at.saturating_add(T::ChallengeWindow::get()), Error::<T>::RoundStillOpen);
		}
		if round.is_decision() {
			Self::close_decision_level(round_id, &round)?;
		}
		if round.decided.is_none() {
			Self::record_silent_seats(round_id)?;
		}
		if let Some(object) = round.object {
			let green_slots = Tallies::<T>::get(
				round_id,
				Body::Verdict {
					object: object.hash,
					verdict: consensus_machine_primitives::light::Verdict::Green,
				}
				.value_hash(),
			);
			let red = round.light == Some(Light::Red);
			round.light = outcome(red, green_slots, round.threshold, true);
			if round.light == Some(Light::Amber) {
				Validity::<T>::insert(
					object.hash,
					ValidityRecord {
						round: round_id,
						light: Some(Light::Amber),
						evidence: None,
						at: now,
					},
				);
				Self::deposit_event(Event::LightDecided {
					round: round_id,
					object: object.hash,
					light: Light::Amber,
				});
				Self::charge_amber_fee(round_id, &mut round)?;
			}
		}
		if round.object.is_some() && !round.deposit.is_zero() {
			Self::deposit_event(Event::ProposalBondReturned {
				round: round_id,
				proposer: round.opener.clone(),
				returned: round.deposit,
				fee: Zero::zero(),
			});
		}
		Self::release_deposit(&mut round)?;
		round.closed = true;
		let light = round.light;
		Rounds::<T>::insert(round_id, round);
		Self::deposit_event(Event::RoundClosed { round: round_id, light });
		Ok(())
	}

	/// Closing a level of a hierarchical round: only the last level closes undecided (earlier
	/// ones hand over, and were closed then); the family's deposit then goes back.
	fn close_decision_level(round_id: RoundId, round: &RoundInfoOf<T>) -> DispatchResult {
		let mut root = Self::root_of(round_id, round)?;
		if root.value.is_some() {
			return Ok(());
		}
		let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
		ensure!(round.level as usize + 1 == machine.levels.len(), Error::<T>::RoundStillOpen);
		if round.root != round_id {
			Self::release_deposit(&mut root)?;
			Rounds::<T>::insert(round.root, root);
		}
		Ok(())
	}

	/// Amber's regime: `AmberFee` of the proposer's bond goes to `T::Slash`, the rest back.
	fn charge_amber_fee(round_id: RoundId, round: &mut RoundInfoOf<T>) -> DispatchResult {
		let fee = T::AmberFee::get() * round.deposit;
		let (credit, _) = <T::Currency as BalancedHold<_>>::slash(
			&HoldReason::RoundDeposit.into(),
			&round.opener,
			fee,
		);
		let fee = credit.peek();
		T::Slash::on_unbalanced(credit);
		let returned = round.deposit.saturating_sub(fee);
		T::Currency::release(
			&HoldReason::RoundDeposit.into(),
			&round.opener,
			returned,
			Precision::BestEffort,
		)?;
		round.deposit = Zero::zero();
		Self::deposit_event(Event::ProposalBondReturned {
			round: round_id,
			proposer: round.opener.clone(),
			returned,
			fee,
		});
		Ok(())
	}
}
