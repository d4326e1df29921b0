//! Decision rules: what a committee's certificate needs (paper §7).
//!
//! From `N` and `max_bad = b` (see [`crate::stochastic::max_bad`]):
//!
//! - **safe** (dominated) agreement: `b + 1` agreeing slots certainly contain a good one;
//! - **strong** agreement: `⌊(N + b)/2⌋ + 1` agreeing slots contain more than half of the good
//!   slots whatever the real number of bad ones, so two strong sets share a good slot and two
//!   conflicting strong certificates are impossible. This is the decision threshold;
//! - **complete**: `N − b >= strong`, the good slots alone reach the threshold (equivalently
//!   `3b < N`), so the committee can decide even if every bad slot is silent. A backup must be;
//! - **unsafe**: `b >= N`, even unanimity proves nothing.

use crate::{
	stochastic::{self, Epsilon, Probability},
	Error,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A committee's decision rule: its size and how many of its slots may be bad.
///
/// Computed once when a committee configuration is set (genesis or governance) and stored; never
/// per vote. The thresholds are derived from the two numbers.
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
pub struct DecisionRule {
	/// Slots in the committee, `N`.
	pub n: u32,
	/// The most slots that may be bad, except with probability below `ε`.
	pub max_bad: u32,
}

impl DecisionRule {
	/// The exact rule for `N` slots, refusing an unsafe committee with [`Error::UnsafeCommittee`].
	pub fn exact(n: u32, p: Probability, epsilon: Epsilon) -> Result<Self, Error> {
		let rule = Self::exact_allowing_unsafe(n, p, epsilon)?;
		if rule.is_unsafe() {
			return Err(Error::UnsafeCommittee);
		}
		Ok(rule)
	}

	/// The exact rule even when unsafe, for tables and planning.
	pub fn exact_allowing_unsafe(n: u32, p: Probability, epsilon: Epsilon) -> Result<Self, Error> {
		Ok(Self { n, max_bad: stochastic::max_bad(n, p, epsilon)? })
	}

	/// The paper's normal approximation with quantile `z` (comparison only, never on chain).
	#[cfg(feature = "std")]
	pub fn normal(n: u32, p: Probability, z: f64) -> Result<Self, Error> {
		Ok(Self { n, max_bad: stochastic::normal::max_bad(n, p, z)? })
	}

	/// Agreeing slots that certainly include a good one: `max_bad + 1`.
	pub fn safe(&self) -> u32 {
		self.max_bad.saturating_add(1)
	}

	/// The decision threshold: agreeing slots that include more than half of the good slots.
	pub fn strong(&self) -> u32 {
		let half = (u64::from(self.n) + u64::from(self.max_bad)) / 2;
		u32::try_from(half + 1).unwrap_or(u32::MAX)
	}

	/// The good slots alone reach [`strong`](Self::strong): bad slots cannot block a decision.
	pub fn is_complete(&self) -> bool {
		self.n.saturating_sub(self.max_bad) >= self.strong()
	}

	/// Even unanimity does not prove that a good slot agreed.
	pub fn is_unsafe(&self) -> bool {
		self.max_bad >= self.n
	}

	/// `strong >= 2·max_bad + 1`: the committee is about two-thirds good, which a primary needs
	/// before a certificate gathered off chain can be trusted against a backup.
	pub fn is_two_thirds_good(&self) -> bool {
		u64::from(self.strong()) > 2 * u64::from(self.max_bad)
	}

	/// How many slots may stay silent while the rest still reach the strong threshold.
	pub fn silent_tolerated(&self) -> u32 {
		self.n.saturating_sub(self.strong())
	}
}

/// Committee sizes a deployment needs for a given `p` and `ε` (the `cm plan` command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
	/// The smallest safe primary that still decides with `silent` slots not signing
	/// (`silent = 0`: the smallest committee whose unanimity proves something).
	pub primary: DecisionRule,
	/// How many silent slots [`primary`](Self::primary) was asked to tolerate.
	pub silent: u32,
	/// The smallest primary that is two-thirds good (`strong >= 2·max_bad + 1`), so that its
	/// certificates are safe against the backup even when gathered off chain.
	pub primary_two_thirds: DecisionRule,
	/// The smallest complete committee: a backup that bad slots cannot block.
	pub backup: DecisionRule,
	/// The smallest `N` with `P(X > N/2) < ε` (the paper's Table 2).
	pub honest_majority: u32,
}

