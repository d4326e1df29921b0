//! The on-chain handover protocol, model-checked on the code that runs, against a specification
//! the model keeps itself.
//!
//! One round of a hierarchical machine. The state holds the round as the pallet stores it (a
//! [`MemoryRound`] driven by the very [`handover::submit`] and [`handover::start_next_level`]
//! the pallet calls) and, beside it, the model's **own record**: what each seat did, the current
//! level, the decision, and the value each level must adopt, all computed by the model from the
//! votes the machine accepted. The properties judge the machine's observable answers (accepted
//! or refused, the decision a vote returns, the value a handover requires) against that record;
//! none of them reads the machine's internal state to decide what is right.
//!
//! The environment tries everything, in every order:
//!
//! - each level's seats: every seat holding one slot, or one **heavy** seat holding two or more
//!   (up to every slot of its kind, so one vote may carry a level's threshold or all its bad
//!   slots at once), good or bad, and the rest holding one;
//! - a **good** seat votes by the protocol: at level 0 any of `V1`, `V2`, `Null` (good primaries
//!   may disagree or be unable to endorse); at a backup level the value its level must adopt,
//!   else its own value. It may be slow: it also tries after any number of handovers and after
//!   the decision (the machine must refuse those);
//! - a **bad** seat submits any vote at any level, started or not (and one beyond the last):
//!   `V1`, `V2`, `V3` or `Null`, so a bad primary also votes `V3`, the value no good primary
//!   votes. It tries again after it voted; off chain it signs every value. At any level, while
//!   that level is current, it may stay **silent** for ever, so that the level stalls and hands
//!   over (or, at the last level, must decide without it). Once its level has handed over, a
//!   silent seat and one that never voted are the same to the machine and to every property
//!   (both can only be late, and a late vote must change nothing), so the record then keeps it
//!   as one that never voted. Only a good backup can bring `V3` in, as its own value: bad slots
//!   alone never pass a level's `max_bad`;
//! - a **handover** is attempted at any time: at the last level, after a decision, repeatedly.
//!
//! A step the specification refuses and the machine refuses too changes nothing, and is not a
//! transition. Any other disagreement is recorded in the state under the name of the property
//! it breaks, so the checker reports it with the path that led there.

use consensus_machine_primitives::{
	handover::{self, HandoverError, LevelRule, MemoryRound, Rules, Store, Vote},
	DecisionRule,
};
use stateright::{Model, Property};
use std::ops::Range;

/// The values seats may vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
	/// A primary's value.
	V1,
	/// Another primary's value.
	V2,
	/// A value only a backup can bring in.
	V3,
}

const VALUES: [Val; 3] = [Val::V1, Val::V2, Val::V3];

/// What good backup seats vote when their level need not adopt anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnValue {
	/// All good seats of a level compute the same value (deterministic evaluation): the
	/// assumption under which termination is claimed. Every value is explored.
	Common,
	/// Each good backup seat picks any value: termination is not claimed, safety still is.
	Individual,
}

/// One level of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelSpec {
	/// Slots.
	pub slots: u32,
	/// The level's `max_bad`.
	pub max_bad: u32,
	/// Bad slots actually present, at most `max_bad`.
	pub bad: u32,
	/// Who holds the level's heavy seat, and its slots, if it has one.
	pub heavy: Heavy,
}

/// A level's heavy seat: one seat holding several slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Heavy {
	/// Every seat holds one slot.
	None,
	/// A good seat holds this many slots (at least two; needs that many good slots).
	Good(u32),
	/// A bad seat holds this many slots (at least two; needs that many bad slots).
	Bad(u32),
}

/// A seat: its slots and whether its holder is good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seat {
	/// Slots the seat holds.
	pub weight: u32,
	/// Whether the holder follows the protocol.
	pub good: bool,
}

impl LevelSpec {
	/// Whether the spec describes a possible level.
	pub fn is_valid(&self) -> bool {
		self.slots >= 1
			&& self.max_bad < self.slots
			&& self.bad <= self.max_bad
			&& match self.heavy {
				Heavy::None => true,
				Heavy::Good(weight) => weight >= 2 && self.slots - self.bad >= weight,
				Heavy::Bad(weight) => weight >= 2 && self.bad >= weight,
			}
	}

