//! Certificates: one statement and the signatures of distinct committee members.
//!
//! The check is generic over how one signature is verified (the `sp_io` host function in the
//! runtime, the contract environment in ink!, a native library in a light client), so this crate
//! stays free of FRAME and of any execution environment.

use crate::statement::Statement;
use alloc::{vec, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A member of a committee snapshot: a picket key and the slots it was drawn for.
///
/// Selection is with replacement, so one agent may hold several slots; it signs once and counts
/// for all of them.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Member<Key> {
	/// The member's picket key at the time of the draw.
	pub key: Key,
	/// Slots held.
	pub slots: u32,
}

/// Anything that can stand for a committee member in [`verify`]: the pallet's seats carry the
/// agent's account as well.
pub trait Seat {
	/// The picket key type.
	type Key;
	/// The key that signs for this seat.
	fn key(&self) -> &Self::Key;
	/// Slots the seat holds.
	fn slots(&self) -> u32;
}

impl<S: Seat> Seat for &S {
	type Key = S::Key;
	fn key(&self) -> &S::Key {
		(*self).key()
	}
	fn slots(&self) -> u32 {
		(*self).slots()
	}
}

impl<Key> Seat for Member<Key> {
	type Key = Key;
	fn key(&self) -> &Key {
		&self.key
	}
	fn slots(&self) -> u32 {
		self.slots
	}
}

/// A certificate as it travels off chain (to a contract or a light client): one statement and
/// the (member index, signature) pairs of the members who signed it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Certificate<Signature> {
	/// The certified statement.
	pub statement: Statement,
	/// Member index in the committee snapshot, and that member's signature of the statement's
	/// signing payload.
	pub signatures: Vec<(u32, Signature)>,
}

/// A committee snapshot: its members (key, slots) in draw order and the threshold of its
/// decision rule. A committee hands over to the next by certifying a decision whose value is
/// the next snapshot's [`Snapshot::hash`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Snapshot<Key> {
	/// The members, indexed as certificates index them.
	pub members: Vec<Member<Key>>,
	/// Slots a certificate's signers must hold.
	pub threshold: u32,
}

impl<Key: Encode> Snapshot<Key> {
	/// `blake2_256` of the SCALE encoding: what a previous committee certifies.
	pub fn hash(&self) -> crate::statement::Hash {
		sp_crypto_hashing::blake2_256(&self.encode())
	}
}

/// Why a certificate does not prove its statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateError {
	/// No signatures at all.
	NoSignatures,
	/// More signatures than the committee has members.
	TooManySigners,
	/// A signature names a member index outside the committee.
	UnknownSigner(u32),
	/// Two signatures name the same member.
	DuplicateSigner(u32),
	/// The signers hold fewer slots than the threshold.
	BelowThreshold {
		/// Slots the signers hold.
		slots: u32,
		/// Slots needed.
		needed: u32,
	},
	/// A signature does not verify against the member's key.
	BadSignature(u32),
}

/// Checks that `signatures` (member index, signature) prove `statement` for `committee` at
/// `threshold` slots and returns the slots they hold.
///
/// The cheap checks (indices, duplicates, slot count) run before any signature is verified.
/// Cost: one `verify` call per signer, `O(members)` memory.
pub fn verify<S: Seat, Signature>(
	committee: &[S],
	threshold: u32,
	statement: &Statement,
	signatures: &[(u32, Signature)],
	verify: impl Fn(&S::Key, &[u8], &Signature) -> bool,
) -> Result<u32, CertificateError> {
	let size = u32::try_from(committee.len()).unwrap_or(u32::MAX);
	verify_seats(size, |i| committee.get(i as usize), threshold, statement, signatures, verify)
		.map(|(slots, _)| slots)
}

/// [`verify`] for a committee stored seat by seat: `size` seats, `seat(i)` looks one up (a
/// storage read in the runtime). Each signer's seat is looked up once, before any signature is
/// verified; returns the slots the signers hold and their seats, in the signatures' order.
pub fn verify_seats<S: Seat, Signature>(
	size: u32,
	mut seat: impl FnMut(u32) -> Option<S>,
	threshold: u32,
	statement: &Statement,
	signatures: &[(u32, Signature)],
	verify: impl Fn(&S::Key, &[u8], &Signature) -> bool,
) -> Result<(u32, Vec<S>), CertificateError> {
	if signatures.is_empty() {
		return Err(CertificateError::NoSignatures);
	}
	if signatures.len() > size as usize {
		return Err(CertificateError::TooManySigners);
	}
	let mut seen = vec![false; size as usize];
	let mut slots = 0u32;
	let mut seats = Vec::with_capacity(signatures.len());
	for (index, _) in signatures {
		let unknown = CertificateError::UnknownSigner(*index);
		let first = seen.get_mut(*index as usize).ok_or(unknown)?;
		if core::mem::replace(first, true) {
			return Err(CertificateError::DuplicateSigner(*index));
		}
		let member = seat(*index).ok_or(unknown)?;
		slots = slots.saturating_add(member.slots());
		seats.push(member);
	}
	if slots < threshold {
		return Err(CertificateError::BelowThreshold { slots, needed: threshold });
	}
	let payload = statement.signing_payload();
	for ((index, signature), member) in signatures.iter().zip(&seats) {
		if !verify(member.key(), &payload, signature) {
			return Err(CertificateError::BadSignature(*index));
		}
	}
	Ok((slots, seats))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::statement::Body;

	/// A toy scheme for the unit tests: the "signature" of key k over m is (k, len(m)).
	fn check(key: &u8, msg: &[u8], sig: &(u8, usize)) -> bool {
		*sig == (*key, msg.len())
	}

	fn statement() -> Statement {
		Statement {
			genesis: [0; 32],
			machine: 0,
			round: 0,
			instance: [0; 32],
			level: 0,
			body: Body::Transition { step: 0, from: [0; 32], output: [0; 32], to: [0; 32] },
		}
	}

	fn committee() -> Vec<Member<u8>> {
		vec![Member { key: 1, slots: 3 }, Member { key: 2, slots: 1 }, Member { key: 3, slots: 2 }]
	}

	fn sig(key: u8) -> (u8, usize) {
		(key, statement().signing_payload().len())
	}

	#[test]
	fn counts_slots_not_signers() {
		let c = committee();
		assert_eq!(verify(&c, 5, &statement(), &[(0, sig(1)), (2, sig(3))], check), Ok(5));
	}

	#[test]
	fn refuses_each_bad_input() {
		let (c, s) = (committee(), statement());
		assert_eq!(
			verify::<Member<u8>, (u8, usize)>(&c, 1, &s, &[], check),
			Err(CertificateError::NoSignatures)
		);
		let four = [(0, sig(1)), (1, sig(2)), (2, sig(3)), (0, sig(1))];
		assert_eq!(verify(&c, 1, &s, &four, check), Err(CertificateError::TooManySigners));
		assert_eq!(
			verify(&c, 1, &s, &[(3, sig(1))], check),
			Err(CertificateError::UnknownSigner(3))
		);
		assert_eq!(
			verify(&c, 1, &s, &[(0, sig(1)), (0, sig(1))], check),
			Err(CertificateError::DuplicateSigner(0))
		);
		assert_eq!(
			verify(&c, 5, &s, &[(0, sig(1)), (1, sig(2))], check),
			Err(CertificateError::BelowThreshold { slots: 4, needed: 5 })
		);
		assert_eq!(
			verify(&c, 4, &s, &[(0, sig(1)), (1, sig(1))], check),
			Err(CertificateError::BadSignature(1))
		);
	}
}
