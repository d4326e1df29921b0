//! Machines and rounds: creation, committee draws, decisions, the certified trace, pruning.

use crate::{
	agents::StorageTree,
	pallet::*,
	types::{
		CertificateRecord, LevelConfig, LevelSpec, MachineInfo, RoundInfo, Seat, TraceEntry,
		ValidityRecord,
	},
	weights::WeightInfo,
};
use alloc::vec::Vec;
use codec::Encode;
use consensus_machine_primitives::{
	light::{Light, ObjectRef},
	selection,
	statement::{Body, Hash, Label, MachineId, RoundId, Statement},
	DecisionRule, Epsilon, Probability,
};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision, Randomness},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};

/// What kind of round [`Pallet::start_round`] opens.
pub(crate) struct NewRound {
	/// The machine level whose committee is drawn.
	pub level: u8,
	/// For a backup level, the family's level-0 round.
	pub root: Option<RoundId>,
	/// For a backup level, the value it must adopt.
	pub required: Option<Hash>,
	/// For a validity round, the object.
	pub object: Option<ObjectRef>,
}

/// Domain tag of a round's randomness subject.
const ROUND_SEED_TAG: [u8; 8] = *b"cm/round";

impl<T: Config> Pallet<T> {
	pub(crate) fn do_create_machine(
		slots: u32,
		p: Probability,
		epsilon: Epsilon,
		timeout: BlockNumberFor<T>,
		round_deposit: BalanceOf<T>,
		initial_state: Hash,
	) -> Result<MachineId, DispatchError> {
		let level = LevelSpec { slots, p, epsilon, timeout };
		Self::do_create_machine_with_levels(alloc::vec![level], round_deposit, initial_state)
	}

	pub(crate) fn do_create_hierarchical_machine(
		levels: Vec<LevelSpec<BlockNumberFor<T>>>,
		round_deposit: BalanceOf<T>,
	) -> Result<MachineId, DispatchError> {
		ensure!(levels.len() >= 2, Error::<T>::WrongLevelCount);
		Self::do_create_machine_with_levels(levels, round_deposit, [0; 32])
	}

	/// Validates every level, computes its exact rule, and stores the machine. A machine with
	/// several levels must end in a complete level.
	pub(crate) fn do_create_machine_with_levels(
		specs: Vec<LevelSpec<BlockNumberFor<T>>>,
		round_deposit: BalanceOf<T>,
		initial_state: Hash,
	) -> Result<MachineId, DispatchError> {
		ensure!(
			!specs.is_empty() && specs.len() <= crate::types::MAX_LEVELS as usize,
			Error::<T>::WrongLevelCount
		);
		let mut levels = Vec::new();
		for LevelSpec { slots, p, epsilon, timeout } in specs {
			ensure!(slots > 0, Error::<T>::ZeroSlots);
			ensure!(slots <= T::MaxCommittee::get(), Error::<T>::CommitteeTooLarge);
			ensure!(p.is_below_half(), Error::<T>::ProbabilityNotBelowHalf);
			ensure!(
				!timeout.is_zero() && timeout <= T::MaxRoundDuration::get(),
				Error::<T>::InvalidTimeout
			);
			let rule = DecisionRule::exact(slots, p, epsilon).map_err(|e| match e {
				consensus_machine_primitives::Error::UnsafeCommittee => Error::<T>::UnsafeCommittee,
				consensus_machine_primitives::Error::ZeroSlots => Error::<T>::ZeroSlots,
				_ => Error::<T>::CommitteeTooLarge,
			})?;
			levels.push(LevelConfig { p, epsilon, rule, timeout });
		}
		let hierarchical = levels.len() > 1;
		if hierarchical {
			let last = levels.last().ok_or(Error::<T>::WrongLevelCount)?;
			ensure!(last.rule.is_complete(), Error::<T>::BackupNotComplete);
		}
		let first = levels[0].rule;
		let machine = NextMachineId::<T>::get();
		let next = machine.checked_add(1).ok_or(Error::<T>::Corrupt)?;
		let levels = BoundedVec::try_from(levels).map_err(|_| Error::<T>::WrongLevelCount)?;
		Machines::<T>::insert(
			machine,
			MachineInfo {
				levels,
				round_deposit,
				label: Label::genesis(machine, &initial_state),
				trace_start: 0,
				open_round: None,
			},
		);
		NextMachineId::<T>::put(next);
		Self::deposit_event(Event::MachineCreated {
			machine,
			slots: first.n,
			max_bad: first.max_bad,
			threshold: first.strong(),
		});
		Ok(machine)
	}

	/// The seed of round `round`'s draw.
	fn round_seed(round: RoundId) -> Hash {
		T::Randomness::random(&(ROUND_SEED_TAG, round).encode()).0 .0
	}

