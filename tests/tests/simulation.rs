//! A seeded, reproducible Byzantine simulation over the real runtime, natively.
//!
//! The development chain with its demo driver opening rounds every few blocks (a notary log,
//! an oracle with a backup level, objects good and bad to judge), and a hierarchical oracle of
//! the harness's own whose rounds it opens every fourth block (its 8-slot primary can leave a
//! value the 40-slot backup must adopt); the dev agents and `SIM_AGENTS` more with uniform or
//! heavy-tailed stakes (`SIM_STAKES`). Good agents' keys are in the node's keystore and its
//! off-chain worker signs for them, exactly as on a node; bad agents (at most `SIM_BAD` percent
//! of the stake) are played by the harness, which reads their duties from the runtime API and,
//! duty by duty, picks a misbehaviour the duty allows, the least used so far (ties at random):
//! silence, a statement sent after the deadline, an equivocation (reported by a watcher), a
//! lying pre-decision, a backup vote that breaks the adoption rule (reported), a false red, a
//! green on a bad object, a flood of invalid statements, or a wrong value every bad agent of the
//! round signs alike (collusion). Every transaction is delivered through the authorise step like
//! the pool's, some late and all in a random order. Every 100 blocks the chain forks: a sibling
//! branch with other randomness (other committees and round instances) and another adversary
//! runs 16 blocks on the same node, then is rolled back; both branches first open three rounds
//! of the harness's oracle, so those round ids of one machine have other subjects on each; once
//! the kept branch is as high, the other branch's good statements are replayed on it and paired
//! with its own as equivocation reports. A bad agent may also bet on a fork: it keeps a fresh
//! seat free, a bad author forks at the end of the block, and it signs one statement for the
//! seat on each branch (the round was drawn before the fork: one instance); a watcher reports
//! the pair here. A grinding opener opens rounds of the harness's oracle only when the
//! committee it computes from what is known at the commitment (the block's randomness, the
//! stake snapshot, the next round id) gives the bad agents a slot; it also knows the next
//! `RandomnessLead` blocks' randomness, as a colluding author may.
//!
//! After every block it checks: no round or family has two decided values; every certificate
//! has a good signer and, where the harness saw a duty of the round, the value a good picket
//! signs; no good agent has an offence or a missed duty; the total issuance is unchanged, every
//! penalty took what the runtime's rate gives of the bond held before the block (a rejected
//! proposal: its whole bond; amber: the fee), and the treasury received exactly that; no
//! invalid statement got through; the pallets' `try_state`. After a fork: none of the other
//! branch's good statements is accepted unless it is the very statement signed here; no pair of
//! a good key's statements across the branches with two bodies for one machine, round, level
//! and kind is a provable equivocation (refused as `NotAnEquivocation`: their instances differ),
//! while a bad agent's pair for one instance is accepted and punished. A round the grinder
//! opened is never drawn from the seed it knew. At the end: every reported equivocation
//! and backup-rule violation, every false red that was recorded and every bad green on an object
//! whose light turned red became an offence, and every
//! oracle family whose last level ran ended decided; then the driver stops and the chain runs
//! until every round is pruned, every committee root expired and every penalty applied and
//! forgotten, and
//! each of the pallet's storage maps must be back to its size after genesis (rounds, seats,
//! statements, tallies, certificates, roots, exits, pending-penalty counts), within its bound
//! (per agent, per tree node, the trace), or grown by exactly the run's permanent records (one
//! traffic light per object proposed); the grinder's rounds drew no
//! more bad slots than a fair draw at the bad share allows, and fewer than half of them the
//! committee it predicted.
//!
//! `SIM_SEED`, `SIM_ROUNDS` (rounds opened before it stops), `SIM_AGENTS`, `SIM_STAKES`
//! (`uniform` or `heavy`), `SIM_BAD`, `SIM_TRY_STATE_EVERY` (blocks between two `try_state`
//! runs, default 1); `scripts/simulate.sh` sets them.
#![cfg(feature = "try-runtime")]

mod chain;

use chain::{development, next_block, next_block_on, vrf_output};
use codec::{Decode, Encode};
use consensus_machine_primitives::{
	light::{ChunkEvidence, Light, MerkleChunks, ObjectRef, Verdict},
	selection,
	statement::{possession_payload, Body, Hash, MachineId, RoundId, Statement},
	EpsilonArg, ProbabilityArg,
};
use consensus_machine_runtime::{
	configs::{TreasuryAccount, CHUNK_SIZE},
	genesis_config_presets::{agent_account, picket_seed, DEV_AGENTS},
	AccountId, AllPalletsWithSystem, Balance, Balances, ConsensusMachine, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, System, UncheckedExtrinsic, UNIT,
};
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{
		fungible::{Inspect, InspectHold, Mutate},
		tokens::{Fortitude, Preservation},
		Authorize, Get, Hooks, StorageInfoTrait, TryState, TryStateSelect, UnfilteredDispatchable,
	},
	weights::{Weight, WeightToFee},
};
use pallet_consensus_machine::{
	crypto::KEY_TYPE,
	demo::DemoEvaluator,
	offchain::Evaluate,
	types::{
		AgentStatus, Duty, DutyTask, EquivocationProof, LevelSpec, OffenceKind, RoundKind,
		SeatProof,
	},
	Certificates, CommitteeRoots, CommitteeSeats, Event, HoldReason, NextPenaltyId, NextRoundId,
	Penalties, PenaltyCursor, Rounds, TotalStake,
};
use sp_core::{
	offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	sr25519, Pair,
};
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::traits::IdentifyAccount;
use std::collections::{BTreeMap, BTreeSet};

type Evaluator = <Runtime as pallet_consensus_machine::Config>::Evaluator;

/// The run's parameters, from the environment.
#[derive(Clone, Debug)]
struct Params {
	seed: u64,
	rounds: u64,
	agents: u32,
	heavy: bool,
	bad_percent: u32,
	/// Every pallet's `try_state` runs after every `try_state_every`-th block (1: each block;
	/// long runs may space it out, the other checks still run after each block).
	try_state_every: u32,
}

impl Params {
	fn from_env() -> Self {
		let var = |name: &str, default: u64| -> u64 {
			std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
		};
		Self {
			seed: var("SIM_SEED", 1),
			rounds: var("SIM_ROUNDS", 300),
			agents: var("SIM_AGENTS", 40) as u32,
			heavy: std::env::var("SIM_STAKES").is_ok_and(|v| v == "heavy"),
			bad_percent: var("SIM_BAD", 5) as u32,
			try_state_every: var("SIM_TRY_STATE_EVERY", 1).max(1) as u32,
		}
	}
}

/// splitmix64: a small seeded generator, so that a run is reproducible from its seed alone.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	fn percent(&mut self, p: u64) -> bool {
		self.below(100) < p
	}
	fn unit(&mut self) -> f64 {
		(self.next() >> 11) as f64 / (1u64 << 53) as f64
	}
	fn hash(&mut self) -> Hash {
		let mut h = [0u8; 32];
		for chunk in h.chunks_mut(8) {
			chunk.copy_from_slice(&self.next().to_le_bytes());
		}
		h
	}
}

/// What a bad agent does with one duty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Bad {
	Silent,
	Late,
	Equivocate,
	LyingPreDecision,
	BreakAdoption,
	FalseRed,
	WrongGreen,
	Flood,
	/// Amber on an object a good picket judges green: a tolerated minority trying to keep it
	/// from green and make its proposer pay.
	AmberMinority,
	/// Every bad agent choosing this in a round signs the same wrong value (derived from the
	/// round), so that bad seats add up.
	Collude,
}

const BAD: [Bad; 10] = [
	Bad::Silent,
	Bad::Late,
	Bad::Equivocate,
	Bad::LyingPreDecision,
	Bad::BreakAdoption,
	Bad::FalseRed,
	Bad::WrongGreen,
	Bad::Flood,
	Bad::AmberMinority,
	Bad::Collude,
];

/// Takes the transactions the off-chain worker put in the pool.
type Drain = Box<dyn Fn() -> Vec<Vec<u8>>>;

/// A transaction waiting for its block: fee-less (through the authorise step), or signed.
#[derive(Clone)]
enum Tx {
	FeeLess(RuntimeCall),
	/// A false red: once accepted, its signer must have a `FalseRed` offence.
	FalseRed(RuntimeCall, AccountId, RoundId),
	Signed(AccountId, RuntimeCall),
	/// An invalid statement: must be refused by the authorise step.
	Invalid(RuntimeCall),
}

/// An agent the harness plays (the bad ones, and the dev agents as good ones): its account,
/// picket key, and whether it is bad.
#[derive(Clone)]
struct Adversary {
	account: AccountId,
	key: sr25519::Pair,
	bad: bool,
	/// How many times this bad agent came back under a new account and key.
	generation: u32,
}

#[derive(Clone, Default, Debug)]
struct Stats {
	blocks: u32,
	delivered: u64,
	refused: BTreeMap<String, u64>,
	invalid_refused: u64,
	/// False reds whose evidence was an honest object's chunk proof relabelled to another index.
	relabelled_reds: u64,
	/// Round fees paid (each checked against the price of its level's fee-less work), and their
	/// total.
	round_fees: (u64, Balance),
	/// Honest objects that ended green (all of them must).
	honest_greens: u64,
	/// The flooders' rounds opened, and the longest wait of a reporter's round for its draw
	/// (blocks from the open), with its bound.
	flood_rounds: u64,
	reporter_wait: (u32, u32),
	/// Malformed objects the forger proposed to the weakest machine, the greens on them
	/// overturned by a watcher's challenge, and the challenges sent.
	forged: u64,
	overturned: u64,
	/// Decisions of the one-slot machine (each by its lone seat, good or bad).
	weak_decisions: u64,
	challenges: u64,
	/// Bad agents that tried to leave before their equivocation was reported: their attempts
	/// (refused, by error, in `refused`), and those that left once their offence was recorded.
	flights: u64,
	fled: u64,
	acts: BTreeMap<Bad, u64>,
	decided: BTreeMap<&'static str, u64>,
	handovers: u64,
	/// Rounds of the harness's oracle opened.
	oracle_rounds: u64,
	/// Handovers that fixed a value for the backup to adopt.
	handovers_adopting: u64,
	/// Backup duties (of the harness's agents, good and bad) with a value to adopt.
	adoption_duties: u64,
	/// The adversary's comebacks and bond changes, by kind.
	reentries: BTreeMap<&'static str, u64>,
	/// Duties missed (by bad agents only).
	misses: u64,
	offences: BTreeMap<String, u64>,
	slashes: u64,
	certificates_checked: u64,
	/// Certificates whose value is the one a good picket signs for the round.
	decisions_honest: u64,
	/// Wall-clock time per phase of a block.
	time: BTreeMap<&'static str, std::time::Duration>,
	/// Blocks run after the last round opened until everything was pruned.
	drain_blocks: u32,
	/// Forks run, and the blocks their other branches ran.
	forks: u64,
	fork_blocks: u64,
	/// The other branch's good statements replayed here: accepted (the same statement this
	/// branch signs) or refused; equivocation reports pairing the two branches, all refused.
	fork_replays_accepted: u64,
	fork_replays_refused: u64,
	fork_reports_refused: u64,
	/// Why the other branch's statements were refused here.
	fork_refusals: BTreeMap<String, u64>,
	/// Why equivocation reports pairing both branches' good statements were refused.
	fork_report_refusals: BTreeMap<String, u64>,
	/// Bad agents' equivocations across a fork (same round instance on both branches):
	/// reported and accepted here.
	fork_lies_reported: u64,
	/// Bad agents' seats kept free for such a bet.
	withheld_for_fork: u64,
	/// Entries of each storage map: (item, after genesis, drained).
	storage: Vec<(String, u64, u64)>,
	/// The grinding opener: rounds it opened, and of those drawn, the slots, the bad slots it
	/// predicted and the bad slots drawn, and the committees drawn as predicted.
	ground_rounds: u64,
	ground_drawn: u64,
	ground_slots: u64,
	ground_predicted_bad: u64,
	ground_drawn_bad: u64,
	ground_as_predicted: u64,
	/// Drawn committees the grinder's own computation reproduces from the seed drawn with.
	predictor_reproduced: u64,
}

