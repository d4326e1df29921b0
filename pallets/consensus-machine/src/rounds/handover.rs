//! The handover of hierarchical rounds: when a level's deadline passes undecided, anyone
//! ([`Call::start_handover`], fee-less) freezes its pre-decisions and starts the next level
//! with a committee of its own, which must adopt any value more than the frozen level's
//! `max_bad` slots pre-decided. [`consensus_machine_primitives::handover`] is that state
//! machine (model-checked in the workspace's `tests/`); this module runs it over the pallet's
//! storage ([`FamilyStore`]) and lets anyone report a backup vote that breaks its rule.
//!
//! A round of a hierarchical machine is a *family* of rounds, one per started level, each with
//! its own committee, statements and deadline; the level-0 round ([`RoundKind::Primary`]) is
//! the family's root and holds its levels' rounds, the deposit and the decided value. The
//! chain's storage is the paper's storage locations: a statement in a block is an atomic
//! read-and-write, so a pre-decision written before the handover is final and one after it is
//! refused.

use crate::{
	crypto::Signature,
	pallet::*,
	rounds::open::Commitment,
	types::{Offence, OffenceKind, RoundKind, StoredSignature},
};
use alloc::vec::Vec;
use consensus_machine_primitives::{
	handover::{self, HandoverError, Store, Vote},
	statement::{Body, Hash, RoundId, Statement},
};
use frame_support::{ensure, pallet_prelude::*, traits::Defensive};
use sp_runtime::traits::Zero;

/// One family of rounds seen through [`Store`]: what the handover machine reads and writes.
pub(crate) struct FamilyStore<T: Config> {
	root_id: RoundId,
	root: RoundInfoOf<T>,
	/// The family's levels' rounds (from the root's [`RoundKind::Primary`]).
	levels: Vec<RoundId>,
	/// The signature of the vote being recorded.
	pub(crate) signature: Option<StoredSignature>,
	/// Set by the machine when it starts the next level.
	next_level: Option<u8>,
	/// The decision the machine made in this call, if any.
	decided: Option<(u8, Hash)>,
	/// The value the current level must adopt, read once (a certificate's signers all ask).
	current_required: core::cell::OnceCell<Option<Hash>>,
	/// The last tally written, so that a certificate's signers add up without reading it back.
	last_tally: Option<(u8, Hash, u32)>,
}

impl<T: Config> FamilyStore<T> {
	/// The family whose level-0 round `root_id` the caller has already read.
	pub(crate) fn new(root_id: RoundId, root: RoundInfoOf<T>) -> Result<Self, Error<T>> {
		let RoundKind::Primary { levels, .. } = &root.kind else {
			return Err(Error::<T>::Corrupt).defensive();
		};
		let levels = levels.to_vec();
		Ok(Self {
			root_id,
			root,
			levels,
			signature: None,
			next_level: None,
			decided: None,
			current_required: core::cell::OnceCell::new(),
			last_tally: None,
		})
	}

	/// The family's level-0 round.
	pub(crate) fn root_id(&self) -> RoundId {
		self.root_id
	}

	/// The root's id and info, with the value the machine decided in this call, if any.
	pub(crate) fn into_root(self) -> (RoundId, RoundInfoOf<T>) {
		(self.root_id, self.root)
	}

	fn round_at(&self, level: u8) -> RoundId {
		// Levels up to the current one always have a round; the machine checks the level first.
		self.levels.get(level as usize).copied().unwrap_or(self.root_id)
	}

	fn value(&self) -> Option<Hash> {
		match self.root.kind {
			RoundKind::Primary { value, .. } => value,
			_ => None,
		}
	}
}

