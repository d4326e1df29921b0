//! The pallet's handover against the in-memory machine: traces of votes, certificates and
//! handovers replayed through the real extrinsics (authorise, then dispatch; deadlines
//! advancing; committees drawn) and through [`handover::submit`] and
//! [`handover::start_next_level`] on a [`MemoryRound`], compared after every step.
//!
//! The model-checked machine is the reference; this covers what the model checker cannot
//! see: the pallet's storage adapter, its own guards (deadlines, closed rounds, a handover
//! named by a level that is not the current one, the authorise step), the mapping of
//! committees to seats and slots, and what is stored: every statement with the signature its
//! seat sent, every certificate signature by signature. Traces are every sequence of up to
//! three steps over a small alphabet, and seeded random ones of twenty steps.

use super::*;
use consensus_machine_primitives::handover::{self, MemoryRound, Rules, Store, Vote};
use frame_support::storage::{with_transaction, TransactionOutcome};
use std::collections::BTreeSet;

const LEVEL_TIMEOUT: u64 = 5;

/// One step of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
	/// Seat `seat` (modulo the committee's size) of level `level` votes value `value`
	/// (see [`value`]). At a level that has not started, the statement names that level in
	/// the current level's round.
	Vote { level: u8, seat: u8, value: u8 },
	/// Somebody submits a certificate for `value` at `level`, signed by the seats whose bits
	/// are set in `seats` (seat `i` is bit `i`, modulo the committee's size).
	Certificate { level: u8, seats: u8, value: u8 },
	/// The handover: when the machine would allow it, first refused before the deadline, then
	/// called past it and the next committee drawn; otherwise called as things are.
	Handover,
	/// The handover called with the round of level `level` (if started): the current level's
	/// round behaves as [`Step::Handover`]; an earlier level's must be refused, whatever its
	/// deadline (it would hand the live level over before its time).
	HandoverAt { level: u8 },
}

/// The values of a trace: three hashes and `Null`. (The pallet lists a level's tallies in the
/// order of their values' hashes, h(3) first, the machine in memory in the values' order: the
/// adoption rule must not depend on it.)
fn value(index: u8) -> Option<Hash> {
	match index % 4 {
		0 => Some(h(1)),
		1 => Some(h(2)),
		2 => None,
		_ => Some(h(3)),
	}
}

/// Every key and value under the pallet's storage prefix.
fn pallet_storage() -> Vec<(Vec<u8>, Vec<u8>)> {
	let prefix = sp_io::hashing::twox_128(b"ConsensusMachine").to_vec();
	let mut out = Vec::new();
	let mut key = prefix.clone();
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&prefix) {
			break;
		}
		out.push((
			next.clone(),
			sp_io::storage::get(&next).map(|v| v.to_vec()).unwrap_or_default(),
		));
		key = next;
	}
	out
}

/// The reference side of a trace: the machine in memory; the trace's own record of every
/// accepted vote and of the decided value (kept apart from the machine, which might store
/// something else); and the agents a certificate has convicted of equivocation (the pallet
/// suspends them: they sign nothing more).
#[derive(Clone, Default)]
struct Replica {
	machine: MemoryRound<Hash>,
	votes: std::collections::BTreeMap<(u8, u32), Option<Hash>>,
	/// The signature each accepted vote was signed with, as the seat sent it.
	signatures: std::collections::BTreeMap<(u8, u32), crate::types::StoredSignature>,
	decided: Option<Hash>,
	/// The level that decided.
	decided_at: Option<u8>,
	suspended: BTreeSet<AccountId>,
}

/// The pallet side of a trace: the family's root and the rules; and what the traces did.
struct Harness {
	root: RoundId,
	rules: Rules,
	levels: usize,
	seen: std::cell::RefCell<Seen>,
}

