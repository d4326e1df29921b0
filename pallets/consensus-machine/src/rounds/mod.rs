//! Rounds, by phase. Every kind of round ([`RoundKind`]: transition, validity, and the
//! primary and backup levels of a hierarchical round) goes through the same phases, each in
//! its own module:
//!
//! - [`open`]: the round is opened and its committee drawn;
//! - [`fees`]: its opener pays for the work no transaction pays for;
//! - [`vote`]: statements and certificates reach the chain (the checks both paths share, the
//!   authorisation of fee-less statements, the tallies);
//! - [`decide`]: a certificate decides it (a transition advances its machine, a green makes its
//!   object green, a hierarchical family gets its value), or a verified red condemns its
//!   object;
//! - [`handover`]: a level of a hierarchical round times out and the next level starts;
//! - [`close`]: after the deadline, misses are counted, an undecided validity round turns
//!   amber, and the deposit or bond is settled;
//! - [`prune`]: after the retention period, the round's storage goes;
//! - [`report`]: equivocations proven against a committee root go to the pickets, who learn
//!   from [`Accountability`](consensus_machine_primitives::pickets::Accountability) how long a
//!   committee stays accountable.

pub(crate) mod close;
pub(crate) mod decide;
pub(crate) mod fees;
pub(crate) mod handover;
pub(crate) mod open;
pub(crate) mod prune;
pub(crate) mod report;
pub(crate) mod vote;

