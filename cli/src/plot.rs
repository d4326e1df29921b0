//! `cm plot`: the strong threshold as a fraction of `N`, exact (solid) against normal (dashed).

use consensus_machine_primitives::{stochastic::normal, DecisionRule, Epsilon, Probability};
use plotters::prelude::*;
use std::path::Path;

/// The bad-slot bounds drawn, with their colours.
const CURVES: [(u64, u64, RGBColor); 4] =
	[(1, 20, BLUE), (1, 10, GREEN), (1, 5, RGBColor(230, 120, 0)), (1, 4, RED)];

/// Committee sizes on the x axis: dense where the curves bend.
fn sizes() -> impl Iterator<Item = u32> + Clone {
	(10..100).step_by(2).chain((100..400).step_by(10)).chain((400..=1000).step_by(25))
}

/// `(N, strong/N)` for every size where the committee is safe (an unsafe one has no threshold).
fn curve(rule: impl Fn(u32) -> Result<DecisionRule, String>) -> Result<Vec<(f64, f64)>, String> {
	let mut points = Vec::new();
	for n in sizes() {
		let rule = rule(n)?;
		if !rule.is_unsafe() {
			points.push((f64::from(n), f64::from(rule.strong()) / f64::from(n)));
		}
	}
	Ok(points)
}

pub fn write(out: &Path, epsilon: Epsilon) -> Result<(), String> {
	let z = normal::quantile(epsilon);
	let root = SVGBackend::new(out, (960, 640)).into_drawing_area();
	let draw_err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", out.display());
	root.fill(&WHITE).map_err(|e| draw_err(&e))?;
	let mut chart = ChartBuilder::on(&root)
		.caption(
			format!("Strong threshold / N, epsilon = {epsilon}: exact (solid) vs normal z = {z:.3} (dashed)"),
			("sans-serif", 18),
		)
		.margin(15)
		.x_label_area_size(45)
		.y_label_area_size(60)
		.build_cartesian_2d((10f64..1000f64).log_scale(), 0.5f64..1.0f64)
		.map_err(|e| draw_err(&e))?;
	chart
		.configure_mesh()
		.x_desc("committee size N (log scale)")
		.y_desc("strong threshold / N")
		.draw()
		.map_err(|e| draw_err(&e))?;
	for (num, den, colour) in CURVES {
		let p = Probability::new(num, den).map_err(|e| e.to_string())?;
		let exact = curve(|n| {
			DecisionRule::exact_allowing_unsafe(n, p, epsilon).map_err(|e| e.to_string())
		})?;
		let approx = curve(|n| DecisionRule::normal(n, p, z).map_err(|e| e.to_string()))?;
		chart
			.draw_series(LineSeries::new(exact, colour.stroke_width(2)))
			.map_err(|e| draw_err(&e))?
			.label(format!("p = {p} exact"))
			.legend(move |(x, y)| {
				PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
			});
		chart
			.draw_series(DashedLineSeries::new(approx, 6, 4, colour.stroke_width(1)))
			.map_err(|e| draw_err(&e))?
			.label(format!("p = {p} normal"))
			.legend(move |(x, y)| {
				PathElement::new(vec![(x, y), (x + 8, y)], colour.stroke_width(1))
			});
	}
	chart
		.configure_series_labels()
		.position(SeriesLabelPosition::UpperRight)
		.background_style(WHITE.mix(0.85))
		.border_style(BLACK)
		.draw()
		.map_err(|e| draw_err(&e))?;
	root.present().map_err(|e| draw_err(&e))?;
	println!("wrote {}", out.display());
	Ok(())
}
