//! Signed statements (paper §5).
//!
//! Every picket action is a [`Statement`]: the chain's genesis hash (no cross-chain replay), the
//! machine, the round, the round's [instance](round_instance), the committee level and a
//! [`Body`]. What a picket key signs is
//! [`Statement::signing_payload`]: the SCALE encoding prefixed by [`STATEMENT_TAG`], so the pallet,
//! the node's agents and any light client build the same bytes.

use crate::light::Verdict;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A 32-byte hash (blake2-256 wherever this crate computes one).
pub type Hash = [u8; 32];
/// A machine's identifier.
pub type MachineId = u32;
/// A round's identifier, unique across machines.
pub type RoundId = u64;
/// A committee level: 0 is the primary; higher levels are backups.
pub type Level = u8;

/// Domain tag of a statement's signing payload.
pub const STATEMENT_TAG: [u8; 8] = *b"cm/stmt2";
/// Domain tag of a round instance.
pub const INSTANCE_TAG: [u8; 8] = *b"cm/inst1";
/// Domain tag of a key registration's proof of possession.
pub const POSSESSION_TAG: [u8; 8] = *b"cm/pop01";
/// Domain tag of a unitary machine's state label.
pub const LABEL_TAG: [u8; 8] = *b"cm/label";

/// What a statement says.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Body {
	/// A unitary machine's step: from the state labelled `from` at step `step`, the high-level
	/// machine outputs `output` and moves to the state with hash `to`.
	Transition {
		/// The step being decided.
		step: u64,
		/// The machine's current label hash (chained over the whole trace).
		from: Hash,
		/// Hash of the step's output.
		output: Hash,
		/// Hash of the high-level machine's next state.
		to: Hash,
	},
	/// A vote in a round of a hierarchical machine (see [`crate::handover`]): at level 0 a
	/// pre-decision (`None` is `Null`, "I cannot endorse anything"), at a backup level a value.
	Decision {
		/// The value endorsed, if any.
		value: Option<Hash>,
	},
	/// A traffic-light verdict on the object of a validity round.
	Verdict {
		/// The object's commitment hash.
		object: Hash,
		/// Green, amber, or red with the hash of its evidence.
		verdict: Verdict,
	},
}

/// The kind of a body: two different statements of one kind by one key for the same (machine,
/// round, level) are an equivocation.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Kind {
	/// [`Body::Transition`].
	Transition,
	/// [`Body::Verdict`].
	Verdict,
	/// [`Body::Decision`].
	Decision,
}

impl Body {
	/// This body's kind.
	pub fn kind(&self) -> Kind {
		match self {
			Body::Transition { .. } => Kind::Transition,
			Body::Verdict { .. } => Kind::Verdict,
			Body::Decision { .. } => Kind::Decision,
		}
	}

	/// The key a tally counts this body under: a decision's value itself (so the handover can
	/// read values back from tallies), any other body's [`value_hash`](Self::value_hash).
	/// `None` for a `Null` decision, which is never counted.
	pub fn tally_key(&self) -> Option<Hash> {
		match self {
			Body::Decision { value } => *value,
			other => Some(other.value_hash()),
		}
	}

	/// The body as a handover vote, for [`Body::Decision`].
	pub fn as_vote(&self) -> Option<crate::handover::Vote<Hash>> {
		match self {
			Body::Decision { value } => Some((*value).into()),
			_ => None,
		}
	}

	/// Whether agreeing statements with this body decide a round at the threshold: a
	/// transition or a green verdict. Amber never decides; a red decides alone, with evidence.
	pub fn decides_at_threshold(&self) -> bool {
		matches!(self, Body::Transition { .. } | Body::Verdict { verdict: Verdict::Green, .. })
	}

	/// The value a tally counts: agreeing statements have equal bodies, hence equal hashes.
	pub fn value_hash(&self) -> Hash {
		sp_crypto_hashing::blake2_256(&self.encode())
	}
}

