//! Stochastic thresholds (paper §6–7 and Appendix 1).
//!
//! A committee has `N` slots, each filled by an independent stake-weighted draw, so the number of
//! bad slots is `X ~ Binomial(N, p)` where `p` bounds the bad share of stake. Given a tolerance
//! `ε` ("stochastic impossibility", 10⁻¹⁸ by default), [`max_bad`] is the smallest `b` with
//! `P(X > b) < ε`.
//!
//! # Exactness
//!
//! `p = num/den` and `ε = e_num/e_den` are exact rationals, and the tail is decided with big
//! integers only: with `a = num`, `c = den − num`,
//!
//! ```text
//! P(X ≤ b) · den^N = Σ_{i ≤ b} C(N, i) · a^i · c^(N−i)
//! P(X > b) < ε   ⇔   Σ_{i ≤ b} C(N, i) · a^i · c^(N−i)  >  ⌊den^N · (e_den − e_num) / e_den⌋
//! ```
//!
//! (the floor is exact because the left side is an integer). The terms are produced one from the
//! next, `T(i+1) = T(i) · (N−i)·a / ((i+1)·c)`, a division that is always exact, so a check of `b`
//! costs `b + 1` big-integer multiply/divide-by-word steps. Summing the lower tail (rather than the
//! upper one) means the work grows with `b`, which is small for the small `p` a deployment uses.
//! There are no floats on this path: the result is the same on every platform, natively and in
//! wasm.
//!
//! The paper's own tables use the normal approximation; [`normal`] (with the `std` feature)
//! reproduces them so the two can be compared. It is never used to configure a committee.

use crate::Error;
use alloc::string::String;
use codec::{Decode, DecodeWithMemTracking, Encode, Input, MaxEncodedLen};
use core::str::FromStr;
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::Zero;
use scale_info::TypeInfo;
use sp_arithmetic::Perbill;

/// The largest committee the exact computation accepts.
///
/// A check at this size takes well under a second; committees on chain are far smaller.
pub const MAX_SLOTS: u32 = 100_000;

/// The range of `ε` as powers of ten: `10^-MAX_EPSILON_EXPONENT ..= 10^-MIN_EPSILON_EXPONENT`.
pub const MIN_EPSILON_EXPONENT: u8 = 1;
/// See [`MIN_EPSILON_EXPONENT`].
pub const MAX_EPSILON_EXPONENT: u8 = 30;
/// The paper's suggested stochastic certainty, `ε = 10⁻¹⁸`.
pub const DEFAULT_EPSILON_EXPONENT: u8 = 18;

/// An upper bound `p = num/den` on the probability that one slot is bad, `0 <= p < 1`.
///
/// Always stored reduced, with a denominator below `2^32` so that every step of the exact tail
/// multiplies and divides big integers by single machine words. Decoding validates like [`new`]
/// does, so a malformed value cannot enter through SCALE.
///
/// [`new`]: Probability::new
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, MaxEncodedLen, TypeInfo)]
pub struct Probability {
	num: u32,
	den: u32,
}

impl Probability {
	/// `num/den`, reduced. Errors unless `den > 0` and `num < den`.
	pub fn new(num: u64, den: u64) -> Result<Self, Error> {
		if den == 0 || num >= den {
			return Err(Error::ProbabilityOutOfRange);
		}
		let g = num.gcd(&den);
		let (num, den) = (num / g, den / g);
		match (u32::try_from(num), u32::try_from(den)) {
			(Ok(num), Ok(den)) => Ok(Self { num, den }),
			_ => Err(Error::ProbabilityOutOfRange),
		}
	}

	/// The probability a `Perbill` denotes (parts per billion), e.g. `Perbill::from_percent(5)`
	/// is exactly `1/20`.
	pub fn from_perbill(p: Perbill) -> Result<Self, Error> {
		Self::new(u64::from(p.deconstruct()), 1_000_000_000)
	}