/// What the replayed traces did, to show they reach what matters.
#[derive(Debug, Default)]
struct Seen {
	/// Votes and certificates accepted, and refused.
	accepted: usize,
	refused: usize,
	/// Handovers made.
	handovers: usize,
	/// Handovers that required a value.
	required: usize,
	/// Decisions, by level.
	decisions: [usize; 3],
	/// Agents suspended for equivocating through a certificate.
	suspended: usize,
}

impl Harness {
	/// The rounds of the family's started levels.
	fn rounds(&self) -> Vec<RoundId> {
		family_levels(self.root)
	}

	fn statement(&self, round: RoundId, level: u8, value: Option<Hash>) -> Statement {
		let info = Rounds::<Test>::get(round).expect("a started level's round");
		Statement {
			genesis: ConsensusMachine::genesis_hash(),
			machine: info.machine,
			round,
			instance: info.draw().unwrap().instance,
			level,
			body: Body::Decision { value },
		}
	}

	/// Runs `step` on both sides; panics with `trace` on any difference.
	fn step(&self, replica: &mut Replica, step: Step, trace: &[Step]) {
		let model = &mut replica.machine;
		let before = pallet_storage();
		let rounds = self.rounds();
		let current = *rounds.last().expect("the primary");
		let step = match step {
			Step::HandoverAt { level } if rounds.get(level as usize) == Some(&current) => {
				Step::Handover
			}
			other => other,
		};
		let (pallet_ok, model_ok) = match step {
			Step::HandoverAt { level } => {
				let Some(&round) = rounds.get(level as usize) else { return };
				// Past its deadline (an earlier level's always is), not the current level: an
				// undecided family names the reason.
				let pallet = ConsensusMachine::start_handover(RuntimeOrigin::signed(99), round);
				if model.decisions.is_empty() {
					assert_eq!(
						pallet.map_err(|e| e.error),
						Err(Error::<Test>::HandedOver.into()),
						"an earlier level's handover refused as HandedOver: {step:?} after {trace:?}"
					);
				}
				(pallet.is_ok(), false)
			}
			Step::Vote { level, seat, value: v } => {
				let round = rounds.get(level as usize).copied().unwrap_or(current);
				let committee = seats(round);
				let index = seat as usize % committee.len();
				let seat = &committee[index];
				let statement = self.statement(round, level, value(v));
				let signature = sign(seat.agent, &statement);
				let sent = stored(signature.clone());
				let pallet = authorize(seat.agent, &statement, signature.clone()).is_ok()
					&& ConsensusMachine::submit_statement(
						RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
						statement,
						index as u32,
						signature,
						None,
					)
					.is_ok();
				let vote = Vote::from(value(v));
				let answer = if replica.suspended.contains(&seat.agent) {
					None
				} else {
					handover::submit(model, &self.rules, level, index as u32, seat.slots, &vote)
						.ok()
				};
				if let Some(decided) = answer {
					replica.votes.insert((level, index as u32), value(v));
					replica.signatures.insert((level, index as u32), sent);
					if decided.is_some() {
						replica.decided = value(v);
						replica.decided_at = Some(level);
					}
				}
				(pallet, answer.is_some())
			}
			Step::Certificate { level, seats: bits, value: v } => {
				let Some(&round) = rounds.get(level as usize) else { return };
				let committee = seats(round);
				let mut signers: Vec<u32> = (0..8u32)
					.filter(|i| bits & (1 << i) != 0)
					.map(|i| i % committee.len() as u32)
					.collect();
				signers.dedup();
				signers.sort();
				signers.dedup();
				let statement = self.statement(round, level, value(v));
				let signatures = signers
					.iter()
					.map(|i| (*i, stored(sign(committee[*i as usize].agent, &statement))))
					.collect::<Vec<_>>();
				let sent: std::collections::BTreeMap<u32, _> = signatures.iter().copied().collect();
				let pallet = ConsensusMachine::submit_certificate(
					RuntimeOrigin::signed(99),
					statement,
					signatures,
				)
				.is_ok();
				// The machine's view of a certificate: refused unless the level is current and
				// undecided and its signers reach the threshold; then each signer that has not
				// voted yet votes, in order, until decided; any refusal refuses it all.
				let weight: u32 = signers.iter().map(|i| committee[*i as usize].slots).sum();
				let threshold = self.rules.threshold(level).unwrap_or(u32::MAX);
				let mut scratch = model.clone();
				let vote = Vote::from(value(v));
				let mut ok = scratch.decisions.is_empty()
					&& scratch.level == level
					&& !signers.is_empty()
					&& weight >= threshold
					&& signers
						.iter()
						.all(|i| !replica.suspended.contains(&committee[*i as usize].agent));
				// A signer that already voted keeps its vote; a different one convicts it.
				let (mut convicted, mut voted, mut decided) = (Vec::new(), Vec::new(), false);
				for &i in &signers {
					if !ok {
						break;
					}
					if let Some(earlier) = replica.votes.get(&(level, i)) {
						if *earlier != value(v) {
							convicted.push(committee[i as usize].agent);
						}
						continue;
					}
					let slots = committee[i as usize].slots;
					match handover::submit(&mut scratch, &self.rules, level, i, slots, &vote) {
						Ok(announced) => {
							voted.push(i);
							if announced.is_some() {
								decided = true;
								break;
							}
						}
						Err(_) => ok = false,
					}
				}
				if ok {
					*model = scratch;
					replica.signatures.extend(voted.iter().map(|i| ((level, *i), sent[i])));
					replica.votes.extend(voted.into_iter().map(|i| ((level, i), value(v))));
					if decided {
						replica.decided = value(v);
						replica.decided_at = Some(level);
					}
					self.seen.borrow_mut().suspended += convicted.len();
					replica.suspended.extend(convicted);
				}
				(pallet, ok)
			}
			Step::Handover => {
				let due = model.decisions.is_empty() && (model.level as usize) + 1 < self.levels;
				let handover =
					|| ConsensusMachine::start_handover(RuntimeOrigin::signed(99), current);
				if due {
					assert_noop!(handover(), Error::<Test>::DeadlineNotPassed);
					run_past_deadline(current);
				}
				let pallet = handover().is_ok();
				let expected = handover::start_next_level(model, &self.rules);
				if let (true, Ok(required)) = (pallet, &expected) {
					let next = *self.rounds().last().expect("the new level");
					assert_eq!(
						Rounds::<Test>::get(next).unwrap().required(),
						*required,
						"required value after {trace:?}"
					);
					run_to_draw();
				}
				(pallet, expected.is_ok())
			}
		};
		assert_eq!(pallet_ok, model_ok, "{step:?} accepted by the pallet? after {trace:?}");
		let mut seen = self.seen.borrow_mut();
		match (step, pallet_ok) {
			(Step::Handover, true) => {
				seen.handovers += 1;
				seen.required += usize::from(model.required.contains_key(&model.level));
			}
			(Step::Handover | Step::HandoverAt { .. }, false) => {}
			(Step::HandoverAt { .. }, true) => unreachable!("compared above"),
			(_, true) => seen.accepted += 1,
			(_, false) => seen.refused += 1,
		}
		if pallet_ok {
			if let Some((level, _)) = model.decisions.first() {
				if model.decisions.len() == 1 && !matches!(step, Step::Handover) {
					seen.decisions[*level as usize] += 1;
				}
			}
		}
		drop(seen);
		// A refusal changes nothing (only a due handover advances the blocks, and it is taken).
		if !pallet_ok {
			assert!(
				before == pallet_storage(),
				"a refused {step:?} changed storage after {trace:?}"
			);
		}
		self.compare(replica, trace);
	}

