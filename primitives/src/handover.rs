//! The primary → backup handover of a hierarchical consensus machine (paper §8–9).
//!
//! A round has levels `0..L`: level 0 is the primary G, the last level a complete backup H.
//! On chain, the chain's storage is the paper's storage locations and one extrinsic is one
//! atomic read-and-write, so the protocol is:
//!
//! 1. **Primary.** Each slot of the current level writes one vote: `Value(v)` or `Null`. A vote
//!    written while its level is current (before any handover) is final. The level decides `v`
//!    when its final votes for `v` reach its threshold (the strong threshold).
//! 2. **Handover.** When the level's deadline passes undecided, the next level *starts*: from
//!    then on the previous level's votes are frozen and late ones are refused. Starting needs
//!    nothing from the previous level.
//! 3. **Backup.** Each slot of the new level must vote the value [`required_value`] picks from
//!    the frozen votes of the previous level: a value more than that level's `max_bad` slots
//!    voted (so at least one good slot endorsed it), by most slots, then lowest value. With no
//!    such value it votes its own. A vote that breaks the rule is refused (and, being signed, is
//!    proof of an overt offence). `Null` is a primary's vote only.
//! 4. The same step repeats between every pair of adjacent levels, and a requirement carries
//!    forward: a level that had to adopt `v` and stalls hands `v` on to the next (otherwise a
//!    stalled middle level would throw away the primary's work; the model checker found that).
//!
//! The machine is pure: [`submit`] and [`start_next_level`] read and write a round through the
//! [`Store`] trait, so the pallet runs it over storage and the model checker over memory, and
//! the code that is checked is the code that runs. Deadlines are the caller's business.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A slot's vote: a value, or (primary only) `Null`, "I cannot endorse anything".
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Vote<V> {
	/// Endorses `V`.
	Value(V),
	/// Endorses nothing.
	Null,
}

impl<V> Vote<V> {
	/// The value endorsed, if any.
	pub fn value(&self) -> Option<&V> {
		match self {
			Vote::Value(v) => Some(v),
			Vote::Null => None,
		}
	}
}

impl<V> From<Option<V>> for Vote<V> {
	/// `Some(v)` endorses `v`; `None` is `Null`.
	fn from(value: Option<V>) -> Self {
		value.map_or(Vote::Null, Vote::Value)
	}
}

/// One level's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct LevelRule {
	/// Slots at the level.
	pub slots: u32,
	/// The most slots that may be bad.
	pub max_bad: u32,
	/// Slots needed to decide: the strong threshold `⌊(slots + max_bad)/2⌋ + 1`.
	pub threshold: u32,
}

impl From<crate::DecisionRule> for LevelRule {
	fn from(rule: crate::DecisionRule) -> Self {
		Self { slots: rule.n, max_bad: rule.max_bad, threshold: rule.strong() }
	}
}

/// Why a vote or a handover was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverError<V> {
	/// The round is decided.
	Decided,
	/// The vote is for a level that has not started.
	LevelNotStarted,
	/// The vote is for a level that has handed over: its votes are frozen.
	HandedOver,
	/// The slot already voted at this level.
	DuplicateVote,
	/// `Null` is a primary's vote; a backup votes a value.
	NullInBackup,
	/// The backup vote is not the value the previous level's votes require.
	BreaksAdoptionRule {
		/// The value the vote had to be.
		required: V,
	},
	/// The current level is the last: there is nothing to hand over to.
	LastLevel,
	/// A level index outside the round's levels.
	UnknownLevel,
}

/// What the machine reads and writes of one round.
///
/// `seat` identifies a seat within a level (the pallet's committee index).
pub trait Store<V> {
	/// The current level.
	fn level(&self) -> u8;
	/// Makes `level` current.
	fn set_level(&mut self, level: u8);
	/// The decisions recorded (one at most).
	fn decisions(&self) -> Vec<(u8, V)>;
	/// Records a decision.
	fn push_decision(&mut self, level: u8, value: V);
	/// Whether `seat` voted at `level`.
	fn has_voted(&self, level: u8, seat: u32) -> bool;
	/// Records `seat`'s vote at `level` (the caller keeps what else it needs, e.g. signatures).
	fn record_vote(&mut self, level: u8, seat: u32, vote: &Vote<V>);
	/// Slots that voted `value` at `level`.
	fn tally(&self, level: u8, value: &V) -> u32;
	/// Sets the slots that voted `value` at `level`.
	fn set_tally(&mut self, level: u8, value: &V, slots: u32);
	/// Every value voted at `level`, with its slots (bounded by the level's seats).
	fn tallies(&self, level: u8) -> Vec<(V, u32)>;
	/// The value a started `level` must adopt, if any.
	fn required(&self, level: u8) -> Option<V>;
	/// Sets the value `level` must adopt.
	fn set_required(&mut self, level: u8, value: Option<V>);
}

