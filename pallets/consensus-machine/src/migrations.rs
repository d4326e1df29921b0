//! Storage migrations, for the runtime's `Migrations`.
//!
//! No chain runs a layout older than version 6, so the path starts there. Each migration runs
//! in one block, which is fine for the chains this runs on today; a chain with long histories
//! would run them as multi-block migrations.
//!
//! The picket registry left this pallet for `pallet-pickets` with no migration: no live chain
//! runs either. A chain that did would move the registry's storage items to the new pallet's
//! prefix and re-hold each bond under the new pallet's hold reason.

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
				// Rounds are still in their version-7 layout here (version 8 changes it).
				let Some(round) = crate::migrations::v8::v7::Rounds::<T>::get(id) else { continue };
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

/// Version 7 → 8: a round's phase is one value ([`crate::types::Phase`]) instead of a sentinel
/// deadline (the largest block number until drawn), placeholder draw fields, `decided` and
/// `closed`. Every round keeps its id, its other fields, its draw, its decision block and
/// whether it was closed.
pub mod v8 {
	use crate::{
		pallet::*,
		types::{Draw, Phase, RoundInfo, RoundKind},
	};
	use consensus_machine_primitives::statement::{Hash, Level, MachineId, RoundId};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_runtime::traits::Bounded;

	/// The version-7 layout (rounds were stored so from version 5 to version 7).
	pub mod v7 {
		use super::*;

		/// Rounds in the version-7 layout.
		#[frame_support::storage_alias]
		pub type Rounds<T: Config> = StorageMap<Pallet<T>, Twox64Concat, RoundId, OldRoundOf<T>>;

		/// A round before its phase was one value.
		#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
		#[allow(missing_docs)]
		pub struct RoundInfo<AccountId, Balance, BlockNumber> {
			pub machine: MachineId,
			pub level: Level,
			pub subject: Hash,
			pub opener: AccountId,
			pub deposit: Balance,
			pub opened: BlockNumber,
			/// The largest block number until drawn.
			pub deadline: BlockNumber,
			pub seed: Hash,
			pub instance: Hash,
			pub snapshot: u32,
			pub total_stake: u128,
			pub slots: u32,
			pub threshold: u32,
			pub decided: Option<BlockNumber>,
			pub closed: bool,
			pub kind: RoundKind,
		}
	}

	impl<AccountId, Balance, BlockNumber: Bounded + Copy>
		v7::RoundInfo<AccountId, Balance, BlockNumber>
	{
		/// `round` as version 7 stored it: how tests write a version-7 chain.
		#[cfg(any(test, feature = "try-runtime"))]
		pub fn from_current(round: RoundInfo<AccountId, Balance, BlockNumber>) -> Self {
			let (draw, decided, closed) = match round.phase {
				Phase::Committed => (None, None, false),
				Phase::Drawn(draw) => (Some(draw), None, false),
				Phase::Decided { draw, at } => (Some(draw), Some(at), false),
				Phase::Closed { draw, decided } => (Some(draw), decided, true),
			};
			Self {
				machine: round.machine,
				level: round.level,
				subject: round.subject,
				opener: round.opener,
				deposit: round.deposit,
				opened: round.opened,
				deadline: draw.as_ref().map_or(BlockNumber::max_value(), |d| d.deadline),
				seed: draw.as_ref().map(|d| d.seed).unwrap_or_default(),
				instance: draw.as_ref().map(|d| d.instance).unwrap_or_default(),
				snapshot: draw.as_ref().map_or(0, |d| d.snapshot),
				total_stake: draw.as_ref().map_or(0, |d| d.total_stake),
				slots: round.slots,
				threshold: round.threshold,
				decided,
				closed,
				kind: round.kind,
			}
		}
	}

	/// A version-7 round of the pallet's `Config`.
	pub type OldRoundOf<T> = v7::RoundInfo<
		<T as frame_system::Config>::AccountId,
		crate::BalanceOf<T>,
		BlockNumberFor<T>,
	>;

	/// The phase a version-7 round was in. A round that was not drawn is committed, whatever
	/// its other flags say (it cannot have been decided or closed).
	pub fn phase_of<A, B, N: Bounded + PartialEq + Copy>(old: &v7::RoundInfo<A, B, N>) -> Phase<N> {
		if old.deadline == N::max_value() {
			return Phase::Committed;
		}
		let draw = Draw {
			deadline: old.deadline,
			seed: old.seed,
			instance: old.instance,
			snapshot: old.snapshot,
			total_stake: old.total_stake,
		};
		match (old.decided, old.closed) {
			(decided, true) => Phase::Closed { draw, decided },
			(Some(at), false) => Phase::Decided { draw, at },
			(None, false) => Phase::Drawn(draw),
		}
	}

