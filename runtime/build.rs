//! Builds the wasm runtime (skipped with `SKIP_WASM_BUILD=1`, as the unit tests do).
fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
	}
}
