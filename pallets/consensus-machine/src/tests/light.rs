//! Validity rounds: the traffic light, red evidence, the proposer's two regimes.

use super::*;
use crate::types::OffenceKind;
use codec::{Decode, Encode};
use consensus_machine_primitives::{
	light::{ChunkEvidence, Light, MerkleChunks, ObjectRef, Verdict},
	EpsilonArg, ProbabilityArg,
};
use pallet_pickets::types::PenaltyStatus;

pub(super) const PROPOSER: AccountId = 60;

type Rule = MerkleChunks<CHUNK>;

/// An object whose chunks match its size: no red can condemn it.
pub(super) fn good_object() -> (ObjectRef, Vec<Vec<u8>>) {
	let chunks = Rule::split(b"a consensus machine");
	(ObjectRef { hash: Rule::commit(&chunks), size: 19 }, chunks)
}

/// An object declared 8 bytes whose second chunk has 6: chunk 1 condemns it.
pub(super) fn bad_object() -> (ObjectRef, Vec<Vec<u8>>) {
	let chunks = vec![b"abcd".to_vec(), b"efghij".to_vec()];
	(ObjectRef { hash: Rule::commit(&chunks), size: 8 }, chunks)
}

/// Thirty agents of equal stake: ten slots then mostly land on distinct agents.
pub(super) fn many_agents() -> Vec<(AccountId, Balance)> {
	(1..=30).map(|a| (a, 1_000)).collect()
}

/// Proposes `object` (the proposer's call commits the validity round) and runs to the round's
/// draw.
pub(super) fn propose(object: ObjectRef) -> RoundId {
	let round = commit_proposal(object);
	run_to_draw();
	assert!(Rounds::<Test>::get(round).unwrap().is_drawn());
	round
}

/// Proposes `object` to `machine` from the proposer: commits its validity round, whose
/// committee is drawn at a later block.
pub(super) fn commit_proposal_to(machine: MachineId, object: ObjectRef) -> RoundId {
	let round = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::propose(
		RuntimeOrigin::signed(PROPOSER),
		machine,
		object.hash,
		object.size
	));
	round
}

/// A one-slot machine at p = 1/100, ε = 1/10 (complete, so it judges objects): the weakest
/// judge governance may create.
pub(super) fn create_weak_machine() -> MachineId {
	let weak = NextMachineId::<Test>::get();
	assert_ok!(ConsensusMachine::create_machine(
		RuntimeOrigin::root(),
		1,
		ProbabilityArg { num: 1, den: 100 },
		EpsilonArg { num: 1, den: 10 },
		TIMEOUT,
		DEPOSIT,
		h(0)
	));
	weak
}

/// Proposes `object`: commits its validity round, whose committee is drawn at a later block.
pub(super) fn commit_proposal(object: ObjectRef) -> RoundId {
	let machine = match NextMachineId::<Test>::get() {
		0 => create_judge(),
		_ => 0,
	};
	commit_proposal_to(machine, object)
}

pub(super) fn verdict(round: RoundId, verdict: Verdict) -> Statement {
	let info = Rounds::<Test>::get(round).unwrap();
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine: info.machine,
		round,
		instance: info.draw().unwrap().instance,
		level: 0,
		body: Body::Verdict { object: info.object().unwrap().hash, verdict },
	}
}

pub(super) fn red(round: RoundId, evidence: &[u8]) -> Statement {
	verdict(round, Verdict::Red { evidence: sp_io::hashing::blake2_256(evidence) })
}

