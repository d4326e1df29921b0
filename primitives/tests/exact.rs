//! The exact threshold computation checked against independent evaluations, its defining
//! inequalities, monotonicity properties and the paper's Appendix 1.

use consensus_machine_primitives::{
	paper,
	rule::{smallest_complete, smallest_tolerating_silent, smallest_two_thirds_good},
	stochastic::{self, honest_majority_size, max_bad, normal, Epsilon, Probability},
	DecisionRule, Error,
};
use num_bigint::BigUint;
use proptest::prelude::*;

fn prob(num: u64, den: u64) -> Probability {
	Probability::new(num, den).expect("valid probability")
}

fn eps(e: u8) -> Epsilon {
	Epsilon::from_exponent(e).expect("valid epsilon")
}

/// `C(n, k)` by the multiplicative formula: independent of the library's term recurrence.
fn binomial(n: u32, k: u32) -> BigUint {
	let mut c = BigUint::from(1u32);
	for j in 0..k {
		c = c * (n - j) / (j + 1);
	}
	c
}

/// `P(X > b) < ε`, decided by summing the *upper* tail term by term, each term from scratch.
fn upper_tail_below_independent(n: u32, p: Probability, e: Epsilon, b: u32) -> bool {
	let (a, den) = (p.numerator(), p.denominator());
	let c = den - a;
	let mut tail = BigUint::from(0u32);
	for i in (b + 1)..=n {
		tail += binomial(n, i) * BigUint::from(a).pow(i) * BigUint::from(c).pow(n - i);
	}
	// tail / den^n < e_num / e_den
	tail * BigUint::from(e.denominator()) < BigUint::from(den).pow(n) * e.numerator()
}

/// `log10 P(X > b)` in floating point (log-space sum with `lgamma`): a second, approximate
/// evaluation for sizes where the independent big-integer sum is slow.
fn log10_upper_tail(n: u32, p: f64, b: u32) -> f64 {
	let ln = |x: f64| libm::lgamma(x);
	let terms: Vec<f64> = ((b + 1)..=n)
		.map(|i| {
			let (i, nf) = (f64::from(i), f64::from(n));
			ln(nf + 1.0) - ln(i + 1.0) - ln(nf - i + 1.0) + i * p.ln() + (nf - i) * (1.0 - p).ln()
		})
		.collect();
	let Some(max) = terms.iter().cloned().reduce(f64::max) else { return f64::NEG_INFINITY };
	(max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()) / std::f64::consts::LN_10
}

#[test]
fn exact_max_bad_agrees_with_an_independent_upper_tail_sum() {
	let ps = [prob(1, 20), prob(1, 10), prob(1, 4), prob(1, 3), prob(33333, 100000), prob(2, 5)];
	let es = [eps(3), eps(9), eps(18), Epsilon::new(3, 10_000_000).unwrap()];
	let mut checked = 0;
	for n in [1u32, 2, 3, 5, 8, 13, 20, 50, 100, 150] {
		for p in ps {
			for e in es {
				let b = max_bad(n, p, e).unwrap();
				assert!(b <= n);
				assert!(
					upper_tail_below_independent(n, p, e, b),
					"P(X > b) < ε: n={n} p={p} e={e}"
				);
				if b > 0 {
					assert!(
						!upper_tail_below_independent(n, p, e, b - 1),
						"b is the smallest: n={n} p={p} e={e} b={b}"
					);
				}
				checked += 1;
			}
		}
	}
	assert_eq!(checked, 10 * 6 * 4);
}

#[test]
fn exact_max_bad_agrees_with_a_log_space_evaluation_for_large_committees() {
	for n in [500u32, 1000, 3000] {
		for (num, den) in [(1u64, 20u64), (1, 10), (1, 4), (1, 3)] {
			for e in [6u8, 18] {
				let b = max_bad(n, prob(num, den), eps(e)).unwrap();
				let p = num as f64 / den as f64;
				let target = -f64::from(e);
				// The float evaluation is good to far better than 1e-6 in log10 here.
				assert!(log10_upper_tail(n, p, b) < target + 1e-6, "n={n} p={p} e={e} b={b}");
				assert!(log10_upper_tail(n, p, b - 1) > target - 1e-6, "n={n} p={p} e={e} b={b}");
			}
		}
	}
}

