//! Opening rounds of every kind: a transition round of a unitary machine
//! ([`Call::open_round`]), a validity round ([`Call::propose`]), the primary level of a
//! hierarchical round ([`Call::open_round`] on a hierarchical machine), and a backup level
//! (from the handover). Each draws its committee here.

use crate::{
	bonds::StorageTree,
	pallet::*,
	types::{CommitteeRecord, RoundInfo, RoundKind, Seat, ValidityRecord},
};
use alloc::vec::Vec;
use codec::Encode;
use consensus_machine_primitives::{
	light::{Light, ObjectRef},
	membership, selection,
	statement::{round_instance, Hash, MachineId, RoundId},
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, DefensiveOption, Randomness},
	BoundedVec,
};
use sp_runtime::traits::{Saturating, Zero};

/// Domain tag of a round's randomness subject.
const ROUND_SEED_TAG: [u8; 8] = *b"cm/round";

/// What [`Pallet::start_round`] opens.
pub(crate) enum Opening {
	/// The next step of a unitary machine.
	Transition,
	/// A judgement of `object`.
	Validity { object: ObjectRef },
	/// Level 0 of a hierarchical round.
	Primary,
	/// Level `level` of the hierarchical round `root`, which must adopt `required`.
	Backup { root: RoundId, level: u8, required: Option<Hash> },
}

impl Opening {
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
	/// The seed of round `round`'s draw.
	fn round_seed(round: RoundId) -> Hash {
		T::Randomness::random(&(ROUND_SEED_TAG, round).encode()).0.unwrap_or_default().0
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

	/// Draws `slots` seats from the current stake tree.
	pub(crate) fn draw_committee(seed: &Hash, slots: u32) -> Result<CommitteeOf<T>, DispatchError> {
		Self::ensure_tree_capacity();
		let total = TotalStake::<T>::get();
		let drawn = selection::draw(&StorageTree::<T>::new(), seed, slots, total)
			.ok_or(Error::<T>::NoAgents)?;
		let seats = selection::group(&drawn)
			.into_iter()
			.map(|(index, slots)| {
				let agent = AgentAt::<T>::get(index).defensive_ok_or(Error::<T>::Corrupt)?;
				let info = Agents::<T>::get(&agent).defensive_ok_or(Error::<T>::Corrupt)?;
				Ok(Seat { agent, key: info.key, slots })
			})
			.collect::<Result<Vec<_>, DispatchError>>()?;
		BoundedVec::try_from(seats).map_err(|_| Error::<T>::CommitteeTooLarge.into())
	}

	/// Opens the next round of `machine_id`: a transition round of a unitary machine (one at a
	/// time), or the primary level of a hierarchical round (rounds may overlap: each decides
	/// its own question).
	pub(crate) fn do_open_round(
		who: T::AccountId,
		machine_id: MachineId,
		subject: Hash,
	) -> Result<RoundId, DispatchError> {
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
				Opening::Primary,
			);
		}
		let now = frame_system::Pallet::<T>::block_number();
		if let Some(open) = machine.open_round.and_then(Rounds::<T>::get) {
			ensure!(open.decided.is_some() || now > open.deadline, Error::<T>::RoundAlreadyOpen);
		}
		let round =
			Self::start_round(who, machine_id, &machine, deposit, subject, Opening::Transition)?;
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
		let machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::UnknownMachine)?;
		ensure!(size > 0 && size <= T::MaxObjectSize::get(), Error::<T>::InvalidObjectSize);
		let object = ObjectRef { hash: object, size };
		if let Some(record) = Validity::<T>::get(object) {
			// Amber objects may be proposed again; pending, green and red ones may not.
			ensure!(record.light == Some(Light::Amber), Error::<T>::ObjectAlreadyJudged);
		}
		let opening = Opening::Validity { object };
		let bond = T::ProposalBond::get();
		let subject = object.hash;
		let round =
			Self::start_round(proposer.clone(), machine_id, &machine, bond, subject, opening)?;
		let now = frame_system::Pallet::<T>::block_number();
		Validity::<T>::insert(
			object,
			ValidityRecord { round, light: None, evidence: None, at: now },
		);
		Self::deposit_event(Event::Proposed { round, proposer, object });
		Ok(round)
	}

	/// Draws a committee of one of `machine`'s levels, holds `deposit` from `opener` and stores
	/// the round: the part of opening every kind of round shares, and the handover's start of
	/// a backup level. The round's deadline is its level's timeout from now.
	pub(crate) fn start_round(
		opener: T::AccountId,
		machine_id: MachineId,
		machine: &MachineInfoOf<T>,
		deposit: BalanceOf<T>,
		subject: Hash,
		opening: Opening,
	) -> Result<RoundId, DispatchError> {
		ensure!(TotalStake::<T>::get() > 0, Error::<T>::NoAgents);
		let round = NextRoundId::<T>::get();
		let next = round.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		let (level, kind) = opening.into_kind(round, machine.label.step);
		let config =
			machine.levels.get(level as usize).defensive_ok_or(Error::<T>::Corrupt)?.clone();
		let seed = Self::round_seed(round);
		let committee = Self::draw_committee(&seed, config.rule.n)?;
		let root = membership::committee_root(&committee);
		let parent = frame_system::Pallet::<T>::parent_hash();
		let instance =
			Self::instance_of(&parent, machine_id, round, level, &subject, &kind, &root, &seed);
		if !deposit.is_zero() {
			T::Currency::hold(&Self::deposit_reason(&kind).into(), &opener, deposit)?;
		}

		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(config.timeout);
		let summary = committee.iter().map(|s| (s.agent.clone(), s.slots)).collect::<Vec<_>>();
		Rounds::<T>::insert(
			round,
			RoundInfo {
				machine: machine_id,
				level,
				subject,
				opener,
				deposit,
				opened: now,
				deadline,
				seed,
				instance,
				population_version: PopulationVersion::<T>::get(),
				total_stake: TotalStake::<T>::get(),
				slots: config.rule.n,
				threshold: config.rule.strong(),
				decided: None,
				closed: false,
				kind,
			},
		);
		CommitteeRoots::<T>::insert(
			round,
			CommitteeRecord { instance, root, seats: committee.len() as u32, expires: None },
		);
		Committees::<T>::insert(round, committee);
		NextRoundId::<T>::put(next);
		Self::deposit_event(Event::RoundOpened {
			round,
			machine: machine_id,
			level,
			deadline,
			committee: BoundedVec::truncate_from(summary),
		});
		Ok(round)
	}
}
