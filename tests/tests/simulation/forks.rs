//! Forks: a sibling branch with other randomness and another adversary, rolled back, and its
//! good statements replayed on the kept branch.

use super::*;

/// A statement a good picket signed and a branch included: its seat there and the seat's key.
#[derive(Clone)]
pub(crate) struct Included {
	/// The block that included it.
	pub(crate) at: u32,
	pub(crate) statement: Statement,
	pub(crate) signature: sr25519::Signature,
	pub(crate) seat: u32,
	pub(crate) key: pallet_consensus_machine::crypto::Public,
}

/// A bad agent's two statements for one round instance, one on each branch of a fork.
#[derive(Clone)]
pub(crate) struct Lie {
	pub(crate) offender: AccountId,
	pub(crate) round: RoundId,
	pub(crate) membership: SeatProof<AccountId>,
	/// The statement here, submitted at the next block.
	pub(crate) here_call: RuntimeCall,
	pub(crate) here: (Statement, sr25519::Signature),
	pub(crate) there: (Statement, sr25519::Signature),
}

/// Blocks between two forks, and the blocks each branch of a fork runs before they are compared.
pub(crate) const FORK_EVERY: u32 = 100;

pub(crate) const FORK_LENGTH: u32 = 16;

/// Rounds of the harness's oracle both branches of a fork open first thing, for different
/// subjects: a good key drawn for one of them on both branches signs two values for one round
/// id (about one such key per round).
pub(crate) const FORK_OPENINGS: u32 = 3;

