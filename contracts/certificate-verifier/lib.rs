//! # Certificate verifier (ink! 5.1)
//!
//! A contract for chains and applications that consume consensus-machine decisions through
//! smart contracts. It holds a **committee snapshot** (picket keys with their slots, and the
//! threshold of the committee's decision rule) and checks certificates against it with the
//! same code the pallet runs: `consensus_machine_primitives::certificate::verify`, with each
//! signature checked by the contract environment's `sr25519_verify`. The statement payload is
//! the primitives' `Statement::signing_payload`, so a certificate produced on the chain verifies
//! here byte for byte.
//!
//! - `verify(certificate)` returns the value the certificate decides: the blake2-256 of the
//!   statement's body (for a hierarchical decision `Some(v)`, `decided_value` gives `v`).
//! - `record(certificate)` verifies, then stores the value for (machine, round); the same value
//!   again is accepted quietly, a different one is refused (`ConflictingValue`).
//! - The snapshot is set by the owner (`set_committee`) or **imported** from a certificate of
//!   the current committee deciding the new snapshot's hash (`import_committee`), so the
//!   contract follows a chain of committees without trusting its owner.
//!
//! Choices: ink! 5.1 (pallet-contracts, wasm) rather than ink! 6 (pallet-revive), because 5.1
//! is the latest stable release (6.0 is a beta) and stable2609 still ships pallet-contracts 51.
//! `sr25519_verify` is in pallet-contracts' *unstable* interface: the chain must set
//! `UnsafeUnstableInterface = ConstBool<true>`. Statements must carry the genesis hash the
//! contract was created with (a certificate for another chain is refused).
#![cfg_attr(not(feature = "std"), no_std, no_main)]

pub use consensus_machine_primitives::{
	certificate::{Certificate, CertificateError, Member, Snapshot},
	statement::{Body, Hash, MachineId, RoundId, Statement},
};

/// A picket key (sr25519 public key).
pub type Key = [u8; 32];
/// An sr25519 signature.
pub type Sig = [u8; 64];
/// A 32-byte hash: a genesis hash or a decided value (ink! names its own `Hash` type inside
/// the contract module, so the contract says `Value`).
pub type Value = Hash;

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[ink::scale_derive(Encode, Decode, TypeInfo)]
// parity-scale-codec 3.7's derive casts variant indices, which cargo-contract's lints flag.
#[allow(clippy::cast_possible_truncation)]
pub enum Error {
	/// Only the owner may set the committee.
	NotOwner,
	/// The statement is for another chain.
	WrongGenesis,
	/// A snapshot without members, or whose threshold its members cannot reach.
	BadSnapshot,
	/// No signatures.
	NoSignatures,
	/// More signatures than members.
	TooManySigners,
	/// A signature names no member.
	UnknownSigner(u32),
	/// Two signatures name the same member.
	DuplicateSigner(u32),
	/// The signers hold `slots`, fewer than `needed`.
	BelowThreshold { slots: u32, needed: u32 },
	/// A signature does not verify.
	BadSignature(u32),
	/// The round already has another recorded value.
	ConflictingValue { recorded: Hash },
	/// The certificate does not decide the offered snapshot's hash.
	NotThisSnapshot,
}

impl From<CertificateError> for Error {
	fn from(e: CertificateError) -> Self {
		match e {
			CertificateError::NoSignatures => Error::NoSignatures,
			CertificateError::TooManySigners => Error::TooManySigners,
			CertificateError::UnknownSigner(i) => Error::UnknownSigner(i),
			CertificateError::DuplicateSigner(i) => Error::DuplicateSigner(i),
			CertificateError::BelowThreshold { slots, needed } => {
				Error::BelowThreshold { slots, needed }
			}
			CertificateError::BadSignature(i) => Error::BadSignature(i),
		}
	}
}

/// The value a hierarchical decision certifies, if `statement` is one.
pub fn decided_value(statement: &Statement) -> Option<Hash> {
	match statement.body {
		Body::Decision { value } => value,
		_ => None,
	}
}

#[ink::contract]
mod certificate_verifier {
	use super::*;
	use ink::{prelude::vec::Vec, storage::Mapping};

	/// A member as stored: key and slots.
	type StoredMember = (Key, u32);