	/// Seats, the heavy one first, then good single seats, then bad ones.
	pub fn seats(&self) -> Vec<Seat> {
		let mut seats = Vec::new();
		let (mut good, mut bad) = (self.slots - self.bad, self.bad);
		match self.heavy {
			Heavy::None => {}
			Heavy::Good(weight) => {
				seats.push(Seat { weight, good: true });
				good -= weight;
			}
			Heavy::Bad(weight) => {
				seats.push(Seat { weight, good: false });
				bad -= weight;
			}
		}
		seats.extend((0..good).map(|_| Seat { weight: 1, good: true }));
		seats.extend((0..bad).map(|_| Seat { weight: 1, good: false }));
		seats
	}

	/// Runs of interchangeable seats (same weight, same goodness).
	fn groups(&self) -> Vec<Range<usize>> {
		let seats = self.seats();
		let mut groups: Vec<Range<usize>> = Vec::new();
		for (i, seat) in seats.iter().enumerate() {
			match groups.last_mut() {
				Some(g) if seats[g.start] == *seat => g.end = i + 1,
				_ => groups.push(i..i + 1),
			}
		}
		groups
	}

	/// The strong threshold, computed here rather than taken from the machine's rules.
	pub fn threshold(&self) -> u32 {
		(self.slots + self.max_bad) / 2 + 1
	}
}

/// A seat's progress in the model's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
	/// Has no accepted vote.
	Waiting,
	/// Its vote was accepted.
	Voted(Vote<Val>),
	/// A bad seat that will never act.
	Silent,
}

/// The properties a single step can break, recorded in [`State::broken`].
const STEP_CHECKS: [&str; 12] = [
	"no vote after a decision",
	"late votes never count",
	"unstarted levels take no votes",
	"a seat votes once",
	"a vote breaking the adoption rule never counts",
	"a level decides exactly at its threshold",
	"valid votes are accepted",
	"no handover after a decision or from the last level",
	"a due handover is accepted",
	"a handover requires the most-then-lowest value",
	"a refusal gives its reason and changes nothing",
	"the machine records what it answered",
];

fn bit(name: &str) -> u16 {
	1 << STEP_CHECKS.iter().position(|n| *n == name).expect("a step check's name")
}

/// Why the specification refuses a vote: the error the machine must give, and the step check
/// a machine accepting the vote breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Refusal {
	error: HandoverError<Val>,
	check: &'static str,
}

impl Refusal {
	fn new(error: HandoverError<Val>) -> Self {
		let check = match error {
			HandoverError::Decided => STEP_CHECKS[0],
			HandoverError::HandedOver => STEP_CHECKS[1],
			HandoverError::LevelNotStarted | HandoverError::UnknownLevel => STEP_CHECKS[2],
			HandoverError::DuplicateVote => STEP_CHECKS[3],
			_ => STEP_CHECKS[4],
		};
		Self { error, check }
	}
}

/// The machine's round seen through a store that lists a level's tallies highest value first
/// (the [`Store`] promises no order; the pallet's follows the values' hashes): the adoption
/// rule must not depend on it.
///
/// A step is first run on a read-only [`Reversed::Probe`] of the round, which only notes that
/// the machine wrote: most steps are refusals that write nothing, and their answer is then
/// exact without copying the round. A step that wrote is run again on a copy.
enum Reversed<'a> {
	/// Reads the round; a write is only noted.
	Probe { round: &'a MemoryRound<Val>, wrote: bool },
	/// Reads and writes the round.
	Real(&'a mut MemoryRound<Val>),
}

impl Reversed<'_> {
	fn round(&self) -> &MemoryRound<Val> {
		match self {
			Reversed::Probe { round, .. } => round,
			Reversed::Real(round) => round,
		}
	}

	/// The round to write, if this is not a probe (which then notes the write).
	fn write(&mut self) -> Option<&mut MemoryRound<Val>> {
		match self {
			Reversed::Probe { wrote, .. } => {
				*wrote = true;
				None
			}
			Reversed::Real(round) => Some(round),
		}
	}
}

