//! Hostile calls from a client, against the real node.
//!
//! A quiet dev chain (the dev chain spec with the demo driver switched off and no local
//! pickets, so that nothing but this test touches the pallet's storage) receives a table of
//! bad calls, built and signed as any client builds them: SCALE-encoded extrinsics over
//! JSON-RPC (`author_submitExtrinsic`). Signed calls that fail in dispatch, sudo calls whose
//! inner call fails, and fee-less statements the pool refuses. For each, the test checks the
//! exact answer the client gets (the pool's `1010 Invalid Transaction` data, or the error of
//! the `ExtrinsicFailed` or `Sudid` event of the block that included it), and that the Merkle
//! root of the pallet's storage is the same before and after. At the end, the node's log must
//! hold no error-level line and no trap. The test prints the table (Markdown) that
//! `SECURITY.md` shows.
//!
//! Ignored by plain `cargo test` (it needs the node binary): `scripts/e2e.sh` builds the node
//! and runs it.

mod support;

use codec::{Decode, Encode};
use consensus_machine_primitives::{
	light::Verdict,
	membership::MAX_PATH,
	statement::{possession_payload, Body, RoundId, Statement},
	stochastic::{EpsilonArg, ProbabilityArg},
};
use consensus_machine_runtime::{
	genesis_config_presets::picket_seed, AccountId, BlockNumber, Hash, Runtime, RuntimeCall,
	RuntimeEvent, SignedPayload, TxExtension, UncheckedExtrinsic, UNIT,
};
use frame_support::traits::Get;
use frame_system::{offchain::CreateAuthorizedTransaction, Phase};
use pallet_consensus_machine::{
	types::{Duty, DutyTask, EquivocationProof, LevelSpec, MAX_LEVELS},
	Call as CmCall, Error, Event,
};
use pallet_pickets::{Call as PicketsCall, Error as PicketsError};
use sp_core::{sr25519, Pair};
use sp_runtime::{
	generic::Era,
	traits::{IdentifyAccount, Verify},
	DispatchError, ModuleError, MultiSignature,
};
use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};
use support::{free_port, node_binary, Node};

/// The dev chain's notary log (a unitary machine of 28 slots, timeout 10 blocks).
const NOTARY: u32 = 0;
/// The dev chain's hierarchical oracle (a 6-slot primary: not complete, so it judges no object).
const ORACLE: u32 = 1;
/// Dev agents bonded at genesis.
const DEV_AGENTS: u32 = 20;
/// The dev runtime's bounds.
type MaxEvidenceLen = <Runtime as pallet_consensus_machine::Config>::MaxEvidenceLen;
type MaxCommittee = <Runtime as pallet_consensus_machine::Config>::MaxCommittee;

/// What a client gets back for one submission.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
	/// The pool refused it: `1010 Invalid Transaction`, with this data.
	Refused(String),
	/// Included; failed with this error (`System::ExtrinsicFailed`).
	Failed(DispatchError),
	/// Included; sudo dispatched the inner call, which failed with this error (`Sudo::Sudid`).
	SudoFailed(DispatchError),
	/// Included and succeeded.
	Succeeded,
	/// Anything else: another RPC error, or not included in time.
	Other(String),
}

impl std::fmt::Display for Outcome {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		let name = |e: &DispatchError| match e {
			DispatchError::Module(ModuleError { index, message: Some(m), .. }) => {
				use frame_support::traits::PalletInfoAccess;
				let pickets = consensus_machine_runtime::Pickets::index();
				let pallet =
					if usize::from(*index) == pickets { "Pickets" } else { "ConsensusMachine" };
				format!("{pallet}::{m}")
			}
			other => format!("{other:?}"),
		};
		match self {
			Outcome::Refused(data) => {
				write!(f, "pool: `1010 Invalid Transaction`, `{data}`")?;
				// A custom code is the index of the pallet error the authorise step returned.
				let code = data.strip_prefix("Custom error: ").and_then(|c| c.parse::<u8>().ok());
				match code.and_then(|c| Error::<Runtime>::decode(&mut &[c][..]).ok()) {
					Some(error) => write!(f, " (`{error:?}`)"),
					None => Ok(()),
				}
			}
			Outcome::Failed(e) => write!(f, "`ExtrinsicFailed`: `{}`", name(e)),
			Outcome::SudoFailed(e) => write!(f, "`Sudid`: `{}`", name(e)),
			Outcome::Succeeded => write!(f, "succeeded"),
			Outcome::Other(what) => write!(f, "{what}"),
		}
	}
}

