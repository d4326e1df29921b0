//! Stake-weighted selection with replacement (paper §6).
//!
//! Each slot is an independent draw: a target in `[0, total stake)` derived from the seed and the
//! slot number, mapped to the agent whose stake interval contains it: the smallest index whose
//! prefix sum of stakes exceeds the target.
//!
//! # The paged sum tree
//!
//! Agents' stakes live in a sum tree of fan-out 16 whose nodes are *pages* of 16 sums
//! ([`Page`]): a level-0 page holds the stakes of 16 consecutive agent indices, and entry `j`
//! of page `p` at level `l + 1` holds the sum of page `16p + j` at level `l`. One page at the
//! top level (`height - 1`) covers every index, so a tree of height `h` holds `16^h` indices.
//! A storage implementation keeps one value per page:
//!
//! - a stake change reads and writes `h` pages (5 for up to 1,048,576 agents), where a binary
//!   tree touched `log₂` of the capacity, 17 for 100,000 agents;
//! - a draw's slots descend together ([`find_all`]), each page read once: 1,000 slots over
//!   100,000 equal stakes read about 1,300 pages, where a binary tree read about 6,800 nodes.
//!
//! The tree's pages are reached through [`StakeTree`], so the pallet keeps them in storage
//! while anyone else can rebuild the same tree in memory ([`MemoryTree`]) and reproduce a
//! committee from `(seed, stakes)`. The committee depends only on the stakes, never on the
//! layout: this tree draws exactly what the Fenwick tree it replaced ([`crate::fenwick`]) drew.

use crate::statement::Hash;
use alloc::vec::Vec;
use codec::Encode;

/// Domain tag of a slot's draw.
pub const SLOT_TAG: [u8; 8] = *b"cm/slot1";

/// Entries per page: the tree's fan-out.
pub const FANOUT: u32 = 16;

/// `log₂` of [`FANOUT`].
const FANOUT_BITS: u32 = 4;

/// The tallest tree: `16^7 = 2^28` agent indices.
pub const MAX_HEIGHT: u32 = 7;

/// One node of the tree: 16 sums.
pub type Page = [u128; FANOUT as usize];

/// Page access for a paged sum tree over agent indices `0..16^height`.
pub trait StakeTree {
	/// Page levels: level 0 holds the stakes, level `height - 1` one page covering all. At most
	/// [`MAX_HEIGHT`]; a tree of height 0 holds nothing.
	fn height(&self) -> u32;
	/// Page `index` of level `level`; a page never written is all zeros.
	fn page(&self, level: u32, index: u32) -> Page;
	/// Sets page `index` of level `level`.
	fn set_page(&mut self, level: u32, index: u32, page: Page);
}

/// Agent indices a tree of height `height` holds: `16^height` (0 for height 0).
pub fn capacity_of(height: u32) -> u32 {
	match height {
		0 => 0,
		h => 1u32 << (FANOUT_BITS * h.min(MAX_HEIGHT)),
	}
}

/// The lowest height whose tree holds `indices` indices (at most [`MAX_HEIGHT`]).
pub fn height_for(indices: u32) -> u32 {
	(0..MAX_HEIGHT).find(|&h| capacity_of(h) >= indices).unwrap_or(MAX_HEIGHT)
}

/// The tree's capacity: agent indices `0..capacity`.
pub fn capacity<T: StakeTree>(tree: &T) -> u32 {
	capacity_of(tree.height().min(MAX_HEIGHT))
}

/// The page of level `level` on agent `index`'s path, and the entry in it that leads to it.
pub fn position(index: u32, level: u32) -> (u32, usize) {
	let shift = FANOUT_BITS * level;
	let page = index.checked_shr(shift + FANOUT_BITS).unwrap_or(0);
	(page, (index.checked_shr(shift).unwrap_or(0) & (FANOUT - 1)) as usize)
}

/// The top page of a tree grown by one level: its first entry covers the whole old tree.
pub fn grown_top(old_total: u128) -> Page {
	let mut page = Page::default();
	page[0] = old_total;
	page
}

/// Adds `amount` to agent `index`'s stake. Returns `false` (and changes nothing) when `index` is
/// out of range or a sum would overflow.
pub fn add<T: StakeTree>(tree: &mut T, index: u32, amount: u128) -> bool {
	update(tree, index, |v| v.checked_add(amount))
}

/// Subtracts `amount` from agent `index`'s stake. Returns `false` (and changes nothing) when
/// `index` is out of range or the stake is smaller than `amount`.
pub fn sub<T: StakeTree>(tree: &mut T, index: u32, amount: u128) -> bool {
	update(tree, index, |v| v.checked_sub(amount))
}