use crate::{
	pallet::*,
	types::{OffenceKind, RoundKind, Seat},
};
use alloc::vec::Vec;
use consensus_machine_primitives::{
	pickets::{Pickets, ReportError, SignError},
	statement::{Hash, RoundId},
};
use frame_support::{
	traits::{fungible::MutateHold, tokens::Precision, DefensiveOption},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	/// What a round's deposit is held for: a proposal bond on a validity round, else a round
	/// deposit.
	pub(crate) fn deposit_reason(kind: &RoundKind) -> HoldReason {
		match kind {
			RoundKind::Validity { .. } => HoldReason::ProposalBond,
			_ => HoldReason::RoundDeposit,
		}
	}

	/// Returns what is left of the round's deposit to its opener (the caller stores the round).
	pub(crate) fn release_deposit(round: &mut RoundInfoOf<T>) {
		if round.deposit.is_zero() {
			return;
		}
		let reason = Self::deposit_reason(&round.kind);
		let released = T::Currency::release(
			&reason.into(),
			&round.opener,
			round.deposit,
			Precision::BestEffort,
		);
		if released.is_err() {
			frame_support::defensive!("a round's deposit is held until released");
		}
		round.deposit = Zero::zero();
	}

	/// The level-0 round of the hierarchical round `round_id` belongs to, with its id.
	pub(crate) fn family_root(
		round_id: RoundId,
		round: &RoundInfoOf<T>,
	) -> Result<(RoundId, RoundInfoOf<T>), Error<T>> {
		match round.kind {
			RoundKind::Primary { .. } => Ok((round_id, round.clone())),
			// A family's levels are pruned in order, its root first.
			RoundKind::Backup { root, .. } => {
				let info = Rounds::<T>::get(root).ok_or(Error::<T>::UnknownRound)?;
				Ok((root, info))
			}
			_ => Err(Error::<T>::NotHierarchical),
		}
	}

	/// Whether `round_id` is its family's current level (its last started one), and the
	/// family is undecided.
	pub(crate) fn is_current_level(round_id: RoundId, root: &RoundInfoOf<T>) -> bool {
		matches!(&root.kind, RoundKind::Primary { levels, value: None } if levels.last() == Some(&round_id))
	}

	/// The machine of a live round (a machine outlives its rounds, so a miss is corruption).
	pub(crate) fn machine_of(round: &RoundInfoOf<T>) -> Result<MachineInfoOf<T>, Error<T>> {
		Machines::<T>::get(round.machine).defensive_ok_or(Error::<T>::Corrupt)
	}

	/// The number of seats of live round `round_id`'s committee: 0 until it is drawn.
	pub(crate) fn committee_size(round_id: RoundId) -> u32 {
		CommitteeRoots::<T>::get(round_id).filter(|r| r.expires.is_none()).map_or(0, |r| r.seats)
	}

	/// The committee of live round `round_id`, in draw order (empty until it is drawn): one
	/// read per chunk of [`SEATS_PER_CHUNK`] seats.
	pub fn committee(round_id: RoundId) -> Vec<Seat<T::AccountId>> {
		let size = Self::committee_size(round_id);
		let mut seats = Vec::with_capacity(size as usize);
		for chunk in 0..size.div_ceil(SEATS_PER_CHUNK) {
			seats.extend(CommitteeChunks::<T>::get(round_id, chunk).unwrap_or_default());
		}
		seats.truncate(size as usize);
		seats
	}

	/// Seat `index` of live round `round_id`: one read, of its chunk.
	pub fn seat(round_id: RoundId, index: u32) -> Option<Seat<T::AccountId>> {
		let chunk = CommitteeChunks::<T>::get(round_id, index / SEATS_PER_CHUNK)?;
		chunk.into_iter().nth((index % SEATS_PER_CHUNK) as usize)
	}

	/// A reader of round `round_id`'s seats that reads (and decodes) each chunk once, for the
	/// callers that look up many seats: a certificate's signers, a red's greens.
	pub(crate) fn seat_reader(round_id: RoundId) -> impl FnMut(u32) -> Option<Seat<T::AccountId>> {
		let mut chunks = alloc::collections::BTreeMap::<u32, Option<CommitteeChunkOf<T>>>::new();
		move |index| {
			let chunk = chunks
				.entry(index / SEATS_PER_CHUNK)
				.or_insert_with(|| CommitteeChunks::<T>::get(round_id, index / SEATS_PER_CHUNK));
			chunk.as_ref()?.get((index % SEATS_PER_CHUNK) as usize).cloned()
		}
	}

	/// Stores a drawn committee in chunks of [`SEATS_PER_CHUNK`] seats.
	pub(crate) fn store_committee(round_id: RoundId, committee: CommitteeOf<T>) {
		for (chunk, seats) in (0u32..).zip(committee.chunks(SEATS_PER_CHUNK as usize)) {
			// A slice of at most `SEATS_PER_CHUNK` seats fits.
			let seats = CommitteeChunkOf::<T>::truncate_from(seats.to_vec());
			CommitteeChunks::<T>::insert(round_id, chunk, seats);
		}
	}

	/// Draws `slots` seats from the pickets' current snapshot ([`Config::Pickets`]). Returns
	/// the committee, the snapshot's total stake and its period. A draw that is not sound
	/// ([`Drawn::is_sound`](consensus_machine_primitives::pickets::Drawn::is_sound): more slots than drawn, a picket or key twice, a seat without a
	/// slot) seats no one, and neither does a committee larger than `MaxCommittee` (slots are
	/// checked against it when a round is committed, so only an upgrade that lowered it
	/// since): the round then times out rather than never opening.
	pub(crate) fn draw_committee(seed: &Hash, slots: u32) -> (CommitteeOf<T>, u128, u32) {
		let drawn = T::Pickets::draw(seed, slots);
		if !drawn.is_sound(slots) {
			log::error!(target: crate::LOG_TARGET, "the pickets' supplier drew an unsound committee");
			return (BoundedVec::new(), 0, drawn.period);
		}
		let seats = drawn
			.seats
			.into_iter()
			.map(|s| Seat { agent: s.picket, key: s.key, slots: s.slots })
			.collect::<Vec<_>>();
		match BoundedVec::try_from(seats) {
			Ok(committee) => (committee, drawn.total, drawn.period),
			Err(_) => {
				frame_support::defensive!("a committee fits MaxCommittee");
				(BoundedVec::new(), 0, drawn.period)
			}
		}
	}

	/// Whether `agent`, drawn into a seat, may sign for it ([`Pickets::may_sign`]).
	pub(crate) fn ensure_may_sign(agent: &T::AccountId) -> Result<(), Error<T>> {
		T::Pickets::may_sign(agent).map_err(Into::into)
	}

	/// Whether `offender`'s offence of `kind` in `round` is on record with the pickets.
	pub(crate) fn is_reported(offender: &T::AccountId, round: RoundId, kind: OffenceKind) -> bool {
		T::Pickets::is_reported(offender, round, kind)
	}

	/// Hands an offence to the pickets ([`Pickets::report`]).
	pub(crate) fn report(offence: OffenceOf<T>) -> Result<(), Error<T>> {
		T::Pickets::report(offence).map_err(Into::into)
	}

	/// Hands each silent seat of `round` (no statement by `due`, its deadline) to the pickets
	/// as a missed duty. Bounded by the committee size.
	pub(crate) fn note_silent_seats(round: RoundId, due: BlockNumberFor<T>) {
		for (index, seat) in (0u32..).zip(Self::committee(round)) {
			if Statements::<T>::contains_key(round, index) {
				continue;
			}
			T::Pickets::note_miss(&seat.agent, round, due);
		}
	}
}

impl<T: Config> From<SignError> for Error<T> {
	fn from(e: SignError) -> Self {
		match e {
			SignError::Unknown => Error::<T>::NotRegistered,
			SignError::Suspended => Error::<T>::AgentSuspended,
		}
	}
}

impl<T: Config> From<ReportError> for Error<T> {
	fn from(e: ReportError) -> Self {
		match e {
			ReportError::AlreadyReported => Error::<T>::AlreadyReported,
			ReportError::Exhausted => Error::<T>::IdsExhausted,
		}
	}
}