/// A statement as a picket signs it.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Statement {
	/// The chain's genesis hash: a statement for one chain is worthless on another.
	pub genesis: Hash,
	/// The machine.
	pub machine: MachineId,
	/// The round.
	pub round: RoundId,
	/// The round's instance (see [`round_instance`]): round ids come from a counter, so two
	/// forks can give one id to different rounds; the instance tells them apart.
	pub instance: Hash,
	/// The committee level within the round.
	pub level: Level,
	/// What is said.
	pub body: Body,
}

/// The instance of a round: `blake2_256(INSTANCE_TAG ++ parent ++ SCALE(question) ++ seed)`,
/// where `parent` is the hash of the parent of the block that opened the round, `question`
/// everything the round was opened about (the pallet puts machine, id, level, subject or object,
/// kind and the committee's root) and `seed` the committee draw's seed.
///
/// Two blocks that open the same round id on two forks give it the same instance only when they
/// share the parent, the question and the seed, that is when they open the same round with the
/// same committee: an honest picket then has one thing to say. A statement is bound to its
/// instance, so what a picket signs on one fork is never an equivocation on another.
pub fn round_instance(parent: &[u8], question: &impl Encode, seed: &Hash) -> Hash {
	let mut bytes = Vec::with_capacity(8 + parent.len() + question.size_hint() + 32);
	bytes.extend_from_slice(&INSTANCE_TAG);
	bytes.extend_from_slice(parent);
	question.encode_to(&mut bytes);
	bytes.extend_from_slice(seed);
	sp_crypto_hashing::blake2_256(&bytes)
}

impl Statement {
	/// The bytes a picket key signs: `STATEMENT_TAG ++ SCALE(statement)`.
	pub fn signing_payload(&self) -> Vec<u8> {
		(STATEMENT_TAG, self).encode()
	}
}

/// Why two statements are not an equivocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotEquivocation {
	/// They are for different chains, machines, rounds, round instances, levels or kinds of
	/// body.
	DifferentContext,
	/// They say the same thing.
	SameBody,
}

/// Whether two statements, signed by one key, are an equivocation: same (genesis, machine,
/// round, instance, level, kind), different bodies. The caller checks both signatures.
///
/// Statements for two instances of one round id (two forks) are never an equivocation, even
/// when they disagree: each is the honest answer to a different round.
pub fn check_equivocation(a: &Statement, b: &Statement) -> Result<(), NotEquivocation> {
	let same_context = a.genesis == b.genesis
		&& a.machine == b.machine
		&& a.round == b.round
		&& a.instance == b.instance
		&& a.level == b.level
		&& a.body.kind() == b.body.kind();
	if !same_context {
		return Err(NotEquivocation::DifferentContext);
	}
	if a.body == b.body {
		return Err(NotEquivocation::SameBody);
	}
	Ok(())
}

/// The bytes a picket key signs to prove it belongs to `account` on the chain with `genesis`
/// (registration and key rotation), so nobody can squat another agent's key.
pub fn possession_payload<AccountId: Encode>(account: &AccountId, genesis: &Hash) -> Vec<u8> {
	(POSSESSION_TAG, account, genesis).encode()
}

/// A unitary machine's state label `(step, hash)`: the hash chains over the trace, so a state the
/// high-level machine revisits gets a new label.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Label {
	/// Steps certified so far.
	pub step: u64,
	/// `blake2_256(LABEL_TAG ++ previous hash ++ step ++ output ++ to)`, or the genesis label's
	/// hash for step 0.
	pub hash: Hash,
}

impl Label {
	/// The first label of a machine: step 0, hash of the machine's initial state commitment.
	pub fn genesis(machine: MachineId, initial_state: &Hash) -> Self {
		Self {
			step: 0,
			hash: sp_crypto_hashing::blake2_256(&(LABEL_TAG, machine, initial_state).encode()),
		}
	}

