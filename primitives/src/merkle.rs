//! Binary Merkle trees whose proofs prove exactly one position.
//!
//! Trees are built by `binary-merkle-tree` (blake2-256; a pair hashes as `H(left ++ right)`; an
//! odd node at the end of a level is promoted to the level above unhashed), and every proof in
//! this workspace is checked by [`verify`] here, never by that crate's `verify_proof`. The
//! crate's check uses the claimed index only to order each pair and takes whatever path it is
//! given: when the leaf count is not a power of two, the last leaf's genuine path also
//! verifies at other indices (its promoted levels contribute no hash, and the crate's check
//! treats the last position of a level as a right child). A chunk rule that believed the
//! claimed index would then judge a chunk by another position's expected length.
//!
//! [`verify`] walks the tree's shape for the claimed `(leaves, index)`: at each level a left
//! child takes its sibling from the right, a right child from the left, and a promoted node
//! takes none; the path must have exactly [`path_len`] hashes. For a fixed leaf count the shape
//! of a path determines its index, so one path proves one position of one leaf count. Paths of
//! *different* leaf counts can share a shape (leaf 0 of 3 and of 4 leaves both take two right
//! siblings), so callers also hash the position and the leaf count into the leaf: the chunk
//! rule ([`crate::light::MerkleChunks`]) does both; a committee leaf
//! ([`crate::membership`]) hashes its index, and its seat count comes from storage, not from
//! the caller.

use crate::statement::Hash;
use alloc::vec::Vec;

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

/// The root of the tree whose leaves hash the given bytes (`[0; 32]` for no leaves).
pub fn root<I>(leaves: I) -> Hash
where
	I: IntoIterator,
	I::Item: AsRef<[u8]>,
{
	binary_merkle_tree::merkle_root::<Blake2Hasher, _>(leaves)
}

/// The path (sibling hashes from the leaf up) of leaf `index`, or `None` for an index outside
/// the leaves.
pub fn path<I>(leaves: I, index: u32) -> Option<Vec<Hash>>
where
	I: IntoIterator,
	I::Item: AsRef<[u8]>,
	I::IntoIter: ExactSizeIterator,
{
	let leaves = leaves.into_iter();
	if index as usize >= leaves.len() {
		return None;
	}
	Some(binary_merkle_tree::merkle_proof::<Blake2Hasher, _, _>(leaves, index).proof)
}

