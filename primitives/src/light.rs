//! The traffic light (paper §7.2).
//!
//! Each evaluator signs a [`Verdict`] on a candidate object: Green (strictly good), Amber
//! (liberally good: e.g. it ran out of time) or Red (bad, with evidence any node can check).
//! The object's [`Light`]:
//!
//! - **Red** as soon as one red's evidence verifies;
//! - **Green** when there is no valid red and greens reach the committee's strong threshold;
//! - **Amber** when the round closes with neither.
//!
//! Once Red, nothing changes it. A Green can still be overturned by a valid red within a
//! challenge window. [`outcome`] is that rule; the pallet feeds it.
//!
//! Evidence is checked by an [`EvidenceVerifier`]; [`MerkleChunks`] is a real one: the object
//! commits to the Merkle root of its chunks and its size, and a red proves a chunk whose length
//! contradicts that commitment.

use crate::statement::Hash;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// What one evaluator says about an object.
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
pub enum Verdict {
	/// Strictly good.
	Green,
	/// Good by weaker, local criteria (e.g. could not finish checking in time).
	Amber,
	/// Bad: `evidence` is the blake2-256 hash of the evidence bytes, which travel beside the
	/// statement and are checked on chain.
	Red {
		/// Hash of the evidence.
		evidence: Hash,
	},
}

/// The light of an object.
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
pub enum Light {
	/// Valid.
	Green,
	/// Not valid, not condemned: the proposer's milder regime.
	Amber,
	/// Condemned by verified evidence.
	Red,
}

/// The object's light from what is known, or `None` while the round is still undecided.
///
/// `valid_red`: some red's evidence verified; `green_slots`: slots of green verdicts;
/// `closed`: the round's deadline has passed.
pub fn outcome(valid_red: bool, green_slots: u32, threshold: u32, closed: bool) -> Option<Light> {
	if valid_red {
		Some(Light::Red)
	} else if green_slots >= threshold {
		Some(Light::Green)
	} else if closed {
		Some(Light::Amber)
	} else {
		None
	}
}

/// An object under judgement: its commitment hash and declared size in bytes.
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
pub struct ObjectRef {
	/// The commitment (for [`MerkleChunks`], the Merkle root of the chunks).
	pub hash: Hash,
	/// The declared size in bytes.
	pub size: u32,
}

/// Checks a red's evidence against an object, deterministically, on every node.
pub trait EvidenceVerifier {
	/// Whether `evidence` proves `object` bad.
	fn verify(object: &ObjectRef, evidence: &[u8]) -> bool;
}

/// Blake2-256 as a `hash_db::Hasher`, for `binary-merkle-tree`.
pub struct Blake2Hasher;

/// A `core::hash::Hasher` that `hash_db` requires and nothing here uses for hashing.
#[derive(Default)]
pub struct NoStdHasher(u64);

impl core::hash::Hasher for NoStdHasher {
	fn finish(&self) -> u64 {
		self.0
	}
	fn write(&mut self, bytes: &[u8]) {
		for b in bytes {
			self.0 = self.0.rotate_left(8) ^ u64::from(*b);
		}
	}
}

impl hash_db::Hasher for Blake2Hasher {
	type Out = [u8; 32];
	type StdHasher = NoStdHasher;
	const LENGTH: usize = 32;
	fn hash(x: &[u8]) -> [u8; 32] {
		sp_crypto_hashing::blake2_256(x)
	}
}

/// Domain tag of a chunk's leaf in [`MerkleChunks`].
pub const LEAF_TAG: [u8; 8] = *b"cm/chunk";

/// Evidence for [`MerkleChunks`]: one chunk and its Merkle proof.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ChunkEvidence {
	/// The chunk's position.
	pub index: u32,
	/// The chunk's bytes.
	pub data: Vec<u8>,
	/// Sibling hashes from the leaf up.
	pub proof: Vec<Hash>,
}

/// The dev chain's evidence rule.
///
/// An object of `size` bytes is the Merkle root (blake2-256, `binary-merkle-tree`, leaves
/// `blake2_256(LEAF_TAG ++ chunk)`) of
/// `⌈size / CHUNK⌉` chunks, every chunk `CHUNK` bytes except the last, which holds the rest. A
/// red's evidence is a SCALE-encoded [`ChunkEvidence`] that
///
/// 1. proves the chunk at `index` is a leaf of `object.hash` among `⌈size / CHUNK⌉` leaves, and
/// 2. shows that chunk's length differs from what `size` requires (too long, too short, or
///    more than `CHUNK`).
///
/// So an object whose content does not match its declared size is condemned by anyone holding
/// one offending chunk, and no well-formed object, the pair (root, true size), can be condemned
/// (property-tested below). The same root with a false size is another object: a red against
/// it condemns only that pair, which is why the pallet keys verdicts by root *and* size.
/// Anything else is a false red.
pub struct MerkleChunks<const CHUNK: u32>;

impl<const CHUNK: u32> MerkleChunks<CHUNK> {
	/// Chunks an object of `size` bytes has.
	pub fn leaves(size: u32) -> u32 {
		size.div_ceil(CHUNK.max(1))
	}

	/// The length chunk `index` must have for an object of `size` bytes.
	pub fn expected_len(size: u32, index: u32) -> u32 {
		let start = index.saturating_mul(CHUNK);
		size.saturating_sub(start).min(CHUNK)
	}

