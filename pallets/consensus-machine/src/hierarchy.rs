//! Hierarchical machines: the primary → backup handover (DESIGN §7), run by
//! [`consensus_machine_primitives::handover`] over this pallet's storage.
//!
//! A round of a hierarchical machine is a *family* of rounds, one per started level, each with
//! its own committee, statements and deadline; the level-0 round is the family's root and holds
//! the list of its levels' rounds, the deposit and the decided value. The chain's storage is the
//! paper's storage locations: a statement in a block is an atomic read-and-write, so a
//! pre-decision written before the handover is final and one after it is refused.

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	rounds::NewRound,
	types::{CertificateRecord, OffenceKind, StoredSignature},
};
use alloc::vec::Vec;
use consensus_machine_primitives::{
	handover::{self, HandoverError, LevelRule, Rules, Store, Vote},
	statement::{Body, Hash, RoundId, Statement},
};
use frame_support::{ensure, pallet_prelude::*};
use sp_runtime::{traits::Zero, RuntimeAppPublic};

/// One family of rounds seen through [`Store`]: what the handover machine reads and writes.
pub(crate) struct FamilyStore<T: Config> {
	root_id: RoundId,
	root: RoundInfoOf<T>,
	/// The signature of the vote being recorded.
	signature: Option<StoredSignature>,
	/// Set by the machine when it starts the next level.
	next_level: Option<u8>,
	next_required: Option<Hash>,
	/// The decision the machine made in this call, if any.
	decided: Option<(u8, Hash)>,
}

impl<T: Config> FamilyStore<T> {
	fn load(root_id: RoundId) -> Result<Self, Error<T>> {
		let root = Rounds::<T>::get(root_id).ok_or(Error::<T>::Corrupt)?;
		Ok(Self {
			root_id,
			root,
			signature: None,
			next_level: None,
			next_required: None,
			decided: None,
		})
	}

	fn round_at(&self, level: u8) -> RoundId {
		// Levels up to the current one always have a round; the machine checks the level first.
		self.root.family.get(level as usize).copied().unwrap_or(self.root_id)
	}
}

impl<T: Config> Store<Hash> for FamilyStore<T> {
	fn level(&self) -> u8 {
		self.next_level.unwrap_or(self.root.family.len().saturating_sub(1) as u8)
	}
	fn set_level(&mut self, level: u8) {
		self.next_level = Some(level);
	}
	fn decisions(&self) -> Vec<(u8, Hash)> {
		let level = self.decided.map(|(l, _)| l).unwrap_or(0);
		self.root.value.map(|v| alloc::vec![(level, v)]).unwrap_or_default()
	}
	fn push_decision(&mut self, level: u8, value: Hash) {
		self.root.value = Some(value);
		self.decided = Some((level, value));
	}
	fn has_voted(&self, level: u8, seat: u32) -> bool {
		Votes::<T>::contains_key(self.round_at(level), seat)
	}
	fn record_vote(&mut self, level: u8, seat: u32, vote: &Vote<Hash>) {
		if let Some(signature) = self.signature {
			let body = Body::Decision { value: vote.value().copied() };
			Votes::<T>::insert(self.round_at(level), seat, (body, signature));
		}
	}
	fn tally(&self, level: u8, value: &Hash) -> u32 {
		Tallies::<T>::get(self.round_at(level), value)
	}
	fn set_tally(&mut self, level: u8, value: &Hash, slots: u32) {
		Tallies::<T>::insert(self.round_at(level), value, slots);
	}
	fn tallies(&self, level: u8) -> Vec<(Hash, u32)> {
		Tallies::<T>::iter_prefix(self.round_at(level)).collect()
	}
	fn required(&self, level: u8) -> Option<Hash> {
		Rounds::<T>::get(self.round_at(level)).and_then(|r| r.required)
	}
	fn set_required(&mut self, _level: u8, value: Option<Hash>) {
		self.next_required = value;
	}
}

