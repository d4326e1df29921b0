//! Test runtime: System, Balances, the picket registry (`pallet-pickets`) and this pallet,
//! with a deterministic randomness source.

use crate::{
	self as pallet_consensus_machine, crypto,
	offchain::{Evaluate, Judgement},
	types::DutyTask,
};
use codec::Encode;
use consensus_machine_primitives::{
	light::{MerkleChunks, ObjectRef, Verdict},
	statement::{possession_payload, Body, Hash, Statement},
};
use frame_support::{
	derive_impl, parameter_types,
	traits::{tokens::imbalance::ResolveTo, ConstU32, ConstU64, Hooks, Randomness},
	weights::Weight,
};
use frame_system::EnsureRoot;
use pallet_pickets::types::GenesisAgent;
use sp_core::{sr25519, Pair, H256};
use sp_runtime::BuildStorage;
use sp_runtime::Perbill;
use std::{cell::RefCell, collections::BTreeMap};

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
	pub type ConsensusMachine = pallet_consensus_machine;
	// The registry's hooks run after the machines' (declaration order): it forgets offences
	// in the block whose committee roots expire.
	#[runtime::pallet_index(3)]
	pub type Pickets = pallet_pickets;
}

/// Authorised (fee-less) transactions, as the off-chain picket agents create them.
pub type Extrinsic = sp_runtime::testing::TestXt<RuntimeCall, frame_system::AuthorizeCall<Test>>;

/// The configuration of a test runtime `$runtime` declaring System, Balances and this pallet,
/// its pickets supplied by `$pickets`: [`Test`]'s (`pallet-pickets`, the registry) and the fixed
/// committee's of the tests (the same pallet on another supplier).
macro_rules! test_runtime_config {
	($runtime:ident, $pickets:ty) => {
		#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
		impl frame_system::Config for $runtime {
			type Block = frame_system::mocking::MockBlock<$runtime>;
			type AccountData = pallet_balances::AccountData<Balance>;
		}

		#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
		impl pallet_balances::Config for $runtime {
			type AccountStore = System;
			type RuntimeHoldReason = RuntimeHoldReason;
		}

		impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for $runtime
		where
			RuntimeCall: From<LocalCall>,
		{
			type RuntimeCall = RuntimeCall;
			type Extrinsic =
				sp_runtime::testing::TestXt<RuntimeCall, frame_system::AuthorizeCall<$runtime>>;
		}

		impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for $runtime
		where
			RuntimeCall: From<LocalCall>,
		{
			type Extension = frame_system::AuthorizeCall<$runtime>;
			fn create_transaction(
				call: RuntimeCall,
				extension: Self::Extension,
			) -> Self::Extrinsic {
				sp_runtime::testing::TestXt::new_transaction(call, extension)
			}
		}

		impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for $runtime
		where
			RuntimeCall: From<LocalCall>,
		{
			fn create_extension() -> Self::Extension {
				frame_system::AuthorizeCall::new()
			}
		}

		impl $crate::Config for $runtime {
			type Currency = Balances;
			type RuntimeHoldReason = RuntimeHoldReason;
			type Randomness = TestRandomness;
			type MachineOrigin = EnsureRoot<AccountId>;
			type RoundOrigin = frame_system::EnsureSigned<AccountId>;
			type MaxCommittee = ConstU32<MAX_COMMITTEE>;
			type MaxRoundDuration = ConstU64<MAX_ROUND_DURATION>;
			type ReportWindow = ConstU64<UNBONDING_DELAY>;
			type MaxTraceLength = ConstU32<MAX_TRACE>;
			type RoundRetention = ConstU64<RETENTION>;
			type MaxPrunePerBlock = ConstU32<2>;
			type StatementPriority = ConstU64<1_000>;
			type WeightInfo = ();
			type FeeDestination = ResolveTo<Treasury, Balances>;
			type WeightToFee = MillisecondFee;
			type Pickets = $pickets;
			type EvidenceVerifier = MerkleChunks<CHUNK>;
			#[cfg(feature = "runtime-benchmarks")]
			type BenchmarkHelper = MerkleChunks<CHUNK>;
			type Evaluator = TestEvaluator;
			type MaxEvidenceLen = ConstU32<1_024>;
			type MaxObjectSize = ConstU32<4_096>;
			type ProposalBond = ConstU64<PROPOSAL_BOND>;
			type AmberFee = AmberFee;
			type ChallengeWindow = ConstU64<CHALLENGE_WINDOW>;
			type MaxDrawsPerBlock = ConstU32<MAX_DRAWS_PER_BLOCK>;
			type RandomnessLead = RandomnessLead;
			type MaxPendingDraws = ConstU32<MAX_PENDING_DRAWS>;
			type MaxPendingDrawsPerAccount = ConstU32<MAX_PENDING_DRAWS_PER_ACCOUNT>;
		}
	};
}
pub(crate) use test_runtime_config;