	/// The pallet's state, read through its storage adapter and its root round, equals the
	/// machine's.
	fn compare(&self, replica: &Replica, trace: &[Step]) {
		let model = &replica.machine;
		let suspended: BTreeSet<AccountId> = default_agents()
			.into_iter()
			.filter(|a| ConsensusMachine::ensure_may_sign(a).is_err())
			.collect();
		assert_eq!(suspended, replica.suspended, "suspended agents after {trace:?}");
		let root = Rounds::<Test>::get(self.root).unwrap();
		let store = crate::rounds::handover::FamilyStore::<Test>::new(self.root, root).unwrap();
		let rounds = self.rounds();
		assert_eq!(rounds.len() - 1, model.level as usize, "level after {trace:?}");
		assert_eq!(store.level(), model.level, "adapter level after {trace:?}");
		assert_eq!(family_value(self.root), replica.decided, "decision after {trace:?}");
		for (level, round) in rounds.iter().enumerate() {
			let l = level as u8;
			// Read from storage, not through the adapter under test.
			let mut tallies: Vec<(Hash, u32)> = Tallies::<Test>::iter_prefix(round).collect();
			tallies.retain(|(_, slots)| *slots > 0);
			tallies.sort();
			let mut expected: Vec<(Hash, u32)> = model
				.tallies
				.iter()
				.filter(|((tl, _), _)| *tl == l)
				.map(|((_, v), s)| (*v, *s))
				.collect();
			expected.sort();
			assert_eq!(tallies, expected, "tallies of level {level} after {trace:?}");
			let required = Rounds::<Test>::get(round).and_then(|r| r.required());
			assert_eq!(required, model.required.get(&l).copied(), "required {trace:?}");
			// Each seat's statement, signature by signature: the one its seat sent.
			for seat in 0..seats(*round).len() as u32 {
				let stored = Statements::<Test>::get(round, seat);
				let voted = replica.votes.get(&(l, seat)).map(|value| {
					(Body::Decision { value: *value }, replica.signatures[&(l, seat)])
				});
				assert_eq!(stored, voted, "seat {seat} of level {level} after {trace:?}");
			}
			// The level that decided, and it alone, has a certificate: of its own round and
			// level, for the decided value, with every agreeing seat's own signature in seat
			// order, and their slots.
			let certificate = Certificates::<Test>::get(round);
			assert_eq!(
				certificate.is_some(),
				replica.decided_at == Some(l),
				"a certificate at the deciding level only: level {level} after {trace:?}"
			);
			if let Some(certificate) = certificate {
				let statement = &certificate.statement;
				assert_eq!(
					(statement.round, statement.level, statement.body.clone()),
					(*round, l, Body::Decision { value: replica.decided }),
					"certificate statement of level {level} after {trace:?}"
				);
				let committee = seats(*round);
				let agreeing: Vec<u32> = replica
					.votes
					.iter()
					.filter(|((vl, _), voted)| *vl == l && **voted == replica.decided)
					.map(|((_, seat), _)| *seat)
					.collect();
				let expected: Vec<_> =
					agreeing.iter().map(|seat| (*seat, replica.signatures[&(l, *seat)])).collect();
				assert_eq!(
					certificate.signatures.into_inner(),
					expected,
					"certificate of level {level} after {trace:?}"
				);
				let slots: u32 = agreeing.iter().map(|seat| committee[*seat as usize].slots).sum();
				assert_eq!(
					certificate.slots, slots,
					"certificate slots of level {level} {trace:?}"
				);
			}
		}
	}
}

