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
//! The worker runs on every new best block, reorgs included, so it may meet one round id on
//! several forks. A statement binds its round's instance, so answering two forks is never an
//! equivocation; and before it signs, the worker records what each local key signs per (round
//! instance, level, kind) in the node's persistent off-chain storage, under a per-key
//! `StorageLock`, and never signs a body that conflicts with a recorded one. A record is
//! dropped once its round is [`RECORD_MARGIN`] rounds behind the chain's prune cursor.
//!
//! What a local key signs is the evaluator's: [`Evaluate::conduct`] is the good judgement on
//! a production node, and a demo network's evaluator may have some keys misbehave.

use crate::{
	crypto::{Public, Signature},
	pallet::*,
	types::{Duty, DutyTask, RoundKind},
	LOG_TARGET,
};
use alloc::vec::Vec;
use codec::Encode;
use consensus_machine_primitives::statement::{Body, Hash, Kind, Level, RoundId, Statement};
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{
	offchain::{
		storage::{MutateStorageError, StorageValueRef},
		storage_lock::{StorageLock, Time},
	},
	RuntimeAppPublic,
};

/// Prefix of the off-chain record of what a local key signed in a round: the key is
/// `SIGNED_PREFIX ++ SCALE(public key) ++ SCALE(round id)`, the value a list of
/// [`SignedRecord`]s.
pub const SIGNED_PREFIX: &[u8] = b"consensus-machine/signed/";
/// Prefix of a local key's lock over its records (`++ SCALE(public key)`).
const LOCK_PREFIX: &[u8] = b"consensus-machine/signed-lock/";
/// Prefix of the lowest round id a local key may still have a record for.
const FLOOR_PREFIX: &[u8] = b"consensus-machine/signed-floor/";
/// How many rounds behind the chain's prune cursor a record is kept: a round that far behind
/// was settled and pruned long before any fork the node could still switch to.
pub const RECORD_MARGIN: RoundId = 4_096;
/// Records dropped per key and block at most, so a node back from a long pause catches up
/// over several blocks.
const DROPS_PER_RUN: RoundId = 256;

/// What a local key signed: the round instance, level, kind of body and the body's hash.
pub type SignedRecord = (Hash, Level, Kind, Hash);

/// Whether a key may sign a statement, by its record of the round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
	/// Nothing conflicting was signed: the statement is now recorded.
	Recorded,
	/// The key already signed a different body of the same kind for the same round instance
	/// and level: signing would be an equivocation.
	Conflict,
	/// The record could not be read or written (undecodable, or a concurrent write).
	Unavailable,
}

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
	/// Whether this runtime's pickets can judge anything at all. `()` cannot: on a runtime
	/// built with it, every picket would be silent on every duty and be banned and slashed for
	/// silence it cannot help, so the pallet creates no machine by call and opens no round
	/// ([`Error::NoEvaluator`]).
	const JUDGES: bool = true;

	/// The judgement to sign for `task`, or `None` to stay silent.
	fn evaluate(task: &DutyTask) -> Option<Judgement>;

	/// What local picket `key` signs in `round` where a good picket signs `judgement`: that
	/// judgement (the default, and what a production node does), another one, or `None` for
	/// nothing. A test or demo network's evaluator may have some keys misbehave; what they
	/// sign goes through the same checks and penalties as anyone's.
	fn conduct(_key: &Public, _round: RoundId, judgement: Judgement) -> Option<Judgement> {
		Some(judgement)
	}

	/// Local picket `key` signed `statement` with `signature`; the worker submits it next.
	/// Nothing happens by default.
	fn signed(_key: &Public, _statement: &Statement, _signature: &Signature) {}
}

/// No evaluator: the node's pickets sign nothing, so no round may be opened (a runtime that
/// has not chosen what its pickets judge yet).
impl Evaluate for () {
	const JUDGES: bool = false;

	fn evaluate(_task: &DutyTask) -> Option<Judgement> {
		None
	}
}

impl<T: Config> Pallet<T> {
	/// What `key` should sign now: every live round that still takes statements, where `key`
	/// holds a seat without a statement (for a hierarchical round, only its current level).
	/// Off chain only (runtime API): it reads every live round.
	pub fn duties(key: &Public) -> Vec<Duty<BlockNumberFor<T>>> {
		Self::duties_of(core::slice::from_ref(key)).remove(key).unwrap_or_default()
	}

	/// [`Self::duties`] of each of `keys`, reading every live round and its committee once
	/// whatever the number of keys (a node's worker asks for all its keys at once).
	pub fn duties_of(
		keys: &[Public],
	) -> alloc::collections::BTreeMap<Public, Vec<Duty<BlockNumberFor<T>>>> {
		let now = frame_system::Pallet::<T>::block_number();
		let wanted: alloc::collections::BTreeSet<&Public> = keys.iter().collect();
		let mut duties = alloc::collections::BTreeMap::<Public, Vec<_>>::new();
		for id in PruneCursor::<T>::get()..NextRoundId::<T>::get() {
			let Some(round) = Rounds::<T>::get(id) else { continue };
			let Some(draw) = round.draw().filter(|_| round.takes_statements(now)) else {
				continue;
			};
			if round.decided().is_some() {
				continue;
			}
			let committee = Self::committee(id);
			let mut task = None;
			for (seat, member) in committee.iter().enumerate() {
				if !wanted.contains(&member.key) || Statements::<T>::contains_key(id, seat as u32) {
					continue;
				}
				let task = match &task {
					Some(task) => task,
					None => task.insert(match Self::duty_task(id, &round) {
						Some(task) => task,
						None => break,
					}),
				};
				duties.entry(member.key.clone()).or_default().push(Duty {
					round: id,
					machine: round.machine,
					level: round.level,
					instance: draw.instance,
					seat: seat as u32,
					slots: member.slots,
					deadline: draw.deadline,
					task: task.clone(),
				});
			}
		}
		duties
	}

