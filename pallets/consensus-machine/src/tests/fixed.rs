//! The machines on another supplier of pickets: a fixed committee, not the pallet's bond
//! registry. Nobody bonds or registers; the same accounts sit in every committee, and the
//! supplier keeps its own record of offences and misses. The machines run on it unchanged:
//! rounds are drawn, decided and closed, objects judged, and offences and misses reach the
//! supplier.

use super::{eps, p, OPENER, SLOTS, TIMEOUT};
use crate::{
	self as pallet_consensus_machine,
	mock::{
		h, key, sign, stored, test_runtime_config, AmberFee, Balance, MillisecondFee,
		RandomnessLead, TestEvaluator, TestRandomness, Treasury, CHALLENGE_WINDOW, CHUNK,
		MAX_COMMITTEE, MAX_DRAWS_PER_BLOCK, MAX_PENDING_DRAWS, MAX_PENDING_DRAWS_PER_ACCOUNT,
		MAX_ROUND_DURATION, MAX_TRACE, PROPOSAL_BOND, RETENTION, TREASURY, UNBONDING_DELAY,
	},
	pallet::{Error, Event, HoldReason, Rounds},
	types::{EquivocationProof, OffenceKind, SeatProof},
};
use consensus_machine_primitives::{
	light::MerkleChunks,
	pickets::{Drawn, DrawnSeat, Offence, Pickets, ReportError, SignError},
	statement::{Body, Hash, MachineId, RoundId, Statement},
};
use frame_support::{
	assert_noop, assert_ok, derive_impl,
	traits::{
		fungible::{Balanced, Inspect, InspectHold},
		tokens::imbalance::ResolveTo,
		tokens::{Fortitude, Precision, Preservation},
		ConstU32, ConstU64, Hooks,
	},
};
use frame_system::EnsureRoot;
use sp_core::sr25519;
use sp_runtime::BuildStorage;
use std::{cell::RefCell, collections::BTreeSet};

type AccountId = u64;

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
	pub struct Fixed;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type ConsensusMachine = pallet_consensus_machine;
}

test_runtime_config!(Fixed, FixedCommittee);

thread_local! {
	/// The committee, in seat order.
	static MEMBERS: RefCell<Vec<AccountId>> = RefCell::new((1..=4).collect());
	/// Members suspended for an overt offence.
	static SUSPENDED: RefCell<BTreeSet<AccountId>> = const { RefCell::new(BTreeSet::new()) };
	/// The offences reported, in order.
	static OFFENCES: RefCell<Vec<FixedOffence>> = const { RefCell::new(Vec::new()) };
	/// Whether the draw gives every member all the slots (a supplier gone wrong).
	static INFLATED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
	/// The misses noted: (member, round, due).
	static MISSES: RefCell<Vec<(AccountId, RoundId, u64)>> = const { RefCell::new(Vec::new()) };
}

type FixedOffence = Offence<AccountId, Balance, crate::crypto::Public, sr25519::Signature>;

/// Every round's committee is the same members, the slots shared out evenly in seat order.
/// Its policy is its own: an overt offence suspends the member; a miss is only noted; a red
/// proposal's bond, which the machines release to it with the offence, is taken at once.
pub struct FixedCommittee;

impl Pickets<AccountId> for FixedCommittee {
	type Key = crate::crypto::Public;
	type Signature = sr25519::Signature;
	type Balance = Balance;
	type BlockNumber = u64;

	fn total_stake() -> u128 {
		members().len() as u128
	}

	fn snapshot_start() -> u64 {
		0
	}

	fn draw(_seed: &Hash, slots: u32) -> Drawn<AccountId, Self::Key> {
		if INFLATED.with(|i| i.get()) {
			// Every member holds every slot: four times the slots drawn.
			let seats = members()
				.into_iter()
				.map(|picket| DrawnSeat { picket, key: key(picket), slots })
				.collect();
			return Drawn { period: 0, total: 1, seats };
		}
		let members = members();
		let (each, extra) = match members.len() as u32 {
			0 => return Drawn::default(),
			n => (slots / n, slots % n),
		};
		let seats = (0u32..)
			.zip(&members)
			.map(|(i, &picket)| DrawnSeat {
				picket,
				key: key(picket),
				slots: each + u32::from(i < extra),
			})
			.filter(|seat| seat.slots > 0)
			.collect();
		Drawn { period: 0, total: members.len() as u128, seats }
	}

