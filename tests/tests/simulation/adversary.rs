//! The bad agents: misbehaviour duty by duty, late and flooded statements, false reds with
//! forged evidence, withdrawing and coming back under new keys, flooding the draw queue, and
//! forging malformed objects for the weakest machine.

use super::*;

/// What a bad agent does with one duty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Bad {
	Silent,
	Late,
	Equivocate,
	LyingPreDecision,
	BreakAdoption,
	FalseRed,
	WrongGreen,
	Flood,
	/// Amber on an object a good picket judges green: a tolerated minority trying to keep it
	/// from green and make its proposer pay.
	AmberMinority,
	/// Every bad agent choosing this in a round signs the same wrong value (derived from the
	/// round), so that bad seats add up.
	Collude,
}

pub(crate) const BAD: [Bad; 10] = [
	Bad::Silent,
	Bad::Late,
	Bad::Equivocate,
	Bad::LyingPreDecision,
	Bad::BreakAdoption,
	Bad::FalseRed,
	Bad::WrongGreen,
	Bad::Flood,
	Bad::AmberMinority,
	Bad::Collude,
];

/// An agent the harness plays (the bad ones, and the dev agents as good ones): its account,
/// picket key, and whether it is bad.
#[derive(Clone)]
pub(crate) struct Adversary {
	pub(crate) account: AccountId,
	pub(crate) key: sr25519::Pair,
	pub(crate) bad: bool,
	/// How many times this bad agent came back under a new account and key.
	pub(crate) generation: u32,
}

/// Flooders: accounts that, for `FLOOD_LENGTH` blocks in every `FLOOD_EVERY`, open as many
/// rounds of the harness's oracle as the pallet lets them, each paying its round's fee. Each
/// holds at most `MaxPendingDrawsPerAccount` places; with the demo driver's and the reporter's
/// own they can fill the queue. The reporter, refused, tries again every block: each of its
/// rounds must be drawn within the flood's length plus one full queue's drain
/// (`MaxPendingDraws / MaxDrawsPerBlock` blocks) and `RandomnessLead` of its first attempt,
/// and every flooded round pays its fee like any other.
pub(crate) const FLOODERS: u32 = 2;

pub(crate) const FLOOD_EVERY: u32 = 250;

pub(crate) const FLOOD_LENGTH: u32 = 12;

/// A forger proposes a malformed object to the weakest machine governance created (one slot,
/// p = 1/100, ε = 1/10) every `FORGE_EVERY` blocks: a bad agent's lone seat may call it green,
/// and a watcher with the evidence must overturn that green; no malformed object may ever be
/// valid for any machine.
pub(crate) const FORGE_EVERY: u32 = 6;

impl Sim {
	pub(crate) fn statement(&self, duty: &Duty<u32>, body: Body) -> Statement {
		Statement {
			genesis: self.genesis,
			machine: duty.machine,
			round: duty.round,
			instance: duty.instance,
			level: duty.level,
			body,
		}
	}

	/// A body of the same kind as `body` that says something else.
	pub(crate) fn another_body(&mut self, body: &Body) -> Body {
		match *body {
			Body::Transition { step, from, .. } => {
				Body::Transition { step, from, output: self.rng.hash(), to: self.rng.hash() }
			}
			Body::Decision { .. } => Body::Decision { value: Some(self.rng.hash()) },
			Body::Verdict { object, verdict } => Body::Verdict {
				object,
				verdict: if verdict == Verdict::Green { Verdict::Amber } else { Verdict::Green },
			},
		}
	}