/// A pallet error as a client decodes it from an event.
fn module(error: Error<Runtime>) -> DispatchError {
	error.into()
}

/// The pool's answer to a fee-less call its authorise step refuses with `error`.
fn custom(error: Error<Runtime>) -> Outcome {
	Outcome::Refused(format!("Custom error: {}", error.encode()[0]))
}

const BAD_SIGNATURE: &str = "Transaction has a bad signature";
const OUTDATED: &str = "Transaction is outdated";

fn pair(seed: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(seed, None).expect("dev seeds are valid")
}

fn account(pair: &sr25519::Pair) -> AccountId {
	<MultiSignature as Verify>::Signer::from(pair.public()).into_account()
}

/// One hostile input: what it is, the extrinsic, and what the client must get.
struct Case {
	input: String,
	extrinsic: Vec<u8>,
	expected: Outcome,
}

/// The node and what a client needs to sign for it.
struct Client {
	node: Node,
	genesis: Hash,
	versions: (u32, u32),
	nonces: BTreeMap<AccountId, u32>,
}

impl Client {
	/// A signed extrinsic, as a wallet builds it (immortal, no tip).
	fn signed(&mut self, who: &sr25519::Pair, call: RuntimeCall) -> Vec<u8> {
		let id = account(who);
		let nonce = match self.nonces.get(&id) {
			Some(n) => *n,
			None => self.node.next_nonce(&id),
		};
		self.nonces.insert(id.clone(), nonce + 1);
		let extension: TxExtension = (
			frame_system::AuthorizeCall::new(),
			frame_system::CheckNonZeroSender::new(),
			frame_system::CheckSpecVersion::new(),
			frame_system::CheckTxVersion::new(),
			frame_system::CheckGenesis::new(),
			frame_system::CheckEra::from(Era::Immortal),
			frame_system::CheckNonce::from(nonce),
			frame_system::CheckWeight::new(),
			pallet_transaction_payment::ChargeTransactionPayment::from(0),
			frame_system::WeightReclaim::new(),
		);
		let (spec, tx) = self.versions;
		let implicit = ((), (), spec, tx, self.genesis, self.genesis, (), (), (), ());
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| who.sign(bytes));
		UncheckedExtrinsic::new_signed(call, id.into(), signature.into(), extension).encode()
	}

	/// A fee-less extrinsic, as the node's pickets build them.
	fn fee_less(&self, call: RuntimeCall) -> Vec<u8> {
		let extension = <Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_extension();
		UncheckedExtrinsic::new_transaction(call, extension).encode()
	}

	/// Submits every case, waits (bounded) until those the pool took are in a block, and
	/// returns each one's outcome.
	fn submit_all(&mut self, cases: &[Case]) -> Vec<Outcome> {
		let from = self.node.best_number();
		let mut outcomes = Vec::new();
		let mut pending = BTreeMap::new();
		for (i, case) in cases.iter().enumerate() {
			outcomes.push(match self.node.submit(&case.extrinsic) {
				Ok(hash) => {
					pending.insert(hash, i);
					Outcome::Other("not included in time".into())
				}
				Err(e) if e["code"] == 1010 => {
					Outcome::Refused(e["data"].as_str().unwrap_or_default().into())
				}
				Err(e) => Outcome::Other(format!("RPC error {e}")),
			});
		}
		let deadline = Instant::now() + Duration::from_secs(120);
		let mut next = from + 1;
		while !pending.is_empty() && Instant::now() < deadline {
			while next <= self.node.best_number() {
				let at = self.node.block_hash(next).expect("a best block");
				let records = self.node.event_records(at);
				for (index, xt) in self.node.extrinsics(at).iter().enumerate() {
					let Some(i) = pending.remove(&Hash::from(sp_io::hashing::blake2_256(xt)))
					else {
						continue;
					};
					outcomes[i] = Outcome::Succeeded;
					let phase = Phase::ApplyExtrinsic(index as u32);
					for record in records.iter().filter(|r| r.phase == phase) {
						match &record.event {
							RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
								dispatch_error,
								..
							}) => outcomes[i] = Outcome::Failed(*dispatch_error),
							RuntimeEvent::Sudo(pallet_sudo::Event::Sudid {
								sudo_result: Err(e),
							}) => outcomes[i] = Outcome::SudoFailed(*e),
							_ => {}
						}
					}
				}
				next += 1;
			}
			std::thread::sleep(Duration::from_millis(500));
		}
		outcomes
	}

	/// Waits (bounded) for block `n` and returns its hash.
	fn wait_for_block(&self, n: BlockNumber) -> Hash {
		let deadline = Instant::now() + Duration::from_secs(180);
		loop {
			if self.node.best_number() >= n {
				return self.node.block_hash(n).expect("a best block");
			}
			if Instant::now() > deadline {
				self.node.fail(&format!("block {n} did not come"));
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}

	/// The Merkle root of the two pallets' storage (the machines' and the registry's) at block
	/// `at`.
	fn pallet_root(&self, at: Hash) -> Hash {
		let mut entries = self.node.pallet_storage("ConsensusMachine", at);
		assert!(!entries.is_empty(), "the machines pallet has storage (machines)");
		let registry = self.node.pallet_storage("Pickets", at);
		assert!(!registry.is_empty(), "the registry has storage (agents)");
		entries.extend(registry);
		sp_io::trie::blake2_256_root(entries, sp_runtime::StateVersion::V1)
	}

	/// Submits `cases`, checks each outcome, and checks the pallet's storage root at every
	/// block from the best one before the submission to the one after the last inclusion.
	/// Returns the table rows and the root.
	fn attack(&mut self, cases: Vec<Case>) -> (Vec<(String, Outcome)>, Hash) {
		let before = self.node.best_number();
		let root = self.pallet_root(self.wait_for_block(before));
		let outcomes = self.submit_all(&cases);
		let after = self.node.best_number() + 1;
		self.wait_for_block(after);
		for n in before..=after {
			let at = self.node.block_hash(n).expect("a best block");
			assert_eq!(self.pallet_root(at), root, "the pallet's storage changed at block {n}");
		}
		let mut wrong = Vec::new();
		for (case, outcome) in cases.iter().zip(&outcomes) {
			if *outcome != case.expected {
				wrong.push(format!("{}: got {outcome}, expected {}", case.input, case.expected));
			}
		}
		if !wrong.is_empty() {
			self.node.fail(&format!("wrong answers:\n{}", wrong.join("\n")));
		}
		println!("blocks {before}..={after}: {} hostile calls, pallet root {root:?}", cases.len());
		(cases.into_iter().map(|c| (c.input, c.expected)).collect(), root)
	}

	/// Submits one signed call that must succeed, and returns the events of its block.
	fn must_succeed(&mut self, who: &sr25519::Pair, call: RuntimeCall) -> Vec<RuntimeEvent> {
		let extrinsic = self.signed(who, call);
		let hash = self.node.submit(&extrinsic).unwrap_or_else(|e| self.node.fail(&e.to_string()));
		let from = self.node.best_number();
		for n in from + 1..from + 10 {
			let at = self.wait_for_block(n);
			let xts = self.node.extrinsics(at);
			let found =
				xts.iter().position(|xt| Hash::from(sp_io::hashing::blake2_256(xt)) == hash);
			if let Some(index) = found {
				let phase = Phase::ApplyExtrinsic(index as u32);
				let records = self.node.event_records(at);
				let failed = records.iter().any(|r| {
					r.phase == phase
						&& matches!(
							r.event,
							RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. })
						)
				});
				if failed {
					self.node.fail("a set-up call failed");
				}
				return records.into_iter().map(|r| r.event).collect();
			}
		}
		self.node.fail("a set-up call was not included")
	}
}

