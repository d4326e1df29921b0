//! Shared fixtures for the ink! certificate verifier (`contracts/certificate-verifier`): real
//! certificates this pallet produced and accepts, so the contract's tests run on chain output.
//!
//! The file holds a [`Fixture`]: committee A decides (in a hierarchical round) the hash of
//! committee B's snapshot, which is how a contract hands over from A to B; B then certifies a
//! notary-log step. `UPDATE_FIXTURES=1 cargo test -p pallet-consensus-machine fixtures`
//! rewrites it (sr25519 signatures are randomised, so the bytes change); without the variable
//! the test checks that the committed file still matches this pallet's committees and that the
//! pallet accepts its certificates as they are.

use super::*;
use codec::{Decode, Encode};
use consensus_machine_primitives::certificate::{Certificate, Member, Snapshot};

const FIXTURE: &str = concat!(
	env!("CARGO_MANIFEST_DIR"),
	"/../../contracts/certificate-verifier/fixtures/certificates.scale"
);

/// What the contract's tests read (SCALE; the contract decodes the same layout).
#[derive(Debug, PartialEq, Encode, Decode)]
struct Fixture {
	/// The chain's genesis hash (statements carry it).
	genesis: Hash,
	/// Committee A and its certificate deciding `B.hash()`.
	handover: (Snapshot<[u8; 32]>, Certificate<[u8; 64]>),
	/// Committee B and its certificate of a notary step.
	next: (Snapshot<[u8; 32]>, Certificate<[u8; 64]>),
}

fn snapshot(round: RoundId) -> Snapshot<[u8; 32]> {
	Snapshot {
		members: seats(round)
			.into_iter()
			.map(|s| Member { key: sr25519::Public::from(s.key).0, slots: s.slots })
			.collect(),
		threshold: Rounds::<Test>::get(round).unwrap().threshold,
	}
}

/// Every seat submits `statement` in committee order until the round is decided; returns the
/// certificate the pallet recorded.
fn decide(round: RoundId, statement: &Statement) -> Certificate<[u8; 64]> {
	for seat in seats(round) {
		if Certificates::<Test>::contains_key(round) {
			break;
		}
		submit(seat.agent, statement);
	}
	let record = Certificates::<Test>::get(round).expect("decided");
	Certificate {
		statement: record.statement,
		signatures: record.signatures.into_iter().map(|(i, s)| (i, s.0)).collect(),
	}
}

/// The chain state the fixture comes from: a notary machine (0) with round `b` open and a
/// hierarchical machine (1) with round `a` open.
fn rounds() -> (RoundId, RoundId) {
	create_machine();
	create_hierarchical_machine(&[4, 10], 5);
	let b = open(0);
	let a = NextRoundId::<Test>::get();
	assert_ok!(ConsensusMachine::commit_round(RuntimeOrigin::signed(OPENER), 1, h(7)));
	run_to_draw();
	(a, b)
}

fn handover_statement(a: RoundId, next: &Snapshot<[u8; 32]>) -> Statement {
	Statement {
		genesis: ConsensusMachine::genesis_hash(),
		machine: 1,
		round: a,
		instance: Rounds::<Test>::get(a).unwrap().draw().unwrap().instance,
		level: 0,
		body: Body::Decision { value: Some(next.hash()) },
	}
}

fn produce() -> Fixture {
	let (a, b) = rounds();
	let next = snapshot(b);
	let handover = decide(a, &handover_statement(a, &next));
	let step = decide(b, &statement(0, b));
	Fixture {
		genesis: ConsensusMachine::genesis_hash(),
		handover: (snapshot(a), handover),
		next: (next, step),
	}
}

#[test]
fn fixtures_for_the_contract_are_real_certificates_of_this_pallet() {
	if std::env::var_os("UPDATE_FIXTURES").is_some() {
		let fixture = ExtBuilder::default().build().execute_with(produce);
		std::fs::write(FIXTURE, fixture.encode()).expect("fixture written");
	}
	let bytes = std::fs::read(FIXTURE).expect("the committed fixture");
	let fixture = Fixture::decode(&mut &bytes[..]).expect("the fixture decodes");
	ExtBuilder::default().build_and_execute(|| {
		let (a, b) = rounds();
		assert_eq!(fixture.genesis, ConsensusMachine::genesis_hash());
		assert_eq!(fixture.handover.0, snapshot(a), "committee A is this pallet's draw");
		assert_eq!(fixture.next.0, snapshot(b), "committee B is this pallet's draw");
		assert_eq!(fixture.handover.1.statement, handover_statement(a, &snapshot(b)));
		// The pallet accepts both certificates byte for byte, through its aggregated path.
		for (round, cert) in [(a, &fixture.handover.1), (b, &fixture.next.1)] {
			let signatures = cert
				.signatures
				.iter()
				.map(|(i, s)| (*i, sr25519::Signature::from_raw(*s)))
				.collect::<Vec<_>>();
			assert_ok!(ConsensusMachine::submit_certificate(
				RuntimeOrigin::signed(OPENER),
				cert.statement.clone(),
				signatures
			));
			assert!(Certificates::<Test>::contains_key(round));
		}
	});
}