test_runtime_config!(Test, Pickets);

impl pallet_pickets::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slash = ResolveTo<Treasury, Balances>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type Machines = ConsensusMachine;
	type MinBond = MinBond;
	type MaxAgents = MaxAgents;
	type SnapshotPeriod = ConstU64<SNAPSHOT_PERIOD>;
	type UnbondingDelay = ConstU64<UNBONDING_DELAY>;
	type SlashRates = SlashRates;
	type SlashDeferral = ConstU64<SLASH_DEFERRAL>;
	type MissWindow = ConstU64<MISS_WINDOW>;
	type MaxMisses = MaxMisses;
	type BanPeriod = ConstU64<BAN_PERIOD>;
	type BanMemory = ConstU64<BAN_MEMORY>;
	type MaxPenaltiesPerBlock = ConstU32<4>;
	type MaxExitsPerBlock = ConstU32<MAX_EXITS_PER_BLOCK>;
	type WeightInfo = ();
}

thread_local! {
	/// Whether [`TestRandomness`] has no output yet (as BABE's before its first block).
	pub static NO_RANDOMNESS: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
	/// The block [`TestRandomness`] says its output is known since, instead of the parent.
	pub static KNOWN_SINCE: core::cell::Cell<Option<u64>> = const { core::cell::Cell::new(None) };
}

/// Randomness shaped like BABE's `ParentBlockRandomness`: an output per parent block, known
/// since the parent. The output is the hash of the subject and the parent's number, so every
/// round gets its own seed, reproducible by a test but not chosen by it.
pub struct TestRandomness;
impl Randomness<Option<H256>, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (Option<H256>, u64) {
		let known_since = KNOWN_SINCE.with(|k| k.get()).unwrap_or(System::block_number() - 1);
		let output = (!NO_RANDOMNESS.with(|n| n.get()))
			.then(|| H256(sp_io::hashing::blake2_256(&(subject, known_since).encode())));
		(output, known_since)
	}
}

pub const MIN_BOND: Balance = 100;
pub const MAX_COMMITTEE: u32 = 64;
pub const MAX_ROUND_DURATION: u64 = 50;
pub const UNBONDING_DELAY: u64 = 250;
pub const RETENTION: u64 = 20;
pub const MAX_TRACE: u32 = 3;

pub const TREASURY: AccountId = 1_000;
pub const PROPOSAL_BOND: Balance = 200;
pub const CHALLENGE_WINDOW: u64 = 5;
pub const SLASH_DEFERRAL: u64 = 3;
pub const MISS_WINDOW: u64 = 100;
pub const BAN_PERIOD: u64 = 10;
pub const BAN_MEMORY: u64 = 50;
pub const SNAPSHOT_PERIOD: u64 = 10;
pub const MAX_DRAWS_PER_BLOCK: u32 = 4;
/// Suspended or banned agents' stakes taken out of the tree per block.
pub const MAX_EXITS_PER_BLOCK: u32 = 4;
pub const MAX_PENDING_DRAWS: u32 = 12;
pub const MAX_PENDING_DRAWS_PER_ACCOUNT: u32 = 4;
/// Chunk size of the test evidence rule.
pub const CHUNK: u32 = 4;