fn dispatch_with(
	signer: AccountId,
	statement: &Statement,
	evidence: Option<Vec<u8>>,
) -> sp_runtime::DispatchResult {
	ConsensusMachine::submit_statement(
		RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
		statement.clone(),
		seat_of(statement.round, signer),
		sign(signer, statement),
		evidence,
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

/// Authorise, then dispatch, with evidence.
pub(super) fn submit_with(signer: AccountId, statement: &Statement, evidence: Option<Vec<u8>>) {
	let call = RuntimeCall::ConsensusMachine(CmCall::submit_statement {
		statement: statement.clone(),
		seat: seat_of(statement.round, signer),
		signature: sign(signer, statement),
		evidence: evidence.clone(),
	});
	call.authorize(TransactionSource::External).unwrap().expect("authorised");
	assert_ok!(dispatch_with(signer, statement, evidence));
}

/// Proposes `object` and greens it at the threshold: the round, the seats that said green, a
/// seat that did not, and the block of the decision.
fn decide_green(object: ObjectRef) -> (RoundId, Vec<Seat<AccountId>>, Seat<AccountId>, u64) {
	let round = propose(object);
	let signers = seats_to_threshold(round);
	for seat in &signers {
		submit(seat.agent, &verdict(round, Verdict::Green));
	}
	let other = seats(round).into_iter().find(|s| !signers.contains(s)).expect("a seat left");
	(round, signers, other, System::block_number())
}

/// The proposer's bond of `round` came back whole, no fee kept.
fn assert_bond_returned_whole(round: RoundId) {
	System::assert_has_event(
		Event::ProposalBondReturned { round, proposer: PROPOSER, returned: PROPOSAL_BOND, fee: 0 }
			.into(),
	);
}

pub(super) fn deposit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ProposalBond.into(), &who)
}

/// A forfeited proposal bond, in the registry's custody until its penalty is settled.
pub(super) fn forfeit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&pallet_pickets::HoldReason::Forfeit.into(), &who)
}

pub(super) fn penalties_of(who: AccountId) -> Vec<(PenaltyId, pallet_pickets::PenaltyOf<Test>)> {
	pallet_pickets::Penalties::<Test>::iter().filter(|(_, p)| p.offender == who).collect()
}

#[test]
fn greens_at_the_threshold_make_the_object_valid() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = commit_proposal(object);
		assert_eq!(deposit_held(PROPOSER), PROPOSAL_BOND);
		System::assert_last_event(Event::Proposed { round, proposer: PROPOSER, object }.into());
		run_to_draw();
		let green = verdict(round, Verdict::Green);
		// Decided one block before the deadline, so the challenge window outlasts it.
		let deadline = deadline(round);
		run_to_block(deadline - 1);
		for seat in seats_to_threshold(round) {
			assert!(!ConsensusMachine::is_valid(0, &object));
			submit(seat.agent, &green);
		}
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, false)));
		System::assert_last_event(
			Event::LightDecided { round, object, light: Light::Green }.into(),
		);
		assert!(Certificates::<Test>::get(round).is_some());
		// Past the deadline the bond still waits for the challenge window.
		run_to_block(deadline + 1);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), round),
			Error::<Test>::RoundStillOpen
		);
		assert_eq!(deposit_held(PROPOSER), PROPOSAL_BOND);
		run_to_block(deadline - 1 + CHALLENGE_WINDOW);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), round),
			Error::<Test>::RoundStillOpen
		);
		run_to_block(deadline + CHALLENGE_WINDOW);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert_eq!(deposit_held(PROPOSER), 0);
		assert_eq!(Balances::balance(&PROPOSER), 10_000 - fees_paid_by(PROPOSER));
		assert_bond_returned_whole(round);
		System::assert_last_event(Event::RoundClosed { round, light: Some(Light::Green) }.into());
		assert!(ConsensusMachine::is_valid(0, &object));
		assert!(penalties_of(PROPOSER).is_empty());
	});
}

#[test]
fn one_valid_red_condemns_the_object_and_the_proposer_loses_the_bond() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let (object, chunks) = bad_object();
		let round = propose(object);
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		let seat = seats(round)[0].clone();
		submit_with(seat.agent, &red(round, &evidence), Some(evidence.clone()));
		let condemned = System::block_number();
		assert!(!ConsensusMachine::is_valid(0, &object));
		let record = Validity::<Test>::get(0, object).unwrap();
		assert_eq!(record.light, Some(Light::Red));
		assert_eq!(record.evidence, Some(sp_io::hashing::blake2_256(&evidence)));
		System::assert_has_event(Event::LightDecided { round, object, light: Light::Red }.into());
		// Once red, a green cannot change it.
		let other = seats(round)[1].agent;
		assert_noop!(dispatch(other, &verdict(round, Verdict::Green)), Error::<Test>::RoundDecided);
		// The proposer's forfeit is a deferred penalty on the bond, which the registry holds
		// from the report on.
		let [(id, penalty)] = penalties_of(PROPOSER).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::RedProposal);
		assert_eq!(deposit_held(PROPOSER), 0);
		assert_eq!(forfeit_held(PROPOSER), PROPOSAL_BOND);
		run_to_block(condemned + SLASH_DEFERRAL);
		assert_eq!(
			pallet_pickets::Penalties::<Test>::get(id).unwrap().status,
			PenaltyStatus::Applied { slashed: PROPOSAL_BOND }
		);
		assert_eq!(forfeit_held(PROPOSER), 0);
		let fee = fees_paid_by(PROPOSER);
		assert_eq!(Balances::balance(&PROPOSER), 10_000 - PROPOSAL_BOND - fee);
		assert_eq!(Balances::balance(&TREASURY), 1 + PROPOSAL_BOND + fee);
		assert_eq!(Balances::total_issuance(), issuance);
		// The good picket that found the red is not punished.
		assert!(penalties_of(seat.agent).is_empty());
	});
}

