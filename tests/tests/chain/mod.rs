//! The real runtime natively, as the runtime tests and the simulation drive it: genesis from its
//! own `development` preset, and blocks as the node makes them for the consensus machine.

use consensus_machine_runtime::{genesis_config_presets, RuntimeGenesisConfig, System};
use frame_support::genesis_builder_helper::build_state;

/// Applies a preset (a JSON patch) to a full config, as the node's chain-spec builder does.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// The development preset's genesis, at block 1.
pub fn development() -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, genesis_config_presets::development_config_genesis());
	let json = serde_json::to_vec(&config).unwrap();
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		build_state::<RuntimeGenesisConfig>(json).expect("the development preset builds");
		System::set_block_number(1);
	});
	ext
}

/// Moves to the next block as the node would for the consensus machine: BABE's per-block VRF
/// randomness for the parent (any fresh value does here), then the pallets' `on_initialize`:
/// the machines draw the committees of the rounds committed two blocks before, the registry
/// applies due penalties.
pub fn next_block() -> u32 {
	next_block_on(&[])
}

/// The VRF output of block `n` on the branch named `fork`, as these tests' blocks carry it: a
/// stand-in for BABE's, which a block's author knows when it builds the block.
#[allow(dead_code)]
pub fn vrf_output(n: u32, fork: &[u8]) -> [u8; 32] {
	sp_io::hashing::blake2_256(&[&n.to_le_bytes()[..], fork].concat())
}

/// [`next_block`] on the branch named `fork`: another branch's block at the same height has
/// other randomness (the empty name is [`next_block`]'s branch).
#[allow(dead_code)]
pub fn next_block_on(fork: &[u8]) -> u32 {
	use frame_support::traits::Hooks;
	let n = System::block_number() + 1;
	System::set_block_number(n);
	let key = frame_support::storage::storage_prefix(b"Babe", b"AuthorVrfRandomness");
	let seed = [&n.to_le_bytes()[..], fork].concat();
	frame_support::storage::unhashed::put(&key, &Some(vrf_output(n, fork)));
	if !fork.is_empty() {
		// Another branch's block has another parent too.
		let parent = sp_io::hashing::blake2_256(&[b"parent", &seed[..]].concat());
		let key = frame_support::storage::storage_prefix(b"System", b"ParentHash");
		frame_support::storage::unhashed::put(&key, &sp_core::H256::from(parent));
	}
	// In the runtime's order: the machines (committee roots, draws), the registry (penalties,
	// exits, settled offences), the demo driver.
	consensus_machine_runtime::ConsensusMachine::on_initialize(n);
	consensus_machine_runtime::Pickets::on_initialize(n);
	consensus_machine_runtime::DemoDriver::on_initialize(n);
	n
}

/// The pool of a test node: the transactions its off-chain worker submitted.
#[allow(dead_code)]
pub type Pool = std::sync::Arc<parking_lot::RwLock<sp_core::offchain::testing::PoolState>>;

/// `ext` as a node running every dev agent's picket: an off-chain worker (with its off-chain
/// database), a transaction pool, and a keystore holding every dev picket key. Returns the
/// pool too.
#[allow(dead_code)]
pub fn with_dev_pickets(mut ext: sp_io::TestExternalities) -> (sp_io::TestExternalities, Pool) {
	use consensus_machine_runtime::genesis_config_presets::{picket_seed, DEV_AGENTS};
	use sp_core::offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
	let (offchain, _) = TestOffchainExt::new();
	let (pool, state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	for i in 0..DEV_AGENTS {
		keystore
			.sr25519_generate_new(pallet_consensus_machine::crypto::KEY_TYPE, Some(&picket_seed(i)))
			.unwrap();
	}
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	(ext, state)
}