/// Runs `step` on the machine's `round`: returns its answer and, if it wrote, the round after
/// it (run on a copy). A probe that wrote, or panicked (having read its own writes as not
/// made), does not count: only the run on the copy does.
fn run<R>(
	round: &MemoryRound<Val>,
	step: impl Fn(&mut Reversed<'_>) -> R,
) -> (R, Option<MemoryRound<Val>>) {
	let probed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
		let mut probe = Reversed::Probe { round, wrote: false };
		let answer = step(&mut probe);
		(answer, matches!(probe, Reversed::Probe { wrote: true, .. }))
	}));
	if let Ok((answer, false)) = probed {
		return (answer, None);
	}
	let mut copy = round.clone();
	let answer = step(&mut Reversed::Real(&mut copy));
	(answer, Some(copy))
}

impl Store<Val> for Reversed<'_> {
	fn level(&self) -> u8 {
		self.round().level()
	}
	fn set_level(&mut self, level: u8) {
		if let Some(round) = self.write() {
			round.set_level(level)
		}
	}
	fn decisions(&self) -> Vec<(u8, Val)> {
		self.round().decisions()
	}
	fn push_decision(&mut self, level: u8, value: Val) {
		if let Some(round) = self.write() {
			round.push_decision(level, value)
		}
	}
	fn has_voted(&self, level: u8, seat: u32) -> bool {
		self.round().has_voted(level, seat)
	}
	fn record_vote(&mut self, level: u8, seat: u32, vote: &Vote<Val>) {
		if let Some(round) = self.write() {
			round.record_vote(level, seat, vote)
		}
	}
	fn tally(&self, level: u8, value: &Val) -> u32 {
		self.round().tally(level, value)
	}
	fn set_tally(&mut self, level: u8, value: &Val, slots: u32) {
		if let Some(round) = self.write() {
			round.set_tally(level, value, slots)
		}
	}
	fn tallies(&self, level: u8) -> Vec<(Val, u32)> {
		let mut tallies = self.round().tallies(level);
		tallies.reverse();
		tallies
	}
	fn required(&self, level: u8) -> Option<Val> {
		self.round().required(level)
	}
	fn set_required(&mut self, level: u8, value: Option<Val>) {
		if let Some(round) = self.write() {
			round.set_required(level, value)
		}
	}
}

/// The model's state: the machine's round and the model's own record beside it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
	/// The round as the pallet would store it (the machine's state).
	pub round: MemoryRound<Val>,
	/// Per level, per seat: what the seat did, by the machine's answers.
	pub seats: Vec<Vec<Status>>,
	/// Per level: the value good seats vote when nothing must be adopted
	/// ([`OwnValue::Common`]).
	pub own: Vec<Val>,
	/// The current level, by the handovers the specification allowed.
	pub level: u8,
	/// The specification's decision.
	pub decision: Option<(u8, Val)>,
	/// Per level: the value it must adopt, by the model's own most-then-lowest rule.
	pub must: Vec<Option<Val>>,
	/// Per level: the values (bit `v`) more than `max_bad` slots of the previous level voted
	/// when it handed over (or the one it had to adopt).
	pub endorsed: Vec<u8>,
	/// Decisions the machine announced (the `Some(v)` returned by a vote).
	pub announced: Vec<(u8, Val)>,
	/// Step checks broken so far (bits of [`STEP_CHECKS`]).
	pub broken: u16,
}

impl State {
	/// This state with the machine's round replaced by `round` (a step's successor, the rest
	/// of it still to be updated).
	fn with_round(&self, round: MemoryRound<Val>) -> State {
		State {
			round,
			seats: self.seats.clone(),
			own: self.own.clone(),
			level: self.level,
			decision: self.decision,
			must: self.must.clone(),
			endorsed: self.endorsed.clone(),
			announced: self.announced.clone(),
			broken: self.broken,
		}
	}
}

/// An action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
	/// Seat `seat` of `level` submits `vote`: a first vote, a late one, a second one, or one at a
	/// level that has not started; the model's record says which.
	Vote(u8, u32, Vote<Val>),
	/// Bad seat `seat` of the current level `level` stays silent for ever.
	Silence(u8, u32),
	/// Somebody calls the handover (the level's deadline, if any, is the caller's business).
	Handover,
}

/// One round of the handover protocol.
#[derive(Clone, Debug)]
pub struct HandoverModel {
	/// The levels, primary first.
	pub levels: Vec<LevelSpec>,
	/// How good backups choose their own value.
	pub own_value: OwnValue,
	/// Per level: its seats ([`LevelSpec::seats`]).
	seats: Vec<Vec<Seat>>,
	/// Per level: its runs of interchangeable seats.
	groups: Vec<Vec<Range<usize>>>,
	/// The machine's rules, as the pallet derives them.
	rules: Rules,
}

