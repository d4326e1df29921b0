//! What a consensus machine needs from whoever supplies its pickets.
//!
//! Consensus machines do not care where their pickets come from: a bond registry of their
//! own, a staking system's nominators, or a fixed list. [`Pickets`] is the seam. The machines
//! ask it for the current stake snapshot, for a committee drawn from it, whether a drawn picket
//! may still sign, and they hand it offences and missed duties; everything about bonds, holds,
//! bans and slashing stays on the other side.
//!
//! Its types hold no storage: a supplier keeps whatever it wants behind them.

use crate::statement::{Hash, RoundId, Statement};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// What a picket did wrong.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum OffenceKind {
	/// Two different statements of one kind for the same (machine, round, level).
	Equivocation,
	/// A green verdict on an object that ended red.
	WrongVerdict,
	/// A red verdict whose evidence does not verify.
	FalseRed,
	/// Repeated bans for missed duties.
	NonParticipation,
	/// A backup vote that breaks the adoption rule of the handover.
	BackupRuleViolation,
	/// Proposing an object that ended red: the proposer forfeits its proposal bond.
	RedProposal,
}

impl OffenceKind {
	/// Overt offences are proven by signed statements kept in the record.
	pub fn is_overt(&self) -> bool {
		matches!(
			self,
			Self::Equivocation | Self::WrongVerdict | Self::FalseRed | Self::BackupRuleViolation
		)
	}
}

/// An offence as the machines report it: who, what, where, and the signed statements that
/// prove it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offence<AccountId, Balance, Key, Signature> {
	/// What was done.
	pub kind: OffenceKind,
	/// Who did it.
	pub offender: AccountId,
	/// In which round (one offence of a kind per offender and round).
	pub round: RoundId,
	/// The offender's picket key, for an offence proven by statements it signed.
	pub key: Option<Key>,
	/// The signed statements that prove it (at most two).
	pub statements: Vec<(Statement, Signature)>,
	/// Who reported it.
	pub reporter: Option<AccountId>,
	/// What the slash takes its fraction of, when that is not the offender's stake (a red
	/// proposal's bond).
	pub base: Option<Balance>,
}

impl<AccountId, Balance, Key, Signature> Offence<AccountId, Balance, Key, Signature> {
	/// An offence with no proof, no reporter and the offender's stake as its base.
	pub fn new(kind: OffenceKind, offender: AccountId, round: RoundId) -> Self {
		Self {
			kind,
			offender,
			round,
			key: None,
			statements: Vec::new(),
			reporter: None,
			base: None,
		}
	}

	/// An offence proven by `statements` that `key`, the offender's, signed.
	pub fn signed(
		kind: OffenceKind,
		offender: AccountId,
		round: RoundId,
		key: Key,
		statements: Vec<(Statement, Signature)>,
	) -> Self {
		Self { key: Some(key), statements, ..Self::new(kind, offender, round) }
	}

	/// The same offence, reported by `reporter`.
	pub fn reported_by(self, reporter: Option<AccountId>) -> Self {
		Self { reporter, ..self }
	}
}

/// One seat of a drawn committee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawnSeat<AccountId, Key> {
	/// The picket.
	pub picket: AccountId,
	/// The key it signs with for this committee.
	pub key: Key,
	/// The slots of the draw it holds.
	pub slots: u32,
}

/// A committee drawn from a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn<AccountId, Key> {
	/// The snapshot's period.
	pub period: u32,
	/// The snapshot's total stake, which the slots divided.
	pub total: u128,
	/// The seats, one per picket drawn, in the order of its first slot. Slots that fell on
	/// nobody who can sit (gone, out of the draw) are in no seat.
	pub seats: Vec<DrawnSeat<AccountId, Key>>,
}

impl<AccountId: Ord, Key: Ord> Drawn<AccountId, Key> {
	/// Whether this can be the committee of a draw of `slots` slots: every seat holds a slot,
	/// no picket and no key sits twice, and the seats hold at most `slots` slots (slots that
	/// fell on nobody are in no seat). Thresholds count slots, so a draw with more would let
	/// fewer pickets decide, and a key in two seats would sign for both.
	pub fn is_sound(&self, slots: u32) -> bool {
		let mut pickets = alloc::collections::BTreeSet::new();
		let mut keys = alloc::collections::BTreeSet::new();
		let mut held: u32 = 0;
		self.seats.iter().all(|seat| {
			held = held.saturating_add(seat.slots);
			seat.slots > 0 && pickets.insert(&seat.picket) && keys.insert(&seat.key)
		}) && held <= slots
	}
}

impl<AccountId, Key> Default for Drawn<AccountId, Key> {
	fn default() -> Self {
		Self { period: 0, total: 0, seats: Vec::new() }
	}
}

/// Why a drawn picket may not sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignError {
	/// It is not a picket (any more).
	Unknown,
	/// It is suspended for an overt offence.
	Suspended,
}

/// Why an offence was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportError {
	/// This offender's offence of this kind in this round is on record already.
	AlreadyReported,
	/// The supplier has no room to record it.
	Exhausted,
}

