//! The three-node local network on loopback: `--chain local` with `--alice`, `--bob` and
//! `--charlie`, each holding a third of the dev pickets. Waits (bounded) until all three have
//! finalised a block with a decided round and six blocks more, then checks they agree on the
//! finalised chain and on every certificate decided in it (each re-verifies off chain). The
//! nodes are killed when the test ends.
//!
//! Ignored by plain `cargo test` (it needs the node binary): `scripts/e2e.sh` runs it.

mod support;

use codec::Encode;
use consensus_machine_runtime::RuntimeEvent;
use pallet_consensus_machine::{types::CertificateRecord, Event};
use std::time::{Duration, Instant};
use support::{free_port, Node};

/// The peer id of `--node-key 00…01` (ed25519), which the other nodes use to find Alice.
const ALICE_PEER: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";

/// A fixed network key (validators on a non-dev chain need one).
fn node_key(i: u8) -> String {
	format!("{i:064x}")
}

#[test]
#[ignore = "needs the node binary: run scripts/e2e.sh"]
fn three_nodes_finalise_and_agree_on_decided_rounds() {
	let started = Instant::now();
	let alice_port = free_port();
	let bootnode = format!("/ip4/127.0.0.1/tcp/{alice_port}/p2p/{ALICE_PEER}");
	let node = |name: &str, port: u16, pickets: &str, extra: &[&str]| {
		let listen = format!("/ip4/127.0.0.1/tcp/{port}");
		let mut args: Vec<String> = ["--chain", "local", "--tmp", "--listen-addr", &listen]
			.iter()
			.chain(&["--dev-pickets", pickets, &format!("--{name}")])
			.map(|s| s.to_string())
			.collect();
		args.extend(extra.iter().map(|s| s.to_string()));
		Node::start(&format!("network-{name}"), &args)
	};
	let mut nodes = [
		node("alice", alice_port, "0..7", &["--node-key", &node_key(1)]),
		node("bob", free_port(), "7..14", &["--node-key", &node_key(2), "--bootnodes", &bootnode]),
		node(
			"charlie",
			free_port(),
			"14..20",
			&["--node-key", &node_key(3), "--bootnodes", &bootnode],
		),
	];
	for n in &mut nodes {
		// Three debug nodes compile the wasm runtime and build genesis at once on a small
		// machine (about 90 s of CPU each on 2 cores).
		n.wait_for_rpc(Duration::from_secs(480));
	}
	let deadline = Instant::now() + Duration::from_secs(600);
	// A round decided in a block all three have finalised.
	let mut next = 1;
	let (round, finalized) = 'found: loop {
		if Instant::now() > deadline {
			nodes[0].fail("no round decided in a block all three nodes finalised");
		}
		let lowest = nodes.iter().map(|n| n.finalized().0).min().unwrap_or(0);
		while next <= lowest {
			let hash = nodes[0].block_hash(next).unwrap();
			for event in nodes[0].events(hash) {
				if let RuntimeEvent::ConsensusMachine(Event::CertificateRecorded {
					round, ..
				}) = event
				{
					break 'found (round, next);
				}
			}
			next += 1;
		}
		std::thread::sleep(Duration::from_secs(2));
	};
	// Run on a few blocks more, then compare everything decided up to there.
	let target = finalized + 6;
	while nodes.iter().map(|n| n.finalized().0).min().unwrap_or(0) < target {
		if Instant::now() > deadline {
			nodes[0].fail(&format!("the nodes did not all finalise #{target}"));
		}
		std::thread::sleep(Duration::from_secs(2));
	}
	// Every node has the same block at that height, and the same certificates in it.
	let hashes: Vec<_> = nodes.iter().map(|n| n.block_hash(target).unwrap()).collect();
	assert!(hashes.iter().all(|h| *h == hashes[0]), "the nodes finalised different blocks");
	type Cert = Option<
		CertificateRecord<u32, Vec<(u32, pallet_consensus_machine::types::StoredSignature)>>,
	>;
	let mut rounds = vec![round];
	for n in finalized + 1..=target {
		for event in nodes[0].events(nodes[0].block_hash(n).unwrap()) {
			if let RuntimeEvent::ConsensusMachine(Event::CertificateRecorded { round, .. }) = event
			{
				rounds.push(round);
			}
		}
	}
	for round in &rounds {
		let certificates: Vec<Vec<u8>> = nodes
			.iter()
			.map(|n| {
				n.verify_certificate(*round, hashes[0]).unwrap_or_else(|e| n.fail(&e));
				n.call::<Cert>("ConsensusMachineApi_certificate", *round, hashes[0]).encode()
			})
			.collect();
		assert!(certificates.iter().all(|c| *c == certificates[0]), "the nodes disagree");
	}
	let heights: Vec<_> = nodes.iter().map(|n| n.finalized().0).collect();
	println!(
		"three-node network: rounds {rounds:?} decided by finalised block #{target} (first at \
		 #{finalized}), same certificates on all nodes; finalised heights {heights:?}; {:.0?} \
		 from start",
		started.elapsed()
	);
}
