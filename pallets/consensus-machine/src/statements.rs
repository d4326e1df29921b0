//! Statements and certificates: the checks both submission paths share, the authorisation of
//! fee-less statements, and the tally that decides a round.

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	types::{AgentStatus, Seat, StoredSignature},
};
use consensus_machine_primitives::{
	certificate::{self, CertificateError},
	statement::{Body, RoundId, Statement},
};
use frame_support::{ensure, pallet_prelude::*};
use sp_runtime::{traits::Saturating, RuntimeAppPublic, SaturatedConversion};

/// Tag prefix of statement transactions in the pool.
const TAG_PREFIX: &str = "ConsensusMachine";

/// A statement that passed every check but the signature: its round and the signer's seat.
struct Accepted<T: Config> {
	round: RoundInfoOf<T>,
	index: u32,
	seat: Seat<T::AccountId>,
}

impl<T: Config> Pallet<T> {
	/// The checks on a statement that need no signer: chain, round, machine, level, step, and
	/// that the round is still open. Returns the round.
	pub(crate) fn ensure_statement_context(
		statement: &Statement,
	) -> Result<RoundInfoOf<T>, Error<T>> {
		let round = Rounds::<T>::get(statement.round).ok_or(Error::<T>::UnknownRound)?;
		ensure!(statement.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		ensure!(statement.machine == round.machine, Error::<T>::WrongMachine);
		ensure!(statement.level == round.level, Error::<T>::WrongLevel);
		ensure!(round.decided.is_none(), Error::<T>::RoundDecided);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= round.deadline,
			Error::<T>::RoundClosed
		);
		let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
		match &statement.body {
			Body::Transition { step, from, .. } => {
				ensure!(*step == round.step && *step == machine.label.step, Error::<T>::StaleStep);
				ensure!(*from == machine.label.hash, Error::<T>::WrongFromHash);
			}
		}
		Ok(round)
	}

	/// The seat `signer` holds in `round`, if it may still make a statement there.
	fn ensure_seat(
		round: RoundId,
		committee: &CommitteeOf<T>,
		signer: &Public,
	) -> Result<(u32, Seat<T::AccountId>), Error<T>> {
		let index =
			committee.iter().position(|s| &s.key == signer).ok_or(Error::<T>::NotAPicket)?;
		let seat = committee[index].clone();
		let index = index as u32;
		ensure!(!Votes::<T>::contains_key(round, index), Error::<T>::DuplicateStatement);
		Self::ensure_agent_active(&seat.agent)?;
		Ok((index, seat))
	}

	fn ensure_agent_active(agent: &T::AccountId) -> Result<(), Error<T>> {
		let info = Agents::<T>::get(agent).ok_or(Error::<T>::AgentNotActive)?;
		ensure!(info.status == AgentStatus::Active, Error::<T>::AgentNotActive);
		Ok(())
	}

	/// Every check of a single statement except the signature.
	fn ensure_statement(statement: &Statement, signer: &Public) -> Result<Accepted<T>, Error<T>> {
		let round = Self::ensure_statement_context(statement)?;
		let committee = Committees::<T>::get(statement.round).ok_or(Error::<T>::Corrupt)?;
		let (index, seat) = Self::ensure_seat(statement.round, &committee, signer)?;
		Ok(Accepted { round, index, seat })
	}

