//! The runtime API of `pallet-consensus-machine`: what the node's picket agents, `cm` and any
//! client read without decoding storage themselves.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use consensus_machine_primitives::{
	statement::{Hash, Label, Level, MachineId, RoundId},
	DecisionRule, EpsilonArg, Error as ThresholdError, ProbabilityArg,
};
use pallet_consensus_machine::migrations::v8::v7;
use pallet_consensus_machine::{
	crypto::Public,
	types::{
		CertificateRecord, CommitteeRecord, Duty, LevelConfig, MachineInfo, Phase, RoundInfo,
		RoundKind, Seat, SeatProof, StoredSignature,
	},
};
use scale_info::TypeInfo;

/// A round as the API shows it: its own struct, so that the pallet's storage record may change
/// without the API changing (it shares the pallet's `RoundKind` and `Phase` types).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RoundView<AccountId, Balance, BlockNumber> {
	/// The machine.
	pub machine: MachineId,
	/// The committee level deciding (0 but for a backup level).
	pub level: Level,
	/// What the round decides, and the state only that kind has.
	pub kind: RoundKind,
	/// What the round is about: the commitment, the object's hash, or the question.
	pub subject: Hash,
	/// Who opened it.
	pub opener: AccountId,
	/// Still held from the opener (the deposit, or a validity round's proposal bond).
	pub deposit: Balance,
	/// The block of the commitment.
	pub committed: BlockNumber,
	/// The committee's slots.
	pub slots: u32,
	/// Slots needed to decide.
	pub threshold: u32,
	/// Where the round is: committed, drawn (seed, snapshot, instance and deadline), decided
	/// or closed.
	pub phase: Phase<BlockNumber>,
}

impl<AccountId, Balance, BlockNumber> From<RoundInfo<AccountId, Balance, BlockNumber>>
	for RoundView<AccountId, Balance, BlockNumber>
{
	fn from(round: RoundInfo<AccountId, Balance, BlockNumber>) -> Self {
		Self {
			machine: round.machine,
			level: round.level,
			kind: round.kind,
			subject: round.subject,
			opener: round.opener,
			deposit: round.deposit,
			committed: round.opened,
			slots: round.slots,
			threshold: round.threshold,
			phase: round.phase,
		}
	}
}

/// A machine as the API shows it (its own struct, as [`RoundView`] is).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct MachineView<Balance, BlockNumber> {
	/// Its committee levels: the primary first, then a hierarchical machine's backups, each
	/// with its exact rule and timeout.
	pub levels: Vec<LevelConfig<BlockNumber>>,
	/// What opening a round holds from its opener.
	pub round_deposit: Balance,
	/// The latest certified state.
	pub label: Label,
	/// The oldest step still kept in the trace.
	pub trace_start: u64,
	/// The round deciding the next step, if one is under way.
	pub deciding_round: Option<RoundId>,
}

impl<Balance, BlockNumber> From<MachineInfo<Balance, BlockNumber>>
	for MachineView<Balance, BlockNumber>
{
	fn from(machine: MachineInfo<Balance, BlockNumber>) -> Self {
		Self {
			levels: machine.levels.into_inner(),
			round_deposit: machine.round_deposit,
			label: machine.label,
			trace_start: machine.trace_start,
			deciding_round: machine.open_round,
		}
	}
}

/// What outlives a round's committee, as the API shows it: what an equivocation report is
/// checked against.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct CommitteeRootView<BlockNumber> {
	/// The round's instance: a report's statements must bind it.
	pub instance: Hash,
	/// The root of the committee's seats.
	pub root: Hash,
	/// The committee's seats.
	pub seats: u32,
	/// `None` while the round lives; once it is pruned, the last block a report may use it.
	pub expires: Option<BlockNumber>,
}

impl<BlockNumber> From<CommitteeRecord<BlockNumber>> for CommitteeRootView<BlockNumber> {
	fn from(record: CommitteeRecord<BlockNumber>) -> Self {
		Self {
			instance: record.instance,
			root: record.root,
			seats: record.seats,
			expires: record.expires,
		}
	}
}

sp_api::decl_runtime_apis! {
	/// Consensus machines: thresholds, machines, rounds, committees, certificates, duties.
	///
	/// Version 2: `round` returns a [`RoundView`], whose phase is one value (version 1 returned
	/// the pallet's storage record). `machine` and `committee_root` return views too
	/// ([`MachineView`], [`CommitteeRootView`]); they encode as the records version 1 and 2
	/// returned did, so a client decoding bytes sees no change and the version stayed (the
	/// type names and the field name `deciding_round` in the metadata are new).
	#[api_version(2)]
	pub trait ConsensusMachineApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The exact decision rule of `n` slots at `p` and `epsilon` (unsafe ones included); a
		/// `p` or `ε` out of range is an error, not a decoding failure.
		fn thresholds(n: u32, p: ProbabilityArg, epsilon: EpsilonArg) -> Result<DecisionRule, ThresholdError>;
		/// A machine: its levels' rules and its latest certified state.
		fn machine(machine: MachineId) -> Option<MachineView<Balance, BlockNumber>>;
		/// A round (once drawn, its seed and stake snapshot id reproduce the draw).
		fn round(round: RoundId) -> Option<RoundView<AccountId, Balance, BlockNumber>>;
		/// A round as version 1 returned it: the pallet's storage record of storage version 7
		/// (callable as `round_before_version_2`, for blocks of runtimes before the change).
		#[changed_in(2)]
		fn round(round: RoundId) -> Option<v7::RoundInfo<AccountId, Balance, BlockNumber>>;
		/// A round's committee.
		fn committee(round: RoundId) -> Option<Vec<Seat<AccountId>>>;
		/// A decided round's certificate, to re-verify with the primitives alone.
		fn certificate(round: RoundId) -> Option<CertificateRecord<BlockNumber, Vec<(u32, StoredSignature)>>>;
		/// What the picket `key` should sign now: open rounds where it holds a seat and has not
		/// made a statement.
		fn duties(key: Public) -> Vec<Duty<BlockNumber>>;
		/// The genesis hash statements must carry.
		fn genesis_hash() -> Hash;
		/// The proof that seat `index` belongs to `round`'s committee, for an equivocation
		/// report; `None` once the round is pruned (call it at a block where it was live).
		fn membership_proof(round: RoundId, index: u32) -> Option<SeatProof<AccountId>>;
		/// The committee root a report is checked against, while it is kept.
		fn committee_root(round: RoundId) -> Option<CommitteeRootView<BlockNumber>>;
	}
}

/// Re-verifies a certificate the API returned against the committee and threshold the API
/// returned, with the primitives' check and sr25519: how a client trusts a decision without
/// trusting the node that served it. Returns the slots the valid signers hold (a sound
/// record's `slots`).
#[cfg(feature = "std")]
pub fn verify_certificate<AccountId, BlockNumber>(
	committee: &[Seat<AccountId>],
	threshold: u32,
	record: &CertificateRecord<BlockNumber, Vec<(u32, StoredSignature)>>,
) -> Result<u32, consensus_machine_primitives::certificate::CertificateError> {
	use sp_core::Pair;
	consensus_machine_primitives::certificate::verify(
		committee,
		threshold,
		&record.statement,
		&record.signatures,
		|key: &Public, message, signature: &StoredSignature| {
			sp_core::sr25519::Pair::verify(signature, message, &key.clone().into())
		},
	)
}