	/// The reduced numerator.
	pub fn numerator(&self) -> u32 {
		self.num
	}

	/// The reduced denominator.
	pub fn denominator(&self) -> u32 {
		self.den
	}

	/// `p < 1/2`: required wherever a majority of good slots is asked for.
	pub fn is_below_half(&self) -> bool {
		u64::from(self.num) * 2 < u64::from(self.den)
	}

	/// `p < 1/3`: required for a complete committee to exist at any size.
	pub fn is_below_third(&self) -> bool {
		u64::from(self.num) * 3 < u64::from(self.den)
	}
}

impl Decode for Probability {
	fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
		let num = u32::decode(input)?;
		let den = u32::decode(input)?;
		Self::new(num.into(), den.into()).map_err(|_| "invalid probability".into())
	}
}

impl DecodeWithMemTracking for Probability {}

impl core::fmt::Display for Probability {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "{}/{}", self.num, self.den)
	}
}

impl FromStr for Probability {
	type Err = ParseError;

	/// Parses a decimal (`0.05`, exactly `1/20`) or a fraction (`1/3`).
	fn from_str(s: &str) -> Result<Self, ParseError> {
		let (num, den) = parse_rational(s)?;
		let (num, den) = (u64::try_from(num), u64::try_from(den));
		match (num, den) {
			(Ok(num), Ok(den)) => Probability::new(num, den).map_err(ParseError::Invalid),
			_ => Err(ParseError::Invalid(Error::ProbabilityOutOfRange)),
		}
	}
}

/// A probability as a call or a runtime API takes it: any two words, encoded exactly as
/// [`Probability`] is. Its range is checked by [`Probability::try_from`], where the caller gets
/// [`Error::ProbabilityOutOfRange`], not at decoding: an argument that does not decode fails the
/// whole transaction inside the runtime (a trap in `validate_transaction`), telling the caller
/// nothing.
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
	Default,
)]
pub struct ProbabilityArg {
	/// Numerator.
	pub num: u32,
	/// Denominator.
	pub den: u32,
}

impl TryFrom<ProbabilityArg> for Probability {
	type Error = Error;
	fn try_from(arg: ProbabilityArg) -> Result<Self, Error> {
		Probability::new(arg.num.into(), arg.den.into())
	}
}

impl From<Probability> for ProbabilityArg {
	fn from(p: Probability) -> Self {
		Self { num: p.num, den: p.den }
	}
}

/// `ε` as a call or a runtime API takes it: any two `u128`s, encoded exactly as [`Epsilon`] is;
/// [`Epsilon::try_from`] checks the range ([`Error::EpsilonOutOfRange`]). See
/// [`ProbabilityArg`] for why.
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
	Default,
)]
pub struct EpsilonArg {
	/// Numerator.
	pub num: u128,
	/// Denominator.
	pub den: u128,
}

impl TryFrom<EpsilonArg> for Epsilon {
	type Error = Error;
	fn try_from(arg: EpsilonArg) -> Result<Self, Error> {
		Epsilon::new(arg.num, arg.den)
	}
}

impl From<Epsilon> for EpsilonArg {
	fn from(e: Epsilon) -> Self {
		Self { num: e.num, den: e.den }
	}
}

/// The tolerated probability `ε = num/den` that a committee has more than `max_bad` bad slots.
///
/// `10^-30 <= ε <= 10^-1`; always stored reduced. Decoding validates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, MaxEncodedLen, TypeInfo)]
pub struct Epsilon {
	num: u128,
	den: u128,
}

impl Epsilon {
	/// `10^-exponent`, with `exponent` in `1..=30`.
	pub fn from_exponent(exponent: u8) -> Result<Self, Error> {
		if !(MIN_EPSILON_EXPONENT..=MAX_EPSILON_EXPONENT).contains(&exponent) {
			return Err(Error::EpsilonOutOfRange);
		}
		Ok(Self { num: 1, den: 10u128.pow(exponent.into()) })
	}

