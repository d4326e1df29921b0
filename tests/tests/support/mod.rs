//! Starting the real node and talking to it over JSON-RPC (plain HTTP on loopback).
//!
//! The client is a few lines over `std::net::TcpStream` (one request per connection,
//! `Connection: close`): the only calls needed are `chain_*`, `state_getStorage` and
//! `state_call`, and an HTTP client crate would cost this machine more compile time than it
//! saves. Values come back SCALE-encoded and are decoded with the runtime's own types.

#![allow(dead_code)]

use codec::{Decode, Encode};
use consensus_machine_primitives::statement::RoundId;
use consensus_machine_runtime::{AccountId, Balance, BlockNumber, Hash, RuntimeEvent};
use consensus_machine_runtime_api::RoundView;
use pallet_consensus_machine::types::{CertificateRecord, Seat, StoredSignature};
use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

/// A free TCP port on loopback (bound, then released for the node to take).
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The node binary: `$CM_NODE`, else `consensus-machine-node` next to this test's directory
/// (`target/debug`), where `cargo build -p consensus-machine-node` puts it.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("CM_NODE") {
		return path.into();
	}
	let exe = std::env::current_exe().unwrap();
	let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
	let path = dir.join("consensus-machine-node");
	assert!(
		path.exists(),
		"{} is missing: build it first (cargo build -p consensus-machine-node) or set CM_NODE",
		path.display()
	);
	path
}

/// A running node; killed (and reaped) when dropped, also when a test panics.
pub struct Node {
	child: Child,
	pub name: String,
	pub rpc_port: u16,
	pub log: PathBuf,
}

impl Node {
	/// Starts the node with `args` plus a free RPC port, no Prometheus and no telemetry;
	/// output goes to `<tmp>/<name>.log`.
	pub fn start(name: &str, args: &[String]) -> Node {
		let rpc_port = free_port();
		let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.log"));
		let file = std::fs::File::create(&log).unwrap();
		let child = Command::new(node_binary())
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--no-prometheus", "--no-telemetry"])
			.stdout(Stdio::null())
			.stderr(file)
			.spawn()
			.expect("the node starts");
		Node { child, name: name.into(), rpc_port, log }
	}

