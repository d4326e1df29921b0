//! Benchmarks of `pallet-consensus-machine` (frame-benchmarking v2), one per [`WeightInfo`]
//! function, each on its worst case: committees of `n` distinct agents (as many as
//! `MaxAgents` allows), deciding statements that gather every seat, closes that record a miss
//! for every seat. Keys are generated in the benchmark's keystore and sign for real.
//!
//! [`WeightInfo`]: crate::weights::WeightInfo

use super::*;
use crate::{
	crypto::{Public, Signature},
	types::{EquivocationProof, SeatProof, StoredSignature},
};
use alloc::vec::Vec;
use consensus_machine_primitives::{
	statement::{possession_payload, Body, MachineId, RoundId, Statement},
	Epsilon, EpsilonArg, Probability, ProbabilityArg,
};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::{TransactionSource, Weight},
	traits::{fungible::Mutate, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::{RuntimeAppPublic, Saturating};

/// Enough for bonds, deposits and proposal bonds, and small enough that hundreds of funded
/// accounts do not overflow the total issuance.
fn plenty<T: Config>() -> BalanceOf<T> {
	T::MinBond::get().saturating_add(T::ProposalBond::get()).saturating_mul(1_000u32.into())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, plenty::<T>());
	who
}

/// Registers agent `index` with a fresh key in the keystore.
fn agent<T: Config>(index: u32) -> (T::AccountId, Public) {
	let who = funded::<T>("agent", index);
	let key = Public::generate_pair(None);
	let proof = sign_possession::<T>(&who, &key);
	Pallet::<T>::register(
		RawOrigin::Signed(who.clone()).into(),
		key.clone(),
		T::MinBond::get(),
		proof,
	)
	.expect("a funded agent registers");
	(who, key)
}

fn sign_possession<T: Config>(who: &T::AccountId, key: &Public) -> Signature {
	key.sign(&possession_payload(who, &Pallet::<T>::genesis_hash())).expect("key in the keystore")
}

/// As many agents as a committee of `n` slots can seat, capped by `MaxAgents`.
fn agents<T: Config>(n: u32) -> Vec<(T::AccountId, Public)> {
	(0..n.min(T::MaxAgents::get())).map(agent::<T>).collect()
}

fn p() -> ProbabilityArg {
	Probability::new(1, 100).expect("valid").into()
}

fn eps() -> EpsilonArg {
	Epsilon::from_exponent(3).expect("valid").into()
}

/// A unitary machine of `n` slots.
fn machine<T: Config>(n: u32) -> Result<MachineId, BenchmarkError> {
	let origin =
		T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let id = NextMachineId::<T>::get();
	Pallet::<T>::create_machine(
		origin,
		n,
		p(),
		eps(),
		T::MaxRoundDuration::get(),
		T::MinBond::get(),
		[0; 32],
	)
	.map_err(|_| BenchmarkError::Stop("create_machine"))?;
	Ok(id)
}

/// Opens a round of `machine` paid by a funded opener.
fn open<T: Config>(machine: MachineId) -> Result<RoundId, BenchmarkError> {
	let origin = T::RoundOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let opener =
		T::RoundOrigin::ensure_origin(origin.clone()).map_err(|_| BenchmarkError::Weightless)?;
	T::Currency::set_balance(&opener, plenty::<T>());
	let id = NextRoundId::<T>::get();
	Pallet::<T>::open_round(origin, machine, [9; 32])
		.map_err(|_| BenchmarkError::Stop("open_round"))?;
	Ok(id)
}

/// Moves to the second block of the next snapshot period: stake changes made so far are in
/// its snapshot, and rounds committed so far may be drawn.
fn next_snapshot<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	let period = T::SnapshotPeriod::get().max(1u32.into());
	let next = now - now % period + period + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(next);
}

