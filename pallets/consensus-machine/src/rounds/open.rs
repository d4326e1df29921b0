//! Committing rounds of every kind: a transition round of a unitary machine
//! ([`Call::commit_round`]), a validity round ([`Call::propose`]), the primary level of a
//! hierarchical round ([`Call::commit_round`] on a hierarchical machine), and a backup level
//! (from the handover).
//!
//! # Commit, then draw
//!
//! Opening a round only commits to it: its id, question, level and deposit are fixed, and it
//! waits for its committee. The committee is drawn in the `on_initialize` of a later block
//! ([`Pallet::draw_pending`]), from a `T::Randomness` output known only since a block after
//! the commitment, and after the current stake snapshot froze ([`Error::RandomnessTooOld`]
//! otherwise). So nobody (the opener, an agent, the committing block's author) knows the
//! committee when the round is committed, and no transaction of the committing block, nor any
//! stake change after the snapshot, can change it: grinding stake changes or round ids against
//! a known seed finds nothing to grind. Draws run in commitment order, at most
//! `MaxDrawsPerBlock` per block, before any transaction of the block, so no author can pick
//! which block's randomness a round gets other than by withholding its own block. The round's
//! deadline counts from its draw.

use crate::{
	pallet::*,
	sweep::Sweep,
	types::{CommitteeRecord, Draw, Phase, RoundInfo, RoundKind, ValidityRecord},
	weights::WeightInfo,
};
use alloc::vec::Vec;
use codec::Encode;
use consensus_machine_primitives::{
	light::{Light, ObjectRef},
	membership,
	pickets::Pickets,
	statement::{round_instance, Hash, MachineId, RoundId},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, DefensiveOption, Randomness},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};

/// Domain tag of a round's randomness subject.
const ROUND_SEED_TAG: [u8; 8] = *b"cm/round";

/// What [`Pallet::start_round`] commits: the kind of round and what only that kind has.
pub(crate) enum Commitment {
	/// The next step of a unitary machine.
	Transition,
	/// A judgement of `object`.
	Validity { object: ObjectRef },
	/// Level 0 of a hierarchical round.
	Primary,
	/// Level `level` of the hierarchical round `root`, which must adopt `required`.
	Backup { root: RoundId, level: u8, required: Option<Hash> },
}