/// A supplier of pickets: stake snapshots, committees drawn from them, and the consequences
/// of what the pickets did.
///
/// A committee drawn in a round must stay accountable for as long as the machines may still
/// report an offence in that round: a supplier must not let a picket's stake go before that
/// ([`Accountability`] says when).
pub trait Pickets<AccountId> {
	/// The key a picket signs statements with.
	type Key;
	/// A signature by such a key, as proofs carry it.
	type Signature;
	/// The balance an offence's base is given in.
	type Balance;
	/// The block number.
	type BlockNumber;

	/// The total stake of the snapshot committees are drawn from now; zero means nobody can
	/// be drawn.
	fn total_stake() -> u128;

	/// The first block the current snapshot is drawn from: randomness known before it cannot
	/// have chosen a committee from it. Asked before every draw, apart from
	/// [`Pickets::total_stake`], so that it can cost less (the registry computes it from the
	/// block number alone).
	fn snapshot_start() -> Self::BlockNumber;

	/// Draws `slots` stake-weighted slots with replacement from the current snapshot, each
	/// from `seed` and its number, and groups them into seats. The same seed and snapshot
	/// give the same committee. The machines seat no one from a draw that is not
	/// [`Drawn::is_sound`]: its round gets an empty committee and times out.
	fn draw(seed: &Hash, slots: u32) -> Drawn<AccountId, Self::Key>;

	/// Whether `picket`, drawn earlier, may sign for the seat it holds.
	fn may_sign(picket: &AccountId) -> Result<(), SignError>;

	/// Whether every one of `pickets` may sign. A supplier that can answer for a whole
	/// committee without one read per picket overrides this.
	fn may_all_sign<'a>(pickets: impl IntoIterator<Item = &'a AccountId>) -> Result<(), SignError>
	where
		AccountId: 'a,
	{
		pickets.into_iter().try_for_each(Self::may_sign)
	}

	/// Whether `who` is a picket at all (it may be suspended or leaving). A picket drawn in a
	/// round must stay one until the machines' [`Accountability::reports_closed_below`] has
	/// passed the round: an equivocation report against someone who is not is refused.
	fn is_picket(who: &AccountId) -> bool;

	/// Whether `offender`'s offence of `kind` in `round` is on record. Once true, it must
	/// stay true until [`Accountability::reports_closed_below`] has passed `round`, or the
	/// same offence is reported twice.
	fn is_reported(offender: &AccountId, round: RoundId, kind: OffenceKind) -> bool;

	/// Records an offence; its consequence (a slash, a suspension) is the supplier's. Fails
	/// before changing anything. The machines report only offences not on record, and a
	/// failure reverts what the machines were doing (a red condemning an object, a
	/// certificate that convicts an equivocator), so a supplier should fail only when it
	/// truly cannot record one.
	///
	/// A [`OffenceKind::RedProposal`] names the proposer, who need not be a picket, with its
	/// proposal bond as `base`: the machines release that bond to the proposer's free balance
	/// in the same call, just before reporting, so the supplier takes it into its own custody
	/// (or takes it at once) as its policy says. It must do so whatever the proposer did to its
	/// account (a freeze, a lock): a report that fails on the proposer's balance would revert
	/// the red, and the proposer could keep its object from ever being condemned.
	fn report(
		offence: Offence<AccountId, Self::Balance, Self::Key, Self::Signature>,
	) -> Result<(), ReportError>;

	/// `picket` held a seat in `round` and made no statement by `due`. Called for every
	/// silent seat of a round that closed undecided, whether or not the picket could still
	/// sign: whether the silence of a suspended picket counts is the supplier's policy.
	fn note_miss(picket: &AccountId, round: RoundId, due: Self::BlockNumber);
}

/// What a supplier of pickets needs to know from the machines: how long a committee stays
/// accountable. A picket that leaves keeps its stake behind until no round it may have sat in
/// can still bring an offence.
pub trait Accountability {
	/// The id the next round committed will get: a picket leaving now sits only in rounds
	/// below it.
	fn next_round() -> RoundId;

	/// Every round below this one is out of reach: no offence in it can be reported any more.
	fn reports_closed_below() -> RoundId;
}

#[cfg(test)]
mod tests {
	use super::*;

	fn drawn(seats: &[(u8, u8, u32)]) -> Drawn<u8, u8> {
		let seats =
			seats.iter().map(|&(picket, key, slots)| DrawnSeat { picket, key, slots }).collect();
		Drawn { period: 0, total: 100, seats }
	}

	#[test]
	fn a_sound_draw_holds_its_slots_in_distinct_seats() {
		assert!(drawn(&[(1, 1, 3), (2, 2, 3), (3, 3, 4)]).is_sound(10));
		// Slots that fell on nobody are in no seat.
		assert!(drawn(&[(1, 1, 3)]).is_sound(10));
		assert!(drawn(&[]).is_sound(10));
		// More slots than drawn: fewer pickets would reach a threshold.
		assert!(!drawn(&[(1, 1, 6), (2, 2, 5)]).is_sound(10));
		assert!(!drawn(&[(1, 1, u32::MAX), (2, 2, 2)]).is_sound(10));
		// A picket or a key twice, or a seat without a slot.
		assert!(!drawn(&[(1, 1, 3), (1, 2, 3)]).is_sound(10));
		assert!(!drawn(&[(1, 1, 3), (2, 1, 3)]).is_sound(10));
		assert!(!drawn(&[(1, 1, 3), (2, 2, 0)]).is_sound(10));
	}
}