#[test]
fn greens_on_an_object_that_ends_red_are_offences() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let (object, chunks) = bad_object();
		let round = propose(object);
		let committee = seats(round);
		let green = verdict(round, Verdict::Green);
		let greens: Vec<_> = committee.iter().take(2).map(|s| s.agent).collect();
		for g in &greens {
			submit(*g, &green);
		}
		let finder = committee[2].agent;
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		submit_with(finder, &red(round, &evidence), Some(evidence));
		let condemned = System::block_number();
		for g in &greens {
			let [(_, penalty)] = penalties_of(*g).try_into().unwrap();
			assert_eq!(penalty.kind, OffenceKind::WrongVerdict);
			assert_eq!(penalty.statements[0].0, green);
			assert_eq!(
				pallet_pickets::Agents::<Test>::get(g).unwrap().status,
				AgentStatus::Suspended
			);
		}
		let stake_before = stake_in_draw();
		run_to_block(condemned + SLASH_DEFERRAL);
		for g in &greens {
			// 20% of 1_000.
			assert_eq!(pallet_pickets::Agents::<Test>::get(g).unwrap().bond, 800);
			assert_eq!(held_bond(*g), 800);
			assert_eq!(Balances::balance(g), 9_000);
		}
		assert_eq!(
			pallet_pickets::TotalStake::<Test>::get(),
			stake_before,
			"suspended agents were already out"
		);
		assert_eq!(
			pallet_pickets::PendingExits::<Test>::iter().count(),
			0,
			"their stakes left the tree"
		);
		let fee = fees_paid_by(PROPOSER);
		assert_eq!(Balances::balance(&TREASURY), 1 + 2 * 200 + PROPOSAL_BOND + fee);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn a_valid_red_within_the_challenge_window_overturns_a_green() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, chunks) = bad_object();
		let (round, signers, finder, decided) = decide_green(object);
		assert!(!ConsensusMachine::is_valid(0, &object), "a green is not valid inside its window");
		run_to_block(decided + CHALLENGE_WINDOW);
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		submit_with(finder.agent, &red(round, &evidence), Some(evidence));
		assert!(!ConsensusMachine::is_valid(0, &object));
		System::assert_has_event(Event::GreenOverturned { round, object }.into());
		for seat in &signers {
			assert_eq!(penalties_of(seat.agent)[0].1.kind, OffenceKind::WrongVerdict);
		}
	});
}

