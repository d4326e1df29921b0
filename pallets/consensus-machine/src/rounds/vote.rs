//! Voting in rounds of every kind: statements one by one ([`Call::submit_statement`], fee-less
//! and authorised by their signature) and aggregated certificates
//! ([`Call::submit_certificate`]), the checks both paths share, and the tallies. A statement
//! that brings its value to the threshold hands over to [`super::decide`].

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	rounds::handover::FamilyStore,
	types::{Offence, OffenceKind, RoundKind, Seat, StoredSignature},
	weights::WeightInfo,
};
use alloc::vec::Vec;
use consensus_machine_primitives::pickets::Pickets;
use consensus_machine_primitives::{
	certificate::{self, CertificateError},
	handover::{self, Rules, Vote},
	light::{EvidenceVerifier, Light, Verdict},
	statement::{Body, Hash, RoundId, Statement},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{Defensive, DefensiveOption},
};
use sp_io::hashing::blake2_256;
use sp_runtime::{traits::Saturating, SaturatedConversion};

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
		let draw = round.draw().ok_or(Error::<T>::RoundNotDrawn)?;
		ensure!(statement.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		ensure!(statement.machine == round.machine, Error::<T>::WrongMachine);
		ensure!(statement.instance == draw.instance, Error::<T>::WrongInstance);
		ensure!(statement.level == round.level, Error::<T>::WrongLevel);
		let now = frame_system::Pallet::<T>::block_number();
		let open = round.takes_statements(now);
		match (&statement.body, &round.kind) {
			(Body::Decision { value }, RoundKind::Primary { .. } | RoundKind::Backup { .. }) => {
				Self::ensure_decision_vote(statement.round, &round, value)?;
				ensure!(open, Error::<T>::DeadlinePassed);
			}
			(Body::Transition { step, from, .. }, RoundKind::Transition { step: round_step }) => {
				let machine = Self::machine_of(&round)?;
				ensure!(round.decided().is_none(), Error::<T>::RoundDecided);
				ensure!(open, Error::<T>::DeadlinePassed);
				ensure!(*step == *round_step && *step == machine.label.step, Error::<T>::StaleStep);
				ensure!(*from == machine.label.hash, Error::<T>::WrongFromHash);
			}
			(Body::Verdict { object, verdict }, RoundKind::Validity { object: judged, light }) => {
				ensure!(*object == judged.hash, Error::<T>::WrongObject);
				match round.decided() {
					// After a green, only a red may still come, within the challenge window.
					Some(at) => ensure!(
						matches!(verdict, Verdict::Red { .. })
							&& *light == Some(Light::Green)
							&& now <= at.saturating_add(T::ChallengeWindow::get()),
						Error::<T>::RoundDecided
					),
					None => ensure!(open, Error::<T>::DeadlinePassed),
				}
			}
			_ => return Err(Error::<T>::WrongKind),
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

	/// Seat `index` of `round`, if it may still make a statement there: one read of that seat's
	/// chunk, not of the committee.
	fn ensure_seat(round: RoundId, index: u32) -> Result<Seat<T::AccountId>, Error<T>> {
		let seat = Self::seat(round, index).ok_or(Error::<T>::NotAPicket)?;
		ensure!(!Statements::<T>::contains_key(round, index), Error::<T>::DuplicateStatement);
		Self::ensure_may_sign(&seat.agent)?;
		Ok(seat)
	}

	/// Every check of a single statement except the signature, cheapest first: the evidence
	/// is hashed last.
	fn ensure_statement(
		statement: &Statement,
		index: u32,
		evidence: Option<&[u8]>,
	) -> Result<Accepted<T>, Error<T>> {
		// Call arguments take evidence of any length (so that it decodes): bound it first.
		let max = T::MaxEvidenceLen::get() as usize;
		ensure!(evidence.is_none_or(|e| e.len() <= max), Error::<T>::EvidenceTooLong);
		let round = Self::ensure_statement_context(statement)?;
		let seat = Self::ensure_seat(statement.round, index)?;
		Self::ensure_evidence(&statement.body, evidence)?;
		Ok(Accepted { round, index, seat })
	}

	/// Authorises [`Call::submit_statement`]: the cheap checks, then the one signature check
	/// against the key of the named seat.
	///
	/// `provides` is `(round, level, agent)`, so the pool keeps one statement per seat; the
	/// transaction lives until the round's deadline.
	pub fn authorize_statement(
		_source: TransactionSource,
		statement: &Statement,
		seat: &u32,
		signature: &Signature,
		evidence: &Option<Vec<u8>>,
	) -> TransactionValidityWithRefund {
		let invalid = |e: Error<T>| -> TransactionValidityError {
			match e {
				Error::<T>::UnknownRound
				| Error::<T>::RoundDecided
				| Error::<T>::DeadlinePassed
				| Error::<T>::StaleStep
				| Error::<T>::DuplicateStatement => InvalidTransaction::Stale.into(),
				Error::<T>::WrongGenesis | Error::<T>::NotAPicket => {
					InvalidTransaction::BadProof.into()
				}
				other => InvalidTransaction::Custom(error_code(&other)).into(),
			}
		};
		let Accepted { round, seat, .. } =
			Self::ensure_statement(statement, *seat, evidence.as_deref()).map_err(invalid)?;
		if !crate::crypto::verify(&seat.key, &statement.signing_payload(), signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		let until = match (round.decided(), round.draw()) {
			(Some(at), _) => at.saturating_add(T::ChallengeWindow::get()),
			(None, Some(draw)) => draw.deadline,
			// Accepted statements are for drawn rounds.
			(None, None) => now,
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
	/// and the block (the signature was checked by the authorisation). Returns the weight of
	/// what it did: a red's (however it ends), a decision's over the committee, a vote's, or
	/// that of a decision over no seats for another statement that decides nothing.
	pub(crate) fn do_submit_statement(
		statement: Statement,
		seat: u32,
		signature: Signature,
		evidence: Option<Vec<u8>>,
	) -> Result<Weight, DispatchError> {
		let evidence = evidence.as_deref();
		let Accepted { round, index, seat } = Self::ensure_statement(&statement, seat, evidence)?;
		let seats = Self::committee_size(statement.round);
		let red = evidence.map(|e| e.len() as u32);
		let vote = matches!(statement.body, Body::Decision { .. });
		let open =
			Self::do_record(statement, round, index, seat, signature.into_inner(), evidence, true)?;
		Ok(match (red, open) {
			(Some(len), _) => T::WeightInfo::submit_red(seats, len),
			(None, Some(_)) if vote => T::WeightInfo::submit_vote(),
			(None, None) if vote => T::WeightInfo::submit_decision(seats),
			// A transition or validity statement: a decision over no seats bounds a statement
			// that decides nothing.
			(None, Some(_)) => T::WeightInfo::submit_statement(0),
			(None, None) => T::WeightInfo::submit_statement(seats),
		})
	}

	/// The call behind [`Call::submit_certificate`]. Returns how many signers it proved to
	/// have equivocated, and whether it decided the round.
	pub(crate) fn do_submit_certificate(
		submitter: T::AccountId,
		statement: Statement,
		signatures: Vec<(u32, StoredSignature)>,
	) -> Result<(u32, bool), DispatchError> {
		ensure!(
			!matches!(statement.body, Body::Verdict { verdict: Verdict::Red { .. }, .. }),
			Error::<T>::RedInCertificate
		);
		let mut round = Self::ensure_statement_context(&statement)?;
		let seats = Self::certificate_seats(&statement, round.threshold, &signatures)?;
		// Record the signers in the given order, as if each had submitted, until decided. A
		// seat that already made a statement keeps it (and may be proven to equivocate). A
		// hierarchical round's family (machine rules, root, the level's requirement and tally)
		// is loaded once for every signer; signers get no event each, the certificate one.
		let mut family = match round.kind {
			RoundKind::Primary { .. } | RoundKind::Backup { .. } => {
				Some(Self::load_family(statement.round, &round)?)
			}
			_ => None,
		};
		let (mut proven, mut signers, mut slots) = (0, 0u32, 0u32);
		for ((index, signature), seat) in signatures.into_iter().zip(seats) {
			if let Some(earlier) = Statements::<T>::get(statement.round, index) {
				if Self::prove_equivocation(&submitter, &statement, seat, signature, earlier)? {
					proven += 1;
				}
				continue;
			}
			signers += 1;
			slots = slots.saturating_add(seat.slots);
			let decided = match family.as_mut() {
				Some((rules, store)) => {
					let announce = false;
					match Self::record_family_vote(
						store, rules, &statement, index, &seat, signature, announce,
					)? {
						Some(value) => family.take().map(|(_, store)| (store, value)),
						None => None,
					}
				}
				None => {
					match Self::do_record(
						statement.clone(),
						round,
						index,
						seat,
						signature,
						None,
						false,
					)? {
						Some(open) => {
							round = open;
							continue;
						}
						None => return Ok((proven, true)),
					}
				}
			};
			if let Some((store, value)) = decided {
				Self::decide_family(store, statement, value)?;
				return Ok((proven, true));
			}
		}
		if signers > 0 {
			let value = statement.body.value_hash();
			Self::deposit_event(Event::CertificateCounted {
				round: statement.round,
				value,
				signers,
				slots,
			});
		}
		Ok((proven, false))
	}

	/// The seats of a certificate's `signatures`, once it checks out: each a seat of the
	/// committee, none twice, enough slots, every signature right, and every signer allowed to
	/// sign.
	fn certificate_seats(
		statement: &Statement,
		threshold: u32,
		signatures: &[(u32, StoredSignature)],
	) -> Result<Vec<Seat<T::AccountId>>, DispatchError> {
		let size = Self::committee_size(statement.round);
		let (_, seats) = certificate::verify_seats(
			size,
			Self::seat_reader(statement.round),
			threshold,
			statement,
			signatures,
			|key: &Public, payload, signature| {
				crate::crypto::verify(key, payload, &Signature::from(*signature))
			},
		)
		.map_err(|e| match e {
			CertificateError::NoSignatures => Error::<T>::NoSignatures,
			CertificateError::TooManySigners => Error::<T>::TooManySigners,
			CertificateError::UnknownSigner(_) => Error::<T>::NotAPicket,
			CertificateError::DuplicateSigner(_) => Error::<T>::DuplicateSigner,
			CertificateError::BelowThreshold { .. } => Error::<T>::BelowThreshold,
			CertificateError::BadSignature(_) => Error::<T>::BadSignature,
		})?;
		T::Pickets::may_all_sign(seats.iter().map(|seat| &seat.agent)).map_err(Error::<T>::from)?;
		Ok(seats)
	}

	/// A certificate's signer whose seat already made a statement (`earlier`): if that one
	/// says something else, the two signed statements prove an equivocation, recorded with the
	/// submitter as reporter. Returns whether this call proved one.
	fn prove_equivocation(
		submitter: &T::AccountId,
		statement: &Statement,
		seat: Seat<T::AccountId>,
		signature: StoredSignature,
		(body, earlier): (Body, StoredSignature),
	) -> Result<bool, DispatchError> {
		let kind = OffenceKind::Equivocation;
		if body == statement.body || Self::is_reported(&seat.agent, statement.round, kind) {
			return Ok(false);
		}
		let first = Statement { body, ..statement.clone() };
		let proof = alloc::vec![(first, earlier), (statement.clone(), signature)];
		Self::report(
			Offence::signed(kind, seat.agent, statement.round, seat.key, proof)
				.reported_by(Some(submitter.clone())),
		)?;
		Ok(true)
	}

	/// Records one statement and acts on it, by the round's kind. Returns the round while it
	/// still takes statements, `None` once decided.
	fn do_record(
		statement: Statement,
		round: RoundInfoOf<T>,
		index: u32,
		seat: Seat<T::AccountId>,
		signature: StoredSignature,
		evidence: Option<&[u8]>,
		announce: bool,
	) -> Result<Option<RoundInfoOf<T>>, DispatchError> {
		match round.kind {
			RoundKind::Primary { .. } | RoundKind::Backup { .. } => {
				let (rules, mut store) = Self::load_family(statement.round, &round)?;
				let recorded = Self::record_family_vote(
					&mut store, &rules, &statement, index, &seat, signature, announce,
				)?;
				match recorded {
					Some(value) => {
						Self::decide_family(store, statement, value)?;
						Ok(None)
					}
					None => Ok(Some(round)),
				}
			}
			RoundKind::Transition { .. } => {
				let tally = Self::record_statement(&statement, index, &seat, signature, announce);
				if tally < round.threshold {
					return Ok(Some(round));
				}
				Self::decide_transition(round, statement, tally)?;
				Ok(None)
			}
			RoundKind::Validity { object, .. } => {
				// The statement checks matched a verdict to a validity round.
				let Body::Verdict { verdict, .. } = statement.body else {
					return Err(Error::<T>::WrongKind).defensive().map_err(Into::into);
				};
				// ... and a red to its evidence.
				let red_evidence = match verdict {
					Verdict::Red { .. } => {
						Some(evidence.defensive_ok_or(Error::<T>::MissingEvidence)?)
					}
					Verdict::Green | Verdict::Amber => None,
				};
				let tally = Self::record_statement(&statement, index, &seat, signature, announce);
				match verdict {
					Verdict::Green if tally >= round.threshold => {
						Self::decide_green(round, statement, tally);
						Ok(None)
					}
					Verdict::Green | Verdict::Amber => Ok(Some(round)),
					Verdict::Red { evidence: hash } => {
						let bytes = red_evidence.unwrap_or_default();
						if T::EvidenceVerifier::verify(&object, bytes) {
							Self::do_condemn(round, statement, Some(signature), hash)?;
							return Ok(None);
						}
						// A red that proves nothing is recorded, does not count, and is an
						// offence.
						let kind = OffenceKind::FalseRed;
						if !Self::is_reported(&seat.agent, statement.round, kind) {
							let (round, proof) =
								(statement.round, alloc::vec![(statement, signature)]);
							Self::report(Offence::signed(
								kind, seat.agent, round, seat.key, proof,
							))?;
						}
						Ok(Some(round))
					}
				}
			}
		}
	}

	/// Stores a statement of a transition or validity round and adds its seat's slots to its
	/// value's tally; returns the new tally. `announce`: emit [`Event::StatementRecorded`].
	fn record_statement(
		statement: &Statement,
		index: u32,
		seat: &Seat<T::AccountId>,
		signature: StoredSignature,
		announce: bool,
	) -> u32 {
		let round_id = statement.round;
		let value = statement.body.value_hash();
		Statements::<T>::insert(round_id, index, (statement.body.clone(), signature));
		let tally = Tallies::<T>::mutate(round_id, value, |t| {
			*t = t.saturating_add(seat.slots);
			*t
		});
		if announce {
			Self::deposit_event(Event::StatementRecorded {
				round: round_id,
				agent: seat.agent.clone(),
				slots: seat.slots,
				value,
			});
		}
		tally
	}

	/// The checks a statement in a hierarchical round needs beyond its context: the family is
	/// undecided, the level is its current one, and a backup vote keeps the adoption rule.
	pub(crate) fn ensure_decision_vote(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
		value: &Option<Hash>,
	) -> Result<(), Error<T>> {
		let (_, root) = Self::family_root(round_id, round)?;
		let RoundKind::Primary { levels, value: decided } = &root.kind else {
			return Err(Error::<T>::Corrupt).defensive();
		};
		ensure!(decided.is_none(), Error::<T>::RoundDecided);
		ensure!(levels.last() == Some(&round_id), Error::<T>::HandedOver);
		handover::check_vote(round.level, round.required().as_ref(), &Vote::from(*value))
			.map_err(Self::handover_error)
	}

	/// The family of hierarchical round `round_id` as the handover machine sees it, and its
	/// machine's rules: read once per call, however many votes it records.
	fn load_family(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
	) -> Result<(Rules, FamilyStore<T>), DispatchError> {
		let machine = Self::machine_of(round)?;
		let (root_id, root) = Self::family_root(round_id, round)?;
		Ok((Self::rules_of(&machine), FamilyStore::<T>::new(root_id, root)?))
	}

	/// Records a vote of a hierarchical round through the handover machine. Returns the
	/// family's value when the vote brings it to the level's threshold (the caller decides the
	/// family). `announce`: emit [`Event::StatementRecorded`] (and [`Event::PreDecided`] at
	/// level 0).
	fn record_family_vote(
		store: &mut FamilyStore<T>,
		rules: &Rules,
		statement: &Statement,
		seat_index: u32,
		seat: &Seat<T::AccountId>,
		signature: StoredSignature,
		announce: bool,
	) -> Result<Option<Hash>, DispatchError> {
		let vote = statement.body.as_vote().ok_or(Error::<T>::WrongKind)?;
		store.signature = Some(signature);
		let decided =
			handover::submit(store, rules, statement.level, seat_index, seat.slots, &vote)
				.map_err(Self::handover_error)?;
		if announce {
			Self::deposit_event(Event::StatementRecorded {
				round: statement.round,
				agent: seat.agent.clone(),
				slots: seat.slots,
				value: statement.body.value_hash(),
			});
			if statement.level == 0 {
				let value = vote.value().copied();
				let (round, agent) = (store.root_id(), seat.agent.clone());
				Self::deposit_event(Event::PreDecided { round, agent, value });
			}
		}
		Ok(decided)
	}
}

/// The index of a pallet error, for `InvalidTransaction::Custom`.
fn error_code<T: Config>(e: &Error<T>) -> u8 {
	e.encode().first().copied().unwrap_or(u8::MAX)
}