impl<T: Config> Store<Hash> for FamilyStore<T> {
	fn level(&self) -> u8 {
		self.next_level.unwrap_or(self.levels.len().saturating_sub(1) as u8)
	}
	fn set_level(&mut self, level: u8) {
		self.next_level = Some(level);
	}
	fn decisions(&self) -> Vec<(u8, Hash)> {
		let level = self.decided.map(|(l, _)| l).unwrap_or(0);
		self.value().map(|v| alloc::vec![(level, v)]).unwrap_or_default()
	}
	fn push_decision(&mut self, level: u8, value: Hash) {
		if let RoundKind::Primary { value: decided, .. } = &mut self.root.kind {
			*decided = Some(value);
		}
		self.decided = Some((level, value));
	}
	fn has_voted(&self, level: u8, seat: u32) -> bool {
		Statements::<T>::contains_key(self.round_at(level), seat)
	}
	fn record_vote(&mut self, level: u8, seat: u32, vote: &Vote<Hash>) {
		if let Some(signature) = self.signature {
			let body = Body::Decision { value: vote.value().copied() };
			Statements::<T>::insert(self.round_at(level), seat, (body, signature));
		}
	}
	fn tally(&self, level: u8, value: &Hash) -> u32 {
		match self.last_tally {
			Some((l, v, slots)) if l == level && v == *value => slots,
			_ => Tallies::<T>::get(self.round_at(level), value),
		}
	}
	fn set_tally(&mut self, level: u8, value: &Hash, slots: u32) {
		Tallies::<T>::insert(self.round_at(level), value, slots);
		self.last_tally = Some((level, *value, slots));
	}
	fn tallies(&self, level: u8) -> Vec<(Hash, u32)> {
		Tallies::<T>::iter_prefix(self.round_at(level)).collect()
	}
	fn required(&self, level: u8) -> Option<Hash> {
		let read = || Rounds::<T>::get(self.round_at(level)).and_then(|r| r.required());
		// The current level's requirement is fixed when the level starts.
		if self.next_level.is_none() && usize::from(level) + 1 == self.levels.len() {
			return *self.current_required.get_or_init(read);
		}
		read()
	}
	/// Nothing to keep here: the next level's requirement is what `start_next_level` returns,
	/// and the handover writes it into the level's round when it commits it.
	fn set_required(&mut self, _level: u8, _value: Option<Hash>) {}
}

/// A family whose current level may hand over, with what the checks read.
struct Handover<T: Config> {
	/// The current level's round.
	round_id: RoundId,
	round: RoundInfoOf<T>,
	/// The family's root (level 0).
	root_id: RoundId,
	root: RoundInfoOf<T>,
	machine: MachineInfoOf<T>,
	/// The current level's deadline, passed.
	deadline: frame_system::pallet_prelude::BlockNumberFor<T>,
}