fn mask(value: Val) -> u8 {
	1 << value as u8
}

impl HandoverModel {
	/// The protocol for these levels.
	pub fn new(levels: Vec<LevelSpec>, own_value: OwnValue) -> Self {
		assert!(levels.iter().all(LevelSpec::is_valid), "invalid levels {levels:?}");
		let rules = Rules::new(
			levels
				.iter()
				.map(|l| LevelRule::from(DecisionRule { n: l.slots, max_bad: l.max_bad }))
				.collect(),
		);
		let seats = levels.iter().map(LevelSpec::seats).collect();
		let groups = levels.iter().map(LevelSpec::groups).collect();
		Self { levels, own_value, seats, groups, rules }
	}

	fn last(&self) -> u8 {
		(self.levels.len() - 1) as u8
	}

	fn seat(&self, level: u8, seat: u32) -> Seat {
		self.seats
			.get(level as usize)
			.and_then(|seats| seats.get(seat as usize).copied())
			.unwrap_or(Seat { weight: 1, good: false })
	}

	/// Slots whose accepted vote at `level` is `value`, by the model's record.
	fn tally(&self, state: &State, level: u8, value: Val) -> u32 {
		state.seats[level as usize]
			.iter()
			.zip(&self.seats[level as usize])
			.filter(|(status, _)| match status {
				Status::Voted(vote) => vote.value() == Some(&value),
				_ => false,
			})
			.map(|(_, seat)| seat.weight)
			.sum()
	}

	/// The model's own adoption rule: a value more than `max_bad` slots voted, by most slots,
	/// then lowest.
	fn most_then_lowest(&self, state: &State, level: u8) -> Option<Val> {
		let max_bad = self.levels[level as usize].max_bad;
		let mut best: Option<(Val, u32)> = None;
		for value in VALUES {
			let slots = self.tally(state, level, value);
			if slots > max_bad && best.is_none_or(|(_, most)| slots > most) {
				best = Some((value, slots));
			}
		}
		best.map(|(value, _)| value)
	}

	/// Slots at `level` whose signature is on `value`: good seats that voted it, and every bad
	/// seat (bad seats sign anything off chain).
	fn signers(&self, state: &State, level: u8, value: Val) -> u32 {
		state.seats[level as usize]
			.iter()
			.zip(&self.seats[level as usize])
			.filter(|(status, seat)| {
				!seat.good || **status == Status::Voted(Vote::from(Some(value)))
			})
			.map(|(_, seat)| seat.weight)
			.sum()
	}

	/// The votes a good seat of `level` casts by the protocol.
	fn protocol_votes(&self, state: &State, level: u8) -> Vec<Vote<Val>> {
		if level == 0 {
			return vec![Vote::from(Some(Val::V1)), Vote::from(Some(Val::V2)), Vote::from(None)];
		}
		if let Some(required) = state.must[level as usize] {
			return vec![Vote::Value(required)];
		}
		match self.own_value {
			OwnValue::Common => vec![Vote::Value(state.own[level as usize])],
			OwnValue::Individual => VALUES.iter().map(|v| Vote::Value(*v)).collect(),
		}
	}

	/// The specification's answer to a vote: refused, or accepted deciding `Some(value)` or
	/// nothing.
	fn verdict(
		&self,
		state: &State,
		level: u8,
		seat: u32,
		vote: &Vote<Val>,
	) -> Result<Option<Val>, Refusal> {
		if level as usize >= self.levels.len() {
			return Err(Refusal::new(HandoverError::UnknownLevel));
		}
		if state.decision.is_some() {
			return Err(Refusal::new(HandoverError::Decided));
		}
		if level > state.level {
			return Err(Refusal::new(HandoverError::LevelNotStarted));
		}
		if level < state.level {
			return Err(Refusal::new(HandoverError::HandedOver));
		}
		if state.seats[level as usize][seat as usize] != Status::Waiting {
			return Err(Refusal::new(HandoverError::DuplicateVote));
		}
		let must = state.must[level as usize];
		match (vote, must) {
			(Vote::Null, _) if level > 0 => return Err(Refusal::new(HandoverError::NullInBackup)),
			(Vote::Value(v), Some(required)) if level > 0 && required != *v => {
				return Err(Refusal::new(HandoverError::BreaksAdoptionRule { required }))
			}
			_ => {}
		}
		let Vote::Value(value) = vote else { return Ok(None) };
		let weight = self.seat(level, seat).weight;
		let reached =
			self.tally(state, level, *value) + weight >= self.levels[level as usize].threshold();
		Ok(reached.then_some(*value))
	}