/// The forgery that once condemned honest objects: an honest 19-byte object (chunks of 4, 4,
/// 4, 4 and 3 bytes) decided green, then, inside the challenge window, one seat's red whose
/// evidence is the last chunk's genuine path relabelled as chunk 1. It must be a false red
/// (its sender punished), the green must stand, and no honest voter or the proposer may lose
/// anything.
#[test]
fn a_relabelled_chunk_of_an_honest_object_is_a_false_red() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let proposer_had = Balances::free_balance(PROPOSER);
		let (object, chunks) = good_object();
		assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4, 4, 3]);
		let (round, signers, forger, decided) = decide_green(object);
		let mut forged = ChunkEvidence::decode(&mut &Rule::evidence(&chunks, 4).unwrap()[..])
			.expect("genuine evidence decodes");
		forged.index = 1;
		let forged = forged.encode();
		run_to_block(decided + CHALLENGE_WINDOW - 1);
		submit_with(forger.agent, &red(round, &forged), Some(forged));
		let [(_, penalty)] = penalties_of(forger.agent).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::FalseRed);
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, false)));
		for seat in &signers {
			assert!(penalties_of(seat.agent).is_empty(), "honest green voter {}", seat.agent);
			assert_eq!(
				pallet_pickets::Agents::<Test>::get(seat.agent).unwrap().status,
				AgentStatus::Active
			);
		}
		run_to_block(decided + CHALLENGE_WINDOW + SLASH_DEFERRAL);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert!(ConsensusMachine::is_valid(0, &object));
		assert_eq!(deposit_held(PROPOSER), 0);
		// Nothing but the round fee.
		assert_eq!(Balances::free_balance(PROPOSER), proposer_had - fees_paid_by(PROPOSER));
		for seat in &signers {
			assert_eq!(held_bond(seat.agent), 1_000, "honest green voter {}", seat.agent);
		}
		assert!(held_bond(forger.agent) < 1_000, "the forger is slashed");
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// The proposer once chose its judge and the verdict counted everywhere: a bad object sent to
/// a one-slot machine at p = 1/100, ε = 1/10, whose single (bad) seat says green. Now a
/// verdict is the machine's: a consumer of the strong machine does not see it as valid, the
/// strong machine judges the object on its own, and condemns it.
#[test]
fn a_weak_machines_green_is_not_valid_for_a_strong_machines_consumers() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let strong = create_judge();
		let weak = create_weak_machine();
		let (object, chunks) = bad_object();
		let propose_to = |machine| {
			let round = commit_proposal_to(machine, object);
			run_to_draw();
			round
		};
		let round = propose_to(weak);
		let [seat] = seats(round).try_into().expect("one seat");
		submit(seat.agent, &verdict(round, Verdict::Green));
		run_to_block(System::block_number() + CHALLENGE_WINDOW + 1);
		assert!(
			ConsensusMachine::is_valid(weak, &object),
			"valid for the weak machine's consumers"
		);
		assert!(!ConsensusMachine::is_valid(strong, &object));
		assert_eq!(ConsensusMachine::light(strong, &object), None);
		assert!(!ConsensusMachine::is_valid(weak + 1, &object), "no such machine");
		// The strong machine judges the object on its own, and condemns it.
		let round = propose_to(strong);
		let finder = seats(round)[0].clone();
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		submit_with(finder.agent, &red(round, &evidence), Some(evidence));
		assert_eq!(ConsensusMachine::light(strong, &object), Some((Light::Red, true)));
		assert!(!ConsensusMachine::is_valid(strong, &object));
	});
}

#[test]
fn after_the_challenge_window_a_green_stands() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, chunks) = bad_object();
		let (round, _, late, decided) = decide_green(object);
		run_to_block(decided + CHALLENGE_WINDOW + 1);
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		assert_noop!(
			dispatch_with(late.agent, &red(round, &evidence), Some(evidence)),
			Error::<Test>::RoundDecided
		);
		assert!(ConsensusMachine::is_valid(0, &object));
	});
}

#[test]
fn a_false_red_is_recorded_punished_and_does_not_count() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let (object, chunks) = good_object();
		let round = propose(object);
		let liar = seats(round)[0].clone();
		// A genuine chunk of an honest object proves nothing.
		let evidence = Rule::evidence(&chunks, 0).unwrap();
		let false_red = red(round, &evidence);
		submit_with(liar.agent, &false_red, Some(evidence));
		let reported = System::block_number();
		assert_eq!(Validity::<Test>::get(0, object).unwrap().light, None);
		let [(id, penalty)] = penalties_of(liar.agent).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::FalseRed);
		assert_eq!(penalty.statements[0].0, false_red);
		System::assert_has_event(
			PicketsEvent::OffenceRecorded {
				penalty: id,
				offender: liar.agent,
				kind: OffenceKind::FalseRed,
				round,
				apply_at: reported + SLASH_DEFERRAL,
			}
			.into(),
		);
		// Out of the draw at once.
		assert_eq!(
			pallet_pickets::Agents::<Test>::get(liar.agent).unwrap().status,
			AgentStatus::Suspended
		);
		assert_eq!(stake_in_draw(), 29_000);
		// The others still make it green.
		let green = verdict(round, Verdict::Green);
		let threshold = Rounds::<Test>::get(round).unwrap().threshold;
		let mut slots = 0;
		for seat in seats(round).into_iter().skip(1) {
			if slots >= threshold {
				break;
			}
			submit(seat.agent, &green);
			slots += seat.slots;
		}
		assert!(slots >= threshold, "the other seats hold enough slots");
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, false)));
		run_to_block(reported + SLASH_DEFERRAL);
		// 30% of 1_000.
		assert_eq!(held_bond(liar.agent), 700);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// The first seats of `round` whose slots add up to at most `slots`, as many as fit in order.
