//! Storage migrations, for the runtime's `Migrations`.
//!
//! No chain runs a layout older than version 5, so the path starts there. Each migration runs
//! in one block, which is fine for the chains this runs on today; a chain with long histories
//! would run them as multi-block migrations.

/// Version 5 → 6:
///
/// - `Agents`: an unbonding agent remembers the first round id opened after it left the draw
///   (`AgentStatus::Unbonding::accountable`), and withdrawal waits until the committee roots of
///   every round before it have expired. Agents unbonding at the upgrade get the next round id
///   at the upgrade: any round that can have seated them is below it (a conservative bound:
///   they wait for rounds opened after they left too).
/// - `Validity`: keyed by (machine, object) instead of the object alone. A record whose round
///   is still live moves under that round's machine; a record whose round was pruned is
///   dropped, since nothing says which machine judged it (its object may be proposed again, to
///   a machine of the proposer's choice, and consumers name the machine they trust).
pub mod v6 {
	use crate::{pallet::*, types::AgentInfo};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The version-5 layouts.
	pub mod v5 {
		use super::*;

		/// An agent's status before `accountable`.
		#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub enum AgentStatus<BlockNumber> {
			Active,
			Unbonding { until: BlockNumber, suspended: bool },
			Banned { until: BlockNumber },
			Suspended,
		}

		/// The traffic light by object alone, before machines were part of the key.
		#[frame_support::storage_alias]
		pub type Validity<T: Config> = StorageMap<
			Pallet<T>,
			Blake2_128Concat,
			consensus_machine_primitives::light::ObjectRef,
			crate::types::ValidityRecord<BlockNumberFor<T>>,
		>;

		/// An agent before `accountable`.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub struct AgentInfo<Balance, BlockNumber> {
			pub key: crate::crypto::Public,
			pub bond: Balance,
			pub index: u32,
			pub status: AgentStatus<BlockNumber>,
		}
	}

	/// The unversioned body of [`MigrateV5ToV6`].
	pub struct InnerMigrateV5ToV6<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV5ToV6<T> {
		fn on_runtime_upgrade() -> Weight {
			use crate::types::AgentStatus as New;
			let accountable = NextRoundId::<T>::get();
			let mut entries = 0u64;
			Agents::<T>::translate::<v5::AgentInfo<crate::BalanceOf<T>, BlockNumberFor<T>>, _>(
				|_, old| {
					entries += 1;
					let status = match old.status {
						v5::AgentStatus::Active => New::Active,
						v5::AgentStatus::Unbonding { until, suspended } => {
							New::Unbonding { until, suspended, accountable }
						}
						v5::AgentStatus::Banned { until } => New::Banned { until },
						v5::AgentStatus::Suspended => New::Suspended,
					};
					Some(AgentInfo { key: old.key, bond: old.bond, index: old.index, status })
				},
			);
			let records: alloc::vec::Vec<_> = v5::Validity::<T>::drain().collect();
			for (object, record) in &records {
				if let Some(round) = Rounds::<T>::get(record.round) {
					Validity::<T>::insert(round.machine, object, record);
				}
			}
			let moved = records.len() as u64;
			T::DbWeight::get().reads_writes(
				entries.saturating_add(2 * moved).saturating_add(1),
				entries.saturating_add(2 * moved),
			)
		}
	}

	/// Version 5 → 6, run once: `VersionedMigration` checks and bumps the on-chain version.
	/// Agents get `accountable`, and verdicts their machine.
	pub type MigrateV5ToV6<T> = VersionedMigration<
		5,
		6,
		InnerMigrateV5ToV6<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 6 → 7: round fees and a per-account share of the draw queue ([`PendingDrawsOf`],
/// counted here from the rounds waiting for their draw), and families pruned in pages
/// ([`FamiliesBeingPruned`], empty at the upgrade). Rounds committed before the upgrade paid no
/// fee, and families opened before it hold no backup fees: their handovers take the fee from
/// the family's deposit, as far as it goes.
pub mod v7 {
	use crate::{pallet::*, types::RoundKind};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// The unversioned body of [`MigrateV6ToV7`].
	pub struct InnerMigrateV6ToV7<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV6ToV7<T> {
		fn on_runtime_upgrade() -> Weight {
			// The new questions waiting for their draw (at most `MaxPendingDraws`, plus the
			// backup levels among them).
			let (first, end) = (NextDraw::<T>::get(), NextRoundId::<T>::get());
			let mut waiting = 0u64;
			for id in first..end {
				waiting += 1;
				let Some(round) = Rounds::<T>::get(id) else { continue };
				if !matches!(round.kind, RoundKind::Backup { .. }) {
					PendingDrawsOf::<T>::mutate(&round.opener, |n| *n = n.saturating_add(1));
				}
			}
			T::DbWeight::get().reads_writes(2 + 2 * waiting, waiting)
		}
	}

	/// Version 6 → 7, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV6ToV7<T> = VersionedMigration<
		6,
		7,
		InnerMigrateV6ToV7<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
