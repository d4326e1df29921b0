//! Tests of the pallet: every call's success path and failure paths, by topic.

mod agent;
mod core;
mod fixtures;
mod handover;
mod light;
mod penalties;

use crate::{
	mock::*,
	pallet::*,
	types::{AgentStatus, Seat},
	Call as CmCall,
};
use consensus_machine_primitives::{
	certificate,
	statement::{Body, Hash, Label, MachineId, RoundId, Statement},
	DecisionRule, Epsilon, Probability,
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

fn create_machine() -> MachineId {
	let id = NextMachineId::<Test>::get();
	assert_ok!(ConsensusMachine::create_machine(
		RuntimeOrigin::root(),
		SLOTS,
		p(),
		eps(),
		TIMEOUT,
		DEPOSIT,
		h(0)
	));
	id
}

fn open(machine: MachineId) -> RoundId {
	let id = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::open_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
	id
}

fn label(machine: MachineId) -> Label {
	Machines::<Test>::get(machine).unwrap().label
}

/// The transition statement a good picket makes in `round` of `machine`.
fn statement(machine: MachineId, round: RoundId) -> Statement {
	let l = label(machine);
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine,
		round,
		level: 0,
		body: Body::Transition { step: l.step, from: l.hash, output: h(1), to: h(2) },
	}
}

fn seats(round: RoundId) -> Vec<Seat<AccountId>> {
	Committees::<Test>::get(round).unwrap().into_inner()
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
		signer: key(signer),
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
		key(signer),
		sign(signer, statement),
		None,
	)
}

/// Submits as the pool and the block would: authorise, then dispatch.
fn submit(signer: AccountId, statement: &Statement) {
	authorize(signer, statement, sign(signer, statement)).expect("authorised");
	assert_ok!(dispatch(signer, statement));
}

fn held_bond(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::Bond.into(), &who)
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
