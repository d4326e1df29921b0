//! How the dev chain's agents judge its demo machines and objects ([`DemoEvaluator`]).

use alloc::vec::Vec;
use consensus_machine_primitives::{
	light::{MerkleChunks, ObjectRef, Verdict},
	statement::{Body, Hash},
};
use pallet_consensus_machine::{
	offchain::{Evaluate, Judgement},
	types::DutyTask,
};
use sp_io::hashing::blake2_256;

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

/// The demo objects a driver proposes: well formed, or provably bad.
pub trait DemoObjects {
	/// The commitment to the demo object of `size` bytes, well formed if `good`.
	fn object(size: u32, good: bool) -> ObjectRef;
}

impl<const CHUNK: u32> DemoObjects for DemoEvaluator<CHUNK> {
	fn object(size: u32, good: bool) -> ObjectRef {
		DemoEvaluator::<CHUNK>::object(size, good)
	}
}
