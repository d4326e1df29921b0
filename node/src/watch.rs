//! The node's account of what the consensus machines do: for every imported best block it
//! reads the block's events and logs (target `consensus-machine`) rounds opened, decisions
//! (with their certificate re-verified off chain through the runtime API and the
//! primitives), handovers, traffic lights, offences, slashes and bans. This is what a newcomer
//! watches in the dev node's output; nothing depends on it.

use crate::service::FullClient;
use codec::Decode;
use consensus_machine_runtime::pallet_pickets::Event as PicketsEvent;
use consensus_machine_runtime::{
	AccountId, Balance, Block, BlockNumber, Hash, Runtime, RuntimeEvent,
};
use consensus_machine_runtime_api::{verify_certificate, ConsensusMachineApi};
use futures::StreamExt;
use pallet_consensus_machine::Event;
use sc_client_api::{BlockchainEvents, StorageProvider};
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_core::storage::StorageKey;
use sp_runtime::traits::Header;
use std::sync::Arc;

const TARGET: &str = "consensus-machine";

/// Runs until the node stops.
pub async fn run(client: Arc<FullClient>) {
	let mut imports = client.import_notification_stream();
	while let Some(block) = imports.next().await {
		if !block.is_new_best {
			continue;
		}
		let number = *block.header.number();
		for event in events(&client, block.hash) {
			if let Some(line) = describe(&client, block.hash, event) {
				log::info!(target: TARGET, "#{number} {line}");
			}
		}
	}
}

fn events(client: &FullClient, at: Hash) -> Vec<RuntimeEvent> {
	let key = StorageKey(
		[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat(),
	);
	let Ok(Some(data)) = client.storage(at, &key) else { return Vec::new() };
	Vec::<frame_system::EventRecord<RuntimeEvent, Hash>>::decode(&mut &data.0[..])
		.unwrap_or_default()
		.into_iter()
		.map(|r| r.event)
		.collect()
}

/// The certificate of `round` at `at`, re-verified.
fn check(client: &FullClient, at: Hash, round: u64) -> String {
	let api = client.runtime_api();
	// The round's slots and threshold: a runtime before API version 2 returned the storage
	// record.
	let version =
		api.api_version::<dyn ConsensusMachineApi<Block, AccountId, Balance, BlockNumber>>(at);
	#[allow(deprecated)]
	let info = match version {
		Ok(Some(v)) if v < 2 => {
			api.round_before_version_2(at, round).map(|r| r.map(|r| (r.slots, r.threshold)))
		}
		_ => api.round(at, round).map(|r| r.map(|r| (r.slots, r.threshold))),
	};
	let found = (api.certificate(at, round), api.committee(at, round), info);
	match found {
		(Ok(Some(cert)), Ok(Some(committee)), Ok(Some((slots, threshold)))) => {
			let all = slots;
			match verify_certificate(&committee, threshold, &cert) {
				Ok(slots) if slots == cert.slots => {
					format!("certificate re-verified off chain ({slots} of {all} slots)")
				}
				Ok(slots) => format!("certificate MISMATCH ({slots} verified, {})", cert.slots),
				Err(e) => format!("certificate FAILED verification: {e:?}"),
			}
		}
		_ => "certificate not found".into(),
	}
}

fn short(hash: &[u8; 32]) -> String {
	format!("0x{}…", sp_core::hexdisplay::HexDisplay::from(&&hash[..4]))
}

fn describe(client: &FullClient, at: Hash, event: RuntimeEvent) -> Option<String> {
	let event = match event {
		RuntimeEvent::ConsensusMachine(event) => event,
		RuntimeEvent::Pickets(event) => return describe_picket(event),
		_ => return None,
	};
	Some(match event {
		Event::RoundDrawn { round, machine, deadline, committee, .. } => format!(
			"round {round} drawn on machine {machine}: {} agents hold its seats, deadline #{deadline}",
			committee.len()
		),
		Event::Proposed { round, object, .. } => format!(
			"object {} ({} bytes) proposed: validity round {round}",
			short(&object.hash),
			object.size
		),
		Event::CertificateRecorded { round, machine, value, signers, .. } => format!(
			"round {round} of machine {machine} DECIDED {} by {signers} pickets; {}",
			short(&value),
			check(client, at, round)
		),
		Event::HandoverStarted { round, from_level, to_level, backup_round, required } => format!(
			"round {round} timed out at level {from_level}: HANDOVER to level {to_level} (round \
			 {backup_round}){}",
			required.map(|v| format!(", which must adopt {}", short(&v))).unwrap_or_default()
		),
		Event::LightDecided { round, object, light } => {
			format!("object {} judged {light:?} (round {round})", short(&object.hash))
		}
		Event::GreenOverturned { round, object } => {
			format!("object {}: green OVERTURNED by a red (round {round})", short(&object.hash))
		}
		Event::RoundClosed { round, light } => format!("round {round} closed ({light:?})"),
		_ => return None,
	})
}

fn describe_picket(event: PicketsEvent<Runtime>) -> Option<String> {
	Some(match event {
		PicketsEvent::OffenceRecorded { penalty, offender, kind, round, apply_at } => format!(
			"OFFENCE {kind:?} by {offender} in round {round}: penalty {penalty} due at #{apply_at}"
		),
		PicketsEvent::PenaltyApplied { penalty, offender, slashed } => {
			format!("SLASHED {offender}: {slashed} (penalty {penalty})")
		}
		PicketsEvent::DutyMissed { agent, round, misses } => {
			format!("{agent} missed its duty in round {round} ({misses} in the window)")
		}
		PicketsEvent::AgentBanned { agent, until } => format!("{agent} BANNED until #{until}"),
		_ => return None,
	})
}
