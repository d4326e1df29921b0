//! The invariants checked after every block.

use super::*;

/// The share of its bond an offence of `kind` costs an agent, from the runtime's configuration.
pub(crate) fn slash_rate(kind: OffenceKind) -> sp_runtime::Perbill {
	<Runtime as pallet_pickets::Config>::SlashRates::get().of(kind)
}

/// The number of entries in each of the pallet's storage maps (a storage value is not counted),
/// by the item's name, walking the keys under each item's prefix.
pub(crate) fn map_entries() -> BTreeMap<String, u64> {
	Pickets::storage_info()
		.into_iter()
		.chain(ConsensusMachine::storage_info())
		.map(|info| {
			let (prefix, mut key, mut entries) = (info.prefix.clone(), info.prefix, 0);
			while let Some(next) = sp_io::storage::next_key(&key) {
				if !next.starts_with(&prefix) {
					break;
				}
				entries += 1;
				key = next;
			}
			(String::from_utf8_lossy(&info.storage_name).into_owned(), entries)
		})
		.collect()
}

/// What a drained chain may hold in one of the pallet's storage maps, against its baseline
/// after genesis.
#[derive(Debug)]
pub(crate) enum Bound {
	/// Per round, per exit or per pending penalty: back to the baseline once every round is
	/// pruned, every root expired and every penalty applied.
	Baseline,
	/// Per agent or per tree node: at most this many, however long the chain ran.
	AtMost(u64),
	/// One per current agent: exactly this many.
	Exactly(u64),
	/// A permanent record (an object's light, an offence's proof): exactly the baseline plus
	/// what the run recorded.
	Grown(u64),
}

impl Sim {
	/// The registry's events: offences of good agents, slashes at the configured rates, misses.
	fn check_picket_event(&mut self, now: u32, event: PicketsEvent<Runtime>) {
		let seed = self.params.seed;
		match event {
			PicketsEvent::OffenceRecorded { penalty, offender, kind, round, .. } => {
				self.offences.insert(penalty, (kind, round));
				assert!(
					!self.good.contains(&offender) || kind == OffenceKind::RedProposal,
					"seed {seed}, block {now}: good agent {offender} has a {kind:?} offence in \
					 round {round}"
				);
				*self.stats.offences.entry(format!("{kind:?}")).or_default() += 1;
				self.recorded.insert((offender, round, format!("{kind:?}")));
			}
			// What a penalty takes, from the runtime's rates and what the harness saw held
			// (the bond before this block, the proposal's bond), not from the penalty's own
			// record; penalties of one offender in one block apply in turn.
			PicketsEvent::PenaltyApplied { penalty, offender, slashed } => {
				let (kind, round) = self.offences.get(&penalty).copied().unwrap_or_else(|| {
					panic!("seed {seed}, block {now}: penalty {penalty} was never recorded")
				});
				let expected = match kind {
					OffenceKind::RedProposal => {
						self.proposals.get(&round).copied().unwrap_or_default()
					}
					kind => {
						let held = self.bonds.get(&offender).copied().unwrap_or_default();
						(slash_rate(kind) * held).min(held)
					}
				};
				assert_eq!(
					slashed, expected,
					"seed {seed}, block {now}: penalty {penalty} ({kind:?}) took {slashed}, \
					 the rate gives {expected}"
				);
				if kind != OffenceKind::RedProposal {
					if let Some(held) = self.bonds.get_mut(&offender) {
						*held -= expected;
					}
				}
				self.stats.slashes += 1;
				self.owed_to_treasury += expected;
				if slashed > 0 {
					self.punished.insert((offender.clone(), round, format!("{kind:?}")));
				}
			}
			PicketsEvent::DutyMissed { agent, round, .. } => {
				assert!(
					!self.good.contains(&agent),
					"seed {seed}, block {now}: good agent {agent} missed its duty in round \
					 {round}"
				);
				self.stats.misses += 1;
			}
			_ => {}
		}
	}

