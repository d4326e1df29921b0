//! Misbehaviour on request.
//!
//! So that users can watch the machine cope, a node may ask some of its local pickets to
//! misbehave: it writes a SCALE-encoded `Vec<(`[`Behaviour`]`, Percent)>` under
//! [`BEHAVIOUR_KEY`] in its persistent off-chain storage (the dev node's
//! `--picket-behaviour silent=30`). The local keys, sorted, are dealt out in that order
//! ([`deal`]): the first `30 %` (rounded up) are silent, the next share gets the next
//! behaviour, the rest are good. Nothing on chain changes: the misbehaving statements go
//! through the same checks, and the penalties are the pallet's. A runtime gets this by wrapping
//! its evaluator in [`Misbehaving`]; the pallet's off-chain worker asks the evaluator what each
//! key signs ([`Evaluate::conduct`]) and tells it what was signed ([`Evaluate::signed`]).

use alloc::vec::Vec;
use codec::{Decode, Encode};
use consensus_machine_primitives::{
	light::Verdict,
	statement::{Body, RoundId, Statement},
};
use frame_system::offchain::{CreateAuthorizedTransaction, SubmitTransaction};
use pallet_consensus_machine::{
	crypto::{Public, Signature},
	offchain::{Evaluate, Judgement},
	types::{DutyTask, EquivocationProof, StoredSignature},
	Call, Config, Pallet,
};
use sp_io::hashing::blake2_256;
use sp_runtime::{offchain::storage::StorageValueRef, Percent, RuntimeAppPublic};

/// Where this module logs.
const LOG_TARGET: &str = "runtime::demo";

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
		let judgement = E::conduct(key, round, judgement)?;
		misbehave(role_of(key), judgement, round)
	}

	fn signed(key: &Public, statement: &Statement, signature: &Signature) {
		E::signed(key, statement, signature);
		if role_of(key) == Some(Behaviour::Equivocate) {
			equivocate::<T>(key, statement, signature);
		}
	}
}

/// The behaviour the node asked of its local key `key`: the local keys, sorted, are dealt the
/// behaviours in order ([`deal`]). Read afresh at each call: a dev node holds a few keys.
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

/// An equivocating picket also signs a statement contradicting `statement`; the node reports
/// the pair, as a gossip peer that saw both would.
fn equivocate<T: Config + CreateAuthorizedTransaction<Call<T>>>(
	key: &Public,
	statement: &Statement,
	signature: &Signature,
) {
	let other = Statement { body: contradict(&statement.body), ..statement.clone() };
	let Some(other_signature) = key.sign(&other.signing_payload()) else { return };
	let seat = Pallet::<T>::committee(statement.round)
		.iter()
		.position(|s| &s.key == key)
		.and_then(|index| Pallet::<T>::membership_proof(statement.round, index as u32));
	let Some(membership) = seat else { return };
	let report = Call::report_equivocation {
		membership,
		proof: alloc::boxed::Box::new(EquivocationProof {
			first: (statement.clone(), StoredSignature::from(signature.clone())),
			second: (other, StoredSignature::from(other_signature)),
		}),
	};
	let xt = T::create_authorized_transaction(report.into());
	if SubmitTransaction::<T, Call<T>>::submit_transaction(xt).is_err() {
		// Usually: the same report is already in the pool.
		log::debug!(target: LOG_TARGET, "a report for round {} was not accepted", statement.round);
	}
}
