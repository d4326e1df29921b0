//! Storage migrations, for the runtime's `Migrations`.

/// Version 1 → 2: the stake tree moves from a binary (Fenwick) tree, one storage value per node
/// and a second map for the nodes' snapshot values, to the paged tree of fan-out 16
/// ([`StakePages`], one value per page holding its live and snapshot sums).
///
/// Every index keeps its live stake and its stake in the current period's snapshot, so draws
/// in the period of the upgrade seat exactly whom they would have seated, and so do later ones.
///
/// It runs in one block: it reads each used index's two stakes from the old tree (`4 · log₂`
/// of the capacity reads per index, cached after the first) and writes one value per page,
/// about a tenth of the agents. That suits the chains this runs on today (tens of agents); a
/// chain with a large population would run it as a multi-block migration, draws refused
/// while it runs.
pub mod v2 {
	use crate::{pallet::*, types::StakePage};
	use alloc::collections::BTreeMap;
	#[cfg(feature = "try-runtime")]
	use alloc::vec::Vec;
	use consensus_machine_primitives::{
		fenwick,
		selection::{self, MemoryTree, Page},
	};
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
	};

	/// The version-1 layout.
	pub mod v1 {
		use super::*;

		/// Fenwick-tree nodes (1-based).
		#[frame_support::storage_alias]
		pub type StakeNodes<T: Config> = StorageMap<Pallet<T>, Twox64Concat, u32, u128, ValueQuery>;

		/// The tree's power-of-two capacity.
		#[frame_support::storage_alias]
		pub type StakeTreeCapacity<T: Config> = StorageValue<Pallet<T>, u32, ValueQuery>;

		/// A node's value when the period it is tagged with began.
		#[frame_support::storage_alias]
		pub type FrozenNodes<T: Config> = StorageMap<Pallet<T>, Twox64Concat, u32, (u32, u128)>;

		/// The version-1 tree, live (`snapshot: None`) or as period `snapshot` began.
		pub struct Tree<T> {
			/// Its capacity.
			pub capacity: u32,
			/// The snapshot period read, if not the live tree.
			pub snapshot: Option<u32>,
			/// The configuration.
			pub _config: core::marker::PhantomData<T>,
		}

		impl<T: Config> Tree<T> {
			/// The live tree, or the snapshot of `period`.
			pub fn new(snapshot: Option<u32>) -> Self {
				let capacity = StakeTreeCapacity::<T>::get();
				Self { capacity, snapshot, _config: Default::default() }
			}
		}

		impl<T: Config> fenwick::StakeTree for Tree<T> {
			fn capacity(&self) -> u32 {
				self.capacity
			}
			fn node(&self, i: u32) -> u128 {
				match (self.snapshot, FrozenNodes::<T>::get(i)) {
					(Some(period), Some((tag, value))) if tag == period => value,
					_ => StakeNodes::<T>::get(i),
				}
			}
			fn set_node(&mut self, _: u32, _: u128) {}
		}

		/// Each used index's live stake and stake in the current snapshot.
		pub fn stakes<T: Config>() -> impl Iterator<Item = (u32, u128, u128)> {
			let (live, snapshot) =
				(Tree::<T>::new(None), Tree::<T>::new(Some(Pallet::<T>::current_period())));
			let used = NextIndex::<T>::get().min(live.capacity);
			(0..used)
				.map(move |i| (i, fenwick::stake_of(&live, i), fenwick::stake_of(&snapshot, i)))
		}
	}

	/// The unversioned body of [`MigrateV1ToV2`].
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let height = Pallet::<T>::wanted_tree_height();
			let (mut live, mut snapshot) =
				(MemoryTree::with_height(height), MemoryTree::with_height(height));
			let capacity = v1::StakeTreeCapacity::<T>::get();
			let mut indices = 0u64;
			for (i, live_stake, snapshot_stake) in v1::stakes::<T>() {
				indices += 1;
				// Both fit: each tree's total fitted a u128 before.
				let _ = selection::add(&mut live, i, live_stake);
				let _ = selection::add(&mut snapshot, i, snapshot_stake);
			}
			let mut pages: BTreeMap<(u32, u32), (Page, Page)> = BTreeMap::new();
			for (level, at, page) in live.pages() {
				pages.entry((level, at)).or_default().0 = *page;
			}
			for (level, at, page) in snapshot.pages() {
				pages.entry((level, at)).or_default().1 = *page;
			}
			let period = Pallet::<T>::current_period();
			let written = pages.len() as u64;
			for ((level, at), (live, frozen)) in pages {
				StakePages::<T>::insert((level as u8, at), StakePage { live, frozen, period });
			}
			StakeTreeHeight::<T>::put(height as u8);
			let removed = u64::from(capacity);
			let _ = v1::StakeNodes::<T>::clear(u32::MAX, None);
			let _ = v1::FrozenNodes::<T>::clear(u32::MAX, None);
			v1::StakeTreeCapacity::<T>::kill();
			// Two stakes per index, each `2 · log₂ capacity` node reads at most.
			let depth = u64::from(32 - capacity.leading_zeros());
			T::DbWeight::get().reads_writes(3 + indices * 4 * depth, written + 2 * removed + 2)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok(v1::stakes::<T>().collect::<Vec<_>>().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use selection::StakeTree;
			let before = Vec::<(u32, u128, u128)>::decode(&mut &state[..])
				.map_err(|_| "the pre-upgrade state does not decode")?;
			let (live, snapshot) =
				(crate::bonds::StorageTree::<T>::new(), crate::bonds::SnapshotTree::<T>::current());
			for (i, live_stake, snapshot_stake) in before {
				ensure!(selection::stake_of(&live, i) == live_stake, "a live stake moved");
				ensure!(
					selection::stake_of(&snapshot, i) == snapshot_stake,
					"a snapshot stake moved"
				);
			}
			ensure!(selection::total(&live) == TotalStake::<T>::get(), "the live total");
			ensure!(live.height() == Pallet::<T>::wanted_tree_height(), "the tree's height");
			ensure!(v1::StakeNodes::<T>::iter_keys().next().is_none(), "an old node left");
			ensure!(v1::FrozenNodes::<T>::iter_keys().next().is_none(), "an old node left");
			Ok(())
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
