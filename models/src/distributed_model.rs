//! The paper's own distributed handover protocol (§9.2; the authors' `signals.csp`), modelled
//! to re-check its safety claim and to extend it from atomic to regular registers.
//!
//! `PN` primary components (`PG` good) and `SN` backup components (`SG` good). Each primary
//! component `g` owns a location holding its pre-decision (initially `Null`); each backup
//! component `h` owns a "started" flag (initially false).
//!
//! - A good primary component pre-decides `V1` (writes it) or `Null` (and stops). After writing
//!   `V1` it reads the backup components' started flags, one at a time, in any order, and
//!   finalises `V1` once it has read more than `SN − 1` of them (all) as not started; a flag
//!   read as started is read again later.
//! - A good backup component, on its timeout, sets its started flag, then reads the primary
//!   locations one at a time, and decides `V1` after more than `PDT` `V1`s or `V2` after more
//!   than `NDT` `Null`s.
//! - A bad component answers every read arbitrarily (each reader may get a different answer)
//!   and decides whatever it likes: bad primaries count as finalised, bad backups count for
//!   both values.
//! - G decides when `PT` components finalised `V1`; H decides `v` when `ST` components did.
//!
//! A bad component's answers do not depend on time, so a reader only needs to know how many
//! bad components it has read (and what they answered), not which: this keeps the state space
//! small without losing behaviours.
//!
//! `PT = PG/2 + PN − PG + 1`, `PDT = NDT = 2·PN − PG − PT`, `ST = SG/2 + SN − SG + 1` (integer
//! division) and `STT = SN − 1`, as in `signals.csp` ([`Thresholds::paper`]); each can be
//! changed to check what the protocol's safety rests on. With [`Registers::Regular`], a write takes two steps and a
//! read that overlaps it may return the old or the new value; with [`Registers::Atomic`] (the
//! CSP model's) a write is one step.

use stateright::{Model, Property, Representative};

/// A primary location's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pre {
	/// No endorsement (also the initial value).
	Null,
	/// Endorses `V1`.
	V1,
}

/// How registers behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Registers {
	/// A write is one atomic step (the paper's CSP model).
	Atomic,
	/// A write has a start and an end; reads in between may see the old or the new value.
	Regular,
}

/// A good primary component's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Primary {
	/// Has not pre-decided.
	Start,
	/// Writing `V1` (regular registers only).
	Writing,
	/// Reading started flags: the good backups read as not started (a bit set), and how many
	/// bad ones (their answers do not depend on time, so only the count matters).
	Checking(u16, u8),
	/// Finalised `V1`.
	Final,
	/// Pre-decided `Null`: does nothing more.
	Stopped,
}

/// A good backup component's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backup {
	/// Before its timeout.
	Idle,
	/// Setting its started flag (regular registers only).
	Starting,
	/// Reading primary locations: the good primaries read as `V1` and as `Null` (bit sets),
	/// and how many bad primaries were read as `V1` and as `Null`.
	Checking(u16, u16, u8, u8),
	/// Decided `V1` (`true`) or `V2` (`false`).
	Decided(bool),
}

/// The model's state (good components only: bad ones have no state worth keeping).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State {
	/// Good primary components.
	pub primaries: Vec<Primary>,
	/// Good backup components.
	pub backups: Vec<Backup>,
}

/// All permutations of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
	if n == 0 {
		return vec![Vec::new()];
	}
	let mut out = Vec::new();
	for p in permutations(n - 1) {
		for at in 0..=p.len() {
			let mut q = p.clone();
			q.insert(at, n - 1);
			out.push(q);
		}
	}
	out
}

/// `bits` with bit `i` moved to bit `perm[i]`.
fn permute_bits(bits: u16, perm: &[usize]) -> u16 {
	perm.iter().enumerate().fold(0, |acc, (i, to)| acc | (((bits >> i) & 1) << to))
}

impl State {
	/// The state with good primaries renamed by `pg` and good backups by `ph`.
	fn renamed(&self, pg: &[usize], ph: &[usize]) -> State {
		let mut primaries = self.primaries.clone();
		for (i, p) in self.primaries.iter().enumerate() {
			primaries[pg[i]] = match *p {
				Primary::Checking(seen, bad) => Primary::Checking(permute_bits(seen, ph), bad),
				other => other,
			};
		}
		let mut backups = self.backups.clone();
		for (j, b) in self.backups.iter().enumerate() {
			backups[ph[j]] = match *b {
				Backup::Checking(v1s, nulls, bv, bn) => {
					Backup::Checking(permute_bits(v1s, pg), permute_bits(nulls, pg), bv, bn)
				}
				other => other,
			};
		}
		State { primaries, backups }
	}
}

/// Good components of one kind are interchangeable: the representative of a state is the least
/// of its renamings (symmetry reduction; checked with depth-first search).
impl Representative for State {
	fn representative(&self) -> Self {
		let (pgs, phs) = (permutations(self.primaries.len()), permutations(self.backups.len()));
		let mut best = self.clone();
		for pg in &pgs {
			for ph in &phs {
				let candidate = self.renamed(pg, ph);
				if candidate < best {
					best = candidate;
				}
			}
		}
		best
	}
}

