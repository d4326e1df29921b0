#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
pub mod bonds;
pub mod migrations;
pub mod penalties;
mod supply;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use weights::WeightInfo;

/// The bookkeeping shared by the hooks' queues.
pub(crate) use consensus_machine_support::sweep;

/// The picket key: an sr25519 application key, key type `cmpk`.
pub use consensus_machine_support::crypto;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::pickets";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::{
		crypto::{Public, Signature},
		types::*,
	};
	use alloc::vec::Vec;
	use consensus_machine_primitives::{
		pickets::Accountability,
		statement::{Hash, RoundId},
	};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Balanced, BalancedHold, Credit, Inspect, Mutate, MutateHold},
			OnUnbalanced,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// An agent as stored.
	pub type AgentInfoOf<T> = AgentInfo<BalanceOf<T>, BlockNumberFor<T>>;
	/// An offence as reported.
	pub type OffenceOf<T> = Offence<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// A recorded penalty.
	pub type PenaltyOf<T> =
		Penalty<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// Slashed funds on their way to [`Config::Slash`].
	pub type CreditOf<T> = Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
	/// A penalty's id.
	pub type PenaltyId = u32;
	/// An agent in the genesis config.
	pub type GenesisAgentOf<T> = GenesisAgent<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

	/// The storage layout's version.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<Hash = H256> {
		/// The currency bonds are held in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ Balanced<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>;

		/// The runtime's hold reason, which includes this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Where slashed funds go (a treasury in a real runtime).
		type Slash: OnUnbalanced<CreditOf<Self>>;

		/// Who may cancel a pending penalty during its deferral.
		type CancelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The machines these pickets sit for: how long a drawn committee stays accountable
		/// (a leaving picket's bond is held until no offence of a round that may have seated
		/// it can still be reported).
		type Machines: Accountability;

		/// The smallest bond an agent may have.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// The most agents that can be registered at once (the stake tree's capacity).
		#[pallet::constant]
		type MaxAgents: Get<u32>;

		/// Blocks per stake snapshot: draws use the stake tree as it stood when the current
		/// snapshot period began; bonds, unbonds and withdrawals count from the next one. It
		/// must exceed the machines' randomness lead by more than a block, or no randomness is
		/// ever fresh enough for a period's snapshot.
		#[pallet::constant]
		type SnapshotPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks an unbonding agent's bond stays held at least; must exceed `SnapshotPeriod`.
		#[pallet::constant]
		type UnbondingDelay: Get<BlockNumberFor<Self>>;

		/// The share of its bond each kind of offence costs an agent ([`SlashRates`]); a red
		/// proposal forfeits its whole proposal bond.
		#[pallet::constant]
		type SlashRates: Get<SlashRates>;

		/// Blocks between recording a penalty and applying it (cancellable meanwhile).
		#[pallet::constant]
		type SlashDeferral: Get<BlockNumberFor<Self>>;

		/// The sliding window in which missed duties are counted.
		#[pallet::constant]
		type MissWindow: Get<BlockNumberFor<Self>>;

		/// Misses within the window that ban an agent.
		#[pallet::constant]
		type MaxMisses: Get<u32>;

		/// Blocks a ban lasts.
		#[pallet::constant]
		type BanPeriod: Get<BlockNumberFor<Self>>;

		/// Blocks a ban is remembered: a next ban within this many blocks of the last one is a
		/// repeat, and slashed (`SlashRates::non_participation`); a later one counts as a first ban.
		#[pallet::constant]
		type BanMemory: Get<BlockNumberFor<Self>>;

		/// Penalties applied per block at most.
		#[pallet::constant]
		type MaxPenaltiesPerBlock: Get<u32>;

		/// Suspended or banned agents' stakes taken out of the stake tree per block at most
		/// (`on_initialize`, oldest first; see [`PendingExits`]).
		#[pallet::constant]
		type MaxExitsPerBlock: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// An agent's bond: slashable for its offences until withdrawn.
		Bond,
		/// A proposal bond forfeited for a red proposal, held from the report until its penalty
		/// is applied (slashed whole) or cancelled (released).
		Forfeit,
	}

	/// Registered agents by account: picket key, bond, stake-tree index and status.
	#[pallet::storage]
	pub type Agents<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, AgentInfoOf<T>>;

	/// The agent each picket key belongs to: one agent per key.
	#[pallet::storage]
	pub type KeyOwner<T: Config> = StorageMap<_, Blake2_128Concat, Public, T::AccountId>;

	/// The agent at each stake-tree index: a draw finds an index, this names its agent.
	#[pallet::storage]
	pub type AgentAt<T: Config> = StorageMap<_, Twox64Concat, u32, T::AccountId>;

	/// Stake-tree indices freed by withdrawn agents, reused first: a stack, position →
	/// index for positions `0..FreeIndexCount`, so that a registration or a withdrawal touches
	/// one entry whatever the population.
	#[pallet::storage]
	pub type FreeIndexStack<T: Config> = StorageMap<_, Twox64Concat, u32, u32>;

	/// How many freed stake-tree indices wait in [`FreeIndexStack`].
	#[pallet::storage]
	pub type FreeIndexCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The lowest stake-tree index never used yet (indices below it are taken or free).
	#[pallet::storage]
	pub type NextIndex<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The stake tree: the pages of a sum tree of fan-out 16 over the active agents' stakes
	/// ([`consensus_machine_primitives::selection`]) by `(level, index)`, each with the sums
	/// the current snapshot period began with (see [`crate::bonds::SnapshotTree`]). A stake
	/// change reads and writes one page per level; a draw reads each page it passes once. A
	/// page that holds nothing has no entry.
	#[pallet::storage]
	pub type StakePages<T: Config> = StorageMap<_, Twox64Concat, (u8, u32), StakePage>;

	/// The stake tree's height: it holds `16^height` indices, at least `MaxAgents` once any
	/// stake entered (grown by a level at a time when a runtime upgrade raises `MaxAgents`).
	#[pallet::storage]
	pub type StakeTreeHeight<T: Config> = StorageValue<_, u8, ValueQuery>;

	/// Total stake of the active agents: what a draw's uniform target ranges over.
	#[pallet::storage]
	pub type TotalStake<T: Config> = StorageValue<_, u128, ValueQuery>;

	/// Stake still in the stake tree of agents suspended or banned by a call that did so to
	/// many at once (a red overturning every green, a certificate proving many equivocations,
	/// a close banning every silent seat), by tree index: `on_initialize` takes it out, oldest
	/// first ([`ExitQueue`]), at most `MaxExitsPerBlock` a block, so that no single call pays a
	/// whole committee's tree updates. Until then a draw that lands on such an agent seats
	/// nobody (it is not active), as for any agent that left since the snapshot.
	#[pallet::storage]
	pub type PendingExits<T: Config> = StorageMap<_, Twox64Concat, u32, u128>;

	/// The order of [`PendingExits`]: positions `ExitQueueHead..ExitQueueTail` → tree index.
	#[pallet::storage]
	pub type ExitQueue<T: Config> = StorageMap<_, Twox64Concat, u32, u32>;

	/// The oldest position of [`ExitQueue`] not yet taken.
	#[pallet::storage]
	pub type ExitQueueHead<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The position the next queued exit gets.
	#[pallet::storage]
	pub type ExitQueueTail<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Every recorded offence by penalty id: offender, kind, proof, and where its penalty
	/// stands (pending, applied or cancelled). Forgotten once settled and its round's committee
	/// root has expired ([`PenaltyPruneCursor`]): the events keep the history.
	#[pallet::storage]
	pub type Penalties<T: Config> = StorageMap<_, Twox64Concat, PenaltyId, PenaltyOf<T>>;

	/// The id the next recorded offence's penalty gets.
	#[pallet::storage]
	pub type NextPenaltyId<T: Config> = StorageValue<_, PenaltyId, ValueQuery>;

	/// The oldest penalty that may still be pending: applying walks penalty ids from here.
	#[pallet::storage]
	pub type PenaltyCursor<T: Config> = StorageValue<_, PenaltyId, ValueQuery>;

	/// Penalties below this id are forgotten: settled, and for rounds whose committee roots
	/// have expired, so that no such offence can be recorded again.
	#[pallet::storage]
	pub type PenaltyPruneCursor<T: Config> = StorageValue<_, PenaltyId, ValueQuery>;

	/// One penalty per (offender, round, kind): an offence is punished once. Kept while the
	/// offence could be recorded again (until its round's committee root expires).
	#[pallet::storage]
	pub type OffenceIndex<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Blake2_128Concat, T::AccountId>,
			NMapKey<Twox64Concat, RoundId>,
			NMapKey<Twox64Concat, OffenceKind>,
		),
		PenaltyId,
	>;

	/// Pending penalties per offender: the bond cannot be withdrawn while any is pending. An
	/// offender with none pending has no entry.
	#[pallet::storage]
	pub type PendingPenalties<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Each agent's missed duties within the sliding window: the blocks they fell due (their
	/// rounds' deadlines), in the order they were counted.
	#[pallet::storage]
	pub type Misses<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<BlockNumberFor<T>, T::MaxMisses>,
		ValueQuery,
	>;

	/// Each agent's recent bans for missed duties: how many in a row, and the block of the
	/// last. A ban within `BanMemory` blocks of the last one is a repeat, and slashed; after
	/// that the count starts again.
	#[pallet::storage]
	pub type Bans<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, (u32, BlockNumberFor<T>)>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Agents bonded at genesis.
		pub agents: Vec<GenesisAgentOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for GenesisAgent { account, key, bond } in &self.agents {
				Pallet::<T>::do_register(account.clone(), key.clone(), *bond)
					.expect("genesis agents must be valid");
			}
			// Genesis is the first snapshot: its agents are drawn from the first block on.
			StakePages::<T>::translate(|_, mut page: StakePage| {
				page.frozen = page.live;
				Some(page)
			});
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An agent bonded `bond` (held) with `key` as its picket key, and entered the draw.
		AgentRegistered { agent: T::AccountId, key: Public, bond: BalanceOf<T> },
		/// An agent's bond grew by `amount` to `bond`, and its stake in the draw with it.
		BondIncreased { agent: T::AccountId, amount: BalanceOf<T>, bond: BalanceOf<T> },
		/// An agent left the draw; its bond is held until `until`.
		UnbondingStarted { agent: T::AccountId, until: BlockNumberFor<T> },
		/// An unbonded agent's bond (`amount`) was released and the agent removed, its key freed.
		BondWithdrawn { agent: T::AccountId, amount: BalanceOf<T> },
		/// An agent's picket key was replaced; committees already drawn keep `old`.
		KeyRotated { agent: T::AccountId, old: Public, new: Public },
		/// An offence was recorded; its penalty is applied at `apply_at` unless cancelled.
		OffenceRecorded {
			penalty: PenaltyId,
			offender: T::AccountId,
			kind: OffenceKind,
			round: RoundId,
			apply_at: BlockNumberFor<T>,
		},
		/// A penalty was applied: `slashed` taken from the offender's hold, all of it to
		/// `Config::Slash` (reporters are not paid: see [`penalties`]).
		PenaltyApplied { penalty: PenaltyId, offender: T::AccountId, slashed: BalanceOf<T> },
		/// A pending penalty was cancelled by `CancelOrigin`: nothing is taken (a forfeited
		/// proposal bond goes back).
		PenaltyCancelled { penalty: PenaltyId },
		/// A seat of `agent` made no statement in a round that ended undecided (or handed over);
		/// `misses` is the agent's count within the miss window.
		DutyMissed { agent: T::AccountId, round: RoundId, misses: u32 },
		/// An agent was banned from draws until `until`.
		AgentBanned { agent: T::AccountId, until: BlockNumberFor<T> },
		/// A banned (or cleared) agent is back in the draw.
		AgentRejoined { agent: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered agent.
		AlreadyRegistered,
		/// The account is not a registered agent.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// The picket key belongs to another agent (or is this agent's current key).
		KeyInUse,
		/// The proof of possession is not a signature of the key over the account and genesis.
		BadProofOfPossession,
		/// `MaxAgents` agents are registered.
		TooManyAgents,
		/// `bond_extra` was asked to add nothing.
		ZeroAmount,
		/// The agent is not active (unbonding, banned or suspended): it is out of the draw, cannot
		/// sign for its seats and cannot bond more.
		AgentNotActive,
		/// The agent is not unbonding.
		NotUnbonding,
		/// The unbonding delay has not passed.
		StillUnbonding,
		/// The total stake would overflow.
		StakeOverflow,
		/// This offence was already recorded.
		AlreadyReported,
		/// No penalty with this id.
		UnknownPenalty,
		/// The penalty is not pending (already applied or cancelled).
		PenaltyNotPending,
		/// The agent has pending penalties: its bond cannot leave yet.
		PenaltyPending,
		/// The agent is not banned, or its ban has not expired.
		NotBanned,
		/// The penalty's deferral has not passed yet.
		PenaltyNotDue,
		/// The penalty id counter is exhausted.
		IdsExhausted,
		/// A committee root of a round that may have seated the agent has not expired yet: an
		/// offence there can still be reported, so the bond stays held.
		StillAccountable,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_runtime_upgrade() -> Weight {
			// A new `MaxAgents` takes effect in the stake tree at once.
			let writes = Self::ensure_tree_height();
			T::DbWeight::get().reads_writes(3, writes.into())
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// Due penalties and settled offences past the machines' report window do not wait
			// for spare weight: at most `MaxPenaltiesPerBlock` of each, charged as done (a block
			// with nothing due reads a few cursors and one entry each).
			Self::apply_due_penalties(now, Weight::MAX)
				.saturating_add(Self::settle_pending_exits())
				.saturating_add(Self::forget_settled_offences())
		}

		fn on_idle(_now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::settle_exits_within(u32::MAX, remaining)
		}

		fn integrity_test() {
			assert!(T::MaxAgents::get() > 0, "MaxAgents must be positive");
			assert!(
				T::MaxAgents::get()
					<= consensus_machine_primitives::selection::capacity_of(
						consensus_machine_primitives::selection::MAX_HEIGHT
					),
				"MaxAgents is above the stake tree's largest capacity"
			);
			assert!(T::MaxExitsPerBlock::get() > 0, "MaxExitsPerBlock must be positive");
			assert!(
				T::UnbondingDelay::get() > T::SnapshotPeriod::get(),
				"UnbondingDelay must exceed SnapshotPeriod: an agent in a snapshot cannot then \
				 withdraw and free its index within the snapshot's period"
			);
			assert!(T::MaxMisses::get() > 0, "MaxMisses must be positive");
			assert!(
				T::BanMemory::get() > T::BanPeriod::get(),
				"a ban must be remembered past its end for repeated bans to count"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bond `bond` and register `key` as the caller's picket key.
		///
		/// Origin: signed (the agent). `proof` is the key's signature over
		/// [`possession_payload`](consensus_machine_primitives::statement::possession_payload)
		/// of the caller and the genesis hash.
		///
		/// Errors: [`Error::AlreadyRegistered`], [`Error::BondTooLow`], [`Error::KeyInUse`],
		/// [`Error::TooManyAgents`], [`Error::BadProofOfPossession`], or the currency's error
		/// when the bond cannot be held. Complexity: `O(log MaxAgents)`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			key: Public,
			bond: BalanceOf<T>,
			proof: Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Agents::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
			ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			ensure!(!KeyOwner::<T>::contains_key(&key), Error::<T>::KeyInUse);
			Self::ensure_possession(&who, &key, &proof)?;
			Self::do_register(who, key, bond)
		}

		/// Add `amount` to the caller's bond (and stake in the draw).
		///
		/// Origin: signed (an active agent). Errors: [`Error::NotRegistered`],
		/// [`Error::AgentNotActive`], [`Error::ZeroAmount`], [`Error::StakeOverflow`], or the
		/// currency's error. Complexity: `O(log MaxAgents)`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond_extra(who, amount)
		}

		/// Leave the draw. The bond stays held for `UnbondingDelay` blocks, and until no offence
		/// in a round that may have seated the agent can still be reported.
		///
		/// Origin: signed (an active agent). Errors: [`Error::NotRegistered`],
		/// [`Error::AgentNotActive`]. Complexity: `O(log MaxAgents)`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(who)
		}

		/// Release the bond of an agent whose unbonding delay has passed, and remove the agent.
		///
		/// Origin: signed (the agent). Errors: [`Error::NotRegistered`],
		/// [`Error::NotUnbonding`], [`Error::StillUnbonding`], [`Error::PenaltyPending`],
		/// [`Error::StillAccountable`] (until the committee root of every round opened before
		/// `unbond` has expired). Complexity: `O(1)`.
		#[pallet::call_index(3)]
		// The benchmark's weight plus the committee-root cursor read (until the next run).
		#[pallet::weight(T::WeightInfo::withdraw_unbonded().saturating_add(T::DbWeight::get().reads(1)))]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unbonded(who)
		}

		/// Replace the caller's picket key by `key`, with a proof of possession as for
		/// [`Call::register`]. Rounds already drawn keep the old key.
		///
		/// Origin: signed (an agent). Errors: [`Error::NotRegistered`], [`Error::KeyInUse`],
		/// [`Error::BadProofOfPossession`]. Complexity: `O(1)`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::rotate_key())]
		pub fn rotate_key(origin: OriginFor<T>, key: Public, proof: Signature) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let agent = Agents::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(!KeyOwner::<T>::contains_key(&key), Error::<T>::KeyInUse);
			Self::ensure_possession(&who, &key, &proof)?;
			Self::do_rotate_key(who, agent, key)
		}

		/// Cancel a penalty before it is applied.
		///
		/// Origin: [`Config::CancelOrigin`]. Errors: [`Error::UnknownPenalty`],
		/// [`Error::PenaltyNotPending`]. Complexity: `O(1)`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::cancel_penalty())]
		pub fn cancel_penalty(origin: OriginFor<T>, penalty: PenaltyId) -> DispatchResult {
			T::CancelOrigin::ensure_origin(origin)?;
			Self::do_cancel_penalty(penalty)
		}

		/// Apply a pending penalty whose deferral has passed, now. `on_initialize` applies due
		/// penalties too (oldest first, `MaxPenaltiesPerBlock` per block); this call lets anyone
		/// apply one out of turn, as `pallet-staking` lets anyone apply a deferred slash.
		///
		/// Origin: signed (anyone). Errors: [`Error::UnknownPenalty`],
		/// [`Error::PenaltyNotPending`], [`Error::PenaltyNotDue`]. Complexity: `O(1)`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::apply_penalty())]
		pub fn apply_penalty(origin: OriginFor<T>, penalty: PenaltyId) -> DispatchResult {
			ensure_signed(origin)?;
			let record = Penalties::<T>::get(penalty).ok_or(Error::<T>::UnknownPenalty)?;
			ensure!(record.status == PenaltyStatus::Pending, Error::<T>::PenaltyNotPending);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(record.apply_at <= now, Error::<T>::PenaltyNotDue);
			Self::do_apply_penalty(penalty, record);
			Ok(())
		}

		/// Return to the draw after a ban has expired.
		///
		/// Origin: signed (the agent). Errors: [`Error::NotRegistered`], [`Error::NotBanned`],
		/// [`Error::BondTooLow`]. Complexity: `O(log MaxAgents)`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::rejoin())]
		pub fn rejoin(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_rejoin(who)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The chain's genesis hash, as proofs of possession carry it.
		pub fn genesis_hash() -> Hash {
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()).0
		}
	}
}
