//! The `cm` binary, run as a user runs it.

use consensus_machine_primitives::{
	stochastic::{tail_below, upper_tail},
	DecisionRule, Epsilon, Probability,
};
use serde_json::Value;
use std::process::{Command, Output};

fn cm(args: &[&str]) -> Output {
	Command::new(env!("CARGO_BIN_EXE_cm")).args(args).output().expect("cm runs")
}

fn json(args: &[&str]) -> Value {
	let out = cm(args);
	assert!(out.status.success(), "cm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
	serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn thresholds_json_reports_the_exact_rule() {
	let v = json(&["thresholds", "--n", "50", "--p", "0.05", "--json"]);
	let p = Probability::new(1, 20).unwrap();
	let rule = DecisionRule::exact_allowing_unsafe(50, p, Epsilon::default()).unwrap();
	assert_eq!(v["n"], 50);
	assert_eq!(v["p"], "1/20");
	assert_eq!(v["epsilon"], "1e-18");
	assert_eq!(v["method"], "exact");
	assert_eq!(v["max_bad"], rule.max_bad);
	assert_eq!(v["safe"], rule.max_bad + 1);
	assert_eq!(v["strong"], (50 + rule.max_bad) / 2 + 1);
	assert_eq!(v["complete"], 3 * rule.max_bad < 50);
	assert_eq!(v["unsafe"], false);
	// The defining inequalities, independently of how the CLI got there.
	let b = v["max_bad"].as_u64().unwrap() as u32;
	assert!(tail_below(50, p, Epsilon::default(), b).unwrap());
	assert!(!tail_below(50, p, Epsilon::default(), b - 1).unwrap());
	// And it is not the paper's 17.
	assert!(b + 1 > 17);
}

#[test]
fn normal_method_is_labelled_and_differs_from_exact() {
	let v = json(&["thresholds", "--n", "50", "--p", "1/20", "--method", "normal", "--json"]);
	assert_eq!(v["method"], "normal");
	let z = v["z"].as_f64().unwrap();
	assert!((z - 8.7573).abs() < 1e-3);
	let exact = json(&["thresholds", "--n", "50", "--p", "1/20", "--json"]);
	assert!(v["max_bad"].as_u64() < exact["max_bad"].as_u64());
}

#[test]
fn bad_arguments_give_one_line_and_a_failure_code() {
	for args in [
		vec!["thresholds", "--n", "0", "--p", "0.05"],
		vec!["thresholds", "--n", "50", "--p", "1.5"],
		vec!["thresholds", "--n", "50", "--p", "abc"],
		vec!["thresholds", "--n", "50"],
		vec!["thresholds", "--n", "50", "--p", "0.1", "--epsilon", "0.5"],
		vec!["thresholds", "--n", "50", "--p", "0.1", "--method", "magic"],
		vec!["plan", "--p", "0.4"],
		vec!["plan", "--p", "1/2"],
		vec!["frobnicate"],
		vec![],
	] {
		let out = cm(&args);
		let stderr = String::from_utf8_lossy(&out.stderr);
		assert!(!out.status.success(), "cm {args:?} should fail");
		assert_eq!(stderr.trim_end().lines().count(), 1, "cm {args:?}: {stderr}");
		assert!(!stderr.contains("panicked"), "cm {args:?}: {stderr}");
	}
}

#[test]
fn table1_puts_the_paper_next_to_the_exact_values() {
	let v = json(&["table1", "--json"]);
	let rows = v["rows"].as_array().unwrap();
	assert_eq!(rows.len(), 66);
	let row = rows.iter().find(|r| r["p"] == "0.05" && r["n"] == 50).unwrap();
	assert_eq!(row["paper"], "17");
	assert_eq!(row["normal"], "17");
	assert_eq!(row["paper_safe"], false);
	let (num, den) = upper_tail(50, Probability::new(1, 20).unwrap(), 17).unwrap();
	let tail: f64 = row["paper_tail"].as_str().unwrap().parse().unwrap();
	let digits = num.to_string().len() as i32 - den.to_string().len() as i32;
	assert!((tail.log10() - f64::from(digits)).abs() < 1.0);
	let exact: u32 = row["exact"].as_str().unwrap().parse().unwrap();
	assert_eq!(exact, row["exact_max_bad"].as_u64().unwrap() as u32 + 1);
}

#[test]
fn table2_normal_column_is_the_papers() {
	let v = json(&["table2", "--json"]);
	let rows = v["rows"].as_array().unwrap();
	assert_eq!(rows.len(), 36);
	for row in rows {
		assert_eq!(row["normal"], row["paper"], "{row}");
		assert!(row["exact"].as_u64().unwrap() > 0);
	}
	// The exact size for p = 0.1 at 1e-18 is well above the paper's 44.
	let row = rows.iter().find(|r| r["p"] == "0.1" && r["epsilon"] == "1e-18").unwrap();
	assert!(row["exact"].as_u64().unwrap() > 44);
	assert_eq!(row["paper_safe"], false);
}

#[test]
fn plan_sizes_a_complete_backup() {
	let v = json(&["plan", "--p", "0.1", "--json"]);
	assert_eq!(v["backup"]["complete"], true);
	assert_eq!(v["primary"]["unsafe"], false);
	let backup_n = v["backup"]["n"].as_u64().unwrap() as u32;
	let p = Probability::new(1, 10).unwrap();
	let smaller = DecisionRule::exact_allowing_unsafe(backup_n - 1, p, Epsilon::default()).unwrap();
	assert!(!smaller.is_complete(), "one slot fewer is not complete");
}

#[test]
fn plot_writes_an_svg_chart() {
	let dir = std::env::temp_dir().join(format!("cm-plot-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let out = dir.join("thresholds.svg");
	let result = cm(&["plot", "--out", out.to_str().unwrap()]);
	assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
	let svg = std::fs::read_to_string(&out).unwrap();
	assert!(svg.starts_with("<svg"));
	assert!(svg.contains("p = 1/20 exact") && svg.contains("p = 1/4 normal"));
	assert!(svg.matches("<polyline").count() >= 8, "eight curves");
	std::fs::remove_dir_all(&dir).unwrap();
}