/// Draws committed round `round` from a fixed seed: the draw `on_initialize` makes once the
/// chain's randomness allows (a benchmark has no block randomness to wait for).
fn draw<T: Config>(round: RoundId) -> Result<u32, BenchmarkError> {
	let info = Rounds::<T>::get(round).ok_or(BenchmarkError::Stop("committed"))?;
	Pallet::<T>::open_drawn(round, info, [7; 32]).map_err(|_| BenchmarkError::Stop("draw"))
}

/// A fresh machine of `n` slots over as many agents as it can seat, with a round open and
/// its committee drawn.
fn open_round_of<T: Config>(n: u32) -> Result<(MachineId, RoundId), BenchmarkError> {
	agents::<T>(n);
	let machine = machine::<T>(n)?;
	next_snapshot::<T>();
	let round = open::<T>(machine)?;
	draw::<T>(round)?;
	Ok((machine, round))
}

type Signed = (Statement, StoredSignature);

/// An equivocation proof, as the call takes it.
fn pair(first: Signed, second: Signed) -> alloc::boxed::Box<EquivocationProof> {
	alloc::boxed::Box::new(EquivocationProof { first, second })
}

/// The membership proof of a seat of a fresh round of the largest committee (the longest
/// path), and two different statements its key signed for that round.
fn equivocation<T: Config>() -> Result<(SeatProof<T::AccountId>, Signed, Signed), BenchmarkError> {
	let (machine, round) = open_round_of::<T>(T::MaxCommittee::get())?;
	let (index, key, _) = seat_keys::<T>(round).pop().expect("a seat");
	let proof = Pallet::<T>::membership_proof(round, index).ok_or(BenchmarkError::Stop("proof"))?;
	let first = transition::<T>(machine, round);
	let mut second = first.clone();
	if let Body::Transition { to, .. } = &mut second.body {
		*to = [3; 32];
	}
	let first = (first.clone(), sign(&key, &first).into_inner());
	let second = (second.clone(), sign(&key, &second).into_inner());
	Ok((proof, first, second))
}

/// The transition statement for `round` of `machine`.
fn transition<T: Config>(machine: MachineId, round: RoundId) -> Statement {
	let label = Machines::<T>::get(machine).expect("machine exists").label;
	Statement {
		genesis: Pallet::<T>::genesis_hash(),
		machine,
		round,
		instance: Rounds::<T>::get(round).expect("open").instance,
		level: 0,
		body: Body::Transition { step: label.step, from: label.hash, output: [1; 32], to: [2; 32] },
	}
}

fn seat_keys<T: Config>(round: RoundId) -> Vec<(u32, Public, u32)> {
	Committees::<T>::get(round)
		.expect("drawn")
		.iter()
		.enumerate()
		.map(|(i, s)| (i as u32, s.key.clone(), s.slots))
		.collect()
}

fn sign(key: &Public, statement: &Statement) -> Signature {
	key.sign(&statement.signing_payload()).expect("key in the keystore")
}

/// The seat `key` holds in `round`.
fn seat_of<T: Config>(round: RoundId, key: &Public) -> u32 {
	Committees::<T>::get(round)
		.and_then(|c| c.iter().position(|s| &s.key == key))
		.expect("a member") as u32
}

/// `key`'s signed statement, submitted as the block would after its authorisation.
fn submit<T: Config>(key: &Public, statement: &Statement) -> sp_runtime::DispatchResult {
	let signature = sign(key, statement);
	Pallet::<T>::submit_statement(
		RawOrigin::Authorized.into(),
		statement.clone(),
		seat_of::<T>(statement.round, key),
		signature,
		None,
	)
}