	/// A leaf's hashed bytes: the chunk behind a domain tag, so that no inner node of the tree
	/// (the hash of two 32-byte hashes) can be passed off as a chunk.
	fn leaf(data: &[u8]) -> Vec<u8> {
		let mut leaf = Vec::with_capacity(LEAF_TAG.len() + data.len());
		leaf.extend_from_slice(&LEAF_TAG);
		leaf.extend_from_slice(data);
		leaf
	}

	/// The commitment of `chunks` (built off chain by proposers and evaluators).
	pub fn commit(chunks: &[Vec<u8>]) -> Hash {
		binary_merkle_tree::merkle_root::<Blake2Hasher, _>(chunks.iter().map(|c| Self::leaf(c)))
	}

	/// The evidence for chunk `index` of `chunks`.
	pub fn evidence(chunks: &[Vec<u8>], index: u32) -> Vec<u8> {
		let leaves = chunks.iter().map(|c| Self::leaf(c));
		let proof = binary_merkle_tree::merkle_proof::<Blake2Hasher, _, _>(leaves, index);
		ChunkEvidence { index, data: chunks[index as usize].clone(), proof: proof.proof }.encode()
	}

	/// The chunks of well-formed `content`.
	pub fn split(content: &[u8]) -> Vec<Vec<u8>> {
		content.chunks(CHUNK.max(1) as usize).map(|c| c.to_vec()).collect()
	}
}

impl<const CHUNK: u32> EvidenceVerifier for MerkleChunks<CHUNK> {
	fn verify(object: &ObjectRef, mut evidence: &[u8]) -> bool {
		let Ok(e) = ChunkEvidence::decode(&mut evidence) else { return false };
		if !evidence.is_empty() {
			return false;
		}
		let leaves = Self::leaves(object.size);
		let leaf = Self::leaf(&e.data);
		let proven = binary_merkle_tree::verify_proof::<Blake2Hasher, _, _>(
			&object.hash,
			e.proof,
			leaves,
			e.index,
			&leaf,
		);
		proven && e.data.len() as u64 != u64::from(Self::expected_len(object.size, e.index))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	type Rule = MerkleChunks<4>;

	#[test]
	fn the_light_follows_the_rule() {
		assert_eq!(outcome(true, 100, 8, false), Some(Light::Red));
		assert_eq!(outcome(false, 8, 8, false), Some(Light::Green));
		assert_eq!(outcome(false, 7, 8, false), None);
		assert_eq!(outcome(false, 7, 8, true), Some(Light::Amber));
		assert_eq!(outcome(true, 0, 8, true), Some(Light::Red));
	}

	#[test]
	fn an_honest_object_cannot_be_condemned() {
		let content = b"hello, consensus machine".to_vec();
		let chunks = Rule::split(&content);
		let object = ObjectRef { hash: Rule::commit(&chunks), size: content.len() as u32 };
		for i in 0..chunks.len() as u32 {
			assert!(!Rule::verify(&object, &Rule::evidence(&chunks, i)), "chunk {i}");
		}
		assert!(!Rule::verify(&object, b"garbage"));
		assert!(!Rule::verify(&object, &[]));
	}

	proptest::proptest! {
		/// No chunk of a well-formed object, with any proof, condemns the object with its true
		/// size; evidence that verifies against the same root with another declared size
		/// condemns only that (root, size) pair, which the pallet stores apart.
		#[test]
		fn no_evidence_condemns_a_well_formed_object(
			content in proptest::collection::vec(proptest::num::u8::ANY, 1..64),
			declared in 1u32..80,
			index in 0u32..20,
			tamper in proptest::num::u8::ANY,
		) {
			let chunks = Rule::split(&content);
			let root = Rule::commit(&chunks);
			let honest = ObjectRef { hash: root, size: content.len() as u32 };
			let index = index % chunks.len() as u32;
			let evidence = Rule::evidence(&chunks, index);
			proptest::prop_assert!(!Rule::verify(&honest, &evidence));
			// A chunk with a byte changed, or one byte more, under the honest proof.
			let mut e = ChunkEvidence::decode(&mut &evidence[..]).unwrap();
			e.data.push(tamper);
			proptest::prop_assert!(!Rule::verify(&honest, &e.encode()));
			e.data.pop();
			if let Some(first) = e.data.first_mut() {
				*first ^= tamper | 1;
			}
			proptest::prop_assert!(!Rule::verify(&honest, &e.encode()));
			// Any other declared size: a verdict against it is about another pair.
			let other = ObjectRef { hash: root, size: declared };
			if Rule::verify(&other, &evidence) {
				proptest::prop_assert_ne!(other, honest);
			}
		}
	}

	#[test]
	fn a_chunk_contradicting_the_size_condemns_the_object() {
		// Declared 8 bytes (two chunks of 4) but the second chunk has 6.
		let chunks = vec![b"abcd".to_vec(), b"efghij".to_vec()];
		let object = ObjectRef { hash: Rule::commit(&chunks), size: 8 };
		assert!(Rule::verify(&object, &Rule::evidence(&chunks, 1)));
		assert!(!Rule::verify(&object, &Rule::evidence(&chunks, 0)), "the first chunk is fine");
		// The same evidence against another root or size proves nothing.
		let other = ObjectRef { hash: [0; 32], size: 8 };
		assert!(!Rule::verify(&other, &Rule::evidence(&chunks, 1)));
		// Nor does a proof from another tree.
		let honest = Rule::split(b"abcdefgh");
		assert!(!Rule::verify(&object, &Rule::evidence(&honest, 1)));
		// Trailing bytes make evidence malformed.
		let mut padded = Rule::evidence(&chunks, 1);
		padded.push(0);
		assert!(!Rule::verify(&object, &padded));
	}
}