	/// `num/den`, reduced; errors unless `10^-30 <= num/den <= 10^-1`.
	pub fn new(num: u128, den: u128) -> Result<Self, Error> {
		if num == 0 || den == 0 {
			return Err(Error::EpsilonOutOfRange);
		}
		// ε <= 1/10  ⇔  10·num <= den (an overflow of 10·num means it is far above den).
		let upper_ok = num.checked_mul(10).is_some_and(|n10| n10 <= den);
		// ε >= 10^-30  ⇔  num·10^30 >= den (an overflow means it is far above den).
		let max_den = 10u128.pow(MAX_EPSILON_EXPONENT.into());
		let lower_ok = num.checked_mul(max_den).is_none_or(|scaled| scaled >= den);
		if !(upper_ok && lower_ok) {
			return Err(Error::EpsilonOutOfRange);
		}
		let g = num.gcd(&den);
		Ok(Self { num: num / g, den: den / g })
	}

	/// The reduced numerator.
	pub fn numerator(&self) -> u128 {
		self.num
	}

	/// The reduced denominator.
	pub fn denominator(&self) -> u128 {
		self.den
	}

	/// `Some(e)` when `ε = 10^-e` exactly.
	pub fn exponent(&self) -> Option<u8> {
		(MIN_EPSILON_EXPONENT..=MAX_EPSILON_EXPONENT)
			.find(|&e| self.num == 1 && self.den == 10u128.pow(e.into()))
	}

	/// `ε` as a float, for display and for the normal approximation only.
	#[cfg(feature = "std")]
	pub fn to_f64(&self) -> f64 {
		self.num as f64 / self.den as f64
	}
}

impl Default for Epsilon {
	/// The paper's `10⁻¹⁸`.
	fn default() -> Self {
		Self { num: 1, den: 10u128.pow(DEFAULT_EPSILON_EXPONENT.into()) }
	}
}

impl Decode for Epsilon {
	fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
		let num = u128::decode(input)?;
		let den = u128::decode(input)?;
		Self::new(num, den).map_err(|_| "invalid epsilon".into())
	}
}

impl DecodeWithMemTracking for Epsilon {}

impl core::fmt::Display for Epsilon {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self.exponent() {
			Some(e) => write!(f, "1e-{e}"),
			None => write!(f, "{}/{}", self.num, self.den),
		}
	}
}

impl FromStr for Epsilon {
	type Err = ParseError;

	/// Parses `1e-18`, `2.5e-9`, `10^-18`, a decimal (`0.001`) or a fraction (`1/1000`).
	fn from_str(s: &str) -> Result<Self, ParseError> {
		let s = s.trim();
		let (num, den) = if let Some(exp) = s.strip_prefix("10^-") {
			let e: u32 = exp.parse().map_err(|_| ParseError::Malformed)?;
			(1, pow10(e)?)
		} else if let Some((mantissa, exp)) = s.split_once(['e', 'E']) {
			let (num, den) = parse_rational(mantissa)?;
			let e: i32 = exp.parse().map_err(|_| ParseError::Malformed)?;
			if e > 0 {
				return Err(ParseError::Invalid(Error::EpsilonOutOfRange));
			}
			let den = den.checked_mul(pow10(e.unsigned_abs())?).ok_or(ParseError::TooPrecise)?;
			(num, den)
		} else {
			parse_rational(s)?
		};
		Epsilon::new(num, den).map_err(ParseError::Invalid)
	}
}

/// Why a textual `p` or `ε` was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
	/// Not a decimal, a fraction or (for `ε`) a power of ten.
	Malformed,
	/// More digits than the exact representation holds.
	TooPrecise,
	/// Well-formed, but out of range.
	Invalid(Error),
}

impl core::fmt::Display for ParseError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			ParseError::Malformed => {
				f.write_str("not a number: expected a decimal (0.05), a fraction (1/3) or 1e-18")
			}
			ParseError::TooPrecise => f.write_str("too many digits to represent exactly"),
			ParseError::Invalid(e) => write!(f, "{e}"),
		}
	}
}