impl Commitment {
	/// The round's level and kind, for round id `round` of a machine at step `step`.
	fn into_kind(self, round: RoundId, step: u64) -> (u8, RoundKind) {
		match self {
			Self::Transition => (0, RoundKind::Transition { step }),
			Self::Validity { object } => (0, RoundKind::Validity { object, light: None }),
			Self::Primary => (
				0,
				RoundKind::Primary {
					levels: BoundedVec::truncate_from(alloc::vec![round]),
					value: None,
				},
			),
			Self::Backup { root, level, required } => (level, RoundKind::Backup { root, required }),
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The seed of round `round`'s draw and the block since which it is known; `None` while
	/// no randomness exists.
	pub(crate) fn round_seed(round: RoundId) -> (Option<Hash>, BlockNumberFor<T>) {
		let (seed, known_since) = T::Randomness::random(&(ROUND_SEED_TAG, round).encode());
		(seed.map(|s| s.0), known_since)
	}

	/// The instance of round `round` opened in a block whose parent is `parent`, with the
	/// committee whose root is `committee`: the question includes the committee, since two
	/// sibling blocks may bond or unbond in another order before the draw.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn instance_of(
		parent: &T::Hash,
		machine: MachineId,
		round: RoundId,
		level: u8,
		subject: &Hash,
		kind: &RoundKind,
		committee: &Hash,
		seed: &Hash,
	) -> Hash {
		round_instance(parent.as_ref(), &(machine, round, level, subject, kind, committee), seed)
	}

	/// Draws the committees of committed rounds in commitment order, at most
	/// `MaxDrawsPerBlock`, stopping at the first whose randomness is not fresh enough (the later
	/// ones were committed no earlier). Returns the weight used.
	pub(crate) fn draw_pending() -> Weight {
		let mut sweep = Sweep::bounded(T::DbWeight::get().reads(2), T::MaxDrawsPerBlock::get());
		let (mut next, end) = (NextDraw::<T>::get(), NextRoundId::<T>::get());
		while next < end && sweep.more() {
			// The round and the randomness.
			sweep.charge(T::DbWeight::get().reads(2));
			let Some(round) = Rounds::<T>::get(next) else {
				// Pruned before its draw cannot happen (an undrawn round never expires); skip,
				// counted as a draw so that the loop stays within `MaxDrawsPerBlock`.
				sweep.count();
				next = next.saturating_add(1);
				continue;
			};
			match Self::draw_round(next, round) {
				// The benchmark's weight plus the opener's queue share (until the next run).
				Ok(slots) => sweep.charge(
					T::WeightInfo::draw_committee(slots)
						.saturating_add(T::DbWeight::get().reads_writes(1, 1)),
				),
				// This round and every later one wait for fresher randomness.
				Err(e)
					if e == Error::<T>::RandomnessUnavailable.into()
						|| e == Error::<T>::RandomnessTooOld.into() =>
				{
					break
				}
				Err(e) if e == Error::<T>::AlreadyDrawn.into() => {}
				Err(_) => {
					frame_support::defensive!("a committed round can be drawn");
				}
			}
			sweep.count();
			next = next.saturating_add(1);
		}
		NextDraw::<T>::put(next);
		sweep.used().saturating_add(T::DbWeight::get().writes(1))
	}

	/// Draws committed round `round_id`'s committee and opens it, if the randomness allows:
	/// knowable (`RandomnessLead` before it is public) only since a block after the commitment
	/// and at or after the current snapshot's start.
	/// Returns the committee's slots. Errors: [`Error::AlreadyDrawn`],
	/// [`Error::RandomnessUnavailable`], [`Error::RandomnessTooOld`]; nothing changes then.
	pub(crate) fn draw_round(
		round_id: RoundId,
		round: RoundInfoOf<T>,
	) -> Result<u32, DispatchError> {
		ensure!(!round.is_drawn(), Error::<T>::AlreadyDrawn);
		let (seed, known_since) = Self::round_seed(round_id);
		let seed = seed.ok_or(Error::<T>::RandomnessUnavailable)?;
		// The first block anyone may have known the output.
		let lead = T::RandomnessLead::get();
		ensure!(known_since >= lead, Error::<T>::RandomnessTooOld);
		let earliest = known_since.saturating_sub(lead);
		ensure!(
			earliest > round.opened && earliest >= T::Pickets::snapshot_start(),
			Error::<T>::RandomnessTooOld
		);
		Self::open_drawn(round_id, round, seed)
	}

	/// Draws committed round `round_id`'s committee from `seed` (whose freshness the caller
	/// checked) over the current snapshot, and opens the round. Returns its slots.
	pub(crate) fn open_drawn(
		round_id: RoundId,
		mut round: RoundInfoOf<T>,
		seed: Hash,
	) -> Result<u32, DispatchError> {
		let machine = Self::machine_of(&round)?;
		let config =
			machine.levels.get(round.level as usize).defensive_ok_or(Error::<T>::Corrupt)?;
		// A level's slots fit `MaxCommittee` when committed; should an upgrade have lowered it
		// since, the round opens with empty seats and times out rather than never opening.
		let (committee, total, period) = Self::draw_committee(&seed, round.slots);
		let root = membership::committee_root(&committee);
		let parent = frame_system::Pallet::<T>::parent_hash();
		let instance = Self::instance_of(
			&parent,
			round.machine,
			round_id,
			round.level,
			&round.subject,
			&round.kind,
			&root,
			&seed,
		);
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(config.timeout);
		round.phase =
			Phase::Drawn(Draw { deadline, seed, instance, snapshot: period, total_stake: total });
		let summary = committee.iter().map(|s| (s.agent.clone(), s.slots)).collect::<Vec<_>>();
		CommitteeRoots::<T>::insert(
			round_id,
			CommitteeRecord { instance, root, seats: committee.len() as u32, expires: None },
		);
		Self::store_committee(round_id, committee);
		Self::deposit_event(Event::RoundDrawn {
			round: round_id,
			machine: round.machine,
			level: round.level,
			deadline,
			committee: BoundedVec::truncate_from(summary),
		});
		if !matches!(round.kind, RoundKind::Backup { .. }) {
			Self::note_drawn(&round.opener);
		}
		let slots = round.slots;
		Rounds::<T>::insert(round_id, round);
		Ok(slots)
	}

	/// Opens the next round of `machine_id`: a transition round of a unitary machine (one at a
	/// time), or the primary level of a hierarchical round (rounds may overlap: each decides
	/// its own question).
	/// Rounds and machines need pickets that can judge: without an evaluator
	/// ([`crate::offchain::Evaluate::JUDGES`]), honest pickets could only miss their duties.
	pub(crate) fn ensure_evaluator() -> Result<(), Error<T>> {
		use crate::offchain::Evaluate;
		// A benchmark build measures the production runtime's weights, evaluator or not.
		let benchmarking = cfg!(feature = "runtime-benchmarks");
		ensure!(T::Evaluator::JUDGES || benchmarking, Error::<T>::NoEvaluator);
		Ok(())
	}

	pub(crate) fn do_commit_round(
		who: T::AccountId,
		machine_id: MachineId,
		subject: Hash,
	) -> Result<RoundId, DispatchError> {
		Self::ensure_evaluator()?;
		let mut machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::UnknownMachine)?;
		if let Some(opener) = MachineOpeners::<T>::get(machine_id) {
			ensure!(who == opener, Error::<T>::NotTheOpener);
		}
		let deposit = machine.round_deposit;
		if machine.levels.len() > 1 {
			return Self::start_round(
				who,
				machine_id,
				&machine,
				deposit,
				subject,
				Commitment::Primary,
			);
		}
		let now = frame_system::Pallet::<T>::block_number();
		if let Some(open) = machine.open_round.and_then(Rounds::<T>::get) {
			ensure!(open.is_over(now), Error::<T>::RoundAlreadyOpen);
		}
		let round =
			Self::start_round(who, machine_id, &machine, deposit, subject, Commitment::Transition)?;
		machine.open_round = Some(round);
		Machines::<T>::insert(machine_id, machine);
		Ok(round)
	}

