//! Placeholder: the node is built by issue #6; this binary only says so.

fn main() -> std::process::ExitCode {
	eprintln!("consensus-machine-node: not built yet (issue #6); use the `cm` CLI for now");
	std::process::ExitCode::FAILURE
}