#[cfg(feature = "std")]
impl std::error::Error for ParseError {}

fn pow10(e: u32) -> Result<u128, ParseError> {
	10u128.checked_pow(e).ok_or(ParseError::TooPrecise)
}

/// `"0.05"` → `(5, 100)`, `"1/3"` → `(1, 3)`, `"2"` → `(2, 1)`; not reduced.
fn parse_rational(s: &str) -> Result<(u128, u128), ParseError> {
	let s = s.trim();
	let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
	let int = |t: &str| -> Result<u128, ParseError> {
		if !digits(t) {
			return Err(ParseError::Malformed);
		}
		t.parse().map_err(|_| ParseError::TooPrecise)
	};
	if let Some((num, den)) = s.split_once('/') {
		return Ok((int(num.trim())?, int(den.trim())?));
	}
	let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
	if whole.is_empty() && frac.is_empty() {
		return Err(ParseError::Malformed);
	}
	let mut all = String::from(whole);
	all.push_str(frac);
	let den = pow10(u32::try_from(frac.len()).map_err(|_| ParseError::TooPrecise)?)?;
	Ok((int(&all)?, den))
}

fn ensure_slots(n: u32) -> Result<(), Error> {
	match n {
		0 => Err(Error::ZeroSlots),
		n if n > MAX_SLOTS => Err(Error::TooManySlots),
		_ => Ok(()),
	}
}

/// The scaled binomial CDF of one committee: walks `Σ_{i ≤ k} C(N,i)·a^i·c^(N−i)` upwards.
struct ScaledCdf {
	n: u32,
	a: u64,
	c: u64,
	/// `T(i)`, the current term.
	term: BigUint,
	/// `Σ_{j ≤ i} T(j)`.
	sum: BigUint,
	i: u32,
}

impl ScaledCdf {
	/// Positioned at `i = 0`: `T(0) = c^N`.
	fn new(n: u32, p: Probability) -> Self {
		let a = u64::from(p.num);
		let c = u64::from(p.den - p.num);
		let term = BigUint::from(c).pow(n);
		Self { n, a, c, sum: term.clone(), term, i: 0 }
	}

	/// Moves to `i + 1`; `false` once `i = N`.
	fn advance(&mut self) -> bool {
		if self.i >= self.n {
			return false;
		}
		let i = u64::from(self.i);
		// C(N,i)·(N−i) = C(N,i+1)·(i+1) and c divides c^(N−i) for i < N: the division is exact.
		// Both factors fit in a u64: i, N ≤ MAX_SLOTS < 2^17 and a, c < 2^32.
		self.term *= (u64::from(self.n) - i) * self.a;
		self.term /= (i + 1) * self.c;
		self.sum += &self.term;
		self.i += 1;
		true
	}
}

/// `den^N` for the committee.
fn scale(n: u32, p: Probability) -> BigUint {
	BigUint::from(p.den).pow(n)
}

/// `⌊den^N · (1 − ε)⌋`: the scaled CDF must exceed this for the tail to be below `ε`.
fn cdf_bar(n: u32, p: Probability, epsilon: Epsilon) -> BigUint {
	scale(n, p) * (epsilon.den - epsilon.num) / epsilon.den
}

/// The smallest `k <= limit` with `P(X <= k) > 1 − ε`, i.e. `P(X > k) < ε`.
fn first_k_with_tail_below(n: u32, p: Probability, epsilon: Epsilon, limit: u32) -> Option<u32> {
	let bar = cdf_bar(n, p, epsilon);
	let mut cdf = ScaledCdf::new(n, p);
	loop {
		if cdf.sum > bar {
			return Some(cdf.i);
		}
		if cdf.i >= limit || !cdf.advance() {
			return None;
		}
	}
}

