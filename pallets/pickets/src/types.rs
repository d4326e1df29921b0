//! Storage types of the picket registry.

use crate::crypto::Public;
use codec::{Decode, Encode, MaxEncodedLen};
use consensus_machine_primitives::{
	selection::Page,
	statement::{RoundId, Statement},
};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// A signature as stored (the application signature's inner sr25519 signature, which has a
/// known maximum encoded length).
pub type StoredSignature = sp_core::sr25519::Signature;

/// Whether an agent can be drawn: only [`AgentStatus::Active`] agents are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub enum AgentStatus<BlockNumber> {
	/// Bonded and in the draw.
	Active,
	/// Left the draw; the bond stays held (and slashable) until `until` and until no offence
	/// in a round it may have sat in can still be reported.
	Unbonding {
		/// First block at which `withdraw_unbonded` may succeed.
		until: BlockNumber,
		/// The first round id opened after it left the draw: only rounds below it can have
		/// seated it (later draws skip agents that are not active). `withdraw_unbonded` waits
		/// until the committee roots of all of them have expired
		/// (`Accountability::reports_closed_below() >= accountable`), so an equivocation in any
		/// of them can still be reported, and punished, while the bond is held.
		accountable: RoundId,
		/// Whether it was suspended for an overt offence (before or while unbonding): then it
		/// signs for none of its seats, as a suspended agent does not.
		suspended: bool,
	},
	/// Out of the draw for missing duties until `until`; `rejoin` brings it back.
	Banned {
		/// First block at which `rejoin` succeeds.
		until: BlockNumber,
	},
	/// Out of the draw for an overt offence (or a bond slashed below the minimum).
	Suspended,
}

/// What a picket did wrong (the machines' vocabulary, shared with whoever supplies pickets).
pub use consensus_machine_primitives::pickets::OffenceKind;

/// An offence as it is reported, before it is recorded as a [`Penalty`].
pub type Offence<AccountId, Balance> =
	consensus_machine_primitives::pickets::Offence<AccountId, Balance, Public, StoredSignature>;

/// What each kind of offence costs: a share of the offender's bond. A red proposal is not in
/// it: the proposer forfeits its whole proposal bond ([`SlashRates::of`] says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct SlashRates {
	/// Two different statements for one round.
	pub equivocation: Perbill,
	/// A green verdict on an object that ended red.
	pub wrong_verdict: Perbill,
	/// A red whose evidence does not verify.
	pub false_red: Perbill,
	/// A repeated ban for missed duties.
	pub non_participation: Perbill,
	/// A backup vote that breaks the adoption rule of the handover.
	pub backup_rule: Perbill,
}

impl SlashRates {
	/// The share an offence of `kind` takes of its base: the offender's bond, or for
	/// [`OffenceKind::RedProposal`] the proposal bond, all of it.
	pub fn of(&self, kind: OffenceKind) -> Perbill {
		match kind {
			OffenceKind::Equivocation => self.equivocation,
			OffenceKind::WrongVerdict => self.wrong_verdict,
			OffenceKind::FalseRed => self.false_red,
			OffenceKind::NonParticipation => self.non_participation,
			OffenceKind::BackupRuleViolation => self.backup_rule,
			OffenceKind::RedProposal => Perbill::one(),
		}
	}
}

/// Where a penalty stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub enum PenaltyStatus<Balance> {
	/// Recorded; applied at `apply_at` unless cancelled first.
	Pending,
	/// Applied: `slashed` was taken from the hold and went to `Config::Slash`. Final.
	Applied {
		/// Taken from the hold.
		slashed: Balance,
	},
	/// Cancelled by `CancelOrigin` during the deferral.
	Cancelled,
}

/// A recorded offence and its penalty.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Penalty<AccountId, Balance, BlockNumber> {
	/// Who is punished (an agent, or a proposer for [`OffenceKind::RedProposal`]).
	pub offender: AccountId,
	/// What for.
	pub kind: OffenceKind,
	/// The round it happened in.
	pub round: u64,
	/// The key that signed the proof, for overt offences.
	pub key: Option<Public>,
	/// The signed statements that prove an overt offence (one or two); for a red proposal, the
	/// valid red that condemned the object. Empty for non-participation.
	pub statements: BoundedVec<(Statement, StoredSignature), ConstU32<2>>,
	/// Fraction of the base taken when applied.
	pub fraction: Perbill,
	/// The amount the fraction applies to: `None` for the offender's bond at application,
	/// `Some(bond)` for a proposal bond.
	pub base: Option<Balance>,
	/// Who reported it (recorded, not paid: see [`crate::penalties`]).
	pub reporter: Option<AccountId>,
	/// Block of recording.
	pub recorded: BlockNumber,
	/// Block from which it is applied.
	pub apply_at: BlockNumber,
	/// Pending, applied or cancelled.
	pub status: PenaltyStatus<Balance>,
}

/// A bonded agent.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct AgentInfo<Balance, BlockNumber> {
	/// The picket key that signs for the agent.
	pub key: Public,
	/// The bond, held under [`crate::HoldReason::Bond`].
	pub bond: Balance,
	/// The agent's position in the stake tree.
	pub index: u32,
	/// Active or unbonding.
	pub status: AgentStatus<BlockNumber>,
}

/// An agent bonded at genesis (genesis needs no proof of possession).
#[derive(Clone, Debug, PartialEq, Eq, sp_runtime::Serialize, sp_runtime::Deserialize)]
#[serde(crate = "sp_runtime::serde", rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisAgent<AccountId, Balance> {
	/// The agent's account, from which the bond is held.
	pub account: AccountId,
	/// Its picket key.
	pub key: Public,
	/// Its bond (at least `MinBond`).
	pub bond: Balance,
}

/// One page of the stake tree as stored: its live sums, and the sums it had when snapshot
/// period `period` began, kept by the page's first write in that period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct StakePage {
	/// The sums now.
	pub live: Page,
	/// The sums when period `period` began: the period's snapshot of this page.
	pub frozen: Page,
	/// The snapshot period `frozen` belongs to.
	pub period: u32,
}

impl StakePage {
	/// The page in period `period`'s snapshot.
	pub fn snapshot(&self, period: u32) -> Page {
		if self.period == period {
			self.frozen
		} else {
			self.live
		}
	}

	/// Sets the live sums in period `period`, first keeping the sums the period began with.
	pub fn write(&mut self, period: u32, live: Page) {
		if self.period != period {
			self.frozen = self.live;
			self.period = period;
		}
		self.live = live;
	}

	/// Whether the page holds nothing, live or in its period's snapshot.
	pub fn is_empty(&self) -> bool {
		self.live.iter().chain(&self.frozen).all(|v| *v == 0)
	}
}