	fn may_sign(picket: &AccountId) -> Result<(), SignError> {
		if !members().contains(picket) {
			return Err(SignError::Unknown);
		}
		match SUSPENDED.with(|s| s.borrow().contains(picket)) {
			true => Err(SignError::Suspended),
			false => Ok(()),
		}
	}

	fn is_picket(who: &AccountId) -> bool {
		members().contains(who)
	}

	fn is_reported(offender: &AccountId, round: RoundId, kind: OffenceKind) -> bool {
		OFFENCES.with(|o| {
			o.borrow().iter().any(|x| (x.offender, x.round, x.kind) == (*offender, round, kind))
		})
	}

	fn report(offence: FixedOffence) -> Result<(), ReportError> {
		if Self::is_reported(&offence.offender, offence.round, offence.kind) {
			return Err(ReportError::AlreadyReported);
		}
		if let (OffenceKind::RedProposal, Some(bond)) = (offence.kind, offence.base) {
			// Forced: a freeze or lock the proposer placed cannot keep the bond from it.
			let credit = <Balances as Balanced<_>>::withdraw(
				&offence.offender,
				bond,
				Precision::BestEffort,
				Preservation::Expendable,
				Fortitude::Force,
			)
			.map_err(|_| ReportError::Exhausted)?;
			let _ = Balances::resolve(&TREASURY, credit);
		}
		if offence.kind.is_overt() {
			SUSPENDED.with(|s| s.borrow_mut().insert(offence.offender));
		}
		OFFENCES.with(|o| o.borrow_mut().push(offence));
		Ok(())
	}

	fn note_miss(picket: &AccountId, round: RoundId, due: u64) {
		MISSES.with(|m| m.borrow_mut().push((*picket, round, due)));
	}
}

fn members() -> Vec<AccountId> {
	MEMBERS.with(|m| m.borrow().clone())
}

fn offences() -> Vec<FixedOffence> {
	OFFENCES.with(|o| o.borrow().clone())
}

fn misses() -> Vec<(AccountId, RoundId, u64)> {
	MISSES.with(|m| m.borrow().clone())
}

