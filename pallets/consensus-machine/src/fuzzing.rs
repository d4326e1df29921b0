//! # Fuzzed dispatch
//!
//! Arbitrary bytes drive a sequence of calls against the test runtime (System, Balances, this
//! pallet and `pallet-pickets`, see [`crate::mock`]). Each step reads an opcode, then what it
//! needs. Most steps build calls that can pass (a registration with a valid proof of
//! possession, a picket's statement for a seat it holds signed with its key, a certificate of
//! several seats, an equivocation report of two signed statements), with their parts bent by
//! the input (another signer, another body, a seat not held, an unknown round, a bond below the
//! minimum, ...); one step decodes the raw bytes as a runtime call and, if it is a call of this
//! pallet or of `pallet-pickets` (a root call of System could rewrite any storage), dispatches
//! it from an origin the input picks. Fee-less calls go through their authorise step first, as
//! the pool and the block builder do, and are dispatched only if it passes. Blocks advance
//! (with `on_initialize`, and `on_idle` given as much or as little weight as the input says)
//! whenever the input asks.
//!
//! Whatever the input, [`run`] checks that nothing panics; that a call refused by its
//! authorise step or failing in dispatch leaves the storage root as it was; after every block,
//! that the total issuance is the genesis one (slashes move funds to the treasury, nothing is
//! minted or burnt); and, at the end of the input, that both pallets' `try_state` pass.
//! [`run_checking_every_block`] runs `try_state` after every block too: many times slower, it
//! finds a broken invariant at the block that broke it, even one a later block would repair.
//!
//! Each input starts from a genesis built once per thread and restored from its trie nodes,
//! and the storage is committed after every step, as a node commits each block: the
//! storage roots compared around a call then hash only what changed in the step. (Left
//! uncommitted, every root hashed all changes since genesis, most of a run's time.)
//!
//! The pallet's tests run [`run`] on random inputs (proptest) and replay the saved corpus
//! (`fuzz/corpus/dispatch`) with every block checked; `fuzz/` runs both under libFuzzer with
//! `cargo fuzz` (targets `dispatch` and `dispatch_every_block`). The corpus starts from
//! [`seeds`]: the simulation's attacks and the hostile table's calls, written in the
//! fuzzer's own language.

use crate::{
	mock::*,
	offchain::Evaluate,
	pallet::*,
	types::{EquivocationProof, LevelSpec, RoundKind},
	Call as CmCall,
};
use codec::Decode;
use consensus_machine_primitives::{
	light::Verdict,
	statement::{Body, RoundId, Statement},
	EpsilonArg, ProbabilityArg,
};
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{Authorize, Hooks},
	weights::Weight,
};
use pallet_pickets::{Call as PicketsCall, Event as PicketsEvent};
use sp_core::{sr25519, Pair as _};
use sp_runtime::{traits::Dispatchable, StateVersion};

/// Steps one input may take at most (so that every input runs in bounded time).
pub const MAX_STEPS: u32 = 300;
/// Accounts that act: 1..=10 are bonded agents at genesis, all have funds.
const ACCOUNTS: u32 = 40;
/// Fresh picket keys (for registrations and rotations) are those of ids `FRESH..FRESH+KEYS`.
const FRESH: u64 = 200;
const KEYS: u32 = 40;

/// What one run did: how many calls of each outcome, blocks, and what the pallet recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
	/// Calls made.
	pub calls: u32,
	/// Calls that succeeded.
	pub succeeded: u32,
	/// Calls that failed in dispatch (storage unchanged).
	pub failed: u32,
	/// Fee-less calls their authorise step refused (storage unchanged).
	pub refused: u32,
	/// Blocks run.
	pub blocks: u32,
	/// Rounds whose committee was drawn.
	pub drawn: u32,
	/// Statements recorded.
	pub statements: u32,
	/// Certificates recorded (decisions).
	pub decisions: u32,
	/// Handovers to a backup level.
	pub handovers: u32,
	/// Offences recorded.
	pub offences: u32,
	/// Penalties applied (slashes).
	pub slashes: u32,
	/// Greens challenged from outside their committee.
	pub challenges: u32,
}

impl core::ops::AddAssign for Stats {
	fn add_assign(&mut self, o: Self) {
		self.calls += o.calls;
		self.succeeded += o.succeeded;
		self.failed += o.failed;
		self.refused += o.refused;
		self.blocks += o.blocks;
		self.drawn += o.drawn;
		self.statements += o.statements;
		self.decisions += o.decisions;
		self.handovers += o.handovers;
		self.offences += o.offences;
		self.slashes += o.slashes;
		self.challenges += o.challenges;
	}
}

/// Runs the calls `data` describes from genesis, checking the invariants above (`try_state`
/// at the end); panics if one breaks. Returns what the run did.
pub fn run(data: &[u8]) -> Stats {
	run_with(data, false)
}

/// [`run`], with both pallets' `try_state` after every block as well.
pub fn run_checking_every_block(data: &[u8]) -> Stats {
	run_with(data, true)
}