/// `max_bad(N, p, ε)`: the smallest `b` with `P(Bin(N, p) > b) < ε`, computed exactly.
///
/// `b = N` means even unanimity proves nothing (the committee is unsafe).
pub fn max_bad(n: u32, p: Probability, epsilon: Epsilon) -> Result<u32, Error> {
	ensure_slots(n)?;
	// `P(X > N) = 0 < ε`, so the walk always stops by `k = N`.
	Ok(first_k_with_tail_below(n, p, epsilon, n).unwrap_or(n))
}

/// Whether `P(Bin(N, p) > b) < ε`, computed exactly in `min(b, N) + 1` steps.
pub fn tail_below(n: u32, p: Probability, epsilon: Epsilon, b: u32) -> Result<bool, Error> {
	ensure_slots(n)?;
	Ok(b >= n || first_k_with_tail_below(n, p, epsilon, b).is_some())
}

/// The exact tail `P(Bin(N, p) >= k)` as `(numerator, denominator)`, denominator `den^N`.
///
/// Used to show how far the paper's normal approximation is from `ε`.
pub fn upper_tail(n: u32, p: Probability, k: u32) -> Result<(BigUint, BigUint), Error> {
	ensure_slots(n)?;
	let total = scale(n, p);
	if k == 0 {
		return Ok((total.clone(), total));
	}
	if k > n {
		return Ok((BigUint::zero(), total));
	}
	let mut cdf = ScaledCdf::new(n, p);
	while cdf.i + 1 < k {
		cdf.advance();
	}
	Ok((&total - &cdf.sum, total))
}

/// The smallest `N` with `P(Bin(N, p) > N/2) < ε`: the paper's Table 2, exactly.
///
/// Errors with [`Error::ProbabilityNotBelowHalf`] for `p >= 1/2`, and [`Error::NotReachable`]
/// when the answer exceeds [`MAX_SLOTS`].
pub fn honest_majority_size(p: Probability, epsilon: Epsilon) -> Result<u32, Error> {
	if !p.is_below_half() {
		return Err(Error::ProbabilityNotBelowHalf);
	}
	smallest_n(p, epsilon, 2, |n| Some(n / 2))
}

/// The smallest `N <= MAX_SLOTS` with `max_bad(N) <= bound(N)`, i.e. `P(Bin(N, p) > bound(N)) < ε`.
///
/// The property is not monotone in `N` (a committee one slot larger may tolerate no more bad
/// slots, and the tests found counterexamples even within residue classes), so this is a linear
/// scan that skips only what it can prove: `max_bad` never decreases as `N` grows, and `bound`
/// must grow by at most `⌈k/per⌉` over `k` slots (true of `⌊(N − r)/per⌋`). If `max_bad(N)`
/// exceeds `bound(N)` by `d`, no size below `N + per·(d − 1) + 1` can close the gap. `bound`
/// returns `None` where the property cannot hold at all.
pub(crate) fn smallest_n(
	p: Probability,
	epsilon: Epsilon,
	per: u32,
	bound: impl Fn(u32) -> Option<u32>,
) -> Result<u32, Error> {
	let mut n = 1u32;
	while n <= MAX_SLOTS {
		let Some(limit) = bound(n) else {
			n += 1;
			continue;
		};
		let b = first_k_with_tail_below(n, p, epsilon, n).unwrap_or(n);
		if b <= limit {
			return Ok(n);
		}
		let d = b - limit;
		n = n.saturating_add(per.saturating_mul(d - 1).saturating_add(1));
	}
	Err(Error::NotReachable)
}

/// The paper's normal approximation, for comparison with the exact computation only.
///
/// Table 1 of the paper is very nearly `⌈N·p + z·σ⌉` with `z = 9` and `σ = √(N·p·(1−p))`, and its
/// Table 2 is exactly `⌈z²·p·(1−p)/(½−p)²⌉` with the `z` printed in its second row. Floats are
/// fine here: nothing on chain calls this module.
#[cfg(feature = "std")]
pub mod normal {
	use super::{ensure_slots, Epsilon, Probability};
	use crate::Error;

