//! The on-chain handover protocol, model-checked on the code that runs.
//!
//! One round of a hierarchical machine. The state is the round as the pallet stores it (a
//! [`MemoryRound`] driven by the very [`handover::submit`] and [`handover::start_next_level`]
//! the pallet calls) plus what each slot has done. Every interleaving of these actions is
//! explored:
//!
//! - a **good** slot of the current level votes by the protocol: at level 0 any of `V1`, `V2`,
//!   `Null` (good primaries may disagree or be unable to endorse); at a backup level the value
//!   the previous level requires, or else the level's own value. Good slots may be slow: any
//!   number of handovers may happen before they act;
//! - a **bad** slot submits any vote the machine accepts, at any started level, or stays silent
//!   for ever; off chain it signs every value (so it counts for every certificate);
//! - a **handover** (the level's deadline passing) happens at any time while undecided, except
//!   at the last level, whose good slots are assumed to act before its deadline.
//!
//! Each level's `max_bad` is a parameter and the number of bad slots ranges up to it; each
//! level's threshold is the strong one, `⌊(N + max_bad)/2⌋ + 1`, from [`DecisionRule`].

use consensus_machine_primitives::{
	handover::{self, LevelRule, MemoryRound, Mutation, Rules, Store, Vote},
	DecisionRule,
};
use stateright::{Model, Property};

/// The values slots may decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
	/// The primary's usual value.
	V1,
	/// A different value (the paper's backup value).
	V2,
}

/// What good backup slots vote when nothing is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnValue {
	/// All good slots of a level compute the same value (deterministic evaluation):
	/// the assumption under which termination is claimed. Both values are explored.
	Common,
	/// Each good backup slot picks either value: termination is not claimed, safety still is.
	Individual,
}

/// One level of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelSpec {
	/// Slots (one per seat).
	pub slots: u32,
	/// The level's `max_bad`.
	pub max_bad: u32,
	/// Bad slots actually present, at most `max_bad`.
	pub bad: u32,
}

/// A slot's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
	/// Has not acted yet.
	Waiting,
	/// Voted on chain.
	Voted(Vote<Val>),
	/// A bad slot that will never act.
	Silent,
}

/// The model's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
	/// The round as the pallet would store it.
	pub round: MemoryRound<Val>,
	/// Per level: the good slots' progress, sorted (slots are interchangeable).
	pub good: Vec<Vec<Slot>>,
	/// Per level: the bad slots' progress, sorted.
	pub bad: Vec<Vec<Slot>>,
	/// Per level: the value good slots vote when nothing is required ([`OwnValue::Common`]).
	pub own: Vec<Val>,
}

/// An action.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
	/// The first waiting good slot of `level` votes.
	Good(u8, Vote<Val>),
	/// The first waiting bad slot of `level` votes.
	Bad(u8, Vote<Val>),
	/// The first waiting bad slot of `level` stays silent for ever.
	Silence(u8),
	/// The current level's deadline passes: the next level starts.
	Handover,
}

/// One round of the handover protocol.
#[derive(Clone, Debug)]
pub struct HandoverModel {
	/// The levels, primary first.
	pub levels: Vec<LevelSpec>,
	/// How good backups choose their own value.
	pub own_value: OwnValue,
	/// A deliberately broken rule, or `None`.
	pub mutation: Option<Mutation>,
}

const VOTES: [Vote<Val>; 3] = [Vote::Value(Val::V1), Vote::Value(Val::V2), Vote::Null];

impl HandoverModel {
	/// The correct protocol for these levels.
	pub fn new(levels: Vec<LevelSpec>, own_value: OwnValue) -> Self {
		Self { levels, own_value, mutation: None }
	}

	/// The rules the pallet would derive for these levels.
	pub fn rules(&self) -> Rules {
		let levels = self
			.levels
			.iter()
			.map(|l| LevelRule::from(DecisionRule { n: l.slots, max_bad: l.max_bad }))
			.collect();
		Rules { levels, mutation: self.mutation }
	}

	fn last(&self) -> u8 {
		(self.levels.len() - 1) as u8
	}

	/// The threshold a certificate at `level` needs under the model's rules.
	fn threshold(&self, level: u8) -> u32 {
		self.rules().threshold(level).unwrap_or(u32::MAX)
	}

	/// Slots at `level` whose signature is on `value`: good slots that voted it, and every bad
	/// slot (bad slots sign anything off chain).
	fn signers(&self, state: &State, level: u8, value: Val) -> u32 {
		let good = state.good[level as usize]
			.iter()
			.filter(|s| **s == Slot::Voted(Vote::Value(value)))
			.count() as u32;
		good + self.levels[level as usize].bad
	}

	fn good_votes(&self, state: &State, level: u8) -> Vec<Vote<Val>> {
		if level == 0 {
			return VOTES.to_vec();
		}
		if self.mutation != Some(Mutation::IgnoreAdoption) {
			if let Some(required) = state.round.required(level) {
				return vec![Vote::Value(required)];
			}
		}
		match self.own_value {
			OwnValue::Common => vec![Vote::Value(state.own[level as usize])],
			OwnValue::Individual => vec![Vote::Value(Val::V1), Vote::Value(Val::V2)],
		}
	}

