//! Genesis presets: `development` (one authority, Alice) and `local_testnet` (Alice, Bob and
//! Charlie), both with 20 bonded dev agents and two demo machines; with the `demo` feature, also
//! the demo driver (`crate::demo`) stepping every [`DEMO_PERIOD`] blocks, with its account
//! endowed.
//!
//! Dev agent `i` (0..20) has the account of the dev seed `//Agent{i}` and the picket key of
//! `//Agent{i}//picket`, so a node can put them in its keystore and anyone can re-derive them.

use crate::{AccountId, Balance, BlockNumber, Runtime, RuntimeGenesisConfig, UNIT};
use alloc::{format, vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_consensus_machine::types::{GenesisLevel, GenesisMachine};
use pallet_pickets::types::GenesisAgent;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{sr25519, Pair};
use sp_genesis_builder::{self, PresetId};
use sp_keyring::Sr25519Keyring;
use sp_runtime::traits::{BlakeTwo256, Hash, IdentifyAccount};

/// Number of dev agents.
pub const DEV_AGENTS: u32 = 20;
/// Blocks between two steps of the demo driver.
pub const DEMO_PERIOD: u32 = 3;
/// Each dev agent's bond.
pub const DEV_AGENT_BOND: Balance = 1_000 * UNIT;

/// The dev seed of agent `i`'s account.
pub fn agent_seed(i: u32) -> alloc::string::String {
	format!("//Agent{i}")
}

/// The dev seed of agent `i`'s picket key.
pub fn picket_seed(i: u32) -> alloc::string::String {
	format!("//Agent{i}//picket")
}

fn pair(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(seed, None).expect("dev seeds are valid")
}

/// Agent `i`'s account.
pub fn agent_account(i: u32) -> AccountId {
	sp_runtime::MultiSigner::from(pair(&agent_seed(i)).public()).into_account()
}

/// Agent `i`'s picket key.
pub fn agent_picket(i: u32) -> pallet_consensus_machine::crypto::Public {
	pair(&picket_seed(i)).public().into()
}

/// The demo machines: a notary log (unitary, 28 slots: the smallest complete committee, so it
/// also judges objects) and a hierarchical oracle (a primary of 6 slots, a complete backup of
/// 40), both for p = 1/20 and ε = 1e-6.
fn demo_machines() -> Vec<pallet_consensus_machine::GenesisMachineOf<Runtime>> {
	let level = |slots, timeout| GenesisLevel::<BlockNumber> {
		slots,
		p_numerator: 1,
		p_denominator: 20,
		epsilon_exponent: 6,
		timeout,
	};
	vec![
		GenesisMachine {
			levels: vec![level(28, 10)],
			round_deposit: UNIT,
			initial_state: <BlakeTwo256 as Hash>::hash(b"notary log: genesis").0,
		},
		GenesisMachine {
			levels: vec![level(6, 5), level(40, 10)],
			round_deposit: UNIT,
			initial_state: [0; 32],
		},
	]
}

fn genesis(
	authorities: Vec<(BabeId, GrandpaId)>,
	endowed: Vec<AccountId>,
	root: AccountId,
) -> Value {
	let agents: Vec<_> = (0..DEV_AGENTS)
		.map(|i| GenesisAgent {
			account: agent_account(i),
			key: agent_picket(i),
			bond: DEV_AGENT_BOND,
		})
		.collect();
	#[allow(unused_mut)] // Only the demo driver's account joins below.
	let mut balances: Vec<(AccountId, Balance)> = endowed
		.iter()
		.cloned()
		.map(|a| (a, 1_000_000 * UNIT))
		.chain(agents.iter().map(|a| (a.account.clone(), 10 * DEV_AGENT_BOND)))
		.collect();
	#[cfg(feature = "demo")]
	balances.push((crate::demo::account(), 1_000_000 * UNIT));
	#[allow(unused_mut)] // Only the demo driver's genesis joins below.
	let mut patch = build_struct_json_patch!(RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances },
		babe: pallet_babe::GenesisConfig {
			authorities: authorities.iter().map(|(b, _)| (b.clone(), 1)).collect::<Vec<_>>(),
			epoch_config: crate::BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities.iter().map(|(_, g)| (g.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: pallet_sudo::GenesisConfig { key: Some(root) },
		pickets: pallet_pickets::GenesisConfig { agents },
		consensus_machine: pallet_consensus_machine::GenesisConfig { machines: demo_machines() },
	});
	#[cfg(feature = "demo")]
	if let Value::Object(fields) = &mut patch {
		fields.insert("demoDriver".into(), serde_json::json!({ "period": DEMO_PERIOD }));
	}
	patch
}

fn authority(k: Sr25519Keyring) -> (BabeId, GrandpaId) {
	(
		k.public().into(),
		sp_core::ed25519::Pair::from_string(&format!("//{}", <&'static str>::from(k)), None)
			.expect("dev seeds are valid")
			.public()
			.into(),
	)
}

/// The `development` preset.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice)],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice),
			authority(Sr25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie),
		],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The preset `id`, as JSON.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(serde_json::to_string(&patch).expect("presets serialise").into_bytes())
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