	#[ink(storage)]
	pub struct CertificateVerifier {
		owner: AccountId,
		genesis: Value,
		/// The committee's members in certificate index order.
		members: Vec<StoredMember>,
		threshold: u32,
		/// How many times the committee changed.
		generation: u32,
		/// Recorded values by (machine, round).
		decided: Mapping<(MachineId, RoundId), Value>,
	}

	/// A certificate's value was recorded.
	#[ink(event)]
	pub struct Recorded {
		#[ink(topic)]
		machine: MachineId,
		#[ink(topic)]
		round: RoundId,
		value: Value,
	}

	/// The committee snapshot changed (`imported`: by a certificate of the previous one).
	#[ink(event)]
	pub struct CommitteeChanged {
		generation: u32,
		snapshot: Value,
		imported: bool,
	}

	impl CertificateVerifier {
		/// A verifier for the chain with `genesis`, starting with `committee`; the caller owns it.
		#[ink(constructor)]
		pub fn new(genesis: Value, committee: Snapshot<Key>) -> Self {
			let mut me = Self {
				owner: Self::env().caller(),
				genesis,
				members: Vec::new(),
				threshold: 0,
				generation: 0,
				decided: Mapping::default(),
			};
			// A constructor cannot fail softly: an unusable snapshot leaves an empty committee,
			// which verifies nothing until the owner sets a good one.
			let _ = me.install(&committee, false);
			me
		}

		/// The committee snapshot now in force.
		#[ink(message)]
		pub fn committee(&self) -> Snapshot<Key> {
			Snapshot {
				members: self
					.members
					.iter()
					.map(|(key, slots)| Member { key: *key, slots: *slots })
					.collect(),
				threshold: self.threshold,
			}
		}

		/// How many times the committee changed.
		#[ink(message)]
		pub fn generation(&self) -> u32 {
			self.generation
		}

		/// The value recorded for (`machine`, `round`), if any.
		#[ink(message)]
		pub fn decided(&self, machine: MachineId, round: RoundId) -> Option<Value> {
			self.decided.get((machine, round))
		}

		/// Checks `certificate` against the committee; returns the value it decides (the
		/// blake2-256 of the statement's body). Changes nothing.
		#[ink(message)]
		pub fn verify(&self, certificate: Certificate<Sig>) -> Result<Value, Error> {
			if certificate.statement.genesis != self.genesis {
				return Err(Error::WrongGenesis);
			}
			let members = self.committee().members;
			consensus_machine_primitives::certificate::verify(
				&members,
				self.threshold,
				&certificate.statement,
				&certificate.signatures,
				|key: &Key, message, signature: &Sig| {
					ink::env::sr25519_verify(signature, message, key).is_ok()
				},
			)?;
			Ok(certificate.statement.body.value_hash())
		}

		/// Verifies, then records the value for the statement's (machine, round). The same
		/// value again is a no-op; a different one is refused.
		#[ink(message)]
		pub fn record(&mut self, certificate: Certificate<Sig>) -> Result<Value, Error> {
			let value = self.verify(certificate.clone())?;
			let at = (certificate.statement.machine, certificate.statement.round);
			match self.decided.get(at) {
				Some(recorded) if recorded == value => Ok(value),
				Some(recorded) => Err(Error::ConflictingValue { recorded }),
				None => {
					self.decided.insert(at, &value);
					self.env().emit_event(Recorded { machine: at.0, round: at.1, value });
					Ok(value)
				}
			}
		}

		/// Replaces the committee (owner only).
		#[ink(message)]
		pub fn set_committee(&mut self, committee: Snapshot<Key>) -> Result<(), Error> {
			if self.env().caller() != self.owner {
				return Err(Error::NotOwner);
			}
			self.install(&committee, false)
		}

		/// Replaces the committee by `next` if `certificate`, verified against the current
		/// committee, decides `next.hash()` (anyone may call).
		#[ink(message)]
		pub fn import_committee(
			&mut self,
			certificate: Certificate<Sig>,
			next: Snapshot<Key>,
		) -> Result<(), Error> {
			self.verify(certificate.clone())?;
			if decided_value(&certificate.statement) != Some(next.hash()) {
				return Err(Error::NotThisSnapshot);
			}
			self.install(&next, true)
		}