#[derive(Clone)]
struct Sim {
	params: Params,
	rng: Rng,
	genesis: Hash,
	good: BTreeSet<AccountId>,
	adversaries: Vec<Adversary>,
	/// Transactions by the block they are delivered in.
	pending: BTreeMap<u32, Vec<Tx>>,
	/// Bad duties already acted on: (key index, round).
	acted: BTreeSet<(usize, RoundId)>,
	/// The decided value of every round and family seen decided.
	decided: BTreeMap<RoundId, Hash>,
	/// What a good picket signs in each round the harness saw a duty of (the body's value
	/// hash), from the runtime's evaluator: no certificate may say anything else.
	honest: BTreeMap<RoundId, Hash>,
	/// Offences the harness expects: (offender, round, kind).
	expected: BTreeSet<(AccountId, RoundId, String)>,
	/// Bad agents' green verdicts accepted, by round: each is a wrong verdict if the light turns
	/// red.
	greens: BTreeMap<RoundId, Vec<AccountId>>,
	/// Offences recorded: (offender, round, kind).
	recorded: BTreeSet<(AccountId, RoundId, String)>,
	/// Oracle families whose last level was drawn.
	last_levels_drawn: BTreeSet<RoundId>,
	issuance: Balance,
	treasury: Balance,
	/// Applied slashes and amber fees: what the treasury must have received.
	owed_to_treasury: Balance,
	/// Each agent's bond held after the last block: what its penalties in this block are
	/// rates of.
	bonds: BTreeMap<AccountId, Balance>,
	/// The proposal bond of each validity round, when it was proposed.
	proposals: BTreeMap<RoundId, Balance>,
	/// Every offence recorded, by penalty id: its kind and round, from the events.
	offences: BTreeMap<u32, (OffenceKind, RoundId)>,
	/// Penalty ids below this one were read.
	penalties_read: u32,
	/// Objects proposed for judgement, by the machine that judged them: each keeps its traffic
	/// light after its round is pruned.
	objects: BTreeSet<(MachineId, Hash, u32)>,
	/// Validity rounds of honest objects (the demo's well-formed ones, whose content every good
	/// picket holds): each must end green, whatever the bad slots say.
	honest_proposals: BTreeSet<RoundId>,
	/// Entries of each of the pallet's storage maps after genesis and the agents' registration.
	baseline: BTreeMap<String, u64>,
	reporter: AccountId,
	/// The harness's hierarchical oracle, whose rounds the reporter opens.
	oracle: u32,
	/// The most stake the bad agents may have bonded at once (`SIM_BAD` percent of the total).
	bad_budget: Balance,
	/// While a fork is compared: the good pickets' statements this branch included.
	included: Option<Vec<Included>>,
	/// The other branch of a fork: the height it reached and its good pickets' statements,
	/// until this branch is as high.
	fork: Option<(u32, Vec<Included>)>,
	/// A bad agent kept a seat free in this block, for a bet on a fork at its end.
	bet: bool,
	/// Set by a fork: the next block of this branch opens `FORK_OPENINGS` rounds of the
	/// harness's oracle first thing, as the other branch's first block did, so that both give
	/// each of those round ids of one machine to two subjects.
	open_after_fork: bool,
	/// Equivocations across a fork: a bad agent signed another statement for a round instance
	/// both branches share, on the other branch; reported here at the next block.
	lies: Vec<Lie>,
	/// The grinding opener, the block it last opened a round, and the rounds it opened with
	/// the committee it predicted.
	grinder: AccountId,
	ground_at: u32,
	ground: BTreeMap<RoundId, Ground>,
	/// The good agents' stake (never slashed, never withdrawn): with the bad budget, it bounds
	/// the bad share of any snapshot.
	good_stake: Balance,
	/// The flooders' accounts.
	flooders: Vec<AccountId>,
	/// The reporter's rounds waiting for their draw, with the block it first tried to open
	/// each, and the block of its first refused attempt to open one it is still trying to.
	reporter_opened: BTreeMap<RoundId, u32>,
	reporter_retry: Option<u32>,
	/// The weakest machine, the forger who proposes malformed objects to it, and its rounds
	/// with their objects: no such object may ever be valid, for any machine.
	weak: MachineId,
	forger: AccountId,
	malformed: BTreeMap<RoundId, ObjectRef>,
	forge_next: u32,
	/// Bad agents (by index) who equivocated and try to leave before they are reported.
	fleeing: BTreeSet<usize>,
	/// Offences whose penalty took something: (offender, round, kind).
	punished: BTreeSet<(AccountId, RoundId, String)>,
	stats: Stats,
}

/// A statement a good picket signed and a branch included: its seat there and the seat's key.
#[derive(Clone)]
struct Included {
	/// The block that included it.
	at: u32,
	statement: Statement,
	signature: sr25519::Signature,
	seat: u32,
	key: pallet_consensus_machine::crypto::Public,
}

/// A bad agent's two statements for one round instance, one on each branch of a fork.
#[derive(Clone)]
struct Lie {
	offender: AccountId,
	round: RoundId,
	membership: SeatProof<AccountId>,
	/// The statement here, submitted at the next block.
	here_call: RuntimeCall,
	here: (Statement, sr25519::Signature),
	there: (Statement, sr25519::Signature),
}

/// A round the grinding opener committed: the seeds it could know at the commitment (the
/// round's seed from the randomness of the committing block and of the next `RandomnessLead`
/// blocks, which a colluding author knows that early), the committee it predicted from the
/// first, and the bad slots in that committee.
#[derive(Clone)]
struct Ground {
	known: Vec<Hash>,
	committee: Vec<(AccountId, u32)>,
	bad: u64,
}

/// The grinder opens a round when the committee it predicts gives the bad agents at least this
/// many of the oracle's primary slots (a fair draw at a 5 % bad share gives 0.4 on average),
/// at most one round in `GRIND_EVERY` blocks: it waits for a block whose prediction suits it.
const GRIND_BAD_SLOTS: u64 = 1;
const GRIND_EVERY: u32 = 8;

/// Flooders: accounts that, for `FLOOD_LENGTH` blocks in every `FLOOD_EVERY`, open as many
/// rounds of the harness's oracle as the pallet lets them, each paying its round's fee. Each
/// holds at most `MaxPendingDrawsPerAccount` places; with the demo driver's and the reporter's
/// own they can fill the queue. The reporter, refused, tries again every block: each of its
/// rounds must be drawn within the flood's length plus one full queue's drain
/// (`MaxPendingDraws / MaxDrawsPerBlock` blocks) and `RandomnessLead` of its first attempt,
/// and every flooded round pays its fee like any other.
const FLOODERS: u32 = 2;
const FLOOD_EVERY: u32 = 250;
const FLOOD_LENGTH: u32 = 12;

/// A forger proposes a malformed object to the weakest machine governance created (one slot,
/// p = 1/100, ε = 1/10) every `FORGE_EVERY` blocks: a bad agent's lone seat may call it green,
/// and a watcher with the evidence must overturn that green; no malformed object may ever be
/// valid for any machine.
const FORGE_EVERY: u32 = 6;

/// A subject's seed in a block whose VRF output is `output`, as the runtime's randomness
/// (`pallet_babe::ParentBlockRandomness`) gives it.
fn seed_from(subject: &[u8], output: &[u8; 32]) -> Hash {
	sp_io::hashing::blake2_256(&[subject, &output[..]].concat())
}

/// The stake snapshot draws use in the current snapshot period, read from storage as anyone
/// can: a tree node as it stood when the period began (kept in `FrozenNodes` once changed).
struct Snapshot {
	capacity: u32,
	era: u32,
}

impl Snapshot {
	fn current() -> Self {
		let period: u32 = <Runtime as pallet_consensus_machine::Config>::SnapshotPeriod::get();
		Self {
			capacity: pallet_consensus_machine::StakeTreeCapacity::<Runtime>::get(),
			era: System::block_number() / period.max(1),
		}
	}
	fn total(&self) -> u128 {
		if self.capacity == 0 {
			return 0;
		}
		selection::StakeTree::node(self, self.capacity)
	}
}

impl selection::StakeTree for Snapshot {
	fn capacity(&self) -> u32 {
		self.capacity
	}
	fn node(&self, i: u32) -> u128 {
		match pallet_consensus_machine::FrozenNodes::<Runtime>::get(i) {
			Some((era, value)) if era == self.era => value,
			_ => pallet_consensus_machine::StakeNodes::<Runtime>::get(i),
		}
	}
	fn set_node(&mut self, _: u32, _: u128) {
		unreachable!("a draw only reads the tree")
	}
}

/// The seed round `round` would be drawn from in this block: the runtime's randomness on the
/// pallet's subject for the round (its tag and the round id), as an opener computes it.
fn seed_now(round: RoundId) -> Option<Hash> {
	type R = <Runtime as pallet_consensus_machine::Config>::Randomness;
	let (seed, _) =
		<R as frame_support::traits::Randomness<_, _>>::random(&(*b"cm/round", round).encode());
	seed.map(|s| s.0)
}

/// The agents a draw of `slots` from `seed` over the current stake snapshot gives, with their
/// slots, in draw order (the pallet leaves the seats of agents not active at the draw empty).
fn draw_from(seed: &Hash, slots: u32) -> Vec<(AccountId, u32)> {
	let tree = Snapshot::current();
	let drawn = selection::draw(&tree, seed, slots, tree.total()).unwrap_or_default();
	selection::group(&drawn)
		.into_iter()
		.filter_map(|(index, slots)| {
			Some((pallet_consensus_machine::AgentAt::<Runtime>::get(index)?, slots))
		})
		.collect()
}

/// [`draw_from`]'s committee as drawn now: the seats of agents not active left out.
fn committee_from(seed: &Hash, slots: u32) -> Vec<(AccountId, u32)> {
	draw_from(seed, slots)
		.into_iter()
		.filter(|(agent, _)| {
			pallet_consensus_machine::Agents::<Runtime>::get(agent)
				.is_some_and(|info| info.status == AgentStatus::Active)
		})
		.collect()
}

/// The least `k` with `P(X > k) <= eps` for `X ~ Binomial(n, q)`, `0 < q < 1`.
fn binomial_upper(n: u64, q: f64, eps: f64) -> u64 {
	let (ln_q, ln_rest) = (q.ln(), (1.0 - q).ln());
	let mut ln_pmf = n as f64 * ln_rest;
	let (mut cdf, mut k) = (ln_pmf.exp(), 0);
	while 1.0 - cdf > eps && k < n {
		ln_pmf += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + ln_q - ln_rest;
		k += 1;
		cdf += ln_pmf.exp();
	}
	k
}

/// Blocks between two forks, and the blocks each branch of a fork runs before they are compared.
const FORK_EVERY: u32 = 100;
const FORK_LENGTH: u32 = 16;
/// Rounds of the harness's oracle both branches of a fork open first thing, for different
/// subjects: a good key drawn for one of them on both branches signs two values for one round
/// id (about one such key per round).
const FORK_OPENINGS: u32 = 3;

fn account_of(pair: &sr25519::Pair) -> AccountId {
	sp_runtime::MultiSigner::from(pair.public()).into_account()
}

/// The share of its bond an offence of `kind` costs an agent, from the runtime's configuration.
fn slash_rate(kind: OffenceKind) -> sp_runtime::Perbill {
	type C = Runtime;
	match kind {
		OffenceKind::Equivocation => {
			<C as pallet_consensus_machine::Config>::EquivocationSlash::get()
		}
		OffenceKind::WrongVerdict => {
			<C as pallet_consensus_machine::Config>::WrongVerdictSlash::get()
		}
		OffenceKind::FalseRed => <C as pallet_consensus_machine::Config>::FalseRedSlash::get(),
		OffenceKind::NonParticipation => {
			<C as pallet_consensus_machine::Config>::NonParticipationSlash::get()
		}
		OffenceKind::BackupRuleViolation => {
			<C as pallet_consensus_machine::Config>::BackupRuleSlash::get()
		}
		OffenceKind::RedProposal => sp_runtime::Perbill::one(),
	}
}

fn fee_less(call: &RuntimeCall) -> Result<(), String> {
	match call.authorize(TransactionSource::External) {
		Some(Ok(_)) => Ok(()),
		Some(Err(e)) => Err(format!("{e:?}")),
		None => Err("not fee-less".into()),
	}
}

/// Fee-less `call` through the authorise step, then dispatched as the pool's block would.
fn dispatch_fee_less(call: &RuntimeCall) -> Result<(), String> {
	fee_less(call).and_then(|()| {
		call.clone()
			.dispatch_bypass_filter(RuntimeOrigin::from(frame_system::RawOrigin::Authorized))
			.map(|_| ())
			.map_err(|e| format!("{:?}", e.error))
	})
}

