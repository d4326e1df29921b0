//! The bond registry as a supplier of pickets: this pallet's side of
//! [`Pickets`](consensus_machine_primitives::pickets::Pickets).
//!
//! The machines reach the registry only through this trait (as their `Config::Pickets`), so they
//! run on any other supplier the same way: the tests run them on a fixed committee.

use crate::{
	bonds::SnapshotTree,
	crypto::Public,
	pallet::*,
	types::{AgentStatus, StoredSignature},
};
use consensus_machine_primitives::{
	pickets::{Drawn, DrawnSeat, Offence, OffenceKind, Pickets, ReportError, SignError},
	selection,
	statement::{Hash, RoundId},
};
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pickets<T::AccountId> for Pallet<T> {
	type Key = Public;
	type Signature = StoredSignature;
	type Balance = BalanceOf<T>;
	type BlockNumber = BlockNumberFor<T>;

	fn total_stake() -> u128 {
		SnapshotTree::<T>::current().total()
	}

	fn snapshot_start() -> BlockNumberFor<T> {
		Self::current_period_start()
	}

	/// Each slot's index is found in the snapshot's tree and named by the snapshot's agent at
	/// that index; a slot whose agent is no longer active (or gone) is in no seat.
	fn draw(seed: &Hash, slots: u32) -> Drawn<T::AccountId, Public> {
		Self::ensure_tree_height();
		let snapshot = SnapshotTree::<T>::current();
		let total = snapshot.total();
		// No stake in the snapshot: every seat is empty.
		let drawn = selection::draw(&snapshot, seed, slots, total).unwrap_or_default();
		let mut seats = alloc::vec::Vec::new();
		for (index, slots) in selection::group(&drawn) {
			let Some(picket) = AgentAt::<T>::get(index) else { continue };
			let Some(info) = Agents::<T>::get(&picket) else { continue };
			if info.status == AgentStatus::Active {
				seats.push(DrawnSeat { picket, key: info.key, slots });
			}
		}
		Drawn { period: Self::current_period(), total, seats }
	}

	/// A drawn agent finishes its seats whether it has since started unbonding or been banned
	/// (its bond is still held, as a chilled validator stays exposed for its era); only an
	/// agent suspended for an overt offence may not.
	fn may_sign(picket: &T::AccountId) -> Result<(), SignError> {
		let info = Agents::<T>::get(picket).ok_or(SignError::Unknown)?;
		match info.status {
			AgentStatus::Suspended | AgentStatus::Unbonding { suspended: true, .. } => {
				Err(SignError::Suspended)
			}
			_ => Ok(()),
		}
	}

	fn is_picket(who: &T::AccountId) -> bool {
		Agents::<T>::contains_key(who)
	}

	fn is_reported(offender: &T::AccountId, round: RoundId, kind: OffenceKind) -> bool {
		Self::is_offence_recorded(offender, round, kind)
	}

	fn report(
		offence: Offence<T::AccountId, BalanceOf<T>, Public, StoredSignature>,
	) -> Result<(), ReportError> {
		Self::record_offence(offence).map(|_| ()).map_err(|e| match e {
			Error::<T>::AlreadyReported => ReportError::AlreadyReported,
			_ => ReportError::Exhausted,
		})
	}

	/// Only a seat that could have signed missed anything.
	fn note_miss(picket: &T::AccountId, round: RoundId, due: BlockNumberFor<T>) {
		if Self::may_sign(picket).is_ok() {
			Self::record_miss(picket, round, due);
		}
	}
}
