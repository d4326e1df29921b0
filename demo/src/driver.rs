//! # Demo driver (dev chains only)
//!
//! Keeps a dev chain busy without a human: every `period` blocks (genesis; `0` switches it
//! off) it opens a round of the notary log ([`NOTARY`]), a round of the hierarchical oracle
//! ([`ORACLE`]) and proposes a demo object for judgement on the notary's committee (every
//! third object is provably bad, see [`crate::DemoEvaluator`]). It
//! pays the deposits and bonds from its own account ([`account`], endowed by the presets) and
//! closes what it opened once the pallet lets it. It is bounded: at most
//! [`MAX_TRACKED`] rounds of its own in flight, and one step's work every `period` blocks.
//!
//! It goes through the pallet's public calls with a signed origin, exactly as a user would,
//! so the chain does nothing for it that it would not do for anyone. Not for production: a
//! runtime has it only with its `demo` feature.

pub use pallet::*;

/// The presets' notary log (a unitary transition machine).
pub const NOTARY: u32 = 0;
/// The presets' hierarchical oracle.
pub const ORACLE: u32 = 1;
/// Rounds the driver keeps in flight at most.
pub const MAX_TRACKED: u32 = 16;
/// Size of the first demo object; each next one is a byte longer.
pub const FIRST_OBJECT_SIZE: u32 = 2_048;

/// The driver's account (pays deposits and proposal bonds).
pub fn account<AccountId: codec::Codec>() -> AccountId {
	use sp_runtime::traits::AccountIdConversion;
	frame_support::PalletId(*b"cm/demo!").into_account_truncating()
}

#[frame_support::pallet]
pub mod pallet {
	use crate::DemoObjects;
	use consensus_machine_primitives::statement::RoundId;
	use frame_support::pallet_prelude::*;
	use frame_system::{pallet_prelude::*, RawOrigin};
	use pallet_consensus_machine::{
		types::RoundKind, weights::WeightInfo, Pallet as Machines, Rounds,
	};
	use sp_runtime::traits::Zero;

	type CmWeights<T> = <T as pallet_consensus_machine::Config>::WeightInfo;

	#[pallet::config]
	pub trait Config: frame_system::Config + pallet_consensus_machine::Config {
		/// The demo objects it proposes (the chain's evaluator's, so that good ones are green
		/// and bad ones red).
		type Objects: DemoObjects;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Blocks between two steps; `0` switches the driver off.
	#[pallet::storage]
	pub type Period<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The rounds the driver opened and has not seen settled.
	#[pallet::storage]
	pub type Tracked<T: Config> =
		StorageValue<_, BoundedVec<RoundId, ConstU32<{ super::MAX_TRACKED }>>, ValueQuery>;

	/// Demo objects proposed so far.
	#[pallet::storage]
	pub type Proposed<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks between two steps (`0`: off).
		pub period: BlockNumberFor<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Period::<T>::put(self.period);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let period = Period::<T>::get();
			if period.is_zero() || !(now % period).is_zero() {
				return T::DbWeight::get().reads(1);
			}
			Self::step(now)
		}
	}

	impl<T: Config> Pallet<T> {
		fn origin() -> OriginFor<T> {
			RawOrigin::Signed(super::account::<T::AccountId>()).into()
		}

		/// Settles what can be settled, then opens what there is room for.
		fn step(now: BlockNumberFor<T>) -> Weight {
			let max = <T as pallet_consensus_machine::Config>::MaxCommittee::get();
			let mut weight = T::DbWeight::get().reads_writes(3, 2);
			let mut tracked = BoundedVec::<RoundId, ConstU32<{ super::MAX_TRACKED }>>::new();
			for mut round in Tracked::<T>::get() {
				let Some(mut info) = Rounds::<T>::get(round) else { continue };
				// A handed-over oracle round: follow it to its current level.
				if let RoundKind::Primary { levels, .. } = &info.kind {
					if let Some(&last) =
						levels.last().filter(|last| info.is_closed() && **last != round)
					{
						let Some(next) = Rounds::<T>::get(last) else { continue };
						(round, info) = (last, next);
					}
				}
				// Decided rounds close themselves but for validity rounds (their bond waits for
				// the challenge window).
				let validity = matches!(info.kind, RoundKind::Validity { .. });
				if info.is_closed() || (!validity && info.decided().is_some()) {
					continue;
				}
				if info.draw().is_some_and(|draw| draw.deadline < now) {
					weight.saturating_accrue(CmWeights::<T>::close_round(max));
					// Refused while a green's challenge window runs: tried again next step.
					let _ = Machines::<T>::close_round(Self::origin(), round);
				}
				let _ = tracked.try_push(round);
			}
			let subject = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash_of(
				&(b"cm/demo", now),
			)
			.0;
			let count = Proposed::<T>::get();
			let size = super::FIRST_OBJECT_SIZE.saturating_add(count);
			let object = T::Objects::object(size, count % 3 != 2);
			for what in ["notary round", "oracle round", "proposal"] {
				if tracked.is_full() {
					break;
				}
				weight.saturating_accrue(CmWeights::<T>::commit_round());
				let round = pallet_consensus_machine::NextRoundId::<T>::get();
				let opened = match what {
					"notary round" => {
						Machines::<T>::commit_round(Self::origin(), super::NOTARY, subject)
					}
					"oracle round" => {
						Machines::<T>::commit_round(Self::origin(), super::ORACLE, subject)
					}
					_ => Machines::<T>::propose(Self::origin(), super::NOTARY, object.hash, size),
				};
				match opened {
					Ok(()) => {
						let _ = tracked.try_push(round);
						if what == "proposal" {
							Proposed::<T>::put(count.saturating_add(1));
						}
					}
					Err(e) => log::debug!(target: "runtime::demo", "no {what} at {now:?}: {e:?}"),
				}
			}
			Tracked::<T>::put(tracked);
			weight
		}
	}
}