fn run_with(data: &[u8], every_block: bool) -> Stats {
	let mut fuzzer = Fuzzer { input: data, stats: Stats::default(), issuance: 0, every_block };
	let mut ext = genesis();
	fuzzer.issuance = ext.execute_with(Balances::total_issuance);
	let mut steps = 0;
	while !fuzzer.input.is_empty() && steps < MAX_STEPS {
		steps += 1;
		ext.execute_with(|| fuzzer.step());
		// Committed after each step, as a node commits each block: the storage roots compared
		// around a call then hash what changed since the step began, not everything since
		// genesis (which made them most of a run's time).
		ext.commit_all().expect("no storage transaction is left open");
	}
	ext.execute_with(|| {
		// A few empty blocks: what is due (draws, penalties, exits, pruning) happens too.
		for _ in 0..3 {
			fuzzer.next_block(Weight::MAX);
		}
		if let Err(e) = Pickets::do_try_state().and_then(|_| ConsensusMachine::do_try_state()) {
			panic!("try_state fails at the end: {e:?}");
		}
	});
	fuzzer.stats
}

/// The test runtime at genesis. Built once per thread, then restored from its trie nodes for
/// each input (no genesis build, no trie to compute).
fn genesis() -> sp_io::TestExternalities {
	type Snapshot = (Vec<(Vec<u8>, (Vec<u8>, i32))>, sp_core::H256);
	thread_local! {
		static GENESIS: Snapshot = {
			let mut ext = ExtBuilder::default().build();
			ext.commit_all().expect("genesis commits");
			ext.into_raw_snapshot()
		};
	}
	GENESIS.with(|(nodes, root)| {
		sp_io::TestExternalities::from_raw_snapshot(nodes.clone(), *root, StateVersion::V1)
	})
}

/// A signature by `signer`'s picket key on `payload`, made once per thread and then reused:
/// every input starts from the same genesis, so the same statements and proofs come back again
/// and again, and signing them afresh was a tenth of a run. Any valid signature will do: the
/// pallet verifies each one it is given. Forgotten past `SIGNATURES` entries (memory stays
/// bounded in long runs).
fn signed(signer: AccountId, payload: Vec<u8>) -> crate::crypto::Signature {
	const SIGNATURES: usize = 100_000;
	thread_local! {
		static MADE: core::cell::RefCell<
			std::collections::BTreeMap<(AccountId, Vec<u8>), crate::crypto::Signature>,
		> = const { core::cell::RefCell::new(std::collections::BTreeMap::new()) };
	}
	MADE.with(|made| {
		let mut made = made.borrow_mut();
		if made.len() >= SIGNATURES {
			made.clear();
		}
		made.entry((signer, payload))
			.or_insert_with_key(|(signer, payload)| pair(*signer).sign(payload).into())
			.clone()
	})
}

/// `signer`'s signature on `statement` (shadows the mock's, which signs afresh).
fn sign(signer: AccountId, statement: &Statement) -> crate::crypto::Signature {
	signed(signer, statement.signing_payload())
}

/// `signer`'s proof of possession for account `who` (shadows the mock's, which signs afresh).
fn proof(signer: AccountId, who: AccountId) -> crate::crypto::Signature {
	let payload = consensus_machine_primitives::statement::possession_payload(
		&who,
		&ConsensusMachine::genesis_hash(),
	);
	signed(signer, payload)
}

enum Origin {
	Root,
	Signed(AccountId),
	/// Fee-less: authorised by the call's authorise step, then dispatched.
	FeeLess,
}

struct Fuzzer<'a> {
	input: &'a [u8],
	stats: Stats,
	issuance: Balance,
	/// Run `try_state` after every block, not only at the end.
	every_block: bool,
}