/// Every seat but the last (the one that decides) submits; returns the last seat's key.
fn all_but_the_deciding_seat<T: Config>(machine: MachineId, round: RoundId) -> Public {
	let statement = transition::<T>(machine, round);
	let mut seats = seat_keys::<T>(round);
	let threshold = Rounds::<T>::get(round).expect("open").threshold;
	// Put the largest seat last, so that the others stay below the threshold for sure.
	seats.sort_by_key(|(_, _, slots)| *slots);
	let (_, last, _) = seats.pop().expect("a seat");
	let mut slots = 0;
	for (_, key, s) in seats {
		if slots + s >= threshold {
			break;
		}
		slots += s;
		submit::<T>(&key, &statement).expect("a seat's statement is accepted");
	}
	last
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let who = funded::<T>("new", 0);
		let key = Public::generate_pair(None);
		let proof = sign_possession::<T>(&who, &key);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key, T::MinBond::get(), proof);
		assert!(Agents::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let (who, _) = agent::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get());
		assert_eq!(
			Agents::<T>::get(&who).expect("agent").bond,
			T::MinBond::get() + T::MinBond::get()
		);
	}

	#[benchmark]
	fn unbond() {
		let (who, _) = agent::<T>(0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Agents::<T>::get(&who).expect("agent").status != crate::types::AgentStatus::Active);
	}

	#[benchmark]
	fn withdraw_unbonded() {
		let (who, _) = agent::<T>(0);
		Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into()).expect("unbonds");
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::UnbondingDelay::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Agents::<T>::contains_key(&who));
	}

	#[benchmark]
	fn rotate_key() {
		let (who, _) = agent::<T>(0);
		let key = Public::generate_pair(None);
		let proof = sign_possession::<T>(&who, &key);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key.clone(), proof);
		assert_eq!(Agents::<T>::get(&who).expect("agent").key, key);
	}

	#[benchmark]
	fn create_machine(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			n,
			p(),
			eps(),
			T::MaxRoundDuration::get(),
			T::MinBond::get(),
			[0; 32],
		);
		assert!(Machines::<T>::contains_key(0));
		Ok(())
	}

	#[benchmark]
	fn set_machine_opener() -> Result<(), BenchmarkError> {
		let machine = machine::<T>(4)?;
		let origin =
			T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let opener = funded::<T>("opener", 0);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, machine, Some(opener.clone()));
		assert_eq!(MachineOpeners::<T>::get(machine), Some(opener));
		Ok(())
	}

	#[benchmark]
	fn open_round() -> Result<(), BenchmarkError> {
		let n = T::MaxCommittee::get();
		agents::<T>(n);
		let machine = machine::<T>(n)?;
		next_snapshot::<T>();
		let origin =
			T::RoundOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let opener = T::RoundOrigin::ensure_origin(origin.clone())
			.map_err(|_| BenchmarkError::Weightless)?;
		T::Currency::set_balance(&opener, plenty::<T>());
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, machine, [9; 32]);
		assert!(Rounds::<T>::get(0).is_some_and(|r| !r.is_drawn()), "committed");
		Ok(())
	}

	#[benchmark]
	fn draw_committee(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		agents::<T>(n);
		let machine = machine::<T>(n)?;
		next_snapshot::<T>();
		let round = open::<T>(machine)?;
		let info = Rounds::<T>::get(round).ok_or(BenchmarkError::Stop("committed"))?;
		#[block]
		{
			Pallet::<T>::open_drawn(round, info, [7; 32])
				.map_err(|_| BenchmarkError::Stop("draw"))?;
		}
		assert!(Rounds::<T>::get(round).is_some_and(|r| r.is_drawn()), "drawn");
		Ok(())
	}

	#[benchmark]
	fn submit_statement(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		let (machine, round) = open_round_of::<T>(n)?;
		let last = all_but_the_deciding_seat::<T>(machine, round);
		let statement = transition::<T>(machine, round);
		let signature = sign(&last, &statement);
		let seat = seat_of::<T>(round, &last);
		#[extrinsic_call]
		_(RawOrigin::Authorized, statement, seat, signature, None);
		assert!(Certificates::<T>::contains_key(round), "the last statement decides");
		Ok(())
	}

	#[benchmark]
	fn authorize_statement(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		let (machine, round) = open_round_of::<T>(n)?;
		// The last seat: the longest committee to decode.
		let (seat, key, _) = seat_keys::<T>(round).pop().expect("a seat");
		let statement = transition::<T>(machine, round);
		let signature = sign(&key, &statement);
		let result;
		#[block]
		{
			result = Pallet::<T>::authorize_statement(
				TransactionSource::External,
				&statement,
				&seat,
				&signature,
				&None,
			);
		}
		assert!(result.is_ok());
		Ok(())
	}

	#[benchmark]
	fn submit_certificate(s: Linear<1, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A committee of `s` slots over `s` agents (as distinct as the draw makes them); every
		// seat signs.
		let (machine, round) = open_round_of::<T>(s.max(4))?;
		let statement = transition::<T>(machine, round);
		let signatures: Vec<(u32, StoredSignature)> = seat_keys::<T>(round)
			.into_iter()
			.map(|(i, key, _)| (i, sign(&key, &statement).into_inner()))
			.collect();
		let signatures = BoundedVec::truncate_from(signatures);
		let caller = funded::<T>("submitter", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), statement, signatures);
		assert!(Certificates::<T>::contains_key(round));
		Ok(())
	}

	#[benchmark]
	fn report_equivocation() -> Result<(), BenchmarkError> {
		let (key, first, second) = equivocation::<T>()?;
		let reporter = funded::<T>("reporter", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(reporter), key, pair(first, second));
		assert_eq!(NextPenaltyId::<T>::get(), 1);
		Ok(())
	}

	#[benchmark]
	fn close_round(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// Nobody signed: every seat gets a miss.
		let (_, round) = open_round_of::<T>(n)?;
		let deadline = Rounds::<T>::get(round).expect("open").deadline;
		frame_system::Pallet::<T>::set_block_number(deadline.saturating_add(1u32.into()));
		let caller = funded::<T>("closer", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), round);
		assert!(Rounds::<T>::get(round).expect("kept").closed);
		Ok(())
	}

	#[benchmark]
	fn cancel_penalty() -> Result<(), BenchmarkError> {
		let (key, first, second) = equivocation::<T>()?;
		Pallet::<T>::report_equivocation(RawOrigin::Authorized.into(), key, pair(first, second))
			.map_err(|_| BenchmarkError::Stop("report"))?;
		let origin =
			T::CancelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 0);
		assert!(
			Penalties::<T>::get(0).expect("kept").status != crate::types::PenaltyStatus::Pending
		);
		Ok(())
	}

	#[benchmark]
	fn apply_penalty() -> Result<(), BenchmarkError> {
		// Reported by a signed reporter (recorded with the penalty).
		let (key, first, second) = equivocation::<T>()?;
		let reporter = funded::<T>("reporter", 0);
		Pallet::<T>::report_equivocation(
			RawOrigin::Signed(reporter).into(),
			key,
			pair(first, second),
		)
		.map_err(|_| BenchmarkError::Stop("report"))?;
		let due = Penalties::<T>::get(0).expect("pending").apply_at;
		frame_system::Pallet::<T>::set_block_number(due);
		#[block]
		{
			Pallet::<T>::apply_due_penalties(due, Weight::MAX);
		}
		assert_eq!(PenaltyCursor::<T>::get(), 1, "applied");
		Ok(())
	}

	#[benchmark]
	fn prune_round(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A decided round with every seat's statement stored.
		let (machine, round) = open_round_of::<T>(n)?;
		let statement = transition::<T>(machine, round);
		for (_, key, _) in seat_keys::<T>(round) {
			if Certificates::<T>::contains_key(round) {
				break;
			}
			submit::<T>(&key, &statement).map_err(|_| BenchmarkError::Stop("statement"))?;
		}
		let info = Rounds::<T>::get(round).expect("kept");
		let end = info.decided.unwrap_or(info.deadline);
		let now = end.saturating_add(T::RoundRetention::get()).saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::on_idle(now, Weight::MAX);
		}
		assert!(!Rounds::<T>::contains_key(round), "pruned");
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().agents(alloc::vec![]).build_with_keystore(),
		crate::mock::Test
	);
}