fn seats_within(round: RoundId, slots: u32) -> Vec<Seat<AccountId>> {
	let mut total = 0;
	seats(round)
		.into_iter()
		.filter(|s| {
			let fits = total + s.slots <= slots;
			total += if fits { s.slots } else { 0 };
			fits
		})
		.collect()
}

fn max_bad(round: RoundId) -> u32 {
	let machine = Rounds::<Test>::get(round).unwrap().machine;
	Machines::<Test>::get(machine).unwrap().levels[0].rule.max_bad
}

/// An object nobody could get: good pickets say Amber. More than `max_bad` slots saying Amber
/// is the proposer's doing, and it pays `AmberFee`; the Amber voters are not punished.
#[test]
fn amber_returns_the_bond_minus_a_fee_and_counts_misses() {
	ExtBuilder::default().build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let (object, _) = good_object();
		let round = propose(object);
		let committee = seats(round);
		submit(committee[0].agent, &verdict(round, Verdict::Green));
		// Amber from seats holding more than `max_bad` slots.
		let ambers: Vec<_> = committee[1..]
			.iter()
			.scan(0, |slots, s| {
				let before = *slots;
				*slots += s.slots;
				(before <= max_bad(round)).then_some(s.clone())
			})
			.collect();
		assert!(ambers.iter().map(|s| s.slots).sum::<u32>() > max_bad(round));
		for seat in &ambers {
			submit(seat.agent, &verdict(round, Verdict::Amber));
		}
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), round),
			Error::<Test>::RoundStillOpen
		);
		run_past_deadline(round);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert_eq!(Validity::<Test>::get(0, object).unwrap().light, Some(Light::Amber));
		assert!(!ConsensusMachine::is_valid(0, &object));
		let fee = PROPOSAL_BOND / 10;
		System::assert_has_event(
			Event::ProposalBondReturned {
				round,
				proposer: PROPOSER,
				returned: PROPOSAL_BOND - fee,
				fee,
			}
			.into(),
		);
		let round_fee = fees_paid_by(PROPOSER);
		assert_eq!(Balances::balance(&PROPOSER), 10_000 - fee - round_fee);
		assert_eq!(Balances::balance(&TREASURY), 1 + fee + round_fee);
		assert_eq!(deposit_held(PROPOSER), 0);
		assert_eq!(Balances::total_issuance(), issuance);
		// Silent seats missed their duty; those who spoke did not.
		let spoke = 1 + ambers.len();
		for seat in committee.iter().skip(spoke) {
			assert_eq!(pallet_pickets::Misses::<Test>::get(seat.agent).len(), 1);
		}
		for seat in committee.iter().take(spoke) {
			assert!(pallet_pickets::Misses::<Test>::get(seat.agent).is_empty());
		}
		// Amber is not an offence, and the object may be proposed again.
		assert!(penalties_of(PROPOSER).is_empty());
		for seat in &ambers {
			assert!(penalties_of(seat.agent).is_empty());
			assert_eq!(
				pallet_pickets::Agents::<Test>::get(seat.agent).unwrap().status,
				AgentStatus::Active
			);
		}
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), round),
			Error::<Test>::AlreadyClosed
		);
		propose(object);
	});
}