impl Fuzzer<'_> {
	fn byte(&mut self) -> u8 {
		match self.input.split_first() {
			Some((b, rest)) => {
				self.input = rest;
				*b
			}
			None => 0,
		}
	}

	/// A number below `n` (0 when `n` is 0).
	fn below(&mut self, n: u32) -> u32 {
		let x = u32::from_le_bytes([self.byte(), self.byte(), 0, 0]);
		x.checked_rem(n).unwrap_or(0)
	}

	fn pick<T: Clone>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u32) as usize].clone()
	}

	fn account(&mut self) -> AccountId {
		1 + u64::from(self.below(ACCOUNTS))
	}

	fn fresh_key(&mut self) -> AccountId {
		FRESH + u64::from(self.below(KEYS))
	}

	/// A round id: one of the live rounds, or now and then one that does not exist.
	fn round(&mut self) -> RoundId {
		let mut rounds: Vec<RoundId> = Rounds::<Test>::iter_keys().collect();
		rounds.sort();
		let i = self.below(rounds.len() as u32 + 1) as usize;
		rounds.get(i).copied().unwrap_or(NextRoundId::<Test>::get() + u64::from(self.byte()))
	}

	fn step(&mut self) {
		match self.byte() % 16 {
			0..=2 => {
				let blocks = 1 + self.below(4);
				let weight = self.pick(&[Weight::MAX, Weight::zero(), Weight::from_parts(1, 1)]);
				for _ in 0..blocks {
					self.next_block(weight);
				}
			}
			3 => self.register(),
			4 => self.stake(),
			5 => self.create_machine(),
			6 => self.create_hierarchical_machine(),
			7 => {
				let machine = self.below(NextMachineId::<Test>::get() + 1);
				let (who, subject) = (self.account(), h(self.byte()));
				self.dispatch(Origin::Signed(who), CmCall::commit_round { machine, subject });
			}
			8 => self.propose(),
			9 | 10 => self.statement(),
			11 => self.certificate(),
			12 => self.equivocation(),
			13 => self.backup_vote(),
			14 => self.housekeeping(),
			_ => self.raw(),
		}
	}

	/// Ends the block and starts the next, then checks the invariants.
	fn next_block(&mut self, idle: Weight) {
		for record in System::events() {
			let s = &mut self.stats;
			match record.event {
				RuntimeEvent::ConsensusMachine(event) => match event {
					Event::RoundDrawn { .. } => s.drawn += 1,
					Event::StatementRecorded { .. } => s.statements += 1,
					Event::CertificateRecorded { .. } => s.decisions += 1,
					Event::HandoverStarted { .. } => s.handovers += 1,
					Event::GreenChallenged { .. } => s.challenges += 1,
					_ => {}
				},
				RuntimeEvent::Pickets(event) => match event {
					PicketsEvent::OffenceRecorded { .. } => s.offences += 1,
					PicketsEvent::PenaltyApplied { .. } => s.slashes += 1,
					_ => {}
				},
				_ => {}
			}
		}
		System::reset_events();
		let now = System::block_number() + 1;
		System::set_block_number(now);
		ConsensusMachine::on_initialize(now);
		Pickets::on_initialize(now);
		let used = ConsensusMachine::on_idle(now, idle);
		Pickets::on_idle(now, idle.saturating_sub(used));
		self.stats.blocks += 1;
		if self.every_block {
			if let Err(e) = Pickets::do_try_state().and_then(|_| ConsensusMachine::do_try_state()) {
				panic!("try_state fails at block {now}: {e:?}");
			}
		}
		assert_eq!(Balances::total_issuance(), self.issuance, "issuance changed at block {now}");
	}

	/// Dispatches `call` from `origin`: a refused or failing call must change nothing.
	fn dispatch(&mut self, origin: Origin, call: impl Into<RuntimeCall>) {
		let call: RuntimeCall = call.into();
		let before = sp_io::storage::root(StateVersion::V1);
		self.stats.calls += 1;
		let result = match origin {
			Origin::Root => call.clone().dispatch(RuntimeOrigin::root()),
			Origin::Signed(who) => call.clone().dispatch(RuntimeOrigin::signed(who)),
			Origin::FeeLess => {
				// The authorise step runs in the pool too: it must write nothing, valid or not.
				let authorized = call.authorize(TransactionSource::External);
				let after = sp_io::storage::root(StateVersion::V1);
				assert_eq!(before, after, "authorising {call:?} ({authorized:?}) changed storage");
				match authorized {
					Some(Ok(_)) => {
						call.clone().dispatch(frame_system::RawOrigin::Authorized.into())
					}
					_ => {
						self.stats.refused += 1;
						return;
					}
				}
			}
		};
		match result {
			Ok(_) => self.stats.succeeded += 1,
			Err(e) => {
				self.stats.failed += 1;
				let after = sp_io::storage::root(StateVersion::V1);
				assert_eq!(before, after, "{call:?} failed ({e:?}) and changed storage");
			}
		}
	}

	fn register(&mut self) {
		let (who, fresh) = (self.account(), self.fresh_key());
		// Mostly a valid proof; sometimes by another key, or for another account.
		let proof = match self.byte() % 4 {
			0 => proof(self.fresh_key(), who),
			1 => proof(fresh, self.account()),
			_ => proof(fresh, who),
		};
		let bond = self.pick(&[MIN_BOND - 1, MIN_BOND, 500, 5_000, 20_000]);
		self.dispatch(Origin::Signed(who), PicketsCall::register { key: key(fresh), bond, proof });
	}

	fn stake(&mut self) {
		let who = self.account();
		let call = match self.byte() % 5 {
			0 => PicketsCall::bond_extra { amount: self.pick(&[0, 1, 100, 5_000, 20_000]) },
			1 => PicketsCall::unbond {},
			2 => PicketsCall::withdraw_unbonded {},
			3 => PicketsCall::rejoin {},
			_ => {
				let fresh = self.fresh_key();
				let signer = if self.byte() % 4 == 0 { self.fresh_key() } else { fresh };
				PicketsCall::rotate_key { key: key(fresh), proof: proof(signer, who) }
			}
		};
		self.dispatch(Origin::Signed(who), call);
	}

	fn probability(&mut self) -> ProbabilityArg {
		let (num, den) =
			self.pick(&[(1, 10), (1, 100), (1, 20), (1, 5), (1, 3), (1, 2), (3, 2), (1, 0)]);
		ProbabilityArg { num, den }
	}

	fn epsilon(&mut self) -> EpsilonArg {
		let (num, den) =
			self.pick(&[(1, 1_000), (1, 1_000_000), (1, 1_000_000_000), (1, 2), (0, 0)]);
		EpsilonArg { num, den }
	}

	fn create_machine(&mut self) {
		let call = CmCall::create_machine {
			slots: self.below(MAX_COMMITTEE + 2),
			p: self.probability(),
			epsilon: self.epsilon(),
			timeout: u64::from(self.below(MAX_ROUND_DURATION as u32 + 2)),
			round_deposit: self.pick(&[0, 50, 20_000]),
			initial_state: h(self.byte()),
		};
		let origin =
			if self.byte() % 8 == 0 { Origin::Signed(self.account()) } else { Origin::Root };
		self.dispatch(origin, call);
	}

	fn create_hierarchical_machine(&mut self) {
		// Mostly a sound machine (a primary of 4 or 6 slots, complete backups, p = 1/100), so
		// that rounds hand over; otherwise levels as the input says.
		let sound = self.byte() % 4 != 0;
		// Up to one level more than `MAX_LEVELS` when not sound.
		let count =
			if sound { 2 + self.below(2) } else { self.below(crate::types::MAX_LEVELS + 2) };
		let levels = (0..count)
			.map(|i| match (sound, i) {
				(true, _) => LevelSpec {
					slots: if i == 0 { self.pick(&[4, 6]) } else { self.pick(&[10, 16]) },
					p: ProbabilityArg { num: 1, den: 100 },
					epsilon: EpsilonArg { num: 1, den: 1_000 },
					timeout: 2 + u64::from(self.below(8)),
				},
				(false, _) => LevelSpec {
					slots: if i == 0 {
						1 + self.below(8)
					} else {
						8 + self.below(MAX_COMMITTEE - 7)
					},
					p: self.probability(),
					epsilon: self.epsilon(),
					timeout: u64::from(self.below(20)),
				},
			})
			.collect::<Vec<_>>();
		let call =
			CmCall::create_hierarchical_machine { levels, round_deposit: self.pick(&[0, 50]) };
		self.dispatch(Origin::Root, call);
	}

	fn propose(&mut self) {
		let machine = self.below(NextMachineId::<Test>::get() + 1);
		let size = 1 + self.below(64);
		let object = TestEvaluator::object(size, self.byte() % 3 != 0);
		let size = if self.byte() % 8 == 0 { self.below(5_000) } else { size };
		let who = self.account();
		self.dispatch(Origin::Signed(who), CmCall::propose { machine, object: object.hash, size });
	}

	/// A seat of `round` (or one past its committee), its agent, and its key's id.
	fn seat(&mut self, round: RoundId) -> (u32, Option<AccountId>) {
		let committee = ConsensusMachine::committee(round);
		let index = self.below(committee.len() as u32 + 1);
		let signer = committee.get(index as usize).and_then(|seat| signer_of(&seat.key));
		(index, signer)
	}

	/// What a good picket of `round` would sign (and its evidence), or a plausible statement
	/// for a round without a duty for `signer`.
	fn honest(
		&mut self,
		round: RoundId,
		signer: Option<AccountId>,
	) -> (Statement, Option<Vec<u8>>) {
		let duty = signer
			.and_then(|s| ConsensusMachine::duties(&key(s)).into_iter().find(|d| d.round == round));
		let genesis = ConsensusMachine::genesis_hash();
		match duty {
			Some(duty) => {
				let judgement = TestEvaluator::evaluate(&duty.task)
					.expect("the test evaluator judges every task");
				let statement = Statement {
					genesis,
					machine: duty.machine,
					round,
					instance: duty.instance,
					level: duty.level,
					body: judgement.body,
				};
				(statement, judgement.evidence)
			}
			None => {
				let info = Rounds::<Test>::get(round);
				let statement = Statement {
					genesis,
					machine: info.as_ref().map_or(0, |r| r.machine),
					round,
					instance: info
						.as_ref()
						.and_then(|r| r.draw())
						.map(|d| d.instance)
						.unwrap_or_default(),
					level: info.as_ref().map_or(0, |r| r.level),
					body: Body::Decision { value: Some(h(self.byte())) },
				};
				(statement, None)
			}
		}
	}

	/// Bends a statement the way the input says (or leaves it honest).
	fn bend(&mut self, statement: &mut Statement, evidence: &mut Option<Vec<u8>>) {
		match self.byte() % 10 {
			5 => {
				statement.body = match statement.body {
					Body::Transition { step, from, .. } => {
						Body::Transition { step, from, output: h(self.byte()), to: h(self.byte()) }
					}
					Body::Decision { .. } => {
						Body::Decision { value: (self.byte() % 3 != 0).then(|| h(self.byte())) }
					}
					Body::Verdict { object, .. } => {
						let verdict = self.pick(&[Verdict::Green, Verdict::Amber]);
						*evidence = None;
						Body::Verdict { object, verdict }
					}
				}
			}
			6 => {
				statement.body = Body::Verdict { object: h(self.byte()), verdict: Verdict::Green };
				*evidence = None;
			}
			7 => statement.genesis = h(self.byte()),
			8 => {
				// A red whose evidence proves nothing.
				let bogus = vec![self.byte(); 1 + self.below(8) as usize];
				let object = match statement.body {
					Body::Verdict { object, .. } => object,
					_ => h(self.byte()),
				};
				let hash = sp_io::hashing::blake2_256(&bogus);
				statement.body = Body::Verdict { object, verdict: Verdict::Red { evidence: hash } };
				*evidence = Some(bogus);
			}
			9 => statement.level = statement.level.wrapping_add(1),
			_ => {}
		}
	}

	fn statement(&mut self) {
		let round = self.round();
		let (seat, signer) = self.seat(round);
		let (mut statement, mut evidence) = self.honest(round, signer);
		self.bend(&mut statement, &mut evidence);
		if self.byte() % 16 == 0 {
			// Evidence longer than `MaxEvidenceLen`.
			let max = <<Test as Config>::MaxEvidenceLen as frame_support::traits::Get<u32>>::get();
			evidence = Some(vec![self.byte(); max as usize + 1]);
		}
		// Mostly the seat's own key; sometimes another's.
		let by = match (signer, self.byte() % 8) {
			(Some(s), 0..=6) => s,
			_ => self.account(),
		};
		let call = CmCall::submit_statement {
			statement: statement.clone(),
			seat,
			signature: sign(by, &statement),
			evidence,
		};
		self.dispatch(Origin::FeeLess, call);
	}

	fn certificate(&mut self) {
		let round = self.round();
		let committee = ConsensusMachine::committee(round);
		let first = committee.first().and_then(|s| signer_of(&s.key));
		let (mut statement, mut evidence) = self.honest(round, first);
		if self.byte() % 4 == 0 {
			self.bend(&mut statement, &mut evidence);
		}
		let count = self.below(committee.len() as u32 + 2);
		let mut signatures: Vec<(u32, sr25519::Signature)> = committee
			.iter()
			.enumerate()
			.take(count as usize)
			.filter_map(|(i, seat)| {
				signer_of(&seat.key).map(|s| (i as u32, stored(sign(s, &statement))))
			})
			.collect();
		match self.byte() % 6 {
			0 if !signatures.is_empty() => {
				// One signature by the wrong key.
				let i = self.below(signatures.len() as u32) as usize;
				signatures[i].1 = stored(sign(self.account(), &statement));
			}
			1 if !signatures.is_empty() => signatures.push(signatures[0]),
			2 => signatures.push((self.below(MAX_COMMITTEE * 2), stored(sign(1, &statement)))),
			_ => {}
		}
		let call = CmCall::submit_certificate { statement, signatures };
		let who = self.account();
		self.dispatch(Origin::Signed(who), call);
	}

	fn equivocation(&mut self) {
		let round = self.round();
		let (seat, signer) = self.seat(round);
		let (first, mut evidence) = self.honest(round, signer);
		let mut second = first.clone();
		self.bend(&mut second, &mut evidence);
		let by = signer.unwrap_or_else(|| self.account());
		let membership = ConsensusMachine::membership_proof(round, seat)
			.or_else(|| ConsensusMachine::membership_proof(round, 0));
		let Some(mut membership) = membership else { return };
		if self.byte() % 16 == 0 {
			// A path longer than any committee's.
			let max = consensus_machine_primitives::membership::MAX_PATH as usize;
			membership.path.resize(max + 1, h(self.byte()));
		}
		let proof = Box::new(EquivocationProof {
			first: (first.clone(), stored(sign(by, &first))),
			second: (second.clone(), stored(sign(by, &second))),
		});
		let origin =
			if self.byte() % 2 == 0 { Origin::FeeLess } else { Origin::Signed(self.account()) };
		self.dispatch(origin, CmCall::report_equivocation { membership, proof });
	}

	fn backup_vote(&mut self) {
		let round = self.round();
		let (seat, signer) = self.seat(round);
		let (mut statement, mut evidence) = self.honest(round, signer);
		if !matches!(Rounds::<Test>::get(round).map(|r| r.kind), Some(RoundKind::Backup { .. }))
			|| self.byte() % 2 == 0
		{
			self.bend(&mut statement, &mut evidence);
		}
		let by = signer.unwrap_or_else(|| self.account());
		let signature = stored(sign(by, &statement));
		let who = self.account();
		self.dispatch(
			Origin::Signed(who),
			CmCall::report_backup_vote { seat, statement, signature },
		);
	}

	fn housekeeping(&mut self) {
		let round = self.round();
		let penalty = self.below(pallet_pickets::NextPenaltyId::<Test>::get() + 2);
		let who = self.account();
		match self.byte() % 8 {
			0 => self.dispatch(Origin::Signed(who), CmCall::close_round { round }),
			1 => self.dispatch(Origin::Signed(who), CmCall::start_handover { round }),
			2 => self.dispatch(Origin::FeeLess, CmCall::start_handover { round }),
			3 => self.dispatch(Origin::Signed(who), CmCall::prune_round { round }),
			4 => self.dispatch(Origin::Signed(who), PicketsCall::apply_penalty { penalty }),
			5 => self.dispatch(Origin::Root, PicketsCall::cancel_penalty { penalty }),
			6 => {
				// A challenge from outside the committee: the evidence a good picket would
				// bring against the round's object (when it is a bad one), or bytes that prove
				// nothing.
				let genuine = Rounds::<Test>::get(round)
					.and_then(|r| r.object())
					.and_then(|object| {
						TestEvaluator::evaluate(&crate::types::DutyTask::Verdict { object })
					})
					.and_then(|judgement| judgement.evidence);
				let evidence = match genuine {
					Some(evidence) if self.byte() % 4 != 0 => evidence,
					_ => alloc::vec![self.byte(); self.below(8) as usize],
				};
				self.dispatch(Origin::Signed(who), CmCall::challenge_green { round, evidence });
			}
			_ => {
				let machine = self.below(NextMachineId::<Test>::get() + 1);
				let opener = (self.byte() % 2 == 0).then(|| self.account());
				self.dispatch(Origin::Root, CmCall::set_machine_opener { machine, opener });
			}
		}
	}

	/// The rest of the input's bytes as a SCALE-encoded runtime call, dispatched from an origin
	/// the input picks if it is a call of this pallet or of `pallet-pickets`.
	fn raw(&mut self) {
		let origin = match self.byte() % 4 {
			0 => Origin::Root,
			1 => Origin::FeeLess,
			_ => Origin::Signed(self.account()),
		};
		let mut bytes = self.input;
		match RuntimeCall::decode(&mut bytes) {
			// The two pallets' calls only: a root call of System could rewrite any storage.
			Ok(call @ (RuntimeCall::ConsensusMachine(_) | RuntimeCall::Pickets(_))) => {
				self.input = bytes;
				self.dispatch(origin, call);
			}
			// Not a call of theirs: skip a byte, so that the rest of the input still drives steps.
			_ => {
				self.byte();
			}
		}
	}
}

