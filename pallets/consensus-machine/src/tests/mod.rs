//! Tests of the pallet: every call's success path and failure paths, by topic.

mod agent;
mod bonds;
mod differential;
mod draws;
mod fees;
mod fixed;
mod fixtures;
mod forks;
mod fuzz;
mod handover;
mod light;
mod machines;
mod migrations;
mod open;
mod penalties;
mod prune;
mod spam;
mod vote;

use crate::{
	mock::*,
	pallet::*,
	types::{Phase, RoundKind, Seat, SeatProof},
	Call as CmCall,
};
use consensus_machine_primitives::{
	certificate,
	statement::{Body, Hash, Label, MachineId, RoundId, Statement},
	DecisionRule, Epsilon, EpsilonArg, Probability, ProbabilityArg,
};
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{
		fungible::{Inspect, InspectHold},
		Authorize,
	},
	BoundedVec,
};
use pallet_pickets::{types::AgentStatus, Error as PicketsError, Event as PicketsEvent, PenaltyId};
use sp_core::{sr25519, Pair};
use sp_runtime::{DispatchError, TokenError};

const P: (u64, u64) = (1, 10);
const SLOTS: u32 = 10;
const TIMEOUT: u64 = 10;
const DEPOSIT: Balance = 50;
const OPENER: AccountId = 50;

fn p() -> Probability {
	Probability::new(P.0, P.1).unwrap()
}

fn eps() -> Epsilon {
	Epsilon::from_exponent(3).unwrap()
}

/// The rule of the test machine: N = 10, p = 1/10, ε = 1e-3 → max_bad 5, strong 8.
fn rule() -> DecisionRule {
	DecisionRule::exact(SLOTS, p(), eps()).unwrap()
}

/// A level of a hierarchical test machine: `slots` slots for p = 1/100 and ε = 1e-3, open
/// `timeout` blocks. 4 slots: max_bad 1, threshold 3; 6: max_bad 2, threshold 5 (not
/// complete); 10: max_bad 2, threshold 7 (complete).
fn level(slots: u32, timeout: u64) -> crate::types::LevelSpec<u64> {
	crate::types::LevelSpec {
		slots,
		p: Probability::new(1, 100).unwrap().into(),
		epsilon: eps().into(),
		timeout,
	}
}

/// Creates a hierarchical machine with levels of these slots, each open `timeout` blocks.
fn create_hierarchical_machine(slots: &[u32], timeout: u64) -> MachineId {
	let id = NextMachineId::<Test>::get();
	let levels: Vec<_> = slots.iter().map(|n| level(*n, timeout)).collect();
	assert_ok!(ConsensusMachine::create_hierarchical_machine(
		RuntimeOrigin::root(),
		levels,
		DEPOSIT
	));
	id
}

/// The agents `ExtBuilder::default()` bonds (1,000 each).
fn default_agents() -> Vec<AccountId> {
	(1..=10).collect()
}

fn create_machine() -> MachineId {
	let id = NextMachineId::<Test>::get();
	assert_ok!(ConsensusMachine::create_machine(
		RuntimeOrigin::root(),
		SLOTS,
		p().into(),
		eps().into(),
		TIMEOUT,
		DEPOSIT,
		h(0)
	));
	id
}

/// A machine that judges objects: 10 slots for p = 1/100 and ε = 1e-3 (max_bad 2, strong 7),
/// complete, as validity rounds need.
fn create_judge() -> MachineId {
	let id = NextMachineId::<Test>::get();
	assert_ok!(ConsensusMachine::create_machine(
		RuntimeOrigin::root(),
		SLOTS,
		Probability::new(1, 100).unwrap().into(),
		eps().into(),
		TIMEOUT,
		DEPOSIT,
		h(0)
	));
	id
}

/// Commits a round of `machine` and runs to its draw.
fn open(machine: MachineId) -> RoundId {
	let id = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
	run_to_draw();
	assert!(Rounds::<Test>::get(id).unwrap().is_drawn());
	id
}