#[test]
fn verdict_statements_with_bad_evidence_or_object_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, chunks) = bad_object();
		let round = propose(object);
		let seat = seats(round)[0].agent;
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		let r = red(round, &evidence);
		assert_noop!(dispatch_with(seat, &r, None), Error::<Test>::MissingEvidence);
		assert_noop!(
			dispatch_with(seat, &r, Some(b"other bytes".to_vec())),
			Error::<Test>::EvidenceMismatch
		);
		let green = verdict(round, Verdict::Green);
		assert_noop!(
			dispatch_with(seat, &green, Some(evidence.clone())),
			Error::<Test>::UnexpectedEvidence
		);
		let mut other = green.clone();
		other.body = Body::Verdict { object: h(5), verdict: Verdict::Green };
		assert_noop!(dispatch(seat, &other), Error::<Test>::WrongObject);
		// A transition statement in a validity round, and a verdict in a transition round.
		let mut transition = green.clone();
		transition.body = Body::Transition { step: 0, from: h(0), output: h(1), to: h(2) };
		assert_noop!(dispatch(seat, &transition), Error::<Test>::WrongKind);
		let transition_round = open(0);
		let mut stray = green.clone();
		stray.round = transition_round;
		stray.instance = instance(transition_round);
		let stray_seat = seats(transition_round)[0].agent;
		assert_noop!(dispatch(stray_seat, &stray), Error::<Test>::WrongKind);
		// Reds never travel in certificates.
		let sigs = vec![(0u32, stored(sign(seat, &r)))];
		assert_noop!(
			ConsensusMachine::submit_certificate(RuntimeOrigin::signed(99), r, sigs),
			Error::<Test>::RedInCertificate
		);
	});
}

#[test]
fn propose_refuses_bad_input() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(PROPOSER), 3, object.hash, 19),
			Error::<Test>::UnknownMachine
		);
		let machine = create_judge();
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(PROPOSER), machine, object.hash, 0),
			Error::<Test>::InvalidObjectSize
		);
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(PROPOSER), machine, object.hash, 5_000),
			Error::<Test>::InvalidObjectSize
		);
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(300), machine, object.hash, 19),
			Error::<Test>::CannotPayRoundFee
		);
		propose(object);
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(PROPOSER), machine, object.hash, 19),
			Error::<Test>::ObjectAlreadyJudged
		);
		assert_noop!(
			ConsensusMachine::close_round(RuntimeOrigin::signed(99), 77),
			Error::<Test>::UnknownRound
		);
	});
}

/// The attack: an honest 8-byte object (two full chunks of 4) is proposed with its real root but
/// a size of 7, which keeps two leaves; its real last chunk (4 bytes where 3 are due) is then
/// valid red evidence. That condemns only the pair (root, 7): the owner's proposal of the
/// real pair (root, 8) is still judged on its own, and green.
#[test]
fn a_wrong_size_condemns_only_that_size_never_the_honest_object() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let chunks = Rule::split(b"abcdefgh");
		let honest = ObjectRef { hash: Rule::commit(&chunks), size: 8 };
		let lie = ObjectRef { size: 7, ..honest };
		let attacker_round = propose(lie);
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		let seat = seats(attacker_round)[0].agent;
		submit_with(seat, &red(attacker_round, &evidence), Some(evidence));
		assert_eq!(Validity::<Test>::get(0, lie).unwrap().light, Some(Light::Red));
		assert_eq!(Validity::<Test>::get(0, honest), None, "the honest object is not judged");

		let round = NextRoundId::<Test>::get();
		assert_ok!(ConsensusMachine::propose(
			RuntimeOrigin::signed(PROPOSER + 1),
			0,
			honest.hash,
			honest.size
		));
		run_to_draw();
		let green = verdict(round, Verdict::Green);
		for seat in seats_to_threshold(round) {
			submit_with(seat.agent, &green, None);
		}
		run_to_block(System::block_number() + CHALLENGE_WINDOW + 1);
		assert!(ConsensusMachine::is_valid(0, &honest));
		assert!(!ConsensusMachine::is_valid(0, &lie));
	});
}

/// The attack on consumers: `is_valid` said true for a green still inside its challenge
/// window, so a consumer could act on an object a valid red then condemned. A green is valid
/// only once final.
#[test]
fn a_green_is_not_valid_while_a_red_can_still_overturn_it() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		for seat in seats_to_threshold(round) {
			submit(seat.agent, &verdict(round, Verdict::Green));
		}
		let decided = System::block_number();
		assert!(!ConsensusMachine::is_valid(0, &object));
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, false)));
		run_to_block(decided + CHALLENGE_WINDOW);
		assert!(!ConsensusMachine::is_valid(0, &object), "the window's last block still counts");
		run_to_block(decided + CHALLENGE_WINDOW + 1);
		assert!(ConsensusMachine::is_valid(0, &object));
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, true)));
	});
}

