//! # Consensus machine primitives
//!
//! The pure heart of the project: everything about consensus machines that needs no storage, no
//! FRAME and no particular execution environment. The pallet, the node, the `cm` CLI and the model
//! checker all call this one implementation, so the code that is verified is the code that runs.
//!
//! - [`stochastic`]: the bad-slot probability `p` and the tolerance `ε` as exact rationals, and
//!   the binomial tail computed exactly with big integers: [`stochastic::max_bad`],
//!   [`stochastic::honest_majority_size`]. The paper's normal approximation is kept next to it
//!   (with the `std` feature) so the two can be compared.
//! - [`rule`]: the [`rule::DecisionRule`] of a committee (safe, strong and complete thresholds)
//!   and the [`rule::Plan`] that sizes committees for a deployment.
//! - [`statement`]: what pickets sign ([`statement::Statement`], its signing payload, the proof of
//!   possession of a picket key) and a unitary machine's chained state [`statement::Label`].
//! - [`certificate`]: checking a statement's signatures against a committee snapshot, generic
//!   over the signature scheme.
//! - [`membership`]: committee roots that outlive committees, and proofs of a seat against one.
//! - [`selection`]: stake-weighted draws with replacement over a paged sum tree (fan-out 16);
//!   [`fenwick`], the binary tree it replaced, kept for migrating from it.
//! - [`light`]: the traffic light (green, amber, red) and checkable red evidence.
//! - [`pickets`]: what the machines need from whoever supplies their pickets: snapshots, draws,
//!   who may sign, and where offences and missed duties go ([`pickets::Pickets`]).
//! - [`handover`]: the primary → backup handover of a hierarchical machine, as a pure state
//!   machine over a [`handover::Store`].
//!
//! The crate is `no_std` + `alloc`; no floating point is used outside the `normal` comparison
//! code, which only exists with the `std` feature.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod certificate;
pub mod fenwick;
pub mod handover;
pub mod light;
pub mod membership;
pub mod merkle;
#[cfg(feature = "std")]
pub mod paper;
pub mod pickets;
pub mod rule;
pub mod selection;
pub mod statement;
pub mod stochastic;

pub use rule::{DecisionRule, Plan};
pub use stochastic::{Epsilon, EpsilonArg, Probability, ProbabilityArg};

/// Why a threshold computation or a committee configuration was refused.
///
/// Every variant is a condition a caller can cause; nothing in this crate panics on caller input.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	codec::Encode,
	codec::Decode,
	codec::DecodeWithMemTracking,
	scale_info::TypeInfo,
)]
pub enum Error {
	/// A committee must have at least one slot.
	ZeroSlots,
	/// The committee is larger than [`stochastic::MAX_SLOTS`].
	TooManySlots,
	/// `p` must be a fraction `num/den` with `0 <= p < 1` and `den` fitting in a `u32`.
	ProbabilityOutOfRange,
	/// A majority of good slots was asked for, which no committee size gives when `p >= 1/2`.
	ProbabilityNotBelowHalf,
	/// `ε` must lie in `[10^-30, 10^-1]`.
	EpsilonOutOfRange,
	/// Even unanimity of this committee does not prove that one good slot agreed: `max_bad >= n`.
	UnsafeCommittee,
	/// No committee of at most [`stochastic::MAX_SLOTS`] slots has the requested property.
	NotReachable,
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		let text = match self {
			Error::ZeroSlots => "a committee needs at least one slot (N = 0)",
			Error::TooManySlots => "committee larger than the supported maximum of slots",
			Error::ProbabilityOutOfRange => {
				"p must satisfy 0 <= p < 1 with a denominator below 2^32"
			}
			Error::ProbabilityNotBelowHalf => "p must be below 1/2 for a majority of good slots",
			Error::EpsilonOutOfRange => "epsilon must lie between 1e-30 and 1e-1",
			Error::UnsafeCommittee => {
				"unsafe committee: even unanimity does not prove a good slot agreed (max_bad >= N)"
			}
			Error::NotReachable => "no committee within the supported size has that property",
		};
		f.write_str(text)
	}
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