impl Plan {
	/// Plans for `p` and `ε`. Needs `p < 1/3`: above it no committee is complete, and the
	/// backup would be blockable (errors with [`Error::NotReachable`]).
	pub fn new(p: Probability, epsilon: Epsilon, silent: u32) -> Result<Self, Error> {
		Ok(Self {
			primary: smallest_tolerating_silent(p, epsilon, silent)?,
			silent,
			primary_two_thirds: smallest_two_thirds_good(p, epsilon)?,
			backup: smallest_complete(p, epsilon)?,
			honest_majority: stochastic::honest_majority_size(p, epsilon)?,
		})
	}
}

/// The smallest safe committee whose strong threshold leaves `silent` slots spare
/// (`N − strong >= silent`, equivalently `max_bad <= N − 2·silent − 1`).
pub fn smallest_tolerating_silent(
	p: Probability,
	epsilon: Epsilon,
	silent: u32,
) -> Result<DecisionRule, Error> {
	let spare = silent.checked_mul(2).and_then(|s| s.checked_add(1)).ok_or(Error::NotReachable)?;
	let n = stochastic::smallest_n(p, epsilon, 1, |n| n.checked_sub(spare))?;
	DecisionRule::exact(n, p, epsilon)
}

/// The smallest complete committee (`3·max_bad < N`); needs `p < 1/3`.
pub fn smallest_complete(p: Probability, epsilon: Epsilon) -> Result<DecisionRule, Error> {
	// For p >= 1/3, P(X > (N−1)/3) >= P(X >= N·p) > 1/4 > ε at every N: refuse at once.
	if !p.is_below_third() {
		return Err(Error::NotReachable);
	}
	let n = stochastic::smallest_n(p, epsilon, 3, |n| Some((n - 1) / 3))?;
	DecisionRule::exact(n, p, epsilon)
}

/// The smallest two-thirds-good committee (`3·max_bad <= N`); needs `p < 1/3`.
pub fn smallest_two_thirds_good(p: Probability, epsilon: Epsilon) -> Result<DecisionRule, Error> {
	if !p.is_below_third() {
		return Err(Error::NotReachable);
	}
	let n = stochastic::smallest_n(p, epsilon, 3, |n| Some(n / 3))?;
	DecisionRule::exact(n, p, epsilon)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn thresholds_follow_the_definitions() {
		let rule = DecisionRule { n: 50, max_bad: 16 };
		assert_eq!(rule.safe(), 17);
		assert_eq!(rule.strong(), 34);
		assert!(rule.is_complete());
		assert!(!rule.is_unsafe());
		let rule = DecisionRule { n: 50, max_bad: 17 };
		assert_eq!(rule.strong(), 34);
		assert!(!rule.is_complete(), "3·17 = 51 >= 50");
		let rule = DecisionRule { n: 5, max_bad: 5 };
		assert!(rule.is_unsafe());
		assert_eq!(rule.strong(), 6);
		assert!(!rule.is_complete());
	}

	#[test]
	fn complete_is_three_b_below_n() {
		for n in 1..200u32 {
			for max_bad in 0..=n {
				let rule = DecisionRule { n, max_bad };
				assert_eq!(rule.is_complete(), 3 * max_bad < n, "n={n} b={max_bad}");
				assert_eq!(rule.is_two_thirds_good(), 3 * max_bad <= n, "n={n} b={max_bad}");
			}
		}
	}

	#[test]
	fn extreme_values_do_not_overflow() {
		let rule = DecisionRule { n: u32::MAX, max_bad: u32::MAX };
		assert_eq!(rule.strong(), u32::MAX);
		assert_eq!(rule.safe(), u32::MAX);
		assert!(rule.is_unsafe());
	}

	#[test]
	fn unsafe_committee_is_refused() {
		let p = Probability::new(1, 10).unwrap();
		let e = Epsilon::default();
		assert_eq!(DecisionRule::exact(5, p, e), Err(Error::UnsafeCommittee));
		assert!(DecisionRule::exact_allowing_unsafe(5, p, e).unwrap().is_unsafe());
		assert_eq!(DecisionRule::exact(0, p, e), Err(Error::ZeroSlots));
	}

	#[test]
	fn plan_refuses_what_cannot_be_planned() {
		let e = Epsilon::default();
		let third = Probability::new(1, 3).unwrap();
		assert_eq!(smallest_complete(third, e), Err(Error::NotReachable));
		assert_eq!(
			Plan::new(Probability::new(1, 2).unwrap(), e, 0),
			Err(Error::NotReachable),
			"p = 1/2 has no complete backup"
		);
		assert_eq!(
			smallest_tolerating_silent(Probability::new(1, 10).unwrap(), e, u32::MAX),
			Err(Error::NotReachable)
		);
	}
}