/// The id whose test pair has `key` (an agent's first key, or a fresh one), if any. The
/// table is made once per thread.
fn signer_of(key: &crate::crypto::Public) -> Option<AccountId> {
	thread_local! {
		static SIGNERS: std::collections::BTreeMap<crate::crypto::Public, AccountId> =
			(1..=u64::from(ACCOUNTS))
				.chain(FRESH..FRESH + u64::from(KEYS))
				.map(|id| (crate::mock::key(id), id))
				.collect();
	}
	SIGNERS.with(|signers| signers.get(key).copied())
}

/// Inputs written in the fuzzer's own language that replay what the Byzantine simulation's
/// adversary and the hostile-input table do against the test runtime: a flood of opens from
/// several accounts, a malformed object sent to a one-slot machine whose seat calls it green
/// and a challenger who overturns it, an honest object facing an equivocation, a false red and
/// a red whose chunk proof is relabelled to another index, a hierarchical
/// round handed over to its backup, and the table's bad calls one after another. The corpus
/// starts from them (`cargo run --release -p pallet-consensus-machine --features fuzzing
/// --example fuzz_replay -- --seeds DIR` writes them), so that libFuzzer mutates deep
/// sequences from its first execution; the pallet's tests check that each still reaches what
/// it is for.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
	let p = |num, den| ProbabilityArg { num, den };
	let eps = |num, den| EpsilonArg { num, den };
	let machine = |slots, p, epsilon, timeout| CmCall::<Test>::create_machine {
		slots,
		p,
		epsilon,
		timeout,
		round_deposit: 50,
		initial_state: h(0),
	};
	let judge = |slots, timeout| machine(slots, p(1, 100), eps(1, 1_000), timeout);
	let propose = |object: consensus_machine_primitives::light::ObjectRef| {
		CmCall::<Test>::propose { machine: 0, object: object.hash, size: object.size }
	};
	let level = |slots, timeout| LevelSpec { slots, p: p(1, 100), epsilon: eps(1, 1_000), timeout };
	// Rounds of an oracle are one per subject (a flat machine's are one at a time).
	let oracle = CmCall::<Test>::create_hierarchical_machine {
		levels: alloc::vec![level(4, 3), level(10, 6)],
		round_deposit: 50,
	};
	let bad = TestEvaluator::object(19, false);
	let good = TestEvaluator::object(19, true);

	let mut flood = Seed::default();
	flood.raw(Origin::Root, oracle.clone());
	// Three accounts fill the queue (4 places each of 12); the first one's fifth open is
	// refused, then a fourth account is refused until the queue has drawn.
	for (account, opens) in [(20, 5), (21, 4), (22, 4), (23, 1)] {
		for subject in 0..opens {
			flood.raw(
				Origin::Signed(account),
				CmCall::commit_round { machine: 0, subject: h(subject) },
			);
		}
	}
	// Drawn two blocks after their commitment (fresh randomness), four a block.
	flood.blocks(2);
	flood.raw(Origin::Signed(23), CmCall::commit_round { machine: 0, subject: h(9) });
	flood.blocks(12);

	let mut weak = Seed::default();
	weak.raw(Origin::Root, machine(1, p(1, 100), eps(1, 10), 5));
	weak.raw(Origin::Signed(11), propose(bad));
	weak.blocks(2);
	// The lone seat says green (the honest verdict bent to its first alternative)...
	weak.statement(0, 0, &[5, 0, 0]);
	// ... and a challenger outside the committee brings the red evidence.
	weak.challenge(0, 12);
	weak.blocks(12);

	let mut attacks = Seed::default();
	attacks.raw(Origin::Root, judge(10, 10));
	attacks.raw(Origin::Signed(11), propose(good));
	attacks.blocks(2);
	// Its committee: 8 seats, seats 1 and 6 of two slots. Seat 0 signs green and amber
	// (reported at once: suspended, its green is refused); seat 1 (two slots) a red whose
	// evidence proves nothing; seat 3 a red whose evidence is the honest object's last chunk
	// proof relabelled; the rest green. Four bad slots of ten, one more than the green
	// threshold of seven tolerates: the round ends undecided, three offences recorded.
	attacks.equivocation(0, 0, &[5, 1, 0]);
	attacks.statement(0, 0, &[0]);
	attacks.statement(0, 1, &[8, 7, 2, 0]);
	let relabelled = attacks.relabelled_red(0, 3);
	attacks.raw(Origin::FeeLess, relabelled);
	for seat in [2, 4, 5, 6, 7] {
		attacks.statement(0, seat, &[0]);
	}
	attacks.blocks(16);

	let mut handover = Seed::default();
	handover.raw(Origin::Root, oracle);
	handover.raw(Origin::Signed(11), CmCall::commit_round { machine: 0, subject: h(2) });
	handover.blocks(2);
	handover.statement(0, 0, &[0]);
	handover.blocks(4);
	handover.handover(0);
	handover.blocks(2);
	for seat in 0..10 {
		handover.statement(1, seat, &[0]);
	}
	handover.blocks(16);

	let mut hostile = Seed::default();
	hostile.raw(Origin::Root, judge(10, 10));
	let max = <<Test as Config>::MaxEvidenceLen as frame_support::traits::Get<u32>>::get();
	// Proofs of possession sign the genesis hash, read from storage.
	let calls: alloc::vec::Vec<(Origin, RuntimeCall)> = genesis().execute_with(|| {
		alloc::vec![
			(Origin::Root, judge(0, 10).into()),
			(Origin::Root, judge(MAX_COMMITTEE + 1, 10).into()),
			(Origin::Root, machine(10, p(1, 0), eps(1, 1_000), 10).into()),
			(Origin::Root, machine(10, p(1, 100), eps(0, 0), 10).into()),
			(Origin::Root, judge(10, MAX_ROUND_DURATION + 1).into()),
			(Origin::Signed(5), judge(10, 10).into()),
			(Origin::Signed(11), CmCall::commit_round { machine: 7, subject: h(1) }.into()),
			(Origin::Signed(11), CmCall::propose { machine: 0, object: bad.hash, size: 0 }.into()),
			(Origin::Signed(11), CmCall::propose { machine: 7, object: bad.hash, size: 19 }.into()),
			(
				Origin::Signed(11),
				CmCall::challenge_green { round: 99, evidence: alloc::vec![0; 3] }.into()
			),
			(
				Origin::Signed(11),
				CmCall::challenge_green { round: 0, evidence: alloc::vec![0; max as usize + 1] }
					.into()
			),
			(
				Origin::Signed(20),
				PicketsCall::register { key: key(200), bond: MIN_BOND - 1, proof: proof(200, 20) }
					.into()
			),
			(
				Origin::Signed(20),
				PicketsCall::register { key: key(200), bond: MIN_BOND, proof: proof(200, 21) }
					.into()
			),
			(Origin::Signed(11), PicketsCall::apply_penalty { penalty: 5 }.into()),
			(Origin::Root, PicketsCall::cancel_penalty { penalty: 5 }.into()),
			(Origin::Signed(11), CmCall::close_round { round: 99 }.into()),
			(Origin::Signed(11), CmCall::prune_round { round: 99 }.into()),
			(Origin::FeeLess, CmCall::start_handover { round: 99 }.into()),
			(Origin::Signed(1), PicketsCall::unbond {}.into()),
			(Origin::Signed(1), PicketsCall::withdraw_unbonded {}.into()),
		]
	});
	for (origin, call) in calls {
		hostile.raw(origin, call);
	}
	hostile.blocks(4);

	alloc::vec![
		("seed-flood", flood.0),
		("seed-weak-machine", weak.0),
		("seed-attacks-on-an-honest-object", attacks.0),
		("seed-handover", handover.0),
		("seed-hostile-calls", hostile.0),
	]
}