	/// Values that good seats brought in: good primaries' votes, and good backups' own values
	/// (voted when their level had nothing to adopt).
	fn originated(&self, state: &State) -> u8 {
		let mut origins = 0;
		for (level, seats) in self.seats.iter().enumerate() {
			if level > 0 && state.must[level].is_some() {
				continue;
			}
			for (status, seat) in state.seats[level].iter().zip(seats) {
				if let (true, Status::Voted(Vote::Value(v))) = (seat.good, status) {
					origins |= mask(*v);
				}
			}
		}
		origins
	}

	/// Sorts interchangeable seats by what they did (in the record and in the machine) and
	/// renumbers the machine's seats to match: states that differ only by which of two alike
	/// seats did what are one state.
	///
	/// A silent seat at a handed-over level is recorded as one that never voted: both may only
	/// try late votes, which the machine must refuse changing nothing, and no property tells
	/// them apart.
	fn canonical(&self, mut state: State) -> State {
		for seats in &mut state.seats[..state.level as usize] {
			for status in seats.iter_mut().filter(|status| **status == Status::Silent) {
				*status = Status::Waiting;
			}
		}
		let mut votes = std::collections::BTreeMap::new();
		let mut moved = false;
		for (level, groups) in self.groups.iter().enumerate() {
			let l = level as u8;
			let mut to = (0..state.seats[level].len() as u32).collect::<Vec<_>>();
			for group in groups.iter().filter(|group| group.len() > 1).cloned() {
				let mut members: Vec<(Status, Option<Vote<Val>>, u32)> = group
					.clone()
					.map(|s| {
						let recorded = state.round.votes.get(&(l, s as u32)).copied();
						(state.seats[level][s], recorded, s as u32)
					})
					.collect();
				members.sort();
				for (offset, (status, _, from)) in members.into_iter().enumerate() {
					let new = (group.start + offset) as u32;
					to[from as usize] = new;
					moved |= new != from;
					state.seats[level][new as usize] = status;
				}
			}
			for (&(vl, s), vote) in state.round.votes.range((l, 0)..=(l, u32::MAX)) {
				let new = to.get(s as usize).copied().unwrap_or(s);
				votes.insert((vl, new), *vote);
			}
		}
		// Votes the machine keeps at levels the model does not have (none, unless it is broken).
		for (&(l, s), vote) in &state.round.votes {
			if l as usize >= self.levels.len() {
				votes.insert((l, s), *vote);
			}
		}
		if moved {
			state.round.votes = votes;
		}
		state
	}

	fn vote(&self, state: &State, level: u8, seat: u32, vote: Vote<Val>) -> Option<State> {
		let expected = self.verdict(state, level, seat, &vote);
		let weight = self.seat(level, seat).weight;
		let (answer, round) = run(&state.round, |store| {
			handover::submit(store, &self.rules, level, seat, weight, &vote)
		});
		if let (Err(refusal), Err(error), None) = (&expected, &answer, &round) {
			if refusal.error == *error {
				return None;
			}
		}
		let round = round.unwrap_or_else(|| state.round.clone());
		if let (Err(refusal), Err(error)) = (&expected, &answer) {
			if refusal.error == *error && round == state.round {
				return None;
			}
		}
		let mut next = state.with_round(round);
		match (expected, answer) {
			(Err(_), Err(_)) => {
				next.broken |= bit("a refusal gives its reason and changes nothing");
			}
			(Err(refusal), Ok(announced)) => {
				next.broken |= bit(refusal.check);
				if let Some(status) = next
					.seats
					.get_mut(level as usize)
					.and_then(|seats| seats.get_mut(seat as usize))
				{
					*status = Status::Voted(vote);
				}
				next.announced.extend(announced.map(|v| (level, v)));
			}
			(Ok(_), Err(_)) => next.broken |= bit("valid votes are accepted"),
			(Ok(decides), Ok(announced)) => {
				next.seats[level as usize][seat as usize] = Status::Voted(vote);
				if decides != announced {
					next.broken |= bit("a level decides exactly at its threshold");
				}
				let decisions = match announced {
					Some(v) => vec![(level, v)],
					None => state.round.decisions.clone(),
				};
				if next.round.votes.get(&(level, seat)) != Some(&vote)
					|| next.round.decisions != decisions
				{
					next.broken |= bit("the machine records what it answered");
				}
				next.decision = decides.map(|v| (level, v));
				next.announced.extend(announced.map(|v| (level, v)));
			}
		}
		Some(self.canonical(next))
	}