fn handover_error<T: Config>(e: HandoverError<Hash>) -> Error<T> {
	match e {
		HandoverError::Decided => Error::<T>::RoundDecided,
		HandoverError::LevelNotStarted | HandoverError::UnknownLevel => Error::<T>::WrongLevel,
		HandoverError::HandedOver => Error::<T>::HandedOver,
		HandoverError::DuplicateVote => Error::<T>::DuplicateStatement,
		HandoverError::NullInBackup => Error::<T>::NullInBackup,
		HandoverError::BreaksAdoptionRule { .. } => Error::<T>::BreaksAdoptionRule,
		HandoverError::LastLevel => Error::<T>::LastLevel,
	}
}

impl<T: Config> Pallet<T> {
	/// The handover rules of `machine`'s levels.
	pub(crate) fn rules_of(machine: &MachineInfoOf<T>) -> Rules {
		Rules::new(machine.levels.iter().map(|l| LevelRule::from(l.rule)).collect())
	}

	/// The family root of a decision round.
	pub(crate) fn root_of(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
	) -> Result<RoundInfoOf<T>, Error<T>> {
		if round.root == round_id {
			Ok(round.clone())
		} else {
			Rounds::<T>::get(round.root).ok_or(Error::<T>::Corrupt)
		}
	}

	/// The checks a statement in a decision round needs beyond its context: the level is the
	/// family's current one, and a backup vote keeps the adoption rule.
	pub(crate) fn ensure_decision_vote(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
		value: &Option<Hash>,
	) -> Result<(), Error<T>> {
		let root = Self::root_of(round_id, round)?;
		ensure!(root.value.is_none(), Error::<T>::RoundDecided);
		ensure!(round.level as usize + 1 == root.family.len(), Error::<T>::HandedOver);
		handover::check_vote(round.level, round.required.as_ref(), &Vote::from(*value))
			.map_err(handover_error)
	}

	/// Records a vote of a decision round through the handover machine; decides the family when
	/// the vote brings its value to the level's threshold.
	pub(crate) fn record_decision_vote(
		statement: Statement,
		round: RoundInfoOf<T>,
		seat_index: u32,
		seat: crate::types::Seat<T::AccountId>,
		signature: StoredSignature,
	) -> Result<Option<RoundInfoOf<T>>, DispatchError> {
		let vote = statement.body.as_vote().ok_or(Error::<T>::NotADecisionRound)?;
		let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
		let mut store = FamilyStore::<T>::load(round.root)?;
		store.signature = Some(signature);
		let decided = handover::submit(
			&mut store,
			&Self::rules_of(&machine),
			statement.level,
			seat_index,
			seat.slots,
			&vote,
		)
		.map_err(handover_error::<T>)?;
		Self::deposit_event(Event::StatementRecorded {
			round: statement.round,
			agent: seat.agent.clone(),
			slots: seat.slots,
			value: statement.body.value_hash(),
		});
		if statement.level == 0 {
			let value = vote.value().copied();
			Self::deposit_event(Event::PreDecided { round: round.root, agent: seat.agent, value });
		}
		match decided {
			Some(value) => {
				Self::decide_family(store, statement, value)?;
				Ok(None)
			}
			None => Ok(Some(round)),
		}
	}