/// Runs every trace of `traces` on the family of a fresh round of a machine with levels of
/// `slots`, each in a storage transaction rolled back afterwards; returns what they did.
fn replay(slots: &[u32], traces: impl Iterator<Item = Vec<Step>>) -> Seen {
	let mut seen = Seen::default();
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_hierarchical_machine(slots, LEVEL_TIMEOUT);
		let root = open(machine);
		let info = Machines::<Test>::get(machine).unwrap();
		let harness = Harness {
			root,
			rules: ConsensusMachine::rules_of(&info),
			levels: slots.len(),
			seen: Default::default(),
		};
		for trace in traces {
			let _ = with_transaction(|| -> TransactionOutcome<Result<(), DispatchError>> {
				let mut replica = Replica::default();
				for (i, step) in trace.iter().enumerate() {
					harness.step(&mut replica, *step, &trace[..=i]);
				}
				TransactionOutcome::Rollback(Ok(()))
			});
		}
		seen = harness.seen.into_inner();
	});
	println!("{slots:?}: {seen:?}");
	seen
}

/// The small alphabet of the exhaustive traces: agreeing, disagreeing and `Null` votes of two
/// primary seats, certificates, backup votes for two values, a vote at a level the machine
/// does not have, and the handover.
fn alphabet() -> Vec<Step> {
	let vote = |level, seat, value| Step::Vote { level, seat, value };
	vec![
		vote(0, 0, 0),
		vote(0, 1, 0),
		vote(0, 0, 1),
		vote(0, 1, 2),
		Step::Certificate { level: 0, seats: 0b0111, value: 0 },
		vote(1, 0, 0),
		vote(1, 1, 1),
		Step::Certificate { level: 1, seats: 0b1111_1111, value: 1 },
		vote(2, 0, 0),
		Step::Handover,
		Step::HandoverAt { level: 0 },
	]
}