/// What dispatching fee-less `call` would do, without doing it: its error, if any.
fn dry_run(call: &RuntimeCall) -> Result<(), String> {
	sp_io::storage::start_transaction();
	let result = call
		.clone()
		.dispatch_bypass_filter(RuntimeOrigin::from(frame_system::RawOrigin::Authorized));
	sp_io::storage::rollback_transaction();
	result.map(|_| ()).map_err(|e| match e.error {
		sp_runtime::DispatchError::Module(sp_runtime::ModuleError { message: Some(m), .. }) => {
			m.to_string()
		}
		e => format!("{e:?}"),
	})
}

/// The number of entries in each of the pallet's storage maps (a storage value is not counted),
/// by the item's name, walking the keys under each item's prefix.
fn map_entries() -> BTreeMap<String, u64> {
	ConsensusMachine::storage_info()
		.into_iter()
		.map(|info| {
			let (prefix, mut key, mut entries) = (info.prefix.clone(), info.prefix, 0);
			while let Some(next) = sp_io::storage::next_key(&key) {
				if !next.starts_with(&prefix) {
					break;
				}
				entries += 1;
				key = next;
			}
			(String::from_utf8_lossy(&info.storage_name).into_owned(), entries)
		})
		.collect()
}

/// What a drained chain may hold in one of the pallet's storage maps, against its baseline
/// after genesis.
#[derive(Debug)]
enum Bound {
	/// Per round, per exit or per pending penalty: back to the baseline once every round is
	/// pruned, every root expired and every penalty applied.
	Baseline,
	/// Per agent or per tree node: at most this many, however long the chain ran.
	AtMost(u64),
	/// One per current agent: exactly this many.
	Exactly(u64),
	/// A permanent record (an object's light, an offence's proof): exactly the baseline plus
	/// what the run recorded.
	Grown(u64),
}