	/// Draws `slots` seats from the current stake tree.
	pub(crate) fn draw_committee(seed: &Hash, slots: u32) -> Result<CommitteeOf<T>, DispatchError> {
		let total = TotalStake::<T>::get();
		let drawn = selection::draw(&StorageTree::<T>::new(), seed, slots, total)
			.ok_or(Error::<T>::NoAgents)?;
		let seats = selection::group(&drawn)
			.into_iter()
			.map(|(index, slots)| {
				let agent = AgentAt::<T>::get(index).ok_or(Error::<T>::Corrupt)?;
				let info = Agents::<T>::get(&agent).ok_or(Error::<T>::Corrupt)?;
				Ok(Seat { agent, key: info.key, slots })
			})
			.collect::<Result<Vec<_>, DispatchError>>()?;
		BoundedVec::try_from(seats).map_err(|_| Error::<T>::CommitteeTooLarge.into())
	}

	pub(crate) fn do_open_round(
		who: T::AccountId,
		machine_id: MachineId,
		subject: Hash,
	) -> Result<RoundId, DispatchError> {
		let mut machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::UnknownMachine)?;
		if machine.levels.len() > 1 {
			// A hierarchical machine decides independent questions: rounds may overlap.
			let level0 = NewRound { level: 0, root: None, required: None, object: None };
			return Self::start_round(
				who,
				machine_id,
				&machine,
				machine.round_deposit,
				subject,
				level0,
			);
		}
		let now = frame_system::Pallet::<T>::block_number();
		if let Some(open) = machine.open_round.and_then(Rounds::<T>::get) {
			ensure!(open.decided.is_some() || now > open.deadline, Error::<T>::RoundAlreadyOpen);
		}
		let spec = NewRound { level: 0, root: None, required: None, object: None };
		let round =
			Self::start_round(who, machine_id, &machine, machine.round_deposit, subject, spec)?;
		machine.open_round = Some(round);
		Machines::<T>::insert(machine_id, machine);
		Ok(round)
	}

	/// Draws a committee of one of `machine`'s levels, holds `deposit` from `opener` and stores
	/// the round: the part of opening shared by transition, validity and decision rounds, and by
	/// the handover to a backup level.
	pub(crate) fn start_round(
		opener: T::AccountId,
		machine_id: MachineId,
		machine: &MachineInfoOf<T>,
		deposit: BalanceOf<T>,
		subject: Hash,
		spec: NewRound,
	) -> Result<RoundId, DispatchError> {
		ensure!(TotalStake::<T>::get() > 0, Error::<T>::NoAgents);
		let level = machine.levels.get(spec.level as usize).ok_or(Error::<T>::Corrupt)?.clone();
		let round = NextRoundId::<T>::get();
		let next = round.checked_add(1).ok_or(Error::<T>::Corrupt)?;
		let seed = Self::round_seed(round);
		let committee = Self::draw_committee(&seed, level.rule.n)?;
		if !deposit.is_zero() {
			T::Currency::hold(&HoldReason::RoundDeposit.into(), &opener, deposit)?;
		}

		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(level.timeout);
		let summary = committee.iter().map(|s| (s.agent.clone(), s.slots)).collect::<Vec<_>>();
		let family = if spec.root.is_none() && spec.object.is_none() && machine.levels.len() > 1 {
			BoundedVec::truncate_from(alloc::vec![round])
		} else {
			BoundedVec::new()
		};
		Rounds::<T>::insert(
			round,
			RoundInfo {
				machine: machine_id,
				level: spec.level,
				step: machine.label.step,
				subject,
				opener,
				deposit,
				opened: now,
				deadline,
				seed,
				population_version: PopulationVersion::<T>::get(),
				total_stake: TotalStake::<T>::get(),
				slots: level.rule.n,
				threshold: level.rule.strong(),
				decided: None,
				object: spec.object,
				light: None,
				closed: false,
				root: spec.root.unwrap_or(round),
				family,
				required: spec.required,
				value: None,
			},
		);
		Committees::<T>::insert(round, committee);
		NextRoundId::<T>::put(next);
		Self::deposit_event(Event::RoundOpened {
			round,
			machine: machine_id,
			step: machine.label.step,
			deadline,
			committee: BoundedVec::truncate_from(summary),
		});
		Ok(round)
	}

	/// Records the certificate of `round` for `statement` (whose tally reached the threshold).
	/// A transition advances the machine and returns the opener's deposit; a green verdict makes
	/// the object green (the proposer's bond waits for the challenge window).
	pub(crate) fn do_decide(
		round_id: RoundId,
		mut round: RoundInfoOf<T>,
		statement: Statement,
		slots: u32,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let value = statement.body.value_hash();
		let signatures = Self::agreeing_signatures(round_id, &statement.body)?;
		let signers = signatures.len() as u32;
		let machine_id = round.machine;
		Certificates::<T>::insert(
			round_id,
			CertificateRecord { statement: statement.clone(), signatures, slots, block: now },
		);
		Self::deposit_event(Event::CertificateRecorded {
			round: round_id,
			machine: machine_id,
			step: round.step,
			value,
			slots,
			signers,
		});
		round.decided = Some(now);
		let step = round.step;
		match &statement.body {
			// Decision rounds decide through the handover machine (`hierarchy.rs`).
			Body::Decision { .. } => return Err(Error::<T>::Corrupt.into()),
			Body::Transition { output, to, .. } => {
				let mut machine = Machines::<T>::get(machine_id).ok_or(Error::<T>::Corrupt)?;
				let label = machine.label.advance(&statement.body).ok_or(Error::<T>::Corrupt)?;
				Self::release_deposit(&mut round)?;
				Trace::<T>::insert(
					machine_id,
					step,
					TraceEntry { round: round_id, output: *output, to: *to, label, block: now },
				);
				let kept = u64::from(T::MaxTraceLength::get());
				if label.step.saturating_sub(machine.trace_start) > kept {
					Trace::<T>::remove(machine_id, machine.trace_start);
					machine.trace_start = machine.trace_start.saturating_add(1);
				}
				machine.label = label;
				machine.open_round = None;
				Machines::<T>::insert(machine_id, machine);
				Rounds::<T>::insert(round_id, round);
				Self::deposit_event(Event::MachineAdvanced { machine: machine_id, label });
			}
			Body::Verdict { object, .. } => {
				round.light = Some(Light::Green);
				Rounds::<T>::insert(round_id, round);
				Validity::<T>::insert(
					object,
					ValidityRecord {
						round: round_id,
						light: Some(Light::Green),
						evidence: None,
						at: now,
					},
				);
				Self::deposit_event(Event::LightDecided {
					round: round_id,
					object: *object,
					light: Light::Green,
				});
			}
		}
		Ok(())
	}

	/// The signatures of every recorded statement of `round_id` with `body`, by seat index:
	/// the signer set of a certificate, whichever path recorded them. Bounded by the committee.
	pub(crate) fn agreeing_signatures(
		round_id: RoundId,
		body: &Body,
	) -> Result<SignaturesOf<T>, Error<T>> {
		let mut signatures: Vec<(u32, _)> = Votes::<T>::iter_prefix(round_id)
			.filter(|(_, (b, _))| b == body)
			.map(|(seat, (_, signature))| (seat, signature))
			.collect();
		signatures.sort_by_key(|(seat, _)| *seat);
		BoundedVec::try_from(signatures).map_err(|_| Error::<T>::Corrupt)
	}

	/// Returns what is left of the round's deposit to its opener.
	pub(crate) fn release_deposit(round: &mut RoundInfoOf<T>) -> DispatchResult {
		if !round.deposit.is_zero() {
			T::Currency::release(
				&HoldReason::RoundDeposit.into(),
				&round.opener,
				round.deposit,
				Precision::BestEffort,
			)?;
			round.deposit = Zero::zero();
		}
		Ok(())
	}

	/// Prunes rounds whose retention has passed, oldest first, within `remaining` weight and
	/// `MaxPrunePerBlock` rounds.
	pub(crate) fn prune_rounds(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let per_round = T::WeightInfo::prune_round(T::MaxCommittee::get());
		let mut used = db.reads_writes(2, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let (mut cursor, end) = (PruneCursor::<T>::get(), NextRoundId::<T>::get());
		let mut pruned = 0u32;
		while cursor < end
			&& pruned < T::MaxPrunePerBlock::get()
			&& remaining.all_gte(used.saturating_add(per_round))
		{
			if let Some(round) = Rounds::<T>::get(cursor) {
				let closed = Self::round_end(cursor, &round);
				if now <= closed.saturating_add(T::RoundRetention::get()) {
					break;
				}
				Self::do_prune(cursor, round);
			}
			used = used.saturating_add(per_round);
			pruned += 1;
			cursor += 1;
		}
		PruneCursor::<T>::put(cursor);
		used
	}

	/// When a round stopped taking statements. A level of a hierarchical round lives as long as
	/// its family: until the decision, or the deadline of the family's current level.
	fn round_end(round_id: RoundId, round: &RoundInfoOf<T>) -> BlockNumberFor<T> {
		if !round.is_decision() {
			return round.decided.unwrap_or(round.deadline);
		}
		let Ok(root) = Self::root_of(round_id, round) else { return round.deadline };
		if let Some(at) = root.decided {
			return at;
		}
		root.family
			.last()
			.and_then(|current| Rounds::<T>::get(*current))
			.map(|current| current.deadline)
			.unwrap_or(round.deadline)
	}

	fn do_prune(round_id: RoundId, round: RoundInfoOf<T>) {
		if !round.closed {
			// Past retention, so past the deadline and any challenge window: closing succeeds.
			if let Err(e) = Self::do_close_round(round_id, round.clone()) {
				log::warn!(target: crate::LOG_TARGET, "closing round {round_id} to prune it: {e:?}");
			}
		}
		let limit = T::MaxCommittee::get();
		let _ = Votes::<T>::clear_prefix(round_id, limit, None);
		let _ = Tallies::<T>::clear_prefix(round_id, limit, None);
		Committees::<T>::remove(round_id);
		Certificates::<T>::remove(round_id);
		Rounds::<T>::remove(round_id);
		Machines::<T>::mutate(round.machine, |m| {
			if let Some(m) = m {
				if m.open_round == Some(round_id) {
					m.open_round = None;
				}
			}
		});
		Self::deposit_event(Event::RoundPruned { round: round_id });
	}
}