	/// The unversioned body of [`MigrateV7ToV8`].
	pub struct InnerMigrateV7ToV8<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV7ToV8<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut rounds = 0u64;
			Rounds::<T>::translate::<OldRoundOf<T>, _>(|_, old| {
				rounds += 1;
				let phase = phase_of(&old);
				Some(RoundInfo {
					machine: old.machine,
					level: old.level,
					subject: old.subject,
					opener: old.opener,
					deposit: old.deposit,
					opened: old.opened,
					slots: old.slots,
					threshold: old.threshold,
					kind: old.kind,
					phase,
				})
			});
			T::DbWeight::get().reads_writes(rounds, rounds)
		}

		/// Every round, as it was: whether drawn and with what, its decision block, whether
		/// closed, and every other field's encoding. A round that was not drawn cannot have
		/// been decided or closed: the migration would lose that, so it refuses.
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			let mut before = alloc::vec::Vec::new();
			for (id, old) in v7::Rounds::<T>::iter() {
				let drawn = old.deadline != BlockNumberFor::<T>::max_value();
				ensure!(
					drawn || (old.decided.is_none() && !old.closed),
					"a version-7 round decided or closed before its draw"
				);
				let summary = Summary {
					draw: drawn.then_some((
						old.deadline,
						old.seed,
						old.instance,
						old.snapshot,
						old.total_stake,
					)),
					decided: old.decided,
					closed: old.closed,
					rest: (
						old.machine,
						old.level,
						old.subject,
						&old.opener,
						old.deposit,
						old.opened,
						old.slots,
						old.threshold,
						&old.kind,
					)
						.encode(),
				};
				before.push((id, summary));
			}
			ensure!(
				before.len() == Rounds::<T>::iter_keys().count(),
				"a version-7 round does not decode"
			);
			Ok(before.encode())
		}

		/// Every round decodes in the new layout and says what it said before.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before: alloc::vec::Vec<(RoundId, Summary<BlockNumberFor<T>>)> =
				Decode::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state")?;
			ensure!(Rounds::<T>::iter_keys().count() == before.len(), "rounds gained or lost");
			for (id, old) in before {
				let new = Rounds::<T>::get(id).ok_or("a round lost its layout")?;
				let draw =
					new.draw().map(|d| (d.deadline, d.seed, d.instance, d.snapshot, d.total_stake));
				ensure!(draw == old.draw, "a round's draw changed");
				ensure!(new.decided() == old.decided, "a round's decision block changed");
				ensure!(new.is_closed() == old.closed, "a round's closing changed");
				let rest = (
					new.machine,
					new.level,
					new.subject,
					&new.opener,
					new.deposit,
					new.opened,
					new.slots,
					new.threshold,
					&new.kind,
				)
					.encode();
				ensure!(rest == old.rest, "a round's other fields changed");
			}
			Ok(())
		}
	}

	/// What [`InnerMigrateV7ToV8`]'s checks compare, read from the old layout's own fields.
	#[cfg(feature = "try-runtime")]
	#[derive(Encode, Decode)]
	struct Summary<N> {
		draw: Option<(N, Hash, Hash, u32, u128)>,
		decided: Option<N>,
		closed: bool,
		/// The other fields, encoded in order.
		rest: alloc::vec::Vec<u8>,
	}

	/// Version 7 → 8, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV7ToV8<T> = VersionedMigration<
		7,
		8,
		InnerMigrateV7ToV8<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 8 → 9: a live round's committee is stored in chunks of
/// [`SEATS_PER_CHUNK`](crate::SEATS_PER_CHUNK) seats ([`CommitteeChunks`]) instead of one value
/// per seat. Every live round keeps its seats, in their order, so certificates and statements
/// name the same seats by the same indices.
pub mod v9 {
	use crate::{pallet::*, types::Seat};
	use alloc::{collections::BTreeMap, vec::Vec};
	use consensus_machine_primitives::statement::RoundId;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// The version-8 layout.
	pub mod v8 {
		use super::*;

		/// One value per seat: (round, seat index) → seat.
		#[frame_support::storage_alias]
		pub type CommitteeSeats<T: Config> = StorageDoubleMap<
			Pallet<T>,
			Twox64Concat,
			RoundId,
			Twox64Concat,
			u32,
			Seat<<T as frame_system::Config>::AccountId>,
		>;
	}

	/// Every round's seats in the version-8 layout, in seat order.
	pub fn old_committees<T: Config>() -> BTreeMap<RoundId, BTreeMap<u32, Seat<T::AccountId>>> {
		let mut rounds: BTreeMap<RoundId, BTreeMap<u32, Seat<T::AccountId>>> = BTreeMap::new();
		for (round, index, seat) in v8::CommitteeSeats::<T>::iter() {
			rounds.entry(round).or_default().insert(index, seat);
		}
		rounds
	}

	/// The unversioned body of [`MigrateV8ToV9`].
	pub struct InnerMigrateV8ToV9<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV8ToV9<T> {
		fn on_runtime_upgrade() -> Weight {
			let rounds = old_committees::<T>();
			let (mut seats, mut chunks) = (0u64, 0u64);
			for (round, committee) in rounds {
				// Seats are stored `0..size` with no gap; a gap would shift every later seat,
				// so the committee stops there (its round then times out).
				let ordered: Vec<_> = committee
					.into_iter()
					.enumerate()
					.take_while(|(at, (index, _))| *at as u32 == *index)
					.map(|(_, (_, seat))| seat)
					.collect();
				seats += ordered.len() as u64;
				for (chunk, part) in (0u32..).zip(ordered.chunks(SEATS_PER_CHUNK as usize)) {
					chunks += 1;
					let part = CommitteeChunkOf::<T>::truncate_from(part.to_vec());
					CommitteeChunks::<T>::insert(round, chunk, part);
				}
			}
			let _ = v8::CommitteeSeats::<T>::clear(u32::MAX, None);
			T::DbWeight::get().reads_writes(seats, seats + chunks)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let rounds: Vec<(RoundId, Vec<Seat<T::AccountId>>)> = old_committees::<T>()
				.into_iter()
				.map(|(round, seats)| (round, seats.into_values().collect()))
				.collect();
			Ok(rounds.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = Vec::<(RoundId, Vec<Seat<T::AccountId>>)>::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			for (round, seats) in before {
				ensure!(Pallet::<T>::committee(round) == seats, "a committee changed");
			}
			ensure!(v8::CommitteeSeats::<T>::iter_keys().next().is_none(), "a seat left behind");
			Ok(())
		}
	}

	/// Version 8 → 9, run once: `VersionedMigration` checks and bumps the on-chain version.
	pub type MigrateV8ToV9<T> = VersionedMigration<
		8,
		9,
		InnerMigrateV8ToV9<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