impl Sim {
	/// Keeps a good picket's included statement while a fork is compared.
	pub(crate) fn note_included(&mut self, call: &RuntimeCall) {
		let Some(included) = self.included.as_mut() else { return };
		let RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
			statement,
			seat,
			signature,
			..
		}) = call
		else {
			return;
		};
		let Some(holder) = ConsensusMachine::seat(statement.round, *seat) else { return };
		if self.good.contains(&holder.agent) {
			included.push(Included {
				at: frame_system::Pallet::<Runtime>::block_number(),
				statement: statement.clone(),
				signature: signature.clone().into(),
				seat: *seat,
				key: holder.key,
			});
		}
	}

	/// A fork from the current block: a sibling branch, with other randomness (so other
	/// committees and round instances) and another adversary's luck, runs `FORK_LENGTH` blocks
	/// with every check, on the same node (the off-chain database, which remembers what each
	/// key signed, is shared, as a node's is across a reorg); then its storage is rolled back
	/// and this branch goes on. Once this branch is as high, [`Sim::compare_fork`] replays the
	/// other branch's good statements here.
	pub(crate) fn fork(&mut self, pool: &Drain) {
		let lie = self.fork_lie();
		let mut other = self.clone();
		other.rng = Rng(self.rng.next());
		other.included = Some(Vec::new());
		let there = lie.map(|(lie, call)| {
			self.lies.push(lie);
			call
		});
		sp_io::storage::start_transaction();
		let mut height = 0;
		for i in 0..FORK_LENGTH {
			height = next_block_on(b"fork");
			if i == 0 {
				// The same round ids as this branch's next block opens, for other subjects.
				for _ in 0..FORK_OPENINGS {
					other.open_oracle_round();
				}
				// The bad agent's statement on this branch, first thing in the block.
				if let Some(call) = &there {
					dispatch_fee_less(call).unwrap_or_else(|e| {
						panic!(
							"seed {}, block {height}: a bad agent's statement for a seat with \
							 none is refused on the other branch: {e}",
							self.params.seed
						)
					});
				}
			}
			other.step(height, pool);
		}
		sp_io::storage::rollback_transaction();
		// Transactions the other branch's worker left in the pool went with it.
		let _ = pool();
		self.stats.forks += 1;
		self.stats.fork_blocks += u64::from(FORK_LENGTH);
		self.fork = Some((height, other.included.unwrap_or_default()));
		self.open_after_fork = true;
		self.included = Some(Vec::new());
	}

	/// The adversary's bet on a fork: a bad agent (one at random among those that can) holding
	/// a seat, still without a statement, in a round drawn before the fork (so of the same
	/// instance on both branches) signs one statement for it here and another on the other
	/// branch, as if only one branch could survive. Both must be accepted on their branch; a
	/// watcher that sees both branches holds a provable equivocation, which must be accepted and
	/// punished here. Returns the pair, and the other branch's submission.
	pub(crate) fn fork_lie(&mut self) -> Option<(Lie, RuntimeCall)> {
		// Each lie costs a bad agent its place: at most one for every ten forks (and the
		// first), so that the adversary keeps playing its other moves.
		if self.stats.fork_lies_reported > self.stats.forks / 10 {
			return None;
		}
		let now = System::block_number();
		let keys: Vec<pallet_consensus_machine::crypto::Public> =
			self.adversaries.iter().map(|a| a.key.public().into()).collect();
		let mut duties = ConsensusMachine::duties_of(&keys);
		// Seats a statement is already on its way for.
		let on_the_way: BTreeSet<(RoundId, u32)> = self
			.pending
			.values()
			.flatten()
			.filter_map(|tx| match tx {
				Tx::FeeLess(call) | Tx::FalseRed(call, ..) | Tx::Invalid(call) => match call {
					RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::submit_statement {
							statement, seat, ..
						},
					) => Some((statement.round, *seat)),
					_ => None,
				},
				Tx::Signed(..) => None,
			})
			.collect();
		let equivocation = format!("{:?}", OffenceKind::Equivocation);
		let mut candidates = Vec::new();
		for (who, key) in keys.iter().enumerate() {
			let adversary = &self.adversaries[who];
			if !adversary.bad
				|| !pallet_pickets::Agents::<Runtime>::get(&adversary.account).is_some_and(|a| {
					matches!(a.status, AgentStatus::Active | AgentStatus::Banned { .. })
				}) {
				continue;
			}
			for duty in duties.remove(key).unwrap_or_default() {
				let fits = duty.deadline > now
					// A value to adopt leaves no other body to sign.
					&& !matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
					&& !pallet_consensus_machine::Statements::<Runtime>::contains_key(
						duty.round, duty.seat,
					)
					&& !on_the_way.contains(&(duty.round, duty.seat))
					&& !self.expected.contains(&(
						adversary.account.clone(),
						duty.round,
						equivocation.clone(),
					))
					&& !pallet_pickets::OffenceIndex::<Runtime>::contains_key((
						&adversary.account,
						duty.round,
						OffenceKind::Equivocation,
					));
				if fits {
					if let Some(good) = Evaluator::evaluate(&duty.task) {
						candidates.push((who, duty, good));
					}
				}
			}
		}
		if candidates.is_empty() {
			return None;
		}
		let pick = self.rng.below(candidates.len() as u64) as usize;
		let (who, duty, good) = candidates.swap_remove(pick);
		let membership = ConsensusMachine::membership_proof(duty.round, duty.seat)?;
		let (here, here_sig, here_call) =
			self.submission(who, &duty, good.body.clone(), good.evidence);
		let other = self.another_body(&good.body);
		let (there, there_sig, there_call) = self.submission(who, &duty, other, None);
		let offender = self.adversaries[who].account.clone();
		let lie = Lie {
			offender,
			round: duty.round,
			membership,
			here_call,
			here: (here, here_sig),
			there: (there, there_sig),
		};
		Some((lie, there_call))
	}

	/// At each height the other branch of the fork reached: its good statements of that height
	/// are replayed here, and none is accepted unless it is the very statement a good picket
	/// signs here (same instance, same value). Once this branch is as high: no pair of good
	/// statements, one from each branch, is a provable equivocation.
	pub(crate) fn compare_fork(&mut self, now: u32) {
		let seed = self.params.seed;
		// The bad agents' equivocations across the fork: this branch's statement accepted, then
		// the pair reported, accepted and punished.
		for lie in std::mem::take(&mut self.lies) {
			dispatch_fee_less(&lie.here_call).unwrap_or_else(|e| {
				panic!(
					"seed {seed}, block {now}: a bad agent's statement for a seat with none \
						 in round {} is refused: {e}",
					lie.round
				)
			});
			let report = RuntimeCall::ConsensusMachine(
				pallet_consensus_machine::Call::report_equivocation {
					membership: lie.membership,
					proof: Box::new(EquivocationProof { first: lie.here, second: lie.there }),
				},
			);
			dispatch_fee_less(&report).unwrap_or_else(|e| {
				panic!(
					"seed {seed}, block {now}: a bad agent's two statements for round {}'s \
						 one instance, one on each branch, are not taken as an equivocation: {e}",
					lie.round
				)
			});
			self.expected.insert((
				lie.offender,
				lie.round,
				format!("{:?}", OffenceKind::Equivocation),
			));
			self.stats.fork_lies_reported += 1;
		}
		let Some((height, theirs)) = self.fork.as_ref() else { return };
		let height = *height;
		let due: Vec<Included> = theirs.iter().filter(|there| there.at == now).cloned().collect();
		for there in &due {
			// As sent there, and aimed at the seat its key holds here (a replayer picks the
			// seat index freely).
			let held_here = ConsensusMachine::committee(there.statement.round)
				.iter()
				.position(|seat| seat.key == there.key)
				.map(|index| index as u32);
			let seats: BTreeSet<u32> =
				[Some(there.seat), held_here].into_iter().flatten().collect();
			for seat in seats {
				let call = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::submit_statement {
						statement: there.statement.clone(),
						seat,
						signature: there.signature.into(),
						evidence: None,
					},
				);
				let verdict = fee_less(&call);
				if let Err(e) = &verdict {
					*self.stats.fork_refusals.entry(e.clone()).or_default() += 1;
				}
				if verdict.is_ok() {
					let round = Rounds::<Runtime>::get(there.statement.round)
						.expect("an accepted statement's round is live");
					// What a good picket signs here: the evaluator's value where the harness
					// saw a duty of the round, else a good statement this branch included.
					let here = self.honest.get(&there.statement.round).copied().or_else(|| {
						self.included.iter().flatten().find_map(|ours| {
							(ours.statement.round == there.statement.round
								&& ours.statement.level == there.statement.level)
								.then(|| ours.statement.body.value_hash())
						})
					});
					assert_eq!(
						round.draw().map(|d| d.instance),
						Some(there.statement.instance),
						"seed {seed}, block {now}: a statement from the fork at {height} is \
						 accepted here for another round instance: {:?}",
						there.statement
					);
					if let Some(here) = here {
						assert_eq!(
							here,
							there.statement.body.value_hash(),
							"seed {seed}, block {now}: a statement from the fork at {height} is \
							 accepted here, and is not what a good picket signs here: {:?}",
							there.statement
						);
					}
					self.stats.fork_replays_accepted += 1;
				} else {
					self.stats.fork_replays_refused += 1;
				}
			}
		}
		// Once this branch included its statements of the last height too.
		if now <= height {
			return;
		}
		let Some((_, theirs)) = self.fork.take() else { return };
		let ours = self.included.take().unwrap_or_default();
		for there in &theirs {
			for here in ours.iter().filter(|here| {
				here.key == there.key
					&& here.statement.machine == there.statement.machine
					&& here.statement.round == there.statement.round
					&& here.statement.level == there.statement.level
					&& here.statement.body.kind() == there.statement.body.kind()
					// Two bodies: an equivocation, were the instance the same.
					&& here.statement.body != there.statement.body
			}) {
				let Some(membership) =
					ConsensusMachine::membership_proof(here.statement.round, here.seat)
				else {
					continue;
				};
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_equivocation {
						membership,
						proof: Box::new(EquivocationProof {
							first: (here.statement.clone(), here.signature),
							second: (there.statement.clone(), there.signature),
						}),
					},
				);
				assert!(
					fee_less(&report).is_err(),
					"seed {seed}, block {now}: a good picket's statements on two forks are \
					 reportable as an equivocation: {report:?}"
				);
				// Refused because the two are of different round instances (each branch drew
				// its own committee), not for some other flaw of the report: the pair agrees on
				// chain, machine, round, level and kind and has two bodies (the filter above), so
				// the instance is all `NotAnEquivocation` can be about.
				let reason = dry_run(&report).err().unwrap_or_default();
				assert!(
					here.statement.instance != there.statement.instance
						&& reason == "NotAnEquivocation",
					"seed {seed}, block {now}: a report pairing a good picket's statements on \
					 two forks is refused for another reason than their instances: {reason}"
				);
				*self.stats.fork_report_refusals.entry(reason).or_default() += 1;
				self.stats.fork_reports_refused += 1;
			}
		}
	}
}
