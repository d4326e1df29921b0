//! Pallet configurations.

use crate::*;
use consensus_machine_primitives::light::MerkleChunks;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		tokens::imbalance::ResolveTo, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf,
	},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{
	traits::{AccountIdConversion, One},
	Perbill,
};

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// 5 MiB blocks, 75% of them for normal extrinsics.
#[allow(deprecated)] // Its suggested replacement, `builder().normal_ratio`, is not in this release.
fn block_length() -> frame_system::limits::BlockLength {
	frame_system::limits::BlockLength::max_with_normal_ratio(5 * 1024 * 1024, NORMAL_DISPATCH_RATIO)
}

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute in a six-second block.
	pub RuntimeBlockWeights: frame_system::limits::BlockWeights =
		frame_system::limits::BlockWeights::with_sensible_defaults(
			Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
			NORMAL_DISPATCH_RATIO,
		);
	pub RuntimeBlockLength: frame_system::limits::BlockLength = block_length();
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

/// BABE with a fixed authority set (no session pallet, no staking): the genesis authorities
/// author every epoch, and nothing reports BABE equivocations (there is nothing to slash them
/// with on this dev chain). The slot duration is twice the timestamp's `MinimumPeriod`.
impl pallet_babe::Config for Runtime {
	type EpochDuration = ConstU64<EPOCH_DURATION_IN_SLOTS>;
	type ExpectedBlockTime = ConstU64<MILLISECS_PER_BLOCK>;
	type EpochChangeTrigger = pallet_babe::SameAuthoritiesForever;
	type DisabledValidators = ();
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// The dev chain's evidence rule: objects are Merkle roots of 1 KiB chunks.
pub const CHUNK_SIZE: u32 = 1024;

parameter_types! {
	/// Where slashes go: an account derived from a pallet id (a treasury stand-in).
	pub TreasuryAccount: AccountId = PalletId(*b"cm/trsry").into_account_truncating();
	pub const AmberFee: Perbill = Perbill::from_percent(10);
	/// What each offence costs of the offender's bond (a red proposal forfeits its whole
	/// proposal bond).
	pub const SlashRates: pallet_pickets::types::SlashRates =
		pallet_pickets::types::SlashRates {
			equivocation: Perbill::from_percent(50),
			wrong_verdict: Perbill::from_percent(20),
			false_red: Perbill::from_percent(30),
			non_participation: Perbill::from_percent(1),
			backup_rule: Perbill::from_percent(40),
		};
}

/// The picket registry: bonds, keys, stake snapshots, misses, bans and penalties.
impl pallet_pickets::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Slash = ResolveTo<TreasuryAccount, Balances>;
	type CancelOrigin = EnsureRoot<AccountId>;
	// A leaving picket's bond is held while the machines can still take a report against it.
	type Machines = ConsensusMachine;
	type MinBond = ConstU128<{ 100 * UNIT }>;
	// Production scale: a population of 100,000 agents (a stake tree of height 5: 16^5 leaves).
	type MaxAgents = ConstU32<100_000>;
	// A new stake snapshot every five minutes: bonds count in draws from the next one on. A
	// production chain would take its staking era.
	type SnapshotPeriod = ConstU32<{ 5 * MINUTES }>;
	type UnbondingDelay = ConstU32<{ 2 * HOURS }>;
	type SlashRates = SlashRates;
	type SlashDeferral = ConstU32<{ 2 * MINUTES }>;
	type MissWindow = ConstU32<{ HOURS }>;
	type MaxMisses = ConstU32<3>;
	type BanPeriod = ConstU32<{ 10 * MINUTES }>;
	type BanMemory = ConstU32<{ 6 * HOURS }>;
	type MaxPenaltiesPerBlock = ConstU32<8>;
	// A whole committee's exits (a red overturning 1,000 greens) leave the tree within about
	// 32 blocks; each is one stake-tree update.
	type MaxExitsPerBlock = ConstU32<32>;
	type WeightInfo = pallet_pickets::weights::SubstrateWeight<Runtime>;
}

impl pallet_consensus_machine::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// The parent block author's BABE VRF output (see the crate docs).
	type Randomness = pallet_babe::ParentBlockRandomness<Runtime>;
	type MachineOrigin = EnsureRoot<AccountId>;
	type RoundOrigin = EnsureSigned<AccountId>;
	// Committees of up to 1,024 slots (a complete backup at p = 0.1 needs 190).
	type MaxCommittee = ConstU32<1_024>;
	type MaxRoundDuration = ConstU32<{ 10 * MINUTES }>;
	// As long as a bond's unbonding delay: a late report finds the offender's bond.
	type ReportWindow = ConstU32<{ 2 * HOURS }>;
	type MaxTraceLength = ConstU32<1_024>;
	type RoundRetention = ConstU32<{ 10 * MINUTES }>;
	type MaxPrunePerBlock = ConstU32<4>;
	type StatementPriority = ConstU64<{ u64::MAX / 2 }>;
	type WeightInfo = pallet_consensus_machine::weights::SubstrateWeight<Runtime>;
	type FeeDestination = ResolveTo<TreasuryAccount, Balances>;
	// A round's fee is its fee-less work at the price transactions pay for weight.
	type WeightToFee = <Runtime as pallet_transaction_payment::Config>::WeightToFee;
	// The registry supplies the pickets.
	type Pickets = Pickets;
	type EvidenceVerifier = MerkleChunks<CHUNK_SIZE>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MerkleChunks<CHUNK_SIZE>;
	#[cfg(feature = "demo")]
	type Evaluator = consensus_machine_demo::Misbehaving<
		Runtime,
		consensus_machine_demo::DemoEvaluator<CHUNK_SIZE>,
	>;
	#[cfg(not(feature = "demo"))]
	type Evaluator = ();
	type MaxEvidenceLen = ConstU32<{ 16 * 1024 }>;
	type MaxObjectSize = ConstU32<{ 1024 * 1024 }>;
	type ProposalBond = ConstU128<{ 10 * UNIT }>;
	type AmberFee = AmberFee;
	type ChallengeWindow = ConstU32<{ MINUTES }>;
	// Draws run in `on_initialize`, charged as made: two full committees per block at most.
	type MaxDrawsPerBlock = ConstU32<2>;
	// A BABE slot owner knows its VRF output once its epoch's randomness is fixed: up to two
	// epochs before the block is out.
	type RandomnessLead = ConstU32<RANDOMNESS_LEAD>;
	type MaxPendingDraws = ConstU32<32>;
	// One account holds at most a quarter of the draw queue.
	type MaxPendingDrawsPerAccount = ConstU32<8>;
}

/// Off-chain picket agents submit fee-less authorised transactions.
impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = UncheckedExtrinsic;
}

impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;
	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	/// Without a signer, nonce and payment checks pass through; `AuthorizeCall` runs the
	/// pallet's `authorize` function.
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::new(),
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(sp_runtime::generic::Era::Immortal),
			frame_system::CheckNonce::from(0),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_system::WeightReclaim::new(),
		)
	}
}

/// Dev-only: see `crate::demo`.
#[cfg(feature = "demo")]
impl crate::demo::Config for Runtime {
	type Objects = consensus_machine_demo::DemoEvaluator<CHUNK_SIZE>;
}
