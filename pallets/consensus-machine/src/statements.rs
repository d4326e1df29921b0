//! Statements and certificates: the checks both submission paths share, the authorisation of
//! fee-less statements, and the tally that decides a round.

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	types::{AgentStatus, OffenceKind, Seat, StoredSignature},
};
use consensus_machine_primitives::{
	certificate::{self, CertificateError},
	light::{EvidenceVerifier, Light, Verdict},
	statement::{Body, RoundId, Statement},
};
use frame_support::{ensure, pallet_prelude::*};
use sp_io::hashing::blake2_256;
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
	/// The checks on a statement that need no signer: chain, round, machine, level, what the
	/// body is about, and that the round still takes this statement. Returns the round.
	pub(crate) fn ensure_statement_context(
		statement: &Statement,
	) -> Result<RoundInfoOf<T>, Error<T>> {
		let round = Rounds::<T>::get(statement.round).ok_or(Error::<T>::UnknownRound)?;
		ensure!(statement.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		ensure!(statement.machine == round.machine, Error::<T>::WrongMachine);
		ensure!(statement.level == round.level, Error::<T>::WrongLevel);
		let now = frame_system::Pallet::<T>::block_number();
		match (&statement.body, &round.object) {
			(Body::Decision { value }, None) if round.is_decision() => {
				Self::ensure_decision_vote(statement.round, &round, value)?;
				ensure!(now <= round.deadline && !round.closed, Error::<T>::RoundClosed);
			}
			(_, None) if round.is_decision() => return Err(Error::<T>::WrongObject),
			(Body::Transition { step, from, .. }, None) => {
				let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
				ensure!(round.decided.is_none(), Error::<T>::RoundDecided);
				ensure!(now <= round.deadline && !round.closed, Error::<T>::RoundClosed);
				ensure!(*step == round.step && *step == machine.label.step, Error::<T>::StaleStep);
				ensure!(*from == machine.label.hash, Error::<T>::WrongFromHash);
			}
			(Body::Verdict { object, verdict }, Some(judged)) => {
				ensure!(*object == judged.hash, Error::<T>::WrongObject);
				match round.decided {
					// After a green, only a red may still come, within the challenge window.
					Some(at) => ensure!(
						matches!(verdict, Verdict::Red { .. })
							&& round.light == Some(Light::Green)
							&& now <= at.saturating_add(T::ChallengeWindow::get()),
						Error::<T>::RoundDecided
					),
					None => {
						ensure!(now <= round.deadline && !round.closed, Error::<T>::RoundClosed)
					}
				}
			}
			_ => return Err(Error::<T>::WrongObject),
		}
		Ok(round)
	}

	/// A red verdict carries the evidence whose hash it signed; nothing else carries any.
	fn ensure_evidence(body: &Body, evidence: Option<&[u8]>) -> Result<(), Error<T>> {
		match (body, evidence) {
			(Body::Verdict { verdict: Verdict::Red { evidence: hash }, .. }, Some(bytes)) => {
				ensure!(blake2_256(bytes) == *hash, Error::<T>::EvidenceMismatch);
				Ok(())
			}
			(Body::Verdict { verdict: Verdict::Red { .. }, .. }, None) => {
				Err(Error::<T>::MissingEvidence)
			}
			(_, Some(_)) => Err(Error::<T>::UnexpectedEvidence),
			(_, None) => Ok(()),
		}
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
	fn ensure_statement(
		statement: &Statement,
		signer: &Public,
		evidence: Option<&[u8]>,
	) -> Result<Accepted<T>, Error<T>> {
		let round = Self::ensure_statement_context(statement)?;
		let committee = Committees::<T>::get(statement.round).ok_or(Error::<T>::Corrupt)?;
		let (index, seat) = Self::ensure_seat(statement.round, &committee, signer)?;
		Self::ensure_evidence(&statement.body, evidence)?;
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
		evidence: &Option<EvidenceOf<T>>,
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
			Self::ensure_statement(statement, signer, evidence.as_ref().map(|e| &e[..]))
				.map_err(invalid)?;
		if !signer.verify(&statement.signing_payload(), signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		let until = match round.decided {
			Some(at) => at.saturating_add(T::ChallengeWindow::get()),
			None => round.deadline,
		};
		let longevity: u64 = until.saturating_sub(now).saturated_into::<u64>().max(1);
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
		evidence: Option<EvidenceOf<T>>,
	) -> DispatchResult {
		let evidence = evidence.as_ref().map(|e| &e[..]);
		let Accepted { round, index, seat } =
			Self::ensure_statement(&statement, &signer, evidence)?;
		Self::do_record(statement, round, index, seat, signature.into_inner(), evidence)?;
		Ok(())
	}

	/// The call behind [`Call::submit_certificate`].
	pub(crate) fn do_submit_certificate(
		submitter: T::AccountId,
		statement: Statement,
		signatures: SignaturesOf<T>,
	) -> DispatchResult {
		ensure!(
			!matches!(statement.body, Body::Verdict { verdict: Verdict::Red { .. }, .. }),
			Error::<T>::RedInCertificate
		);
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
		// seat that already made a statement keeps it; if that one differs, the two signed
		// statements prove an equivocation, recorded with the submitter as reporter.
		for (index, signature) in signatures {
			let seat = committee[index as usize].clone();
			if let Some((body, earlier)) = Votes::<T>::get(statement.round, index) {
				if body != statement.body {
					let first = Statement { body, ..statement.clone() };
					let _already_reported = Self::record_offence(
						OffenceKind::Equivocation,
						seat.agent.clone(),
						statement.round,
						Some(seat.key.clone()),
						alloc::vec![(first, earlier), (statement.clone(), signature)],
						Some(submitter.clone()),
						None,
					);
				}
				continue;
			}
			match Self::do_record(statement.clone(), round, index, seat, signature, None)? {
				Some(open) => round = open,
				None => break,
			}
		}
		Ok(())
	}

	/// Records one statement and acts on it: a transition or green that brings its value to the
	/// threshold decides the round; a red with verified evidence condemns the object; a red
	/// whose evidence fails is recorded, does not count, and is an offence.
	/// Returns the round while it still takes statements, `None` once decided.
	fn do_record(
		statement: Statement,
		round: RoundInfoOf<T>,
		index: u32,
		seat: Seat<T::AccountId>,
		signature: StoredSignature,
		evidence: Option<&[u8]>,
	) -> Result<Option<RoundInfoOf<T>>, DispatchError> {
		if let Body::Decision { .. } = statement.body {
			return Self::record_decision_vote(statement, round, index, seat, signature);
		}
		let round_id = statement.round;
		let value = statement.body.value_hash();
		Votes::<T>::insert(round_id, index, (statement.body.clone(), signature));
		let tally = Tallies::<T>::mutate(round_id, value, |t| {
			*t = t.saturating_add(seat.slots);
			*t
		});
		Self::deposit_event(Event::StatementRecorded {
			round: round_id,
			agent: seat.agent.clone(),
			slots: seat.slots,
			value,
		});
		if let Body::Verdict { verdict: Verdict::Red { evidence: hash }, .. } = statement.body {
			let object = round.object.ok_or(Error::<T>::Corrupt)?;
			let bytes = evidence.ok_or(Error::<T>::MissingEvidence)?;
			if T::EvidenceVerifier::verify(&object, bytes) {
				Self::do_condemn(round_id, round, statement, signature, hash)?;
				return Ok(None);
			}
			Self::record_offence(
				OffenceKind::FalseRed,
				seat.agent,
				round_id,
				Some(seat.key),
				alloc::vec![(statement, signature)],
				None,
				None,
			)?;
			return Ok(Some(round));
		}
		if statement.body.decides_at_threshold() && tally >= round.threshold {
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