#[test]
fn exact_computation_handles_ten_thousand_slots() {
	let (n, p, e) = (10_000, prob(1, 20), Epsilon::default());
	let b = max_bad(n, p, e).unwrap();
	assert!(stochastic::tail_below(n, p, e, b).unwrap());
	assert!(!stochastic::tail_below(n, p, e, b - 1).unwrap());
	assert!(log10_upper_tail(n, 0.05, b) < -18.0 + 1e-6);
	assert!(log10_upper_tail(n, 0.05, b - 1) > -18.0 - 1e-6);
	// A Perbill-derived p that does not reduce: 30 bits per slot.
	let p = Probability::from_perbill(sp_arithmetic_perbill(123_456_789)).unwrap();
	assert_eq!(p.denominator(), 1_000_000_000);
	let b = max_bad(n, p, e).unwrap();
	assert!(log10_upper_tail(n, 0.123456789, b) < -18.0 + 1e-6);
	assert!(log10_upper_tail(n, 0.123456789, b - 1) > -18.0 - 1e-6);
}

fn sp_arithmetic_perbill(parts: u32) -> sp_arithmetic::Perbill {
	sp_arithmetic::Perbill::from_parts(parts)
}

#[test]
fn the_exact_threshold_is_above_the_papers_for_small_p() {
	// p = 0.05, N = 50: the paper's 17 has a tail of about 1e-10.
	let rule = DecisionRule::exact(50, prob(1, 20), Epsilon::default()).unwrap();
	assert!(rule.safe() > 17);
	assert_eq!(rule.strong(), (50 + rule.max_bad) / 2 + 1);
}

fn linear_smallest(holds: impl Fn(u32) -> bool, limit: u32) -> Option<u32> {
	(1..=limit).find(|&n| holds(n))
}

#[test]
fn committee_searches_agree_with_a_linear_scan() {
	for e in [eps(2), eps(3), eps(6)] {
		for (num, den) in [(1u64, 20u64), (1, 10), (3, 20), (1, 5), (1, 4), (3, 10)] {
			let p = prob(num, den);
			let limit = 1500u32;
			let table: Vec<u32> = (1..=limit).map(|n| max_bad(n, p, e).unwrap()).collect();
			let mb = |n: u32| table[n as usize - 1];
			let majority = linear_smallest(|n| mb(n) <= n / 2, limit);
			assert_eq!(honest_majority_size(p, e).ok(), majority, "majority p={p} e={e}");
			// Beyond the scanned range the search must at least not claim a smaller size.
			let same = |found: Option<u32>, linear: Option<u32>| match linear {
				Some(_) => found == linear,
				None => found.is_some_and(|n| n > limit),
			};
			let complete = linear_smallest(|n| 3 * mb(n) < n, limit);
			let found = smallest_complete(p, e).ok().map(|r| r.n);
			assert!(same(found, complete), "complete p={p} e={e}: {found:?} vs {complete:?}");
			let two_thirds = linear_smallest(|n| 3 * mb(n) <= n, limit);
			let found = smallest_two_thirds_good(p, e).ok().map(|r| r.n);
			assert!(same(found, two_thirds), "2/3 p={p} e={e}: {found:?} vs {two_thirds:?}");
			for silent in [0u32, 1, 3] {
				let linear = linear_smallest(
					|n| {
						let rule = DecisionRule { n, max_bad: mb(n) };
						!rule.is_unsafe() && rule.silent_tolerated() >= silent
					},
					limit,
				);
				let found = smallest_tolerating_silent(p, e, silent).unwrap();
				assert_eq!(Some(found.n), linear, "silent={silent} p={p} e={e}");
			}
		}
	}
}

#[test]
fn honest_majority_needs_p_below_half() {
	assert_eq!(honest_majority_size(prob(1, 2), eps(18)), Err(Error::ProbabilityNotBelowHalf));
	assert_eq!(honest_majority_size(prob(3, 5), eps(18)), Err(Error::ProbabilityNotBelowHalf));
	assert_eq!(normal::honest_majority_size(prob(1, 2), 9.0), Err(Error::ProbabilityNotBelowHalf));
}