/// The value a backup must adopt from the previous level's frozen tallies: one voted by more than
/// `max_bad` slots, by most slots, then lowest; `None` if no value passes `max_bad`.
pub fn required_value<V: Ord + Clone>(tallies: &[(V, u32)], max_bad: u32) -> Option<V> {
	tallies
		.iter()
		.filter(|(_, slots)| *slots > max_bad)
		.max_by(|(va, a), (vb, b)| a.cmp(b).then_with(|| vb.cmp(va)))
		.map(|(v, _)| v.clone())
}

/// The adoption rule for one vote: a backup (`level > 0`) votes a value, and the `required`
/// one if its level has one; a primary votes anything.
pub fn check_vote<V: PartialEq + Clone>(
	level: u8,
	required: Option<&V>,
	vote: &Vote<V>,
) -> Result<(), HandoverError<V>> {
	if level == 0 {
		return Ok(());
	}
	match (vote, required) {
		(Vote::Null, _) => Err(HandoverError::NullInBackup),
		(Vote::Value(v), Some(required)) if v != required => {
			Err(HandoverError::BreaksAdoptionRule { required: required.clone() })
		}
		_ => Ok(()),
	}
}

/// The rules of one round: its levels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rules {
	/// Level 0 first.
	pub levels: Vec<LevelRule>,
}

impl Rules {
	/// The rules for these levels.
	pub fn new(levels: Vec<LevelRule>) -> Self {
		Self { levels }
	}

	fn rule(&self, level: u8) -> Result<&LevelRule, ()> {
		self.levels.get(level as usize).ok_or(())
	}

	/// Slots `level` needs to decide.
	pub fn threshold(&self, level: u8) -> Option<u32> {
		self.levels.get(level as usize).map(|rule| rule.threshold)
	}
}

/// Records `seat`'s vote (worth `slots`) at `level` and returns the value decided by it, if any.
/// Errors leave the store unchanged.
pub fn submit<V: Ord + Clone, S: Store<V>>(
	store: &mut S,
	rules: &Rules,
	level: u8,
	seat: u32,
	slots: u32,
	vote: &Vote<V>,
) -> Result<Option<V>, HandoverError<V>> {
	let threshold = rules.threshold(level).ok_or(HandoverError::UnknownLevel)?;
	if !store.decisions().is_empty() {
		return Err(HandoverError::Decided);
	}
	let current = store.level();
	if level > current {
		return Err(HandoverError::LevelNotStarted);
	}
	if level < current {
		return Err(HandoverError::HandedOver);
	}
	if store.has_voted(level, seat) {
		return Err(HandoverError::DuplicateVote);
	}
	check_vote(level, store.required(level).as_ref(), vote)?;
	store.record_vote(level, seat, vote);
	let Vote::Value(v) = vote else { return Ok(None) };
	let tally = store.tally(level, v).saturating_add(slots);
	store.set_tally(level, v, tally);
	if tally >= threshold {
		store.push_decision(level, v.clone());
		return Ok(Some(v.clone()));
	}
	Ok(None)
}