	/// The error a handover that is not due must get.
	fn refusal_of_handover(&self, state: &State) -> HandoverError<Val> {
		if state.decision.is_some() {
			HandoverError::Decided
		} else {
			HandoverError::LastLevel
		}
	}

	fn handover(&self, state: &State) -> Option<State> {
		let due = state.decision.is_none() && state.level < self.last();
		let (answer, round) =
			run(&state.round, |store| handover::start_next_level(store, &self.rules));
		let round = round.unwrap_or_else(|| state.round.clone());
		if let (false, Err(error)) = (due, &answer) {
			if *error == self.refusal_of_handover(state) && round == state.round {
				return None;
			}
		}
		let mut next = state.with_round(round);
		match (due, answer) {
			(false, Err(_)) => {
				next.broken |= bit("a refusal gives its reason and changes nothing");
			}
			(false, Ok(_)) => {
				next.broken |= bit("no handover after a decision or from the last level")
			}
			(true, Err(_)) => next.broken |= bit("a due handover is accepted"),
			(true, Ok(required)) => {
				let from = state.level;
				let carried = state.must[from as usize];
				let must = carried.or_else(|| self.most_then_lowest(state, from));
				if required != must {
					next.broken |= bit("a handover requires the most-then-lowest value");
				}
				if next.round.level != from + 1
					|| next.round.required.get(&(from + 1)) != must.as_ref()
				{
					next.broken |= bit("the machine records what it answered");
				}
				let max_bad = self.levels[from as usize].max_bad;
				let endorsed = match carried {
					Some(v) => mask(v),
					None => VALUES
						.iter()
						.filter(|v| self.tally(state, from, **v) > max_bad)
						.fold(0, |m, v| m | mask(*v)),
				};
				next.level = from + 1;
				next.must[next.level as usize] = must;
				next.endorsed[next.level as usize] = endorsed;
			}
		}
		Some(self.canonical(next))
	}
}

impl Model for HandoverModel {
	type State = State;
	type Action = Action;

	fn init_states(&self) -> Vec<State> {
		let levels = self.levels.len();
		let owns: Vec<Vec<Val>> = match self.own_value {
			// Every combination of the backups' own values (level 0 has none).
			OwnValue::Common => (0..3usize.pow(levels as u32 - 1))
				.map(|mut code| {
					let mut own = vec![Val::V1];
					for _ in 1..levels {
						own.push(VALUES[code % 3]);
						code /= 3;
					}
					own
				})
				.collect(),
			OwnValue::Individual => vec![vec![Val::V1; levels]],
		};
		owns.into_iter()
			.map(|own| State {
				round: MemoryRound::default(),
				seats: self.seats.iter().map(|seats| vec![Status::Waiting; seats.len()]).collect(),
				own,
				level: 0,
				decision: None,
				must: vec![None; levels],
				endorsed: vec![0; levels],
				announced: Vec::new(),
				broken: 0,
			})
			.collect()
	}

	fn actions(&self, state: &State, actions: &mut Vec<Action>) {
		let last = self.last();
		for (level, groups) in self.groups.iter().enumerate() {
			let l = level as u8;
			let seats = &self.seats[level];
			for group in groups.iter().cloned() {
				let good = seats[group.start].good;
				let first = |wanted: fn(&Status) -> bool| {
					group.clone().find(|s| wanted(&state.seats[level][*s])).map(|s| s as u32)
				};
				let waiting = first(|s| *s == Status::Waiting);
				if good {
					// Slow or not: a good seat tries its vote whenever its level has started.
					if let (Some(seat), true) = (waiting, l <= state.level) {
						for vote in self.protocol_votes(state, l) {
							actions.push(Action::Vote(l, seat, vote));
						}
					}
					continue;
				}
				let voted = first(|s| matches!(s, Status::Voted(_)));
				for seat in waiting.into_iter().chain(voted) {
					for vote in VALUES.iter().map(|v| Vote::Value(*v)).chain([Vote::Null]) {
						actions.push(Action::Vote(l, seat, vote));
					}
				}
				// Silent for ever at the current level, whichever it is (once decided, silence
				// changes nothing).
				if let (Some(seat), true) = (waiting, l == state.level && state.decision.is_none())
				{
					actions.push(Action::Silence(l, seat));
				}
			}
		}
		// A bad seat names a level the round does not have.
		actions.push(Action::Vote(last + 1, 0, Vote::Value(Val::V1)));
		actions.push(Action::Handover);
	}