impl Sim {
	/// The chain, the agents and their roles.
	fn new(params: Params) -> (sp_io::TestExternalities, Self, Drain) {
		let mut rng = Rng(params.seed);
		let mut ext = development();
		let (dev_stake, dev_agents) = ext.execute_with(|| {
			let agents: Vec<AccountId> =
				pallet_consensus_machine::Agents::<Runtime>::iter_keys().collect();
			(TotalStake::<Runtime>::get(), agents)
		});
		let min_bond: Balance = <Runtime as pallet_consensus_machine::Config>::MinBond::get();
		// The extra agents' stakes, then the bad ones among them: in a random order, as long as
		// the bad stake stays within the share.
		let stakes: Vec<Balance> = (0..params.agents)
			.map(|_| {
				let factor = if params.heavy {
					// Pareto with shape 1.2, capped at 1,000 times the minimum.
					(1.0 / (1.0 - rng.unit()).max(1e-9)).powf(1.0 / 1.2).min(1_000.0)
				} else {
					1.0 + 4.0 * rng.unit()
				};
				(min_bond as f64 * factor) as Balance
			})
			.collect();
		let total: Balance = dev_stake + stakes.iter().sum::<Balance>();
		let budget = total * Balance::from(params.bad_percent) / 100;
		let mut order: Vec<usize> = (0..stakes.len()).collect();
		for i in (1..order.len()).rev() {
			order.swap(i, rng.below(i as u64 + 1) as usize);
		}
		let (mut bad, mut spent) = (BTreeSet::<usize>::new(), 0);
		for i in order {
			if spent + stakes[i] <= budget {
				spent += stakes[i];
				bad.insert(i);
			}
		}
		// The keystore keeps secret URIs and derives every key again on each use: hex seeds
		// derive at once, where a derivation path costs a key stretching every time.
		let keystore = MemoryKeystore::new();
		let mut adversaries: Vec<Adversary> = (0..DEV_AGENTS)
			.map(|i| Adversary {
				account: agent_account(i),
				key: sr25519::Pair::from_string(&picket_seed(i), None).unwrap(),
				bad: false,
				generation: 0,
			})
			.collect();
		let seeds: Vec<Hash> = (0..params.agents).map(|_| rng.hash()).collect();
		let picket = |j: u32| {
			let hex: String = seeds[j as usize].iter().map(|b| format!("{b:02x}")).collect();
			format!("0x{hex}")
		};
		let mut good: BTreeSet<AccountId> = dev_agents.into_iter().collect();
		let accounts: Vec<sr25519::Pair> = (0..params.agents)
			.map(|j| sr25519::Pair::from_string(&format!("//sim//account//{j}"), None).unwrap())
			.collect();
		for j in 0..params.agents {
			let account = account_of(&accounts[j as usize]);
			let key = sr25519::Pair::from_string(&picket(j), None).unwrap();
			if bad.contains(&(j as usize)) {
				adversaries.push(Adversary { account, key, bad: true, generation: 0 });
			} else {
				keystore.insert(KEY_TYPE, &picket(j), key.public().as_ref()).unwrap();
				good.insert(account);
			}
		}
		let (offchain, _) = TestOffchainExt::new();
		let (pool, state) = TestTransactionPoolExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(KeystoreExt::new(keystore));
		let reporter = account_of(&sr25519::Pair::from_string("//Alice", None).unwrap());
		let grinder = account_of(&sr25519::Pair::from_string("//sim//grinder", None).unwrap());
		let good_stake = total - spent;
		let sim = ext.execute_with(|| {
			let genesis = ConsensusMachine::genesis_hash();
			for j in 0..params.agents {
				let account = account_of(&accounts[j as usize]);
				let key = sr25519::Pair::from_string(&picket(j), None).unwrap();
				let stake = stakes[j as usize];
				Balances::set_balance(&account, stake + 10 * min_bond);
				let proof = key.sign(&possession_payload(&account, &genesis));
				let register =
					RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::register {
						key: key.public().into(),
						bond: stake,
						proof: proof.into(),
					});
				assert!(register.dispatch_bypass_filter(RuntimeOrigin::signed(account)).is_ok());
			}
			// A hierarchical oracle of the harness's own, whose primary leaves room between
			// its thresholds: 8 slots at p = 1/20 have max_bad 5 and a strong threshold of 7,
			// so a value 6 seats pre-decided (two seats silent or lying) is not decided but must
			// be adopted by the backup: the adoption rule, and the votes that break it, come
			// into play. (The demo oracle's 6 slots need all 6: no value to adopt ever arises.)
			let oracle = pallet_consensus_machine::NextMachineId::<Runtime>::get();
			let level = |slots, timeout| LevelSpec {
				slots,
				p: ProbabilityArg { num: 1, den: 20 },
				epsilon: EpsilonArg { num: 1, den: 1_000_000 },
				timeout,
			};
			let create = RuntimeCall::ConsensusMachine(
				pallet_consensus_machine::Call::create_hierarchical_machine {
					levels: vec![level(8, 5), level(40, 10)],
					round_deposit: min_bond / 100,
				},
			);
			create
				.dispatch_bypass_filter(RuntimeOrigin::root())
				.expect("the harness's oracle is sound");
			Balances::set_balance(&grinder, 1_000 * min_bond);
			let flooders: Vec<AccountId> = (0..FLOODERS)
				.map(|i| {
					let pair = sr25519::Pair::from_string(&format!("//sim//flooder//{i}"), None);
					let account = account_of(&pair.expect("a valid derivation"));
					Balances::set_balance(&account, 100_000 * min_bond);
					account
				})
				.collect();
			// The weakest machine governance may create: one slot.
			let weak = pallet_consensus_machine::NextMachineId::<Runtime>::get();
			let create =
				RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::create_machine {
					slots: 1,
					p: ProbabilityArg { num: 1, den: 100 },
					epsilon: EpsilonArg { num: 1, den: 10 },
					timeout: 5,
					round_deposit: min_bond / 100,
					initial_state: [0; 32],
				});
			create.dispatch_bypass_filter(RuntimeOrigin::root()).expect("a one-slot machine");
			let forger = account_of(&sr25519::Pair::from_string("//sim//forger", None).unwrap());
			Balances::set_balance(&forger, 100_000 * min_bond);
			System::reset_events();
			Sim {
				rng,
				genesis,
				good,
				adversaries,
				pending: BTreeMap::new(),
				acted: BTreeSet::new(),
				decided: BTreeMap::new(),
				honest: BTreeMap::new(),
				expected: BTreeSet::new(),
				recorded: BTreeSet::new(),
				greens: BTreeMap::new(),
				last_levels_drawn: BTreeSet::new(),
				issuance: Balances::total_issuance(),
				treasury: Balances::total_balance(&TreasuryAccount::get()),
				owed_to_treasury: 0,
				bonds: BTreeMap::new(),
				proposals: BTreeMap::new(),
				offences: BTreeMap::new(),
				penalties_read: 0,
				objects: BTreeSet::new(),
				honest_proposals: BTreeSet::new(),
				baseline: map_entries(),
				reporter,
				oracle,
				bad_budget: budget,
				included: None,
				fork: None,
				open_after_fork: false,
				bet: false,
				lies: Vec::new(),
				grinder,
				ground_at: 0,
				ground: BTreeMap::new(),
				good_stake,
				flooders,
				reporter_opened: BTreeMap::new(),
				reporter_retry: None,
				weak,
				forger,
				malformed: BTreeMap::new(),
				forge_next: 0,
				fleeing: BTreeSet::new(),
				punished: BTreeSet::new(),
				stats: Stats::default(),
				params,
			}
		});
		let drain: Drain = Box::new(move || std::mem::take(&mut state.write().transactions));
		(ext, sim, drain)
	}

	fn schedule(&mut self, at: u32, tx: Tx) {
		self.pending.entry(at).or_default().push(tx);
	}

	/// The good pickets: the off-chain worker signs, the pool's transactions are delivered now
	/// or a block or two later.
	fn run_worker(&mut self, now: u32, pool: &Drain) {
		ConsensusMachine::offchain_worker(now);
		for raw in pool() {
			let xt = UncheckedExtrinsic::decode(&mut &raw[..]).expect("the worker's extrinsic");
			let delay = if self.rng.percent(20) { 1 + self.rng.below(2) as u32 } else { 0 };
			self.schedule(now + delay, Tx::FeeLess(xt.function));
		}
	}

	fn statement(&self, duty: &Duty<u32>, body: Body) -> Statement {
		Statement {
			genesis: self.genesis,
			machine: duty.machine,
			round: duty.round,
			instance: duty.instance,
			level: duty.level,
			body,
		}
	}

	/// A body of the same kind as `body` that says something else.
	fn another_body(&mut self, body: &Body) -> Body {
		match *body {
			Body::Transition { step, from, .. } => {
				Body::Transition { step, from, output: self.rng.hash(), to: self.rng.hash() }
			}
			Body::Decision { .. } => Body::Decision { value: Some(self.rng.hash()) },
			Body::Verdict { object, verdict } => Body::Verdict {
				object,
				verdict: if verdict == Verdict::Green { Verdict::Amber } else { Verdict::Green },
			},
		}
	}

	fn submission(
		&self,
		who: usize,
		duty: &Duty<u32>,
		body: Body,
		evidence: Option<Vec<u8>>,
	) -> (Statement, sr25519::Signature, RuntimeCall) {
		let statement = self.statement(duty, body);
		let signature = self.adversaries[who].key.sign(&statement.signing_payload());
		let call =
			RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
				statement: statement.clone(),
				seat: duty.seat,
				signature: signature.into(),
				evidence,
			});
		(statement, signature, call)
	}

	/// The bad agents: each new duty gets one of the misbehaviours it allows, the least used.
	fn run_adversaries(&mut self, now: u32) {
		let keys: Vec<pallet_consensus_machine::crypto::Public> =
			self.adversaries.iter().map(|a| a.key.public().into()).collect();
		let mut duties = ConsensusMachine::duties_of(&keys);
		for (who, key) in keys.iter().enumerate() {
			for duty in duties.remove(key).unwrap_or_default() {
				if !self.acted.insert((who, duty.round)) {
					continue;
				}
				// What a good picket says, from the evaluator alone: a decision's value is the
				// oracle's on the subject, whatever the pallet says must be adopted (with at most
				// `p` of the stake bad, a value to adopt can only be one good pickets
				// pre-decided).
				if matches!(duty.task, DutyTask::Decision { required: Some(_), .. }) {
					self.stats.adoption_duties += 1;
				}
				let independent = match &duty.task {
					DutyTask::Decision { subject, required } => {
						let own = DutyTask::Decision { subject: *subject, required: None };
						let good = Evaluator::evaluate(&own).map(|j| j.body);
						if let (Some(required), Some(Body::Decision { value: Some(v) })) =
							(required, &good)
						{
							assert_eq!(
								required, v,
								"seed {}, block {now}: round {} requires a value no good picket \
								 pre-decided",
								self.params.seed, duty.round
							);
						}
						good
					}
					task => Evaluator::evaluate(task).map(|j| j.body),
				};
				// A good picket judges the object red: a green is wrong.
				let red_object =
					matches!(independent, Some(Body::Verdict { verdict: Verdict::Red { .. }, .. }));
				let green_object =
					matches!(independent, Some(Body::Verdict { verdict: Verdict::Green, .. }));
				if let Some(body) = independent {
					let value = body.value_hash();
					let first = *self.honest.entry(duty.round).or_insert(value);
					assert_eq!(
						first, value,
						"seed {}: round {}'s duties disagree",
						self.params.seed, duty.round
					);
				}
				if !self.adversaries[who].bad {
					if let Some(good) = Evaluator::evaluate(&duty.task) {
						let (_, _, call) = self.submission(who, &duty, good.body, good.evidence);
						let delay =
							if self.rng.percent(20) { 1 + self.rng.below(2) as u32 } else { 0 };
						self.schedule(now + delay, Tx::FeeLess(call));
					}
					continue;
				}
				// A bet on a fork (while the budget of such bets lasts): the seat is kept free, and
				// a bad block author forks the chain at the end of this block (see
				// [`Sim::fork_lie`]).
				if !self.bet
					&& self.fork.is_none()
					&& self.stats.fork_lies_reported <= self.stats.forks / 10
					&& duty.deadline > now + 1
					&& !matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
				{
					self.bet = true;
					self.stats.withheld_for_fork += 1;
					continue;
				}
				// Among the acts this duty allows, one of the least used so far (ties at random):
				// duties that allow rare acts (a backup vote with a value to adopt, a verdict)
				// get them.
				let fits = |act: &Bad| match act {
					Bad::LyingPreDecision => {
						matches!(duty.task, DutyTask::Decision { .. }) && duty.level == 0
					}
					Bad::BreakAdoption => {
						matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
					}
					Bad::FalseRed => matches!(duty.task, DutyTask::Verdict { .. }),
					Bad::WrongGreen => red_object,
					Bad::AmberMinority => green_object,
					_ => true,
				};
				let used = |act: &Bad| self.stats.acts.get(act).copied().unwrap_or(0);
				let fewest = BAD.iter().filter(|a| fits(a)).map(used).min().unwrap_or(0);
				let least: Vec<Bad> =
					BAD.iter().copied().filter(|a| fits(a) && used(a) == fewest).collect();
				// The forger's accomplices: a bad agent holding the one-slot machine's seat on a
				// malformed object calls it green. One round in five, every bad seat colludes, so
				// that bad slots add up.
				let act = if duty.machine == self.weak && red_object {
					Bad::WrongGreen
				} else if duty.round % 5 == 0 {
					Bad::Collude
				} else {
					least[self.rng.below(least.len() as u64) as usize]
				};
				*self.stats.acts.entry(act).or_default() += 1;
				self.misbehave(now, who, &duty, act);
			}
		}
	}

	fn misbehave(&mut self, now: u32, who: usize, duty: &Duty<u32>, act: Bad) {
		let Some(good) = Evaluator::evaluate(&duty.task) else { return };
		let account = self.adversaries[who].account.clone();
		match (act, &duty.task) {
			(Bad::Silent, _) => {}
			(Bad::Late, _) => {
				let (_, _, call) = self.submission(who, duty, good.body, good.evidence);
				self.schedule(duty.deadline + 1, Tx::FeeLess(call));
			}
			(Bad::Equivocate, _) => {
				let (first, first_sig, call) =
					self.submission(who, duty, good.body.clone(), good.evidence);
				self.schedule(now, Tx::FeeLess(call));
				let other = self.another_body(&good.body);
				let second = self.statement(duty, other);
				let second_sig = self.adversaries[who].key.sign(&second.signing_payload());
				let membership = ConsensusMachine::membership_proof(duty.round, duty.seat)
					.expect("a drawn seat has a proof");
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_equivocation {
						membership,
						proof: Box::new(EquivocationProof {
							first: (first, first_sig),
							second: (second, second_sig),
						}),
					},
				);
				self.schedule(now + 1, Tx::FeeLess(report));
				self.expected.insert((
					account,
					duty.round,
					format!("{:?}", OffenceKind::Equivocation),
				));
				// It tries to leave with its bond before the report lands.
				self.fleeing.insert(who);
			}
			(Bad::LyingPreDecision, DutyTask::Decision { .. }) if duty.level == 0 => {
				let lie = Body::Decision { value: Some(self.rng.hash()) };
				let (_, _, call) = self.submission(who, duty, lie, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::BreakAdoption, DutyTask::Decision { required: Some(_), .. }) => {
				let lie = Body::Decision { value: Some(self.rng.hash()) };
				let (statement, signature, call) = self.submission(who, duty, lie, None);
				// Refused by the authorise step; its signed statement is reportable.
				self.schedule(now, Tx::Invalid(call));
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_backup_vote {
						seat: duty.seat,
						statement,
						signature,
					},
				);
				self.schedule(now + 1, Tx::Signed(self.reporter.clone(), report));
				self.expected.insert((
					account,
					duty.round,
					format!("{:?}", OffenceKind::BackupRuleViolation),
				));
			}
			(Bad::FalseRed, DutyTask::Verdict { object }) => {
				let evidence = self.forged_evidence(object);
				let body = Body::Verdict {
					object: object.hash,
					verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
				};
				let (_, _, call) = self.submission(who, duty, body, Some(evidence));
				self.schedule(now, Tx::FalseRed(call, account, duty.round));
			}
			(Bad::WrongGreen, DutyTask::Verdict { object }) => {
				let body = Body::Verdict { object: object.hash, verdict: Verdict::Green };
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::AmberMinority, DutyTask::Verdict { object }) => {
				let body = Body::Verdict { object: object.hash, verdict: Verdict::Amber };
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::Collude, task) => {
				let wrong =
					|tag: u8| sp_io::hashing::blake2_256(&(b"collude", duty.round, tag).encode());
				let body = match (task, good.body) {
					(_, Body::Transition { step, from, .. }) => {
						Body::Transition { step, from, output: wrong(0), to: wrong(1) }
					}
					(_, Body::Decision { .. }) => Body::Decision { value: Some(wrong(0)) },
					// Green on a bad object; on a good one, Amber: every bad slot of the round
					// together trying to keep it from green.
					(_, Body::Verdict { object, verdict }) => Body::Verdict {
						object,
						verdict: if verdict == Verdict::Green {
							Verdict::Amber
						} else {
							Verdict::Green
						},
					},
				};
				let (_, _, call) = self.submission(who, duty, body, None);
				self.schedule(now, Tx::FeeLess(call));
			}
			(Bad::Flood, _) => {
				// Another chain, an unknown round, another key's signature: all refused.
				let mut foreign = self.statement(duty, good.body.clone());
				foreign.genesis = self.rng.hash();
				let mut unknown = self.statement(duty, good.body.clone());
				unknown.round = duty.round + 1_000_000;
				let stranger = sr25519::Pair::from_seed(&self.rng.hash());
				let _ = &self.adversaries[who];
				let own = &self.adversaries[who].key;
				let forged = self.statement(duty, good.body);
				let signed = [
					(foreign.clone(), own.sign(&foreign.signing_payload())),
					(unknown.clone(), own.sign(&unknown.signing_payload())),
					(forged.clone(), stranger.sign(&forged.signing_payload())),
				];
				for (statement, signature) in signed {
					let call = RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::submit_statement {
							statement,
							seat: duty.seat,
							signature: signature.into(),
							evidence: None,
						},
					);
					self.schedule(now, Tx::Invalid(call));
				}
			}
			// A misbehaviour that does not fit the duty: the good statement.
			_ => {
				let (_, _, call) = self.submission(who, duty, good.body, good.evidence);
				self.schedule(now, Tx::FeeLess(call));
			}
		}
	}

	/// Delivers this block's transactions in a random order, as the pool's authorise step and
	/// the block would.
	fn deliver(&mut self, now: u32) {
		let mut txs = self.pending.remove(&now).unwrap_or_default();
		for i in (1..txs.len()).rev() {
			txs.swap(i, self.rng.below(i as u64 + 1) as usize);
		}
		for tx in txs {
			let result = match tx {
				Tx::FeeLess(call) => {
					let result = dispatch_fee_less(&call);
					if result.is_ok() {
						self.note_green(&call);
						self.note_included(&call);
					}
					result
				}
				Tx::FalseRed(call, who, round) => {
					let result = dispatch_fee_less(&call);
					if result.is_ok() {
						self.expected.insert((who, round, format!("{:?}", OffenceKind::FalseRed)));
					}
					result
				}
				Tx::Signed(who, call) => call
					.dispatch_bypass_filter(RuntimeOrigin::signed(who))
					.map(|_| ())
					.map_err(|e| format!("{:?}", e.error)),
				Tx::Invalid(call) => {
					assert!(
						fee_less(&call).is_err(),
						"seed {}: an invalid statement was authorised: {call:?}",
						self.params.seed
					);
					self.stats.invalid_refused += 1;
					continue;
				}
			};
			match result {
				Ok(()) => self.stats.delivered += 1,
				Err(e) => *self.stats.refused.entry(e).or_default() += 1,
			}
		}
	}

	/// A red's evidence a forger can make against `object`: for an honest demo object of two
	/// chunks or more, its last chunk's genuine Merkle proof relabelled as another chunk (the
	/// forgery that once condemned honest objects whose chunk count is not a power of two:
	/// the short last chunk "contradicted" an earlier chunk's length); otherwise random bytes.
	/// Either way it must be refused as proof and become a `FalseRed` offence.
	fn forged_evidence(&mut self, object: &ObjectRef) -> Vec<u8> {
		type Demo = DemoEvaluator<CHUNK_SIZE>;
		let honest = Demo::object(object.size, true) == *object;
		let chunks = if honest { Demo::chunks(object.size, true) } else { Vec::new() };
		let Some(last) = (chunks.len() as u32).checked_sub(1).filter(|&last| last > 0) else {
			return self.rng.hash().to_vec();
		};
		let genuine = MerkleChunks::<CHUNK_SIZE>::evidence(&chunks, last).expect("the last chunk");
		let mut forged = ChunkEvidence::decode(&mut &genuine[..]).expect("genuine evidence");
		forged.index = self.rng.below(u64::from(last)) as u32;
		self.stats.relabelled_reds += 1;
		forged.encode()
	}

	/// The adversary does not give up: a bad agent out of the draw comes back as soon as the
	/// pallet lets it (a ban served: `rejoin`; suspended for an overt offence: `unbond`, and once
	/// the bond is free, `withdraw_unbonded`, all its money moved to a new account that registers
	/// a new key), and active bad agents add to their bonds at random moments (a stake change
	/// timed against the draws), always within the bad share of the stake.
	fn persist(&mut self, now: u32) {
		let seed = self.params.seed;
		let min_bond: Balance = <Runtime as pallet_consensus_machine::Config>::MinBond::get();
		let bonded = |adversaries: &[Adversary]| -> Balance {
			adversaries
				.iter()
				.filter(|a| a.bad)
				.filter_map(|a| pallet_consensus_machine::Agents::<Runtime>::get(&a.account))
				.map(|info| info.bond)
				.sum()
		};
		for who in 0..self.adversaries.len() {
			if !self.adversaries[who].bad {
				continue;
			}
			let account = self.adversaries[who].account.clone();
			let Some(info) = pallet_consensus_machine::Agents::<Runtime>::get(&account) else {
				continue;
			};
			let pending = pallet_consensus_machine::PendingPenalties::<Runtime>::get(&account);
			let fleeing = self.fleeing.contains(&who);
			let call = match info.status {
				// An equivocator running from its report: unbond at once, then try to
				// withdraw in every block, whatever the pallet says.
				AgentStatus::Active | AgentStatus::Suspended if fleeing => {
					pallet_consensus_machine::Call::unbond {}
				}
				AgentStatus::Unbonding { .. } if fleeing => {
					pallet_consensus_machine::Call::withdraw_unbonded {}
				}
				AgentStatus::Banned { until } if now >= until => {
					pallet_consensus_machine::Call::rejoin {}
				}
				AgentStatus::Suspended if pending == 0 => pallet_consensus_machine::Call::unbond {},
				AgentStatus::Unbonding { until, .. } if now >= until && pending == 0 => {
					pallet_consensus_machine::Call::withdraw_unbonded {}
				}
				AgentStatus::Active if self.rng.percent(1) => {
					let room = self.bad_budget.saturating_sub(bonded(&self.adversaries));
					let free = Balances::reducible_balance(
						&account,
						Preservation::Protect,
						Fortitude::Polite,
					);
					let amount = room.min(free.saturating_sub(min_bond)).min(min_bond);
					if amount == 0 {
						continue;
					}
					pallet_consensus_machine::Call::bond_extra { amount }
				}
				_ => continue,
			};
			let withdraw = matches!(call, pallet_consensus_machine::Call::withdraw_unbonded {});
			let result = RuntimeCall::ConsensusMachine(call)
				.dispatch_bypass_filter(RuntimeOrigin::signed(account.clone()));
			if fleeing {
				self.stats.flights += 1;
			}
			if let Err(e) = result {
				let what = if fleeing { "flight" } else { "re-entry" };
				*self.stats.refused.entry(format!("{what}: {:?}", e.error)).or_default() += 1;
				continue;
			}
			if fleeing && withdraw {
				// Gone with what is left of its bond: only after every offence it signed was
				// punished (its penalty applied, taking something).
				let unpunished: Vec<_> = self
					.expected
					.iter()
					.filter(|(offender, ..)| *offender == account)
					.filter(|offence| !self.punished.contains(*offence))
					.collect();
				assert!(
					unpunished.is_empty(),
					"seed {seed}, block {now}: {account} withdrew its bond before {unpunished:?} \
					 was punished"
				);
				self.fleeing.remove(&who);
				self.stats.fled += 1;
			}
			*self
				.stats
				.reentries
				.entry(if withdraw { "withdrawn" } else { "other" })
				.or_default() += 1;
			if !withdraw {
				continue;
			}
			// A new account and key, with all the old account's money.
			let generation = self.adversaries[who].generation + 1;
			let pair = sr25519::Pair::from_seed(&self.rng.hash());
			let fresh = account_of(&pair);
			let key = sr25519::Pair::from_seed(&self.rng.hash());
			let all =
				Balances::reducible_balance(&account, Preservation::Expendable, Fortitude::Polite);
			<Balances as Mutate<AccountId>>::transfer(
				&account,
				&fresh,
				all,
				Preservation::Expendable,
			)
			.unwrap_or_else(|e| panic!("seed {seed}: moving a bad agent's money: {e:?}"));
			let money = Balances::total_balance(&fresh);
			let room = self.bad_budget.saturating_sub(bonded(&self.adversaries));
			let bond = room.min(money.saturating_sub(min_bond));
			self.adversaries[who] =
				Adversary { account: fresh.clone(), key, bad: true, generation };
			if bond < min_bond {
				// Too poor to come back: it stays out.
				continue;
			}
			let proof = self.adversaries[who].key.sign(&possession_payload(&fresh, &self.genesis));
			let register =
				RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::register {
					key: self.adversaries[who].key.public().into(),
					bond,
					proof: proof.into(),
				});
			match register.dispatch_bypass_filter(RuntimeOrigin::signed(fresh)) {
				Ok(_) => *self.stats.reentries.entry("registered anew").or_default() += 1,
				Err(e) => {
					*self.stats.refused.entry(format!("re-entry: {:?}", e.error)).or_default() += 1
				}
			}
		}
	}

	/// The reporter opens a round of the harness's oracle on a fresh subject.
	fn open_oracle_round(&mut self) {
		let now = System::block_number();
		let round = NextRoundId::<Runtime>::get();
		let open = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::open_round {
			machine: self.oracle,
			subject: self.rng.hash(),
		});
		match open.dispatch_bypass_filter(RuntimeOrigin::signed(self.reporter.clone())) {
			Ok(_) => {
				self.stats.oracle_rounds += 1;
				// Its wait counts from its first attempt.
				let since = self.reporter_retry.take().unwrap_or(now);
				self.reporter_opened.insert(round, since);
			}
			Err(e) => {
				let error = format!("{:?}", e.error);
				// A full queue (or its own share full): the reporter tries again next block.
				if error.contains("PendingDraws") || error.contains("DrawsOfAccount") {
					self.reporter_retry.get_or_insert(now);
				}
				*self.stats.refused.entry(format!("open: {error}")).or_default() += 1
			}
		}
	}

	/// In a flood (`FLOOD_LENGTH` blocks of every `FLOOD_EVERY`), each flooder opens rounds of
	/// the harness's oracle until the pallet refuses it more.
	fn flood(&mut self, now: u32) {
		if now % FLOOD_EVERY >= FLOOD_LENGTH {
			return;
		}
		for flooder in self.flooders.clone() {
			loop {
				let open =
					RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::open_round {
						machine: self.oracle,
						subject: self.rng.hash(),
					});
				match open.dispatch_bypass_filter(RuntimeOrigin::signed(flooder.clone())) {
					Ok(_) => self.stats.flood_rounds += 1,
					Err(e) => {
						*self.stats.refused.entry(format!("flood: {:?}", e.error)).or_default() +=
							1;
						break;
					}
				}
			}
		}
	}

	/// Every `FORGE_EVERY` blocks the forger proposes a new malformed demo object to the
	/// weakest machine.
	fn forge(&mut self, now: u32) {
		if now % FORGE_EVERY != 0 {
			return;
		}
		// A new size each time (the demo object of a size is one object), as long as they last.
		self.forge_next = self.forge_next % 16_384 + 1;
		let object = DemoEvaluator::<CHUNK_SIZE>::object(self.forge_next, false);
		let round = NextRoundId::<Runtime>::get();
		let propose = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::propose {
			machine: self.weak,
			object: object.hash,
			size: object.size,
		});
		match propose.dispatch_bypass_filter(RuntimeOrigin::signed(self.forger.clone())) {
			Ok(_) => {
				self.stats.forged += 1;
				self.malformed.insert(round, object);
			}
			Err(e) => *self.stats.refused.entry(format!("forge: {:?}", e.error)).or_default() += 1,
		}
	}

	/// Slots of the harness oracle's primary level.
	fn oracle_slots(&self) -> u32 {
		pallet_consensus_machine::Machines::<Runtime>::get(self.oracle)
			.and_then(|m| m.levels.first().map(|l| l.rule.n))
			.expect("the harness's oracle has a primary level")
	}

	/// Bad slots in a committee: those of the agents the harness plays as bad.
	fn bad_slots(&self, committee: &[(AccountId, u32)]) -> u64 {
		committee
			.iter()
			.filter(|(agent, _)| self.adversaries.iter().any(|a| a.bad && a.account == *agent))
			.map(|(_, slots)| u64::from(*slots))
			.sum()
	}

	/// A grinding opener: in each block it computes, from everything known then (the block's
	/// randomness, the stake snapshot, the next round id), the committee the next round would
	/// get if it were drawn at once, and opens a round of the harness's oracle only when that
	/// committee gives the bad agents at least `GRIND_BAD_SLOTS` slots, at most once in
	/// `GRIND_EVERY` blocks. [`Sim::check`] judges the committee each such round is drawn.
	fn grind(&mut self, now: u32) {
		if now < self.ground_at + GRIND_EVERY {
			return;
		}
		let round = NextRoundId::<Runtime>::get();
		let Some(seed) = seed_now(round) else { return };
		// What a colluding author knows: this block's VRF output and the next `lead` ones.
		let lead: u32 = <Runtime as pallet_consensus_machine::Config>::RandomnessLead::get();
		let subject = (*b"cm/round", round).encode();
		let known: Vec<Hash> =
			(now..=now + lead).map(|b| seed_from(&subject, &vrf_output(b, &[]))).collect();
		assert_eq!(known[0], seed, "the grinder's model of the runtime's randomness");
		let slots = self.oracle_slots();
		let committee = committee_from(&seed, slots);
		let bad = self.bad_slots(&committee);
		if bad < GRIND_BAD_SLOTS {
			return;
		}
		let open = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::open_round {
			machine: self.oracle,
			subject: self.rng.hash(),
		});
		match open.dispatch_bypass_filter(RuntimeOrigin::signed(self.grinder.clone())) {
			Ok(_) => {
				assert_eq!(NextRoundId::<Runtime>::get(), round + 1, "the grinder's round id");
				self.ground.insert(round, Ground { known, committee, bad });
				self.ground_at = now;
				self.stats.ground_rounds += 1;
			}
			Err(e) => *self.stats.refused.entry(format!("grind: {:?}", e.error)).or_default() += 1,
		}
	}

	/// Judges the draw of a round the grinder opened: it must not come from any seed known at
	/// the commitment (the committing block's, nor one a colluding author knew up to
	/// `RandomnessLead` blocks early). The grinder's own computation is checked on the way: the seed it
	/// computes in the block of the draw is the one drawn from, and from it its draw gives the
	/// drawn committee.
	fn judge_ground(&mut self, now: u32, round: RoundId) {
		let seed = self.params.seed;
		let Some(ground) = self.ground.remove(&round) else { return };
		let info = Rounds::<Runtime>::get(round).expect("a round just drawn is live");
		assert!(
			!ground.known.contains(&info.seed),
			"seed {seed}, block {now}: round {round} was drawn from a seed known when it was \
			 committed"
		);
		assert_eq!(
			seed_now(round),
			Some(info.seed),
			"seed {seed}, block {now}: the grinder's seed derivation is not the pallet's"
		);
		let drawn: Vec<(AccountId, u32)> =
			ConsensusMachine::committee(round).into_iter().map(|s| (s.agent, s.slots)).collect();
		// The draw from the seed drawn with, the seats the pallet left empty (agents not
		// active at the draw, at the start of this block) aside.
		let reproduced: Vec<(AccountId, u32)> = draw_from(&info.seed, info.slots)
			.into_iter()
			.filter(|(agent, _)| drawn.iter().any(|(a, _)| a == agent))
			.collect();
		assert_eq!(
			reproduced, drawn,
			"seed {seed}, block {now}: the grinder's draw does not reproduce round {round}'s"
		);
		self.stats.predictor_reproduced += 1;
		let s = &mut self.stats;
		s.ground_drawn += 1;
		s.ground_slots += u64::from(info.slots);
		s.ground_predicted_bad += ground.bad;
		s.ground_as_predicted += u64::from(drawn == ground.committee);
		self.stats.ground_drawn_bad += self.bad_slots(&drawn);
	}

	/// The most bad slots a fair draw gives the grinder's rounds (exceeded by chance with
	/// probability at most 10⁻⁶), and the bad share it assumes: at most the bad budget over the
	/// good stake (never slashed, never withdrawn) plus the budget, in any snapshot.
	fn fair_bad_slots(&self) -> (f64, u64) {
		let q = self.bad_budget as f64 / (self.good_stake + self.bad_budget) as f64;
		let most = if q > 0.0 { binomial_upper(self.stats.ground_slots, q, 1e-6) } else { 0 };
		(q, most)
	}

	/// Notes a bad agent's green verdict accepted on chain: should the object's light turn red,
	/// the green is signed proof of a wrong verdict.
	fn note_green(&mut self, call: &RuntimeCall) {
		let RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
			statement,
			seat,
			..
		}) = call
		else {
			return;
		};
		if !matches!(statement.body, Body::Verdict { verdict: Verdict::Green, .. }) {
			return;
		}
		if let Some(holder) = CommitteeSeats::<Runtime>::get(statement.round, seat) {
			if !self.good.contains(&holder.agent) {
				self.greens.entry(statement.round).or_default().push(holder.agent);
			}
		}
	}

	/// Keeps a good picket's included statement while a fork is compared.
	fn note_included(&mut self, call: &RuntimeCall) {
		let Some(included) = self.included.as_mut() else { return };
		let RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::submit_statement {
			statement,
			seat,
			signature,
			..
		}) = call
		else {
			return;
		};
		let Some(holder) = CommitteeSeats::<Runtime>::get(statement.round, seat) else { return };
		if self.good.contains(&holder.agent) {
			included.push(Included {
				at: frame_system::Pallet::<Runtime>::block_number(),
				statement: statement.clone(),
				signature: signature.clone().into(),
				seat: *seat,
				key: holder.key,
			});
		}
	}

	/// One block: the hooks, the good pickets' worker, the adversary, delivery and the checks.
	fn step(&mut self, now: u32, pool: &Drain) {
		let mut clock = std::time::Instant::now();
		let mut lap = |sim: &mut Sim, phase: &'static str| {
			*sim.stats.time.entry(phase).or_default() += clock.elapsed();
			clock = std::time::Instant::now();
		};
		ConsensusMachine::on_idle(now, Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
		lap(self, "the block's hooks");
		self.run_worker(now, pool);
		lap(self, "the off-chain worker");
		self.run_adversaries(now);
		lap(self, "the adversary");
		// Before this block's own statements: a replay must not find its twin already here.
		self.compare_fork(now);
		self.deliver(now);
		lap(self, "delivery");
		self.check(now);
		lap(self, "the checks");
		self.stats.blocks += 1;
	}

	/// A fork from the current block: a sibling branch, with other randomness (so other
	/// committees and round instances) and another adversary's luck, runs `FORK_LENGTH` blocks
	/// with every check, on the same node (the off-chain database, which remembers what each
	/// key signed, is shared, as a node's is across a reorg); then its storage is rolled back
	/// and this branch goes on. Once this branch is as high, [`Sim::compare_fork`] replays the
	/// other branch's good statements here.
	fn fork(&mut self, pool: &Drain) {
		let lie = self.fork_lie();
		let mut other = self.clone();
		other.rng = Rng(self.rng.next());
		other.included = Some(Vec::new());
		let there = lie.map(|(lie, call)| {
			self.lies.push(lie);
			call
		});
		sp_io::storage::start_transaction();
		let mut height = 0;
		for i in 0..FORK_LENGTH {
			height = next_block_on(b"fork");
			if i == 0 {
				// The same round ids as this branch's next block opens, for other subjects.
				for _ in 0..FORK_OPENINGS {
					other.open_oracle_round();
				}
				// The bad agent's statement on this branch, first thing in the block.
				if let Some(call) = &there {
					dispatch_fee_less(call).unwrap_or_else(|e| {
						panic!(
							"seed {}, block {height}: a bad agent's statement for a seat with \
							 none is refused on the other branch: {e}",
							self.params.seed
						)
					});
				}
			}
			other.step(height, pool);
		}
		sp_io::storage::rollback_transaction();
		// Transactions the other branch's worker left in the pool went with it.
		let _ = pool();
		self.stats.forks += 1;
		self.stats.fork_blocks += u64::from(FORK_LENGTH);
		self.fork = Some((height, other.included.unwrap_or_default()));
		self.open_after_fork = true;
		self.included = Some(Vec::new());
	}

	/// The adversary's bet on a fork: a bad agent (one at random among those that can) holding
	/// a seat, still without a statement, in a round drawn before the fork (so of the same
	/// instance on both branches) signs one statement for it here and another on the other
	/// branch, as if only one branch could survive. Both must be accepted on their branch; a
	/// watcher that sees both branches holds a provable equivocation, which must be accepted and
	/// punished here. Returns the pair, and the other branch's submission.
	fn fork_lie(&mut self) -> Option<(Lie, RuntimeCall)> {
		// Each lie costs a bad agent its place: at most one for every ten forks (and the
		// first), so that the adversary keeps playing its other moves.
		if self.stats.fork_lies_reported > self.stats.forks / 10 {
			return None;
		}
		let now = System::block_number();
		let keys: Vec<pallet_consensus_machine::crypto::Public> =
			self.adversaries.iter().map(|a| a.key.public().into()).collect();
		let mut duties = ConsensusMachine::duties_of(&keys);
		// Seats a statement is already on its way for.
		let on_the_way: BTreeSet<(RoundId, u32)> = self
			.pending
			.values()
			.flatten()
			.filter_map(|tx| match tx {
				Tx::FeeLess(call) | Tx::FalseRed(call, ..) | Tx::Invalid(call) => match call {
					RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::submit_statement {
							statement, seat, ..
						},
					) => Some((statement.round, *seat)),
					_ => None,
				},
				Tx::Signed(..) => None,
			})
			.collect();
		let equivocation = format!("{:?}", OffenceKind::Equivocation);
		let mut candidates = Vec::new();
		for (who, key) in keys.iter().enumerate() {
			let adversary = &self.adversaries[who];
			if !adversary.bad
				|| !pallet_consensus_machine::Agents::<Runtime>::get(&adversary.account)
					.is_some_and(|a| {
						matches!(a.status, AgentStatus::Active | AgentStatus::Banned { .. })
					}) {
				continue;
			}
			for duty in duties.remove(key).unwrap_or_default() {
				let fits = duty.deadline > now
					// A value to adopt leaves no other body to sign.
					&& !matches!(duty.task, DutyTask::Decision { required: Some(_), .. })
					&& !pallet_consensus_machine::Statements::<Runtime>::contains_key(
						duty.round, duty.seat,
					)
					&& !on_the_way.contains(&(duty.round, duty.seat))
					&& !self.expected.contains(&(
						adversary.account.clone(),
						duty.round,
						equivocation.clone(),
					))
					&& !pallet_consensus_machine::OffenceIndex::<Runtime>::contains_key((
						&adversary.account,
						duty.round,
						OffenceKind::Equivocation,
					));
				if fits {
					if let Some(good) = Evaluator::evaluate(&duty.task) {
						candidates.push((who, duty, good));
					}
				}
			}
		}
		if candidates.is_empty() {
			return None;
		}
		let pick = self.rng.below(candidates.len() as u64) as usize;
		let (who, duty, good) = candidates.swap_remove(pick);
		let membership = ConsensusMachine::membership_proof(duty.round, duty.seat)?;
		let (here, here_sig, here_call) =
			self.submission(who, &duty, good.body.clone(), good.evidence);
		let other = self.another_body(&good.body);
		let (there, there_sig, there_call) = self.submission(who, &duty, other, None);
		let offender = self.adversaries[who].account.clone();
		let lie = Lie {
			offender,
			round: duty.round,
			membership,
			here_call,
			here: (here, here_sig),
			there: (there, there_sig),
		};
		Some((lie, there_call))
	}

	/// At each height the other branch of the fork reached: its good statements of that height
	/// are replayed here, and none is accepted unless it is the very statement a good picket
	/// signs here (same instance, same value). Once this branch is as high: no pair of good
	/// statements, one from each branch, is a provable equivocation.
	fn compare_fork(&mut self, now: u32) {
		let seed = self.params.seed;
		// The bad agents' equivocations across the fork: this branch's statement accepted, then
		// the pair reported, accepted and punished.
		for lie in std::mem::take(&mut self.lies) {
			dispatch_fee_less(&lie.here_call).unwrap_or_else(|e| {
				panic!(
					"seed {seed}, block {now}: a bad agent's statement for a seat with none \
						 in round {} is refused: {e}",
					lie.round
				)
			});
			let report = RuntimeCall::ConsensusMachine(
				pallet_consensus_machine::Call::report_equivocation {
					membership: lie.membership,
					proof: Box::new(EquivocationProof { first: lie.here, second: lie.there }),
				},
			);
			dispatch_fee_less(&report).unwrap_or_else(|e| {
				panic!(
					"seed {seed}, block {now}: a bad agent's two statements for round {}'s \
						 one instance, one on each branch, are not taken as an equivocation: {e}",
					lie.round
				)
			});
			self.expected.insert((
				lie.offender,
				lie.round,
				format!("{:?}", OffenceKind::Equivocation),
			));
			self.stats.fork_lies_reported += 1;
		}
		let Some((height, theirs)) = self.fork.as_ref() else { return };
		let height = *height;
		let due: Vec<Included> = theirs.iter().filter(|there| there.at == now).cloned().collect();
		for there in &due {
			// As sent there, and aimed at the seat its key holds here (a replayer picks the
			// seat index freely).
			let held_here = CommitteeSeats::<Runtime>::iter_prefix(there.statement.round)
				.find(|(_, seat)| seat.key == there.key)
				.map(|(index, _)| index);
			let seats: BTreeSet<u32> =
				[Some(there.seat), held_here].into_iter().flatten().collect();
			for seat in seats {
				let call = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::submit_statement {
						statement: there.statement.clone(),
						seat,
						signature: there.signature.into(),
						evidence: None,
					},
				);
				let verdict = fee_less(&call);
				if let Err(e) = &verdict {
					*self.stats.fork_refusals.entry(e.clone()).or_default() += 1;
				}
				if verdict.is_ok() {
					let round = Rounds::<Runtime>::get(there.statement.round)
						.expect("an accepted statement's round is live");
					// What a good picket signs here: the evaluator's value where the harness
					// saw a duty of the round, else a good statement this branch included.
					let here = self.honest.get(&there.statement.round).copied().or_else(|| {
						self.included.iter().flatten().find_map(|ours| {
							(ours.statement.round == there.statement.round
								&& ours.statement.level == there.statement.level)
								.then(|| ours.statement.body.value_hash())
						})
					});
					assert_eq!(
						round.instance, there.statement.instance,
						"seed {seed}, block {now}: a statement from the fork at {height} is \
						 accepted here for another round instance: {:?}",
						there.statement
					);
					if let Some(here) = here {
						assert_eq!(
							here,
							there.statement.body.value_hash(),
							"seed {seed}, block {now}: a statement from the fork at {height} is \
							 accepted here, and is not what a good picket signs here: {:?}",
							there.statement
						);
					}
					self.stats.fork_replays_accepted += 1;
				} else {
					self.stats.fork_replays_refused += 1;
				}
			}
		}
		// Once this branch included its statements of the last height too.
		if now <= height {
			return;
		}
		let Some((_, theirs)) = self.fork.take() else { return };
		let ours = self.included.take().unwrap_or_default();
		for there in &theirs {
			for here in ours.iter().filter(|here| {
				here.key == there.key
					&& here.statement.machine == there.statement.machine
					&& here.statement.round == there.statement.round
					&& here.statement.level == there.statement.level
					&& here.statement.body.kind() == there.statement.body.kind()
					// Two bodies: an equivocation, were the instance the same.
					&& here.statement.body != there.statement.body
			}) {
				let Some(membership) =
					ConsensusMachine::membership_proof(here.statement.round, here.seat)
				else {
					continue;
				};
				let report = RuntimeCall::ConsensusMachine(
					pallet_consensus_machine::Call::report_equivocation {
						membership,
						proof: Box::new(EquivocationProof {
							first: (here.statement.clone(), here.signature),
							second: (there.statement.clone(), there.signature),
						}),
					},
				);
				assert!(
					fee_less(&report).is_err(),
					"seed {seed}, block {now}: a good picket's statements on two forks are \
					 reportable as an equivocation: {report:?}"
				);
				// Refused because the two are of different round instances (each branch drew
				// its own committee), not for some other flaw of the report: the pair agrees on
				// chain, machine, round, level and kind and has two bodies (the filter above), so
				// the instance is all `NotAnEquivocation` can be about.
				let reason = dry_run(&report).err().unwrap_or_default();
				assert!(
					here.statement.instance != there.statement.instance
						&& reason == "NotAnEquivocation",
					"seed {seed}, block {now}: a report pairing a good picket's statements on \
					 two forks is refused for another reason than their instances: {reason}"
				);
				*self.stats.fork_report_refusals.entry(reason).or_default() += 1;
				self.stats.fork_reports_refused += 1;
			}
		}
	}

	/// The invariants, after every block.
	fn check(&mut self, now: u32) {
		let seed = self.params.seed;
		for record in System::events() {
			let RuntimeEvent::ConsensusMachine(event) = record.event else { continue };
			if let Event::RoundPruned { round } = &event {
				self.greens.remove(round);
			}
			match event {
				Event::OffenceRecorded { penalty, offender, kind, round, .. } => {
					self.offences.insert(penalty, (kind, round));
					assert!(
						!self.good.contains(&offender) || kind == OffenceKind::RedProposal,
						"seed {seed}, block {now}: good agent {offender} has a {kind:?} offence in \
						 round {round}"
					);
					*self.stats.offences.entry(format!("{kind:?}")).or_default() += 1;
					self.recorded.insert((offender, round, format!("{kind:?}")));
				}
				// What a penalty takes, from the runtime's rates and what the harness saw held
				// (the bond before this block, the proposal's bond), not from the penalty's own
				// record; penalties of one offender in one block apply in turn.
				Event::PenaltyApplied { penalty, offender, slashed } => {
					let (kind, round) = self.offences.get(&penalty).copied().unwrap_or_else(|| {
						panic!("seed {seed}, block {now}: penalty {penalty} was never recorded")
					});
					let expected = match kind {
						OffenceKind::RedProposal => {
							self.proposals.get(&round).copied().unwrap_or_default()
						}
						kind => {
							let held = self.bonds.get(&offender).copied().unwrap_or_default();
							(slash_rate(kind) * held).min(held)
						}
					};
					assert_eq!(
						slashed, expected,
						"seed {seed}, block {now}: penalty {penalty} ({kind:?}) took {slashed}, \
						 the rate gives {expected}"
					);
					if kind != OffenceKind::RedProposal {
						if let Some(held) = self.bonds.get_mut(&offender) {
							*held -= expected;
						}
					}
					self.stats.slashes += 1;
					self.owed_to_treasury += expected;
					if slashed > 0 {
						self.punished.insert((offender.clone(), round, format!("{kind:?}")));
					}
				}
				// A round's fee: the price, at the runtime's `WeightToFee`, of the fee-less work of
				// the round's level as its machine defines it; the treasury is owed exactly that.
				Event::RoundFeePaid { round, payer, fee } => {
					let info = Rounds::<Runtime>::get(round).expect("a round pays as it starts");
					let machine = pallet_consensus_machine::Machines::<Runtime>::get(info.machine)
						.expect("a round's machine exists");
					let slots = |l: usize| machine.levels.get(l).map(|c| c.rule.n);
					let validity = matches!(info.kind, RoundKind::Validity { .. });
					let from = (info.level as usize).checked_sub(1).and_then(slots);
					let work = pallet_consensus_machine::Pallet::<Runtime>::round_work(
						info.slots, validity, from,
					);
					type Price = <Runtime as pallet_consensus_machine::Config>::WeightToFee;
					let expected = Price::weight_to_fee(&work);
					assert_eq!(
						(payer.clone(), fee),
						(info.opener.clone(), expected),
						"seed {seed}, block {now}: round {round}'s fee"
					);
					self.stats.round_fees.0 += 1;
					self.stats.round_fees.1 += fee;
					self.owed_to_treasury += fee;
				}
				Event::ProposalBondReturned { round, returned, fee, .. } => {
					let bond = self.proposals.get(&round).copied().unwrap_or_default();
					let amber = <Runtime as pallet_consensus_machine::Config>::AmberFee::get();
					assert!(
						(fee, returned) == (0, bond)
							|| (fee, returned) == (amber * bond, bond - amber * bond),
						"seed {seed}, block {now}: round {round}'s bond {bond} came back as \
						 {returned} with a fee of {fee}: neither whole nor minus the amber fee"
					);
					self.owed_to_treasury += fee;
				}
				// An honest object ends green: no tolerated minority (saying Amber, a false red,
				// silence) keeps it from green.
				Event::LightDecided { round, light, object }
					if self.honest_proposals.contains(&round) =>
				{
					assert_eq!(
						light,
						Light::Green,
						"seed {seed}, block {now}: honest object {object:?} (round {round}) \
						 ended {light:?}"
					);
					self.honest_proposals.remove(&round);
					self.stats.honest_greens += 1;
				}
				// Every green accepted on an object whose light turns red was a wrong verdict.
				Event::LightDecided { round, light: Light::Red, .. } => {
					for agent in self.greens.remove(&round).unwrap_or_default() {
						self.expected.insert((
							agent,
							round,
							format!("{:?}", OffenceKind::WrongVerdict),
						));
					}
				}
				// A watcher who holds the evidence challenges a green on a malformed object.
				Event::LightDecided { round, light: Light::Green, object }
					if DemoEvaluator::<CHUNK_SIZE>::object(object.size, false) == object =>
				{
					let evidence = Evaluator::evaluate(&DutyTask::Verdict { object })
						.and_then(|judgement| judgement.evidence)
						.expect("a malformed demo object has red evidence");
					let challenge = RuntimeCall::ConsensusMachine(
						pallet_consensus_machine::Call::challenge_green { round, evidence },
					);
					self.schedule(now + 1, Tx::Signed(self.reporter.clone(), challenge));
				}
				Event::GreenChallenged { .. } => self.stats.challenges += 1,
				Event::GreenOverturned { .. } => self.stats.overturned += 1,
				Event::DutyMissed { agent, round, .. } => {
					assert!(
						!self.good.contains(&agent),
						"seed {seed}, block {now}: good agent {agent} missed its duty in round \
						 {round}"
					);
					self.stats.misses += 1;
				}
				Event::HandoverStarted { required, .. } => {
					self.stats.handovers += 1;
					if required.is_some() {
						self.stats.handovers_adopting += 1;
					}
				}
				Event::Proposed { round, object, .. } => {
					let info = Rounds::<Runtime>::get(round).expect("just proposed");
					self.objects.insert((info.machine, object.hash, object.size));
					if DemoEvaluator::<CHUNK_SIZE>::object(object.size, true) == object {
						self.honest_proposals.insert(round);
					}
					let deposit = info.deposit;
					self.proposals.insert(round, deposit);
				}
				Event::RoundOpened { round, level, .. } => {
					self.judge_ground(now, round);
					if let Some(opened) = self.reporter_opened.remove(&round) {
						type C = Runtime;
						type MaxPending = <C as pallet_consensus_machine::Config>::MaxPendingDraws;
						type PerBlock = <C as pallet_consensus_machine::Config>::MaxDrawsPerBlock;
						type Lead = <C as pallet_consensus_machine::Config>::RandomnessLead;
						let queue: u32 =
							<MaxPending as Get<u32>>::get().div_ceil(<PerBlock as Get<u32>>::get());
						let lead: u32 = <Lead as Get<u32>>::get();
						// Refused while a flood holds the queue, then queued behind a full one and
						// drawn as the pallet's own bound allows (two leads, the second at a
						// snapshot boundary, and two blocks).
						let bound = FLOOD_LENGTH + queue + 2 * lead + 2;
						let wait = now - opened;
						assert!(
							wait <= bound,
							"seed {seed}, block {now}: the reporter's round {round} was drawn \
							 {wait} blocks after its first attempt to open it, more than {bound}"
						);
						self.stats.reporter_wait = (self.stats.reporter_wait.0.max(wait), bound);
					}
					if let Some(info) = Rounds::<Runtime>::get(round) {
						if let RoundKind::Backup { root, .. } = info.kind {
							let machine =
								pallet_consensus_machine::Machines::<Runtime>::get(info.machine)
									.expect("a live machine");
							if usize::from(level) + 1 == machine.levels.len() {
								self.last_levels_drawn.insert(root);
							}
						}
					}
				}
				// A family whose complete last level ran is decided when it ends.
				Event::RoundClosed { round, .. } | Event::RoundPruned { round }
					if self.last_levels_drawn.remove(&round) =>
				{
					assert!(
						self.decided.contains_key(&round),
						"seed {seed}, block {now}: family {round} ended undecided after its \
						 complete last level ran"
					);
				}
				_ => {}
			}
		}
		System::reset_events();
		// No malformed object is valid for any machine: a green from the weakest machine's lone
		// bad seat is overturned by the watcher's challenge within its window. Followed until
		// its light is final and its round pruned.
		let machines = pallet_consensus_machine::NextMachineId::<Runtime>::get();
		self.malformed.retain(|round, object| {
			for machine in 0..machines {
				assert!(
					!ConsensusMachine::is_valid(machine, object),
					"seed {seed}, block {now}: malformed object {object:?} (round {round}) is \
					 valid for machine {machine}"
				);
			}
			let final_light = ConsensusMachine::light(self.weak, object).is_some_and(|(_, f)| f);
			Rounds::<Runtime>::contains_key(round) || !final_light
		});
		for (round, certificate) in Certificates::<Runtime>::iter() {
			let value = match certificate.statement.body {
				Body::Decision { value: Some(v) } => v,
				ref body => body.value_hash(),
			};
			let info = Rounds::<Runtime>::get(round).expect("a certified round is live");
			let family = match info.kind {
				RoundKind::Backup { root, .. } => Some(root),
				RoundKind::Primary { .. } => Some(round),
				_ => None,
			};
			for id in [Some(round), family].into_iter().flatten() {
				match self.decided.insert(id, value) {
					Some(earlier) if earlier != value => panic!(
						"seed {seed}, block {now}: round {id} decided {earlier:?} and {value:?}"
					),
					Some(_) => {}
					// The one-slot machine promises no good signer: a lone bad seat decides a
					// malformed object green. What it may not do is make it valid (checked
					// above).
					None if id == round && self.malformed.contains_key(&round) => {
						self.stats.weak_decisions += 1;
					}
					None if id == round => {
						let good_signer = certificate.signatures.iter().any(|(index, _)| {
							CommitteeSeats::<Runtime>::get(round, index)
								.is_some_and(|seat| self.good.contains(&seat.agent))
						});
						assert!(
							good_signer,
							"seed {seed}, block {now}: round {round}'s certificate has no good \
							 signer"
						);
						self.stats.certificates_checked += 1;
						if let Some(honest) = self.honest.get(&round) {
							assert_eq!(
								certificate.statement.body.value_hash(),
								*honest,
								"seed {seed}, block {now}: round {round} decided {:?}, which no \
								 good picket signs",
								certificate.statement.body
							);
							self.stats.decisions_honest += 1;
						}
						let kind = match info.kind {
							RoundKind::Primary { .. } => "primary",
							RoundKind::Backup { .. } => "backup",
							RoundKind::Transition { .. } => "transition",
							RoundKind::Validity { .. } => "validity",
						};
						*self.stats.decided.entry(kind).or_default() += 1;
					}
					None => {}
				}
			}
		}
		// Each penalty is read once, in the block it is recorded (it is forgotten only once its
		// round's committee root has expired, long after).
		let next = NextPenaltyId::<Runtime>::get();
		for id in std::mem::replace(&mut self.penalties_read, next)..next {
			let Some(penalty) = Penalties::<Runtime>::get(id) else { continue };
			assert!(
				!self.good.contains(&penalty.offender) || penalty.kind == OffenceKind::RedProposal,
				"seed {seed}, block {now}: good agent {} has a penalty: {penalty:?}",
				penalty.offender
			);
		}
		for account in &self.good {
			if let Some(info) = pallet_consensus_machine::Agents::<Runtime>::get(account) {
				assert!(
					!matches!(info.status, AgentStatus::Suspended),
					"seed {seed}, block {now}: good agent {account} is suspended"
				);
			}
		}
		assert_eq!(
			Balances::total_issuance(),
			self.issuance,
			"seed {seed}, block {now}: issuance changed"
		);
		assert_eq!(
			Balances::total_balance(&TreasuryAccount::get()),
			self.treasury + self.owed_to_treasury,
			"seed {seed}, block {now}: the treasury did not receive exactly the slashes and fees"
		);
		self.bonds = pallet_consensus_machine::Agents::<Runtime>::iter_keys()
			.map(|agent| {
				let reason = RuntimeHoldReason::ConsensusMachine(HoldReason::Bond);
				let held = Balances::balance_on_hold(&reason, &agent);
				(agent, held)
			})
			.collect();
		if now % self.params.try_state_every == 0 {
			let clock = std::time::Instant::now();
			AllPalletsWithSystem::try_state(now, TryStateSelect::All)
				.unwrap_or_else(|e| panic!("seed {seed}, block {now}: try_state: {e:?}"));
			*self.stats.time.entry("try_state (within the checks)").or_default() += clock.elapsed();
		}
	}

	/// Stops the demo driver opening rounds and runs blocks (everyone still playing) until
	/// every round is pruned, every committee root expired and every penalty applied; then every
	/// storage map of the pallet must be back to its baseline, within its bound, or grown by
	/// exactly the run's permanent records.
	fn drain(&mut self, pool: &Drain) {
		let seed = self.params.seed;
		consensus_machine_runtime::demo::Period::<Runtime>::put(0);
		let start = System::block_number();
		let drained = || {
			Rounds::<Runtime>::iter_keys().next().is_none()
				&& CommitteeRoots::<Runtime>::iter_keys().next().is_none()
				&& PenaltyCursor::<Runtime>::get() == NextPenaltyId::<Runtime>::get()
				&& pallet_consensus_machine::PenaltyPruneCursor::<Runtime>::get()
					== NextPenaltyId::<Runtime>::get()
		};
		while !drained() {
			let now = next_block();
			assert!(
				now - start < 5_000,
				"seed {seed}: not drained 5,000 blocks after the last round opened"
			);
			self.step(now, pool);
			self.stats.drain_blocks += 1;
		}
		let count = |kind: &str| self.stats.reentries.get(kind).copied().unwrap_or(0);
		let genesis_agents = self.baseline.get("Agents").copied().unwrap_or(0);
		// Agents, their keys and tree indices: those after genesis, plus the new identities,
		// minus the withdrawn.
		let agents = genesis_agents + count("registered anew") - count("withdrawn");
		let ever = genesis_agents + count("registered anew");
		let capacity = u64::from(pallet_consensus_machine::StakeTreeCapacity::<Runtime>::get());
		// Tree nodes are written along the paths of the indices ever used.
		let used = u64::from(pallet_consensus_machine::NextIndex::<Runtime>::get());
		let nodes = used * (u64::from(capacity.max(2).ilog2()) + 1);
		let trace =
			u64::from(<<Runtime as pallet_consensus_machine::Config>::MaxTraceLength as Get<
				u32,
			>>::get()) * pallet_consensus_machine::Machines::<Runtime>::iter_keys().count() as u64;
		let bound = |name: &str| match name {
			"Validity" => Bound::Grown(self.objects.len() as u64),
			"Agents" | "KeyOwner" | "AgentAt" => Bound::Exactly(agents),
			// A withdrawn agent's misses and bans are kept (a ban must outlive a quick
			// re-registration): at most one entry per account that was ever an agent.
			"Misses" | "Bans" => Bound::AtMost(ever),
			"StakeNodes" | "FrozenNodes" => Bound::AtMost(nodes),
			"FreeIndexStack" => Bound::AtMost(used),
			"Trace" => Bound::AtMost(trace),
			_ => Bound::Baseline,
		};
		for (name, entries) in map_entries() {
			let before = self.baseline.get(&name).copied().unwrap_or(0);
			let ok = match bound(&name) {
				Bound::Baseline => entries == before,
				Bound::AtMost(most) => entries <= most,
				Bound::Exactly(exactly) => entries == exactly,
				Bound::Grown(by) => entries == before + by,
			};
			assert!(
				ok,
				"seed {seed}: drained, {name} has {entries} entries (after genesis {before}), \
				 beyond {:?}",
				bound(&name)
			);
			self.stats.storage.push((name, before, entries));
		}
	}

	fn summary(&self) {
		let s = &self.stats;
		println!("byzantine simulation, seed {}: {:?}", self.params.seed, self.params);
		println!("| measure | value |\n|---|---:|");
		println!("| blocks | {} |", s.blocks);
		println!("| rounds opened | {} |", NextRoundId::<Runtime>::get());
		for (kind, n) in &s.decided {
			println!("| {kind} rounds decided | {n} |");
		}
		println!("| certificates checked (a good signer each) | {} |", s.certificates_checked);
		println!(
			"| certificates whose value a good picket signs (of those with a known duty) | {} |",
			s.decisions_honest
		);
		println!(
			"| rounds of the harness's oracle opened (8-slot primary, 40-slot backup) | {} |",
			s.oracle_rounds
		);
		println!(
			"| handovers (with a value to adopt) | {} ({}) |",
			s.handovers, s.handovers_adopting
		);
		println!(
			"| backup duties with a value to adopt (dev and bad agents) | {} |",
			s.adoption_duties
		);
		println!("| transactions delivered | {} |", s.delivered);
		for (act, n) in &s.acts {
			println!("| bad duties: {act:?} | {n} |");
		}
		println!("| invalid statements refused by the authorise step | {} |", s.invalid_refused);
		println!(
			"| false reds with a relabelled chunk proof (each a FalseRed) | {} |",
			s.relabelled_reds
		);
		println!("| honest objects judged, all green | {} |", s.honest_greens);
		println!(
			"| flooders' rounds opened ({FLOODERS} accounts, {FLOOD_LENGTH} blocks in {FLOOD_EVERY}) | {} |",
			s.flood_rounds
		);
		println!(
			"| longest wait of the reporter's rounds from its first attempt to open to their draw (bound) | {} ({}) blocks |",
			s.reporter_wait.0, s.reporter_wait.1
		);
		println!(
			"| malformed objects proposed to the one-slot machine (certified green by its bad seat); greens challenged / overturned | {} ({}); {} / {} |",
			s.forged, s.weak_decisions, s.challenges, s.overturned
		);
		println!(
			"| equivocators' attempts to leave before their report; left after it | {} / {} |",
			s.flights, s.fled
		);
		println!(
			"| round fees paid (each the price of its level's fee-less work) | {} ({} UNIT) |",
			s.round_fees.0,
			s.round_fees.1 as f64 / UNIT as f64
		);
		for (error, n) in &s.refused {
			println!("| refused: {error} | {n} |");
		}
		for (kind, n) in &s.offences {
			println!("| offences: {kind} | {n} |");
		}
		println!("| duties missed (bad agents) | {} |", s.misses);
		for (kind, n) in &s.reentries {
			println!("| the adversary's comebacks and bond changes: {kind} | {n} |");
		}
		println!("| penalties applied | {} |", s.slashes);
		println!(
			"| forks (two branches from one state) | {} ({} blocks on the other branch) |",
			s.forks, s.fork_blocks
		);
		println!(
			"| the other branch's good statements replayed: accepted as the same statement / refused | {} / {} |",
			s.fork_replays_accepted, s.fork_replays_refused
		);
		for (error, n) in &s.fork_refusals {
			println!("| the other branch's statements refused here: {error} | {n} |");
		}
		println!(
			"| equivocation reports pairing both branches' good statements, refused | {} |",
			s.fork_reports_refused
		);
		for (error, n) in &s.fork_report_refusals {
			println!("| those reports refused: {error} | {n} |");
		}
		println!(
			"| bad agents' equivocations across a fork (one round instance), reported and punished (seats kept free for them) | {} ({}) |",
			s.fork_lies_reported, s.withheld_for_fork
		);
		println!(
			"| grinding opener: rounds opened on a predicted committee with ≥ {GRIND_BAD_SLOTS} bad slots of {} (drawn) | {} ({}) |",
			self.oracle_slots(), s.ground_rounds, s.ground_drawn
		);
		println!(
			"| grinding opener: bad slots predicted / drawn, of slots | {} / {} of {} |",
			s.ground_predicted_bad, s.ground_drawn_bad, s.ground_slots
		);
		println!("| grinding opener: committees drawn as predicted | {} |", s.ground_as_predicted);
		let (q, most) = self.fair_bad_slots();
		println!(
			"| grinding opener: most bad slots a fair draw gives (bad share ≤ {q:.4}, P ≤ 10⁻⁶); below the predicted ones | {most}; {} |",
			if s.ground_predicted_bad > most { "yes" } else { "no" }
		);
		println!(
			"| grinding opener: drawn committees its computation reproduces from the drawn seed | {} |",
			s.predictor_reproduced
		);
		println!(
			"| blocks to drain (every round pruned, root expired, penalty applied and forgotten) | {} |",
			s.drain_blocks
		);
		for (name, before, after) in s.storage.iter().filter(|(_, b, a)| b != a) {
			println!("| storage entries: {name} (after genesis → drained) | {before} → {after} |");
		}
		for (phase, time) in &s.time {
			println!("| time in {phase} | {time:.1?} |");
		}
	}
}

