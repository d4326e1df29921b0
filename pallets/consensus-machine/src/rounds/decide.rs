//! Deciding rounds of every kind. A certificate decides: a transition round advances its
//! machine's certified trace, a validity round makes its object green, a level of a
//! hierarchical round gives its family a value. A verified red decides a validity round
//! without one: the object is condemned. Each decision emits one
//! [`Event::CertificateRecorded`].

use crate::{
	pallet::*,
	rounds::handover::FamilyStore,
	types::{
		CertificateRecord, Offence, OffenceKind, RoundKind, StoredSignature, TraceEntry,
		ValidityRecord,
	},
};
use consensus_machine_primitives::{
	light::{Light, Verdict},
	statement::{Body, Hash, RoundId, Statement},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision, Defensive, DefensiveOption},
	BoundedVec,
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// The signatures of every recorded statement of `round_id` with `body`, by seat index:
	/// the signer set of a certificate, whichever path recorded them. Bounded by the committee.
	pub(crate) fn agreeing_signatures(round_id: RoundId, body: &Body) -> SignaturesOf<T> {
		let mut signatures: alloc::vec::Vec<(u32, _)> = Statements::<T>::iter_prefix(round_id)
			.filter(|(_, (b, _))| b == body)
			.map(|(seat, (_, signature))| (seat, signature))
			.collect();
		signatures.sort_by_key(|(seat, _)| *seat);
		// One statement per seat, and a committee has at most `MaxCommittee` seats.
		BoundedVec::truncate_from(signatures)
	}

	/// Stores the certificate of `round_id` for `statement` and emits the decision's event.
	fn record_certificate(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
		family: Option<RoundId>,
		statement: Statement,
		value: Hash,
		slots: u32,
	) {
		let signatures = Self::agreeing_signatures(round_id, &statement.body);
		let signers = signatures.len() as u32;
		let block = frame_system::Pallet::<T>::block_number();
		Certificates::<T>::insert(
			round_id,
			CertificateRecord { statement, signatures, slots, block },
		);
		Self::deposit_event(Event::CertificateRecorded {
			round: round_id,
			family,
			machine: round.machine,
			level: round.level,
			value,
			slots,
			signers,
		});
	}

	/// A transition reached the threshold: the machine's certified trace advances by one step
	/// and the opener's deposit goes back.
	pub(crate) fn decide_transition(
		mut round: RoundInfoOf<T>,
		statement: Statement,
		slots: u32,
	) -> DispatchResult {
		let round_id = statement.round;
		let now = frame_system::Pallet::<T>::block_number();
		let mut machine = Self::machine_of(&round)?;
		// The statement checks matched a transition from the machine's label to this round.
		let (Body::Transition { step, output, to, .. }, Some(label)) =
			(&statement.body, machine.label.advance(&statement.body))
		else {
			return Err(Error::<T>::StaleStep).defensive().map_err(Into::into);
		};
		let (step, output, to) = (*step, *output, *to);
		round.decide(now);
		Self::release_deposit(&mut round);
		let value = statement.body.value_hash();
		Self::record_certificate(round_id, &round, None, statement, value, slots);
		Trace::<T>::insert(
			round.machine,
			step,
			TraceEntry { round: round_id, output, to, label, block: now },
		);
		let kept = u64::from(T::MaxTraceLength::get());
		if label.step.saturating_sub(machine.trace_start) > kept {
			Trace::<T>::remove(round.machine, machine.trace_start);
			machine.trace_start = machine.trace_start.saturating_add(1);
		}
		machine.label = label;
		machine.open_round = None;
		let machine_id = round.machine;
		Machines::<T>::insert(machine_id, machine);
		Rounds::<T>::insert(round_id, round);
		Self::deposit_event(Event::MachineAdvanced { machine: machine_id, label });
		Ok(())
	}

	/// Greens reached the threshold: the object is green. The proposer's bond waits for the
	/// challenge window (a valid red may still overturn the green), so it is settled on close.
	pub(crate) fn decide_green(mut round: RoundInfoOf<T>, statement: Statement, slots: u32) {
		let round_id = statement.round;
		let now = frame_system::Pallet::<T>::block_number();
		let RoundKind::Validity { object, ref mut light } = round.kind else {
			frame_support::defensive!("greens decide validity rounds only");
			return;
		};
		*light = Some(Light::Green);
		round.decide(now);
		let value = statement.body.value_hash();
		Self::record_certificate(round_id, &round, None, statement, value, slots);
		let machine = round.machine;
		Rounds::<T>::insert(round_id, round);
		Validity::<T>::insert(
			machine,
			object,
			ValidityRecord { round: round_id, light: Some(Light::Green), evidence: None, at: now },
		);
		Self::deposit_event(Event::LightDecided { round: round_id, object, light: Light::Green });
	}

	/// A red's evidence verified: the object is red for good. Every green on it is an offence,
	/// and the proposer forfeits its bond. `red` is the verdict (a picket's, or one standing for
	/// an outside challenge: then `signature` is `None`); the greens' offences are proven by
	/// their own signed statements.
	pub(crate) fn do_condemn(
		mut round: RoundInfoOf<T>,
		red: Statement,
		signature: Option<StoredSignature>,
		evidence: Hash,
	) -> DispatchResult {
		let round_id = red.round;
		let now = frame_system::Pallet::<T>::block_number();
		let RoundKind::Validity { object, ref mut light } = round.kind else {
			return Err(Error::<T>::WrongKind).defensive().map_err(Into::into);
		};
		let overturned = *light == Some(Light::Green);
		*light = Some(Light::Red);
		round.decide(now);
		// The bond now belongs to the penalty, not to the round.
		let bond = core::mem::replace(&mut round.deposit, Zero::zero());
		Rounds::<T>::insert(round_id, &round);
		Validity::<T>::insert(
			round.machine,
			object,
			ValidityRecord {
				round: round_id,
				light: Some(Light::Red),
				evidence: Some(evidence),
				at: now,
			},
		);
		if overturned {
			Self::deposit_event(Event::GreenOverturned { round: round_id, object });
		}
		Self::deposit_event(Event::LightDecided { round: round_id, object, light: Light::Red });
		// Greens on a red object: bounded by the committee size. Each seat made one statement,
		// so none of these offences can have been recorded before.
		let greens = Statements::<T>::iter_prefix(round_id)
			.filter(|(_, (body, _))| matches!(body, Body::Verdict { verdict: Verdict::Green, .. }));
		let mut seat_of = Self::seat_reader(round_id);
		for (index, (body, green_signature)) in greens.collect::<alloc::vec::Vec<_>>() {
			let Some(seat) = seat_of(index) else {
				frame_support::defensive!("a statement comes from a seat of the committee");
				continue;
			};
			let kind = OffenceKind::WrongVerdict;
			if Self::is_reported(&seat.agent, round_id, kind) {
				continue;
			}
			let green = Statement { body, ..red.clone() };
			let proof = alloc::vec![(green, green_signature)];
			Self::report(Offence::signed(kind, seat.agent, round_id, seat.key, proof))?;
		}
		if !bond.is_zero() && !Self::is_reported(&round.opener, round_id, OffenceKind::RedProposal)
		{
			// The whole bond: the red, whoever signed it, is the proof. The pickets take it into
			// their custody with the offence (to slash it, or give it back if cancelled).
			let released = T::Currency::release(
				&HoldReason::ProposalBond.into(),
				&round.opener,
				bond,
				Precision::BestEffort,
			)
			// Nothing released (which only a bug can cause) is nothing forfeited: the supplier
			// must not take the bond a second time from the proposer's free balance.
			.defensive_unwrap_or(Zero::zero());
			Self::report(Offence {
				statements: signature.map(|s| alloc::vec![(red, s)]).unwrap_or_default(),
				base: Some(released),
				..Offence::new(OffenceKind::RedProposal, round.opener.clone(), round_id)
			})?;
		}
		Ok(())
	}

	/// Red evidence against a green from anyone, within its challenge window: a green's
	/// judges are one machine's committee, but the evidence speaks for itself. Returns the
	/// committee's size (what overturning the greens cost).
	pub(crate) fn do_challenge_green(
		challenger: T::AccountId,
		round_id: RoundId,
		evidence: alloc::vec::Vec<u8>,
	) -> Result<u32, DispatchError> {
		ensure!(evidence.len() <= T::MaxEvidenceLen::get() as usize, Error::<T>::EvidenceTooLong);
		let round = Rounds::<T>::get(round_id).ok_or(Error::<T>::UnknownRound)?;
		let RoundKind::Validity { object, light } = round.kind else {
			return Err(Error::<T>::WrongKind.into());
		};
		ensure!(light == Some(Light::Green), Error::<T>::NotGreen);
		let now = frame_system::Pallet::<T>::block_number();
		let decided = round.decided().defensive_ok_or(Error::<T>::Corrupt)?;
		ensure!(
			now <= decided.saturating_add(T::ChallengeWindow::get()),
			Error::<T>::ChallengeWindowClosed
		);
		use consensus_machine_primitives::light::EvidenceVerifier;
		ensure!(T::EvidenceVerifier::verify(&object, &evidence), Error::<T>::InvalidEvidence);
		let hash = sp_io::hashing::blake2_256(&evidence);
		let red = Statement {
			genesis: Self::genesis_hash(),
			machine: round.machine,
			round: round_id,
			instance: round.draw().defensive_ok_or(Error::<T>::Corrupt)?.instance,
			level: round.level,
			body: Body::Verdict { object: object.hash, verdict: Verdict::Red { evidence: hash } },
		};
		Self::do_condemn(round, red, None, hash)?;
		Self::deposit_event(Event::GreenChallenged { round: round_id, challenger, evidence: hash });
		Ok(Self::committee_size(round_id))
	}

	/// A level of a hierarchical round reached its threshold: records its certificate and the
	/// family's value, and returns the family's deposit.
	pub(crate) fn decide_family(
		store: FamilyStore<T>,
		statement: Statement,
		value: Hash,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let (root_id, mut root) = store.into_root();
		let round_id = statement.round;
		let mut round = if round_id == root_id {
			root.clone()
		} else {
			Rounds::<T>::get(round_id).defensive_ok_or(Error::<T>::Corrupt)?
		};
		let slots = Tallies::<T>::get(round_id, value);
		round.decide(now);
		root.decide(now);
		Self::release_deposit(&mut root);
		Self::record_certificate(round_id, &round, Some(root_id), statement, value, slots);
		if round_id != root_id {
			Rounds::<T>::insert(round_id, round);
		}
		Rounds::<T>::insert(root_id, root);
		Ok(())
	}
}