fn cm(call: CmCall<Runtime>) -> RuntimeCall {
	RuntimeCall::ConsensusMachine(call)
}

fn sudo(call: impl Into<RuntimeCall>) -> RuntimeCall {
	RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call.into()) })
}

fn pickets(call: PicketsCall<Runtime>) -> RuntimeCall {
	RuntimeCall::Pickets(call)
}

/// `create_machine` with the dev notary's arguments but for the given changes.
fn create_machine(
	slots: u32,
	p: (u32, u32),
	epsilon: (u128, u128),
	timeout: u32,
) -> CmCall<Runtime> {
	CmCall::create_machine {
		slots,
		p: ProbabilityArg { num: p.0, den: p.1 },
		epsilon: EpsilonArg { num: epsilon.0, den: epsilon.1 },
		timeout,
		round_deposit: UNIT,
		initial_state: [0; 32],
	}
}

/// The dev chain spec with the demo driver off, written where the node can read it.
fn quiet_chain_spec() -> std::path::PathBuf {
	let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("quiet-dev.json");
	let out = std::process::Command::new(node_binary())
		.args(["export-chain-spec", "--chain", "dev"])
		.output()
		.expect("the node exports its chain spec");
	assert!(out.status.success(), "export-chain-spec: {}", String::from_utf8_lossy(&out.stderr));
	let mut spec: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
	let patch = &mut spec["genesis"]["runtimeGenesis"]["patch"];
	assert!(patch["demoDriver"].is_object(), "the dev spec runs the demo driver");
	patch["demoDriver"]["period"] = 0.into();
	std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
	path
}

