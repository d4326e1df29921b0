//! Storage types of the consensus-machine pallet.

use crate::crypto::Public;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use consensus_machine_primitives::{
	certificate::Seat as SeatTrait,
	light::{Light, ObjectRef},
	statement::{Hash, Label, Level, MachineId, RoundId, Statement},
	DecisionRule, Epsilon, EpsilonArg, Probability, ProbabilityArg,
};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use scale_info::TypeInfo;

/// A signature as stored (the application signature's inner sr25519 signature, which has a
/// known maximum encoded length).
pub type StoredSignature = sp_core::sr25519::Signature;

/// Levels a machine may have: the primary, and backups for a hierarchical machine.
pub const MAX_LEVELS: u32 = 4;

/// What a picket did wrong (the machines' vocabulary, shared with whoever supplies pickets).
pub use consensus_machine_primitives::pickets::OffenceKind;

/// An offence as the machines report it to their picket supplier.
pub type Offence<AccountId, Balance> =
	consensus_machine_primitives::pickets::Offence<AccountId, Balance, Public, StoredSignature>;

/// The traffic light of an object, kept after its round is pruned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ValidityRecord<BlockNumber> {
	/// The round that judged it.
	pub round: u64,
	/// Its light; `None` while the round is open.
	pub light: Option<Light>,
	/// The verified evidence's hash, for a red.
	pub evidence: Option<Hash>,
	/// Block of the last change.
	pub at: BlockNumber,
}

/// One level of a machine: its committee's size, decision rule and timeout.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct LevelConfig<BlockNumber> {
	/// The bad-slot bound the rule was computed for.
	pub p: Probability,
	/// The tolerance the rule was computed for.
	pub epsilon: Epsilon,
	/// `N` and `max_bad`, computed exactly once when the machine is created.
	pub rule: DecisionRule,
	/// Blocks a round stays open at this level.
	pub timeout: BlockNumber,
}

/// A consensus machine: its levels and the certified state of its unitary trace.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct MachineInfo<Balance, BlockNumber> {
	/// Level 0 is the primary; later levels are backups (hierarchical machines only).
	pub levels: BoundedVec<LevelConfig<BlockNumber>, ConstU32<MAX_LEVELS>>,
	/// Held from whoever opens a round, returned when the round is decided or pruned.
	pub round_deposit: Balance,
	/// The latest certified state label.
	pub label: Label,
	/// The oldest step still kept in the trace.
	pub trace_start: u64,
	/// The round currently deciding the next step, if any.
	pub open_round: Option<u64>,
}

/// What outlives a round's committee: its root, kept until `ReportWindow` after the round is
/// pruned (a member that unbonded during the round could have withdrawn by then), so a
/// conflicting statement that surfaces late is still punished (see
/// [`consensus_machine_primitives::membership`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct CommitteeRecord<BlockNumber> {
	/// The round's instance: the statements a report carries must bind it.
	pub instance: Hash,
	/// [`consensus_machine_primitives::membership::committee_root`] of the committee's seats.
	pub root: Hash,
	/// Seats in the committee.
	pub seats: u32,
	/// `None` while the round lives; once it is pruned, the last block a report may use this
	/// record: `ReportWindow` after the pruning.
	pub expires: Option<BlockNumber>,
}

/// A proof that `seat` was seat `index` of a round's committee, against its
/// [`CommitteeRecord::root`]: what an equivocation report carries (as BABE's and GRANDPA's carry
/// a key-owner proof). Build it with the `membership_proof` runtime API at any block where the
/// round was live.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SeatProof<AccountId> {
	/// The seat's index in draw order.
	pub index: u32,
	/// The seat: agent, the key that signed for it, slots.
	pub seat: Seat<AccountId>,
	/// Sibling hashes from the seat's leaf up: at most
	/// [`MAX_PATH`](consensus_machine_primitives::membership::MAX_PATH). A plain vector, so
	/// that a longer one still decodes and gets `BadMembershipProof`.
	pub path: Vec<Hash>,
}

/// A statement and its signature.
pub type SignedStatement = (Statement, StoredSignature);

/// Two statements one key signed for one round instance, level and kind, with different
/// bodies: what an equivocation report proves (with the signer's [`SeatProof`]).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct EquivocationProof {
	/// One statement.
	pub first: SignedStatement,
	/// Another, with a different body.
	pub second: SignedStatement,
}

/// One seat of a round's committee: an agent, the key it had when drawn, and its slots.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Seat<AccountId> {
	/// The agent.
	pub agent: AccountId,
	/// Its picket key at the time of the draw: the key that signs for this round.
	pub key: Public,
	/// Slots drawn for it.
	pub slots: u32,
}