		fn install(&mut self, committee: &Snapshot<Key>, imported: bool) -> Result<(), Error> {
			let total: u64 = committee.members.iter().map(|m| u64::from(m.slots)).sum();
			if committee.members.is_empty()
				|| committee.threshold == 0
				|| u64::from(committee.threshold) > total
			{
				return Err(Error::BadSnapshot);
			}
			self.members = committee.members.iter().map(|m| (m.key, m.slots)).collect();
			self.threshold = committee.threshold;
			self.generation = self.generation.saturating_add(1);
			self.env().emit_event(CommitteeChanged {
				generation: self.generation,
				snapshot: committee.hash(),
				imported,
			});
			Ok(())
		}
	}

	#[cfg(test)]
	mod tests {
		use super::*;
		use scale::Decode;

		/// Real certificates from the pallet's tests
		/// (`pallets/consensus-machine/src/tests/fixtures.rs`, same layout).
		#[derive(Decode)]
		struct Fixture {
			genesis: Value,
			handover: (Snapshot<Key>, Certificate<Sig>),
			next: (Snapshot<Key>, Certificate<Sig>),
		}

		fn fixture() -> Fixture {
			Fixture::decode(&mut &include_bytes!("fixtures/certificates.scale")[..])
				.expect("fixture decodes")
		}

		fn accounts() -> ink::env::test::DefaultAccounts<ink::env::DefaultEnvironment> {
			ink::env::test::default_accounts::<ink::env::DefaultEnvironment>()
		}

		fn verifier(f: &Fixture, committee: Snapshot<Key>) -> CertificateVerifier {
			ink::env::test::set_caller::<ink::env::DefaultEnvironment>(accounts().alice);
			CertificateVerifier::new(f.genesis, committee)
		}

		fn events() -> usize {
			ink::env::test::recorded_events().count()
		}

		#[ink::test]
		fn a_chain_certificate_verifies_and_is_recorded_once() {
			let f = fixture();
			let mut v = verifier(&f, f.next.0.clone());
			let cert = f.next.1.clone();
			let value = cert.statement.body.value_hash();
			assert_eq!(v.verify(cert.clone()), Ok(value));
			let before = events();
			assert_eq!(v.record(cert.clone()), Ok(value));
			assert_eq!(events(), before + 1, "one Recorded event");
			assert_eq!(v.decided(cert.statement.machine, cert.statement.round), Some(value));
			// The same value again: accepted, nothing new.
			assert_eq!(v.record(cert), Ok(value));
			assert_eq!(events(), before + 1);
		}

		#[ink::test]
		fn a_committee_hands_over_to_the_next_by_certificate() {
			let f = fixture();
			let mut v = verifier(&f, f.handover.0.clone());
			assert_eq!(v.generation(), 1);
			// Committee A cannot certify B's step.
			assert!(v.verify(f.next.1.clone()).is_err());
			// A's certificate for another snapshot does not import it.
			let mut other = f.next.0.clone();
			other.threshold -= 1;
			assert_eq!(
				v.import_committee(f.handover.1.clone(), other),
				Err(Error::NotThisSnapshot)
			);
			assert_eq!(v.generation(), 1);
			assert_eq!(v.import_committee(f.handover.1.clone(), f.next.0.clone()), Ok(()));
			assert_eq!(v.generation(), 2);
			assert_eq!(v.committee(), f.next.0);
			assert!(v.verify(f.next.1.clone()).is_ok());
			// A's certificate no longer verifies under B.
			assert!(v.verify(f.handover.1.clone()).is_err());
		}

