//! Dev and test networks only (the `demo` cargo feature): the dev chain's demo machines and
//! how its agents judge them ([`DemoEvaluator`]), and misbehaviour on request.
//!
//! # Misbehaviour on request
//!
//! So that users can watch the machine cope, a node may ask some of its local pickets to
//! misbehave: it writes a SCALE-encoded `Vec<(`[`Behaviour`]`, Percent)>` under
//! [`BEHAVIOUR_KEY`] in its persistent off-chain storage (the dev node's
//! `--picket-behaviour silent=30`). The local keys, sorted, are dealt out in that order
//! ([`deal`]): the first `30 %` (rounded up) are silent, the next share gets the next
//! behaviour, the rest are good. Nothing on chain changes: the misbehaving statements go
//! through the same checks, and the penalties are the pallet's.

use crate::{
	crypto::{Public, Signature},
	offchain::{Evaluate, Judgement},
	pallet::*,
	types::{DutyTask, EquivocationProof, StoredSignature},
	LOG_TARGET,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use consensus_machine_primitives::{
	light::{MerkleChunks, ObjectRef, Verdict},
	statement::{Body, Hash, RoundId, Statement},
};
use frame_system::offchain::CreateAuthorizedTransaction;
use sp_io::hashing::blake2_256;
use sp_runtime::{offchain::storage::StorageValueRef, Percent, RuntimeAppPublic};

/// The notary log's transition from the state labelled `from` on input `subject`: the output is
/// the subject, the next state `blake2_256("cm/notary" ++ from ++ subject)`.
pub fn notary_step(from: &Hash, subject: &Hash) -> (Hash, Hash) {
	let to = blake2_256(&[&b"cm/notary"[..], from, subject].concat());
	(*subject, to)
}

/// The demo oracle's answer to `subject`: `blake2_256("cm/oracle" ++ subject)`.
pub fn oracle(subject: &Hash) -> Hash {
	blake2_256(&[&b"cm/oracle"[..], subject].concat())
}

/// Largest demo object the dev agents rebuild to judge (bigger objects get Amber).
pub const MAX_DEMO_OBJECT: u32 = 64 * 1024;

/// The dev chain's high-level machines and agents, for objects cut in `CHUNK`-byte chunks
/// (the chain's [`MerkleChunks`] rule).
///
/// - Transition rounds run a **notary log** ([`notary_step`]): the step's input is the
///   opener's `subject` (a document hash), so every good picket computes the same.
/// - Validity rounds judge **demo objects**: the content of an object of `size` bytes is
///   `i mod 251` for byte `i` ([`DemoEvaluator::chunks`]). A good agent rebuilds the object:
///   if the commitment matches the well-formed content it says Green; if it matches the same
///   content with one byte too many in the last chunk (what the demo driver proposes as a bad
///   object), Red with that chunk as evidence; otherwise (content it does not hold) Amber.
/// - Hierarchical rounds (an oracle, [`oracle`]): adopt the required value, else answer.
pub struct DemoEvaluator<const CHUNK: u32>;

impl<const CHUNK: u32> DemoEvaluator<CHUNK> {
	/// The chunks of the demo object of `size` bytes: well formed if `good`, else with one
	/// byte too many in the last chunk, which [`MerkleChunks`] proves bad.
	pub fn chunks(size: u32, good: bool) -> Vec<Vec<u8>> {
		let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
		let mut chunks = MerkleChunks::<CHUNK>::split(&content);
		if !good {
			if let Some(last) = chunks.last_mut() {
				last.push(0);
			}
		}
		chunks
	}

	/// The commitment the demo driver proposes for the demo object of `size` bytes.
	pub fn object(size: u32, good: bool) -> ObjectRef {
		ObjectRef { hash: MerkleChunks::<CHUNK>::commit(&Self::chunks(size, good)), size }
	}

	fn judge(object: &ObjectRef) -> Judgement {
		let amber = Body::Verdict { object: object.hash, verdict: Verdict::Amber }.into();
		if object.size == 0 || object.size > MAX_DEMO_OBJECT {
			return amber;
		}
		if Self::object(object.size, true) == *object {
			return Body::Verdict { object: object.hash, verdict: Verdict::Green }.into();
		}
		let bad = Self::chunks(object.size, false);
		if MerkleChunks::<CHUNK>::commit(&bad) != object.hash {
			return amber;
		}
		let last = (bad.len() as u32).saturating_sub(1);
		let Some(evidence) = MerkleChunks::<CHUNK>::evidence(&bad, last) else { return amber };
		let verdict = Verdict::Red { evidence: blake2_256(&evidence) };
		Judgement { body: Body::Verdict { object: object.hash, verdict }, evidence: Some(evidence) }
	}
}

impl<const CHUNK: u32> Evaluate for DemoEvaluator<CHUNK> {
	fn evaluate(task: &DutyTask) -> Option<Judgement> {
		Some(match task {
			DutyTask::Transition { step, from, subject } => {
				let (output, to) = notary_step(from, subject);
				Body::Transition { step: *step, from: *from, output, to }.into()
			}
			DutyTask::Verdict { object } => Self::judge(object),
			DutyTask::Decision { subject, required } => {
				Body::Decision { value: Some(required.unwrap_or_else(|| oracle(subject))) }.into()
			}
		})
	}
}

/// Evaluator `E`, whose local pickets misbehave as the node asked ([`BEHAVIOUR_KEY`]): a
/// silent picket signs nothing, a false red or a wrong green says so instead of `E`'s
/// judgement, and an equivocating one also signs a contradiction, which the node reports.
pub struct Misbehaving<T, E>(core::marker::PhantomData<(T, E)>);

impl<T: Config + CreateAuthorizedTransaction<Call<T>>, E: Evaluate> Evaluate for Misbehaving<T, E> {
	const JUDGES: bool = E::JUDGES;

	fn evaluate(task: &DutyTask) -> Option<Judgement> {
		E::evaluate(task)
	}

	fn conduct(key: &Public, round: RoundId, judgement: Judgement) -> Option<Judgement> {
		misbehave(role_of(key), judgement, round)
	}

	fn signed(key: &Public, statement: &Statement, signature: &Signature) {
		if role_of(key) == Some(Behaviour::Equivocate) {
			Pallet::<T>::equivocate(key, statement, signature);
		}
	}
}

/// The behaviour the node asked of its local key `key`: the local keys, sorted, are dealt the
/// behaviours in order ([`deal`]).
pub fn role_of(key: &Public) -> Option<Behaviour> {
	let mut keys = Public::all();
	keys.sort();
	let roles = deal(keys.len(), &local_behaviours());
	keys.iter().position(|k| k == key).and_then(|i| roles.get(i).copied().flatten())
}

/// Key of the local pickets' behaviour in the node's persistent off-chain storage.
pub const BEHAVIOUR_KEY: &[u8] = b"consensus-machine::picket-behaviour";

/// A misbehaviour a node may ask of a share of its local pickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Behaviour {
	/// Sign nothing (handovers and misses follow).
	Silent,
	/// Sign the good statement and a conflicting one; the node, standing in for a gossip peer
	/// that saw both, reports the pair ([`Call::report_equivocation`], fee-less).
	Equivocate,
	/// Say Red on every object, with evidence that proves nothing.
	FalseRed,
	/// Say Green on every object, bad ones included.
	WrongGreen,
}