	/// What a seat of live round `id` is asked to sign, if the round takes statements.
	fn duty_task(id: RoundId, round: &RoundInfoOf<T>) -> Option<DutyTask> {
		Some(match round.kind {
			RoundKind::Validity { object, .. } => DutyTask::Verdict { object },
			RoundKind::Primary { .. } | RoundKind::Backup { .. } => {
				let current = Self::family_root(id, round)
					.is_ok_and(|(_, root)| Self::is_current_level(id, &root));
				if !current {
					return None;
				}
				DutyTask::Decision { subject: round.subject, required: round.required() }
			}
			RoundKind::Transition { step } => {
				let machine = Machines::<T>::get(round.machine)?;
				DutyTask::Transition { step, from: machine.label.hash, subject: round.subject }
			}
		})
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
		// Every local seat of a round at a level has the same task: evaluate it once.
		let mut judged = alloc::collections::BTreeMap::new();
		let mut duties = Self::duties_of(&keys);
		for key in keys {
			// One worker at a time signs for a key: two blocks imported at once must not both
			// sign before either records.
			let lock_key = [LOCK_PREFIX, &key.encode()].concat();
			let mut lock = StorageLock::<Time>::new(&lock_key);
			let Ok(_guard) = lock.try_lock() else {
				log::debug!(target: LOG_TARGET, "another worker signs for {key:?}");
				continue;
			};
			Self::drop_old_records(&key);
			for duty in duties.remove(&key).unwrap_or_default() {
				let judgement = judged
					.entry((duty.round, duty.level))
					.or_insert_with(|| T::Evaluator::evaluate(&duty.task))
					.clone();
				let Some(judgement) = judgement else { continue };
				let Some(judgement) = T::Evaluator::conduct(&key, duty.round, judgement) else {
					continue;
				};
				let statement = Statement {
					genesis,
					machine: duty.machine,
					round: duty.round,
					instance: duty.instance,
					level: duty.level,
					body: judgement.body,
				};
				match Self::record_signing(&key, &statement) {
					Signing::Recorded => {}
					outcome => {
						log::warn!(
							target: LOG_TARGET,
							"not signing round {} for {key:?}: {outcome:?}",
							duty.round
						);
						continue;
					}
				}
				let Some(signature) = Self::sign(&key, &statement) else { continue };
				let evidence = judgement.evidence;
				if evidence.as_ref().is_some_and(|e| {
					e.len() > <T::MaxEvidenceLen as frame_support::traits::Get<u32>>::get() as usize
				}) {
					log::warn!(target: LOG_TARGET, "evidence too long for round {}", duty.round);
					continue;
				}
				T::Evaluator::signed(&key, &statement, &signature);
				let call =
					Call::submit_statement { statement, seat: duty.seat, signature, evidence };
				Self::submit_authorized(call, duty.round);
			}
		}
		for round in Self::due_handovers() {
			Self::submit_authorized(Call::start_handover { round }, round);
		}
	}

	/// Checks `statement` against what `key` signed before in its round and records it:
	/// [`Signing::Recorded`] when the key signed nothing conflicting (the same statement again
	/// is fine), so it may sign. Call with the key's lock held.
	pub fn record_signing(key: &Public, statement: &Statement) -> Signing {
		let storage_key = [SIGNED_PREFIX, &key.encode(), &statement.round.encode()].concat();
		let entry: SignedRecord = (
			statement.instance,
			statement.level,
			statement.body.kind(),
			statement.body.value_hash(),
		);
		let outcome = StorageValueRef::persistent(&storage_key).mutate(
			|stored: Result<Option<Vec<SignedRecord>>, _>| {
				let mut records = stored.map_err(|_| Signing::Unavailable)?.unwrap_or_default();
				let same = |r: &&SignedRecord| (r.0, r.1, r.2) == (entry.0, entry.1, entry.2);
				match records.iter().find(same) {
					Some(signed) if signed.3 != entry.3 => return Err(Signing::Conflict),
					Some(_) => {}
					None => records.push(entry),
				}
				Ok(records)
			},
		);
		match outcome {
			Ok(_) => Signing::Recorded,
			Err(MutateStorageError::ValueFunctionFailed(outcome)) => outcome,
			Err(MutateStorageError::ConcurrentModification(_)) => Signing::Unavailable,
		}
	}

	/// Drops `key`'s records of rounds more than [`RECORD_MARGIN`] behind the prune cursor,
	/// at most [`DROPS_PER_RUN`] of them. Call with the key's lock held.
	fn drop_old_records(key: &Public) {
		let encoded = key.encode();
		let floor_key = [FLOOR_PREFIX, &encoded].concat();
		let floor_ref = StorageValueRef::persistent(&floor_key);
		let floor = floor_ref.get::<RoundId>().ok().flatten().unwrap_or(0);
		let below = PruneCursor::<T>::get().saturating_sub(RECORD_MARGIN);
		let until = below.min(floor.saturating_add(DROPS_PER_RUN));
		if until <= floor {
			return;
		}
		for round in floor..until {
			StorageValueRef::persistent(&[SIGNED_PREFIX, &encoded, &round.encode()].concat())
				.clear();
		}
		floor_ref.set(&until);
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
