//! Chain specs from the runtime's genesis presets.

use sc_service::ChainType;

/// The chain spec type of this node.
pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm() -> Result<&'static [u8], String> {
	consensus_machine_runtime::WASM_BINARY
		.ok_or_else(|| "the wasm runtime was not built (unset SKIP_WASM_BUILD and rebuild)".into())
}

/// `--dev`: one authority, Alice.
pub fn development() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Consensus machine dev")
		.with_id("dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.build())
}

/// `--chain local`: Alice, Bob and Charlie.
pub fn local_testnet() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Consensus machine local testnet")
		.with_id("local_testnet")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.build())
}