		#[ink::test]
		fn every_bad_certificate_is_refused_and_changes_nothing() {
			let f = fixture();
			let mut v = verifier(&f, f.next.0.clone());
			let good = f.next.1.clone();
			let check = |v: &mut CertificateVerifier, cert: Certificate<Sig>, expected: Error| {
				let before = events();
				assert_eq!(v.verify(cert.clone()), Err(expected));
				assert_eq!(v.record(cert.clone()), Err(expected));
				assert_eq!(events(), before, "no event");
				assert_eq!(v.decided(cert.statement.machine, cert.statement.round), None);
			};
			// Wrong committee: A's snapshot does not hold B's signers.
			let wrong = verifier(&f, f.handover.0.clone());
			assert!(matches!(
				wrong.verify(good.clone()),
				Err(Error::BadSignature(_)
					| Error::UnknownSigner(_)
					| Error::TooManySigners
					| Error::BelowThreshold { .. })
			));
			assert_eq!(wrong.decided(good.statement.machine, good.statement.round), None);
			// Duplicate signer.
			let mut dup = good.clone();
			dup.signatures.push(dup.signatures[0]);
			let index = dup.signatures[0].0;
			check(
				&mut v,
				dup,
				if good.signatures.len() + 1 > f.next.0.members.len() {
					Error::TooManySigners
				} else {
					Error::DuplicateSigner(index)
				},
			);
			// Below threshold: drop signers until the slots fall short.
			let mut below = good.clone();
			let slots_of = |i: u32| f.next.0.members[i as usize].slots;
			while below.signatures.iter().map(|(i, _)| slots_of(*i)).sum::<u32>()
				>= f.next.0.threshold
			{
				below.signatures.pop();
			}
			let slots = below.signatures.iter().map(|(i, _)| slots_of(*i)).sum();
			check(&mut v, below, Error::BelowThreshold { slots, needed: f.next.0.threshold });
			// No signatures; an unknown member.
			let mut none = good.clone();
			none.signatures.clear();
			check(&mut v, none, Error::NoSignatures);
			let mut unknown = good.clone();
			unknown.signatures[0].0 = f.next.0.members.len() as u32;
			check(&mut v, unknown, Error::UnknownSigner(f.next.0.members.len() as u32));
			// Tampered statement: another output.
			let mut tampered = good.clone();
			if let Body::Transition { output, .. } = &mut tampered.statement.body {
				output[0] ^= 1;
			} else {
				panic!("B certifies a notary step");
			}
			check(&mut v, tampered, Error::BadSignature(good.signatures[0].0));
			// Tampered signature.
			let mut forged = good.clone();
			forged.signatures[1].1[5] ^= 1;
			check(&mut v, forged, Error::BadSignature(good.signatures[1].0));
			// Replay for another round, or another chain.
			let mut replay = good.clone();
			replay.statement.round += 1;
			check(&mut v, replay, Error::BadSignature(good.signatures[0].0));
			let mut other_chain = good.clone();
			other_chain.statement.genesis[0] ^= 1;
			check(&mut v, other_chain, Error::WrongGenesis);
			// The good one still records.
			assert!(v.record(good).is_ok());
		}

		#[ink::test]
		fn a_second_different_value_for_a_round_is_refused() {
			let f = fixture();
			let mut v = verifier(&f, f.next.0.clone());
			let cert = f.next.1.clone();
			// Two honest certificates for one round cannot disagree (that is the point), so the
			// earlier value is planted: A's real decided value, under B's step's round.
			let mut a = verifier(&f, f.handover.0.clone());
			let first = a.record(f.handover.1.clone()).unwrap();
			assert_ne!(first, cert.statement.body.value_hash());
			v.decided.insert((cert.statement.machine, cert.statement.round), &first);
			let before = events();
			assert_eq!(v.record(cert.clone()), Err(Error::ConflictingValue { recorded: first }));
			assert_eq!(events(), before);
			assert_eq!(v.decided(cert.statement.machine, cert.statement.round), Some(first));
		}

		#[ink::test]
		fn only_the_owner_sets_the_committee_and_bad_snapshots_are_refused() {
			let f = fixture();
			let mut v = verifier(&f, f.next.0.clone());
			ink::env::test::set_caller::<ink::env::DefaultEnvironment>(accounts().bob);
			assert_eq!(v.set_committee(f.handover.0.clone()), Err(Error::NotOwner));
			assert_eq!(v.committee(), f.next.0);
			ink::env::test::set_caller::<ink::env::DefaultEnvironment>(accounts().alice);
			let empty = Snapshot { members: Vec::new(), threshold: 1 };
			assert_eq!(v.set_committee(empty), Err(Error::BadSnapshot));
			let mut unreachable = f.handover.0.clone();
			unreachable.threshold = unreachable.members.iter().map(|m| m.slots).sum::<u32>() + 1;
			assert_eq!(v.set_committee(unreachable), Err(Error::BadSnapshot));
			assert_eq!(v.committee(), f.next.0);
			assert_eq!(v.set_committee(f.handover.0.clone()), Ok(()));
			assert_eq!(v.committee(), f.handover.0);
		}
	}
}
