//! Test runtime: System, Balances and the registry, with the machines it serves stood in for by
//! two counters ([`TestMachines`]). The machines pallet's tests run the registry under real
//! machines; these test it on its own.

use crate::{self as pallet_pickets, crypto, types::GenesisAgent};
use consensus_machine_primitives::{
	pickets::Accountability,
	statement::{possession_payload, RoundId},
};
use frame_support::{
	derive_impl, parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU32, ConstU64, Hooks},
	weights::Weight,
};
use frame_system::EnsureRoot;
use sp_core::{sr25519, Pair};
use sp_runtime::{BuildStorage, Perbill};
use std::cell::Cell;

pub type AccountId = u64;
pub type Balance = u64;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeHoldReason,
		RuntimeFreezeReason,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Pickets = pallet_pickets;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = frame_system::mocking::MockBlock<Test>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const MIN_BOND: Balance = 100;
pub const TREASURY: AccountId = 1_000;
pub const SNAPSHOT_PERIOD: u64 = 10;
pub const UNBONDING_DELAY: u64 = 250;
pub const SLASH_DEFERRAL: u64 = 3;

parameter_types! {
	pub const Treasury: AccountId = TREASURY;
	pub const MinBond: Balance = MIN_BOND;
	pub const SlashRates: crate::types::SlashRates = crate::types::SlashRates {
		equivocation: Perbill::from_percent(50),
		wrong_verdict: Perbill::from_percent(20),
		false_red: Perbill::from_percent(30),
		non_participation: Perbill::from_percent(5),
		backup_rule: Perbill::from_percent(40),
	};
}

thread_local! {
	/// The id the machines' next round gets.
	pub static NEXT_ROUND: Cell<RoundId> = const { Cell::new(0) };
	/// Rounds below this are out of reach of any report.
	pub static CLOSED_BELOW: Cell<RoundId> = const { Cell::new(0) };
}

/// The machines, as the registry sees them: two round ids the tests move by hand.
pub struct TestMachines;
impl Accountability for TestMachines {
	fn next_round() -> RoundId {
		NEXT_ROUND.with(Cell::get)
	}
	fn reports_closed_below() -> RoundId {
		CLOSED_BELOW.with(Cell::get)
	}
}

impl crate::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slash = ResolveTo<Treasury, Balances>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type Machines = TestMachines;
	type MinBond = MinBond;
	type MaxAgents = ConstU32<32>;
	type SnapshotPeriod = ConstU64<SNAPSHOT_PERIOD>;
	type UnbondingDelay = ConstU64<UNBONDING_DELAY>;
	type SlashRates = SlashRates;
	type SlashDeferral = ConstU64<SLASH_DEFERRAL>;
	type MissWindow = ConstU64<100>;
	type MaxMisses = ConstU32<3>;
	type BanPeriod = ConstU64<10>;
	type BanMemory = ConstU64<50>;
	type MaxPenaltiesPerBlock = ConstU32<4>;
	type MaxExitsPerBlock = ConstU32<4>;
	type WeightInfo = ();
}

/// The picket key pair of test account `who`.
pub fn pair(who: AccountId) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[who as u8; 32])
}

pub fn key(who: AccountId) -> crypto::Public {
	pair(who).public().into()
}

/// A proof of possession of `signer`'s key for account `who`.
pub fn proof(signer: AccountId, who: AccountId) -> crypto::Signature {
	pair(signer).sign(&possession_payload(&who, &Pickets::genesis_hash())).into()
}

/// Accounts `1..=agents` bonded with `bond` at genesis; every account 1..=100 has 10,000.
pub struct ExtBuilder {
	agents: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { agents: (1..=4).map(|a| (a, 1_000)).collect() }
	}
}

impl ExtBuilder {
	pub fn agents(mut self, agents: Vec<(AccountId, Balance)>) -> Self {
		self.agents = agents;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		NEXT_ROUND.with(|n| n.set(0));
		CLOSED_BELOW.with(|c| c.set(0));
		let storage = RuntimeGenesisConfig {
			system: Default::default(),
			balances: pallet_balances::GenesisConfig::<Test> {
				balances: (1..=100).map(|a| (a, 10_000)).chain([(TREASURY, 1)]).collect(),
				..Default::default()
			},
			pickets: pallet_pickets::GenesisConfig::<Test> {
				agents: self
					.agents
					.iter()
					.map(|&(account, bond)| GenesisAgent { account, key: key(account), bond })
					.collect(),
			},
		}
		.build_storage()
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// With a keystore, for code that generates and signs with keys (the benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	pub fn build_with_keystore(self) -> sp_io::TestExternalities {
		let mut ext = self.build();
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext
	}

	/// Runs `test`, then checks the registry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Pickets::do_try_state().expect("invariants hold");
		});
	}
}

/// Moves to block `n`, running the registry's hooks on the way.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let now = System::block_number() + 1;
		System::set_block_number(now);
		Pickets::on_initialize(now);
		Pickets::on_idle(now, Weight::MAX);
	}
}