/// An action of one good component.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
	/// Primary `g` pre-decides.
	PreDecide(usize, Pre),
	/// Primary `g` finishes writing.
	EndWrite(usize),
	/// Primary `g` reads good backup `h`'s flag as not started.
	SeeNotStarted(usize, usize),
	/// Primary `g` reads one more bad backup's flag as not started.
	SeeBadNotStarted(usize),
	/// Backup `h` times out and starts setting its flag.
	Timeout(usize),
	/// Backup `h` finishes setting its flag.
	EndStart(usize),
	/// Backup `h` reads good primary `g`'s location as the given value.
	Read(usize, usize, Pre),
	/// Backup `h` reads one more bad primary's location, which answers the given value.
	ReadBad(usize, Pre),
	/// Backup `h` decides `V1` (`true`) or `V2`.
	Decide(usize, bool),
}

/// The protocol's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
	/// Finalised primaries G needs to decide.
	pub pt: usize,
	/// `V1` pre-decisions a backup must see more than, to decide `V1`.
	pub pdt: usize,
	/// `Null` pre-decisions a backup must see more than, to decide `V2`.
	pub ndt: usize,
	/// Backups that decided a value H needs to decide it.
	pub st: usize,
	/// Backups a primary must read as not started more than, to finalise.
	pub stt: usize,
}

impl Thresholds {
	/// The thresholds of `signals.csp` for `pn` primaries (`pg` good) and `sn` backups (`sg`
	/// good).
	pub fn paper(pn: usize, pg: usize, sn: usize, sg: usize) -> Self {
		let pt = pg / 2 + pn - pg + 1;
		let pdt = (2 * pn).saturating_sub(pg + pt);
		Self { pt, pdt, ndt: pdt, st: sg / 2 + sn - sg + 1, stt: sn - 1 }
	}
}

/// What good primaries pre-decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreDecisions {
	/// Each good primary pre-decides `V1` or `Null` on its own.
	Free,
	/// All good primaries pre-decide the same (the CSP's `CONVERGENCE`).
	Converging,
}

/// The distributed protocol for one configuration.
#[derive(Clone, Debug)]
pub struct DistributedModel {
	/// Primary components.
	pub pn: usize,
	/// Good primary components.
	pub pg: usize,
	/// Backup components.
	pub sn: usize,
	/// Good backup components.
	pub sg: usize,
	/// Atomic or regular registers.
	pub registers: Registers,
	/// The thresholds.
	pub thresholds: Thresholds,
	/// Whether good primaries agree.
	pub pre_decisions: PreDecisions,
}

impl DistributedModel {
	/// The paper's protocol for this configuration, good primaries free to disagree.
	pub fn new(pn: usize, pg: usize, sn: usize, sg: usize, registers: Registers) -> Self {
		let thresholds = Thresholds::paper(pn, pg, sn, sg);
		Self { pn, pg, sn, sg, registers, thresholds, pre_decisions: PreDecisions::Free }
	}

	/// Whether something decided: G, or H either value.
	pub fn anything_decided(&self, s: &State) -> bool {
		self.g_decided(s) || self.h_decided(s, true) || self.h_decided(s, false)
	}

	/// Whether G has decided: good finalised plus every bad primary.
	pub fn g_decided(&self, s: &State) -> bool {
		let good = s.primaries.iter().filter(|p| **p == Primary::Final).count();
		good + (self.pn - self.pg) >= self.thresholds.pt
	}

	/// Whether H has decided `v1` (`true` for V1): good deciders plus every bad backup.
	pub fn h_decided(&self, s: &State, v1: bool) -> bool {
		let good = s.backups.iter().filter(|b| **b == Backup::Decided(v1)).count();
		good + (self.sn - self.sg) >= self.thresholds.st
	}

	/// The values a read of good primary `g`'s location may return now.
	fn location(&self, s: &State, g: usize) -> Vec<Pre> {
		match s.primaries[g] {
			Primary::Start | Primary::Stopped => vec![Pre::Null],
			Primary::Writing => vec![Pre::Null, Pre::V1],
			Primary::Checking(..) | Primary::Final => vec![Pre::V1],
		}
	}

	/// Whether a read of good backup `h`'s flag may return "not started" now.
	fn may_read_not_started(&self, s: &State, h: usize) -> bool {
		matches!(s.backups[h], Backup::Idle | Backup::Starting)
	}
}

impl Model for DistributedModel {
	type State = State;
	type Action = Action;

	fn init_states(&self) -> Vec<State> {
		vec![State {
			primaries: vec![Primary::Start; self.pg],
			backups: vec![Backup::Idle; self.sg],
		}]
	}

