//! Fee-less spam: invalid statements and reports are refused in the authorise step, cheapest
//! checks first. Each rejection is counted in picket signature checks (none for anything a
//! cheap check refuses, one per signature the proof needs otherwise) and leaves the state root
//! as it was.

use super::*;
use crate::{crypto::CHECKS, types::SeatProof};

/// Authorises `call` from the network; returns whether it was valid and the signature checks
/// it cost, and checks it changed no storage.
fn try_authorize(call: CmCall<Test>) -> (bool, u32) {
	let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
	CHECKS.with(|c| c.set(0));
	let valid = RuntimeCall::ConsensusMachine(call)
		.authorize(TransactionSource::External)
		.expect("the call has an authorize function")
		.is_ok();
	let checks = CHECKS.with(|c| c.get());
	assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "no state change");
	(valid, checks)
}

/// `signer`'s statement for seat `seat`, without evidence.
pub(super) fn statement_call(statement: &Statement, seat: u32, signer: AccountId) -> CmCall<Test> {
	CmCall::submit_statement {
		statement: statement.clone(),
		seat,
		signature: sign(signer, statement),
		evidence: None,
	}
}

#[test]
fn invalid_statements_cost_no_signature_check_or_exactly_one() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let committee = seats(round);
		let (agent, seat) = (committee[0].agent, 0u32);
		let good = statement(machine, round);
		let mut cheap: Vec<(&str, Statement, u32)> = Vec::new();
		let mut s = good.clone();
		s.round = 99;
		cheap.push(("unknown round", s, seat));
		s = good.clone();
		s.genesis = h(1);
		cheap.push(("another chain", s, seat));
		s = good.clone();
		s.machine = 7;
		cheap.push(("another machine", s, seat));
		s = good.clone();
		s.instance = h(1);
		cheap.push(("another fork's instance", s, seat));
		s = good.clone();
		s.level = 1;
		cheap.push(("another level", s, seat));
		s = good.clone();
		s.body = Body::Transition { step: 1, from: label(machine).hash, output: h(1), to: h(2) };
		cheap.push(("a stale step", s, seat));
		s = good.clone();
		s.body = Body::Decision { value: Some(h(1)) };
		cheap.push(("another kind", s, seat));
		cheap.push(("a seat the committee lacks", good.clone(), committee.len() as u32));
		for (what, statement, seat) in cheap {
			assert_eq!(
				try_authorize(statement_call(&statement, seat, agent)),
				(false, 0),
				"{what}"
			);
		}
		// Evidence on a statement that carries none: refused before hashing or verifying.
		let mut with_evidence = statement_call(&good, seat, agent);
		if let CmCall::submit_statement { evidence, .. } = &mut with_evidence {
			*evidence = Some(vec![0; 1_024]);
		}
		assert_eq!(try_authorize(with_evidence), (false, 0), "unexpected evidence");
		// Someone else's signature for this seat: one check, then refused.
		let other = committee.iter().find(|s| s.agent != agent).unwrap().agent;
		assert_eq!(try_authorize(statement_call(&good, seat, other)), (false, 1), "forged");
		assert_eq!(try_authorize(statement_call(&good, seat, agent)), (true, 1), "valid");
		// A seat that already spoke, and a round past its deadline: no check.
		submit(agent, &good);
		assert_eq!(try_authorize(statement_call(&good, seat, agent)), (false, 0), "duplicate");
		run_past_deadline(round);
		let late = committee.iter().find(|s| s.agent != agent).unwrap();
		let late_seat = seat_of(round, late.agent);
		assert_eq!(try_authorize(statement_call(&good, late_seat, late.agent)), (false, 0), "late");
	});
}

#[test]
fn invalid_reports_cost_no_signature_check_or_one_per_signature_they_need() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let cheat = seats(round)[0].agent;
		let a = statement(machine, round);
		let mut b = a.clone();
		b.body = Body::Transition { step: 0, from: label(machine).hash, output: h(7), to: h(8) };
		let signed = |s: &Statement, by: AccountId| (s.clone(), stored(sign(by, s)));
		let report = |membership: SeatProof<AccountId>, first, second| {
			CmCall::report_equivocation { membership, proof: pair(first, second) }
		};
		let proof = seat_proof(round, cheat);
		let sa = signed(&a, cheat);
		let sb = signed(&b, cheat);
		let cheap = |first: &Statement, second: &Statement| {
			(first.clone(), stored(sign(cheat, first)), second.clone(), stored(sign(cheat, second)))
		};
		let mut cases = Vec::new();
		cases.push(("the same statement twice", cheap(&a, &a)));
		let (mut ga, mut gb) = (a.clone(), b.clone());
		ga.genesis = h(1);
		gb.genesis = h(1);
		cases.push(("another chain", cheap(&ga, &gb)));
		let (mut ua, mut ub) = (a.clone(), b.clone());
		ua.round = 99;
		ub.round = 99;
		cases.push(("an unknown round", cheap(&ua, &ub)));
		let (mut ia, mut ib) = (a.clone(), b.clone());
		ia.instance = h(1);
		ib.instance = h(1);
		cases.push(("another fork's instance", cheap(&ia, &ib)));
		for (what, (s1, g1, s2, g2)) in cases {
			let call = report(proof.clone(), (s1, g1), (s2, g2));
			assert_eq!(try_authorize(call), (false, 0), "{what}");
		}
		let mut inflated = proof.clone();
		inflated.seat.slots += 1;
		assert_eq!(
			try_authorize(report(inflated, sa.clone(), sb.clone())),
			(false, 0),
			"a bad membership proof"
		);
		let other = seats(round)[1].agent;
		assert_eq!(
			try_authorize(report(proof.clone(), signed(&a, other), sb.clone())),
			(false, 1),
			"the first signature forged"
		);
		assert_eq!(
			try_authorize(report(proof.clone(), sa.clone(), signed(&b, other))),
			(false, 2),
			"the second signature forged"
		);
		assert_eq!(try_authorize(report(proof.clone(), sa.clone(), sb.clone())), (true, 2));
		assert_ok!(ConsensusMachine::report_equivocation(
			RuntimeOrigin::signed(77),
			proof.clone(),
			pair(sa.clone(), sb.clone())
		));
		assert_eq!(try_authorize(report(proof, sa, sb)), (false, 0), "already reported");
	});
}

