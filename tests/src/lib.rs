//! Placeholder: workspace integration tests arrive with issues #5 and #6; this crate has none yet.