impl core::str::FromStr for Behaviour {
	type Err = &'static str;
	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"silent" => Ok(Self::Silent),
			"equivocate" => Ok(Self::Equivocate),
			"false-red" => Ok(Self::FalseRed),
			"wrong-green" => Ok(Self::WrongGreen),
			_ => Err("expected silent, equivocate, false-red or wrong-green"),
		}
	}
}

/// Parses `kind[=percent]` (e.g. `silent=30`; the share defaults to 100 %).
pub fn parse_behaviour(s: &str) -> Result<(Behaviour, Percent), &'static str> {
	let (kind, share) = s.split_once('=').unwrap_or((s, "100"));
	let share: u8 = share.parse().map_err(|_| "the share must be a whole percentage")?;
	if share > 100 {
		return Err("the share must be at most 100");
	}
	Ok((kind.parse()?, Percent::from_percent(share)))
}

/// Deals `behaviours` out to `keys` sorted keys: each takes its share of all keys (rounded up)
/// from what is left, in order; the remaining keys are good (`None`).
pub fn deal(keys: usize, behaviours: &[(Behaviour, Percent)]) -> Vec<Option<Behaviour>> {
	let mut roles = Vec::with_capacity(keys);
	for (behaviour, share) in behaviours {
		let count = share.mul_ceil(keys as u64) as usize;
		let count = count.min(keys - roles.len());
		roles.extend(core::iter::repeat_n(Some(*behaviour), count));
	}
	roles.resize(keys, None);
	roles
}