/// The deadline of drawn round `round`.
fn deadline(round: RoundId) -> u64 {
	let info = Rounds::<Test>::get(round).expect("a live round");
	assert!(info.is_drawn(), "round {round} is drawn");
	info.draw().unwrap().deadline
}

/// Runs to the first block after drawn round `round`'s deadline.
fn run_past_deadline(round: RoundId) {
	run_to_block(deadline(round) + 1);
}

fn label(machine: MachineId) -> Label {
	Machines::<Test>::get(machine).unwrap().label
}

/// The instance of `round` (zeros for an unknown round).
fn instance(round: RoundId) -> Hash {
	Rounds::<Test>::get(round).and_then(|r| r.draw().map(|d| d.instance)).unwrap_or_default()
}

/// The seat `agent` holds in `round` (`u32::MAX`, no seat, when it holds none).
fn seat_of(round: RoundId, agent: AccountId) -> u32 {
	seats(round).iter().position(|s| s.agent == agent).map_or(u32::MAX, |i| i as u32)
}

/// An equivocation proof of two signed statements, as the call takes it.
fn pair(
	first: (Statement, sr25519::Signature),
	second: (Statement, sr25519::Signature),
) -> Box<crate::types::EquivocationProof> {
	Box::new(crate::types::EquivocationProof { first, second })
}

/// The membership proof of `agent`'s seat in `round`; for an agent without a seat, the proof
/// of seat 0 with `agent` put in it (what a forger would try).
fn seat_proof(round: RoundId, agent: AccountId) -> SeatProof<AccountId> {
	ConsensusMachine::membership_proof(round, seat_of(round, agent)).unwrap_or_else(|| {
		let mut forged = ConsensusMachine::membership_proof(round, 0).expect("a live round");
		forged.seat = Seat { agent, key: key(agent), slots: forged.seat.slots };
		forged
	})
}

/// The transition statement a good picket makes in `round` of `machine`.
fn statement(machine: MachineId, round: RoundId) -> Statement {
	let l = label(machine);
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine,
		round,
		instance: instance(round),
		level: 0,
		body: Body::Transition { step: l.step, from: l.hash, output: h(1), to: h(2) },
	}
}

/// The stake of the agents still in the draw: the live tree's total less the stakes of
/// suspended and banned agents waiting to leave it (at the next blocks' start).
fn stake_in_draw() -> u128 {
	pallet_pickets::TotalStake::<Test>::get()
		- pallet_pickets::PendingExits::<Test>::iter_values().sum::<u128>()
}

/// The committee of `round`, in draw order (empty until it is drawn).
fn seats(round: RoundId) -> Vec<Seat<AccountId>> {
	ConsensusMachine::committee(round)
}

/// The index of a pallet error, as `InvalidTransaction::Custom` carries it.
fn error_index(e: Error<Test>) -> u8 {
	codec::Encode::encode(&e)[0]
}

fn authorize(
	signer: AccountId,
	statement: &Statement,
	signature: crate::crypto::Signature,
) -> Result<(), TransactionValidityError> {
	let call = RuntimeCall::ConsensusMachine(CmCall::submit_statement {
		statement: statement.clone(),
		seat: seat_of(statement.round, signer),
		signature,
		evidence: None,
	});
	call.authorize(TransactionSource::External)
		.expect("submit_statement has an authorize function")
		.map(|_| ())
}

fn dispatch(signer: AccountId, statement: &Statement) -> sp_runtime::DispatchResult {
	ConsensusMachine::submit_statement(
		RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
		statement.clone(),
		seat_of(statement.round, signer),
		sign(signer, statement),
		None,
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

/// Submits as the pool and the block would: authorise, then dispatch.
fn submit(signer: AccountId, statement: &Statement) {
	authorize(signer, statement, sign(signer, statement)).expect("authorised");
	assert_ok!(dispatch(signer, statement));
}

/// The round fees `who` has paid so far (from the events: the amounts themselves are checked
/// against measured work in `fees.rs`).
fn fees_paid_by(who: AccountId) -> Balance {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ConsensusMachine(Event::RoundFeePaid { payer, fee, .. })
				if payer == who =>
			{
				Some(fee)
			}
			_ => None,
		})
		.sum()
}