impl<AccountId> SeatTrait for Seat<AccountId> {
	type Key = Public;
	fn key(&self) -> &Public {
		&self.key
	}
	fn slots(&self) -> u32 {
		self.slots
	}
}

/// What a round decides, and the state only that kind of round has.
///
/// Each level of a hierarchical round is a round of its own, with its own committee,
/// statements and deadline; the level-0 round ([`RoundKind::Primary`]) is the family's root.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub enum RoundKind {
	/// The next step of a unitary machine's certified trace.
	Transition {
		/// The machine step this round decides.
		step: u64,
	},
	/// The traffic light of a proposed object.
	Validity {
		/// The object judged.
		object: ObjectRef,
		/// Its light once known (a green may still turn red within the challenge window;
		/// amber is set when the round closes).
		light: Option<Light>,
	},
	/// Level 0 of a round of a hierarchical machine: the primary committee, and the root of
	/// the family of levels that decides one 32-byte value.
	Primary {
		/// The round of each started level, this one first: the last is the current level.
		levels: BoundedVec<RoundId, ConstU32<MAX_LEVELS>>,
		/// The family's decided value, once decided.
		value: Option<Hash>,
	},
	/// A backup level of a round of a hierarchical machine, started by a handover.
	Backup {
		/// The family's level-0 round.
		root: RoundId,
		/// The value this level must adopt (more than the previous level's `max_bad` slots
		/// pre-decided it), if any.
		required: Option<Hash>,
	},
}

/// What the draw fixed about a round: its committee's seed and snapshot, the instance its
/// statements bind, and its deadline.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Draw<BlockNumber> {
	/// Last block at which statements are accepted: the level's timeout after the draw.
	pub deadline: BlockNumber,
	/// The draw's seed, from `T::Randomness`.
	pub seed: Hash,
	/// The round's instance: what its statements bind besides the round id (see
	/// [`consensus_machine_primitives::statement::round_instance`]).
	pub instance: Hash,
	/// The snapshot period whose stake snapshot the committee was drawn from: the stake tree
	/// as it stood at the end of block that began the supplier's snapshot period `snapshot`. With the seed, it
	/// reproduces the committee.
	pub snapshot: u32,
	/// The snapshot's total stake.
	pub total_stake: u128,
}

/// Where a round is in its life. Each phase holds exactly what is known in it, so a round
/// cannot be decided before it is drawn, nor drawn without a seed.
///
/// `Committed → Drawn → Decided → Closed`, or `Drawn → Closed` for a round that times out. A
/// hierarchical family's root may be closed (handed over) and then decided, when a backup
/// level decides for the family.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub enum Phase<BlockNumber> {
	/// Committed, waiting in the draw queue for fresh randomness.
	Committed,
	/// Drawn: taking statements until the deadline.
	Drawn(Draw<BlockNumber>),
	/// Decided at block `at` (a certificate, or a verified red). Statements are still taken
	/// until the deadline: a seat that votes late is not missed.
	Decided {
		/// The draw.
		draw: Draw<BlockNumber>,
		/// The block of the decision.
		at: BlockNumber,
	},
	/// Closed: the silent seats' misses counted and the deposit settled. Takes nothing more.
	Closed {
		/// The draw.
		draw: Draw<BlockNumber>,
		/// The block of the decision, if there was one.
		decided: Option<BlockNumber>,
	},
}

impl<BlockNumber: Copy + PartialOrd> Phase<BlockNumber> {
	/// The draw, once drawn.
	pub fn draw(&self) -> Option<&Draw<BlockNumber>> {
		match self {
			Phase::Committed => None,
			Phase::Drawn(draw) | Phase::Decided { draw, .. } | Phase::Closed { draw, .. } => {
				Some(draw)
			}
		}
	}

	/// The block of the decision, once decided.
	pub fn decided(&self) -> Option<BlockNumber> {
		match self {
			Phase::Decided { at, .. } => Some(*at),
			Phase::Closed { decided, .. } => *decided,
			Phase::Committed | Phase::Drawn(_) => None,
		}
	}

	/// Whether the round was closed.
	pub fn is_closed(&self) -> bool {
		matches!(self, Phase::Closed { .. })
	}

	/// Whether the round takes statements at `now`: drawn, not closed, and its deadline not
	/// passed. A decided round still takes them until its deadline; whether a given statement
	/// is still wanted is the caller's question.
	pub fn takes_statements(&self, now: BlockNumber) -> bool {
		match self {
			Phase::Drawn(draw) | Phase::Decided { draw, .. } => now <= draw.deadline,
			Phase::Committed | Phase::Closed { .. } => false,
		}
	}

