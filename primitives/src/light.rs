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

use crate::{merkle, statement::Hash};
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
/// An object of `size` bytes is the Merkle root ([`merkle::root`]: blake2-256,
/// `binary-merkle-tree`'s construction) of its `n = ⌈size / CHUNK⌉` chunks, every chunk `CHUNK`
/// bytes except the last, which holds the rest. Leaf `i` hashes
/// `LEAF_TAG ++ SCALE(i: u32) ++ SCALE(n: u32) ++ chunk`: its position and the object's chunk
/// count are part of what the root commits to. A red's evidence is a SCALE-encoded
/// [`ChunkEvidence`] that
///
/// 1. proves the chunk at `index` is leaf `index` of `object.hash` among `n` leaves, with a
///    path of exactly that position's shape ([`merkle::verify`]), and
/// 2. shows that chunk's length differs from what `size` requires (too long, too short, or
///    more than `CHUNK`).
///
/// One path proves one chunk at one position of one chunk count, twice over: the leaf names
/// both and the path's shape must match the position. (With `binary-merkle-tree`'s own check
/// and untagged positions, the last chunk's genuine path also verified at other indices when
/// `n` is not a power of two, and a short last chunk then "contradicted" another position's
/// length: honest objects were condemned.)
///
/// So an object whose content does not match its declared size is condemned by anyone holding
/// one offending chunk, and no well-formed object, the pair (root, true size), can be condemned
/// (tested exhaustively for up to 130 chunks and property-tested below). The same root with a
/// false size is another object: a red against it condemns only that pair, which is why the
/// pallet keys verdicts by root *and* size. A root over another number of chunks than
/// `⌈size / CHUNK⌉` has no leaf this rule can prove, so it cannot be condemned, and neither can
/// its chunks be fetched and checked against the declared size: good pickets cannot call it
/// Green either. Anything else is a false red.
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

	/// A leaf's hashed bytes: the chunk behind a domain tag (so that no inner node of the tree,
	/// the hash of two 32-byte hashes, can be passed off as a chunk), its position and the
	/// object's chunk count.
	pub fn leaf(index: u32, leaves: u32, data: &[u8]) -> Vec<u8> {
		let mut leaf = Vec::with_capacity(LEAF_TAG.len() + 8 + data.len());
		leaf.extend_from_slice(&LEAF_TAG);
		(index, leaves).encode_to(&mut leaf);
		leaf.extend_from_slice(data);
		leaf
	}

	fn leaves_of(chunks: &[Vec<u8>]) -> impl ExactSizeIterator<Item = Vec<u8>> + '_ {
		let n = chunks.len() as u32;
		chunks.iter().enumerate().map(move |(i, c)| Self::leaf(i as u32, n, c))
	}

	/// The commitment of `chunks` (built off chain by proposers and evaluators).
	pub fn commit(chunks: &[Vec<u8>]) -> Hash {
		merkle::root(Self::leaves_of(chunks))
	}

	/// The evidence for chunk `index` of `chunks`, or `None` for an index outside them.
	pub fn evidence(chunks: &[Vec<u8>], index: u32) -> Option<Vec<u8>> {
		let proof = merkle::path(Self::leaves_of(chunks), index)?;
		let data = chunks.get(index as usize)?.clone();
		Some(ChunkEvidence { index, data, proof }.encode())
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
		let leaf = Self::leaf(e.index, leaves, &e.data);
		merkle::verify(&object.hash, leaves, e.index, &leaf, &e.proof)
			&& e.data.len() as u64 != u64::from(Self::expected_len(object.size, e.index))
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

	fn evidence(chunks: &[Vec<u8>], index: u32) -> Vec<u8> {
		Rule::evidence(chunks, index).unwrap()
	}

	fn relabel(evidence: &[u8], index: u32) -> Vec<u8> {
		let mut e = ChunkEvidence::decode(&mut &evidence[..]).unwrap();
		e.index = index;
		e.encode()
	}

	#[test]
	fn an_honest_object_cannot_be_condemned() {
		let content = b"hello, consensus machine".to_vec();
		let chunks = Rule::split(&content);
		let object = ObjectRef { hash: Rule::commit(&chunks), size: content.len() as u32 };
		for i in 0..chunks.len() as u32 {
			assert!(!Rule::verify(&object, &evidence(&chunks, i)), "chunk {i}");
		}
		assert_eq!(Rule::evidence(&chunks, chunks.len() as u32), None);
		assert!(!Rule::verify(&object, b"garbage"));
		assert!(!Rule::verify(&object, &[]));
	}

	/// The forgery `binary-merkle-tree`'s own check let through: an honest 19-byte object
	/// (chunks of 4, 4, 4, 4 and 3 bytes), its last chunk's genuine one-hash path relabelled as
	/// chunk 1, where 3 bytes "contradict" the 4 that chunk 1 must have.
	#[test]
	fn the_last_chunk_relabelled_is_no_evidence() {
		let chunks = Rule::split(b"a consensus machine");
		assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4, 4, 3]);
		let object = ObjectRef { hash: Rule::commit(&chunks), size: 19 };
		let genuine = evidence(&chunks, 4);
		for index in 0..=5 {
			assert!(!Rule::verify(&object, &relabel(&genuine, index)), "as chunk {index}");
		}
	}

	/// Every chunk's path at once (`evidence` builds the whole tree for each chunk): the tree's
	/// levels, odd last nodes promoted.
	fn all_paths(chunks: &[Vec<u8>]) -> Vec<Vec<Hash>> {
		let n = chunks.len() as u32;
		let mut level: Vec<Hash> = (0..n)
			.map(|i| sp_crypto_hashing::blake2_256(&Rule::leaf(i, n, &chunks[i as usize])))
			.collect();
		let mut paths = vec![Vec::new(); chunks.len()];
		let mut positions: Vec<usize> = (0..chunks.len()).collect();
		while level.len() > 1 {
			for (path, position) in paths.iter_mut().zip(positions.iter_mut()) {
				if let Some(sibling) = level.get(*position ^ 1) {
					path.push(*sibling);
				}
				*position /= 2;
			}
			level = level
				.chunks(2)
				.map(|pair| match pair {
					[l, r] => sp_crypto_hashing::blake2_256(&[*l, *r].concat()),
					[single] => *single,
					_ => unreachable!(),
				})
				.collect();
		}
		paths
	}

	/// For every chunk count from 1 to 130 (last chunks of every length) and every chunk, the
	/// genuine evidence proves that chunk at its own index only: relabelled to the indices
	/// around it, the last and the first, it proves nothing (every index is covered by the
	/// tree-level exhaustive test in `merkle`); checked against declared sizes of one chunk
	/// fewer or more it proves nothing; of its own chunk count it condemns only the lies
	/// (sizes under which that chunk must have another length), never the honest object.
	#[test]
	fn a_chunk_proof_proves_its_own_position_and_chunk_count_only() {
		for n in 1u32..=130 {
			let size = 4 * (n - 1) + n % 4 + 1;
			let content: Vec<u8> = (0..size).map(|b| (b % 251) as u8).collect();
			let chunks = Rule::split(&content);
			assert_eq!(chunks.len() as u32, n);
			let root = Rule::commit(&chunks);
			let honest = ObjectRef { hash: root, size };
			let paths = all_paths(&chunks);
			for i in 0..n {
				let genuine = ChunkEvidence {
					index: i,
					data: chunks[i as usize].clone(),
					proof: paths[i as usize].clone(),
				}
				.encode();
				if i % 17 == 0 || i == n - 1 {
					assert_eq!(genuine, evidence(&chunks, i), "the crate's own path");
				}
				assert!(!Rule::verify(&honest, &genuine), "chunk {i} of {n}");
				let others = [i.wrapping_sub(1), i + 1, n - 1, n];
				for j in others.into_iter().filter(|&j| j != i) {
					assert!(!Rule::verify(&honest, &relabel(&genuine, j)), "{i} as {j} of {n}");
				}
				for declared in [4 * n - 4, 4 * n + 1, 4 * n - 3, 4 * n] {
					let object = ObjectRef { hash: root, size: declared };
					let lie = Rule::leaves(declared) == n
						&& Rule::expected_len(declared, i) != chunks[i as usize].len() as u32;
					assert_eq!(Rule::verify(&object, &genuine), lie, "{i} of {n} as {declared}");
				}
			}
		}
	}

	/// Every honest object of 1 to 200 bytes: no chunk's genuine evidence, at any index,
	/// condemns it.
	#[test]
	fn honest_objects_of_every_size_give_no_red() {
		for size in 1u32..=200 {
			let content: Vec<u8> = (0..size).map(|b| (b * 7 % 256) as u8).collect();
			let chunks = Rule::split(&content);
			let n = chunks.len() as u32;
			let honest = ObjectRef { hash: Rule::commit(&chunks), size };
			for i in 0..n {
				let genuine = evidence(&chunks, i);
				for j in [i, n - 1, n] {
					assert!(!Rule::verify(&honest, &relabel(&genuine, j)), "{i} as {j} of {size}");
				}
			}
		}
	}

	proptest::proptest! {
		#![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
		/// Random objects and random abuse of a genuine chunk proof (relabelled, truncated,
		/// padded, reordered, another chunk's data, another declared size): whatever verifies
		/// is the genuine evidence, unchanged, against a declared size that is not the
		/// object's own, of the same chunk count. So no honest (root, true size) pair is ever
		/// condemned, and a proof proves one position.
		#[test]
		fn abused_proofs_prove_nothing_new(
			content in proptest::collection::vec(proptest::num::u8::ANY, 1..400),
			declared in 0u32..700,
			index in proptest::num::u32::ANY,
			relabel_to in proptest::num::u32::ANY,
			abuse in 0u8..6,
			filler in proptest::array::uniform32(proptest::num::u8::ANY),
		) {
			let chunks = Rule::split(&content);
			let n = chunks.len() as u32;
			let root = Rule::commit(&chunks);
			let honest = ObjectRef { hash: root, size: content.len() as u32 };
			let index = index % n;
			let genuine = evidence(&chunks, index);
			let mut e = ChunkEvidence::decode(&mut &genuine[..]).unwrap();
			match abuse {
				0 => e.index = relabel_to % (n + 2),
				1 => { e.proof.pop(); },
				2 => e.proof.push(filler),
				3 => e.proof.reverse(),
				4 => e.data = chunks[(relabel_to % n) as usize].clone(),
				_ => e.proof.insert(0, filler),
			}
			let abused = e.encode();
			for object in [honest, ObjectRef { hash: root, size: declared }] {
				for bytes in [&genuine, &abused] {
					if Rule::verify(&object, bytes) {
						proptest::prop_assert_ne!(object, honest);
						proptest::prop_assert_eq!(Rule::leaves(object.size), n);
						proptest::prop_assert_eq!(ChunkEvidence::decode(&mut &bytes[..]).unwrap(),
							ChunkEvidence::decode(&mut &genuine[..]).unwrap());
					}
				}
			}
		}
	}

	#[test]
	fn a_chunk_contradicting_the_size_condemns_the_object() {
		// Declared 8 bytes (two chunks of 4) but the second chunk has 6.
		let chunks = vec![b"abcd".to_vec(), b"efghij".to_vec()];
		let object = ObjectRef { hash: Rule::commit(&chunks), size: 8 };
		assert!(Rule::verify(&object, &evidence(&chunks, 1)));
		assert!(!Rule::verify(&object, &evidence(&chunks, 0)), "the first chunk is fine");
		assert!(!Rule::verify(&object, &relabel(&evidence(&chunks, 1), 0)));
		// The same evidence against another root or size proves nothing.
		let other = ObjectRef { hash: [0; 32], size: 8 };
		assert!(!Rule::verify(&other, &evidence(&chunks, 1)));
		// Nor does a proof from another tree.
		let honest = Rule::split(b"abcdefgh");
		assert!(!Rule::verify(&object, &evidence(&honest, 1)));
		// Trailing bytes make evidence malformed.
		let mut padded = evidence(&chunks, 1);
		padded.push(0);
		assert!(!Rule::verify(&object, &padded));
	}

	#[test]
	fn no_evidence_for_an_empty_object() {
		let chunks = vec![b"abc".to_vec()];
		let genuine = evidence(&chunks, 0);
		let empty = ObjectRef { hash: Rule::commit(&chunks), size: 0 };
		assert!(!Rule::verify(&empty, &genuine));
		let none = ChunkEvidence { index: 0, data: vec![], proof: vec![] }.encode();
		assert!(!Rule::verify(&ObjectRef { hash: Rule::commit(&[]), size: 0 }, &none));
	}
}