/// Applies `f` to every entry on `index`'s path, one page per level; all or nothing.
fn update<T: StakeTree>(tree: &mut T, index: u32, f: impl Fn(u128) -> Option<u128>) -> bool {
	let height = tree.height().min(MAX_HEIGHT);
	if index >= capacity_of(height) {
		return false;
	}
	// Compute every new page first so that a failure changes nothing.
	let mut writes = Vec::with_capacity(height as usize);
	for level in 0..height {
		let (at, entry) = position(index, level);
		let mut page = tree.page(level, at);
		match f(page[entry]) {
			Some(v) => page[entry] = v,
			None => return false,
		}
		writes.push((level, at, page));
	}
	for (level, at, page) in writes {
		tree.set_page(level, at, page);
	}
	true
}

/// The tree's total stake: the sum of its top page.
pub fn total<T: StakeTree>(tree: &T) -> u128 {
	match tree.height().min(MAX_HEIGHT) {
		0 => 0,
		h => tree.page(h - 1, 0).iter().fold(0u128, |sum, v| sum.saturating_add(*v)),
	}
}

/// Sum of the stakes of agents `0..=index` (the total for an index beyond the tree).
pub fn prefix<T: StakeTree>(tree: &T, index: u32) -> u128 {
	let height = tree.height().min(MAX_HEIGHT);
	if index >= capacity_of(height) {
		return total(tree);
	}
	let mut sum = 0u128;
	for level in 0..height {
		let (at, entry) = position(index, level);
		// At level 0 the agent's own stake counts too.
		let upto = if level == 0 { entry + 1 } else { entry };
		let page = tree.page(level, at);
		sum = page[..upto].iter().fold(sum, |s, v| s.saturating_add(*v));
	}
	sum
}

/// Agent `index`'s stake: one page read.
pub fn stake_of<T: StakeTree>(tree: &T, index: u32) -> u128 {
	if index >= capacity(tree) {
		return 0;
	}
	let (at, entry) = position(index, 0);
	tree.page(0, at)[entry]
}

/// The agent whose stake interval contains `target`, i.e. the smallest `index` with
/// `prefix(index) > target`; `None` when `target >= total`.
pub fn find<T: StakeTree>(tree: &T, target: u128) -> Option<u32> {
	find_all(tree, &[target]).pop().flatten()
}

/// The draw target of slot `slot`: uniform in `[0, total)` up to a bias below `total / 2^128`.
pub fn slot_target(seed: &Hash, slot: u32, total: u128) -> u128 {
	let h = sp_crypto_hashing::blake2_256(&(SLOT_TAG, seed, slot).encode());
	let mut low = [0u8; 16];
	low.copy_from_slice(&h[..16]);
	u128::from_le_bytes(low) % total.max(1)
}

/// Draws `slots` agent indices, slot by slot, with replacement. `total` must be the tree's total
/// stake; returns `None` when it is zero. Equal to each slot's [`find`], but every page is read
/// once however many slots pass it ([`find_all`]).
pub fn draw<T: StakeTree>(tree: &T, seed: &Hash, slots: u32, total: u128) -> Option<Vec<u32>> {
	if total == 0 {
		return None;
	}
	let targets: Vec<u128> = (0..slots).map(|slot| slot_target(seed, slot, total)).collect();
	find_all(tree, &targets).into_iter().collect()
}

/// [`find`] of every target, in the targets' order, reading each page at most once: the
/// targets descend the tree together, sorted, and split among a page's entries. A draw of `N`
/// slots reads at most `min(16^(h-1-l), N)` pages at level `l`.
pub fn find_all<T: StakeTree>(tree: &T, targets: &[u128]) -> Vec<Option<u32>> {
	let mut out = alloc::vec![None; targets.len()];
	let height = tree.height().min(MAX_HEIGHT);
	if height == 0 || targets.is_empty() {
		return out;
	}
	let mut order: Vec<usize> = (0..targets.len()).collect();
	order.sort_by_key(|&i| targets[i]);
	let mut rest: Vec<u128> = order.iter().map(|&i| targets[i]).collect();
	descend(tree, height - 1, 0, &mut rest, &order, &mut out);
	out
}

