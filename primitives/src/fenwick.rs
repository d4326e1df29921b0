//! The stake tree's layout before the paged tree ([`crate::selection`]): a Fenwick (binary
//! indexed) tree, one value per node, `2 · log₂ P` node reads per slot across two maps.
//!
//! Kept for two readers: a storage migration that reads the old layout back into pages, and
//! the tests that check the paged tree draws exactly the committee this one drew (the
//! smallest index whose prefix sum exceeds the target).

use crate::{selection::slot_target, statement::Hash};
use alloc::vec::Vec;

/// Node access for a Fenwick tree over agent indices `0..capacity`; node `i` is 1-based.
pub trait StakeTree {
	/// Number of agent indices.
	fn capacity(&self) -> u32;
	/// Node `i` (`1..=capacity`).
	fn node(&self, i: u32) -> u128;
	/// Sets node `i`.
	fn set_node(&mut self, i: u32, value: u128);
}

/// Adds `amount` to agent `index`'s stake. Returns `false` (and changes nothing) when `index` is
/// out of range or a node would overflow.
pub fn add<T: StakeTree>(tree: &mut T, index: u32, amount: u128) -> bool {
	update(tree, index, |v| v.checked_add(amount))
}

/// Subtracts `amount` from agent `index`'s stake. Returns `false` (and changes nothing) when
/// `index` is out of range or the stake is smaller than `amount`.
pub fn sub<T: StakeTree>(tree: &mut T, index: u32, amount: u128) -> bool {
	if stake_of(tree, index) < amount {
		return false;
	}
	update(tree, index, |v| v.checked_sub(amount))
}

fn update<T: StakeTree>(tree: &mut T, index: u32, f: impl Fn(u128) -> Option<u128>) -> bool {
	let cap = tree.capacity();
	if index >= cap {
		return false;
	}
	// Compute every new node first so that a failure changes nothing.
	let mut writes = Vec::new();
	let mut i = index + 1;
	while i <= cap {
		match f(tree.node(i)) {
			Some(v) => writes.push((i, v)),
			None => return false,
		}
		i = match i.checked_add(i & i.wrapping_neg()) {
			Some(next) => next,
			None => break,
		};
	}
	for (i, v) in writes {
		tree.set_node(i, v);
	}
	true
}

/// Sum of the stakes of agents `0..=index`.
pub fn prefix<T: StakeTree>(tree: &T, index: u32) -> u128 {
	let mut i = index.saturating_add(1).min(tree.capacity());
	let mut sum = 0u128;
	while i > 0 {
		sum = sum.saturating_add(tree.node(i));
		i &= i - 1;
	}
	sum
}

/// Agent `index`'s stake.
pub fn stake_of<T: StakeTree>(tree: &T, index: u32) -> u128 {
	if index >= tree.capacity() {
		return 0;
	}
	let below = if index == 0 { 0 } else { prefix(tree, index - 1) };
	prefix(tree, index) - below
}

/// The agent whose stake interval contains `target`, i.e. the smallest `index` with
/// `prefix(index) > target`; `None` when `target >= total`.
pub fn find<T: StakeTree>(tree: &T, target: u128) -> Option<u32> {
	let cap = tree.capacity();
	let mut step = if cap == 0 { 0 } else { 1u32 << (31 - cap.leading_zeros()) };
	let (mut pos, mut rest) = (0u32, target);
	while step > 0 {
		let next = pos + step;
		if next <= cap {
			let node = tree.node(next);
			if node <= rest {
				pos = next;
				rest -= node;
			}
		}
		step >>= 1;
	}
	// `pos` agents lie entirely at or below the target; the next one contains it.
	(pos < cap).then_some(pos)
}

/// Draws `slots` agent indices, slot by slot, with replacement. `total` must be the tree's total
/// stake; returns `None` when it is zero. Equal to each slot's [`find`], but every tree node is
/// read once however many slots pass it ([`find_all`]).
pub fn draw<T: StakeTree>(tree: &T, seed: &Hash, slots: u32, total: u128) -> Option<Vec<u32>> {
	if total == 0 {
		return None;
	}
	let targets: Vec<u128> = (0..slots).map(|slot| slot_target(seed, slot, total)).collect();
	find_all(tree, &targets).into_iter().collect()
}

/// [`find`] of every target, in the targets' order, reading each tree node at most once: the
/// targets descend the tree together, sorted, and split at each node they pass. A draw of `N`
/// slots over a tree of capacity `C` reads at most `min(2^d, N)` nodes at depth `d`, so
/// fewer than `N · (log₂ C − log₂ N + 2)` in all, against `N · log₂ C` one slot at a time.
pub fn find_all<T: StakeTree>(tree: &T, targets: &[u128]) -> Vec<Option<u32>> {
	let cap = tree.capacity();
	let mut order: Vec<usize> = (0..targets.len()).collect();
	order.sort_by_key(|&i| targets[i]);
	let mut rest: Vec<u128> = order.iter().map(|&i| targets[i]).collect();
	let mut out = alloc::vec![None; targets.len()];
	let top = if cap == 0 { 0 } else { 1u32 << (31 - cap.leading_zeros()) };
	descend(tree, cap, 0, top, &mut rest, &order, &mut out);
	out
}