	/// Authorises [`Call::submit_statement`]: the cheap checks, then the signature.
	///
	/// `provides` is `(round, level, agent)`, so the pool keeps one statement per seat; the
	/// transaction lives until the round's deadline.
	pub fn authorize_statement(
		_source: TransactionSource,
		statement: &Statement,
		signer: &Public,
		signature: &Signature,
	) -> TransactionValidityWithRefund {
		let invalid = |e: Error<T>| -> TransactionValidityError {
			match e {
				Error::<T>::UnknownRound
				| Error::<T>::RoundDecided
				| Error::<T>::RoundClosed
				| Error::<T>::StaleStep
				| Error::<T>::DuplicateStatement => InvalidTransaction::Stale.into(),
				Error::<T>::WrongGenesis | Error::<T>::NotAPicket => {
					InvalidTransaction::BadProof.into()
				}
				other => InvalidTransaction::Custom(error_code(&other)).into(),
			}
		};
		let Accepted { round, seat, .. } =
			Self::ensure_statement(statement, signer).map_err(invalid)?;
		if !signer.verify(&statement.signing_payload(), signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		let longevity: u64 = round.deadline.saturating_sub(now).saturated_into::<u64>().max(1);
		ValidTransaction::with_tag_prefix(TAG_PREFIX)
			.priority(T::StatementPriority::get())
			.and_provides((statement.round, statement.level, seat.agent))
			.longevity(longevity)
			.propagate(true)
			.build()
			.map(|v| (v, Weight::zero()))
	}

	/// The call behind [`Call::submit_statement`]: re-checks what can change between the pool
	/// and the block (the signature was checked by the authorisation).
	pub(crate) fn do_submit_statement(
		statement: Statement,
		signer: Public,
		signature: Signature,
	) -> DispatchResult {
		let Accepted { round, index, seat } = Self::ensure_statement(&statement, &signer)?;
		Self::do_record(statement, round, index, seat, signature.into_inner())?;
		Ok(())
	}

	/// The call behind [`Call::submit_certificate`].
	pub(crate) fn do_submit_certificate(
		statement: Statement,
		signatures: SignaturesOf<T>,
	) -> DispatchResult {
		let mut round = Self::ensure_statement_context(&statement)?;
		let committee = Committees::<T>::get(statement.round).ok_or(Error::<T>::Corrupt)?;
		certificate::verify(
			&committee,
			round.threshold,
			&statement,
			&signatures,
			|key: &Public, payload, signature| key.verify(&payload, &Signature::from(*signature)),
		)
		.map_err(|e| match e {
			CertificateError::NoSignatures => Error::<T>::NoSignatures,
			CertificateError::TooManySigners => Error::<T>::TooManySigners,
			CertificateError::UnknownSigner(_) => Error::<T>::NotAPicket,
			CertificateError::DuplicateSigner(_) => Error::<T>::DuplicateSigner,
			CertificateError::BelowThreshold { .. } => Error::<T>::BelowThreshold,
			CertificateError::BadSignature(_) => Error::<T>::BadSignature,
		})?;
		for (index, _) in signatures.iter() {
			Self::ensure_agent_active(&committee[*index as usize].agent)?;
		}
		// Record the signers in the given order, as if each had submitted, until decided. A
		// seat that already made a statement keeps it (a different one is an equivocation, for
		// the offence machinery, not a second vote).
		for (index, signature) in signatures {
			if Votes::<T>::contains_key(statement.round, index) {
				continue;
			}
			let seat = committee[index as usize].clone();
			match Self::do_record(statement.clone(), round, index, seat, signature)? {
				Some(open) => round = open,
				None => break,
			}
		}
		Ok(())
	}

	/// Records one statement and decides the round if its value reached the threshold.
	/// Returns the round while it is still open, `None` once decided.
	fn do_record(
		statement: Statement,
		round: RoundInfoOf<T>,
		index: u32,
		seat: Seat<T::AccountId>,
		signature: StoredSignature,
	) -> Result<Option<RoundInfoOf<T>>, DispatchError> {
		let round_id = statement.round;
		let value = statement.body.value_hash();
		Votes::<T>::insert(round_id, index, (statement.body.clone(), signature));
		let tally = Tallies::<T>::mutate(round_id, value, |t| {
			*t = t.saturating_add(seat.slots);
			*t
		});
		Self::deposit_event(Event::StatementRecorded {
			round: round_id,
			agent: seat.agent,
			slots: seat.slots,
			value,
		});
		if tally >= round.threshold {
			Self::do_decide(round_id, round, statement, tally)?;
			return Ok(None);
		}
		Ok(Some(round))
	}
}

/// The index of a pallet error, for `InvalidTransaction::Custom`.
fn error_code<T: Config>(e: &Error<T>) -> u8 {
	e.encode().first().copied().unwrap_or(u8::MAX)
}