	/// Opens a validity round judging `object` (`size` bytes) with level 0 of `machine_id`'s
	/// committee, holding the proposal bond.
	pub(crate) fn do_propose(
		proposer: T::AccountId,
		machine_id: MachineId,
		object: Hash,
		size: u32,
	) -> Result<RoundId, DispatchError> {
		Self::ensure_evaluator()?;
		let machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::UnknownMachine)?;
		// A validity round has no backup: its committee's good slots alone must reach the
		// threshold, so that no tolerated minority (saying Amber, or nothing) can keep an honest
		// object from green.
		let rule = machine.levels.first().map(|l| l.rule).defensive_ok_or(Error::<T>::Corrupt)?;
		ensure!(rule.is_complete(), Error::<T>::IncompleteCommittee);
		ensure!(size > 0 && size <= T::MaxObjectSize::get(), Error::<T>::InvalidObjectSize);
		let object = ObjectRef { hash: object, size };
		if let Some(record) = Validity::<T>::get(machine_id, object) {
			// Amber objects may be proposed again; pending, green and red ones may not.
			ensure!(record.light == Some(Light::Amber), Error::<T>::ObjectAlreadyJudged);
		}
		let commitment = Commitment::Validity { object };
		let bond = T::ProposalBond::get();
		let subject = object.hash;
		let round =
			Self::start_round(proposer.clone(), machine_id, &machine, bond, subject, commitment)?;
		let now = frame_system::Pallet::<T>::block_number();
		Validity::<T>::insert(
			machine_id,
			object,
			ValidityRecord { round, light: None, evidence: None, at: now },
		);
		Self::deposit_event(Event::Proposed { round, proposer, object });
		Ok(round)
	}

	/// Commits a round of one of `machine`'s levels: holds `deposit` from `opener` and stores
	/// the round without a committee (an empty one), to be drawn at a later block
	/// ([`Self::draw_pending`]): the part of opening every kind of round shares, and the
	/// handover's start of a backup level.
	pub(crate) fn start_round(
		opener: T::AccountId,
		machine_id: MachineId,
		machine: &MachineInfoOf<T>,
		deposit: BalanceOf<T>,
		subject: Hash,
		commitment: Commitment,
	) -> Result<RoundId, DispatchError> {
		ensure!(T::Pickets::total_stake() > 0, Error::<T>::NoAgents);
		let round = NextRoundId::<T>::get();
		let next = round.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		let (level, kind) = commitment.into_kind(round, machine.label.step);
		let config =
			machine.levels.get(level as usize).defensive_ok_or(Error::<T>::Corrupt)?.clone();
		ensure!(config.rule.n <= T::MaxCommittee::get(), Error::<T>::CommitteeTooLarge);
		// Handovers continue a family already in flight: only new questions wait for room.
		if !matches!(kind, RoundKind::Backup { .. }) {
			let pending = round.saturating_sub(NextDraw::<T>::get());
			ensure!(
				pending < u64::from(T::MaxPendingDraws::get()),
				Error::<T>::TooManyPendingDraws
			);
		}
		// A new question pays its fee now and holds its backup levels' fees with the deposit; a
		// backup level's fee comes from that hold ([`Self::pay_backup`]).
		let mut deposit = deposit;
		if !matches!(kind, RoundKind::Backup { .. }) {
			let backups = Self::pay_opening(&opener, round, machine, &kind, deposit)?;
			deposit = deposit.saturating_add(backups);
		}
		if !deposit.is_zero() {
			T::Currency::hold(&Self::deposit_reason(&kind).into(), &opener, deposit)?;
		}
		let now = frame_system::Pallet::<T>::block_number();
		Rounds::<T>::insert(
			round,
			RoundInfo {
				machine: machine_id,
				level,
				subject,
				opener,
				deposit,
				opened: now,
				slots: config.rule.n,
				threshold: config.rule.strong(),
				kind,
				phase: Phase::Committed,
			},
		);
		NextRoundId::<T>::put(next);
		Self::deposit_event(Event::RoundCommitted { round, machine: machine_id, level });
		Ok(round)
	}
}