/// One step of [`find_all`]: `rest` (ascending) are the remaining targets of the slots `order`
/// whose search stands at `pos`, about to try `pos + step`.
fn descend<T: StakeTree>(
	tree: &T,
	cap: u32,
	pos: u32,
	step: u32,
	rest: &mut [u128],
	order: &[usize],
	out: &mut [Option<u32>],
) {
	if rest.is_empty() {
		return;
	}
	if step == 0 {
		// `pos` agents lie entirely at or below each target; the next one contains it.
		for &slot in order {
			out[slot] = (pos < cap).then_some(pos);
		}
		return;
	}
	let next = pos + step;
	if next > cap {
		return descend(tree, cap, pos, step >> 1, rest, order, out);
	}
	let node = tree.node(next);
	// Targets below the node's stake stay; the others pass it, keeping their order.
	let split = rest.partition_point(|&r| r < node);
	let (left, right) = rest.split_at_mut(split);
	for r in right.iter_mut() {
		*r -= node;
	}
	let (left_order, right_order) = order.split_at(split);
	descend(tree, cap, pos, step >> 1, left, left_order, out);
	descend(tree, cap, next, step >> 1, right, right_order, out);
}

/// A Fenwick tree in memory, for reproducing a committee off chain and for tests.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
	nodes: Vec<u128>,
}

impl MemoryTree {
	/// A tree with these stakes at indices `0..stakes.len()`.
	pub fn from_stakes(stakes: &[u128]) -> Self {
		let mut tree = Self { nodes: alloc::vec![0; stakes.len()] };
		for (i, &s) in stakes.iter().enumerate() {
			// Cannot fail for in-range indices unless the total overflows u128.
			let _ = add(&mut tree, i as u32, s);
		}
		tree
	}
}

impl StakeTree for MemoryTree {
	fn capacity(&self) -> u32 {
		self.nodes.len() as u32
	}
	fn node(&self, i: u32) -> u128 {
		self.nodes.get(i as usize - 1).copied().unwrap_or(0)
	}
	fn set_node(&mut self, i: u32, value: u128) {
		if let Some(n) = self.nodes.get_mut(i as usize - 1) {
			*n = value;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn find_maps_targets_to_stake_intervals() {
		let tree = MemoryTree::from_stakes(&[5, 0, 3, 2]);
		let expected = [0, 0, 0, 0, 0, 2, 2, 2, 3, 3];
		for (target, want) in expected.iter().enumerate() {
			assert_eq!(find(&tree, target as u128), Some(*want), "target {target}");
		}
		assert_eq!(find(&tree, 10), None);
		assert_eq!(prefix(&tree, 3), 10);
		assert_eq!(stake_of(&tree, 2), 3);
		assert_eq!(stake_of(&tree, 1), 0);
	}

	#[test]
	fn updates_are_all_or_nothing() {
		let mut tree = MemoryTree::from_stakes(&[5, 1, 3]);
		assert!(!sub(&mut tree, 1, 2));
		assert!(!add(&mut tree, 3, 1), "out of range");
		assert!(!add(&mut tree, 0, u128::MAX));
		assert_eq!(prefix(&tree, 2), 9);
		assert!(sub(&mut tree, 0, 5));
		assert_eq!(find(&tree, 0), Some(1));
		assert!(add(&mut tree, 2, 7));
		assert_eq!(stake_of(&tree, 2), 10);
	}

	#[test]
	fn every_capacity_agrees_with_a_linear_scan() {
		for cap in 1..40u32 {
			let stakes: Vec<u128> = (0..cap).map(|i| u128::from((i * 7 + 3) % 5)).collect();
			let tree = MemoryTree::from_stakes(&stakes);
			let total: u128 = stakes.iter().sum();
			for target in 0..total {
				let mut acc = 0;
				let linear = stakes.iter().position(|s| {
					acc += s;
					acc > target
				});
				assert_eq!(find(&tree, target), linear.map(|i| i as u32), "cap {cap} t {target}");
			}
		}
	}

	/// A tree that counts its node reads.
	struct Counting<'a>(&'a MemoryTree, core::cell::RefCell<Vec<u32>>);

	impl StakeTree for Counting<'_> {
		fn capacity(&self) -> u32 {
			self.0.capacity()
		}
		fn node(&self, i: u32) -> u128 {
			self.1.borrow_mut().push(i);
			self.0.node(i)
		}
		fn set_node(&mut self, _: u32, _: u128) {}
	}

	proptest::proptest! {
		#[test]
		fn finding_all_at_once_agrees_with_one_by_one(
			stakes in proptest::collection::vec(0u128..1_000, 1..300),
			picks in proptest::collection::vec(proptest::num::u128::ANY, 0..200),
		) {
			let tree = MemoryTree::from_stakes(&stakes);
			let total: u128 = stakes.iter().sum();
			// Targets in range and out of it (the last ones).
			let targets: Vec<u128> = picks
				.iter()
				.enumerate()
				.map(|(i, p)| if i % 7 == 6 { total + p % 3 } else { p % total.max(1) })
				.collect();
			let one_by_one: Vec<_> = targets.iter().map(|t| find(&tree, *t)).collect();
			let counting = Counting(&tree, Default::default());
			proptest::prop_assert_eq!(find_all(&counting, &targets), one_by_one);
			// Each node read at most once.
			let mut reads = counting.1.into_inner();
			let all = reads.len();
			reads.sort();
			reads.dedup();
			proptest::prop_assert_eq!(reads.len(), all);
		}
	}

	#[test]
	fn a_draw_reads_each_node_once() {
		// 100,000 equal stakes, 1,000 slots: one slot at a time reads 17 nodes per slot.
		let tree = MemoryTree::from_stakes(&alloc::vec![1u128; 100_000]);
		let counting = Counting(&tree, Default::default());
		let drawn = draw(&counting, &[3; 32], 1_000, 100_000).unwrap();
		let one_by_one: Vec<u32> = (0..1_000)
			.map(|slot| find(&tree, slot_target(&[3; 32], slot, 100_000)).unwrap())
			.collect();
		assert_eq!(drawn, one_by_one);
		let reads = counting.1.into_inner().len();
		assert!(reads < 1_000 * 10, "{reads} node reads");
	}
}
