//! The text and JSON reports of `cm thresholds`, `cm table1`, `cm table2` and `cm plan`.

use crate::Method;
use consensus_machine_primitives::{
	paper,
	stochastic::{self, honest_majority_size, normal},
	DecisionRule, Epsilon, Plan, Probability,
};
use num_bigint::BigUint;
use serde_json::{json, Value};

/// `num/den` in scientific notation (`1.23e-10`), without going through a float that would
/// underflow: the exponent comes from the big integers' bit lengths.
pub fn scientific(num: &BigUint, den: &BigUint) -> String {
	if num.bits() == 0 {
		return "0".into();
	}
	let log10 = log10_big(num) - log10_big(den);
	let exponent = log10.floor();
	let mantissa = 10f64.powf(log10 - exponent);
	// Rounding can give 10.0: carry it.
	let (mantissa, exponent) =
		if mantissa >= 9.995 { (1.0, exponent + 1.0) } else { (mantissa, exponent) };
	format!("{mantissa:.2}e{exponent}")
}

fn log10_big(x: &BigUint) -> f64 {
	// Keep the top 64 bits: plenty for three significant digits.
	let shift = x.bits().saturating_sub(64);
	let top: BigUint = x >> shift;
	let top = top.iter_u64_digits().next().unwrap_or(0) as f64;
	top.log10() + shift as f64 * std::f64::consts::LOG10_2
}

/// `P(X >= k)` in scientific notation, or `-` when `k` is not a committee threshold.
fn tail_text(n: u32, p: Probability, k: u32) -> String {
	match stochastic::upper_tail(n, p, k) {
		Ok((num, den)) => scientific(&num, &den),
		Err(_) => "-".into(),
	}
}

/// Whether `P(X >= k) < ε`.
fn tail_is_below(n: u32, p: Probability, epsilon: Epsilon, k: u32) -> bool {
	k >= 1 && stochastic::tail_below(n, p, epsilon, k - 1).unwrap_or(false)
}

fn rule_json(rule: &DecisionRule) -> Value {
	json!({
		"n": rule.n,
		"max_bad": rule.max_bad,
		"safe": rule.safe(),
		"strong": rule.strong(),
		"complete": rule.is_complete(),
		"unsafe": rule.is_unsafe(),
		"two_thirds_good": rule.is_two_thirds_good(),
		"silent_tolerated": rule.silent_tolerated(),
	})
}

fn print_json(value: &Value) -> Result<(), String> {
	println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
	Ok(())
}

pub fn thresholds(
	n: u32,
	p: Probability,
	epsilon: Epsilon,
	method: Method,
	json: bool,
) -> Result<(), String> {
	let (rule, method_name, z) = match method {
		Method::Exact => (DecisionRule::exact_allowing_unsafe(n, p, epsilon), "exact", None),
		Method::Normal => {
			let z = normal::quantile(epsilon);
			(DecisionRule::normal(n, p, z), "normal", Some(z))
		}
	};
	let rule = rule.map_err(|e| e.to_string())?;
	// Whatever the method, say what the exact tail at its `max_bad` is.
	let tail = tail_text(n, p, rule.max_bad + 1);
	if json {
		let mut value = rule_json(&rule);
		let object = value.as_object_mut().expect("rule_json builds an object");
		object.insert("p".into(), json!(p.to_string()));
		object.insert("epsilon".into(), json!(epsilon.to_string()));
		object.insert("method".into(), json!(method_name));
		object.insert("z".into(), json!(z));
		object.insert("exact_tail_above_max_bad".into(), json!(tail));
		return print_json(&value);
	}
	println!("committee N = {n}, p = {p}, epsilon = {epsilon}, method = {method_name}");
	if let Some(z) = z {
		println!("  z (normal quantile)  {z:.4}");
	}
	println!("  max_bad              {}   (exact P(X > max_bad) = {tail})", rule.max_bad);
	println!("  safe threshold       {}", rule.safe());
	println!("  strong threshold     {}", rule.strong());
	println!("  complete             {}", rule.is_complete());
	println!("  unsafe               {}", rule.is_unsafe());
	println!("  two-thirds good      {}", rule.is_two_thirds_good());
	println!("  silent tolerated     {}", rule.silent_tolerated());
	Ok(())
}

fn cell_text(cell: paper::Cell) -> String {
	match cell {
		paper::Cell::Red => "red".into(),
		paper::Cell::Value(k) => k.to_string(),
		paper::Cell::Asterisk => "*".into(),
		paper::Cell::Missing => "?".into(),
	}
}

/// The safe threshold, or `unsafe` when even unanimity proves nothing.
fn safe_text(rule: &DecisionRule) -> String {
	if rule.is_unsafe() {
		"unsafe".into()
	} else {
		rule.safe().to_string()
	}
}