/// Writes fuzzer input byte by byte, as [`Fuzzer::step`] reads it.
#[derive(Default)]
struct Seed(alloc::vec::Vec<u8>);

impl Seed {
	/// A number [`Fuzzer::below`] reads back (when below its bound).
	fn below(&mut self, x: u16) {
		self.0.extend_from_slice(&x.to_le_bytes());
	}

	/// The `index`-th live round, as [`Fuzzer::round`] reads it (its fallback byte too).
	fn round(&mut self, index: u16) {
		self.below(index);
		self.0.push(0);
	}

	/// A call of this pallet, SCALE-encoded, from `origin` (the raw step).
	fn raw(&mut self, origin: Origin, call: impl Into<RuntimeCall>) {
		self.0.push(15);
		match origin {
			Origin::Root => self.0.push(0),
			Origin::FeeLess => self.0.push(1),
			Origin::Signed(who) => {
				self.0.push(2);
				self.below((who - 1) as u16);
			}
		}
		codec::Encode::encode_to(&call.into(), &mut self.0);
	}

	/// `n` blocks with all the weight `on_idle` wants.
	fn blocks(&mut self, n: u16) {
		for chunk in (0..n).collect::<alloc::vec::Vec<_>>().chunks(4) {
			self.0.push(0);
			self.below(chunk.len() as u16 - 1);
			self.below(0);
		}
	}