	/// The last lines of the node's log (for failure messages).
	pub fn log_tail(&self) -> String {
		let log = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(30)..].join("\n")
	}

	/// Fails the test with the node's log tail.
	pub fn fail(&self, why: &str) -> ! {
		panic!(
			"{}: {why}\n--- last lines of {} ---\n{}",
			self.name,
			self.log.display(),
			self.log_tail()
		)
	}

	/// One JSON-RPC call.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		let body =
			json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
		let response = http_post(self.rpc_port, &body).map_err(|e| e.to_string())?;
		let mut response: Value = serde_json::from_str(&response).map_err(|e| e.to_string())?;
		match response.get_mut("result") {
			Some(result) => Ok(result.take()),
			None => Err(response["error"].to_string()),
		}
	}

	/// Waits (at most `timeout`) until the RPC server answers.
	pub fn wait_for_rpc(&mut self, timeout: Duration) {
		let start = Instant::now();
		while self.rpc("system_health", json!([])).is_err() {
			if let Ok(Some(status)) = self.child.try_wait() {
				self.fail(&format!("exited with {status}"));
			}
			if start.elapsed() > timeout {
				self.fail("no RPC");
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}

	/// The best block's number.
	pub fn best_number(&self) -> BlockNumber {
		let header = self.rpc("chain_getHeader", json!([])).unwrap_or(Value::Null);
		hex_number(&header["number"])
	}

	/// The finalised block's number and hash.
	pub fn finalized(&self) -> (BlockNumber, Hash) {
		let hash = self.rpc("chain_getFinalizedHead", json!([])).unwrap();
		let hash = Hash::decode(&mut &bytes(&hash)[..]).unwrap();
		let header = self.rpc("chain_getHeader", json!([format!("{hash:?}")])).unwrap();
		(hex_number(&header["number"]), hash)
	}

	/// The hash of block `n` on the best chain.
	pub fn block_hash(&self, n: BlockNumber) -> Option<Hash> {
		let hash = self.rpc("chain_getBlockHash", json!([n])).ok()?;
		hash.as_str().map(|_| Hash::decode(&mut &bytes(&hash)[..]).unwrap())
	}

	/// The runtime events of block `at`.
	pub fn events(&self, at: Hash) -> Vec<RuntimeEvent> {
		self.event_records(at).into_iter().map(|r| r.event).collect()
	}

	/// The runtime events of block `at` with their phases (which extrinsic emitted them).
	pub fn event_records(&self, at: Hash) -> Vec<frame_system::EventRecord<RuntimeEvent, Hash>> {
		let key =
			[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat();
		let value = self
			.rpc("state_getStorage", json!([hex(&key), format!("{at:?}")]))
			.unwrap_or(Value::Null);
		if value.is_null() {
			return Vec::new();
		}
		Vec::<frame_system::EventRecord<RuntimeEvent, Hash>>::decode(&mut &bytes(&value)[..])
			.expect("events decode with the runtime's types")
	}

	/// The encoded extrinsics of block `at`.
	pub fn extrinsics(&self, at: Hash) -> Vec<Vec<u8>> {
		let block = self
			.rpc("chain_getBlock", json!([format!("{at:?}")]))
			.unwrap_or_else(|e| self.fail(&format!("chain_getBlock: {e}")));
		block["block"]["extrinsics"].as_array().into_iter().flatten().map(bytes).collect()
	}

	/// Submits an encoded extrinsic (`author_submitExtrinsic`): its hash, or the error object
	/// the node answered with (e.g. `{"code":1010,"message":"Invalid Transaction",...}`).
	pub fn submit(&self, extrinsic: &[u8]) -> Result<Hash, Value> {
		match self.rpc("author_submitExtrinsic", json!([hex(extrinsic)])) {
			Ok(hash) => Ok(Hash::decode(&mut &bytes(&hash)[..]).expect("a transaction hash")),
			Err(e) => Err(serde_json::from_str(&e).unwrap_or(Value::String(e))),
		}
	}

	/// The next nonce of `who`, counting its transactions in the pool.
	pub fn next_nonce(&self, who: &AccountId) -> u32 {
		let nonce = self
			.rpc("system_accountNextIndex", json!([who.to_string()]))
			.unwrap_or_else(|e| self.fail(&format!("system_accountNextIndex: {e}")));
		nonce.as_u64().and_then(|n| u32::try_from(n).ok()).expect("a nonce")
	}

	/// The runtime's spec and transaction versions.
	pub fn versions(&self) -> (u32, u32) {
		let version = self
			.rpc("state_getRuntimeVersion", json!([]))
			.unwrap_or_else(|e| self.fail(&format!("state_getRuntimeVersion: {e}")));
		let field = |name: &str| version[name].as_u64().and_then(|v| u32::try_from(v).ok());
		(field("specVersion").expect("specVersion"), field("transactionVersion").expect("txv"))
	}

	/// Every storage entry (key, value) of `pallet` at block `at`, sorted by key.
	pub fn pallet_storage(&self, pallet: &str, at: Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
		let prefix = hex(&sp_io::hashing::twox_128(pallet.as_bytes()));
		let at = format!("{at:?}");
		let mut entries = Vec::new();
		let mut start = Value::Null;
		loop {
			let keys = self
				.rpc("state_getKeysPaged", json!([prefix, 1000, start, at]))
				.unwrap_or_else(|e| self.fail(&format!("state_getKeysPaged: {e}")));
			let keys = keys.as_array().cloned().unwrap_or_default();
			if keys.is_empty() {
				break;
			}
			let values = self
				.rpc("state_queryStorageAt", json!([keys, at]))
				.unwrap_or_else(|e| self.fail(&format!("state_queryStorageAt: {e}")));
			for pair in values[0]["changes"].as_array().into_iter().flatten() {
				entries.push((bytes(&pair[0]), bytes(&pair[1])));
			}
			if keys.len() < 1000 {
				break;
			}
			start = keys[keys.len() - 1].clone();
		}
		entries.sort();
		entries
	}

	/// A runtime API call at block `at`, decoded.
	pub fn call<R: Decode>(&self, method: &str, args: impl Encode, at: Hash) -> R {
		let out = self
			.rpc("state_call", json!([method, hex(&args.encode()), format!("{at:?}")]))
			.unwrap_or_else(|e| self.fail(&format!("state_call {method}: {e}")));
		R::decode(&mut &bytes(&out)[..]).expect("the runtime API answer decodes")
	}

	/// Round `round`'s certificate at block `at`, re-verified off chain with the primitives
	/// against the committee and threshold the runtime API reports. Returns the certified
	/// statement's slots.
	pub fn verify_certificate(&self, round: RoundId, at: Hash) -> Result<u32, String> {
		type Cert = CertificateRecord<BlockNumber, Vec<(u32, StoredSignature)>>;
		let cert: Option<Cert> = self.call("ConsensusMachineApi_certificate", round, at);
		let committee: Option<Vec<Seat<AccountId>>> =
			self.call("ConsensusMachineApi_committee", round, at);
		let info: Option<RoundView<AccountId, Balance, BlockNumber>> =
			self.call("ConsensusMachineApi_round", round, at);
		let (cert, committee, info) = match (cert, committee, info) {
			(Some(c), Some(s), Some(i)) => (c, s, i),
			_ => return Err(format!("round {round}: no certificate, committee or round")),
		};
		let slots =
			consensus_machine_runtime_api::verify_certificate(&committee, info.threshold, &cert)
				.map_err(|e| format!("round {round}: {e:?}"))?;
		if slots != cert.slots {
			return Err(format!("round {round}: {slots} slots verified, {} recorded", cert.slots));
		}
		Ok(slots)
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

fn http_post(port: u16, body: &str) -> std::io::Result<String> {
	let mut stream = TcpStream::connect(("127.0.0.1", port))?;
	stream.set_read_timeout(Some(Duration::from_secs(30)))?;
	write!(
		stream,
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)?;
	let mut response = String::new();
	stream.read_to_string(&mut response)?;
	let (head, body) =
		response.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("no HTTP header"))?;
	if !head.starts_with("HTTP/1.1 200") {
		return Err(std::io::Error::other(head.lines().next().unwrap_or("").to_string()));
	}
	if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
		return Ok(dechunk(body));
	}
	Ok(body.to_string())
}

fn dechunk(mut body: &str) -> String {
	let mut out = String::new();
	while let Some((size, rest)) = body.split_once("\r\n") {
		let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
		if size == 0 || rest.len() < size {
			break;
		}
		out.push_str(&rest[..size]);
		body = rest[size..].trim_start_matches("\r\n");
	}
	out
}

/// `0x` and every byte in hex (`HexDisplay` elides the middle of anything over 1 KiB).
fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}

fn bytes(value: &Value) -> Vec<u8> {
	let s = value.as_str().unwrap_or("0x");
	sp_core::bytes::from_hex(s).expect("hex from the node")
}

fn hex_number(value: &Value) -> BlockNumber {
	value
		.as_str()
		.and_then(|s| BlockNumber::from_str_radix(s.trim_start_matches("0x"), 16).ok())
		.unwrap_or(0)
}