pub fn table1(json: bool) -> Result<(), String> {
	let epsilon = Epsilon::default();
	let mut rows = Vec::new();
	if !json {
		println!("Table 1: smallest agreement that contains a good slot, epsilon = 1e-18");
		println!("paper = as printed; normal = ceil(N p + 9 sigma); exact = binomial tail.");
		println!("P(X>=paper) is the exact chance that the paper's agreement is all bad.");
		println!();
		println!(
			"{:>8} {:>5} {:>6} {:>7} {:>7} {:>12}  verdict",
			"p", "N", "paper", "normal", "exact", "P(X>=paper)"
		);
	}
	for (p_text, cells) in paper::TABLE1 {
		let p: Probability = p_text.parse().map_err(|e| format!("{e}"))?;
		for (col, cell) in cells.iter().enumerate() {
			let n = paper::TABLE1_N[col];
			let exact =
				DecisionRule::exact_allowing_unsafe(n, p, epsilon).map_err(|e| e.to_string())?;
			let normal = DecisionRule::normal(n, p, paper::TABLE1_Z).map_err(|e| e.to_string())?;
			let (tail, verdict) = match cell {
				paper::Cell::Value(k) => {
					let ok = tail_is_below(n, p, epsilon, *k);
					let verdict = if ok { "ok" } else { "UNSAFE: tail above epsilon" };
					(tail_text(n, p, *k), verdict)
				}
				_ => ("-".into(), ""),
			};
			if json {
				rows.push(json!({
					"p": p_text, "n": n, "paper": cell_text(*cell),
					"normal": safe_text(&normal), "exact": safe_text(&exact),
					"exact_max_bad": exact.max_bad, "paper_tail": tail,
					"paper_safe": verdict == "ok",
				}));
			} else {
				println!(
					"{:>8} {:>5} {:>6} {:>7} {:>7} {:>12}  {}",
					p_text,
					n,
					cell_text(*cell),
					safe_text(&normal),
					safe_text(&exact),
					tail,
					verdict
				);
			}
		}
	}
	if json {
		return print_json(&json!({ "epsilon": "1e-18", "z": paper::TABLE1_Z, "rows": rows }));
	}
	Ok(())
}

pub fn table2(json: bool) -> Result<(), String> {
	let mut rows = Vec::new();
	if !json {
		println!("Table 2: committee size N with P(more than N/2 bad) < epsilon");
		println!("paper = as printed; normal = ceil(z^2 p(1-p)/(1/2-p)^2) with the paper's z;");
		println!("exact = smallest N by the binomial tail; P(>N/2 | paper) = exact tail at the paper's N.");
		println!();
		println!(
			"{:>7} {:>6} {:>7} {:>6} {:>7} {:>7} {:>14}  verdict",
			"p", "eps", "z", "paper", "normal", "exact", "P(>N/2|paper)"
		);
	}
	for (p_text, values) in paper::TABLE2 {
		let p: Probability = p_text.parse().map_err(|e| format!("{e}"))?;
		for (col, &paper_n) in values.iter().enumerate() {
			let e = paper::TABLE2_EXPONENTS[col];
			let epsilon = Epsilon::from_exponent(e).map_err(|e| e.to_string())?;
			let z = paper::TABLE2_Z[col];
			let normal = normal::honest_majority_size(p, z).map_err(|e| e.to_string())?;
			let exact = honest_majority_size(p, epsilon).map_err(|e| e.to_string())?;
			let tail = tail_text(paper_n, p, paper_n / 2 + 1);
			let ok = stochastic::tail_below(paper_n, p, epsilon, paper_n / 2).unwrap_or(false);
			let verdict = if ok { "ok" } else { "UNSAFE: tail above epsilon" };
			if json {
				rows.push(json!({
					"p": p_text, "epsilon": format!("1e-{e}"), "z": z, "paper": paper_n,
					"normal": normal, "exact": exact, "paper_tail": tail, "paper_safe": ok,
				}));
			} else {
				println!(
					"{:>7} {:>6} {:>7} {:>6} {:>7} {:>7} {:>14}  {}",
					p_text,
					format!("1e-{e}"),
					z,
					paper_n,
					normal,
					exact,
					tail,
					verdict
				);
			}
		}
	}
	if json {
		return print_json(&json!({ "rows": rows }));
	}
	Ok(())
}

pub fn plan(p: Probability, epsilon: Epsilon, silent: u32, json: bool) -> Result<(), String> {
	let plan = Plan::new(p, epsilon, silent).map_err(|e| e.to_string())?;
	if json {
		return print_json(&json!({
			"p": p.to_string(),
			"epsilon": epsilon.to_string(),
			"silent": plan.silent,
			"primary": rule_json(&plan.primary),
			"primary_two_thirds": rule_json(&plan.primary_two_thirds),
			"backup": rule_json(&plan.backup),
			"honest_majority": plan.honest_majority,
		}));
	}
	let describe = |label: &str, rule: &DecisionRule| {
		println!(
			"  {label:<28} N = {:>5}  max_bad = {:>5}  strong = {:>5}  complete = {:<5}  \
			 two-thirds good = {}",
			rule.n,
			rule.max_bad,
			rule.strong(),
			rule.is_complete(),
			rule.is_two_thirds_good()
		);
	};
	println!("plan for p = {p}, epsilon = {epsilon}");
	describe(&format!("primary (safe, {silent} silent)"), &plan.primary);
	describe("primary (two-thirds good)", &plan.primary_two_thirds);
	describe("backup (complete)", &plan.backup);
	println!("  {:<28} N = {:>5}", "honest majority", plan.honest_majority);
	if !plan.primary.is_two_thirds_good() {
		println!(
			"note: the smallest primary is not two-thirds good: only certificates recorded on \
			 chain before the handover count; N >= {} makes off-chain ones safe too.",
			plan.primary_two_thirds.n
		);
	}
	Ok(())
}