/// One step of [`find_all`]: `rest` (ascending) are the remaining targets of the slots `order`
/// whose search reached page `at` of level `level`.
fn descend<T: StakeTree>(
	tree: &T,
	level: u32,
	at: u32,
	rest: &mut [u128],
	order: &[usize],
	out: &mut [Option<u32>],
) {
	let page = tree.page(level, at);
	let (mut start, mut below) = (0usize, 0u128);
	for (entry, &sum) in page.iter().enumerate() {
		if start == rest.len() {
			return;
		}
		let above = below.saturating_add(sum);
		// The targets in `[below, above)` lie in this entry's subtree.
		let end = start + rest[start..].partition_point(|&r| r < above);
		if end > start {
			for r in rest[start..end].iter_mut() {
				*r -= below;
			}
			let child = at * FANOUT + entry as u32;
			if level == 0 {
				for &slot in &order[start..end] {
					out[slot] = Some(child);
				}
			} else {
				let (targets, slots) = (&mut rest[start..end], &order[start..end]);
				descend(tree, level - 1, child, targets, slots, out);
			}
		}
		(start, below) = (end, above);
	}
	// Targets at or above the page's sum find nothing (only at the top, in a consistent tree).
}

/// Groups drawn indices into `(index, slots)` in order of first appearance, in `O(N log N)`.
pub fn group(drawn: &[u32]) -> Vec<(u32, u32)> {
	let mut position = alloc::collections::BTreeMap::<u32, usize>::new();
	let mut out: Vec<(u32, u32)> = Vec::new();
	for &index in drawn {
		match position.get(&index) {
			Some(&at) => out[at].1 += 1,
			None => {
				position.insert(index, out.len());
				out.push((index, 1));
			}
		}
	}
	out
}

/// A paged tree in memory, for reproducing a committee off chain and for tests.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
	height: u32,
	/// Per level, its pages from index 0; pages beyond are zero.
	levels: Vec<Vec<Page>>,
}

impl MemoryTree {
	/// An empty tree of height `height`.
	pub fn with_height(height: u32) -> Self {
		let height = height.min(MAX_HEIGHT);
		Self { height, levels: alloc::vec![Vec::new(); height as usize] }
	}

	/// A tree with these stakes at indices `0..stakes.len()`, of the lowest height that holds
	/// them. Stakes whose total overflows `u128` are left out from the first that overflows.
	pub fn from_stakes(stakes: &[u128]) -> Self {
		let mut tree = Self::with_height(height_for(stakes.len() as u32));
		for (i, &s) in stakes.iter().enumerate() {
			if !add(&mut tree, i as u32, s) {
				break;
			}
		}
		tree
	}

	/// The pages written, by `(level, index)`, zero pages left out: what a storage tree of
	/// these stakes holds.
	pub fn pages(&self) -> impl Iterator<Item = (u32, u32, &Page)> {
		self.levels.iter().enumerate().flat_map(|(level, pages)| {
			pages
				.iter()
				.enumerate()
				.filter(|(_, page)| page.iter().any(|v| *v != 0))
				.map(move |(at, page)| (level as u32, at as u32, page))
		})
	}
}

impl StakeTree for MemoryTree {
	fn height(&self) -> u32 {
		self.height
	}
	fn page(&self, level: u32, index: u32) -> Page {
		self.levels
			.get(level as usize)
			.and_then(|pages| pages.get(index as usize))
			.copied()
			.unwrap_or_default()
	}
	fn set_page(&mut self, level: u32, index: u32, page: Page) {
		let Some(pages) = self.levels.get_mut(level as usize) else { return };
		let at = index as usize;
		if pages.len() <= at {
			pages.resize(at + 1, Page::default());
		}
		pages[at] = page;
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::fenwick;

	/// A tree that records its page reads.
	struct Counting<'a>(&'a MemoryTree, core::cell::RefCell<Vec<(u32, u32)>>);