/// The backup levels' fees a round of `machine` holds with its deposit.
fn backup_fees(machine: MachineId) -> Balance {
	ConsensusMachine::opening_fees(&Machines::<Test>::get(machine).unwrap(), false).1
}

fn held_bond(who: AccountId) -> Balance {
	Balances::balance_on_hold(&pallet_pickets::HoldReason::Bond.into(), &who)
}

fn certificate_of(round: RoundId, signers: &[Seat<AccountId>]) -> (Statement, SignaturesOf<Test>) {
	let committee = seats(round);
	let s = statement(Rounds::<Test>::get(round).unwrap().machine, round);
	let sigs = signers
		.iter()
		.map(|seat| {
			let index = committee.iter().position(|c| c.agent == seat.agent).unwrap() as u32;
			(index, stored(sign(seat.agent, &s)))
		})
		.collect::<Vec<_>>();
	(s, BoundedVec::truncate_from(sigs))
}

/// Seats in committee order until their slots reach the threshold.
fn seats_to_threshold(round: RoundId) -> Vec<Seat<AccountId>> {
	let threshold = Rounds::<Test>::get(round).unwrap().threshold;
	let mut slots = 0;
	seats(round)
		.into_iter()
		.take_while(|s| {
			let before = slots;
			slots += s.slots;
			before < threshold
		})
		.collect()
}

/// The rounds of a hierarchical round's started levels, the primary first.
fn family_levels(root: RoundId) -> Vec<RoundId> {
	match Rounds::<Test>::get(root).expect("live root").kind {
		RoundKind::Primary { levels, .. } => levels.into_inner(),
		other => panic!("round {root} is not a family root: {other:?}"),
	}
}

/// A hierarchical round's decided value, if decided.
fn family_value(root: RoundId) -> Option<Hash> {
	match Rounds::<Test>::get(root).expect("live root").kind {
		RoundKind::Primary { value, .. } => value,
		other => panic!("round {root} is not a family root: {other:?}"),
	}
}

/// The last event is the certificate that decided the family `root` at `level` for `value`.
#[track_caller]
fn assert_family_decided(root: RoundId, level: u8, value: Hash) {
	let round = family_levels(root)[level as usize];
	let event = System::events().pop().expect("an event").event;
	match event {
		RuntimeEvent::ConsensusMachine(Event::CertificateRecorded {
			round: r,
			family,
			level: l,
			value: v,
			slots,
			signers,
			..
		}) => {
			assert_eq!((r, family, l, v), (round, Some(root), level, value));
			let certificate = Certificates::<Test>::get(round).expect("recorded");
			assert_eq!((slots, signers), (certificate.slots, certificate.signatures.len() as u32));
		}
		other => panic!("expected the family's certificate, got {other:?}"),
	}
}

/// `who` signs the good transition of `round` and a conflicting one, and account 99 reports the
/// pair: an equivocation recorded against `who` (suspended at once).
fn report_transition_equivocation(machine: MachineId, round: RoundId, who: AccountId) {
	let s = statement(machine, round);
	let mut other = s.clone();
	other.body = Body::Transition {
		step: label(machine).step,
		from: label(machine).hash,
		output: h(7),
		to: h(8),
	};
	assert_ok!(ConsensusMachine::report_equivocation(
		RuntimeOrigin::signed(99),
		seat_proof(round, who),
		pair((s.clone(), stored(sign(who, &s))), (other.clone(), stored(sign(who, &other))))
	));
}

/// Opens a round of `machine` and decides it with a certificate.
fn decide(machine: MachineId) -> RoundId {
	let round = open(machine);
	let (s, sigs) = certificate_of(round, &seats_to_threshold(round));
	assert_ok!(ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), s, sigs.into()));
	round
}