	/// `(N·p, N·p·(1−p))` computed from the exact fraction, so that `N = 100, p = 1/5` gives
	/// exactly `(20, 16)`.
	fn mean_variance(n: u32, p: Probability) -> (f64, f64) {
		let (n, num, den) = (f64::from(n), f64::from(p.num), f64::from(p.den));
		(n * num / den, n * num * (den - num) / (den * den))
	}

	/// The smallest agreeing count the normal approximation calls safe: `⌈N·p + z·σ⌉`.
	pub fn safe_threshold(n: u32, p: Probability, z: f64) -> Result<u32, Error> {
		ensure_slots(n)?;
		let (mean, var) = mean_variance(n, p);
		let k = (mean + z * var.sqrt()).ceil();
		Ok(if k >= f64::from(n) + 1.0 { n + 1 } else { (k as u32).max(1) })
	}

	/// The normal approximation's `max_bad`: one below [`safe_threshold`], at most `N`.
	pub fn max_bad(n: u32, p: Probability, z: f64) -> Result<u32, Error> {
		Ok(safe_threshold(n, p, z)? - 1)
	}

	/// The paper's Table 2: `⌈z²·p·(1−p)/(½−p)²⌉`.
	pub fn honest_majority_size(p: Probability, z: f64) -> Result<u32, Error> {
		if !p.is_below_half() {
			return Err(Error::ProbabilityNotBelowHalf);
		}
		let p = f64::from(p.num) / f64::from(p.den);
		let size = (z * z * p * (1.0 - p) / ((0.5 - p) * (0.5 - p))).ceil();
		Ok(size.clamp(1.0, f64::from(u32::MAX)) as u32)
	}