	/// The invariants, after every block.
	pub(crate) fn check(&mut self, now: u32) {
		let seed = self.params.seed;
		for record in System::events() {
			let event = match record.event {
				RuntimeEvent::ConsensusMachine(event) => event,
				RuntimeEvent::Pickets(event) => {
					self.check_picket_event(now, event);
					continue;
				}
				_ => continue,
			};
			if let Event::RoundPruned { round } = &event {
				self.greens.remove(round);
			}
			match event {
				// A round's fee: the price, at the runtime's `WeightToFee`, of the fee-less work of
				// the round's level as its machine defines it; the treasury is owed exactly that.
				Event::RoundFeePaid { round, payer, fee } => {
					let info = Rounds::<Runtime>::get(round).expect("a round pays as it starts");
					let machine = pallet_consensus_machine::Machines::<Runtime>::get(info.machine)
						.expect("a round's machine exists");
					let slots = |l: usize| machine.levels.get(l).map(|c| c.rule.n);
					let validity = matches!(info.kind, RoundKind::Validity { .. });
					let from = (info.level as usize).checked_sub(1).and_then(slots);
					let work = pallet_consensus_machine::Pallet::<Runtime>::round_work(
						info.slots, validity, from,
					);
					type Price = <Runtime as pallet_consensus_machine::Config>::WeightToFee;
					let expected = Price::weight_to_fee(&work);
					assert_eq!(
						(payer.clone(), fee),
						(info.opener.clone(), expected),
						"seed {seed}, block {now}: round {round}'s fee"
					);
					self.stats.round_fees.0 += 1;
					self.stats.round_fees.1 += fee;
					self.owed_to_treasury += fee;
				}
				Event::ProposalBondReturned { round, returned, fee, .. } => {
					let bond = self.proposals.get(&round).copied().unwrap_or_default();
					let amber = <Runtime as pallet_consensus_machine::Config>::AmberFee::get();
					assert!(
						(fee, returned) == (0, bond)
							|| (fee, returned) == (amber * bond, bond - amber * bond),
						"seed {seed}, block {now}: round {round}'s bond {bond} came back as \
						 {returned} with a fee of {fee}: neither whole nor minus the amber fee"
					);
					self.owed_to_treasury += fee;
				}
				// An honest object ends green: no tolerated minority (saying Amber, a false red,
				// silence) keeps it from green.
				Event::LightDecided { round, light, object }
					if self.honest_proposals.contains(&round) =>
				{
					assert_eq!(
						light,
						Light::Green,
						"seed {seed}, block {now}: honest object {object:?} (round {round}) \
						 ended {light:?}"
					);
					self.honest_proposals.remove(&round);
					self.stats.honest_greens += 1;
				}
				// Every green accepted on an object whose light turns red was a wrong verdict.
				Event::LightDecided { round, light: Light::Red, .. } => {
					for agent in self.greens.remove(&round).unwrap_or_default() {
						self.expected.insert((
							agent,
							round,
							format!("{:?}", OffenceKind::WrongVerdict),
						));
					}
				}
				// A watcher who holds the evidence challenges a green on a malformed object.
				Event::LightDecided { round, light: Light::Green, object }
					if DemoEvaluator::<CHUNK_SIZE>::object(object.size, false) == object =>
				{
					let evidence = Evaluator::evaluate(&DutyTask::Verdict { object })
						.and_then(|judgement| judgement.evidence)
						.expect("a malformed demo object has red evidence");
					let challenge = RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::challenge_green { round, evidence },
					);
					self.schedule(now + 1, Tx::Signed(self.reporter.clone(), challenge));
				}
				Event::GreenChallenged { .. } => self.stats.challenges += 1,
				Event::GreenOverturned { .. } => self.stats.overturned += 1,
				Event::HandoverStarted { required, .. } => {
					self.stats.handovers += 1;
					if required.is_some() {
						self.stats.handovers_adopting += 1;
					}
				}
				Event::Proposed { round, object, .. } => {
					let info = Rounds::<Runtime>::get(round).expect("just proposed");
					self.objects.insert((info.machine, object.hash, object.size));
					if DemoEvaluator::<CHUNK_SIZE>::object(object.size, true) == object {
						self.honest_proposals.insert(round);
					}
					let deposit = info.deposit;
					self.proposals.insert(round, deposit);
				}
				Event::RoundDrawn { round, level, .. } => {
					self.judge_ground(now, round);
					if let Some(opened) = self.reporter_opened.remove(&round) {
						type C = Runtime;
						type MaxPending = <C as pallet_consensus_machine::Config>::MaxPendingDraws;
						type PerBlock = <C as pallet_consensus_machine::Config>::MaxDrawsPerBlock;
						type Lead = <C as pallet_consensus_machine::Config>::RandomnessLead;
						let queue: u32 =
							<MaxPending as Get<u32>>::get().div_ceil(<PerBlock as Get<u32>>::get());
						let lead: u32 = <Lead as Get<u32>>::get();
						// Refused while a flood holds the queue, then queued behind a full one and
						// drawn as the pallet's own bound allows (two leads, the second at a
						// snapshot boundary, and two blocks).
						let bound = FLOOD_LENGTH + queue + 2 * lead + 2;
						let wait = now - opened;
						assert!(
							wait <= bound,
							"seed {seed}, block {now}: the reporter's round {round} was drawn \
							 {wait} blocks after its first attempt to open it, more than {bound}"
						);
						self.stats.reporter_wait = (self.stats.reporter_wait.0.max(wait), bound);
					}
					if let Some(info) = Rounds::<Runtime>::get(round) {
						if let RoundKind::Backup { root, .. } = info.kind {
							let machine =
								pallet_consensus_machine::Machines::<Runtime>::get(info.machine)
									.expect("a live machine");
							if usize::from(level) + 1 == machine.levels.len() {
								self.last_levels_drawn.insert(root);
							}
						}
					}
				}
				// A family whose complete last level ran is decided when it ends.
				Event::RoundClosed { round, .. } | Event::RoundPruned { round }
					if self.last_levels_drawn.remove(&round) =>
				{
					assert!(
						self.decided.contains_key(&round),
						"seed {seed}, block {now}: family {round} ended undecided after its \
						 complete last level ran"
					);
				}
				_ => {}
			}
		}
		System::reset_events();
		// No malformed object is valid for any machine: a green from the weakest machine's lone
		// bad seat is overturned by the watcher's challenge within its window. Followed until
		// its light is final and its round pruned.
		let machines = pallet_consensus_machine::NextMachineId::<Runtime>::get();
		self.malformed.retain(|round, object| {
			for machine in 0..machines {
				assert!(
					!ConsensusMachine::is_valid(machine, object),
					"seed {seed}, block {now}: malformed object {object:?} (round {round}) is \
					 valid for machine {machine}"
				);
			}
			let final_light = ConsensusMachine::light(self.weak, object).is_some_and(|(_, f)| f);
			Rounds::<Runtime>::contains_key(round) || !final_light
		});
		for (round, certificate) in Certificates::<Runtime>::iter() {
			let value = match certificate.statement.body {
				Body::Decision { value: Some(v) } => v,
				ref body => body.value_hash(),
			};
			let info = Rounds::<Runtime>::get(round).expect("a certified round is live");
			let family = match info.kind {
				RoundKind::Backup { root, .. } => Some(root),
				RoundKind::Primary { .. } => Some(round),
				_ => None,
			};
			for id in [Some(round), family].into_iter().flatten() {
				match self.decided.insert(id, value) {
					Some(earlier) if earlier != value => panic!(
						"seed {seed}, block {now}: round {id} decided {earlier:?} and {value:?}"
					),
					Some(_) => {}
					// The one-slot machine promises no good signer: a lone bad seat decides a
					// malformed object green. What it may not do is make it valid (checked
					// above).
					None if id == round && self.malformed.contains_key(&round) => {
						self.stats.weak_decisions += 1;
					}
					None if id == round => {
						let good_signer = certificate.signatures.iter().any(|(index, _)| {
							ConsensusMachine::seat(round, *index)
								.is_some_and(|seat| self.good.contains(&seat.agent))
						});
						assert!(
							good_signer,
							"seed {seed}, block {now}: round {round}'s certificate has no good \
							 signer"
						);
						self.stats.certificates_checked += 1;
						if let Some(honest) = self.honest.get(&round) {
							assert_eq!(
								certificate.statement.body.value_hash(),
								*honest,
								"seed {seed}, block {now}: round {round} decided {:?}, which no \
								 good picket signs",
								certificate.statement.body
							);
							self.stats.decisions_honest += 1;
						}
						let kind = match info.kind {
							RoundKind::Primary { .. } => "primary",
							RoundKind::Backup { .. } => "backup",
							RoundKind::Transition { .. } => "transition",
							RoundKind::Validity { .. } => "validity",
						};
						*self.stats.decided.entry(kind).or_default() += 1;
					}
					None => {}
				}
			}
		}
		// Each penalty is read once, in the block it is recorded (it is forgotten only once its
		// round's committee root has expired, long after).
		let next = NextPenaltyId::<Runtime>::get();
		for id in std::mem::replace(&mut self.penalties_read, next)..next {
			let Some(penalty) = Penalties::<Runtime>::get(id) else { continue };
			assert!(
				!self.good.contains(&penalty.offender) || penalty.kind == OffenceKind::RedProposal,
				"seed {seed}, block {now}: good agent {} has a penalty: {penalty:?}",
				penalty.offender
			);
		}
		for account in &self.good {
			if let Some(info) = pallet_pickets::Agents::<Runtime>::get(account) {
				assert!(
					!matches!(info.status, AgentStatus::Suspended),
					"seed {seed}, block {now}: good agent {account} is suspended"
				);
			}
		}
		assert_eq!(
			Balances::total_issuance(),
			self.issuance,
			"seed {seed}, block {now}: issuance changed"
		);
		assert_eq!(
			Balances::total_balance(&TreasuryAccount::get()),
			self.treasury + self.owed_to_treasury,
			"seed {seed}, block {now}: the treasury did not receive exactly the slashes and fees"
		);
		self.bonds = pallet_pickets::Agents::<Runtime>::iter_keys()
			.map(|agent| {
				let reason = RuntimeHoldReason::Pickets(pallet_pickets::HoldReason::Bond);
				let held = Balances::balance_on_hold(&reason, &agent);
				(agent, held)
			})
			.collect();
		if now % self.params.try_state_every == 0 {
			let clock = std::time::Instant::now();
			AllPalletsWithSystem::try_state(now, TryStateSelect::All)
				.unwrap_or_else(|e| panic!("seed {seed}, block {now}: try_state: {e:?}"));
			*self.stats.time.entry("try_state (within the checks)").or_default() += clock.elapsed();
		}
	}
}