/// A chain with balances and no pickets registered with the pallet at all.
fn new_test_ext() -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		balances: pallet_balances::GenesisConfig::<Fixed> {
			balances: (1..=100).map(|a| (a, 10_000)).collect(),
			..Default::default()
		},
		consensus_machine: Default::default(),
	}
	.build_storage()
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` on a new chain, then checks the pallet's invariants, as for the other runtime.
fn execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		ConsensusMachine::do_try_state().expect("invariants hold");
	});
}

fn run_to_block(n: u64) {
	while System::block_number() < n {
		let now = System::block_number() + 1;
		System::set_block_number(now);
		ConsensusMachine::on_initialize(now);
		ConsensusMachine::on_idle(now, frame_support::weights::Weight::MAX);
	}
}

fn create_machine() -> MachineId {
	assert_ok!(ConsensusMachine::create_machine(
		RuntimeOrigin::root(),
		SLOTS,
		p().into(),
		eps().into(),
		TIMEOUT,
		50,
		h(0)
	));
	0
}

/// Commits a round of `machine` and runs to its draw (two blocks: the randomness of the
/// committing block's child is fresh).
fn open(machine: MachineId) -> RoundId {
	let round = crate::NextRoundId::<Fixed>::get();
	assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)));
	run_to_block(System::block_number() + 2);
	assert!(Rounds::<Fixed>::get(round).unwrap().is_drawn(), "drawn");
	round
}

/// The transition statement of `round`, moving `machine` to `to`.
fn statement(machine: MachineId, round: RoundId, to: Hash) -> Statement {
	let label = crate::Machines::<Fixed>::get(machine).unwrap().label;
	let instance = Rounds::<Fixed>::get(round).unwrap().draw().unwrap().instance;
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine,
		round,
		instance,
		level: 0,
		body: Body::Transition { step: label.step, from: label.hash, output: h(1), to },
	}
}

fn submit(seat: u32, statement: &Statement) -> sp_runtime::DispatchResult {
	let signer = members()[seat as usize];
	ConsensusMachine::submit_statement(
		RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
		statement.clone(),
		seat,
		sign(signer, statement),
		None,
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

#[test]
fn a_fixed_committee_decides_a_transition_without_a_bond() {
	execute(|| {
		let machine = create_machine();
		let round = open(machine);
		// The whole committee, every round: 10 slots over four members.
		let committee = ConsensusMachine::committee(round);
		let seats: Vec<_> = committee.iter().map(|s| (s.agent, s.slots)).collect();
		assert_eq!(seats, vec![(1, 3), (2, 3), (3, 2), (4, 2)]);
		// Threshold 8 of 10 slots: members 1, 2 and 3 decide it.
		let s = statement(machine, round, h(2));
		for seat in 0..3 {
			assert_ok!(submit(seat, &s));
		}
		assert!(Rounds::<Fixed>::get(round).unwrap().decided().is_some());
		// The machine took the step.
		assert_eq!(crate::Machines::<Fixed>::get(machine).unwrap().label.step, 1);
		for member in members() {
			assert_eq!(Balances::total_balance_on_hold(&member), 0, "no bond held");
		}
		assert!(offences().is_empty() && misses().is_empty());
	});
}

#[test]
fn offences_go_to_the_fixed_committee_which_decides_who_signs() {
	execute(|| {
		let machine = create_machine();
		let round = open(machine);
		// Member 2 signs two different transitions of one round; anyone reports the pair.
		let signed = |s: Statement| (s.clone(), stored(sign(2, &s)));
		let first = signed(statement(machine, round, h(2)));
		let second = signed(statement(machine, round, h(3)));
		let membership: SeatProof<AccountId> =
			ConsensusMachine::membership_proof(round, 1).expect("a live round");
		let proof = Box::new(EquivocationProof { first: first.clone(), second: second.clone() });
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(99),
			membership.clone(),
			proof.clone()
		));
		let offence = offences().pop().expect("reported to the supplier");
		assert_eq!(
			(offence.kind, offence.offender, offence.round),
			(OffenceKind::Equivocation, 2, round)
		);
		assert_eq!((offence.key, offence.reporter), (Some(key(2)), Some(99)));
		assert_eq!(offence.statements, vec![first.clone(), second]);
		// Once on record, the supplier's answer stands: the same report is refused.
		assert_noop!(
			ConsensusMachine::report_equivocation(RuntimeOrigin::signed(98), membership, proof),
			Error::<Fixed>::AlreadyReported
		);
		// The supplier suspended member 2: it may not sign for its seat.
		assert_noop!(submit(1, &first.0), Error::<Fixed>::AgentSuspended);
		assert_ok!(submit(0, &first.0));
	});
}

#[test]
fn silent_fixed_seats_are_handed_to_the_committee_as_misses() {
	execute(|| {
		let machine = create_machine();
		let round = open(machine);
		assert_ok!(submit(0, &statement(machine, round, h(2))));
		let deadline = Rounds::<Fixed>::get(round).unwrap().draw().unwrap().deadline;
		run_to_block(deadline + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert_eq!(
			misses(),
			vec![(2, round, deadline), (3, round, deadline), (4, round, deadline)]
		);
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::ConsensusMachine(Event::RoundClosed { round: r, .. }) if r == round
		)));
	});
}

#[test]
fn without_pickets_no_round_is_committed() {
	execute(|| {
		MEMBERS.with(|m| m.borrow_mut().clear());
		let machine = create_machine();
		assert_noop!(
			ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), machine, h(9)),
			Error::<Fixed>::NoAgents
		);
	});
}

#[test]
fn a_red_proposal_on_a_fixed_committee_forfeits_the_bond_to_the_supplier() {
	use super::light::{bad_object, PROPOSER};
	use consensus_machine_primitives::light::{Light, Verdict};
	execute(|| {
		// A complete judge: 10 slots at p = 1/100 (max_bad 2, threshold 7).
		assert_ok!(ConsensusMachine::create_machine(
			RuntimeOrigin::root(),
			SLOTS,
			consensus_machine_primitives::Probability::new(1, 100).unwrap().into(),
			eps().into(),
			TIMEOUT,
			50,
			h(0)
		));
		let (object, chunks) = bad_object();
		let round = crate::NextRoundId::<Fixed>::get();
		assert_ok!(ConsensusMachine::propose(
			RuntimeOrigin::signed(PROPOSER),
			0,
			object.hash,
			object.size
		));
		run_to_block(System::block_number() + 2);
		let held = |who| Balances::balance_on_hold(&HoldReason::ProposalBond.into(), &who);
		assert_eq!(held(PROPOSER), PROPOSAL_BOND);
		let treasury = Balances::balance(&TREASURY);
		// One member's red, with evidence that verifies, condemns it.
		let evidence = MerkleChunks::<CHUNK>::evidence(&chunks, 1).unwrap();
		let instance = Rounds::<Fixed>::get(round).unwrap().draw().unwrap().instance;
		let red = Statement {
			genesis: ConsensusMachine::genesis_hash(),
			machine: 0,
			round,
			instance,
			level: 0,
			body: Body::Verdict {
				object: object.hash,
				verdict: Verdict::Red { evidence: sp_io::hashing::blake2_256(&evidence) },
			},
		};
		assert_ok!(ConsensusMachine::submit_statement(
			RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
			red.clone(),
			0,
			sign(1, &red),
			Some(evidence)
		));
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Red, true)));
		// The offence reached the supplier with the bond as its base, and its policy took it.
		let offence = offences().pop().expect("reported");
		assert_eq!((offence.kind, offence.offender), (OffenceKind::RedProposal, PROPOSER));
		assert_eq!(offence.base, Some(PROPOSAL_BOND));
		assert_eq!(held(PROPOSER), 0);
		assert_eq!(Balances::balance(&TREASURY), treasury + PROPOSAL_BOND);
		// Closing the round returns nothing: the machines did not keep the bond for it.
		run_to_block(Rounds::<Fixed>::get(round).unwrap().draw().unwrap().deadline + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert_eq!(held(PROPOSER), 0);
		assert!(!System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::ConsensusMachine(Event::ProposalBondReturned { .. })
		)));
	});
}

#[test]
fn certificates_are_checked_against_the_suppliers_word_on_who_signs() {
	execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let s = statement(machine, round, h(2));
		let signed = |seats: &[u32]| -> Vec<_> {
			seats.iter().map(|&i| (i, stored(sign(members()[i as usize], &s)))).collect()
		};
		// Member 3 (seat 2) is suspended by the supplier: a certificate it signs is refused.
		SUSPENDED.with(|x| x.borrow_mut().insert(3));
		assert_noop!(
			ConsensusMachine::submit_certificate(
				RuntimeOrigin::signed(99),
				s.clone(),
				signed(&[0, 1, 2])
			),
			Error::<Fixed>::AgentSuspended
		);
		// 3 + 3 + 2 slots of members the supplier lets sign reach the threshold of 8.
		assert_ok!(ConsensusMachine::submit_certificate(
			RuntimeOrigin::signed(99),
			s.clone(),
			signed(&[0, 1, 3])
		));
		assert!(Rounds::<Fixed>::get(round).unwrap().decided().is_some());
	});
}

#[test]
fn an_unsound_draw_seats_nobody() {
	execute(|| {
		// Each member holding all ten slots would let one member reach the threshold alone.
		INFLATED.with(|i| i.set(true));
		let machine = create_machine();
		let round = open(machine);
		assert!(ConsensusMachine::committee(round).is_empty());
		assert_noop!(submit(0, &statement(machine, round, h(2))), Error::<Fixed>::NotAPicket);
	});
}