	pub(crate) fn submission(
		&self,
		who: usize,
		duty: &Duty<u32>,
		body: Body,
		evidence: Option<Vec<u8>>,
	) -> (Statement, sr25519::Signature, RuntimeCall) {
		let statement = self.statement(duty, body);
		let signature = self.adversaries[who].key.sign(&statement.signing_payload());
		let call =
			RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
				statement: statement.clone(),
				seat: duty.seat,
				signature: signature.into(),
				evidence,
			});
		(statement, signature, call)
	}

	/// The bad agents: each new duty gets one of the misbehaviours it allows, the least used.
	pub(crate) fn run_adversaries(&mut self, now: u32) {
		let keys: Vec<pallet_consensus_machine::crypto::Public> =
			self.adversaries.iter().map(|a| a.key.public().into()).collect();
		let mut duties = ConsensusMachine::duties_of(&keys);
		for (who, key) in keys.iter().enumerate() {
			for duty in duties.remove(key).unwrap_or_default() {
				if !self.acted.insert((who, duty.round)) {
					continue;
				}
				// What a good picket says, from the evaluator alone: a decision's value is the
				// oracle's on the subject, whatever the pallet says must be adopted (with at most
				// `p` of the stake bad, a value to adopt can only be one good pickets
				// pre-decided).
				if matches!(duty.task, DutyTask::Decision { required: Some(_), .. }) {
					self.stats.adoption_duties += 1;
				}
				let independent = match &duty.task {
					DutyTask::Decision { subject, required } => {
						let own = DutyTask::Decision { subject: *subject, required: None };
						let good = Evaluator::evaluate(&own).map(|j| j.body);
						if let (Some(required), Some(Body::Decision { value: Some(v) })) =
							(required, &good)
						{
							assert_eq!(
								required, v,
								"seed {}, block {now}: round {} requires a value no good picket \
								 pre-decided",
								self.params.seed, duty.round
							);
						}
						good
					}
					task => Evaluator::evaluate(task).map(|j| j.body),
				};
				// A good picket judges the object red: a green is wrong.
				let red_object =
					matches!(independent, Some(Body::Verdict { verdict: Verdict::Red { .. }, .. }));
				let green_object =
					matches!(independent, Some(Body::Verdict { verdict: Verdict::Green, .. }));
				if let Some(body) = independent {
					let value = body.value_hash();
					let first = *self.honest.entry(duty.round).or_insert(value);
					assert_eq!(
						first, value,
						"seed {}: round {}'s duties disagree",
						self.params.seed, duty.round
					);
				}
				if !self.adversaries[who].bad {
					if let Some(good) = Evaluator::evaluate(&duty.task) {
						let (_, _, call) = self.submission(who, &duty, good.body, good.evidence);
						let delay =
							if self.rng.percent(20) { 1 + self.rng.below(2) as u32 } else { 0 };
						self.schedule(now + delay, Tx::FeeLess(call));
					}
					continue;
				}
				// A bet on a fork (while the budget of such bets lasts): the seat is kept free, and
				// a bad block author forks the chain at the end of this block (see
				// [`Sim::fork_lie`]).
				if !self.bet
					&& self.fork.is_none()
					&& self.stats.fork_lies_reported <= self.stats.forks / 10
					&& duty.deadline > now + 1
					&& !matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
				{
					self.bet = true;
					self.stats.withheld_for_fork += 1;
					continue;
				}
				// Among the acts this duty allows, one of the least used so far (ties at random):
				// duties that allow rare acts (a backup vote with a value to adopt, a verdict)
				// get them.
				let fits = |act: &Bad| match act {
					Bad::LyingPreDecision => {
						matches!(duty.task, DutyTask::Decision { .. }) && duty.level == 0
					}
					Bad::BreakAdoption => {
						matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
					}
					Bad::FalseRed => matches!(duty.task, DutyTask::Verdict { .. }),
					Bad::WrongGreen => red_object,
					Bad::AmberMinority => green_object,
					_ => true,
				};
				let used = |act: &Bad| self.stats.acts.get(act).copied().unwrap_or(0);
				let fewest = BAD.iter().filter(|a| fits(a)).map(used).min().unwrap_or(0);
				let least: Vec<Bad> =
					BAD.iter().copied().filter(|a| fits(a) && used(a) == fewest).collect();
				// The forger's accomplices: a bad agent holding the one-slot machine's seat on a
				// malformed object calls it green. One round in five, every bad seat colludes, so
				// that bad slots add up.
				let act = if duty.machine == self.weak && red_object {
					Bad::WrongGreen
				} else if duty.round % 5 == 0 {
					Bad::Collude
				} else {
					least[self.rng.below(least.len() as u64) as usize]
				};
				*self.stats.acts.entry(act).or_default() += 1;
				self.misbehave(now, who, &duty, act);
			}
		}
	}

	pub(crate) fn misbehave(&mut self, now: u32, who: usize, duty: &Duty<u32>, act: Bad) {
		let Some(good) = Evaluator::evaluate(&duty.task) else { return };
		let account = self.adversaries[who].account.clone();
		match (act, &duty.task) {
			(Bad::Silent, _) => {}
			(Bad::Late, _) => {
				let (_, _, call) = self.submission(who, duty, good.body, good.evidence);
				self.schedule(duty.deadline + 1, Tx::FeeLess(call));
			}
			(Bad::Equivocate, _) => {
				let (first, first_sig, call) =
					self.submission(who, duty, good.body.clone(), good.evidence);
				self.schedule(now, Tx::FeeLess(call));
				let other = self.another_body(&good.body);
				let second = self.statement(duty, other);
				let second_sig = self.adversaries[who].key.sign(&second.signing_payload());
				let membership = ConsensusMachine::membership_proof(duty.round, duty.seat)
					.expect("a drawn seat has a proof");
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_equivocation {
						membership,
						proof: Box::new(EquivocationProof {
							first: (first, first_sig),
							second: (second, second_sig),
						}),
					},
				);
				self.schedule(now + 1, Tx::FeeLess(report));
				self.expected.insert((
					account,
					duty.round,
					format!("{:?}", OffenceKind::Equivocation),
				));
				// It tries to leave with its bond before the report lands.
				self.fleeing.insert(who);
			}
			(Bad::LyingPreDecision, DutyTask::Decision { .. }) if duty.level == 0 => {
				let lie = Body::Decision { value: Some(self.rng.hash()) };
				let (_, _, call) = self.submission(who, duty, lie, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::BreakAdoption, DutyTask::Decision { required: Some(_), .. }) => {
				let lie = Body::Decision { value: Some(self.rng.hash()) };
				let (statement, signature, call) = self.submission(who, duty, lie, None);
				// Refused by the authorise step; its signed statement is reportable.
				self.schedule(now, Tx::Invalid(call));
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_backup_vote {
						seat: duty.seat,
						statement,
						signature,
					},
				);
				self.schedule(now + 1, Tx::Signed(self.reporter.clone(), report));
				self.expected.insert((
					account,
					duty.round,
					format!("{:?}", OffenceKind::BackupRuleViolation),
				));
			}
			(Bad::FalseRed, DutyTask::Verdict { object }) => {
				let evidence = self.forged_evidence(object);
				let body = Body::Verdict {
					object: object.hash,
					verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
				};
				let (_, _, call) = self.submission(who, duty, body, Some(evidence));
				self.schedule(now, Tx::FalseRed(call, account, duty.round));
			}
			(Bad::WrongGreen, DutyTask::Verdict { object }) => {
				let body = Body::Verdict { object: object.hash, verdict: Verdict::Green };
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::AmberMinority, DutyTask::Verdict { object }) => {
				let body = Body::Verdict { object: object.hash, verdict: Verdict::Amber };
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::Collude, task) => {
				let wrong =
					|tag: u8| sp_io::hashing::blake2_256(&(b"collude", duty.round, tag).encode());
				let body = match (task, good.body) {
					(_, Body::Transition { step, from, .. }) => {
						Body::Transition { step, from, output: wrong(0), to: wrong(1) }
					}
					(_, Body::Decision { .. }) => Body::Decision { value: Some(wrong(0)) },
					// Green on a bad object; on a good one, Amber: every bad slot of the round
					// together trying to keep it from green.
					(_, Body::Verdict { object, verdict }) => Body::Verdict {
						object,
						verdict: if verdict == Verdict::Green {
							Verdict::Amber
						} else {
							Verdict::Green
						},
					},
				};
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::Flood, _) => {
				// Another chain, an unknown round, another key's signature: all refused.
				let mut foreign = self.statement(duty, good.body.clone());
				foreign.genesis = self.rng.hash();
				let mut unknown = self.statement(duty, good.body.clone());
				unknown.round = duty.round + 1_000_000;
				let stranger = sr25519::Pair::from_seed(&self.rng.hash());
				let _ = &self.adversaries[who];
				let own = &self.adversaries[who].key;
				let forged = self.statement(duty, good.body);
				let signed = [
					(foreign.clone(), own.sign(&foreign.signing_payload())),
					(unknown.clone(), own.sign(&unknown.signing_payload())),
					(forged.clone(), stranger.sign(&forged.signing_payload())),
				];
				for (statement, signature) in signed {
					let call = RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::submit_statement {
							statement,
							seat: duty.seat,
							signature: signature.into(),
							evidence: None,
						},
					);
					self.schedule(now, Tx::Invalid(call));
				}
			}
			// A misbehaviour that does not fit the duty: the good statement.
			_ => {
				let (_, _, call) = self.submission(who, duty, good.body, good.evidence);
				self.schedule(now, Tx::FeeLess(call));
			}
		}
	}

	/// A red's evidence a forger can make against `object`: for an honest demo object of two
	/// chunks or more, its last chunk's genuine Merkle proof relabelled as another chunk (the
	/// forgery that once condemned honest objects whose chunk count is not a power of two:
	/// the short last chunk "contradicted" an earlier chunk's length); otherwise random bytes.
	/// Either way it must be refused as proof and become a `FalseRed` offence.
	pub(crate) fn forged_evidence(&mut self, object: &ObjectRef) -> Vec<u8> {
		type Demo = DemoEvaluator<CHUNK_SIZE>;
		let honest = Demo::object(object.size, true) == *object;
		let chunks = if honest { Demo::chunks(object.size, true) } else { Vec::new() };
		let Some(last) = (chunks.len() as u32).checked_sub(1).filter(|&last| last > 0) else {
			return self.rng.hash().to_vec();
		};
		let genuine = MerkleChunks::<CHUNK_SIZE>::evidence(&chunks, last).expect("the last chunk");
		let mut forged = ChunkEvidence::decode(&mut &genuine[..]).expect("genuine evidence");
		forged.index = self.rng.below(u64::from(last)) as u32;
		self.stats.relabelled_reds += 1;
		forged.encode()
	}

	/// The adversary does not give up: a bad agent out of the draw comes back as soon as the
	/// pallet lets it (a ban served: `rejoin`; suspended for an overt offence: `unbond`, and once
	/// the bond is free, `withdraw_unbonded`, all its money moved to a new account that registers
	/// a new key), and active bad agents add to their bonds at random moments (a stake change
	/// timed against the draws), always within the bad share of the stake.
	pub(crate) fn persist(&mut self, now: u32) {
		let seed = self.params.seed;
		let min_bond: Balance = <Runtime as pallet_pickets::Config>::MinBond::get();
		let bonded = |adversaries: &[Adversary]| -> Balance {
			adversaries
				.iter()
				.filter(|a| a.bad)
				.filter_map(|a| pallet_pickets::Agents::<Runtime>::get(&a.account))
				.map(|info| info.bond)
				.sum()
		};
		for who in 0..self.adversaries.len() {
			if !self.adversaries[who].bad {
				continue;
			}
			let account = self.adversaries[who].account.clone();
			let Some(info) = pallet_pickets::Agents::<Runtime>::get(&account) else {
				continue;
			};
			let pending = pallet_pickets::PendingPenalties::<Runtime>::get(&account);
			let fleeing = self.fleeing.contains(&who);
			let call = match info.status {
				// An equivocator running from its report: unbond at once, then try to
				// withdraw in every block, whatever the pallet says.
				AgentStatus::Active | AgentStatus::Suspended if fleeing => {
					pallet_pickets::Call::unbond {}
				}
				AgentStatus::Unbonding { .. } if fleeing => {
					pallet_pickets::Call::withdraw_unbonded {}
				}
				AgentStatus::Banned { until } if now >= until => pallet_pickets::Call::rejoin {},
				AgentStatus::Suspended if pending == 0 => pallet_pickets::Call::unbond {},
				AgentStatus::Unbonding { until, .. } if now >= until && pending == 0 => {
					pallet_pickets::Call::withdraw_unbonded {}
				}
				AgentStatus::Active if self.rng.percent(1) => {
					let room = self.bad_budget.saturating_sub(bonded(&self.adversaries));
					let free = Balances::reducible_balance(
						&account,
						Preservation::Protect,
						Fortitude::Polite,
					);
					let amount = room.min(free.saturating_sub(min_bond)).min(min_bond);
					if amount == 0 {
						continue;
					}
					pallet_pickets::Call::bond_extra { amount }
				}
				_ => continue,
			};
			let withdraw = matches!(call, pallet_pickets::Call::withdraw_unbonded {});
			let result = RuntimeCall::Pickets(call)
				.dispatch_bypass_filter(RuntimeOrigin::signed(account.clone()));
			if fleeing {
				self.stats.flights += 1;
			}
			if let Err(e) = result {
				let what = if fleeing { "flight" } else { "re-entry" };
				*self.stats.refused.entry(format!("{what}: {:?}", e.error)).or_default() += 1;
				continue;
			}
			if fleeing && withdraw {
				// Gone with what is left of its bond: only after every offence it signed was
				// punished (its penalty applied, taking something).
				let unpunished: Vec<_> = self
					.expected
					.iter()
					.filter(|(offender, ..)| *offender == account)
					.filter(|offence| !self.punished.contains(*offence))
					.collect();
				assert!(
					unpunished.is_empty(),
					"seed {seed}, block {now}: {account} withdrew its bond before {unpunished:?} \
					 was punished"
				);
				self.fleeing.remove(&who);
				self.stats.fled += 1;
			}
			*self
				.stats
				.reentries
				.entry(if withdraw { "withdrawn" } else { "other" })
				.or_default() += 1;
			if !withdraw {
				continue;
			}
			// A new account and key, with all the old account's money.
			let generation = self.adversaries[who].generation + 1;
			let pair = sr25519::Pair::from_seed(&self.rng.hash());
			let fresh = account_of(&pair);
			let key = sr25519::Pair::from_seed(&self.rng.hash());
			let all =
				Balances::reducible_balance(&account, Preservation::Expendable, Fortitude::Polite);
			<Balances as Mutate<AccountId>>::transfer(
				&account,
				&fresh,
				all,
				Preservation::Expendable,
			)
			.unwrap_or_else(|e| panic!("seed {seed}: moving a bad agent's money: {e:?}"));
			let money = Balances::total_balance(&fresh);
			let room = self.bad_budget.saturating_sub(bonded(&self.adversaries));
			let bond = room.min(money.saturating_sub(min_bond));
			self.adversaries[who] =
				Adversary { account: fresh.clone(), key, bad: true, generation };
			if bond < min_bond {
				// Too poor to come back: it stays out.
				continue;
			}
			let proof = self.adversaries[who].key.sign(&possession_payload(&fresh, &self.genesis));
			let register = RuntimeCall::Pickets(pallet_pickets::Call::register {
				key: self.adversaries[who].key.public().into(),
				bond,
				proof: proof.into(),
			});
			match register.dispatch_bypass_filter(RuntimeOrigin::signed(fresh)) {
				Ok(_) => *self.stats.reentries.entry("registered anew").or_default() += 1,
				Err(e) => {
					*self.stats.refused.entry(format!("re-entry: {:?}", e.error)).or_default() += 1
				}
			}
		}
	}

	/// In a flood (`FLOOD_LENGTH` blocks of every `FLOOD_EVERY`), each flooder opens rounds of
	/// the harness's oracle until the pallet refuses it more.
	pub(crate) fn flood(&mut self, now: u32) {
		if now % FLOOD_EVERY >= FLOOD_LENGTH {
			return;
		}
		for flooder in self.flooders.clone() {
			loop {
				let open =
					RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::commit_round {
						machine: self.oracle,
						subject: self.rng.hash(),
					});
				match open.dispatch_bypass_filter(RuntimeOrigin::signed(flooder.clone())) {
					Ok(_) => self.stats.flood_rounds += 1,
					Err(e) => {
						*self.stats.refused.entry(format!("flood: {:?}", e.error)).or_default() +=
							1;
						break;
					}
				}
			}
		}
	}

	/// Every `FORGE_EVERY` blocks the forger proposes a new malformed demo object to the
	/// weakest machine.
	pub(crate) fn forge(&mut self, now: u32) {
		if now % FORGE_EVERY != 0 {
			return;
		}
		// A new size each time (the demo object of a size is one object), as long as they last.
		self.forge_next = self.forge_next % 16_384 + 1;
		let object = DemoEvaluator::<CHUNK_SIZE>::object(self.forge_next, false);
		let round = NextRoundId::<Runtime>::get();
		let propose = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::propose {
			machine: self.weak,
			object: object.hash,
			size: object.size,
		});
		match propose.dispatch_bypass_filter(RuntimeOrigin::signed(self.forger.clone())) {
			Ok(_) => {
				self.stats.forged += 1;
				self.malformed.insert(round, object);
			}
			Err(e) => *self.stats.refused.entry(format!("forge: {:?}", e.error)).or_default() += 1,
		}
	}

	/// Notes a bad agent's green verdict accepted on chain: should the object's light turn red,
	/// the green is signed proof of a wrong verdict.
	pub(crate) fn note_green(&mut self, call: &RuntimeCall) {
		let RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
			statement,
			seat,
			..
		}) = call
		else {
			return;
		};
		if !matches!(statement.body, Body::Verdict { verdict: Verdict::Green, .. }) {
			return;
		}
		if let Some(holder) = ConsensusMachine::seat(statement.round, *seat) {
			if !self.good.contains(&holder.agent) {
				self.greens.entry(statement.round).or_default().push(holder.agent);
			}
		}
	}
}
