//! # Consensus-machine dev runtime
//!
//! A solo-chain runtime (BABE + GRANDPA) with balances, timestamp, transaction payment, sudo,
//! the consensus machines (`pallet-consensus-machine`) and the picket registry that supplies
//! their pickets (`pallet-pickets`). The layout follows the solochain template: `configs/`
//! (pallet configurations), `apis.rs` (runtime APIs), `genesis_config_presets.rs` (the
//! `development` and `local_testnet` presets) and `benchmarks.rs` (with `--features
//! runtime-benchmarks`). With the `demo` cargo feature, which the dev node enables, it also
//! has the `consensus-machine-demo` crate's **dev-only demo driver**, which opens rounds every
//! few blocks so that a dev chain has work without a human, and that crate's evaluator with
//! misbehaviour on request for the off-chain pickets; without it the runtime has neither (the
//! pickets' evaluator is then `()`: a production runtime plugs in its own).
//!
//! Upgrades: [`Migrations`] lists the migrations `Executive` runs on a runtime upgrade (the
//! consensus machine's versions 6 → 7 → 8); with the `try-runtime` feature the
//! runtime offers the `TryRuntime` API and every pallet's `try_state` checks.
//!
//! Block production is BABE: in every slot each authority evaluates a VRF on the epoch's
//! randomness and the slot, and may author if the output is below a threshold (a primary
//! slot); each slot also has one secondary author, picked from the same randomness, who
//! authors with a VRF output too when it did not win (a secondary VRF slot). So every slot has
//! an author, a single dev node always authors, and every block carries a VRF output. The
//! authorities never change ([`pallet_babe::SameAuthoritiesForever`]); GRANDPA finalises.
//!
//! Randomness: committees are seeded by [`pallet_babe::ParentBlockRandomness`], derived from
//! the VRF output of the parent block's author, after the round was committed. The author of
//! that block can compute its output as soon as its epoch's randomness is fixed, up to two
//! epochs ahead, so the pallet waits that long ([`RANDOMNESS_LEAD`]): a round committed in block
//! `C` is drawn in block `C + 10`, from an output nobody could know at `C`. The parent's author
//! could still withhold a block whose output it dislikes: a re-roll, which the threat model in
//! SECURITY.md bounds.
#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// The runtime macros name `Vec` unqualified, which no_std does not have in scope.
use alloc::vec::Vec;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
/// The demo driver (dev chains only).
#[cfg(feature = "demo")]
pub use consensus_machine_demo::driver as demo;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use pallet_consensus_machine;
pub use pallet_pickets;

/// Block numbers.
pub type BlockNumber = u32;
/// Transaction signatures.
pub type Signature = MultiSignature;
/// Account ids: the public key of the signature scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances.
pub type Balance = u128;
/// Account nonces.
pub type Nonce = u32;
/// Hashes.
pub type Hash = sp_core::H256;

/// One token, 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a token.
pub const MILLI_UNIT: Balance = UNIT / 1_000;
/// The smallest balance an account may hold.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Target block time.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// BABE slot duration (it cannot change once the chain runs).
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
/// Blocks per minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;

/// BABE epoch length in slots (it cannot change once the chain runs). Four slots, 24 s: a
/// slot owner may know its VRF output two epochs ahead, so a committee waits that long for its
/// draw (the consensus machine's `RandomnessLead`); short epochs keep the dev chain's rounds
/// quick. A production chain uses hours, and waits accordingly (or draws from older epoch
/// randomness).
pub const EPOCH_DURATION_IN_SLOTS: u64 = 4;
/// Blocks a BABE VRF output may be known before its block is out: two epochs of slots (a slot
/// holds at most one block, so this many blocks never span less time).
pub const RANDOMNESS_LEAD: BlockNumber = 2 * EPOCH_DURATION_IN_SLOTS as BlockNumber;
/// The probability `c` that an authority wins a given slot's primary VRF lottery (with one
/// authority), as a fraction.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
/// The BABE epoch configuration at genesis: primary VRF slots with probability
/// [`PRIMARY_PROBABILITY`], and secondary VRF slots for the slots no one won, so every slot has
/// an author (the one dev node always authors) and every block carries a VRF output.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Opaque types for the node, which need not know the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		/// The session keys of an authority.
		pub struct SessionKeys {
			/// Block production.
			pub babe: Babe,
			/// Finality.
			pub grandpa: Grandpa,
		}
	}
}

/// The runtime version.
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("consensus-machine"),
	impl_name: alloc::borrow::Cow::Borrowed("consensus-machine"),
	authoring_version: 1,
	spec_version: 113,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 4,
	system_version: 1,
};

/// Addresses of accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Transaction extensions. `AuthorizeCall` comes first: it lets the pallet's fee-less picket
/// statements and handovers (`#[pallet::authorize]`) in without a signature.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsics.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload signed in a transaction.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations run on the next runtime upgrade, in order (as
/// `frame_support::migrations::VersionedMigration`s, each a no-op once its pallet is at its
/// target version).
pub type Migrations = (
	pallet_consensus_machine::migrations::v7::MigrateV6ToV7<Runtime>,
	pallet_consensus_machine::migrations::v8::MigrateV7ToV8<Runtime>,
	pallet_consensus_machine::migrations::v9::MigrateV8ToV9<Runtime>,
	pallet_pickets::migrations::v2::MigrateV1ToV2<Runtime>,
);

/// Dispatches extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The runtime's pallets; with the `demo` feature, the demo driver too. (The runtime macro
/// resolves a pallet's path even when its declaration is `#[cfg]`'d out, so the demo crate is
/// always compiled and only the declaration is gated.)
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;
	// Index 7 was the insecure randomness pallet: left unused, so the pallets after it keep
	// their indices.
	#[runtime::pallet_index(8)]
	pub type ConsensusMachine = pallet_consensus_machine;
	// The registry's hooks run after the machines' (declaration order): it forgets offences in
	// the block whose committee roots expire.
	#[runtime::pallet_index(10)]
	pub type Pickets = pallet_pickets;
	#[cfg(feature = "demo")]
	#[runtime::pallet_index(9)]
	pub type DemoDriver = consensus_machine_demo::driver;
}
