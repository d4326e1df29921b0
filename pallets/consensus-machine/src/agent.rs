//! Picket agents: the off-chain worker that does a node's pickets' duties.
//!
//! On every imported block, for each picket key in the node's keystore, the worker asks
//! [`Pallet::duties`] what the key should sign, lets [`Config::Evaluator`] decide what a good
//! picket says, signs the statement with the keystore and submits it as a fee-less authorised
//! transaction (`CreateAuthorizedTransaction`, as `pallet-im-online` does for heartbeats). It
//! also submits the fee-less handover of any hierarchical round whose level timed out. The
//! pool keeps one statement per seat (`provides = (round, level, agent)`), so resubmitting on
//! the next block is harmless.

use crate::{crypto::Public, pallet::*, types::DutyTask, LOG_TARGET};
use consensus_machine_primitives::{
	light::Verdict,
	statement::{Body, Hash, RoundId, Statement},
};
use frame_system::offchain::{CreateAuthorizedTransaction, SubmitTransaction};
use sp_runtime::RuntimeAppPublic;

/// What a good picket says about a duty.
pub trait Evaluate {
	/// The body to sign for `task`, or `None` to stay silent.
	fn evaluate(task: &DutyTask) -> Option<Body>;
}

/// The dev chain's high-level machines and agents.
///
/// - Transition rounds run a **notary log**: the step's input is the opener's `subject` (a
///   document hash); the output is that hash and the next state is
///   `blake2_256("cm/notary" ++ from ++ subject)`, so every good picket computes the same.
/// - Validity rounds: the demo agent holds no object content, so it says Amber.
/// - Decision rounds (an oracle): adopt the required value, else answer
///   `blake2_256("cm/oracle" ++ subject)`.
pub struct DemoEvaluator;

impl DemoEvaluator {
	/// The notary log's transition from the state labelled `from` on input `subject`.
	pub fn notary_step(from: &Hash, subject: &Hash) -> (Hash, Hash) {
		let to = sp_io::hashing::blake2_256(&[&b"cm/notary"[..], from, subject].concat());
		(*subject, to)
	}

	/// The oracle's answer to `subject`.
	pub fn oracle(subject: &Hash) -> Hash {
		sp_io::hashing::blake2_256(&[&b"cm/oracle"[..], subject].concat())
	}
}

impl Evaluate for DemoEvaluator {
	fn evaluate(task: &DutyTask) -> Option<Body> {
		Some(match task {
			DutyTask::Transition { step, from, subject } => {
				let (output, to) = Self::notary_step(from, subject);
				Body::Transition { step: *step, from: *from, output, to }
			}
			DutyTask::Verdict { object } => {
				Body::Verdict { object: object.hash, verdict: Verdict::Amber }
			}
			DutyTask::Decision { subject, required } => {
				Body::Decision { value: Some(required.unwrap_or_else(|| Self::oracle(subject))) }
			}
		})
	}
}

impl<T: Config + CreateAuthorizedTransaction<Call<T>>> Pallet<T> {
	/// The off-chain worker's work for one block.
	pub(crate) fn run_agents() {
		let genesis = Self::genesis_hash();
		for key in Public::all() {
			for duty in Self::duties(&key) {
				let Some(body) = T::Evaluator::evaluate(&duty.task) else { continue };
				let statement = Statement {
					genesis,
					machine: duty.machine,
					round: duty.round,
					level: duty.level,
					body,
				};
				let Some(signature) = key.sign(&statement.signing_payload()) else {
					log::warn!(target: LOG_TARGET, "the keystore cannot sign for {key:?}");
					continue;
				};
				let call = Call::submit_statement {
					statement,
					signer: key.clone(),
					signature,
					evidence: None,
				};
				Self::submit_authorized(call, duty.round);
			}
		}
		for round in Self::due_handovers() {
			Self::submit_authorized(Call::start_handover { round }, round);
		}
	}

	fn submit_authorized(call: Call<T>, round: RoundId) {
		let xt = T::create_authorized_transaction(call.into());
		if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
			// Usually: the same statement is already in the pool.
			log::debug!(target: LOG_TARGET, "a transaction for round {round} was not accepted");
		}
	}

	/// Rounds of hierarchical machines whose current level timed out undecided and has a next
	/// level: anyone may hand them over.
	pub fn due_handovers() -> alloc::vec::Vec<RoundId> {
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