/// Hands over from the current level to the next: freezes the current level's votes and fixes
/// the value the next level must adopt, which it returns. The caller checks the deadline.
pub fn start_next_level<V: Ord + Clone, S: Store<V>>(
	store: &mut S,
	rules: &Rules,
) -> Result<Option<V>, HandoverError<V>> {
	if !store.decisions().is_empty() {
		return Err(HandoverError::Decided);
	}
	let current = store.level();
	let next = current.checked_add(1).ok_or(HandoverError::LastLevel)?;
	if rules.rule(next).is_err() {
		return Err(HandoverError::LastLevel);
	}
	let max_bad = rules.rule(current).map_err(|_| HandoverError::UnknownLevel)?.max_bad;
	// A requirement carries forward: a level that had to adopt `v` can only have voted `v`, and
	// if it stalled before enough of its slots did, the next level must still adopt `v`. (The
	// model checker found that without this, a stalled middle level loses the primary's work.)
	let required =
		store.required(current).or_else(|| required_value(&store.tallies(current), max_bad));
	store.set_level(next);
	store.set_required(next, required.clone());
	Ok(required)
}

/// A round held in memory: the [`Store`] of the model checker and of off-chain simulations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryRound<V: Ord> {
	/// The current level.
	pub level: u8,
	/// Decisions, in order.
	pub decisions: Vec<(u8, V)>,
	/// `(level, seat)` → vote.
	pub votes: alloc::collections::BTreeMap<(u8, u32), Vote<V>>,
	/// `(level, value)` → slots.
	pub tallies: alloc::collections::BTreeMap<(u8, V), u32>,
	/// Level → the value it must adopt.
	pub required: alloc::collections::BTreeMap<u8, V>,
}

impl<V: Ord> Default for MemoryRound<V> {
	fn default() -> Self {
		Self {
			level: 0,
			decisions: Vec::new(),
			votes: Default::default(),
			tallies: Default::default(),
			required: Default::default(),
		}
	}
}