/// The test chain's transition: output the subject, move to
/// `blake2_256("cm/notary" ++ from ++ subject)`.
pub fn notary_step(from: &Hash, subject: &Hash) -> (Hash, Hash) {
	let to = sp_io::hashing::blake2_256(&[&b"cm/notary"[..], from, subject].concat());
	(*subject, to)
}

/// How the test chain's good pickets judge: transitions by [`notary_step`]; decisions adopt
/// the required value, else `blake2_256("cm/oracle" ++ subject)`; objects are test objects
/// ([`TestEvaluator::object`]): Green if well formed, Red with the last chunk as evidence if
/// one byte too long, Amber for anything else.
pub struct TestEvaluator;

impl TestEvaluator {
	/// The chunks of the test object of `size` bytes (byte `i` is `i mod 251`): well formed if
	/// `good`, else one byte too many in the last chunk, which [`MerkleChunks`] proves bad.
	pub fn chunks(size: u32, good: bool) -> Vec<Vec<u8>> {
		let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
		let mut chunks = MerkleChunks::<CHUNK>::split(&content);
		if let Some(last) = chunks.last_mut().filter(|_| !good) {
			last.push(0);
		}
		chunks
	}

	/// The commitment to the test object of `size` bytes.
	pub fn object(size: u32, good: bool) -> ObjectRef {
		ObjectRef { hash: MerkleChunks::<CHUNK>::commit(&Self::chunks(size, good)), size }
	}

	fn judge(object: &ObjectRef) -> Judgement {
		let verdict = |verdict| Body::Verdict { object: object.hash, verdict }.into();
		if object.size == 0 {
			return verdict(Verdict::Amber);
		}
		if Self::object(object.size, true) == *object {
			return verdict(Verdict::Green);
		}
		let bad = Self::chunks(object.size, false);
		let last = (bad.len() as u32).saturating_sub(1);
		match MerkleChunks::<CHUNK>::evidence(&bad, last) {
			Some(evidence) if Self::object(object.size, false) == *object => Judgement {
				body: Body::Verdict {
					object: object.hash,
					verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
				},
				evidence: Some(evidence),
			},
			_ => verdict(Verdict::Amber),
		}
	}
}

impl Evaluate for TestEvaluator {
	fn evaluate(task: &DutyTask) -> Option<Judgement> {
		Some(match task {
			DutyTask::Transition { step, from, subject } => {
				let (output, to) = notary_step(from, subject);
				Body::Transition { step: *step, from: *from, output, to }.into()
			}
			DutyTask::Verdict { object } => Self::judge(object),
			DutyTask::Decision { subject, required } => {
				let answer = || sp_io::hashing::blake2_256(&[&b"cm/oracle"[..], subject].concat());
				Body::Decision { value: Some(required.unwrap_or_else(answer)) }.into()
			}
		})
	}
}

parameter_types! {
	/// Zero (a source nobody knows early) but in the tests of a source some author knows
	/// ahead, as BABE's per-block randomness.
	pub static RandomnessLead: u64 = 0;
	pub const MinBond: Balance = MIN_BOND;
	pub const Treasury: AccountId = TREASURY;
	pub const AmberFee: Perbill = Perbill::from_percent(10);
	pub const SlashRates: pallet_pickets::types::SlashRates = pallet_pickets::types::SlashRates {
		equivocation: Perbill::from_percent(50),
		wrong_verdict: Perbill::from_percent(20),
		false_red: Perbill::from_percent(30),
		non_participation: Perbill::from_percent(5),
		backup_rule: Perbill::from_percent(40),
	};
	/// Misses that ban: high by default so that tests of other things can let rounds expire.
	pub static MaxMisses: u32 = 100;
	pub static MaxAgents: u32 = 32;
}

/// One unit of balance per started millisecond of reference time: a 10-slot round's fee is
/// tens of units, against balances of 10,000.
pub struct MillisecondFee;
impl frame_support::weights::WeightToFee for MillisecondFee {
	type Balance = Balance;
	fn weight_to_fee(weight: &Weight) -> Balance {
		weight.ref_time().div_ceil(1_000_000_000)
	}
}