/// How many hashes the path of leaf `index` among `leaves` has, or `None` for an index outside
/// the leaves: one per level where the leaf's ancestor is not the promoted last node.
pub fn path_len(leaves: u32, index: u32) -> Option<u32> {
	if index >= leaves {
		return None;
	}
	let (mut width, mut position, mut len) = (leaves, index, 0);
	while width > 1 {
		if position % 2 == 1 || position + 1 < width {
			len += 1;
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	Some(len)
}

/// Whether `path` proves that the bytes `leaf` are leaf `index` of the tree of `leaves` leaves
/// whose root is `root`: the path must have exactly the shape of that position. Cost: one hash
/// for the leaf and one per path entry, at most 33 in all.
pub fn verify(root: &Hash, leaves: u32, index: u32, leaf: &[u8], path: &[Hash]) -> bool {
	verify_with::<Blake2Hasher>(root, leaves, index, leaf, path)
}

/// [`verify`] with another hash function (the exhaustive tests use a fast one).
fn verify_with<H: hash_db::Hasher<Out = Hash>>(
	root: &Hash,
	leaves: u32,
	index: u32,
	leaf: &[u8],
	path: &[Hash],
) -> bool {
	// Also bounds the work: no path longer than the tree is deep is hashed.
	if path_len(leaves, index) != Some(path.len() as u32) {
		return false;
	}
	let mut node = H::hash(leaf);
	let mut siblings = path.iter();
	let (mut width, mut position) = (leaves, index);
	let mut pair = [0u8; 64];
	while width > 1 {
		let promoted = position % 2 == 0 && position + 1 == width;
		if !promoted {
			let Some(sibling) = siblings.next() else { return false };
			let (left, right) = if position % 2 == 1 { (sibling, &node) } else { (&node, sibling) };
			pair[..32].copy_from_slice(left);
			pair[32..].copy_from_slice(right);
			node = H::hash(&pair);
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && node == *root
}

#[cfg(test)]
mod tests {
	use super::*;

	fn leaves(n: u32) -> Vec<[u8; 4]> {
		(0..n).map(u32::to_le_bytes).collect()
	}

	/// A fast 256-bit mixing hash for the exhaustive test (blake2 takes ~30 µs a call in an
	/// unoptimised test build): four independent 64-bit FNV-1a lanes with a final avalanche,
	/// ample against accidental collisions among a few million nodes.
	struct Fast;

	impl hash_db::Hasher for Fast {
		type Out = Hash;
		type StdHasher = NoStdHasher;
		const LENGTH: usize = 32;
		fn hash(x: &[u8]) -> Hash {
			let mut out = [0u8; 32];
			for (lane, chunk) in out.chunks_mut(8).enumerate() {
				let mut h =
					0xcbf2_9ce4_8422_2325u64 ^ (lane as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
				for b in x {
					h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
				}
				h ^= x.len() as u64;
				h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
				h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
				chunk.copy_from_slice(&(h ^ (h >> 33)).to_le_bytes());
			}
			out
		}
	}

	/// Every path `binary-merkle-tree` builds verifies at its own index and no other index of
	/// the same tree, for every leaf count from 1 to 130 and every leaf, and has the length
	/// `path_len` predicts; one hash too few or too many fails.
	#[test]
	fn a_path_proves_its_own_position_only() {
		for n in 1u32..=130 {
			let leaves = leaves(n);
			let root = binary_merkle_tree::merkle_root::<Fast, _>(&leaves);
			for i in 0..n {
				let path = binary_merkle_tree::merkle_proof::<Fast, _, _>(&leaves, i).proof;
				let leaf = &leaves[i as usize];
				let check = |j, path: &[Hash]| verify_with::<Fast>(&root, n, j, leaf, path);
				assert_eq!(path_len(n, i), Some(path.len() as u32), "{i} of {n}");
				assert!(check(i, &path), "{i} of {n}");
				for j in (0..=n).filter(|&j| j != i) {
					assert!(!check(j, &path), "{i} as {j} of {n}");
				}
				let mut longer = path.clone();
				longer.push([0; 32]);
				assert!(!check(i, &longer));
				if let Some((_, shorter)) = path.split_last() {
					assert!(!check(i, shorter));
				}
			}
			assert_eq!(path_len(n, n), None);
		}
	}

	/// The same with blake2 on small trees, through the public functions.
	#[test]
	fn a_blake2_path_proves_its_own_position_only() {
		for n in 1u32..=12 {
			let leaves = leaves(n);
			let root = root(&leaves);
			for i in 0..n {
				let path = path(&leaves, i).unwrap();
				for j in 0..=n {
					assert_eq!(verify(&root, n, j, &leaves[i as usize], &path), i == j);
				}
			}
			assert_eq!(super::path(&leaves, n), None);
		}
	}

	/// The attack `binary-merkle-tree`'s own check lets through, refused here: the last leaf of
	/// five, its one-hash path relabelled as leaf 1 (a right child whose single sibling is
	/// hashed on the left, as for the last leaf).
	#[test]
	fn the_last_leafs_path_is_not_another_leafs() {
		let leaves = leaves(5);
		let root = root(&leaves);
		let path = path(&leaves, 4).unwrap();
		assert_eq!(path.len(), 1);
		let upstream = |index| {
			binary_merkle_tree::verify_proof::<Blake2Hasher, _, _>(
				&root,
				path.clone(),
				5,
				index,
				&leaves[4],
			)
		};
		let relabelled: Vec<u32> = (0..5).filter(|&j| upstream(j)).collect();
		assert!(relabelled.len() > 1, "the upstream check accepts the path at {relabelled:?}");
		assert_eq!((0..5).filter(|&j| verify(&root, 5, j, &leaves[4], &path)).count(), 1);
		assert!(verify(&root, 5, 4, &leaves[4], &path));
	}

	/// Paths of different leaf counts can share a shape, which is why leaves hash their count.
	#[test]
	fn the_shape_alone_does_not_bind_the_leaf_count() {
		let four = leaves(4);
		let path = path(&four, 0).unwrap();
		// The same two right siblings over leaf 0 of a three-leaf tree with that root.
		assert_eq!(path_len(3, 0), path_len(4, 0));
		assert!(verify(&root(&four), 3, 0, &four[0], &path));
	}

	#[test]
	fn no_leaves_no_proof() {
		assert_eq!(path_len(0, 0), None);
		assert!(!verify(&[0; 32], 0, 0, &[], &[]));
		for index in [0, 1, u32::MAX / 2, u32::MAX - 2, u32::MAX - 1] {
			assert!(path_len(u32::MAX, index).is_some_and(|len| len <= 32), "{index}");
		}
	}
}