	impl StakeTree for Counting<'_> {
		fn height(&self) -> u32 {
			self.0.height()
		}
		fn page(&self, level: u32, index: u32) -> Page {
			self.1.borrow_mut().push((level, index));
			self.0.page(level, index)
		}
		fn set_page(&mut self, _: u32, _: u32, _: Page) {}
	}

	/// The smallest index whose prefix sum exceeds `target`, by scanning.
	fn linear(stakes: &[u128], target: u128) -> Option<u32> {
		let mut acc = 0u128;
		stakes
			.iter()
			.position(|s| {
				acc += s;
				acc > target
			})
			.map(|i| i as u32)
	}

	#[test]
	fn find_maps_targets_to_stake_intervals() {
		let tree = MemoryTree::from_stakes(&[5, 0, 3, 2]);
		let expected = [0, 0, 0, 0, 0, 2, 2, 2, 3, 3];
		for (target, want) in expected.iter().enumerate() {
			assert_eq!(find(&tree, target as u128), Some(*want), "target {target}");
		}
		assert_eq!(find(&tree, 10), None);
		assert_eq!(prefix(&tree, 3), 10);
		assert_eq!(prefix(&tree, 1_000), 10, "beyond the tree: the total");
		assert_eq!(stake_of(&tree, 2), 3);
		assert_eq!(stake_of(&tree, 1), 0);
		assert_eq!(total(&tree), 10);
	}

	#[test]
	fn heights_and_positions() {
		assert_eq!((capacity_of(0), capacity_of(1), capacity_of(5)), (0, 16, 1 << 20));
		assert_eq!(capacity_of(MAX_HEIGHT), 1 << 28);
		assert_eq!((height_for(0), height_for(1), height_for(16), height_for(17)), (0, 1, 1, 2));
		assert_eq!(height_for(100_000), 5);
		assert_eq!(height_for(u32::MAX), MAX_HEIGHT);
		// Index 0x12345: entry 5 of leaf page 0x1234, entry 4 of page 0x123 above it.
		assert_eq!(position(0x12345, 0), (0x1234, 5));
		assert_eq!(position(0x12345, 1), (0x123, 4));
		assert_eq!(position(0x12345, 4), (0, 1));
	}

	#[test]
	fn updates_are_all_or_nothing() {
		let mut tree = MemoryTree::from_stakes(&[5, 1, 3]);
		assert!(!sub(&mut tree, 1, 2));
		assert!(!add(&mut tree, 16, 1), "out of range");
		assert!(!add(&mut tree, 0, u128::MAX));
		assert_eq!(prefix(&tree, 2), 9);
		assert!(sub(&mut tree, 0, 5));
		assert_eq!(find(&tree, 0), Some(1));
		assert!(add(&mut tree, 2, 7));
		assert_eq!(stake_of(&tree, 2), 10);
		assert!(!add(&mut MemoryTree::default(), 0, 1), "a tree of height 0 holds nothing");
	}

	#[test]
	fn a_stake_change_touches_one_page_per_level() {
		let mut tree = MemoryTree::from_stakes(&alloc::vec![1u128; 100_000]);
		assert_eq!(tree.height(), 5);
		let before = tree.pages().count();
		assert!(add(&mut tree, 99_999, 1));
		assert_eq!(tree.pages().count(), before, "no new page for an index already in");
		assert!(add(&mut tree, 100_000, 1));
		// A new leaf page, and the level-1 page above it already existed.
		assert_eq!(tree.pages().count(), before + 1);
		assert_eq!(total(&tree), 100_002);
	}

	#[test]
	fn growing_by_one_level_keeps_every_sum() {
		let stakes: Vec<u128> = (0..40u128).map(|i| i % 7).collect();
		let small = MemoryTree::from_stakes(&stakes);
		assert_eq!(small.height(), 2);
		let mut grown = MemoryTree::with_height(3);
		for (level, at, page) in small.pages() {
			grown.set_page(level, at, *page);
		}
		grown.set_page(2, 0, grown_top(total(&small)));
		for target in 0..total(&small) + 2 {
			assert_eq!(find(&grown, target), find(&small, target), "target {target}");
		}
		assert!(add(&mut grown, 300, 4));
		assert_eq!(find(&grown, total(&small)), Some(300));
	}

	#[test]
	fn every_size_agrees_with_a_linear_scan() {
		for len in 1..300u32 {
			let stakes: Vec<u128> = (0..len).map(|i| u128::from((i * 7 + 3) % 5)).collect();
			let tree = MemoryTree::from_stakes(&stakes);
			let total: u128 = stakes.iter().sum();
			for target in 0..=total {
				assert_eq!(find(&tree, target), linear(&stakes, target), "len {len} t {target}");
			}
		}
	}

	proptest::proptest! {
		/// The paged tree draws exactly what the Fenwick tree drew: the same index for every
		/// target, after the same stake changes, each page read at most once.
		#[test]
		fn the_paged_tree_draws_what_the_fenwick_tree_drew(
			stakes in proptest::collection::vec(
				proptest::prop_oneof![proptest::strategy::Just(0u128), 0u128..1_000, 0u128..1 << 90],
				1..700,
			),
			changes in proptest::collection::vec((0usize..700, 0u128..5_000, proptest::bool::ANY), 0..40),
			picks in proptest::collection::vec(proptest::num::u128::ANY, 0..300),
		) {
			let mut paged = MemoryTree::from_stakes(&stakes);
			let mut fenwick = fenwick::MemoryTree::from_stakes(&stakes);
			let mut stakes = stakes;
			for (at, amount, adding) in changes {
				let i = (at % stakes.len()) as u32;
				let (p, f) = if adding {
					(add(&mut paged, i, amount), fenwick::add(&mut fenwick, i, amount))
				} else {
					(sub(&mut paged, i, amount), fenwick::sub(&mut fenwick, i, amount))
				};
				proptest::prop_assert_eq!(p, f);
				if p {
					let s = &mut stakes[i as usize];
					*s = if adding { *s + amount } else { *s - amount };
				}
			}
			let sum: u128 = stakes.iter().sum();
			proptest::prop_assert_eq!(total(&paged), sum);
			// Targets in range and out of it (every seventh).
			let targets: Vec<u128> = picks
				.iter()
				.enumerate()
				.map(|(i, p)| if i % 7 == 6 { sum + p % 3 } else { p % sum.max(1) })
				.collect();
			let counting = Counting(&paged, Default::default());
			let all = find_all(&counting, &targets);
			let reference: Vec<_> = targets.iter().map(|t| fenwick::find(&fenwick, *t)).collect();
			proptest::prop_assert_eq!(&all, &reference);
			for (t, got) in targets.iter().zip(&all) {
				proptest::prop_assert_eq!(*got, linear(&stakes, *t));
			}
			let mut reads = counting.1.into_inner();
			let n = reads.len();
			reads.sort();
			reads.dedup();
			proptest::prop_assert_eq!(reads.len(), n, "a page read twice");
			for i in [0, stakes.len() as u32 / 2, stakes.len() as u32 - 1] {
				proptest::prop_assert_eq!(prefix(&paged, i), fenwick::prefix(&fenwick, i));
				proptest::prop_assert_eq!(stake_of(&paged, i), fenwick::stake_of(&fenwick, i));
			}
		}
	}

	#[test]
	fn a_draw_of_a_thousand_from_a_hundred_thousand_reads_about_1300_pages() {
		let stakes = alloc::vec![1u128; 100_000];
		let tree = MemoryTree::from_stakes(&stakes);
		let counting = Counting(&tree, Default::default());
		let drawn = draw(&counting, &[3; 32], 1_000, 100_000).unwrap();
		let reference =
			fenwick::draw(&fenwick::MemoryTree::from_stakes(&stakes), &[3; 32], 1_000, 100_000);
		assert_eq!(Some(drawn), reference);
		let reads = counting.1.into_inner();
		// Expected distinct pages: 6,250 · (1 − e^(−0.16)) ≈ 924 leaves, 391 · (1 − e^(−2.56))
		// ≈ 361 above them, then 25, 2 and the top.
		let leaves = reads.iter().filter(|(level, _)| *level == 0).count();
		assert!((850..1_000).contains(&leaves), "{leaves} leaf pages");
		assert!((1_200..1_400).contains(&reads.len()), "{} pages", reads.len());
	}

	#[test]
	fn draws_are_deterministic_and_with_replacement() {
		let tree = MemoryTree::from_stakes(&[90, 5, 5]);
		let a = draw(&tree, &[1; 32], 20, 100).unwrap();
		assert_eq!(a, draw(&tree, &[1; 32], 20, 100).unwrap());
		assert_ne!(a, draw(&tree, &[2; 32], 20, 100).unwrap());
		let grouped = group(&a);
		assert!(
			grouped.iter().any(|(i, n)| *i == 0 && *n > 1),
			"the big agent holds several slots"
		);
		assert_eq!(grouped.iter().map(|(_, n)| n).sum::<u32>(), 20);
		assert_eq!(draw(&MemoryTree::from_stakes(&[0, 0]), &[1; 32], 3, 0), None);
	}

	#[test]
	fn slot_frequencies_follow_stake() {
		// 60,000 draws; stake shares 50%, 30%, 15%, 5%. Binomial σ of a share is at most
		// √(0.25/60000) ≈ 0.2%, so 1% is five σ.
		let stakes = [500u128, 300, 150, 50];
		let tree = MemoryTree::from_stakes(&stakes);
		let mut counts = [0u32; 4];
		for round in 0..600u32 {
			let seed = sp_crypto_hashing::blake2_256(&round.encode());
			for i in draw(&tree, &seed, 100, 1000).unwrap() {
				counts[i as usize] += 1;
			}
		}
		for (i, &c) in counts.iter().enumerate() {
			let share = f64::from(c) / 60_000.0;
			let want = stakes[i] as f64 / 1000.0;
			assert!((share - want).abs() < 0.01, "agent {i}: {share} vs {want}");
		}
	}
}
