//! The off-chain picket agents: the worker that does a node's pickets' duties.
//!
//! On every imported block, for each picket key in the node's keystore, the worker asks
//! [`Pallet::duties`] what the key should sign, lets [`Config::Evaluator`] decide what a good
//! picket says, signs the statement with the keystore and submits it as a fee-less authorised
//! transaction (`CreateAuthorizedTransaction`, as `pallet-im-online` does for heartbeats). It
//! also submits the fee-less handover of any hierarchical round whose level timed out
//! ([`Pallet::due_handovers`]). The pool keeps one statement per seat
//! (`provides = (round, level, agent)`), so resubmitting on the next block is harmless.
//!
//! With the `demo` feature, a node may ask some of its local pickets to misbehave (see
//! `crate::demo`).

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	types::{Duty, DutyTask, RoundKind},
	LOG_TARGET,
};
use alloc::vec::Vec;
use consensus_machine_primitives::statement::{Body, RoundId, Statement};
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::RuntimeAppPublic;

/// What a picket says about a duty: the body to sign and, for a red, the evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
	/// The statement's body.
	pub body: Body,
	/// The evidence a red verdict carries (its blake2-256 hash is in the body).
	pub evidence: Option<Vec<u8>>,
}

impl From<Body> for Judgement {
	fn from(body: Body) -> Self {
		Self { body, evidence: None }
	}
}

/// What a good picket says about a duty: the chain's own high-level machines and the way its
/// objects are judged, as the runtime defines them.
pub trait Evaluate {
	/// The judgement to sign for `task`, or `None` to stay silent.
	fn evaluate(task: &DutyTask) -> Option<Judgement>;
}

/// No evaluator: the node's pickets sign nothing (a runtime whose pickets judge elsewhere).
impl Evaluate for () {
	fn evaluate(_task: &DutyTask) -> Option<Judgement> {
		None
	}
}

impl<T: Config> Pallet<T> {
	/// What `key` should sign now: every live round that still takes statements, where `key`
	/// holds a seat without a statement (for a hierarchical round, only its current level).
	/// Off chain only (runtime API): it reads every live round.
	pub fn duties(key: &Public) -> Vec<Duty<BlockNumberFor<T>>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut duties = Vec::new();
		for id in PruneCursor::<T>::get()..NextRoundId::<T>::get() {
			let Some(round) = Rounds::<T>::get(id) else { continue };
			if round.closed || round.decided.is_some() || now > round.deadline {
				continue;
			}
			let Some(committee) = Committees::<T>::get(id) else { continue };
			let Some(seat) = committee.iter().position(|s| &s.key == key) else { continue };
			if Statements::<T>::contains_key(id, seat as u32) {
				continue;
			}
			let task = match round.kind {
				RoundKind::Validity { object, .. } => DutyTask::Verdict { object },
				RoundKind::Primary { .. } | RoundKind::Backup { .. } => {
					let current = Self::family_root(id, &round)
						.is_ok_and(|(_, root)| Self::is_current_level(id, &root));
					if !current {
						continue;
					}
					DutyTask::Decision { subject: round.subject, required: round.required() }
				}
				RoundKind::Transition { step } => {
					let Some(machine) = Machines::<T>::get(round.machine) else { continue };
					DutyTask::Transition { step, from: machine.label.hash, subject: round.subject }
				}
			};
			duties.push(Duty {
				round: id,
				machine: round.machine,
				level: round.level,
				seat: seat as u32,
				slots: committee[seat].slots,
				deadline: round.deadline,
				task,
			});
		}
		duties
	}

	/// Rounds of hierarchical machines whose current level timed out undecided and has a next
	/// level: anyone may hand them over.
	pub fn due_handovers() -> Vec<RoundId> {
		(PruneCursor::<T>::get()..NextRoundId::<T>::get())
			.filter(|id| {
				Self::authorize_handover(
					sp_runtime::transaction_validity::TransactionSource::Local,
					id,
				)
				.is_ok()
			})
			.collect()
	}
}

impl<T: Config + CreateAuthorizedTransaction<Call<T>>> Pallet<T> {
	/// The off-chain worker's work for one block.
	pub(crate) fn run_agents() {
		let genesis = Self::genesis_hash();
		let mut keys = Public::all();
		keys.sort();
		#[cfg(any(feature = "demo", test))]
		let mut roles = crate::demo::deal(keys.len(), &crate::demo::local_behaviours()).into_iter();
		// Every local seat of a round at a level has the same task: evaluate it once.
		let mut judged = alloc::collections::BTreeMap::new();
		for key in keys {
			#[cfg(any(feature = "demo", test))]
			let role = roles.next().flatten();
			for duty in Self::duties(&key) {
				let judgement = judged
					.entry((duty.round, duty.level))
					.or_insert_with(|| T::Evaluator::evaluate(&duty.task))
					.clone();
				let Some(judgement) = judgement else { continue };
				#[cfg(any(feature = "demo", test))]
				let Some(judgement) = crate::demo::misbehave(role, judgement, duty.round) else {
					continue;
				};
				let statement = Statement {
					genesis,
					machine: duty.machine,
					round: duty.round,
					level: duty.level,
					body: judgement.body,
				};
				let Some(signature) = Self::sign(&key, &statement) else { continue };
				let Ok(evidence) = judgement.evidence.map(EvidenceOf::<T>::try_from).transpose()
				else {
					log::warn!(target: LOG_TARGET, "evidence too long for round {}", duty.round);
					continue;
				};
				#[cfg(any(feature = "demo", test))]
				if role == Some(crate::demo::Behaviour::Equivocate) {
					Self::equivocate(&key, &statement, &signature);
				}
				let call =
					Call::submit_statement { statement, signer: key.clone(), signature, evidence };
				Self::submit_authorized(call, duty.round);
			}
		}
		for round in Self::due_handovers() {
			Self::submit_authorized(Call::start_handover { round }, round);
		}
	}

	/// `key`'s signature on `statement`, from the keystore.
	pub(crate) fn sign(key: &Public, statement: &Statement) -> Option<Signature> {
		let signature = key.sign(&statement.signing_payload());
		if signature.is_none() {
			log::warn!(target: LOG_TARGET, "the keystore cannot sign for {key:?}");
		}
		signature
	}

	/// Submits `call` as a fee-less authorised transaction.
	pub(crate) fn submit_authorized(call: Call<T>, round: RoundId) {
		let xt = T::create_authorized_transaction(call.into());
		if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
			// Usually: the same statement is already in the pool.
			log::debug!(target: LOG_TARGET, "a transaction for round {round} was not accepted");
		}
	}
}