/// Governance with arguments out of range: from a plain account, then through sudo.
fn machine_cases(client: &mut Client, alice: &sr25519::Pair, bob: &sr25519::Pair) -> Vec<Case> {
	let bad_level = LevelSpec {
		slots: 6,
		p: ProbabilityArg { num: 1, den: 0 },
		epsilon: EpsilonArg { num: 1, den: 1_000_000 },
		timeout: 5,
	};
	let good_level = LevelSpec {
		slots: 40,
		p: ProbabilityArg { num: 1, den: 20 },
		epsilon: EpsilonArg { num: 1, den: 1_000_000 },
		timeout: 10,
	};
	vec![
		Case {
			input: "`create_machine` with `p = 3/2`, not from the machine origin".into(),
			extrinsic: client.signed(bob, cm(create_machine(12, (3, 2), (1, 1_000_000), 10))),
			expected: Outcome::Failed(DispatchError::BadOrigin),
		},
		Case {
			input: "`create_machine` with `p = 3/2` (sudo)".into(),
			extrinsic: client.signed(alice, sudo(create_machine(12, (3, 2), (1, 1_000_000), 10))),
			expected: Outcome::SudoFailed(module(Error::ProbabilityOutOfRange)),
		},
		Case {
			input: "`create_machine` with `ε = 0/0` (sudo)".into(),
			extrinsic: client.signed(alice, sudo(create_machine(12, (1, 20), (0, 0), 10))),
			expected: Outcome::SudoFailed(module(Error::EpsilonOutOfRange)),
		},
		Case {
			input: "`create_machine` with `ε = 1/2` (sudo)".into(),
			extrinsic: client.signed(alice, sudo(create_machine(12, (1, 20), (1, 2), 10))),
			expected: Outcome::SudoFailed(module(Error::EpsilonOutOfRange)),
		},
		Case {
			input: "`create_machine` with 0 slots (sudo)".into(),
			extrinsic: client.signed(alice, sudo(create_machine(0, (1, 20), (1, 1_000_000), 10))),
			expected: Outcome::SudoFailed(module(Error::ZeroSlots)),
		},
		Case {
			input: "`create_machine` with `MaxCommittee + 1` slots (sudo)".into(),
			extrinsic: client
				.signed(alice, sudo(create_machine(1_025, (1, 20), (1, 1_000_000), 10))),
			expected: Outcome::SudoFailed(module(Error::CommitteeTooLarge)),
		},
		Case {
			input: "`create_machine` with a timeout of 0 (sudo)".into(),
			extrinsic: client.signed(alice, sudo(create_machine(12, (1, 20), (1, 1_000_000), 0))),
			expected: Outcome::SudoFailed(module(Error::InvalidTimeout)),
		},
		Case {
			input: "`create_hierarchical_machine` whose primary has `p = 1/0` (sudo)".into(),
			extrinsic: client.signed(
				alice,
				sudo(CmCall::create_hierarchical_machine {
					levels: vec![bad_level, good_level.clone()],
					round_deposit: UNIT,
				}),
			),
			expected: Outcome::SudoFailed(module(Error::ProbabilityOutOfRange)),
		},
		Case {
			input: "`create_hierarchical_machine` with `MAX_LEVELS + 1` levels (sudo)".into(),
			extrinsic: client.signed(
				alice,
				sudo(CmCall::create_hierarchical_machine {
					levels: vec![good_level.clone(); MAX_LEVELS as usize + 1],
					round_deposit: UNIT,
				}),
			),
			expected: Outcome::SudoFailed(module(Error::WrongLevelCount)),
		},
	]
}