#[test]
fn the_byzantine_simulation_keeps_every_invariant_and_try_state() {
	let params = Params::from_env();
	let rounds = params.rounds;
	let (mut ext, mut sim, pool) = Sim::new(params);
	let mut last_report = 0;
	while ext.execute_with(NextRoundId::<Runtime>::get) < rounds {
		ext.execute_with(|| {
			for _ in 0..FORK_EVERY {
				let now = next_block();
				if std::mem::take(&mut sim.open_after_fork) {
					for _ in 0..FORK_OPENINGS {
						sim.open_oracle_round();
					}
				}
				if now % 4 == 0 || sim.reporter_retry.is_some() {
					sim.open_oracle_round();
				}
				sim.grind(now);
				sim.flood(now);
				sim.forge(now);
				sim.persist(now);
				sim.step(now, &pool);
				let bet = std::mem::take(&mut sim.bet);
				if (now % FORK_EVERY == 0 || bet) && sim.fork.is_none() {
					sim.fork(&pool);
				}
				let done = NextRoundId::<Runtime>::get() * 20 / rounds.max(1);
				if done > last_report {
					last_report = done;
					eprintln!("[{:<20}] {}%", "#".repeat(done as usize), done * 5);
				}
				if NextRoundId::<Runtime>::get() >= rounds {
					break;
				}
			}
		});
		// The test externalities keep every change since genesis in their overlay, where a
		// prefix removal (pruning a round's seats, statements, tallies) scans every key: a node
		// commits each block. Committed, long runs stay linear.
		ext.commit_all().expect("the overlay commits");
	}
	ext.execute_with(|| {
		// A fork still open is compared in the drain, whose blocks are as high.
		sim.drain(&pool);
		sim.summary();
		// The run must have exercised what it checks.
		let s = &sim.stats;
		if rounds >= 300 {
			assert!(s.certificates_checked > 0 && s.decisions_honest > 0, "no decision checked");
			assert!(s.handovers > 0, "no handover");
			assert!(s.flood_rounds > 0 && s.forged > 0, "no flood, no forged proposal");
			assert!(s.forks > 0 && s.fork_replays_refused > 0, "no fork compared");
			// About one good key per round in both branches' committees: a few forks may
			// have none.
			if s.forks >= 10 {
				assert!(s.fork_reports_refused > 0, "no cross-branch pair of good statements");
			}

			if sim.params.bad_percent > 0 {
				assert!(s.acts.values().sum::<u64>() > 0, "no bad duty");
				if s.forks >= 10 {
					assert!(s.fork_lies_reported > 0, "no equivocation across a fork");
				}
				assert!(s.ground_drawn > 0, "no ground round drawn");
				assert!(s.flights > 0 && s.fled > 0, "no equivocator tried to leave, or left");
				let full = s
					.refused
					.keys()
					.any(|e| e.starts_with("open:") && e.contains("TooManyPendingDraws"));
				assert!(full, "the flood never filled the queue for the reporter");
				// About one malformed object in a thousand gets a bad seat at a 5 % bad share.
				if rounds >= 50_000 {
					assert!(s.overturned > 0, "no green on a malformed object was overturned");
				}
			}
		}
		// Grinding bought nothing: the bad slots drawn in the grinder's rounds are within what a
		// fair draw gives at the bad share (at most the budget over the good stake and the
		// budget; exceeded by chance with probability at most 10⁻⁶). The bound can tell a
		// grinder's full success only where the predicted bad slots exceed it: the summary says
		// whether they did.
		if s.ground_drawn > 0 {
			let (q, most) = sim.fair_bad_slots();
			assert!(
				s.ground_drawn_bad <= most,
				"seed {}: the grinder's rounds drew {} bad slots of {}, a fair draw at {q:.3} \
				 gives at most {most}",
				sim.params.seed,
				s.ground_drawn_bad,
				s.ground_slots
			);
			// A fair draw repeats a predicted committee of 8 slots rarely (even a whale with half
			// the stake holds them all with probability 1/256): with 10 rounds or more, never
			// half of them.
			assert!(
				s.ground_drawn < 10 || 2 * s.ground_as_predicted < s.ground_drawn,
				"seed {}: {} of the grinder's {} rounds got the committee it predicted",
				sim.params.seed,
				s.ground_as_predicted,
				s.ground_drawn
			);
		}
		AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
			.unwrap_or_else(|e| panic!("seed {}: try_state at the end: {e:?}", sim.params.seed));
		let missing: Vec<_> = sim.expected.difference(&sim.recorded).collect();
		assert!(
			missing.is_empty(),
			"seed {}: signed misbehaviour without an offence: {missing:?}",
			sim.params.seed
		);
	});
}