	fn next_state(&self, state: &State, action: Action) -> Option<State> {
		match action {
			Action::Vote(level, seat, vote) => self.vote(state, level, seat, vote),
			Action::Silence(level, seat) => {
				let mut next = state.clone();
				next.seats[level as usize][seat as usize] = Status::Silent;
				Some(self.canonical(next))
			}
			Action::Handover => self.handover(state),
		}
	}

	fn properties(&self) -> Vec<Property<Self>> {
		let mut properties = vec![
			Property::always("at most one decision", |_, s: &State| {
				s.announced.len() <= 1 && s.round.decisions.len() <= 1
			}),
			Property::always("no decision at a handed-over level", |_, s: &State| {
				s.announced.iter().all(|(level, _)| *level == s.level)
			}),
			Property::always("primacy", |_, s: &State| {
				// A backup's decision is among the values the previous level endorsed, if any.
				s.announced.iter().all(|(level, v)| {
					let endorsed = s.endorsed[*level as usize];
					*level == 0 || endorsed == 0 || endorsed & mask(*v) != 0
				})
			}),
			Property::always("validity by origin", |m: &HandoverModel, s: &State| {
				let origins = m.originated(s);
				s.announced.iter().all(|(_, v)| origins & mask(*v) != 0)
			}),
			Property::always("certificate agreement", |m: &HandoverModel, s: &State| {
				(0..m.levels.len() as u8).all(|level| {
					let t = m.levels[level as usize].threshold();
					VALUES.iter().filter(|v| m.signers(s, level, **v) >= t).count() <= 1
				})
			}),
			Property::sometimes("primary decides", |_, s: &State| {
				s.announced.iter().any(|(l, _)| *l == 0)
			}),
			Property::sometimes("backup decides", |_, s: &State| {
				s.announced.iter().any(|(l, _)| *l > 0)
			}),
			Property::sometimes("backup decides a value only backups bring", |_, s: &State| {
				s.announced.iter().any(|(l, v)| *l > 0 && *v == Val::V3)
			}),
			Property::sometimes(
				"a seat is silent at a level that hands over",
				|m: &HandoverModel, s: &State| {
					s.level < m.last() && s.seats[s.level as usize].contains(&Status::Silent)
				},
			),
		];
		// One property per step check (properties are plain functions, so one per index).
		macro_rules! step_checks {
			($($i:literal)*) => {$(
				properties.push(Property::always(STEP_CHECKS[$i], |_, s: &State| {
					s.broken & (1 << $i) == 0
				}));
			)*};
		}
		step_checks!(0 1 2 3 4 5 6 7 8 9 10 11);
		debug_assert_eq!(STEP_CHECKS.len(), 12);
		if self.own_value == OwnValue::Common {
			// A backup level whose good seats hold its threshold decides once they have all
			// voted (they vote the same value: the one to adopt, else the level's own), whatever
			// its bad seats did and whatever earlier levels did (silent seats included). The
			// last level, complete, always is such a level; a middle one may be.
			properties.push(Property::always("termination", |m: &HandoverModel, s: &State| {
				(1..m.levels.len()).all(|level| {
					let seats = &m.seats[level];
					let good: u32 =
						seats.iter().filter(|seat| seat.good).map(|seat| seat.weight).sum();
					let voted = s.seats[level]
						.iter()
						.zip(seats)
						.all(|(status, seat)| !seat.good || matches!(status, Status::Voted(_)));
					good < m.levels[level].threshold() || !voted || !s.announced.is_empty()
				})
			}));
			properties
				.push(Property::eventually("no deadlock", |_, s: &State| !s.announced.is_empty()));
		}
		properties
	}
}