/// Rounds that cannot be opened, proposed, challenged or closed.
fn round_cases(client: &mut Client, alice: &sr25519::Pair, poor: &sr25519::Pair) -> Vec<Case> {
	vec![
		Case {
			input: "`commit_round` of an unknown machine".into(),
			extrinsic: client
				.signed(alice, cm(CmCall::commit_round { machine: 999, subject: [1; 32] })),
			expected: Outcome::Failed(module(Error::UnknownMachine)),
		},
		Case {
			input: "`commit_round` from an account short of the round fee and deposit".into(),
			extrinsic: client
				.signed(poor, cm(CmCall::commit_round { machine: NOTARY, subject: [1; 32] })),
			expected: Outcome::Failed(module(Error::CannotPayRoundFee)),
		},
		Case {
			input: "`propose` to a machine whose first level is not complete".into(),
			extrinsic: client
				.signed(alice, cm(CmCall::propose { machine: ORACLE, object: [3; 32], size: 64 })),
			expected: Outcome::Failed(module(Error::IncompleteCommittee)),
		},
		Case {
			input: "`challenge_green` of an unknown round".into(),
			extrinsic: client.signed(
				alice,
				cm(CmCall::challenge_green { round: 999_999, evidence: vec![1; 8] }),
			),
			expected: Outcome::Failed(module(Error::UnknownRound)),
		},
		Case {
			input: "`close_round` of an unknown round".into(),
			extrinsic: client.signed(alice, cm(CmCall::close_round { round: 999_999 })),
			expected: Outcome::Failed(module(Error::UnknownRound)),
		},
	]
}

/// Penalties that do not exist.
fn penalty_cases(client: &mut Client, alice: &sr25519::Pair) -> Vec<Case> {
	vec![
		Case {
			input: "`apply_penalty` of an unknown penalty".into(),
			extrinsic: client
				.signed(alice, pickets(PicketsCall::apply_penalty { penalty: 999_999 })),
			expected: Outcome::Failed(PicketsError::<Runtime>::UnknownPenalty.into()),
		},
		Case {
			input: "`cancel_penalty` of an unknown penalty (sudo)".into(),
			extrinsic: client.signed(alice, sudo(PicketsCall::cancel_penalty { penalty: 999_999 })),
			expected: Outcome::SudoFailed(PicketsError::<Runtime>::UnknownPenalty.into()),
		},
	]
}

/// Registrations with a bad proof of possession or too small a bond.
fn picket_cases(client: &mut Client, alice: &sr25519::Pair, bob: &sr25519::Pair) -> Vec<Case> {
	let fresh = pair("//Bob//picket");
	let genesis = client.genesis;
	let proof = |key: &sr25519::Pair| key.sign(&possession_payload(&account(bob), &genesis.0));
	vec![
		Case {
			input: "`register` with a proof of possession signed by another key".into(),
			extrinsic: client.signed(
				bob,
				pickets(PicketsCall::register {
					key: fresh.public().into(),
					bond: 200 * UNIT,
					proof: proof(alice).into(),
				}),
			),
			expected: Outcome::Failed(PicketsError::<Runtime>::BadProofOfPossession.into()),
		},
		Case {
			input: "`register` with a bond below the minimum".into(),
			extrinsic: client.signed(
				bob,
				pickets(PicketsCall::register {
					key: fresh.public().into(),
					bond: UNIT,
					proof: proof(&fresh).into(),
				}),
			),
			expected: Outcome::Failed(PicketsError::<Runtime>::BondTooLow.into()),
		},
	]
}