/// Arguments longer than their bounds still decode (a call that does not decode fails the
/// whole transaction inside the runtime, a trap that tells the client nothing), then get their
/// error: in the authorise step for a fee-less statement, in the call otherwise, with nothing
/// changed.
#[test]
fn oversized_arguments_decode_and_get_their_error() {
	ExtBuilder::default().build_and_execute(|| {
		let machine = create_machine();
		let round = open(machine);
		let seat = seats(round)[0].clone();
		let index = seat_of(round, seat.agent);
		let max = <<Test as Config>::MaxEvidenceLen as frame_support::traits::Get<u32>>::get();
		let evidence = vec![7u8; max as usize + 1];
		let red = Statement {
			body: Body::Verdict {
				object: h(3),
				verdict: consensus_machine_primitives::light::Verdict::Red {
					evidence: sp_io::hashing::blake2_256(&evidence),
				},
			},
			..statement(machine, round)
		};
		let oversized = [
			CmCall::submit_statement {
				statement: red.clone(),
				seat: index,
				signature: sign(seat.agent, &red),
				evidence: Some(evidence.clone()),
			},
			CmCall::submit_certificate {
				statement: statement(machine, round),
				signatures: vec![(0, stored(sign(seat.agent, &red))); MAX_COMMITTEE as usize + 1],
			},
			CmCall::create_hierarchical_machine {
				levels: vec![level(4, 5); crate::types::MAX_LEVELS as usize + 1],
				round_deposit: DEPOSIT,
			},
		];
		for call in &oversized {
			let call = RuntimeCall::ConsensusMachine(call.clone());
			let bytes = codec::Encode::encode(&call);
			assert_eq!(
				<RuntimeCall as codec::Decode>::decode(&mut &bytes[..]).as_ref(),
				Ok(&call),
				"an oversized argument decodes"
			);
		}
		// The statement: refused in the authorise step before any other check, and in the call.
		let (valid, checks) = try_authorize(oversized[0].clone());
		assert!(!valid);
		assert_eq!(checks, 0, "refused before any signature check");
		let refused = RuntimeCall::ConsensusMachine(oversized[0].clone())
			.authorize(TransactionSource::External)
			.expect("the call has an authorize function");
		assert_eq!(
			refused.map(|_| ()),
			Err(InvalidTransaction::Custom(error_index(Error::<Test>::EvidenceTooLong)).into())
		);
		assert_noop!(
			ConsensusMachine::submit_statement(
				RuntimeOrigin::from(frame_system::RawOrigin::Authorized),
				red.clone(),
				index,
				sign(seat.agent, &red),
				Some(evidence),
			),
			Error::<Test>::EvidenceTooLong
		);
		// The certificate and the machine: their errors, nothing changed.
		assert_noop!(
			ConsensusMachine::submit_certificate(
				RuntimeOrigin::signed(99),
				statement(machine, round),
				vec![(0, stored(sign(seat.agent, &red))); MAX_COMMITTEE as usize + 1],
			),
			Error::<Test>::TooManySigners
		);
		assert_noop!(
			ConsensusMachine::create_hierarchical_machine(
				RuntimeOrigin::root(),
				vec![level(4, 5); crate::types::MAX_LEVELS as usize + 1],
				DEPOSIT
			),
			Error::<Test>::WrongLevelCount
		);
		// A membership proof with a path longer than any committee's: refused, not decoded away.
		let mut proof = ConsensusMachine::membership_proof(round, index).unwrap();
		proof.path = vec![[0; 32]; consensus_machine_primitives::membership::MAX_PATH as usize + 1];
		let first = statement(machine, round);
		let mut second = first.clone();
		if let Body::Transition { output, .. } = &mut second.body {
			*output = h(5);
		}
		let report = CmCall::report_equivocation {
			membership: proof,
			proof: pair(
				(first.clone(), stored(sign(seat.agent, &first))),
				(second.clone(), stored(sign(seat.agent, &second))),
			),
		};
		let bytes = codec::Encode::encode(&RuntimeCall::ConsensusMachine(report.clone()));
		assert!(<RuntimeCall as codec::Decode>::decode(&mut &bytes[..]).is_ok());
		assert_noop!(
			sp_runtime::traits::Dispatchable::dispatch(
				RuntimeCall::ConsensusMachine(report),
				RuntimeOrigin::signed(99)
			)
			.map_err(|e| e.error),
			Error::<Test>::BadMembershipProof
		);
	});
}