#[test]
fn normal_method_reproduces_table_2_exactly() {
	for (p_text, row) in paper::TABLE2 {
		let p: Probability = p_text.parse().unwrap();
		for (col, expected) in row.iter().enumerate() {
			let got = normal::honest_majority_size(p, paper::TABLE2_Z[col]).unwrap();
			assert_eq!(got, *expected, "p={p_text} e=1e-{}", paper::TABLE2_EXPONENTS[col]);
		}
	}
}

#[test]
fn normal_method_reproduces_table_1_within_its_rounding() {
	let mut outliers = Vec::new();
	let mut compared = 0;
	for (p_text, row) in paper::TABLE1 {
		let p: Probability = p_text.parse().unwrap();
		for (col, cell) in row.iter().enumerate() {
			let n = paper::TABLE1_N[col];
			let exact_k = normal::safe_threshold(n, p, paper::TABLE1_Z).unwrap();
			match cell {
				paper::Cell::Value(k) => {
					compared += 1;
					// The paper rounds N·p + 9σ sometimes up, sometimes to nearest: allow one.
					if exact_k.abs_diff(*k) > 1 {
						outliers.push((p_text, n));
					}
				}
				// Red cells: the normal approximation also calls the committee unsafe.
				paper::Cell::Red => assert!(exact_k > n, "p={p_text} N={n}"),
				paper::Cell::Asterisk | paper::Cell::Missing => {}
			}
		}
	}
	assert_eq!(compared, 53);
	assert_eq!(outliers, paper::TABLE1_OUTLIERS.to_vec());
}

#[test]
fn exact_table_2_satisfies_its_definition() {
	for (p_text, _) in paper::TABLE2 {
		let p: Probability = p_text.parse().unwrap();
		for e in [3u8, 6, 9] {
			let n = honest_majority_size(p, eps(e)).unwrap();
			assert!(stochastic::tail_below(n, p, eps(e), n / 2).unwrap());
			for smaller in 1..n {
				assert!(
					!stochastic::tail_below(smaller, p, eps(e), smaller / 2).unwrap(),
					"p={p_text} e={e}: {smaller} < {n} already has an honest majority"
				);
			}
		}
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

	#[test]
	fn max_bad_grows_by_at_most_one_slot_per_slot(
		n in 1u32..400, num in 0u64..50, e in 1u8..=30
	) {
		let p = prob(num, 100);
		let (b0, b1) = (max_bad(n, p, eps(e)).unwrap(), max_bad(n + 1, p, eps(e)).unwrap());
		prop_assert!(b0 <= b1 && b1 <= b0 + 1, "b({n})={b0}, b({})={b1}", n + 1);
	}

	#[test]
	fn max_bad_is_monotone_in_p_and_epsilon(
		n in 1u32..400, num in 0u64..99, e in 1u8..30
	) {
		let e0 = eps(e);
		let e1 = eps(e + 1);
		let (p0, p1) = (prob(num, 100), prob(num + 1, 100));
		prop_assert!(max_bad(n, p0, e0).unwrap() <= max_bad(n, p1, e0).unwrap());
		prop_assert!(max_bad(n, p0, e0).unwrap() <= max_bad(n, p0, e1).unwrap());
	}

	#[test]
	fn thresholds_are_ordered(n in 1u32..400, num in 0u64..50, e in 1u8..=30) {
		let rule = DecisionRule::exact_allowing_unsafe(n, prob(num, 100), eps(e)).unwrap();
		prop_assert!(rule.safe() <= rule.strong());
		prop_assert_eq!(rule.is_unsafe(), rule.strong() > n);
		prop_assert_eq!(rule.is_complete(), 3 * rule.max_bad < n);
		// The exact answer never falls below the mean.
		prop_assert!((u64::from(rule.max_bad) + 1) * 100 > u64::from(n) * num);
	}

	#[test]
	fn upper_tail_matches_the_threshold(n in 1u32..200, num in 1u64..50, e in 1u8..=18) {
		let p = prob(num, 100);
		let b = max_bad(n, p, eps(e)).unwrap();
		let (tail_num, tail_den) = stochastic::upper_tail(n, p, b + 1).unwrap();
		// P(X >= b + 1) < ε
		prop_assert!(tail_num * BigUint::from(10u32).pow(u32::from(e)) < tail_den);
	}
}