/// Statements and certificates for a round that does not exist.
fn unknown_round_cases(
	client: &mut Client,
	alice: &sr25519::Pair,
	pickets: &[sr25519::Pair],
) -> Vec<Case> {
	let unknown_round = Statement {
		genesis: client.genesis.0,
		machine: NOTARY,
		round: 999_999,
		instance: [0; 32],
		level: 0,
		body: Body::Decision { value: None },
	};
	vec![
		Case {
			input: "`submit_certificate` for an unknown round".into(),
			extrinsic: client.signed(
				alice,
				cm(CmCall::submit_certificate {
					statement: unknown_round.clone(),
					signatures: vec![(0, pickets[0].sign(&unknown_round.signing_payload()))],
				}),
			),
			expected: Outcome::Failed(module(Error::UnknownRound)),
		},
		Case {
			input: "fee-less statement for an unknown round".into(),
			extrinsic: client.fee_less(cm(CmCall::submit_statement {
				statement: unknown_round.clone(),
				seat: 0,
				signature: pickets[0].sign(&unknown_round.signing_payload()).into(),
				evidence: None,
			})),
			expected: Outcome::Refused(OUTDATED.into()),
		},
	]
}

#[test]
#[ignore = "needs the node binary: run scripts/e2e.sh"]
fn hostile_calls_get_precise_errors_and_change_nothing() {
	let spec = quiet_chain_spec();
	let port = free_port().to_string();
	let args = [
		"--chain",
		spec.to_str().unwrap(),
		"--alice",
		"--validator",
		"--force-authoring",
		"--tmp",
		"--unsafe-force-node-key-generation",
		"--dev-pickets",
		"0..0",
		"--port",
		&port,
		// Shows each line's level, so that the check below can see error-level lines.
		"--detailed-log-output",
	];
	let started = Instant::now();
	let mut node = Node::start("hostile", &args.map(String::from));
	node.wait_for_rpc(Duration::from_secs(300));
	let genesis = node.block_hash(0).expect("a genesis block");
	let versions = node.versions();
	let mut client = Client { node, genesis, versions, nonces: BTreeMap::new() };
	client.wait_for_block(2);
	let (alice, bob) = (pair("//Alice"), pair("//Bob"));
	let pickets: Vec<sr25519::Pair> = (0..DEV_AGENTS).map(|i| pair(&picket_seed(i))).collect();
	let (mut table, mut roots) = (Vec::new(), Vec::new());

	// An account that can pay transaction fees but not a round's fee and deposit (one UNIT).
	let poor = pair("//Poor");
	client.must_succeed(
		&alice,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: account(&poor).into(),
			value: UNIT / 2,
		}),
	);

	// Signed calls with bad arguments, before any round exists, by call family.
	let mut cases: Vec<Case> = [
		machine_cases(&mut client, &alice, &bob),
		round_cases(&mut client, &alice, &poor),
		penalty_cases(&mut client, &alice),
		picket_cases(&mut client, &alice, &bob),
		unknown_round_cases(&mut client, &alice, &pickets),
	]
	.into_iter()
	.flatten()
	.collect();
	let (rows, root) = client.attack(std::mem::take(&mut cases));
	table.extend(rows);
	roots.push(root);

	// A round of the notary log, opened by a user; no picket signs, so it stays open.
	let opened =
		client.must_succeed(&alice, cm(CmCall::commit_round { machine: NOTARY, subject: [7; 32] }));
	let round: RoundId = opened
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::ConsensusMachine(Event::RoundCommitted { round, .. }) => Some(*round),
			_ => None,
		})
		.unwrap_or_else(|| client.node.fail("no RoundCommitted"));
	// Each seat's duty, found through the runtime API as a picket finds it.
	let duties: Vec<(usize, Duty<BlockNumber>)> = {
		let deadline = Instant::now() + Duration::from_secs(180);
		loop {
			let best = client.node.best_number();
			let at = client.node.block_hash(best).expect("a best block");
			let duties: Vec<_> = pickets
				.iter()
				.enumerate()
				.flat_map(|(i, key)| {
					let public: pallet_consensus_machine::crypto::Public = key.public().into();
					let duties: Vec<Duty<BlockNumber>> =
						client.node.call("ConsensusMachineApi_duties", public, at);
					duties.into_iter().filter(|d| d.round == round).map(move |d| (i, d))
				})
				.collect();
			if !duties.is_empty() {
				break duties;
			}
			if Instant::now() > deadline {
				client.node.fail("the round's committee was never drawn");
			}
			std::thread::sleep(Duration::from_secs(1));
		}
	};
	assert!(duties.len() >= 2, "at least two seats: {duties:?}");
	let statement = |duty: &Duty<BlockNumber>| {
		let DutyTask::Transition { step, from, .. } = duty.task else {
			panic!("a notary duty is a transition: {duty:?}")
		};
		Statement {
			genesis: genesis.0,
			machine: duty.machine,
			round: duty.round,
			instance: duty.instance,
			level: duty.level,
			body: Body::Transition { step, from, output: [1; 32], to: [2; 32] },
		}
	};
	let (first, second) = (&duties[0], &duties[1]);
	let good = statement(&first.1);
	let sign = |who: usize, s: &Statement| pickets[who].sign(&s.signing_payload());
	let statement_call = |s: &Statement, seat: u32, signature: sr25519::Signature| {
		cm(CmCall::submit_statement {
			statement: s.clone(),
			seat,
			signature: signature.into(),
			evidence: None,
		})
	};
	let other_chain = Statement { genesis: [9; 32], ..good.clone() };
	let wrong_kind = Statement {
		body: Body::Verdict { object: [3; 32], verdict: Verdict::Green },
		..good.clone()
	};
	let all: Vec<(u32, sr25519::Signature)> =
		duties.iter().map(|(who, d)| (d.seat, sign(*who, &good))).collect();
	let mut forged = all.clone();
	forged[0].1 = sign(second.0, &good);
	let certificate = |signatures: Vec<(u32, sr25519::Signature)>| {
		cm(CmCall::submit_certificate { statement: good.clone(), signatures })
	};
	// Arguments beyond their bounds: they decode, and get their errors.
	let evidence = vec![7u8; <MaxEvidenceLen as Get<u32>>::get() as usize + 1];
	let too_long = Statement {
		body: Body::Verdict {
			object: [3; 32],
			verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
		},
		..good.clone()
	};
	// The same seat's key, another output: an equivocation, but for the proof's path.
	let mut other_output = good.clone();
	if let Body::Transition { output, .. } = &mut other_output.body {
		*output = [5; 32];
	}
	let membership: Option<pallet_consensus_machine::types::SeatProof<AccountId>> =
		client.node.call(
			"ConsensusMachineApi_membership_proof",
			(round, first.1.seat),
			client.node.block_hash(client.node.best_number()).expect("a best block"),
		);
	let mut membership = membership.expect("a drawn seat has a membership proof");
	membership.path = vec![[0; 32]; MAX_PATH as usize + 1];
	let proof = Box::new(EquivocationProof {
		first: (good.clone(), sign(first.0, &good)),
		second: (other_output.clone(), sign(first.0, &other_output)),
	});
	cases = vec![
		Case {
			input: "fee-less statement with a signature by a key that is not the seat's".into(),
			extrinsic: client.fee_less(statement_call(
				&good,
				first.1.seat,
				pair("//Eve").sign(&good.signing_payload()),
			)),
			expected: Outcome::Refused(BAD_SIGNATURE.into()),
		},
		Case {
			input: "fee-less statement for a seat its signer does not hold".into(),
			extrinsic: client.fee_less(statement_call(&good, second.1.seat, sign(first.0, &good))),
			expected: Outcome::Refused(BAD_SIGNATURE.into()),
		},
		Case {
			input: "fee-less statement signed for another chain (genesis)".into(),
			extrinsic: client.fee_less(statement_call(
				&other_chain,
				first.1.seat,
				sign(first.0, &other_chain),
			)),
			expected: Outcome::Refused(BAD_SIGNATURE.into()),
		},
		Case {
			input: "fee-less statement naming a seat the committee does not have".into(),
			extrinsic: client.fee_less(statement_call(&good, 9_999, sign(first.0, &good))),
			expected: Outcome::Refused(BAD_SIGNATURE.into()),
		},
		Case {
			input: "fee-less verdict in a round that decides a transition".into(),
			extrinsic: client.fee_less(statement_call(
				&wrong_kind,
				first.1.seat,
				sign(first.0, &wrong_kind),
			)),
			expected: custom(Error::WrongKind),
		},
		Case {
			input: "fee-less red whose evidence is one byte longer than `MaxEvidenceLen`".into(),
			extrinsic: client.fee_less(cm(CmCall::submit_statement {
				statement: too_long.clone(),
				seat: first.1.seat,
				signature: sign(first.0, &too_long).into(),
				evidence: Some(evidence.clone()),
			})),
			expected: custom(Error::EvidenceTooLong),
		},
		Case {
			input: "`submit_certificate` with `MaxCommittee + 1` signatures".into(),
			extrinsic: client.signed(
				&alice,
				certificate(vec![all[0]; <MaxCommittee as Get<u32>>::get() as usize + 1]),
			),
			expected: Outcome::Failed(module(Error::TooManySigners)),
		},
		Case {
			input: "`report_equivocation` whose membership path is longer than any committee's"
				.into(),
			extrinsic: client.signed(&alice, cm(CmCall::report_equivocation { membership, proof })),
			expected: Outcome::Failed(module(Error::BadMembershipProof)),
		},
		Case {
			input: "`submit_certificate` with no signatures".into(),
			extrinsic: client.signed(&alice, certificate(vec![])),
			expected: Outcome::Failed(module(Error::NoSignatures)),
		},
		Case {
			input: "`submit_certificate` naming one seat twice".into(),
			extrinsic: client.signed(&alice, certificate(vec![all[0], all[0]])),
			expected: Outcome::Failed(module(Error::DuplicateSigner)),
		},
		Case {
			input: "`submit_certificate` naming a seat the committee does not have".into(),
			extrinsic: client.signed(&alice, certificate(vec![all[0], (9_999, all[1].1)])),
			expected: Outcome::Failed(module(Error::NotAPicket)),
		},
		Case {
			input: "`submit_certificate` with one signature".into(),
			extrinsic: client.signed(&alice, certificate(vec![all[0]])),
			expected: Outcome::Failed(module(Error::BelowThreshold)),
		},
		Case {
			input: "`submit_certificate` with every seat, one signature forged".into(),
			extrinsic: client.signed(&alice, certificate(forged)),
			expected: Outcome::Failed(module(Error::BadSignature)),
		},
		Case {
			input: "`close_round` before the deadline".into(),
			extrinsic: client.signed(&alice, cm(CmCall::close_round { round })),
			expected: Outcome::Failed(module(Error::RoundStillOpen)),
		},
	];
	let (rows, root) = client.attack(std::mem::take(&mut cases));
	table.extend(rows);
	roots.push(root);

	// Past the deadline, the round is closed by a user; then its statements are stale.
	client.wait_for_block(first.1.deadline + 1);
	client.must_succeed(&alice, cm(CmCall::close_round { round }));
	cases = vec![
		Case {
			input: "fee-less statement, correctly signed, for a closed round".into(),
			extrinsic: client.fee_less(statement_call(&good, first.1.seat, sign(first.0, &good))),
			expected: Outcome::Refused(OUTDATED.into()),
		},
		Case {
			input: "`submit_certificate` of every seat for a closed round".into(),
			extrinsic: client.signed(&alice, certificate(all.clone())),
			expected: Outcome::Failed(module(Error::DeadlinePassed)),
		},
		Case {
			input: "`close_round` of a closed round".into(),
			extrinsic: client.signed(&alice, cm(CmCall::close_round { round })),
			expected: Outcome::Failed(module(Error::AlreadyClosed)),
		},
	];
	let (rows, root) = client.attack(cases);
	table.extend(rows);
	roots.push(root);

	// The root sees the pallet's state: the legitimate calls between the batches (opening a
	// round, its draw, closing it) moved it, so a hostile call that wrote would have too.
	assert!(roots.windows(2).all(|w| w[0] != w[1]), "the root moved between batches: {roots:?}");

	// No trap, no error-level line: every answer above went through the ordinary paths.
	let log = std::fs::read_to_string(&client.node.log).unwrap_or_default();
	let bad: Vec<&str> = log
		.lines()
		.filter(|l| {
			l.contains(" ERROR ")
				|| ["wasm trap", "WASM backtrace", "Execution aborted"]
					.iter()
					.any(|t| l.contains(t))
		})
		.collect();
	assert!(log.contains(" INFO "), "the log shows each line's level");
	if !bad.is_empty() {
		client.node.fail(&format!("error-level or trap lines in the log:\n{}", bad.join("\n")));
	}
	println!("\n| Hostile input | What the client gets |\n|---|---|");
	for (input, outcome) in &table {
		println!("| {input} | {outcome} |");
	}
	println!(
		"\n{} hostile calls on the real node in {:.0?}: each got its error, the pallet's storage \
		 root never moved, no trap and no error-level log line",
		table.len(),
		started.elapsed()
	);
}
