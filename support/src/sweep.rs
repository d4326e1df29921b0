//! The bookkeeping shared by the hooks' queues (draws, pruning, committee roots, exits,
//! penalties and forgotten offences): each is worked oldest first from a stored cursor, within
//! the weight the block left and a per-block maximum of items.

use frame_support::weights::Weight;

/// One pass over a queue: the weight used so far against what the block left, and the items
/// counted against the per-block maximum. Each queue decides what counts as an item (a draw,
/// a dropped root, a round pruned whole) and charges what it reads and writes.
pub struct Sweep {
	used: Weight,
	remaining: Weight,
	reserve: Weight,
	max: u32,
	counted: u32,
}

impl Sweep {
	/// A pass within `remaining`, charged `fixed` at once (its cursor's reads and writes),
	/// keeping `reserve` free for what it writes at the end; `None` when not even `fixed` and
	/// `reserve` fit, and the pass then does nothing.
	pub fn within(remaining: Weight, fixed: Weight, reserve: Weight, max: u32) -> Option<Self> {
		let sweep = Self { used: fixed, remaining, reserve, max, counted: 0 };
		sweep.fits(Weight::zero()).then_some(sweep)
	}

	/// A pass bounded by its maximum alone (from `on_initialize`, whose queues are sized so
	/// that their maximum fits a block), charged `fixed` at once.
	pub fn bounded(fixed: Weight, max: u32) -> Self {
		Self { used: fixed, remaining: Weight::MAX, reserve: Weight::zero(), max, counted: 0 }
	}

	/// Whether fewer than the maximum items are counted.
	pub fn more(&self) -> bool {
		self.counted < self.max
	}

	/// Whether another item costing `next` may be taken: [`Self::more`], and `next` fits with
	/// the reserve.
	pub fn room_for(&self, next: Weight) -> bool {
		self.more() && self.fits(next)
	}

	fn fits(&self, next: Weight) -> bool {
		self.remaining.all_gte(self.used.saturating_add(next).saturating_add(self.reserve))
	}

	/// The weight still free for one item's own budgeting.
	pub fn left(&self) -> Weight {
		self.remaining.saturating_sub(self.used)
	}

	/// Charges `weight` to the pass.
	pub fn charge(&mut self, weight: Weight) {
		self.used.saturating_accrue(weight);
	}

	/// Counts one item against the maximum.
	pub fn count(&mut self) {
		self.counted += 1;
	}

	/// How many items were counted.
	pub fn counted(&self) -> u32 {
		self.counted
	}

	/// The weight the pass used.
	pub fn used(&self) -> Weight {
		self.used
	}
}