#[test]
fn an_amber_certificate_records_its_signers_and_decides_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let (object, _) = good_object();
		let round = propose(object);
		let committee = seats(round);
		let amber = verdict(round, Verdict::Amber);
		let threshold = Rounds::<Test>::get(round).unwrap().threshold;
		let sigs: Vec<_> = committee
			.iter()
			.enumerate()
			.map(|(i, s)| (i as u32, stored(sign(s.agent, &amber))))
			.collect();
		let slots: u32 = committee.iter().map(|s| s.slots).sum();
		assert!(slots >= threshold);
		System::reset_events();
		assert_ok!(ConsensusMachine::submit_certificate(
			RuntimeOrigin::signed(99),
			amber.clone(),
			sigs
		));
		assert_eq!(
			System::events().into_iter().map(|r| r.event).collect::<Vec<_>>(),
			vec![RuntimeEvent::from(Event::CertificateCounted {
				round,
				value: amber.body.value_hash(),
				signers: committee.len() as u32,
				slots,
			})]
		);
		assert_eq!(Tallies::<Test>::get(round, amber.body.value_hash()), slots);
		assert_eq!(Statements::<Test>::iter_prefix(round).count(), committee.len());
		// Amber is decided at close, not by a certificate.
		assert_eq!(Rounds::<Test>::get(round).unwrap().decided(), None);
	});
}

/// The attack: bad slots, as many as the rule tolerates (`max_bad`), say Amber on an honest
/// object before anyone else speaks, hoping to keep greens below the threshold and make the
/// honest proposer pay `AmberFee`. The committee is complete, so the good slots alone reach the
/// threshold: the object ends green, the proposer loses only the round fee, nobody is punished.
#[test]
fn a_tolerated_minority_saying_amber_cannot_keep_an_honest_object_from_green() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let had = Balances::total_balance(&PROPOSER);
		let (object, _) = good_object();
		let round = propose(object);
		let bad = seats_within(round, max_bad(round));
		assert_eq!(bad.iter().map(|s| s.slots).sum::<u32>(), max_bad(round));
		for seat in &bad {
			submit(seat.agent, &verdict(round, Verdict::Amber));
		}
		for seat in seats(round).iter().filter(|s| !bad.contains(s)) {
			if Rounds::<Test>::get(round).unwrap().decided().is_none() {
				submit(seat.agent, &verdict(round, Verdict::Green));
			}
		}
		assert_eq!(ConsensusMachine::light(0, &object), Some((Light::Green, false)));
		run_to_block(System::block_number() + CHALLENGE_WINDOW + 1);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert!(ConsensusMachine::is_valid(0, &object));
		assert_eq!(had - Balances::total_balance(&PROPOSER), fees_paid_by(PROPOSER));
		assert!(pallet_pickets::Penalties::<Test>::iter().next().is_none(), "nobody is punished");
	});
}

/// An amber the bad slots alone can cause (at most `max_bad` of them saying Amber, every other
/// seat silent, as when good pickets are offline) is no proof the proposer did anything wrong:
/// the whole bond comes back.
#[test]
fn an_amber_that_bad_slots_alone_can_cause_costs_the_proposer_nothing() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let had = Balances::total_balance(&PROPOSER);
		let (object, _) = good_object();
		let round = propose(object);
		for seat in seats_within(round, max_bad(round)) {
			submit(seat.agent, &verdict(round, Verdict::Amber));
		}
		run_past_deadline(round);
		assert_ok!(ConsensusMachine::close_round(RuntimeOrigin::signed(99), round));
		assert_eq!(Validity::<Test>::get(0, object).unwrap().light, Some(Light::Amber));
		assert_bond_returned_whole(round);
		assert_eq!(had - Balances::total_balance(&PROPOSER), fees_paid_by(PROPOSER));
	});
}

/// A machine whose first level is not complete (6 slots: max_bad 2, threshold 5, so two bad
/// slots saying Amber leave four good ones below it) does not judge objects.
#[test]
fn only_a_machine_with_a_complete_first_level_judges_objects() {
	ExtBuilder::default().build_and_execute(|| {
		let weak = create_hierarchical_machine(&[6, 10], 5);
		let rule = Machines::<Test>::get(weak).unwrap().levels[0].rule;
		assert!(!rule.is_complete());
		let (object, _) = good_object();
		assert_noop!(
			ConsensusMachine::propose(RuntimeOrigin::signed(PROPOSER), weak, object.hash, 19),
			Error::<Test>::IncompleteCommittee
		);
	});
}