impl<T: Config> Pallet<T> {
	/// The pallet error for a refusal of the handover machine.
	pub(crate) fn handover_error(e: HandoverError<Hash>) -> Error<T> {
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

	/// Every check of [`Call::start_handover`]; returns what they read.
	fn ensure_handover(round_id: RoundId) -> Result<Handover<T>, Error<T>> {
		let round = Rounds::<T>::get(round_id).ok_or(Error::<T>::UnknownRound)?;
		let (root_id, root) = Self::family_root(round_id, &round)?;
		let RoundKind::Primary { levels, value } = &root.kind else {
			return Err(Error::<T>::Corrupt).defensive();
		};
		ensure!(value.is_none(), Error::<T>::RoundDecided);
		ensure!(levels.last() == Some(&round_id), Error::<T>::HandedOver);
		// Settled (its pruning has begun): no level starts in it any more.
		ensure!(!round.is_closed(), Error::<T>::AlreadyClosed);
		let now = frame_system::Pallet::<T>::block_number();
		// A level not yet drawn has no deadline to pass.
		let deadline = round.draw().map(|draw| draw.deadline);
		let deadline = deadline.filter(|d| now > *d).ok_or(Error::<T>::DeadlineNotPassed)?;
		let machine = Self::machine_of(&round)?;
		ensure!((round.level as usize) + 1 < machine.levels.len(), Error::<T>::LastLevel);
		Ok(Handover { round_id, round, root_id, root, machine, deadline })
	}

	/// Authorises a fee-less [`Call::start_handover`]: one per round and level in the pool.
	pub fn authorize_handover(
		_source: TransactionSource,
		round: &RoundId,
	) -> TransactionValidityWithRefund {
		let handover = Self::ensure_handover(*round)
			.map_err(|_| TransactionValidityError::from(InvalidTransaction::Stale))?;
		ValidTransaction::with_tag_prefix("ConsensusMachineHandover")
			.priority(T::StatementPriority::get())
			.and_provides((handover.root_id, handover.round.level))
			.longevity(16)
			.propagate(true)
			.build()
			.map(|v| (v, Weight::zero()))
	}

	pub(crate) fn do_start_handover(round_id: RoundId) -> Result<RoundId, DispatchError> {
		let Handover { round_id, mut round, root_id, root, machine, deadline } =
			Self::ensure_handover(round_id)?;
		let mut store = FamilyStore::<T>::new(root_id, root)?;
		let required = handover::start_next_level(&mut store, &Self::rules_of(&machine))
			.map_err(Self::handover_error)?;
		let (_, mut root) = store.into_root();
		let to_level = round.level.saturating_add(1);
		let commitment = Commitment::Backup { root: root_id, level: to_level, required };
		let backup = Self::start_round(
			root.opener.clone(),
			round.machine,
			&machine,
			Zero::zero(),
			root.subject,
			commitment,
		)?;
		// The backup is committed: nothing below can fail. The frozen level's silent seats
		// missed their duty; agents banned for it are out of the backup's draw.
		Self::note_silent_seats(round_id, deadline);
		Self::pay_backup(&mut root, &machine, to_level, backup);
		if let RoundKind::Primary { levels, .. } = &mut root.kind {
			// `LastLevel` was refused above, so the family has room for one more level.
			if levels.try_push(backup).is_err() {
				frame_support::defensive!("a family has at most MAX_LEVELS levels");
			}
		}
		if round_id == root_id {
			root.close();
		} else {
			round.close();
			Rounds::<T>::insert(round_id, &round);
		}
		Rounds::<T>::insert(root_id, root);
		Self::deposit_event(Event::HandoverStarted {
			round: root_id,
			from_level: round.level,
			to_level,
			backup_round: backup,
			required,
		});
		Ok(backup)
	}

	pub(crate) fn do_report_backup_vote(
		reporter: T::AccountId,
		index: u32,
		statement: Statement,
		signature: StoredSignature,
	) -> DispatchResult {
		ensure!(statement.genesis == Self::genesis_hash(), Error::<T>::WrongGenesis);
		let round = Rounds::<T>::get(statement.round).ok_or(Error::<T>::UnknownRound)?;
		let draw = round.draw().ok_or(Error::<T>::RoundNotDrawn)?;
		let Body::Decision { value } = statement.body else {
			return Err(Error::<T>::NotABackupLevel.into());
		};
		ensure!(matches!(round.kind, RoundKind::Backup { .. }), Error::<T>::NotABackupLevel);
		ensure!(statement.machine == round.machine, Error::<T>::WrongMachine);
		// A vote for this round id on another fork answered another `required`: it proves
		// nothing here.
		ensure!(statement.instance == draw.instance, Error::<T>::WrongInstance);
		ensure!(statement.level == round.level, Error::<T>::WrongLevel);
		let seat = Self::seat(statement.round, index).ok_or(Error::<T>::NotAPicket)?;
		ensure!(
			crate::crypto::verify(
				&seat.key,
				&statement.signing_payload(),
				&Signature::from(signature)
			),
			Error::<T>::BadSignature
		);
		ensure!(
			handover::check_vote(round.level, round.required().as_ref(), &Vote::from(value))
				.is_err(),
			Error::<T>::NotAViolation
		);
		let kind = OffenceKind::BackupRuleViolation;
		ensure!(
			!Self::is_reported(&seat.agent, statement.round, kind),
			Error::<T>::AlreadyReported
		);
		let round = statement.round;
		let proof = alloc::vec![(statement, signature)];
		Self::report(
			Offence::signed(kind, seat.agent, round, seat.key, proof).reported_by(Some(reporter)),
		)
		.map_err(Into::into)
	}
}