/// The picket key pair of test account `who`: derived from a well-known seed.
pub fn pair(who: AccountId) -> sr25519::Pair {
	// Deriving from a phrase runs PBKDF2 (slow in debug builds): derive each account's once.
	thread_local! {
		static PAIRS: RefCell<BTreeMap<AccountId, sr25519::Pair>> =
			const { RefCell::new(BTreeMap::new()) };
	}
	PAIRS.with(|pairs| {
		pairs
			.borrow_mut()
			.entry(who)
			.or_insert_with(|| {
				sr25519::Pair::from_string(&format!("//picket//{who}"), None)
					.expect("valid derivation")
			})
			.clone()
	})
}

pub fn key(who: AccountId) -> crypto::Public {
	pair(who).public().into()
}

/// A proof of possession of `signer`'s key for account `who`.
pub fn proof(signer: AccountId, who: AccountId) -> crypto::Signature {
	let payload = possession_payload(&who, &ConsensusMachine::genesis_hash());
	pair(signer).sign(&payload).into()
}

pub fn sign(signer: AccountId, statement: &Statement) -> crypto::Signature {
	pair(signer).sign(&statement.signing_payload()).into()
}

pub fn stored(signature: crypto::Signature) -> sr25519::Signature {
	signature.into_inner()
}

/// Accounts 1..=agents start with `bond` bonded, every account 1..=100 with 10_000 free.
pub struct ExtBuilder {
	agents: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { agents: (1..=10).map(|a| (a, 1_000)).collect() }
	}
}

impl ExtBuilder {
	pub fn agents(mut self, agents: Vec<(AccountId, Balance)>) -> Self {
		self.agents = agents;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		// The whole runtime's genesis, so that every pallet's `on_genesis` (e.g. writing its
		// storage version) runs as on a real chain.
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
			consensus_machine: pallet_consensus_machine::GenesisConfig::<Test> { machines: vec![] },
		}
		.build_storage()
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// With a keystore, for code that generates and signs with keys (the benchmarks).
	#[cfg(all(test, feature = "runtime-benchmarks"))]
	pub fn build_with_keystore(self) -> sp_io::TestExternalities {
		let mut ext = self.build();
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Pickets::do_try_state().expect("the registry's invariants hold");
			ConsensusMachine::do_try_state().expect("invariants hold");
		});
	}
}

/// Moves to block `n`, running `on_initialize` and `on_idle` (with a full block's weight) on
/// the way.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let now = System::block_number() + 1;
		System::set_block_number(now);
		ConsensusMachine::on_initialize(now);
		Pickets::on_initialize(now);
		ConsensusMachine::on_idle(now, Weight::MAX);
		Pickets::on_idle(now, Weight::MAX);
	}
}

/// Moves to block `n` with blocks that leave no weight to spare: `on_idle` never runs.
pub fn run_to_block_without_idle(n: u64) {
	while System::block_number() < n {
		let now = System::block_number() + 1;
		System::set_block_number(now);
		ConsensusMachine::on_initialize(now);
		Pickets::on_initialize(now);
	}
}

/// Runs to the block where the rounds committed so far are drawn: two blocks on (the next
/// block's randomness is the committing block's, known too early) plus the randomness lead,
/// and later at the start of a snapshot period.
pub fn run_to_draw() {
	let lead = RandomnessLead::get();
	let mut now = System::block_number() + 2 + lead;
	// The randomness must also be knowable only after the snapshot froze.
	let start = now - now % SNAPSHOT_PERIOD;
	if now - 1 - lead < start {
		now = start + lead + 1;
	}
	run_to_block(now);
}

/// Runs to the first block of the next snapshot period: stake changes made before take part in
/// the draws from then on (no draw happens in that block itself: its randomness is older than
/// the snapshot).
pub fn run_to_next_snapshot() {
	let now = System::block_number();
	run_to_block(now - now % SNAPSHOT_PERIOD + SNAPSHOT_PERIOD);
}

/// Hash helper for subjects and states.
pub fn h(x: u8) -> Hash {
	[x; 32]
}