	/// The label after a certified transition from this one, or `None` when the transition does
	/// not start here (stale step or wrong `from`).
	pub fn advance(&self, body: &Body) -> Option<Self> {
		match body {
			Body::Verdict { .. } | Body::Decision { .. } => None,
			Body::Transition { step, from, output, to } => {
				if *step != self.step || *from != self.hash {
					return None;
				}
				let hash =
					sp_crypto_hashing::blake2_256(&(LABEL_TAG, from, step, output, to).encode());
				Some(Self { step: self.step.checked_add(1)?, hash })
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn transition(step: u64, from: Hash) -> Body {
		Body::Transition { step, from, output: [1; 32], to: [2; 32] }
	}

	#[test]
	fn payload_is_tagged_and_binds_every_field() {
		let s = Statement {
			genesis: [7; 32],
			machine: 1,
			round: 2,
			instance: [5; 32],
			level: 0,
			body: transition(0, [0; 32]),
		};
		let payload = s.signing_payload();
		assert_eq!(&payload[..8], b"cm/stmt2");
		assert_eq!(Statement::decode(&mut &payload[8..]).unwrap(), s);
		let mut other = s.clone();
		other.genesis = [8; 32];
		assert_ne!(other.signing_payload(), payload);
		other = s.clone();
		other.round = 3;
		assert_ne!(other.signing_payload(), payload);
		other = s.clone();
		other.instance = [6; 32];
		assert_ne!(other.signing_payload(), payload);
		other = s.clone();
		other.level = 1;
		assert_ne!(other.signing_payload(), payload);
	}

	#[test]
	fn instances_bind_parent_question_and_seed() {
		let base = round_instance(&[1; 32], &(1u32, 2u64), &[3; 32]);
		assert_eq!(base, round_instance(&[1; 32], &(1u32, 2u64), &[3; 32]));
		assert_ne!(base, round_instance(&[2; 32], &(1u32, 2u64), &[3; 32]), "parent");
		assert_ne!(base, round_instance(&[1; 32], &(1u32, 3u64), &[3; 32]), "question");
		assert_ne!(base, round_instance(&[1; 32], &(1u32, 2u64), &[4; 32]), "seed");
	}

	#[test]
	fn labels_chain_and_refuse_stale_or_foreign_transitions() {
		let start = Label::genesis(1, &[9; 32]);
		assert_ne!(start, Label::genesis(2, &[9; 32]), "machines get different labels");
		let next = start.advance(&transition(0, start.hash)).unwrap();
		assert_eq!(next.step, 1);
		assert_eq!(start.advance(&transition(1, start.hash)), None, "wrong step");
		assert_eq!(start.advance(&transition(0, [3; 32])), None, "wrong from");
		// Revisiting the same high-level state gives a new label.
		let again = next.advance(&transition(1, next.hash)).unwrap();
		assert_ne!(again.hash, next.hash);
	}

	#[test]
	fn equivocation_needs_one_context_and_two_bodies() {
		let a = Statement {
			genesis: [7; 32],
			machine: 1,
			round: 2,
			instance: [5; 32],
			level: 0,
			body: Body::Verdict { object: [1; 32], verdict: Verdict::Green },
		};
		let mut b = a.clone();
		assert_eq!(check_equivocation(&a, &b), Err(NotEquivocation::SameBody));
		b.body = Body::Verdict { object: [1; 32], verdict: Verdict::Amber };
		assert_eq!(check_equivocation(&a, &b), Ok(()));
		let mut c = b.clone();
		c.round = 3;
		assert_eq!(check_equivocation(&a, &c), Err(NotEquivocation::DifferentContext));
		// The same round id on another fork: a different instance, never an equivocation.
		c = b.clone();
		c.instance = [6; 32];
		assert_eq!(check_equivocation(&a, &c), Err(NotEquivocation::DifferentContext));
		c = b.clone();
		c.body = transition(0, [0; 32]);
		assert_eq!(check_equivocation(&a, &c), Err(NotEquivocation::DifferentContext));
		assert!(a.body.decides_at_threshold());
		assert!(!b.body.decides_at_threshold());
	}

	#[test]
	fn possession_payload_binds_account_and_chain() {
		assert_ne!(possession_payload(&1u64, &[0; 32]), possession_payload(&2u64, &[0; 32]));
		assert_ne!(possession_payload(&1u64, &[0; 32]), possession_payload(&1u64, &[1; 32]));
	}
}