	fn actions(&self, s: &State, actions: &mut Vec<Action>) {
		for (g, p) in s.primaries.iter().enumerate() {
			match p {
				Primary::Start => {
					// Converging primaries follow the first one to pre-decide.
					let first = s.primaries.iter().find_map(|p| match p {
						Primary::Start => None,
						Primary::Stopped => Some(Pre::Null),
						_ => Some(Pre::V1),
					});
					for pre in [Pre::V1, Pre::Null] {
						if self.pre_decisions == PreDecisions::Free
							|| first.is_none_or(|f| f == pre)
						{
							actions.push(Action::PreDecide(g, pre));
						}
					}
				}
				Primary::Writing => actions.push(Action::EndWrite(g)),
				Primary::Checking(seen, bad_seen) => {
					for h in 0..self.sg {
						if seen & (1 << h) == 0 && self.may_read_not_started(s, h) {
							actions.push(Action::SeeNotStarted(g, h));
						}
					}
					if (*bad_seen as usize) < self.sn - self.sg {
						actions.push(Action::SeeBadNotStarted(g));
					}
				}
				Primary::Final | Primary::Stopped => {}
			}
		}
		for (h, b) in s.backups.iter().enumerate() {
			match b {
				Backup::Idle => actions.push(Action::Timeout(h)),
				Backup::Starting => actions.push(Action::EndStart(h)),
				Backup::Checking(v1s, nulls, bad_v1s, bad_nulls) => {
					for g in 0..self.pg {
						if (v1s | nulls) & (1 << g) != 0 {
							continue;
						}
						for value in self.location(s, g) {
							actions.push(Action::Read(h, g, value));
						}
					}
					if ((bad_v1s + bad_nulls) as usize) < self.pn - self.pg {
						actions.push(Action::ReadBad(h, Pre::V1));
						actions.push(Action::ReadBad(h, Pre::Null));
					}
					if v1s.count_ones() as usize + *bad_v1s as usize > self.thresholds.pdt {
						actions.push(Action::Decide(h, true));
					}
					if nulls.count_ones() as usize + *bad_nulls as usize > self.thresholds.ndt {
						actions.push(Action::Decide(h, false));
					}
				}
				Backup::Decided(_) => {}
			}
		}
	}

	fn next_state(&self, s: &State, action: Action) -> Option<State> {
		let mut n = s.clone();
		let regular = self.registers == Registers::Regular;
		match action {
			Action::PreDecide(g, Pre::V1) => {
				n.primaries[g] = if regular { Primary::Writing } else { Primary::Checking(0, 0) }
			}
			Action::PreDecide(g, Pre::Null) => n.primaries[g] = Primary::Stopped,
			Action::EndWrite(g) => n.primaries[g] = Primary::Checking(0, 0),
			Action::SeeNotStarted(g, _) | Action::SeeBadNotStarted(g) => {
				let Primary::Checking(mut seen, mut bad_seen) = n.primaries[g] else { return None };
				match action {
					Action::SeeNotStarted(_, h) => seen |= 1 << h,
					_ => bad_seen += 1,
				}
				// Finalise after seeing more than STT (SN − 1) backups not started.
				n.primaries[g] =
					if seen.count_ones() as usize + bad_seen as usize > self.thresholds.stt {
						Primary::Final
					} else {
						Primary::Checking(seen, bad_seen)
					};
			}
			Action::Timeout(h) => {
				n.backups[h] = if regular { Backup::Starting } else { Backup::Checking(0, 0, 0, 0) }
			}
			Action::EndStart(h) => n.backups[h] = Backup::Checking(0, 0, 0, 0),
			Action::Read(h, g, value) => {
				let Backup::Checking(v1s, nulls, bv, bn) = n.backups[h] else { return None };
				n.backups[h] = match value {
					Pre::V1 => Backup::Checking(v1s | (1 << g), nulls, bv, bn),
					Pre::Null => Backup::Checking(v1s, nulls | (1 << g), bv, bn),
				};
			}
			Action::ReadBad(h, value) => {
				let Backup::Checking(v1s, nulls, bv, bn) = n.backups[h] else { return None };
				n.backups[h] = match value {
					Pre::V1 => Backup::Checking(v1s, nulls, bv + 1, bn),
					Pre::Null => Backup::Checking(v1s, nulls, bv, bn + 1),
				};
			}
			Action::Decide(h, v1) => n.backups[h] = Backup::Decided(v1),
		}
		Some(n)
	}

	fn properties(&self) -> Vec<Property<Self>> {
		vec![
			// The paper's SAFE: G's decision (V1) and H's V2 never both happen.
			Property::always("G and H agree", |m: &DistributedModel, s: &State| {
				!(m.g_decided(s) && m.h_decided(s, false))
			}),
			// The check the CSP file leaves "for later".
			Property::always("H agrees with itself", |m: &DistributedModel, s: &State| {
				!(m.h_decided(s, true) && m.h_decided(s, false))
			}),
			Property::sometimes("G decides", |m: &DistributedModel, s: &State| m.g_decided(s)),
			Property::sometimes("H decides V1", |m: &DistributedModel, s: &State| {
				m.h_decided(s, true)
			}),
			Property::sometimes("H decides V2", |m: &DistributedModel, s: &State| {
				m.h_decided(s, false)
			}),
			// The CSP's `LIVE`: on every path that runs to its end, something decides.
			Property::eventually("something decides", |m: &DistributedModel, s: &State| {
				m.anything_decided(s)
			}),
		]
	}
}
