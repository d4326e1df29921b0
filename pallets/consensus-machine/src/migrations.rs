//! Storage migrations, for the runtime's `Migrations`.
//!
//! They run in one block: `Penalties` is translated whole (it is never pruned), which is fine
//! for the chains this runs on today; a chain with a long penalty history would run this as a
//! multi-block migration.

/// Version 1 → 2: statements bind their round's instance, every round keeps a committee root,
/// and reporters are no longer paid.
///
/// - `Rounds`: each live round gets its instance, computed as `start_round` does (its committee
///   included), with the
///   hash of its opening block's parent from `frame_system::BlockHash` (zeros if that block is
///   older than `BlockHashCount`); statements for it from now on bind that instance.
/// - `CommitteeRoots`: a live record for every live round, from its committee;
///   `CommitteeRootCursor` starts at the prune cursor (older rounds have no committee left).
/// - `Certificates` and `Penalties`: their statements were signed over the version-1 payload,
///   which has no instance; they are kept with a zero instance, and re-verifying one needs the
///   version-1 payload (`"cm/stmt1" ++ SCALE(genesis, machine, round, level, body)`). An
///   applied penalty's reporter reward is dropped from its status (it was paid then).
pub mod v2 {
	use crate::{pallet::*, types::*};
	use codec::{Decode, Encode};
	use consensus_machine_primitives::{
		membership,
		statement::{Body, Hash, Level, MachineId, RoundId, Statement},
	};
	use core::marker::PhantomData;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_runtime::{traits::One, Perbill, Saturating};

	/// The version-1 layouts.
	pub mod v1 {
		use super::*;

		/// A statement before instances.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		pub struct Statement {
			/// The chain.
			pub genesis: Hash,
			/// The machine.
			pub machine: MachineId,
			/// The round.
			pub round: RoundId,
			/// The level.
			pub level: Level,
			/// What was said.
			pub body: Body,
		}

		/// A round before instances.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub struct RoundInfo<AccountId, Balance, BlockNumber> {
			pub machine: MachineId,
			pub level: Level,
			pub subject: Hash,
			pub opener: AccountId,
			pub deposit: Balance,
			pub opened: BlockNumber,
			pub deadline: BlockNumber,
			pub seed: Hash,
			pub population_version: u32,
			pub total_stake: u128,
			pub slots: u32,
			pub threshold: u32,
			pub decided: Option<BlockNumber>,
			pub closed: bool,
			pub kind: RoundKind,
		}

		/// A certificate of version-1 statements.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub struct CertificateRecord<BlockNumber, Signatures> {
			pub statement: Statement,
			pub signatures: Signatures,
			pub slots: u32,
			pub block: BlockNumber,
		}

		/// A penalty's status when reporters were paid.
		#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub enum PenaltyStatus<Balance> {
			Pending,
			Applied { slashed: Balance, reward: Balance },
			Cancelled,
		}

		/// A penalty of version-1 statements.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub struct Penalty<AccountId, Balance, BlockNumber> {
			pub offender: AccountId,
			pub kind: OffenceKind,
			pub round: u64,
			pub key: Option<crate::crypto::Public>,
			pub statements: BoundedVec<(Statement, StoredSignature), ConstU32<2>>,
			pub fraction: Perbill,
			pub base: Option<Balance>,
			pub reporter: Option<AccountId>,
			pub recorded: BlockNumber,
			pub apply_at: BlockNumber,
			pub status: PenaltyStatus<Balance>,
		}
	}

	/// The bytes the signer of `statement` signed: a statement kept from before version 2
	/// (zero instance) was signed over the version-1 payload.
	pub fn signed_payload(statement: &Statement) -> alloc::vec::Vec<u8> {
		if statement.instance != [0; 32] {
			return statement.signing_payload();
		}
		let Statement { genesis, machine, round, level, body, .. } = statement.clone();
		(V1_STATEMENT_TAG, v1::Statement { genesis, machine, round, level, body }).encode()
	}

	/// Domain tag of a version-1 statement's signing payload.
	pub const V1_STATEMENT_TAG: [u8; 8] = *b"cm/stmt1";

	/// A version-1 statement with a zero instance.
	fn upgrade(old: v1::Statement) -> Statement {
		let v1::Statement { genesis, machine, round, level, body } = old;
		Statement { genesis, machine, round, instance: [0; 32], level, body }
	}

	/// The migration's body; run it through [`MigrateV1ToV2`].
	pub struct InnerMigrateV1ToV2<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut entries = 0u64;
			Rounds::<T>::translate::<v1::RoundInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>, _>(
				|id, old| {
					entries += 1;
					let parent =
						frame_system::BlockHash::<T>::get(old.opened.saturating_sub(One::one()));
					let committee = super::v4::old::Committees::<T>::get(id).unwrap_or_default();
					let instance = Pallet::<T>::instance_of(
						&parent,
						old.machine,
						id,
						old.level,
						&old.subject,
						&old.kind,
						&membership::committee_root(&committee),
						&old.seed,
					);
					Some(RoundInfo {
						machine: old.machine,
						level: old.level,
						subject: old.subject,
						opener: old.opener,
						deposit: old.deposit,
						opened: old.opened,
						deadline: old.deadline,
						seed: old.seed,
						instance,
						snapshot: old.population_version,
						total_stake: old.total_stake,
						slots: old.slots,
						threshold: old.threshold,
						decided: old.decided,
						closed: old.closed,
						kind: old.kind,
					})
				},
			);
			for (id, round) in Rounds::<T>::iter() {
				entries += 1;
				let Some(committee) = super::v4::old::Committees::<T>::get(id) else { continue };
				CommitteeRoots::<T>::insert(
					id,
					CommitteeRecord {
						instance: round.instance,
						root: membership::committee_root(&committee),
						seats: committee.len() as u32,
						expires: None,
					},
				);
			}
			CommitteeRootCursor::<T>::put(PruneCursor::<T>::get());
			Certificates::<T>::translate::<
				v1::CertificateRecord<BlockNumberFor<T>, SignaturesOf<T>>,
				_,
			>(|_, old| {
				entries += 1;
				Some(CertificateRecord {
					statement: upgrade(old.statement),
					signatures: old.signatures,
					slots: old.slots,
					block: old.block,
				})
			});
			Penalties::<T>::translate::<
				v1::Penalty<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>,
				_,
			>(|_, old| {
				entries += 1;
				let statements = old.statements.into_iter().map(|(s, sig)| (upgrade(s), sig));
				Some(Penalty {
					offender: old.offender,
					kind: old.kind,
					round: old.round,
					key: old.key,
					statements: BoundedVec::truncate_from(statements.collect()),
					fraction: old.fraction,
					base: old.base,
					reporter: old.reporter,
					recorded: old.recorded,
					apply_at: old.apply_at,
					status: match old.status {
						v1::PenaltyStatus::Pending => PenaltyStatus::Pending,
						v1::PenaltyStatus::Applied { slashed, .. } => {
							PenaltyStatus::Applied { slashed }
						}
						v1::PenaltyStatus::Cancelled => PenaltyStatus::Cancelled,
					},
				})
			});
			// Each entry read and written, plus the committee read and root written per round.
			T::DbWeight::get().reads_writes(entries.saturating_mul(2), entries.saturating_mul(2))
		}
	}

	/// Version 1 → 2, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		InnerMigrateV1ToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 2 → 3: rounds are committed, then drawn from randomness newer than the commitment;
