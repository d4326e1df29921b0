//! The paper's Appendix 1 tables, copied as data so that the tests and `cm table1`/`cm table2`
//! can compare them with the exact computation.
//!
//! Source: A. W. Roscoe, P. Antonino and J. Lawrence, *The consensus machine: formalising consensus in the presence of
//! malign agents*, Appendix 1 ("stochastic tables"), Table 1 and Table 2, as transcribed in the
//! project's reference copy of the paper. Table 1 rows list their entries left to right with the
//! red (unsafe) cells first; our copy of the row for `p = 0.15` and `p = 0.05` ends one cell
//! short of the `N = 1000` column, which is kept as [`Cell::Missing`] rather than guessed.

/// One cell of Table 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
	/// Red: even unanimity does not prove a good agent (the paper prints no number).
	Red,
	/// The smallest number of agreeing agents that proves a good one among them.
	Value(u32),
	/// Purple with an asterisk: "the number is small", printed without a value.
	Asterisk,
	/// Absent from our copy of the paper.
	Missing,
}

/// Table 1's columns: the committee sizes `N`.
pub const TABLE1_N: [u32; 11] = [20, 30, 40, 50, 60, 80, 100, 200, 400, 600, 1000];

/// The `z` of Table 1: the paper uses "9σ" for `ε = 10⁻¹⁸`.
pub const TABLE1_Z: f64 = 9.0;

/// Table 1 rows: `p` as printed, and one cell per entry of [`TABLE1_N`].
pub const TABLE1: [(&str, [Cell; 11]); 6] = {
	use Cell::{Asterisk as S, Missing as M, Red as R, Value as V};
	[
		("0.33333", [R, R, V(40), V(47), V(53), V(65), V(76), V(127), V(219), V(304), V(467)]),
		("0.25", [R, V(29), V(35), V(43), V(46), V(55), V(64), V(106), V(178), V(246), V(374)]),
		("0.2", [V(20), V(26), V(31), V(36), V(40), V(49), V(56), V(91), V(152), V(208), V(314)]),
		("0.15", [V(17), V(22), V(27), V(30), V(34), V(41), V(48), V(76), V(125), S, M]),
		("0.1", [V(14), V(18), V(21), V(24), V(27), V(33), V(37), V(59), S, S, S]),
		("0.05", [V(9), V(12), V(15), V(17), V(19), V(22), S, S, S, S, M]),
	]
};

/// The one Table 1 cell that is not within one of `N·p + 9σ` (it is 40.06 there); listed so the
/// test that checks every other cell still fails if a second one appears.
pub const TABLE1_OUTLIERS: [(&str, u32); 1] = [("0.25", 50)];

/// Table 2's columns: `ε = 10^-e` for these `e`.
pub const TABLE2_EXPONENTS: [u8; 6] = [3, 6, 9, 12, 15, 18];

/// Table 2's second row, `M_σ`: the `z` the paper used for each column, as printed.
pub const TABLE2_Z: [f64; 6] = [3.0902, 4.76, 6.002, 7.03, 7.943, 8.759];

/// Table 2 rows: `p` as printed, and the committee size needed for an honest majority.
pub const TABLE2: [(&str, [u32; 6]); 6] = [
	("0.3333", [77, 182, 289, 396, 505, 614]),
	("0.25", [29, 68, 109, 149, 190, 231]),
	("0.2", [17, 41, 65, 88, 113, 137]),
	("0.15", [10, 24, 38, 52, 66, 80]),
	("0.1", [6, 13, 21, 28, 36, 44]),
	("0.05", [3, 6, 9, 12, 15, 18]),
];