/// Every trace of `1..=length` steps over `alphabet`.
fn every_trace(alphabet: &[Step], length: usize) -> Vec<Vec<Step>> {
	let mut all: Vec<Vec<Step>> = Vec::new();
	let mut layer = vec![Vec::new()];
	for _ in 0..length {
		layer = layer
			.iter()
			.flat_map(|t| {
				alphabet.iter().map(move |s| {
					let mut next = t.clone();
					next.push(*s);
					next
				})
			})
			.collect();
		all.extend(layer.iter().cloned());
	}
	all
}

#[test]
fn every_trace_of_up_to_three_steps_matches_the_machine() {
	// G of 4 slots (threshold 3), H of 10 (threshold 7): 1,463 traces.
	let seen = replay(&[4, 10], every_trace(&alphabet(), 3).into_iter());
	assert!(seen.accepted > 0 && seen.refused > 0 && seen.handovers > 0, "{seen:?}");
	assert!(seen.decisions[0] > 0 && seen.suspended > 0, "{seen:?}");
}

/// A small seeded generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
	fn below(&mut self, n: u64) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0 % n
	}
}

/// `count` traces of `length` steps, mostly votes, over `levels` levels.
fn random_traces(seed: u64, count: usize, length: usize, levels: u8) -> Vec<Vec<Step>> {
	let mut rng = Rng(seed);
	(0..count)
		.map(|_| {
			(0..length)
				.map(|_| match rng.below(12) {
					0 => Step::Handover,
					11 => Step::HandoverAt { level: rng.below(levels as u64) as u8 },
					1 => Step::Certificate {
						level: rng.below(levels as u64) as u8,
						seats: rng.below(256) as u8,
						value: rng.below(4) as u8,
					},
					_ => Step::Vote {
						level: rng.below(levels as u64 + 1) as u8,
						seat: rng.below(16) as u8,
						value: rng.below(4) as u8,
					},
				})
				.collect()
		})
		.collect()
}

#[test]
fn random_traces_match_the_machine_with_two_and_three_levels() {
	for (slots, seed) in [(&[4, 10][..], 7), (&[4, 6, 10][..], 11)] {
		// A middle level of 6 slots (threshold 5, not complete) in the second.
		let levels = slots.len() as u8;
		let seen = replay(slots, random_traces(seed, 150, 20, levels).into_iter());
		assert!(seen.handovers > 0 && seen.required > 0, "{slots:?}: {seen:?}");
		assert!(seen.decisions.iter().all(|d| *d > 0) || levels == 2, "{slots:?}: {seen:?}");
		assert!(seen.decisions[0] > 0 && seen.decisions[1] > 0, "{slots:?}: {seen:?}");
	}
}