	/// Sorts the per-slot vectors and renumbers the round's seats: states that differ only by
	/// which interchangeable slot did what are one state.
	fn canonical(mut state: State) -> State {
		for slots in state.good.iter_mut().chain(state.bad.iter_mut()) {
			slots.sort();
		}
		let mut votes: Vec<(u8, Vote<Val>)> =
			state.round.votes.iter().map(|((level, _), vote)| (*level, *vote)).collect();
		votes.sort();
		state.round.votes.clear();
		let mut seat = 0u32;
		let mut previous = None;
		for (level, vote) in votes {
			if previous != Some(level) {
				seat = 0;
				previous = Some(level);
			}
			state.round.votes.insert((level, seat), vote);
			seat += 1;
		}
		state
	}

	fn apply_vote(&self, state: &State, level: u8, vote: Vote<Val>, good: bool) -> Option<State> {
		let mut next = state.clone();
		let slots = if good { &mut next.good } else { &mut next.bad };
		let slot = slots[level as usize].iter_mut().find(|s| **s == Slot::Waiting)?;
		*slot = Slot::Voted(vote);
		// A fresh seat number: the machine's duplicate check is per seat, and this slot has
		// never voted (the model gives every slot one vote).
		let seat = next.round.votes.keys().filter(|(l, _)| *l == level).count() as u32;
		handover::submit(&mut next.round, &self.rules(), level, seat, 1, &vote).ok()?;
		Some(Self::canonical(next))
	}

	/// Every decision was reached by a level with a good slot that voted for it.
	fn valid(&self, state: &State) -> bool {
		state.round.decisions.iter().all(|(level, value)| {
			state.good[*level as usize].contains(&Slot::Voted(Vote::Value(*value)))
		})
	}
}

impl Model for HandoverModel {
	type State = State;
	type Action = Action;

	fn init_states(&self) -> Vec<State> {
		let levels = self.levels.len();
		let owns: Vec<Vec<Val>> = match self.own_value {
			// Every combination of the levels' own values.
			OwnValue::Common => (0..(1usize << levels))
				.map(|bits| {
					(0..levels)
						.map(|l| if bits & (1 << l) == 0 { Val::V1 } else { Val::V2 })
						.collect()
				})
				.collect(),
			OwnValue::Individual => vec![vec![Val::V1; levels]],
		};
		owns.into_iter()
			.map(|own| State {
				round: MemoryRound::default(),
				good: self
					.levels
					.iter()
					.map(|l| vec![Slot::Waiting; (l.slots - l.bad) as usize])
					.collect(),
				bad: self.levels.iter().map(|l| vec![Slot::Waiting; l.bad as usize]).collect(),
				own,
			})
			.collect()
	}

	fn actions(&self, state: &State, actions: &mut Vec<Action>) {
		let decided = !state.round.decisions.is_empty();
		let late = self.mutation == Some(Mutation::LatePrimary);
		let current = state.round.level;
		for level in 0..=current {
			// Good slots act at the current level; with the late-primary mutation, slow ones
			// still act after their level handed over, even after a decision elsewhere.
			let good_may_act = (level == current && !decided) || (late && level < current);
			if good_may_act && state.good[level as usize].contains(&Slot::Waiting) {
				for vote in self.good_votes(state, level) {
					actions.push(Action::Good(level, vote));
				}
			}
			if state.bad[level as usize].contains(&Slot::Waiting) {
				for vote in VOTES {
					actions.push(Action::Bad(level, vote));
				}
				actions.push(Action::Silence(level));
			}
		}
		if !decided && current < self.last() {
			actions.push(Action::Handover);
		}
	}

	fn next_state(&self, state: &State, action: Action) -> Option<State> {
		match action {
			Action::Good(level, vote) => self.apply_vote(state, level, vote, true),
			Action::Bad(level, vote) => self.apply_vote(state, level, vote, false),
			Action::Silence(level) => {
				let mut next = state.clone();
				let slot = next.bad[level as usize].iter_mut().find(|s| **s == Slot::Waiting)?;
				*slot = Slot::Silent;
				Some(Self::canonical(next))
			}
			Action::Handover => {
				let mut next = state.clone();
				handover::start_next_level(&mut next.round, &self.rules()).ok()?;
				Some(next)
			}
		}
	}

	fn properties(&self) -> Vec<Property<Self>> {
		let mut properties = vec![
			Property::always("agreement", |_, s: &State| {
				s.round.decisions.windows(2).all(|w| w[0].1 == w[1].1)
			}),
			Property::always("certificate agreement", |m: &HandoverModel, s: &State| {
				(0..m.levels.len() as u8).all(|level| {
					let t = m.threshold(level);
					!(m.signers(s, level, Val::V1) >= t && m.signers(s, level, Val::V2) >= t)
				})
			}),
			Property::always("validity", |m: &HandoverModel, s: &State| m.valid(s)),
			Property::always("primacy", |_, s: &State| {
				// A decision at or above a level that had a required value is that value.
				s.round.required.iter().all(|(from, required)| {
					s.round.decisions.iter().all(|(level, v)| level < from || v == required)
				})
			}),
			Property::sometimes("primary decides", |_, s: &State| {
				s.round.decisions.iter().any(|(l, _)| *l == 0)
			}),
			Property::sometimes("backup decides", |_, s: &State| {
				s.round.decisions.iter().any(|(l, _)| *l > 0)
			}),
		];
		if self.own_value == OwnValue::Common {
			properties.push(Property::always("termination", |m: &HandoverModel, s: &State| {
				let last = m.last();
				let acted =
					s.round.level == last && !s.good[last as usize].contains(&Slot::Waiting);
				!acted || !s.round.decisions.is_empty()
			}));
			properties.push(Property::eventually("no deadlock", |_, s: &State| {
				!s.round.decisions.is_empty()
			}));
		}
		properties
	}
}
