//! Committee roots: a 32-byte commitment to a round's committee that outlives the committee.
//!
//! A round's committee is big (one entry per seat) and is pruned with the round, but a picket
//! answers for what it signed as long as its bond is held. So the pallet keeps each round's
//! [`committee_root`] (a binary Merkle root, [`crate::merkle`]) for that long,
//! and a late report proves the signer's seat with a membership proof against it, as BABE and
//! GRANDPA equivocation reports prove the offender's key with a key-owner proof.
//!
//! A leaf is `MEMBER_TAG ++ SCALE(index, seat)`: the seat's position is part of what is
//! proven, and the tag keeps an inner node (two 32-byte hashes) from passing for a seat. The
//! seat count is not in the leaf: it comes from the pallet's record of the round, never from
//! the reporter, and [`crate::merkle::verify`] requires a path of exactly the shape of seat
//! `index` among that many.

use crate::{merkle, statement::Hash};
use alloc::vec::Vec;
use codec::Encode;

/// Domain tag of a committee leaf.
pub const MEMBER_TAG: [u8; 8] = *b"cm/membr";

/// The deepest path a committee of at most `2^32` seats needs.
pub const MAX_PATH: u32 = 32;

/// The hashed bytes of seat `index`.
pub fn leaf<S: Encode>(index: u32, seat: &S) -> Vec<u8> {
	let mut bytes = Vec::with_capacity(MEMBER_TAG.len() + 4 + seat.size_hint());
	bytes.extend_from_slice(&MEMBER_TAG);
	(index, seat).encode_to(&mut bytes);
	bytes
}

/// The root of a committee, seats in draw order.
pub fn committee_root<S: Encode>(seats: &[S]) -> Hash {
	merkle::root(seats.iter().enumerate().map(|(i, s)| leaf(i as u32, s)))
}

/// The path (sibling hashes from the leaf up) proving seat `index` of `seats`, or `None`
/// for an index outside the committee.
pub fn path<S: Encode>(seats: &[S], index: u32) -> Option<Vec<Hash>> {
	merkle::path(seats.iter().enumerate().map(|(i, s)| leaf(i as u32, s)), index)
}

/// Whether `path` proves that `seat` is seat `index` of the committee of `count` seats whose
/// root is `root`, with a path of exactly that seat's shape. Cost: one hash per path entry, at
/// most [`MAX_PATH`].
pub fn verify<S: Encode>(root: &Hash, count: u32, index: u32, seat: &S, path: &[Hash]) -> bool {
	if path.len() > MAX_PATH as usize {
		return false;
	}
	merkle::verify(root, count, index, &leaf(index, seat), path)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn committee(n: u32) -> Vec<([u8; 32], u32)> {
		(0..n).map(|i| ([i as u8; 32], i % 3 + 1)).collect()
	}

	#[test]
	fn every_seat_and_only_it_is_proven() {
		for n in [1u32, 2, 3, 5, 6, 7, 8, 9, 33] {
			let seats = committee(n);
			let root = committee_root(&seats);
			for i in 0..n {
				let p = path(&seats, i).unwrap();
				assert!(verify(&root, n, i, &seats[i as usize], &p), "seat {i} of {n}");
				// Another seat's content, another index, a wrong count or a wrong root fail.
				let other = ([0xee; 32], 1);
				assert!(!verify(&root, n, i, &other, &p));
				let more_slots = (seats[i as usize].0, seats[i as usize].1 + 1);
				assert!(!verify(&root, n, i, &more_slots, &p));
				for j in (0..n).filter(|&j| j != i) {
					assert!(!verify(&root, n, j, &seats[i as usize], &p), "index is bound");
				}
				// The same path for another seat count: other shapes, or the same shape over
				// the same root (count is the pallet's record, not the reporter's).
				for m in (1..=40).filter(|&m| m != n) {
					if verify(&root, m, i, &seats[i as usize], &p) {
						assert_eq!(merkle::path_len(m, i), merkle::path_len(n, i));
					}
				}
				let mut longer = p.clone();
				longer.push([0; 32]);
				assert!(!verify(&root, n, i, &seats[i as usize], &longer));
				assert!(!verify(&[0; 32], n, i, &seats[i as usize], &p));
				assert!(!verify(&root, n, n, &seats[i as usize], &p), "index beyond count");
			}
			assert_eq!(path(&seats, n), None);
		}
	}

	#[test]
	fn an_inner_node_is_not_a_seat() {
		let seats = committee(4);
		let root = committee_root(&seats);
		// The hash of leaves 0 and 1 is an inner node; claiming it as a one-hash "seat" at
		// the level above fails, since leaves are tagged.
		let p = path(&seats, 0).unwrap();
		let inner = p[1];
		assert!(!verify(&root, 2, 1, &inner, &[]));
		assert!(!verify(&root, 4, 0, &inner, &p[1..]));
	}
}