	/// The statement of seat `seat` of the `round`-th live round, signed by its holder, bent
	/// as `bend` says (`[0]`: honest).
	fn statement(&mut self, round: u16, seat: u16, bend: &[u8]) {
		self.0.push(9);
		self.round(round);
		self.below(seat);
		self.0.extend_from_slice(bend);
		// Evidence within its bound; the seat's own key.
		self.0.extend_from_slice(&[1, 0]);
	}

	/// Two statements of seat `seat`, the second bent as `bend` says, reported fee-less.
	fn equivocation(&mut self, round: u16, seat: u16, bend: &[u8]) {
		self.0.push(12);
		self.round(round);
		self.below(seat);
		self.0.extend_from_slice(bend);
		self.0.extend_from_slice(&[1, 0]);
	}

	/// A challenge of the `round`-th live round's green by `account`, with the evidence a
	/// good picket holds.
	fn challenge(&mut self, round: u16, account: AccountId) {
		self.0.push(14);
		self.round(round);
		self.below(0);
		self.below((account - 1) as u16);
		self.0.extend_from_slice(&[6, 1]);
	}

	/// A fee-less handover of the `round`-th live round.
	fn handover(&mut self, round: u16) {
		self.0.push(14);
		self.round(round);
		self.below(0);
		self.below(0);
		self.0.push(2);
	}

