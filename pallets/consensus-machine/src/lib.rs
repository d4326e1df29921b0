#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmarking;
mod machines;
pub mod migrations;
pub mod offchain;
mod rounds;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "fuzzing"))]
pub mod mock;
#[cfg(test)]
mod tests;

pub use weights::WeightInfo;

/// The bookkeeping shared by the hooks' queues.
pub(crate) use consensus_machine_support::sweep;

/// The picket key: an sr25519 application key, key type `cmpk`, shared with whoever supplies
/// the pickets.
pub mod crypto {
	pub use consensus_machine_support::crypto::*;

	#[cfg(test)]
	std::thread_local! {
		/// Picket signatures checked on this thread (tests count them).
		pub static CHECKS: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
	}

	/// Checks `signature` by `key` over `payload`. Every picket signature the pallet checks
	/// goes through here, so tests can count what a rejected transaction cost.
	pub fn verify(key: &Public, payload: &[u8], signature: &Signature) -> bool {
		#[cfg(test)]
		CHECKS.with(|c| c.set(c.get() + 1));
		sp_runtime::RuntimeAppPublic::verify(key, &payload, signature)
	}
}

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::consensus-machine";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::{
		crypto::{Public, Signature},
		types::*,
	};
	use alloc::{boxed::Box, vec::Vec};
	use consensus_machine_primitives::{
		light::{EvidenceVerifier, Light, ObjectRef},
		statement::{Body, Hash, Label, MachineId, RoundId, Statement},
		Epsilon, EpsilonArg, Probability, ProbabilityArg,
	};
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Balanced, BalancedHold, Credit, Inspect, Mutate, MutateHold},
			OnUnbalanced, Randomness,
		},
		weights::WeightToFee,
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::Perbill;

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A machine as stored.
	pub type MachineInfoOf<T> = MachineInfo<BalanceOf<T>, BlockNumberFor<T>>;
	/// A round as stored.
	pub type RoundInfoOf<T> =
		RoundInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	/// A round's committee.
	pub type CommitteeOf<T> =
		BoundedVec<Seat<<T as frame_system::Config>::AccountId>, <T as Config>::MaxCommittee>;
	/// A stored chunk of a committee: at most [`SEATS_PER_CHUNK`] seats.
	pub type CommitteeChunkOf<T> =
		BoundedVec<Seat<<T as frame_system::Config>::AccountId>, ConstU32<SEATS_PER_CHUNK>>;
	/// Seats per stored committee chunk ([`CommitteeChunks`]).
	pub const SEATS_PER_CHUNK: u32 = 32;
	/// The signatures of a certificate, by seat index.
	pub type SignaturesOf<T> = BoundedVec<(u32, StoredSignature), <T as Config>::MaxCommittee>;
	/// A recorded certificate.
	pub type CertificateRecordOf<T> = CertificateRecord<BlockNumberFor<T>, SignaturesOf<T>>;
	/// An offence as reported.
	pub type OffenceOf<T> = Offence<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
	/// Funds on their way to [`Config::FeeDestination`].
	pub type CreditOf<T> = Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
	/// Red evidence as submitted.
	pub type EvidenceOf<T> = BoundedVec<u8, <T as Config>::MaxEvidenceLen>;
	/// A machine in the genesis config.
	pub type GenesisMachineOf<T> = GenesisMachine<BalanceOf<T>, BlockNumberFor<T>>;

	/// The storage layout's version. Version 1 is the first layout with typed rounds
	/// ([`RoundKind`]); a later layout comes with a migration from this one.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(9);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config<Hash = H256>
		+ frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		/// The currency round deposits and proposal bonds are held in.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ Balanced<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ BalancedHold<Self::AccountId>;

		/// Where round fees and amber fees go (a treasury, or the block authors).
		type FeeDestination: OnUnbalanced<CreditOf<Self>>;

		/// The chain's price of weight (its `pallet_transaction_payment` schedule): a round's
		/// fee is the price of the work no transaction pays for ([`Pallet::round_work`]).
		type WeightToFee: WeightToFee<Balance = BalanceOf<Self>>;

		/// Who supplies the pickets: stake snapshots, committees drawn from them, who may sign,
		/// and where offences and missed duties go: `pallet-pickets`' bond registry, or
		/// anything else implementing [`Pickets`](consensus_machine_primitives::pickets::Pickets).
		type Pickets: consensus_machine_primitives::pickets::Pickets<
			Self::AccountId,
			Key = Public,
			Signature = StoredSignature,
			Balance = BalanceOf<Self>,
			BlockNumber = BlockNumberFor<Self>,
		>;

		/// Checks the evidence of red verdicts.
		type EvidenceVerifier: EvidenceVerifier;

		/// Makes a bad object and red evidence that [`Config::EvidenceVerifier`] accepts, for
		/// the benchmarks (`MerkleChunks` has one).
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::benchmarking::BenchmarkHelper;

		/// What this chain's good pickets say about a duty: the off-chain picket agents sign it.
		type Evaluator: crate::offchain::Evaluate;

		/// The runtime's hold reason, which includes this pallet's [`HoldReason`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Source of the committee draws' seeds, with the block since which each output is
		/// public (BABE's `ParentBlockRandomness` on the development chain). A committee is
		/// drawn only from an output nobody can have known at its round's commitment or when
		/// the stake snapshot froze (see [`Config::RandomnessLead`]); `None` (no randomness
		/// yet) waits.
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;

		/// Blocks before it is public that some party may already know a randomness output:
		/// for BABE's `ParentBlockRandomness`, the author of the block whose VRF output it is,
		/// who can compute that output as soon as its epoch's randomness is fixed (up to two
		/// epochs ahead); zero for a source nobody knows early. A draw needs an output public
		/// since more than `RandomnessLead` blocks after the commitment, and not before the
		/// current snapshot period began plus `RandomnessLead`.
		#[pallet::constant]
		type RandomnessLead: Get<BlockNumberFor<Self>>;

		/// Commitments (rounds opened or proposed, not handovers) waiting for their draw at
		/// most: more are refused ([`Error::TooManyPendingDraws`]), so nobody can push a
		/// round's draw arbitrarily far, at the price of deposits.
		#[pallet::constant]
		type MaxPendingDraws: Get<u32>;

		/// Commitments one account may have waiting for their draw at most
		/// ([`Error::TooManyDrawsOfAccount`]): one account cannot take the whole queue. Should be
		/// well below `MaxPendingDraws`.
		#[pallet::constant]
		type MaxPendingDrawsPerAccount: Get<u32>;

		/// Committees drawn per block at most (each in `on_initialize`, in commitment order;
		/// the rest wait for the next block).
		#[pallet::constant]
		type MaxDrawsPerBlock: Get<u32>;

		/// Who may create machines.
		type MachineOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Who may open rounds; the account pays the machine's round deposit.
		type RoundOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;

		/// The most slots a committee may have.
		#[pallet::constant]
		type MaxCommittee: Get<u32>;

		/// The longest timeout a machine level may have.
		#[pallet::constant]
		type MaxRoundDuration: Get<BlockNumberFor<Self>>;

		/// Trace entries kept per machine.
		#[pallet::constant]
		type MaxTraceLength: Get<u32>;

		/// Blocks a decided or expired round is kept before pruning.
		#[pallet::constant]
		type RoundRetention: Get<BlockNumberFor<Self>>;

		/// Blocks a pruned round's committee root is kept: an offence signed in the round can be
		/// reported until then, and a picket supplier holds a leaving picket's stake until the
		/// roots of every round that may have seated it are gone
		/// ([`Accountability::reports_closed_below`]).
		#[pallet::constant]
		type ReportWindow: Get<BlockNumberFor<Self>>;

		/// Rounds pruned per block at most.
		#[pallet::constant]
		type MaxPrunePerBlock: Get<u32>;

		/// Transaction-pool priority of picket statements.
		#[pallet::constant]
		type StatementPriority: Get<TransactionPriority>;

		/// Longest red evidence accepted, in bytes.
		#[pallet::constant]
		type MaxEvidenceLen: Get<u32>;

		/// Largest object size a proposal may declare, in bytes.
		#[pallet::constant]
		type MaxObjectSize: Get<u32>;

		/// Bond a proposer puts up for a validity round: lost if the object ends red.
		#[pallet::constant]
		type ProposalBond: Get<BalanceOf<Self>>;

		/// Share of the proposal bond kept when the object ends amber (the rest is returned).
		#[pallet::constant]
		type AmberFee: Get<Perbill>;

		/// Blocks after a green during which a valid red still overturns it.
		#[pallet::constant]
		type ChallengeWindow: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds. (The indices are those the reasons had before agents'
	/// bonds, index 0, moved to `pallet-pickets`: a hold keeps its encoding.)
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A round opener's deposit: returned when the round is decided or closed.
		#[codec(index = 1)]
		RoundDeposit,
		/// A proposer's bond on a validity round: returned minus `AmberFee` if amber, whole if
		/// green; if red, released to the picket supplier with the `RedProposal` offence.
		#[codec(index = 2)]
		ProposalBond,
	}

	/// The first committed round not yet drawn: rounds `NextDraw..NextRoundId` wait for their
	/// draw, in commitment order.
	#[pallet::storage]
	pub type NextDraw<T: Config> = StorageValue<_, RoundId, ValueQuery>;

	/// Hierarchical families being pruned in pages, by root: how many of their levels (the last
	/// ones) are cleared so far. At most one entry per family past its retention.
	#[pallet::storage]
	pub type FamiliesBeingPruned<T: Config> = StorageMap<_, Twox64Concat, RoundId, u8>;

	/// How many of the rounds waiting for their draw each account committed (present only
	/// while non-zero, so at most `MaxPendingDraws` entries).
	#[pallet::storage]
	pub type PendingDrawsOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Machines by id: their levels (each with its exact decision rule), round deposit and
	/// latest certified label.
	#[pallet::storage]
	pub type Machines<T: Config> = StorageMap<_, Twox64Concat, MachineId, MachineInfoOf<T>>;

	/// The one account allowed to open a machine's rounds, for machines that have one
	/// ([`Call::set_machine_opener`]); anyone [`Config::RoundOrigin`] admits opens the rounds of
	/// the others.
	#[pallet::storage]
	pub type MachineOpeners<T: Config> = StorageMap<_, Twox64Concat, MachineId, T::AccountId>;

	/// The id the next machine created gets.
	#[pallet::storage]
	pub type NextMachineId<T: Config> = StorageValue<_, MachineId, ValueQuery>;

	/// The certified trace of each machine, by step (the last `MaxTraceLength` steps).
	#[pallet::storage]
	pub type Trace<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		MachineId,
		Twox64Concat,
		u64,
		TraceEntry<BlockNumberFor<T>>,
	>;

	/// Live rounds by id (until pruned): their kind, committee summary, deadline and outcome.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, RoundId, RoundInfoOf<T>>;

	/// The id the next round opened gets (every kind and level shares one counter).
	#[pallet::storage]
	pub type NextRoundId<T: Config> = StorageValue<_, RoundId, ValueQuery>;

	/// The committee of each drawn live round in chunks of [`SEATS_PER_CHUNK`] seats: (round,
	/// chunk) → the seats `chunk · 32 ..` in draw order (as certificates index them), each the
	/// agent, the key that signs for it and its slots. A statement reads its seat's chunk, a
	/// certificate or a close each chunk once, and a draw of 1,000 seats writes 32 values, not
	/// 1,000. The round's [`CommitteeRoots`] record says how many seats there are.
	#[pallet::storage]
	pub type CommitteeChunks<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RoundId, Twox64Concat, u32, CommitteeChunkOf<T>>;

	/// The committee root of every round, from its opening until `ReportWindow` after its
	/// pruning: what equivocation reports prove the signer's seat against.
	#[pallet::storage]
	pub type CommitteeRoots<T: Config> =
		StorageMap<_, Twox64Concat, RoundId, CommitteeRecord<BlockNumberFor<T>>>;

	/// The oldest round whose committee root may still be kept: expiry walks round ids in order
	/// from here.
	#[pallet::storage]
	pub type CommitteeRootCursor<T: Config> = StorageValue<_, RoundId, ValueQuery>;

	/// The statement each seat made in a live round: (round, seat index) → the signed body and
	/// its signature. One per seat.
	#[pallet::storage]
	pub type Statements<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RoundId, Twox64Concat, u32, (Body, StoredSignature)>;

	/// Slots behind each value in a live round: (round, tally key) → slots, where the key is a
	/// hierarchical round's voted value or any other body's hash (`Body::tally_key`). Keys
	/// are chosen by signers, hence hashed.
	#[pallet::storage]
	pub type Tallies<T: Config> =
		StorageDoubleMap<_, Twox64Concat, RoundId, Blake2_128Concat, Hash, u32, ValueQuery>;

	/// The certificate of each decided live round: the statement and the signatures that reached
	/// its threshold, by seat index (re-verifiable anywhere against [`Committees`]).
	#[pallet::storage]
	pub type Certificates<T: Config> = StorageMap<_, Twox64Concat, RoundId, CertificateRecordOf<T>>;

	/// The oldest round not yet pruned: pruning walks round ids in order from here.
	#[pallet::storage]
	pub type PruneCursor<T: Config> = StorageValue<_, RoundId, ValueQuery>;

	/// The traffic light of every proposed object, by the machine that judged it and the
	/// object's commitment *and* declared size (kept after its round is pruned). A verdict
	/// holds for its machine only: machines differ in strength (committee size, `p`, `ε`), a
	/// proposer picks the machine, and a consumer names the machine it trusts
	/// ([`Pallet::is_valid`]), so a weak machine's green never makes an object valid for a
	/// strong machine's consumers. The same commitment with another size is another object,
	/// judged on its own, so a lie about the size condemns only the lie. Proposer-chosen,
	/// hence hashed as a key.
	#[pallet::storage]
	pub type Validity<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		MachineId,
		Blake2_128Concat,
		ObjectRef,
		ValidityRecord<BlockNumberFor<T>>,
	>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Machines created at genesis, with ids from 0 in this order.
		pub machines: Vec<GenesisMachineOf<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for GenesisMachine { levels, round_deposit, initial_state } in &self.machines {
				let specs = levels
					.iter()
					.map(|level| LevelSpec {
						slots: level.slots,
						p: Probability::new(level.p_numerator.into(), level.p_denominator.into())
							.expect("genesis machines have a valid p")
							.into(),
						epsilon: Epsilon::from_exponent(level.epsilon_exponent)
							.expect("genesis machines have a valid ε")
							.into(),
						timeout: level.timeout,
					})
					.collect();
				Pallet::<T>::do_create_machine_with_levels(specs, *round_deposit, *initial_state)
					.expect("genesis machines must be valid");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A machine was created; its primary level has `slots` slots, and `max_bad` and the
		/// strong `threshold` computed exactly for its `p` and `ε`.
		MachineCreated { machine: MachineId, slots: u32, max_bad: u32, threshold: u32 },
		/// Only `opener` may now open `machine`'s rounds (`None`: anyone `RoundOrigin` admits).
		MachineOpenerSet { machine: MachineId, opener: Option<T::AccountId> },
		/// A round was committed (or a backup level started): its committee is drawn at a later
		/// block, from randomness nobody knew now ([`Event::RoundDrawn`]).
		RoundCommitted { round: RoundId, machine: MachineId, level: u8 },
		/// The opener of `round` paid `fee` for the work of the round's level that no transaction
		/// pays for (for a backup level: from the family's held deposit).
		RoundFeePaid { round: RoundId, payer: T::AccountId, fee: BalanceOf<T> },
		/// `challenger`, from outside the committee, proved the green of `round` wrong with the
		/// evidence whose hash is `evidence`: the object is red ([`Event::GreenOverturned`]).
		GreenChallenged { round: RoundId, challenger: T::AccountId, evidence: Hash },
		/// A committed round's committee was drawn: it takes statements until `deadline`. Each
		/// seat's agent and slots, in seat order (seats whose agent left since the snapshot stay
		/// empty).
		RoundDrawn {
			round: RoundId,
			machine: MachineId,
			level: u8,
			deadline: BlockNumberFor<T>,
			committee: BoundedVec<(T::AccountId, u32), T::MaxCommittee>,
		},
		/// A picket's statement was recorded in `round`; `value` is the signed body's hash
		/// (agreeing statements have equal hashes).
		StatementRecorded { round: RoundId, agent: T::AccountId, slots: u32, value: Hash },
		/// Agreeing statements reached `round`'s threshold: the round is decided, and this is
		/// the only event of the decision. `value` is the decided value for a hierarchical round
		/// (whose level-0 round is `family`), else the certified body's hash.
		CertificateRecorded {
			round: RoundId,
			family: Option<RoundId>,
			machine: MachineId,
			level: u8,
			value: Hash,
			slots: u32,
			signers: u32,
		},
		/// A unitary machine's certified state advanced to `label` (after a certificate).
		MachineAdvanced { machine: MachineId, label: Label },
		/// A round's storage was removed after its retention.
		RoundPruned { round: RoundId },
		/// A validity round was opened for an object, with the proposer's bond held.
		Proposed { round: RoundId, proposer: T::AccountId, object: ObjectRef },
		/// An object's traffic light was decided (or changed from green to red).
		LightDecided { round: RoundId, object: ObjectRef, light: Light },
		/// A valid red overturned a green within the challenge window.
		GreenOverturned { round: RoundId, object: ObjectRef },
		/// A round was closed: its silent seats' misses counted, its deposit or bond settled,
		/// and for a validity round its final light set.
		RoundClosed { round: RoundId, light: Option<Light> },
		/// The proposer's bond was returned, minus `fee` (amber).
		ProposalBondReturned {
			round: RoundId,
			proposer: T::AccountId,
			returned: BalanceOf<T>,
			fee: BalanceOf<T>,
		},
		/// A primary picket's statement in a hierarchical round (`round` is the family's level-0
		/// round): its pre-decision, final once recorded (`None`: it endorses nothing).
		PreDecided { round: RoundId, agent: T::AccountId, value: Option<Hash> },
		/// A level's deadline passed undecided: the next level started with its own committee
		/// (`backup_round`), and must adopt `required` if set.
		HandoverStarted {
			round: RoundId,
			from_level: u8,
			to_level: u8,
			backup_round: RoundId,
			required: Option<Hash>,
		},
		/// A certificate's signers were recorded in `round` without deciding it (some had
		/// already stated something else, or its verdict is amber): `signers` new statements
		/// of `value` (the signed body's hash) holding `slots`. A certificate's signers get no
		/// [`Event::StatementRecorded`] each: this event, or [`Event::CertificateRecorded`] when
		/// it decides, stands for them.
		CertificateCounted { round: RoundId, value: Hash, signers: u32, slots: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is not a registered agent.
		NotRegistered,
		/// A committee needs at least one slot.
		ZeroSlots,
		/// The committee is larger than `MaxCommittee`.
		CommitteeTooLarge,
		/// Even unanimity of this committee would not prove a good slot agreed (`max_bad >= N`).
		UnsafeCommittee,
		/// `p` must be below 1/2.
		ProbabilityNotBelowHalf,
		/// The timeout is zero or above `MaxRoundDuration`.
		InvalidTimeout,
		/// No machine with this id.
		UnknownMachine,
		/// The machine has a round open whose deadline has not passed.
		RoundAlreadyOpen,
		/// No active stake in the current stake snapshot to draw from.
		NoAgents,
		/// No round with this id (never opened, or pruned).
		UnknownRound,
		/// The statement names another chain's genesis hash.
		WrongGenesis,
		/// The statement names another machine than its round's.
		WrongMachine,
		/// The statement names another level than its round's.
		WrongLevel,
		/// The statement is for another step than the machine's next one.
		StaleStep,
		/// The statement starts from another state than the machine's latest certified one.
		WrongFromHash,
		/// The round is already decided.
		RoundDecided,
		/// The round's deadline has passed (or it was closed): it takes no more statements.
		DeadlinePassed,
		/// The signer holds no seat in the round's committee.
		NotAPicket,
		/// This seat already has a statement in this round.
		DuplicateStatement,
		/// A signature does not verify.
		BadSignature,
		/// The certificate has no signatures.
		NoSignatures,
		/// The certificate has more signatures than the committee has seats.
		TooManySigners,
		/// The certificate names a seat twice.
		DuplicateSigner,
		/// The certificate's signers hold fewer slots than the threshold.
		BelowThreshold,
		/// The statement's kind does not fit the round's (e.g. a verdict in a transition round,
		/// or a transition in a hierarchical round).
		WrongKind,
		/// The verdict names another object than the one its round judges.
		WrongObject,
		/// Evidence was given for a statement that is not a red verdict.
		UnexpectedEvidence,
		/// A red verdict came without evidence.
		MissingEvidence,
		/// The evidence's hash is not the one the red verdict signed.
		EvidenceMismatch,
		/// A red verdict cannot be part of an aggregated certificate; submit it with evidence.
		RedInCertificate,
		/// The object's declared size is zero or above `MaxObjectSize`.
		InvalidObjectSize,
		/// The object is being judged, or was already judged green or red.
		ObjectAlreadyJudged,
		/// The round cannot be closed yet (deadline or challenge window not passed).
		RoundStillOpen,
		/// The round was already closed.
		AlreadyClosed,
		/// The two statements are not an equivocation.
		NotAnEquivocation,
		/// This offence was already recorded.
		AlreadyReported,
		/// The statement is for a level that has handed over: its votes are frozen.
		HandedOver,
		/// The level's deadline has not passed: it cannot hand over yet.
		DeadlineNotPassed,
		/// The round is at its machine's last level: there is nothing to hand over to.
		LastLevel,
		/// The backup vote is not the value the previous level's pre-decisions require.
		BreaksAdoptionRule,
		/// `Null` is a primary's pre-decision; a backup votes a value.
		NullInBackup,
		/// A hierarchical machine's last level must be complete (`3 · max_bad < slots`), so that
		/// bad slots cannot block it; the primary need only be safe.
		BackupNotComplete,
		/// A hierarchical machine needs at least two levels (and at most `MAX_LEVELS`).
		WrongLevelCount,
		/// The reported backup vote keeps the adoption rule.
		NotAViolation,
		/// The round is not a level of a hierarchical round.
		NotHierarchical,
		/// The round's retention has not passed yet: it cannot be pruned.
		RoundNotDue,
		/// The agent is suspended for an overt offence: it signs for none of its seats.
		AgentSuspended,
		/// The id counter of machines, rounds or penalties is exhausted.
		IdsExhausted,
		/// The machine has a designated opener, and it is someone else.
		NotTheOpener,
		/// `p` is not a probability below 1 with a denominator that fits in 32 bits.
		ProbabilityOutOfRange,
		/// `ε` is not between `10⁻³⁰` and `10⁻¹`.
		EpsilonOutOfRange,
		/// The membership proof does not prove the seat against the round's committee root.
		BadMembershipProof,
		/// The round's committee root has expired (`ReportWindow` after its pruning): its
		/// offences can no longer be reported.
		ReportExpired,
		/// The statement is for another instance of the round: the same round id on another
		/// fork.
		WrongInstance,
		/// Storage is inconsistent: only a bug can cause this (debug builds and tests panic at
		/// the `defensive` check that returns it).
		Corrupt,
		/// The round is committed but its committee is not drawn yet: nothing can be signed
		/// for it.
		RoundNotDrawn,
		/// The randomness is not available yet (no block has produced any).
		RandomnessUnavailable,
		/// The randomness was known at or before the round's commitment, or before the stake
		/// snapshot froze: a committee drawn from it could have been chosen.
		RandomnessTooOld,
		/// The round's committee is already drawn.
		AlreadyDrawn,
		/// `MaxPendingDraws` commitments already wait for their draw: try again in a few
		/// blocks.
		TooManyPendingDraws,
		/// The round's committee costs more to prune than one call may (a committee larger
		/// than today's `MaxCommittee`): `on_idle` prunes it, in a block with room.
		PruneTooLarge,
		/// The evidence is longer than `MaxEvidenceLen`.
		EvidenceTooLong,
		/// The runtime has no evaluator (`Config::Evaluator = ()`): its pickets cannot judge,
		/// so no machine is created by call and no round opened.
		NoEvaluator,
		/// The account already has `MaxPendingDrawsPerAccount` commitments waiting for their
		/// draw.
		TooManyDrawsOfAccount,
		/// The opener cannot pay the round's fee (and hold its deposit) from its free balance.
		CannotPayRoundFee,
		/// Objects are judged only by a machine whose first level is complete (its good slots
		/// alone reach the threshold): a weaker one lets a tolerated minority block a green.
		IncompleteCommittee,
		/// The round's object is not green (not yet decided, already red, or amber).
		NotGreen,
		/// The green's challenge window has passed: it stands.
		ChallengeWindowClosed,
		/// The evidence does not prove the object malformed.
		InvalidEvidence,
		/// The reported vote is not a backup level's: only a backup has an adoption rule.
		NotABackupLevel,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn offchain_worker(_now: BlockNumberFor<T>) {
			Self::run_agents();
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// Expired committee roots do not wait for spare weight: at most `MaxPrunePerBlock`
			// of them, charged as done (a block with nothing due reads the cursor and one root).
			Self::expire_committee_roots(now, Weight::MAX).saturating_add(Self::draw_pending())
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune_rounds(now, remaining)
		}

		fn integrity_test() {
			assert!(T::MaxCommittee::get() > 0, "MaxCommittee must be positive");
			assert!(
				T::MaxCommittee::get() <= consensus_machine_primitives::stochastic::MAX_SLOTS,
				"MaxCommittee is above what the exact thresholds support"
			);
			assert!(
				T::RoundRetention::get() > T::ChallengeWindow::get(),
				"a round must outlive its challenge window"
			);
			assert!(
				T::MaxPendingDrawsPerAccount::get() > 0
					&& T::MaxPendingDrawsPerAccount::get() <= T::MaxPendingDraws::get(),
				"MaxPendingDrawsPerAccount must be positive and at most MaxPendingDraws"
			);
			assert!(T::MaxDrawsPerBlock::get() > 0, "MaxDrawsPerBlock must be positive");
			assert!(
				!T::ReportWindow::get().is_zero(),
				"ReportWindow must be positive: an offence seen as its round is pruned must \
				 still be reportable"
			);
			// The largest certificate (every seat signs, every signer proven to equivocate),
			// the costliest statement (a red with the longest evidence overturning every
			// green), a close, handover or pruning banning every seat, and the draws of one
			// block each fit one block.
			let limits = T::BlockWeights::get();
			let normal = limits.get(frame_support::dispatch::DispatchClass::Normal);
			let max = normal.max_extrinsic.unwrap_or(limits.max_block);
			let n = T::MaxCommittee::get();
			for (what, weight) in [
				("the largest certificate", Self::certificate_weight(n, n, n)),
				("the costliest statement", Self::max_statement_weight()),
				("closing the largest round", T::WeightInfo::close_round(n)),
				("a handover of the largest round", T::WeightInfo::start_handover(n)),
				("pruning the largest round", T::WeightInfo::prune_round(n)),
			] {
				assert!(weight.all_lte(max), "{what} ({weight}) exceeds max_extrinsic ({max})");
			}
			let draws =
				T::WeightInfo::draw_committee(n).saturating_mul(T::MaxDrawsPerBlock::get().into());
			assert!(
				draws.all_lte(limits.max_block),
				"MaxDrawsPerBlock draws of MaxCommittee slots ({draws}) exceed a block"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Create a machine whose rounds draw `slots` slots, for bad-stake bound `p` and
		/// tolerance `epsilon`; rounds stay open `timeout` blocks and cost `round_deposit`.
		/// `initial_state` is the hash of the high-level machine's first state.
		///
		/// The decision rule is computed here, exactly, and stored. Origin:
		/// [`Config::MachineOrigin`]. Errors: [`Error::ProbabilityOutOfRange`] (`p` is not in
		/// `[0, 1)` with a 32-bit denominator), [`Error::EpsilonOutOfRange`] (`ε` is not in
		/// `[10⁻³⁰, 10⁻¹]`), [`Error::ZeroSlots`], [`Error::CommitteeTooLarge`],
		/// [`Error::ProbabilityNotBelowHalf`], [`Error::InvalidTimeout`],
		/// [`Error::UnsafeCommittee`]. `p` and `epsilon` decode whatever their values, so a bad
		/// one gets its error here. Complexity: `O(slots · max_bad)` big-integer steps.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::create_machine(*slots))]
		pub fn create_machine(
			origin: OriginFor<T>,
			slots: u32,
			p: ProbabilityArg,
			epsilon: EpsilonArg,
			timeout: BlockNumberFor<T>,
			round_deposit: BalanceOf<T>,
			initial_state: Hash,
		) -> DispatchResult {
			T::MachineOrigin::ensure_origin(origin)?;
			Self::ensure_evaluator()?;
			Self::do_create_machine(slots, p, epsilon, timeout, round_deposit, initial_state)
				.map(|_| ())
		}

		/// Commit a round deciding `machine`'s next step; its committee is drawn at a later block
		/// ([`Event::RoundDrawn`]).
		///
		/// Origin: [`Config::RoundOrigin`], which pays the round's fee ([`Pallet::round_work`];
		/// for a hierarchical machine the primary's, with the backup levels' fees held) and the
		/// machine's round deposit (held until the round is decided or pruned), and must be the
		/// machine's opener if it has one
		/// ([`Call::set_machine_opener`]). `subject` is the opener's commitment to what the
		/// step is about. Errors: [`Error::UnknownMachine`], [`Error::NotTheOpener`],
		/// [`Error::RoundAlreadyOpen`], [`Error::NoAgents`], [`Error::TooManyPendingDraws`],
		/// [`Error::TooManyDrawsOfAccount`], [`Error::CannotPayRoundFee`], or the currency's
		/// error. Complexity: `O(1)`; the
		/// draw (the supplier's cost), is charged to the block that makes it.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::commit_round().saturating_add(Pallet::<T>::fee_db_weight()))]
		pub fn commit_round(
			origin: OriginFor<T>,
			machine: MachineId,
			subject: Hash,
		) -> DispatchResult {
			let who = T::RoundOrigin::ensure_origin(origin)?;
			Self::do_commit_round(who, machine, subject).map(|_| ())
		}

		/// A picket's signed statement, submitted without fees. A red verdict carries its
		/// `evidence` (whose hash it signed); any other statement carries none.
		///
		/// Origin: authorised by [`Pallet::authorize_statement`] (round open, `seat` is a seat
		/// of its committee without a statement yet, agent not suspended, evidence matches,
		/// then the signature of the seat's key). The call re-checks everything that can change between the pool and the
		/// block. Errors: those of the checks ([`Error::UnknownRound`], [`Error::WrongGenesis`],
		/// [`Error::WrongMachine`], [`Error::WrongInstance`], [`Error::WrongLevel`],
		/// [`Error::WrongKind`], [`Error::WrongObject`],
		/// [`Error::StaleStep`], [`Error::WrongFromHash`], [`Error::RoundDecided`],
		/// [`Error::DeadlinePassed`], [`Error::NotAPicket`], [`Error::DuplicateStatement`],
		/// [`Error::AgentSuspended`], [`Error::MissingEvidence`], [`Error::UnexpectedEvidence`],
		/// [`Error::EvidenceMismatch`]). A red whose evidence does not verify is *not* an error:
		/// it is recorded, does not count, and is an offence ([`OffenceKind::FalseRed`]).
		/// Complexity: `O(N)` (a decision gathers the agreeing signatures; a red finds the greens).
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::max_statement_weight())]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_statement(
			evidence.as_ref().map_or(0, |e| e.len() as u32)
		))]
		#[pallet::authorize(Self::authorize_statement)]
		pub fn submit_statement(
			origin: OriginFor<T>,
			statement: Statement,
			// The seat's index in the round's committee, as certificates name it.
			seat: u32,
			// Verified in `authorize_statement`, which also runs when the block is built.
			signature: Signature,
			// At most `MaxEvidenceLen` bytes; a plain vector so that a longer one decodes and
			// gets its error, instead of failing the whole transaction's decoding.
			evidence: Option<Vec<u8>>,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let weight = Self::do_submit_statement(statement, seat, signature, evidence)?;
			Ok(Some(weight).into())
		}

		/// A certificate: one statement and the signatures of distinct seats (by index), whose
		/// slots reach the round's threshold. Records every signer as if each had submitted.
		///
		/// Origin: signed (anyone). Errors: the statement checks of [`Call::submit_statement`],
		/// then [`Error::NoSignatures`], [`Error::TooManySigners`], [`Error::NotAPicket`],
		/// [`Error::DuplicateSigner`], [`Error::BelowThreshold`], [`Error::BadSignature`],
		/// [`Error::AgentSuspended`]. Complexity: `O(S)` signature checks for `S` signatures.
		#[pallet::call_index(8)]
		#[pallet::weight(Pallet::<T>::certificate_weight(
			signatures.len() as u32,
			signatures.len() as u32,
			T::MaxCommittee::get()
		))]
		pub fn submit_certificate(
			origin: OriginFor<T>,
			statement: Statement,
			// At most `MaxCommittee` (else `TooManySigners`); a plain vector, see `evidence`.
			signatures: Vec<(u32, StoredSignature)>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (round, signers) = (statement.round, signatures.len() as u32);
			let (proven, decided) = Self::do_submit_certificate(who, statement, signatures)?;
			let gathered = if decided { Self::committee_size(round) } else { 0 };
			Ok(Some(Self::certificate_weight(signers, proven, gathered)).into())
		}

		/// Propose an object for judgement: opens a validity round of `machine`'s committee,
		/// pays its round fee ([`Pallet::round_work`]) and holds `ProposalBond` from the caller
		/// (returned if green; returned minus `AmberFee` if amber and more than `max_bad` slots
		/// said Amber; lost if red).
		///
		/// Origin: signed (the proposer). Errors: [`Error::UnknownMachine`],
		/// [`Error::IncompleteCommittee`], [`Error::InvalidObjectSize`],
		/// [`Error::ObjectAlreadyJudged`], [`Error::NoAgents`], [`Error::TooManyPendingDraws`],
		/// [`Error::TooManyDrawsOfAccount`], [`Error::CannotPayRoundFee`], or the currency's
		/// error. Complexity: `O(1)`; the
		/// draw (the supplier's cost), is charged to the block that makes it.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::propose().saturating_add(Pallet::<T>::fee_db_weight()))]
		pub fn propose(
			origin: OriginFor<T>,
			machine: MachineId,
			object: Hash,
			size: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_propose(who, machine, object, size).map(|_| ())
		}

		/// Report an equivocation: two statements signed by one seat's key for the same
		/// (machine, round, instance, level, kind) with different bodies. `membership` proves
		/// the seat (agent, key, slots) against the round's committee root, which is kept until
		/// `ReportWindow` after the round is pruned: an equivocation that surfaces after the
		/// round is gone is still punished until then (by which time a member that unbonded
		/// during the round could have withdrawn; as a staking slash, an offence older than
		/// that is not punished). The proof is built from the round's committee, so after
		/// pruning it needs a node that kept the state of a block where the round was live (an
		/// archive node: the `membership_proof` runtime API at that block). The reporter is
		/// recorded with the penalty but not paid (see `pallet_pickets::penalties`).
		///
		/// Origin: signed (anyone), or fee-less through
		/// [`Pallet::authorize_equivocation_report`] (a complete proof authorises itself).
		/// Errors: [`Error::NotAnEquivocation`], [`Error::WrongGenesis`], [`Error::UnknownRound`],
		/// [`Error::ReportExpired`], [`Error::WrongInstance`], [`Error::BadMembershipProof`],
		/// [`Error::NotRegistered`], [`Error::AlreadyReported`], [`Error::BadSignature`].
		/// Complexity: `O(log N)` hashes and two signature checks.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::report_equivocation())]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_equivocation_report())]
		#[pallet::authorize(Self::authorize_equivocation_report)]
		pub fn report_equivocation(
			origin: OriginFor<T>,
			membership: SeatProof<T::AccountId>,
			proof: Box<EquivocationProof>,
		) -> DispatchResult {
			let reporter = match ensure_signed(origin.clone()) {
				Ok(reporter) => Some(reporter),
				Err(_) => ensure_authorized(origin).map(|_| None)?,
			};
			let EquivocationProof { first, second } = *proof;
			Self::do_report_equivocation(reporter, membership, first, second)
		}

		/// Close a round that is decided or whose deadline has passed (for a green: whose
		/// challenge window has passed): an
		/// undecided validity round becomes amber, seats that made no statement in an undecided
		/// round get a miss, and the opener's deposit or proposer's bond is settled.
		///
		/// Origin: signed (anyone). Errors: [`Error::UnknownRound`], [`Error::AlreadyClosed`],
		/// [`Error::RoundStillOpen`]. Complexity: `O(N)`.
		#[pallet::call_index(11)]
		// The benchmark's weight plus an amber's machine read (until the next run).
		#[pallet::weight(T::WeightInfo::close_round(T::MaxCommittee::get())
			.saturating_add(T::DbWeight::get().reads(1)))]
		pub fn close_round(origin: OriginFor<T>, round: RoundId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let info = Rounds::<T>::get(round).ok_or(Error::<T>::UnknownRound)?;
			Self::do_close_round(round, info)?;
			let weight = T::WeightInfo::close_round(Self::committee_size(round));
			Ok(Some(weight.saturating_add(T::DbWeight::get().reads(1))).into())
		}

		/// Create a hierarchical machine: level 0 is the primary (safe, possibly incomplete), the
		/// last level a backup that must be complete. Rounds then decide 32-byte values.
		///
		/// Origin: [`Config::MachineOrigin`]. Errors: [`Error::WrongLevelCount`], those of
		/// [`Call::create_machine`] for each level, [`Error::BackupNotComplete`].
		/// Complexity: the exact thresholds of each level.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::create_hierarchical_machine(
			levels.iter().map(|l| l.slots).max().unwrap_or(0)
		))]
		pub fn create_hierarchical_machine(
			origin: OriginFor<T>,
			// At most `MAX_LEVELS` (else `WrongLevelCount`); a plain vector, see `evidence`.
			levels: Vec<LevelSpec<BlockNumberFor<T>>>,
			round_deposit: BalanceOf<T>,
		) -> DispatchResult {
			T::MachineOrigin::ensure_origin(origin)?;
			Self::ensure_evaluator()?;
			Self::do_create_hierarchical_machine(levels, round_deposit).map(|_| ())
		}

		/// Hand a round of a hierarchical machine over to its next level, once the current
		/// level's deadline passed undecided: freezes the current level's pre-decisions, counts
		/// its silent seats' misses, fixes the value the next level must adopt, and draws the
		/// next level's committee. Needs nothing from the current level's pickets.
		///
		/// Origin: signed (anyone), or fee-less through [`Pallet::authorize_handover`] (one per
		/// round and level in the pool). `round` is the round of the current level. Errors:
		/// [`Error::UnknownRound`], [`Error::NotHierarchical`], [`Error::RoundDecided`],
		/// [`Error::HandedOver`], [`Error::DeadlineNotPassed`], [`Error::LastLevel`],
		/// [`Error::NoAgents`]. Complexity: `O(1)`; the
		/// draw (the supplier's cost), is charged to the block that makes it.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::start_handover(T::MaxCommittee::get())
			.saturating_add(Pallet::<T>::fee_db_weight()))]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_handover())]
		#[pallet::authorize(Self::authorize_handover)]
		pub fn start_handover(origin: OriginFor<T>, round: RoundId) -> DispatchResultWithPostInfo {
			if ensure_signed(origin.clone()).is_err() {
				ensure_authorized(origin)?;
			}
			Self::do_start_handover(round)?;
			let weight = T::WeightInfo::start_handover(Self::committee_size(round));
			Ok(Some(weight.saturating_add(Self::fee_db_weight())).into())
		}

		/// Report a backup vote that breaks the adoption rule (a failed extrinsic leaves no
		/// record, so the signed vote itself is the proof), signed for seat `seat` of its round.
		///
		/// Origin: signed (anyone; recorded as reporter, not paid). Errors: [`Error::WrongGenesis`],
		/// [`Error::UnknownRound`], [`Error::NotABackupLevel`], [`Error::NotAPicket`],
		/// [`Error::BadSignature`], [`Error::NotAViolation`], [`Error::AlreadyReported`].
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::report_backup_vote())]
		pub fn report_backup_vote(
			origin: OriginFor<T>,
			seat: u32,
			statement: Statement,
			signature: StoredSignature,
		) -> DispatchResult {
			let reporter = ensure_signed(origin)?;
			Self::do_report_backup_vote(reporter, seat, statement, signature)
		}

		/// Settle and prune a round whose retention has passed (for a hierarchical round: the
		/// next page of its family, from any of its levels; see the `rounds::prune` module):
		/// closes what is open (misses counted, deposit released) and removes its storage.
		/// `on_idle` does the same in id order when the block has weight to spare; this call
		/// lets anyone do it at once.
		///
		/// Origin: signed (anyone). Errors: [`Error::UnknownRound`], [`Error::RoundNotDue`],
		/// [`Error::PruneTooLarge`] (a committee larger than `MaxCommittee`, from before an
		/// upgrade lowered it: `on_idle` prunes it). Complexity: `O(N)`. Charged one largest
		/// page, refunded to the pages it pruned (as many as fit in the charge).
		#[pallet::call_index(18)]
		#[pallet::weight(Pallet::<T>::max_page_weight())]
		pub fn prune_round(origin: OriginFor<T>, round: RoundId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let info = Rounds::<T>::get(round).ok_or(Error::<T>::UnknownRound)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Self::is_due_for_pruning(round, &info, now), Error::<T>::RoundNotDue);
			let cost = Self::prune_within(round, info, Self::max_page_weight())
				.ok_or(Error::<T>::PruneTooLarge)?;
			Ok(Some(cost).into())
		}

		/// Name the one account that may open `machine`'s rounds, or with `None` let anyone
		/// [`Config::RoundOrigin`] admits open them again.
		///
		/// A unitary machine has one round open at a time and decides whatever input its
		/// opener committed to, so whoever opens first each time owns its trace: an open
		/// machine can be monopolised by one account that opens every next round at once. A
		/// machine whose inputs matter names its opener (a bridge relayer, an oracle's feeder,
		/// a collective's account). A forfeitable deposit would not help: pickets certify
		/// *that* the machine moved as committed, not whether the input was the right one, so
		/// no round proves its opener wrong, and a deposit that comes back only prices the
		/// monopoly.
		///
		/// Origin: [`Config::MachineOrigin`]. Errors: [`Error::UnknownMachine`].
		/// Complexity: `O(1)`.
		#[pallet::call_index(19)]
		#[pallet::weight(T::WeightInfo::set_machine_opener())]
		pub fn set_machine_opener(
			origin: OriginFor<T>,
			machine: MachineId,
			opener: Option<T::AccountId>,
		) -> DispatchResult {
			T::MachineOrigin::ensure_origin(origin)?;
			ensure!(Machines::<T>::contains_key(machine), Error::<T>::UnknownMachine);
			MachineOpeners::<T>::set(machine, opener.clone());
			Self::deposit_event(Event::MachineOpenerSet { machine, opener });
			Ok(())
		}

		/// Overturn a green with red evidence, from outside its committee: anyone who can prove
		/// a green object malformed does so within the challenge window, as a seat's red
		/// would (every green on it is a `WrongVerdict` offence, the proposer forfeits its
		/// bond). A green's judges are one machine's committee; the evidence speaks for itself.
		///
		/// Origin: signed (anyone; pays the call's fee, so refused evidence costs its sender).
		/// Errors: [`Error::EvidenceTooLong`], [`Error::UnknownRound`], [`Error::WrongKind`],
		/// [`Error::NotGreen`], [`Error::ChallengeWindowClosed`], [`Error::InvalidEvidence`].
		/// Complexity: `O(N)` (the greens). Charged as a seat's red with this evidence (which
		/// also checks a signature), refunded to the round's committee.
		#[pallet::call_index(20)]
		#[pallet::weight(T::WeightInfo::submit_red(T::MaxCommittee::get(), evidence.len() as u32))]
		pub fn challenge_green(
			origin: OriginFor<T>,
			round: RoundId,
			// At most `MaxEvidenceLen` bytes; a plain vector so that a longer one decodes and
			// gets its error.
			evidence: Vec<u8>,
		) -> DispatchResultWithPostInfo {
			let challenger = ensure_signed(origin)?;
			let len = evidence.len() as u32;
			let seats = Self::do_challenge_green(challenger, round, evidence)?;
			Ok(Some(T::WeightInfo::submit_red(seats, len)).into())
		}
	}

	impl<T: Config> Pallet<T> {
		/// What a certificate of `signers` signatures costs when it proves `proven` of them to
		/// have equivocated and its decision gathers `gathered` seats' statements (the most a
		/// decision reads: every seat may have stated something before).
		pub fn certificate_weight(signers: u32, proven: u32, gathered: u32) -> Weight {
			let equivocations = T::WeightInfo::certificate_equivocations(proven)
				.saturating_sub(T::WeightInfo::certificate_equivocations(0));
			let decision = T::WeightInfo::submit_statement(gathered)
				.max(T::WeightInfo::submit_decision(gathered));
			T::WeightInfo::submit_certificate(signers)
				.saturating_add(equivocations)
				.saturating_add(decision)
		}

		/// The most one statement can cost ([`Call::submit_statement`]'s charge before its
		/// refund): the deciding statement or vote of the largest committee, or a red with the
		/// longest evidence that overturns every green.
		pub fn max_statement_weight() -> Weight {
			let n = T::MaxCommittee::get();
			T::WeightInfo::submit_statement(n)
				.max(T::WeightInfo::submit_decision(n))
				.max(T::WeightInfo::submit_vote())
				.max(T::WeightInfo::submit_red(n, T::MaxEvidenceLen::get()))
		}

		/// Whether `machine` judged `object` (its commitment and size together) green for good:
		/// green, and past the challenge window in which a valid red could still overturn it. A
		/// consumer names the machine whose strength it trusts (another machine's verdict does
		/// not count), and must not act on a green before then; [`Pallet::light`] tells the two
		/// apart. `false` for a machine that does not exist.
		pub fn is_valid(machine: MachineId, object: &ObjectRef) -> bool {
			Self::light(machine, object) == Some((Light::Green, true))
		}

		/// `object`'s light as `machine` judged it, if it did, and whether it is final: red and
		/// amber are; a green is once its challenge window has passed.
		pub fn light(machine: MachineId, object: &ObjectRef) -> Option<(Light, bool)> {
			let record = Validity::<T>::get(machine, object)?;
			let light = record.light?;
			let now = frame_system::Pallet::<T>::block_number();
			let window_end = sp_runtime::traits::Saturating::saturating_add(
				record.at,
				T::ChallengeWindow::get(),
			);
			let settled = light != Light::Green || now > window_end;
			Some((light, settled))
		}

		/// The chain's genesis hash, as statements carry it.
		pub fn genesis_hash() -> Hash {
			frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()).0
		}

		/// A machine's latest certified state.
		pub fn latest_label(machine: MachineId) -> Option<Label> {
			Machines::<T>::get(machine).map(|m| m.label)
		}
	}
}