/// The weak machine's green of a bad object: its one seat says green, and a registered agent
/// holding the evidence, but no seat of that committee, could not say red (`NotAPicket`).
/// Now anyone proves it wrong within the challenge window: the object is red on that machine,
/// its green voter is a `WrongVerdict`, the proposer forfeits its bond.
#[test]
fn anyone_with_red_evidence_overturns_a_green_within_its_window() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let weak = create_weak_machine();
		let (object, chunks) = bad_object();
		let round = commit_proposal_to(weak, object);
		run_to_draw();
		let [seat] = seats(round).try_into().expect("one seat");
		submit(seat.agent, &verdict(round, Verdict::Green));
		assert_eq!(ConsensusMachine::light(weak, &object), Some((Light::Green, false)));
		// An agent of the chain, not on this committee: its red as a statement is refused.
		let outsider = (1..=30).find(|a| *a != seat.agent).unwrap();
		let evidence = Rule::evidence(&chunks, 1).unwrap();
		let call = RuntimeCall::ConsensusMachine(CmCall::submit_statement {
			statement: red(round, &evidence),
			seat: 0,
			signature: sign(outsider, &red(round, &evidence)),
			evidence: Some(evidence.clone()),
		});
		assert!(call.authorize(TransactionSource::External).unwrap().is_err());
		// Its challenge is not.
		assert_ok!(ConsensusMachine::challenge_green(
			RuntimeOrigin::signed(outsider),
			round,
			evidence.clone()
		));
		System::assert_has_event(
			Event::GreenChallenged {
				round,
				challenger: outsider,
				evidence: sp_io::hashing::blake2_256(&evidence),
			}
			.into(),
		);
		System::assert_has_event(Event::GreenOverturned { round, object }.into());
		assert_eq!(ConsensusMachine::light(weak, &object), Some((Light::Red, true)));
		let [(_, penalty)] = penalties_of(seat.agent).try_into().unwrap();
		assert_eq!(penalty.kind, OffenceKind::WrongVerdict);
		let [(_, forfeit)] = penalties_of(PROPOSER).try_into().unwrap();
		assert_eq!(forfeit.kind, OffenceKind::RedProposal);
		assert!(penalties_of(outsider).is_empty());
		// Once red, there is nothing left to challenge.
		assert_noop!(
			ConsensusMachine::challenge_green(RuntimeOrigin::signed(outsider), round, evidence),
			Error::<Test>::NotGreen
		);
	});
}

#[test]
fn a_challenge_needs_a_green_in_its_window_and_evidence_that_verifies() {
	ExtBuilder::default().agents(many_agents()).build_and_execute(|| {
		let (object, chunks) = good_object();
		let challenge = |round, evidence: Vec<u8>| {
			ConsensusMachine::challenge_green(RuntimeOrigin::signed(99), round, evidence)
		};
		let genuine = Rule::evidence(&chunks, 0).unwrap();
		assert_noop!(challenge(7, genuine.clone()), Error::<Test>::UnknownRound);
		let round = propose(object);
		// Undecided.
		assert_noop!(challenge(round, genuine.clone()), Error::<Test>::NotGreen);
		for seat in seats_to_threshold(round) {
			submit(seat.agent, &verdict(round, Verdict::Green));
		}
		let decided = System::block_number();
		// A genuine chunk of an honest object, and a relabelled one, prove nothing.
		assert_noop!(challenge(round, genuine.clone()), Error::<Test>::InvalidEvidence);
		let mut relabelled = ChunkEvidence::decode(&mut &Rule::evidence(&chunks, 4).unwrap()[..])
			.expect("genuine evidence decodes");
		relabelled.index = 1;
		assert_noop!(challenge(round, relabelled.encode()), Error::<Test>::InvalidEvidence);
		assert_noop!(challenge(round, vec![0; 3]), Error::<Test>::InvalidEvidence);
		assert_noop!(challenge(round, vec![0; 1_025]), Error::<Test>::EvidenceTooLong);
		run_to_block(decided + CHALLENGE_WINDOW + 1);
		assert_noop!(challenge(round, genuine.clone()), Error::<Test>::ChallengeWindowClosed);
		// Not a validity round.
		let transition = open(create_machine());
		assert_noop!(challenge(transition, genuine), Error::<Test>::WrongKind);
	});
}