/// The behaviours the node asked for, if any.
pub fn local_behaviours() -> Vec<(Behaviour, Percent)> {
	match StorageValueRef::persistent(BEHAVIOUR_KEY).get::<Vec<(Behaviour, Percent)>>() {
		Ok(found) => found.unwrap_or_default(),
		Err(_) => {
			log::warn!(target: LOG_TARGET, "undecodable picket behaviour: all pickets are good");
			Vec::new()
		}
	}
}

/// A statement that contradicts `body` (for an equivocation).
fn contradict(body: &Body) -> Body {
	match body {
		Body::Transition { step, from, output, to } => Body::Transition {
			step: *step,
			from: *from,
			output: blake2_256(output),
			to: blake2_256(to),
		},
		Body::Decision { value } => Body::Decision { value: Some(blake2_256(&value.encode())) },
		Body::Verdict { object, verdict } => Body::Verdict {
			object: *object,
			verdict: if *verdict == Verdict::Green { Verdict::Amber } else { Verdict::Green },
		},
	}
}

/// What a picket with `behaviour` says instead of the good `judgement` (`None`: nothing).
fn misbehave(
	behaviour: Option<Behaviour>,
	judgement: Judgement,
	round: RoundId,
) -> Option<Judgement> {
	let Body::Verdict { object, .. } = judgement.body else {
		return (behaviour != Some(Behaviour::Silent)).then_some(judgement);
	};
	match behaviour {
		Some(Behaviour::Silent) => None,
		Some(Behaviour::FalseRed) => {
			let evidence = (b"cm/false-red", round).encode();
			let verdict = Verdict::Red { evidence: blake2_256(&evidence) };
			Some(Judgement { body: Body::Verdict { object, verdict }, evidence: Some(evidence) })
		}
		Some(Behaviour::WrongGreen) => {
			Some(Body::Verdict { object, verdict: Verdict::Green }.into())
		}
		Some(Behaviour::Equivocate) | None => Some(judgement),
	}
}

impl<T: Config + CreateAuthorizedTransaction<Call<T>>> Pallet<T> {
	/// An equivocating picket also signs a statement contradicting `statement`; the node
	/// reports the pair, as a gossip peer that saw both would.
	pub(crate) fn equivocate(key: &Public, statement: &Statement, signature: &Signature) {
		let other = Statement { body: contradict(&statement.body), ..statement.clone() };
		let Some(other_signature) = Self::sign(key, &other) else { return };
		let seat = Self::committee(statement.round)
			.iter()
			.position(|s| &s.key == key)
			.and_then(|index| Self::membership_proof(statement.round, index as u32));
		let Some(membership) = seat else { return };
		let report = Call::report_equivocation {
			membership,
			proof: alloc::boxed::Box::new(EquivocationProof {
				first: (statement.clone(), StoredSignature::from(signature.clone())),
				second: (other, StoredSignature::from(other_signature)),
			}),
		};
		Self::submit_authorized(report, statement.round);
	}
}
