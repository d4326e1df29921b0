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

mod adversary;
#[path = "../chain/mod.rs"]
mod chain;
mod checks;
mod forks;
mod grinder;
mod oracle;

use adversary::*;
use chain::{development, next_block, next_block_on, vrf_output};
use checks::*;
use codec::{Decode, Encode};
use consensus_machine_demo::DemoEvaluator;
use consensus_machine_primitives::{
	light::{ChunkEvidence, Light, MerkleChunks, ObjectRef, Verdict},
	selection,
	statement::{possession_payload, Body, Hash, MachineId, RoundId, Statement},
	EpsilonArg, ProbabilityArg,
};
use consensus_machine_runtime::{
	configs::{TreasuryAccount, CHUNK_SIZE},
	genesis_config_presets::{agent_account, picket_seed, DEV_AGENTS},
	AccountId, AllPalletsWithSystem, Balance, Balances, ConsensusMachine, Pickets, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, System, UncheckedExtrinsic, UNIT,
};
use forks::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{
		fungible::{Inspect, InspectHold, Mutate},
		tokens::{Fortitude, Preservation},
		Authorize, Get, Hooks, StorageInfoTrait, TryState, TryStateSelect, UnfilteredDispatchable,
	},
	weights::{Weight, WeightToFee},
};
use grinder::*;
use pallet_consensus_machine::{
	crypto::KEY_TYPE,
	offchain::Evaluate,
	types::{Duty, DutyTask, EquivocationProof, LevelSpec, OffenceKind, RoundKind, SeatProof},
	Certificates, CommitteeRoots, Event, NextRoundId, Rounds,
};
use pallet_pickets::{
	types::AgentStatus, Event as PicketsEvent, NextPenaltyId, Penalties, PenaltyCursor, TotalStake,
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

fn account_of(pair: &sr25519::Pair) -> AccountId {
	sp_runtime::MultiSigner::from(pair.public()).into_account()
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

impl Sim {
	/// The chain, the agents and their roles.
	fn new(params: Params) -> (sp_io::TestExternalities, Self, Drain) {
		let mut rng = Rng(params.seed);
		let mut ext = development();
		let (dev_stake, dev_agents) = ext.execute_with(|| {
			let agents: Vec<AccountId> = pallet_pickets::Agents::<Runtime>::iter_keys().collect();
			(TotalStake::<Runtime>::get(), agents)
		});
		let min_bond: Balance = <Runtime as pallet_pickets::Config>::MinBond::get();
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
				let register = RuntimeCall::Pickets(pallet_pickets::Call::register {
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

	/// One block: the hooks, the good pickets' worker, the adversary, delivery and the checks.
	fn step(&mut self, now: u32, pool: &Drain) {
		let mut clock = std::time::Instant::now();
		let mut lap = |sim: &mut Sim, phase: &'static str| {
			*sim.stats.time.entry(phase).or_default() += clock.elapsed();
			clock = std::time::Instant::now();
		};
		ConsensusMachine::on_idle(now, Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
		Pickets::on_idle(now, Weight::from_parts(u64::MAX / 2, u64::MAX / 2));
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
				&& pallet_pickets::PenaltyPruneCursor::<Runtime>::get()
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
		let height = u64::from(pallet_pickets::StakeTreeHeight::<Runtime>::get());
		// Tree pages are written along the paths of the indices ever used: one per level each.
		let used = u64::from(pallet_pickets::NextIndex::<Runtime>::get());
		let pages = used * height;
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
			"StakePages" => Bound::AtMost(pages),
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