/// draws read stake snapshots.
///
/// - `NextDraw` starts at `NextRoundId`: every round of version 2 was drawn when it opened.
/// - `PopulationVersion` is removed; a round's `snapshot` field took its place in `RoundInfo`
///   (same encoding), so rounds drawn before keep the old version number there.
/// - `FrozenNodes` starts empty: the snapshot of the period the upgrade falls in is the stake
///   tree as the upgrade found it.
pub mod v3 {
	use crate::pallet::*;
	use frame_support::{
		migrations::VersionedMigration,
		storage::unhashed,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// The storage key `PopulationVersion` had.
	pub fn population_version_key<T: Config>() -> [u8; 32] {
		frame_support::storage::storage_prefix(
			<Pallet<T> as frame_support::traits::PalletInfoAccess>::name().as_bytes(),
			b"PopulationVersion",
		)
	}

	/// The unversioned body of [`MigrateV2ToV3`].
	pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
		fn on_runtime_upgrade() -> Weight {
			NextDraw::<T>::put(NextRoundId::<T>::get());
			unhashed::kill(&population_version_key::<T>());
			T::DbWeight::get().reads_writes(1, 2)
		}
	}

	/// Version 2 → 3, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV2ToV3<T> = VersionedMigration<
		2,
		3,
		InnerMigrateV2ToV3<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 3 → 4: storage that scales to large committees and populations.
///
/// - `Committees` (a round's whole committee in one value, read whole by every statement) is
///   moved seat by seat to `CommitteeSeats`; a committed round not yet drawn had an empty
///   committee and now has no seats.
/// - `FreeIndices` (every freed stake-tree index in one value) is moved to the stack
///   `FreeIndexStack` / `FreeIndexCount`, in the same order (the last freed is reused first).
pub mod v4 {
	use crate::pallet::*;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// The version-3 layouts.
	pub mod old {
		use super::*;

		/// A round's committee in one value.
		#[frame_support::storage_alias]
		pub type Committees<T: Config> = StorageMap<
			Pallet<T>,
			Twox64Concat,
			consensus_machine_primitives::statement::RoundId,
			CommitteeOf<T>,
		>;

		/// The freed stake-tree indices in one value.
		#[frame_support::storage_alias]
		pub type FreeIndices<T: Config> =
			StorageValue<Pallet<T>, BoundedVec<u32, <T as Config>::MaxAgents>, ValueQuery>;
	}

	/// The unversioned body of [`MigrateV3ToV4`].
	pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (1u64, 2u64);
			for (round, committee) in old::Committees::<T>::drain() {
				reads += 1;
				for (index, seat) in (0u32..).zip(committee) {
					writes += 1;
					CommitteeSeats::<T>::insert(round, index, seat);
				}
			}
			let free = old::FreeIndices::<T>::take();
			FreeIndexCount::<T>::put(free.len() as u32);
			for (position, index) in (0u32..).zip(free) {
				writes += 1;
				FreeIndexStack::<T>::insert(position, index);
			}
			T::DbWeight::get().reads_writes(reads, writes.saturating_add(reads))
		}
	}

	/// Version 3 → 4, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV3ToV4<T> = VersionedMigration<
		3,
		4,
		InnerMigrateV3ToV4<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 4 → 5: an offender's pending-penalty count is removed when it reaches zero, instead
/// of being kept at zero for good; the counts already at zero are removed (one pass over
/// `PendingPenalties`, whose entries are at most the accounts ever punished).
pub mod v5 {
	use crate::pallet::*;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// The unversioned body of [`MigrateV4ToV5`].
	pub struct InnerMigrateV4ToV5<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV4ToV5<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut entries = 0u64;
			PendingPenalties::<T>::translate::<u32, _>(|_, count| {
				entries += 1;
				(count > 0).then_some(count)
			});
			T::DbWeight::get().reads_writes(entries, entries)
		}
	}

	/// Version 4 → 5, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV4ToV5<T> = VersionedMigration<
		4,
		5,
		InnerMigrateV4ToV5<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

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