	/// Records the deciding level's certificate and the family's value.
	fn decide_family(store: FamilyStore<T>, statement: Statement, value: Hash) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let (root_id, mut root) = (store.root_id, store.root);
		let round_id = statement.round;
		let signatures = Self::agreeing_signatures(round_id, &statement.body)?;
		let signers = signatures.len() as u32;
		let slots = Tallies::<T>::get(round_id, value);
		Certificates::<T>::insert(
			round_id,
			CertificateRecord { statement: statement.clone(), signatures, slots, block: now },
		);
		root.decided = Some(now);
		Self::release_deposit(&mut root)?;
		if round_id != root_id {
			let mut round = Rounds::<T>::get(round_id).ok_or(Error::<T>::Corrupt)?;
			round.decided = Some(now);
			Rounds::<T>::insert(round_id, round);
		}
		let machine = root.machine;
		Rounds::<T>::insert(root_id, root);
		Self::deposit_event(Event::CertificateRecorded {
			round: round_id,
			machine,
			step: 0,
			value: statement.body.value_hash(),
			slots,
			signers,
		});
		Self::deposit_event(Event::Decided { round: root_id, level: statement.level, value });
		Ok(())
	}

	/// Every check of [`Call::start_handover`]; returns the current level's round and the
	/// family root.
	fn ensure_handover(round_id: RoundId) -> Result<(RoundInfoOf<T>, RoundInfoOf<T>), Error<T>> {
		let round = Rounds::<T>::get(round_id).ok_or(Error::<T>::UnknownRound)?;
		ensure!(round.is_decision(), Error::<T>::NotADecisionRound);
		let root = Self::root_of(round_id, &round)?;
		ensure!(root.value.is_none(), Error::<T>::RoundDecided);
		ensure!(round.level as usize + 1 == root.family.len(), Error::<T>::HandedOver);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now > round.deadline, Error::<T>::DeadlineNotPassed);
		let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
		ensure!((round.level as usize) + 1 < machine.levels.len(), Error::<T>::LastLevel);
		Ok((round, root))
	}

	/// Authorises a fee-less [`Call::start_handover`]: one per round and level in the pool.
	pub fn authorize_handover(
		_source: TransactionSource,
		round: &RoundId,
	) -> TransactionValidityWithRefund {
		let (info, _) = Self::ensure_handover(*round)
			.map_err(|_| TransactionValidityError::from(InvalidTransaction::Stale))?;
		ValidTransaction::with_tag_prefix("ConsensusMachineHandover")
			.priority(T::StatementPriority::get())
			.and_provides((info.root, info.level))
			.longevity(16)
			.propagate(true)
			.build()
			.map(|v| (v, Weight::zero()))
	}

	pub(crate) fn do_start_handover(round_id: RoundId) -> Result<RoundId, DispatchError> {
		let (mut round, root) = Self::ensure_handover(round_id)?;
		let machine = Machines::<T>::get(round.machine).ok_or(Error::<T>::Corrupt)?;
		let mut store = FamilyStore::<T>::load(round.root)?;
		let required = handover::start_next_level(&mut store, &Self::rules_of(&machine))
			.map_err(handover_error::<T>)?;
		// The frozen level's silent seats missed their duty.
		Self::record_silent_seats(round_id)?;
		round.closed = true;
		Rounds::<T>::insert(round_id, &round);
		let to_level = round.level + 1;
		let spec = NewRound { level: to_level, root: Some(round.root), required, object: None };
		let backup = Self::start_round(
			root.opener.clone(),
			round.machine,
			&machine,
			Zero::zero(),
			root.subject,
			spec,
		)?;
		let mut root = Rounds::<T>::get(round.root).ok_or(Error::<T>::Corrupt)?;
		root.family.try_push(backup).map_err(|_| Error::<T>::Corrupt)?;
		Rounds::<T>::insert(round.root, root);
		Self::deposit_event(Event::HandoverStarted {
			round: round.root,
			from_level: round.level,
			to_level,
			backup_round: backup,
			required,
		});
		Ok(backup)
	}

	pub(crate) fn do_report_backup_vote(
		reporter: T::AccountId,
		signer: Public,
		statement: Statement,
		signature: StoredSignature,
	) -> DispatchResult {
		ensure!(statement.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		let round = Rounds::<T>::get(statement.round).ok_or(Error::<T>::UnknownRound)?;
		let Body::Decision { value } = statement.body else {
			return Err(Error::<T>::NotADecisionRound.into());
		};
		ensure!(round.is_decision() && round.level > 0, Error::<T>::NotADecisionRound);
		ensure!(statement.level == round.level, Error::<T>::WrongLevel);
		let committee = Committees::<T>::get(statement.round).ok_or(Error::<T>::Corrupt)?;
		let seat = committee.iter().find(|s| s.key == signer).ok_or(Error::<T>::NotAPicket)?;
		ensure!(
			signer.verify(&statement.signing_payload(), &Signature::from(signature)),
			Error::<T>::BadSignature
		);
		ensure!(
			handover::check_vote(round.level, round.required.as_ref(), &Vote::from(value)).is_err(),
			Error::<T>::NotAViolation
		);
		Self::record_offence(
			OffenceKind::BackupRuleViolation,
			seat.agent.clone(),
			statement.round,
			Some(signer),
			alloc::vec![(statement, signature)],
			Some(reporter),
			None,
		)
		.map(|_| ())
	}
}