	/// A red by seat `seat` of the `round`-th live round against its (honest) object, whose
	/// evidence is the object's last chunk proof relabelled as chunk 0: found by running the
	/// input so far, as the fuzzer will.
	fn relabelled_red(&self, round: usize, seat: u32) -> CmCall<Test> {
		let mut fuzzer =
			Fuzzer { input: &self.0, stats: Stats::default(), issuance: 0, every_block: false };
		let mut ext = genesis();
		fuzzer.issuance = ext.execute_with(Balances::total_issuance);
		while !fuzzer.input.is_empty() {
			ext.execute_with(|| fuzzer.step());
		}
		ext.execute_with(|| {
			let mut rounds: alloc::vec::Vec<RoundId> = Rounds::<Test>::iter_keys().collect();
			rounds.sort();
			let id = rounds[round];
			let info = Rounds::<Test>::get(id).expect("a live round");
			let object = info.object().expect("a validity round");
			let chunks = TestEvaluator::chunks(object.size, true);
			let last = chunks.len() as u32 - 1;
			let genuine =
				consensus_machine_primitives::light::MerkleChunks::<CHUNK>::evidence(&chunks, last)
					.expect("the last chunk");
			let mut forged =
				consensus_machine_primitives::light::ChunkEvidence::decode(&mut &genuine[..])
					.expect("genuine evidence");
			forged.index = 0;
			let evidence = codec::Encode::encode(&forged);
			let seat_info = ConsensusMachine::committee(id)[seat as usize].clone();
			let signer = signer_of(&seat_info.key).expect("a test key");
			let duty = ConsensusMachine::duties(&key(signer))
				.into_iter()
				.find(|d| d.round == id)
				.expect("the seat's duty");
			let statement = Statement {
				genesis: ConsensusMachine::genesis_hash(),
				machine: duty.machine,
				round: id,
				instance: duty.instance,
				level: duty.level,
				body: Body::Verdict {
					object: object.hash,
					verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
				},
			};
			CmCall::submit_statement {
				signature: sign(signer, &statement),
				statement,
				seat,
				evidence: Some(evidence),
			}
		})
	}
}