	/// Whether the round's outcome is fixed at `now`: decided, or its deadline passed (never for
	/// a round not yet drawn).
	pub fn is_over(&self, now: BlockNumber) -> bool {
		self.decided().is_some() || self.draw().is_some_and(|draw| now > draw.deadline)
	}

	/// Records the decision at `at`: a drawn round becomes decided; a decided one moves its
	/// decision to `at` (a red overturning a green); a closed one remembers it (a family root
	/// handed over, whose backup level decided). Returns `false`, changing nothing, for a round
	/// not yet drawn.
	pub fn decide(&mut self, at: BlockNumber) -> bool {
		match self {
			Phase::Committed => return false,
			Phase::Drawn(draw) => *self = Phase::Decided { draw: draw.clone(), at },
			Phase::Decided { at: decided, .. } => *decided = at,
			Phase::Closed { decided, .. } => *decided = Some(at),
		}
		true
	}

	/// Closes a drawn round, decided or not. Returns whether anything changed: a round not
	/// drawn, or already closed, keeps its phase.
	pub fn close(&mut self) -> bool {
		match self {
			Phase::Drawn(draw) => {
				*self = Phase::Closed { draw: draw.clone(), decided: None };
				true
			}
			Phase::Decided { draw, at } => {
				*self = Phase::Closed { draw: draw.clone(), decided: Some(*at) };
				true
			}
			Phase::Committed | Phase::Closed { .. } => false,
		}
	}
}

/// A round: one level of one machine deciding one question with one drawn committee.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct RoundInfo<AccountId, Balance, BlockNumber> {
	/// The machine.
	pub machine: MachineId,
	/// The committee level deciding (0 but for [`RoundKind::Backup`]).
	pub level: Level,
	/// What the round is about: the opener's commitment to the step's input, the object's
	/// hash, or the hierarchical question.
	pub subject: Hash,
	/// Who opened it and put up the deposit (the proposer, for a validity round).
	pub opener: AccountId,
	/// Still held from the opener: the round deposit, or for a validity round the proposal
	/// bond; zero once settled (and always zero on a backup level).
	pub deposit: Balance,
	/// Block of the commitment (the opening call, or the handover); the committee is drawn
	/// at a later block.
	pub opened: BlockNumber,
	/// The committee's slots, `N`.
	pub slots: u32,
	/// Slots needed to decide: the level's strong threshold.
	pub threshold: u32,
	/// The kind of round, with the state only that kind has.
	pub kind: RoundKind,
	/// Where the round is in its life, with what is known there.
	pub phase: Phase<BlockNumber>,
}

impl<AccountId, Balance, BlockNumber: Copy + PartialOrd>
	RoundInfo<AccountId, Balance, BlockNumber>
{
	/// Whether the round's committee is drawn (before that, the round is only committed).
	pub fn is_drawn(&self) -> bool {
		self.phase.draw().is_some()
	}

	/// The draw, once drawn.
	pub fn draw(&self) -> Option<&Draw<BlockNumber>> {
		self.phase.draw()
	}

	/// The block of the decision, once decided.
	pub fn decided(&self) -> Option<BlockNumber> {
		self.phase.decided()
	}

	/// Whether the round was closed.
	pub fn is_closed(&self) -> bool {
		self.phase.is_closed()
	}

	/// See [`Phase::takes_statements`].
	pub fn takes_statements(&self, now: BlockNumber) -> bool {
		self.phase.takes_statements(now)
	}

	/// See [`Phase::is_over`].
	pub fn is_over(&self, now: BlockNumber) -> bool {
		self.phase.is_over(now)
	}

	/// Records the decision at `at` (see [`Phase::decide`]); a round not yet drawn cannot be
	/// decided, and stays as it is.
	pub fn decide(&mut self, at: BlockNumber) {
		if !self.phase.decide(at) {
			frame_support::defensive!("only a drawn round is decided");
		}
	}

	/// Closes the round (see [`Phase::close`]); a round not yet drawn, or already closed, stays
	/// as it is.
	pub fn close(&mut self) {
		if !self.phase.close() {
			frame_support::defensive!("only a drawn round that is open is closed");
		}
	}
}

impl<AccountId, Balance, BlockNumber> RoundInfo<AccountId, Balance, BlockNumber> {
	/// Whether this is a level of a round of a hierarchical machine (its statements are
	/// [`consensus_machine_primitives::statement::Body::Decision`]s).
	pub fn is_hierarchical(&self) -> bool {
		matches!(self.kind, RoundKind::Primary { .. } | RoundKind::Backup { .. })
	}

	/// The value a backup level must adopt, if any.
	pub fn required(&self) -> Option<Hash> {
		match self.kind {
			RoundKind::Backup { required, .. } => required,
			_ => None,
		}
	}