	/// The one-sided normal quantile `z` with `P(Z > z) = ε`, by bisection on `erfc`.
	///
	/// `ε = 10⁻¹⁸` gives `z ≈ 8.7573`; the paper rounds it to 8.759 and calls it "9σ".
	pub fn quantile(epsilon: Epsilon) -> f64 {
		let target = epsilon.to_f64();
		let upper = |z: f64| 0.5 * libm::erfc(z / core::f64::consts::SQRT_2);
		let (mut lo, mut hi) = (0.0f64, 40.0f64);
		for _ in 0..200 {
			let mid = 0.5 * (lo + hi);
			if upper(mid) > target {
				lo = mid;
			} else {
				hi = mid;
			}
		}
		0.5 * (lo + hi)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn p(num: u64, den: u64) -> Probability {
		Probability::new(num, den).unwrap()
	}

	#[test]
	fn arguments_decode_whatever_their_range_and_encode_as_the_checked_types() {
		// Out of range, yet well-formed SCALE: the argument decodes, the check says why.
		for (num, den) in [(3u32, 2u32), (0, 0), (1, 1)] {
			let bytes = (num, den).encode();
			assert!(Probability::decode(&mut &bytes[..]).is_err());
			let arg = ProbabilityArg::decode(&mut &bytes[..]).unwrap();
			assert_eq!(Probability::try_from(arg), Err(Error::ProbabilityOutOfRange));
		}
		for (num, den) in [(0u128, 0u128), (1, 1), (1, u128::MAX)] {
			let bytes = (num, den).encode();
			assert!(Epsilon::decode(&mut &bytes[..]).is_err());
			let arg = EpsilonArg::decode(&mut &bytes[..]).unwrap();
			assert_eq!(Epsilon::try_from(arg), Err(Error::EpsilonOutOfRange));
		}
		// In range: the same bytes as the checked types, and the same value back.
		let (good_p, good_e) = (p(1, 20), Epsilon::from_exponent(18).unwrap());
		assert_eq!(ProbabilityArg::from(good_p).encode(), good_p.encode());
		assert_eq!(EpsilonArg::from(good_e).encode(), good_e.encode());
		assert_eq!(Probability::try_from(ProbabilityArg::from(good_p)), Ok(good_p));
		assert_eq!(Epsilon::try_from(EpsilonArg::from(good_e)), Ok(good_e));
	}

	#[test]
	fn probability_is_reduced_and_validated() {
		assert_eq!(p(5, 100), p(1, 20));
		assert_eq!(p(5, 100).denominator(), 20);
		assert_eq!(Probability::new(1, 1), Err(Error::ProbabilityOutOfRange));
		assert_eq!(Probability::new(0, 0), Err(Error::ProbabilityOutOfRange));
		assert_eq!(Probability::new(3, 2), Err(Error::ProbabilityOutOfRange));
		assert_eq!(Probability::new(1, 1 << 33), Err(Error::ProbabilityOutOfRange));
		assert_eq!(Probability::new(0, 7), Ok(p(0, 1)));
		assert_eq!(Probability::from_perbill(Perbill::from_percent(5)), Ok(p(1, 20)));
		assert_eq!(
			Probability::from_perbill(Perbill::from_percent(100)),
			Err(Error::ProbabilityOutOfRange)
		);
	}

	#[test]
	fn probability_parses_decimals_and_fractions_exactly() {
		assert_eq!("0.05".parse::<Probability>(), Ok(p(1, 20)));
		assert_eq!(".25".parse::<Probability>(), Ok(p(1, 4)));
		assert_eq!("1/3".parse::<Probability>(), Ok(p(1, 3)));
		assert_eq!(" 2 / 6 ".parse::<Probability>(), Ok(p(1, 3)));
		assert_eq!("0.33333".parse::<Probability>(), Ok(p(33333, 100000)));
		assert_eq!("0".parse::<Probability>(), Ok(p(0, 1)));
		assert_eq!(
			"1".parse::<Probability>(),
			Err(ParseError::Invalid(Error::ProbabilityOutOfRange))
		);
		assert_eq!("-0.1".parse::<Probability>(), Err(ParseError::Malformed));
		assert_eq!("abc".parse::<Probability>(), Err(ParseError::Malformed));
		assert_eq!(".".parse::<Probability>(), Err(ParseError::Malformed));
		assert_eq!("1/".parse::<Probability>(), Err(ParseError::Malformed));
		assert_eq!(
			"0.1234567890123".parse::<Probability>(),
			Err(ParseError::Invalid(Error::ProbabilityOutOfRange))
		);
	}

	#[test]
	fn epsilon_is_validated_and_parsed() {
		assert_eq!(Epsilon::default(), Epsilon::from_exponent(18).unwrap());
		assert_eq!(Epsilon::from_exponent(0), Err(Error::EpsilonOutOfRange));
		assert_eq!(Epsilon::from_exponent(31), Err(Error::EpsilonOutOfRange));
		assert!(Epsilon::from_exponent(30).is_ok());
		assert!(Epsilon::new(1, 10).is_ok());
		assert_eq!(Epsilon::new(1, 9), Err(Error::EpsilonOutOfRange));
		assert_eq!(Epsilon::new(0, 9), Err(Error::EpsilonOutOfRange));
		assert_eq!(Epsilon::new(1, 10u128.pow(30) + 1), Err(Error::EpsilonOutOfRange));
		assert_eq!(Epsilon::new(u128::MAX, u128::MAX), Err(Error::EpsilonOutOfRange));
		let e18 = Epsilon::default();
		assert_eq!("1e-18".parse::<Epsilon>(), Ok(e18));
		assert_eq!("10^-18".parse::<Epsilon>(), Ok(e18));
		assert_eq!("1/1000000000000000000".parse::<Epsilon>(), Ok(e18));
		assert_eq!("0.000001".parse::<Epsilon>(), Ok(Epsilon::from_exponent(6).unwrap()));
		assert_eq!("2.5e-9".parse::<Epsilon>(), Ok(Epsilon::new(1, 400_000_000).unwrap()));
		assert_eq!("1e-31".parse::<Epsilon>(), Err(ParseError::Invalid(Error::EpsilonOutOfRange)));
		assert_eq!("1e3".parse::<Epsilon>(), Err(ParseError::Invalid(Error::EpsilonOutOfRange)));
		assert_eq!("0.5".parse::<Epsilon>(), Err(ParseError::Invalid(Error::EpsilonOutOfRange)));
		assert_eq!("1e-x".parse::<Epsilon>(), Err(ParseError::Malformed));
		assert_eq!(e18.to_string(), "1e-18");
	}

	#[test]
	fn scale_decoding_refuses_invalid_values() {
		assert_eq!(Probability::decode(&mut &p(1, 20).encode()[..]), Ok(p(1, 20)));
		let bad = (5u32, 5u32).encode();
		assert!(Probability::decode(&mut &bad[..]).is_err());
		let bad = (1u128, 2u128).encode();
		assert!(Epsilon::decode(&mut &bad[..]).is_err());
	}

	#[test]
	fn zero_and_oversized_committees_are_refused() {
		let e = Epsilon::default();
		assert_eq!(max_bad(0, p(1, 20), e), Err(Error::ZeroSlots));
		assert_eq!(max_bad(MAX_SLOTS + 1, p(1, 20), e), Err(Error::TooManySlots));
		assert_eq!(upper_tail(0, p(1, 20), 1), Err(Error::ZeroSlots));
		assert_eq!(tail_below(0, p(1, 20), e, 0), Err(Error::ZeroSlots));
	}

	#[test]
	fn small_cases_by_hand() {
		let e = Epsilon::from_exponent(3).unwrap();
		// p = 0: no slot is ever bad.
		assert_eq!(max_bad(10, p(0, 1), e), Ok(0));
		// N = 1, p = 1/2: P(X > 0) = 1/2 ≥ ε, so b = 1 = N: unsafe.
		assert_eq!(max_bad(1, p(1, 2), e), Ok(1));
		// N = 10, p = 1/2, ε = 1e-3: P(X > 9) = 1/1024 < 1e-3 but P(X > 8) = 11/1024 ≥ 1e-3.
		assert_eq!(max_bad(10, p(1, 2), e), Ok(9));
		assert_eq!(upper_tail(10, p(1, 2), 10), Ok((1u32.into(), 1024u32.into())));
		assert_eq!(upper_tail(10, p(1, 2), 9), Ok((11u32.into(), 1024u32.into())));
		assert_eq!(upper_tail(10, p(1, 2), 0), Ok((1024u32.into(), 1024u32.into())));
		assert_eq!(upper_tail(10, p(1, 2), 11), Ok((0u32.into(), 1024u32.into())));
	}

	#[test]
	fn papers_17_is_far_too_small_for_p_005_n_50() {
		// p = 0.05, N = 50: the paper's 17 is far too small; P(X >= 17) ≈ 1e-10.
		let (num, den) = upper_tail(50, p(1, 20), 17).unwrap();
		let ratio = num.to_string().len() as i64 - den.to_string().len() as i64;
		assert!((-11..=-9).contains(&ratio), "P(X >= 17) should be about 1e-10, ratio {ratio}");
		let b = max_bad(50, p(1, 20), Epsilon::default()).unwrap();
		assert!(b > 16);
		assert!(tail_below(50, p(1, 20), Epsilon::default(), b).unwrap());
		assert!(!tail_below(50, p(1, 20), Epsilon::default(), b - 1).unwrap());
	}

	#[cfg(feature = "std")]
	#[test]
	fn normal_quantile_matches_known_values() {
		let z = |e| normal::quantile(Epsilon::from_exponent(e).unwrap());
		assert!((z(3) - 3.090232).abs() < 1e-5);
		assert!((z(6) - 4.753424).abs() < 1e-5);
		assert!((z(18) - 8.757290).abs() < 1e-5);
	}
}
