//! Equivocation reports: two statements one seat signed for one round, with different bodies,
//! proven against the round's committee root (which outlives the committee), go to the
//! pickets as an offence.

use crate::{
	crypto::Signature,
	pallet::*,
	types::{EquivocationProof, Offence, OffenceKind, SeatProof, StoredSignature},
};
use alloc::boxed::Box;
use consensus_machine_primitives::{
	membership,
	pickets::{Accountability, Pickets},
	statement::{check_equivocation, RoundId, Statement},
};
use frame_support::{ensure, pallet_prelude::*};

impl<T: Config> Pallet<T> {
	/// The offender of a proven equivocation, if it is one and not reported yet: cheap checks,
	/// then the membership proof (`O(log N)` hashes), then the two signatures.
	fn ensure_equivocation(
		membership: &SeatProof<T::AccountId>,
		first: &(Statement, StoredSignature),
		second: &(Statement, StoredSignature),
	) -> Result<T::AccountId, Error<T>> {
		check_equivocation(&first.0, &second.0).map_err(|_| Error::<T>::NotAnEquivocation)?;
		ensure!(first.0.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		let round = first.0.round;
		let record = CommitteeRoots::<T>::get(round).ok_or(Error::<T>::UnknownRound)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(record.expires.is_none_or(|last| now <= last), Error::<T>::ReportExpired);
		// The committee was drawn for this chain's instance of the round; statements for
		// another fork's instance prove nothing about it.
		ensure!(first.0.instance == record.instance, Error::<T>::WrongInstance);
		let SeatProof { index, seat, path } = membership;
		ensure!(
			membership::verify(&record.root, record.seats, *index, seat, path),
			Error::<T>::BadMembershipProof
		);
		ensure!(T::Pickets::is_picket(&seat.agent), Error::<T>::NotRegistered);
		ensure!(
			!Self::is_reported(&seat.agent, round, OffenceKind::Equivocation),
			Error::<T>::AlreadyReported
		);
		for (statement, signature) in [first, second] {
			let signature = Signature::from(*signature);
			ensure!(
				crate::crypto::verify(&seat.key, &statement.signing_payload(), &signature),
				Error::<T>::BadSignature
			);
		}
		Ok(seat.agent.clone())
	}

	/// The proof that seat `index` belongs to `round`'s committee, for a report; `None` once
	/// the committee is pruned (ask a block where the round was live: an archive node keeps
	/// it). Off chain (runtime API) and the demo's worker.
	pub fn membership_proof(round: RoundId, index: u32) -> Option<SeatProof<T::AccountId>> {
		let committee = Self::committee(round);
		let path = membership::path(&committee, index)?;
		Some(SeatProof { index, seat: committee.get(index as usize)?.clone(), path })
	}

	/// Authorises a fee-less [`Call::report_equivocation`]: a complete proof is its own
	/// authority. `provides` is `(agent, round)`, so the pool keeps one report per offence.
	// The call's argument is boxed (it is the largest), and `authorize` takes it by reference.
	#[allow(clippy::borrowed_box)]
	pub fn authorize_equivocation_report(
		_source: TransactionSource,
		membership: &SeatProof<T::AccountId>,
		proof: &Box<EquivocationProof>,
	) -> TransactionValidityWithRefund {
		let EquivocationProof { first, second } = &**proof;
		let offender = Self::ensure_equivocation(membership, first, second).map_err(|e| {
			TransactionValidityError::from(match e {
				Error::<T>::AlreadyReported
				| Error::<T>::UnknownRound
				| Error::<T>::ReportExpired => InvalidTransaction::Stale,
				_ => InvalidTransaction::BadProof,
			})
		})?;
		ValidTransaction::with_tag_prefix("ConsensusMachineReport")
			.priority(T::StatementPriority::get())
			.and_provides((offender, first.0.round))
			.longevity(16)
			.propagate(true)
			.build()
			.map(|v| (v, Weight::zero()))
	}

	pub(crate) fn do_report_equivocation(
		reporter: Option<T::AccountId>,
		membership: SeatProof<T::AccountId>,
		first: (Statement, StoredSignature),
		second: (Statement, StoredSignature),
	) -> DispatchResult {
		let offender = Self::ensure_equivocation(&membership, &first, &second)?;
		let round = first.0.round;
		let (kind, key) = (OffenceKind::Equivocation, membership.seat.key);
		Self::report(
			Offence::signed(kind, offender, round, key, alloc::vec![first, second])
				.reported_by(reporter),
		)
		.map_err(Into::into)
	}
}

/// How long a committee stays accountable, as the pickets' supplier needs to know: a round's
/// offences can be reported until its committee root expires.
impl<T: Config> Accountability for Pallet<T> {
	fn next_round() -> RoundId {
		NextRoundId::<T>::get()
	}

	/// Roots expire in round order: [`CommitteeRootCursor`] passes a root only once it expired
	/// (or never existed).
	fn reports_closed_below() -> RoundId {
		CommitteeRootCursor::<T>::get()
	}
}