impl<V: Ord + Clone> Store<V> for MemoryRound<V> {
	fn level(&self) -> u8 {
		self.level
	}
	fn set_level(&mut self, level: u8) {
		self.level = level;
	}
	fn decisions(&self) -> Vec<(u8, V)> {
		self.decisions.clone()
	}
	fn push_decision(&mut self, level: u8, value: V) {
		self.decisions.push((level, value));
	}
	fn has_voted(&self, level: u8, seat: u32) -> bool {
		self.votes.contains_key(&(level, seat))
	}
	fn record_vote(&mut self, level: u8, seat: u32, vote: &Vote<V>) {
		self.votes.insert((level, seat), vote.clone());
	}
	fn tally(&self, level: u8, value: &V) -> u32 {
		self.tallies.get(&(level, value.clone())).copied().unwrap_or(0)
	}
	fn set_tally(&mut self, level: u8, value: &V, slots: u32) {
		self.tallies.insert((level, value.clone()), slots);
	}
	fn tallies(&self, level: u8) -> Vec<(V, u32)> {
		self.tallies
			.iter()
			.filter(|((l, _), _)| *l == level)
			.map(|((_, v), s)| (v.clone(), *s))
			.collect()
	}
	fn required(&self, level: u8) -> Option<V> {
		self.required.get(&level).cloned()
	}
	fn set_required(&mut self, level: u8, value: Option<V>) {
		match value {
			Some(v) => self.required.insert(level, v),
			None => self.required.remove(&level),
		};
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// G: 4 slots, max_bad 1, threshold 3. H: 4 slots, max_bad 1, threshold 3 (complete).
	fn rules() -> Rules {
		let g = LevelRule { slots: 4, max_bad: 1, threshold: 3 };
		Rules::new(alloc::vec![g, g])
	}

	#[test]
	fn the_primary_decides_at_its_threshold() {
		let (mut r, rules) = (MemoryRound::<u8>::default(), rules());
		assert_eq!(submit(&mut r, &rules, 0, 0, 1, &Vote::Value(1)), Ok(None));
		assert_eq!(submit(&mut r, &rules, 0, 1, 1, &Vote::Null), Ok(None));
		assert_eq!(submit(&mut r, &rules, 0, 2, 2, &Vote::Value(1)), Ok(Some(1)));
		assert_eq!(submit(&mut r, &rules, 0, 3, 1, &Vote::Value(1)), Err(HandoverError::Decided));
		assert_eq!(start_next_level(&mut r, &rules), Err(HandoverError::Decided));
	}

	#[test]
	fn after_the_handover_the_backup_adopts_what_the_primary_endorsed() {
		let (mut r, rules) = (MemoryRound::<u8>::default(), rules());
		submit(&mut r, &rules, 0, 0, 1, &Vote::Value(7)).unwrap();
		submit(&mut r, &rules, 0, 1, 1, &Vote::Value(7)).unwrap();
		assert_eq!(
			submit(&mut r, &rules, 1, 0, 1, &Vote::Value(7)),
			Err(HandoverError::LevelNotStarted)
		);
		assert_eq!(start_next_level(&mut r, &rules), Ok(Some(7)));
		// The primary is frozen.
		assert_eq!(
			submit(&mut r, &rules, 0, 2, 1, &Vote::Value(7)),
			Err(HandoverError::HandedOver)
		);
		assert_eq!(
			submit(&mut r, &rules, 1, 0, 1, &Vote::Value(9)),
			Err(HandoverError::BreaksAdoptionRule { required: 7 })
		);
		assert_eq!(submit(&mut r, &rules, 1, 0, 1, &Vote::Null), Err(HandoverError::NullInBackup));
		assert_eq!(submit(&mut r, &rules, 1, 0, 1, &Vote::Value(7)), Ok(None));
		assert_eq!(
			submit(&mut r, &rules, 1, 0, 1, &Vote::Value(7)),
			Err(HandoverError::DuplicateVote)
		);
		submit(&mut r, &rules, 1, 1, 1, &Vote::Value(7)).unwrap();
		assert_eq!(submit(&mut r, &rules, 1, 2, 1, &Vote::Value(7)), Ok(Some(7)));
		assert_eq!(r.decisions, alloc::vec![(1, 7)]);
		assert_eq!(start_next_level(&mut r, &rules), Err(HandoverError::Decided));
	}

	#[test]
	fn without_enough_primary_votes_the_backup_votes_its_own_value() {
		let (mut r, rules) = (MemoryRound::<u8>::default(), rules());
		submit(&mut r, &rules, 0, 0, 1, &Vote::Value(7)).unwrap();
		assert_eq!(start_next_level(&mut r, &rules), Ok(None), "one slot may be bad");
		for seat in 0..2 {
			assert_eq!(submit(&mut r, &rules, 1, seat, 1, &Vote::Value(2)), Ok(None));
		}
		assert_eq!(submit(&mut r, &rules, 1, 2, 1, &Vote::Value(2)), Ok(Some(2)));
		assert_eq!(start_next_level(&mut r, &rules), Err(HandoverError::Decided));
	}

	#[test]
	fn a_requirement_carries_over_a_stalled_middle_level() {
		let g = LevelRule { slots: 2, max_bad: 0, threshold: 2 };
		let one = LevelRule { slots: 1, max_bad: 0, threshold: 1 };
		let rules = Rules::new(alloc::vec![g, one, one]);
		let mut r = MemoryRound::<u8>::default();
		submit(&mut r, &rules, 0, 0, 1, &Vote::Value(7)).unwrap();
		assert_eq!(start_next_level(&mut r, &rules), Ok(Some(7)));
		// The middle level never votes.
		assert_eq!(start_next_level(&mut r, &rules), Ok(Some(7)));
		assert_eq!(
			submit(&mut r, &rules, 2, 0, 1, &Vote::Value(9)),
			Err(HandoverError::BreaksAdoptionRule { required: 7 })
		);
		assert_eq!(submit(&mut r, &rules, 2, 0, 1, &Vote::Value(7)), Ok(Some(7)));
	}

	#[test]
	fn the_tie_rule_is_most_slots_then_lowest_value() {
		assert_eq!(required_value(&[(5u8, 2), (3, 2)], 1), Some(3));
		assert_eq!(required_value(&[(5u8, 3), (3, 2)], 1), Some(5));
		assert_eq!(required_value(&[(5u8, 1), (3, 1)], 1), None);
		assert_eq!(required_value::<u8>(&[], 0), None);
	}

	#[test]
	fn the_last_level_cannot_hand_over() {
		let (mut r, rules) = (MemoryRound::<u8>::default(), rules());
		start_next_level(&mut r, &rules).unwrap();
		assert_eq!(start_next_level(&mut r, &rules), Err(HandoverError::LastLevel));
		assert_eq!(
			submit(&mut r, &rules, 5, 0, 1, &Vote::Value(1)),
			Err(HandoverError::UnknownLevel)
		);
	}
}