	/// The object a validity round judges.
	pub fn object(&self) -> Option<ObjectRef> {
		match self.kind {
			RoundKind::Validity { object, .. } => Some(object),
			_ => None,
		}
	}

	/// A validity round's light, once known.
	pub fn light(&self) -> Option<Light> {
		match self.kind {
			RoundKind::Validity { light, .. } => light,
			_ => None,
		}
	}
}

/// One level of a hierarchical machine, as `create_hierarchical_machine` takes it: `p` and
/// `epsilon` are checked by the call (errors `ProbabilityOutOfRange`, `EpsilonOutOfRange`), not
/// when the call decodes.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct LevelSpec<BlockNumber> {
	/// Committee slots.
	pub slots: u32,
	/// Bad-stake bound.
	pub p: ProbabilityArg,
	/// Tolerance.
	pub epsilon: EpsilonArg,
	/// Blocks the level stays open before it can hand over.
	pub timeout: BlockNumber,
}

/// A recorded certificate: the statement, and the signatures (by seat index) that decided it.
///
/// [`consensus_machine_primitives::certificate::verify`] re-checks it against the round's
/// committee anywhere.
///
/// `Signatures` is a `BoundedVec<(u32, Signature), _>` bounded by the committee size.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct CertificateRecord<BlockNumber, Signatures> {
	/// The certified statement.
	pub statement: Statement,
	/// Seat index and signature of every counted signer, in the order they were recorded.
	pub signatures: Signatures,
	/// Slots the signers hold.
	pub slots: u32,
	/// Block of recording.
	pub block: BlockNumber,
}

/// One entry of a machine's certified trace.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct TraceEntry<BlockNumber> {
	/// The round whose certificate made this step.
	pub round: u64,
	/// Hash of the step's output.
	pub output: Hash,
	/// Hash of the high-level machine's state after the step.
	pub to: Hash,
	/// The label after the step.
	pub label: Label,
	/// Block of certification.
	pub block: BlockNumber,
}

/// What a picket should sign now (the runtime API's `duties`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Duty<BlockNumber> {
	/// The round (for a hierarchical machine, the round of the current level).
	pub round: u64,
	/// The machine.
	pub machine: MachineId,
	/// The committee level.
	pub level: Level,
	/// The round's instance, which the statement binds.
	pub instance: Hash,
	/// The seat index, as certificates and [`crate::Call::submit_statement`] name it.
	pub seat: u32,
	/// Slots the seat holds.
	pub slots: u32,
	/// Last block for the statement.
	pub deadline: BlockNumber,
	/// What to judge.
	pub task: DutyTask,
}

/// The kind of statement a duty asks for.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum DutyTask {
	/// Sign the transition from the machine's latest label at `step`.
	Transition {
		/// The step.
		step: u64,
		/// The current label hash.
		from: Hash,
		/// The opener's subject (what the step is about).
		subject: Hash,
	},
	/// Judge an object.
	Verdict {
		/// The object.
		object: ObjectRef,
	},
	/// Vote in a hierarchical round: the value to adopt, if any, else one's own on `subject`.
	Decision {
		/// The question.
		subject: Hash,
		/// The value a backup must vote.
		required: Option<Hash>,
	},
}

/// One level of a machine created at genesis: `slots` slots for the bad-stake bound
/// `p = p_numerator / p_denominator` and the tolerance `ε = 10^-epsilon_exponent`, open
/// `timeout` blocks.
#[derive(Clone, Debug, PartialEq, Eq, sp_runtime::Serialize, sp_runtime::Deserialize)]
#[serde(crate = "sp_runtime::serde", rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisLevel<BlockNumber> {
	/// Committee slots.
	pub slots: u32,
	/// Numerator of `p`.
	pub p_numerator: u32,
	/// Denominator of `p`.
	pub p_denominator: u32,
	/// `ε` as a power of ten: `6` is `10⁻⁶`.
	pub epsilon_exponent: u8,
	/// Blocks a round stays open at this level.
	pub timeout: BlockNumber,
}

/// A machine created at genesis: one level makes a unitary machine, several a hierarchical
/// one.
#[derive(Clone, Debug, PartialEq, Eq, sp_runtime::Serialize, sp_runtime::Deserialize)]
#[serde(crate = "sp_runtime::serde", rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisMachine<Balance, BlockNumber> {
	/// Its levels, the primary first.
	pub levels: alloc::vec::Vec<GenesisLevel<BlockNumber>>,
	/// The deposit a round opener puts up.
	pub round_deposit: Balance,
	/// The hash of the high-level machine's first state (unitary machines).
	pub initial_state: Hash,
}
