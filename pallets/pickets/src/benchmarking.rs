//! Benchmarks of `pallet-pickets` (frame-benchmarking v2), one per [`WeightInfo`] function,
//! each on its worst case: every stake change in a snapshot period that has not written the
//! tree yet (each page it touches keeps its snapshot sums first), a rejoin that settles its old exit first, a
//! penalty whose slash moves its offender's stake. Keys are generated in the benchmark's
//! keystore and sign for real.
//!
//! The stake tree's height, and so the reads of a stake change, follows `MaxAgents` (the tree's
//! capacity), not the population: benchmarks run on the runtime's own `MaxAgents`.
//!
//! [`WeightInfo`]: crate::weights::WeightInfo

use super::*;
use crate::{
	crypto::{Public, Signature},
	types::{AgentInfo, AgentStatus, Offence, OffenceKind, PenaltyStatus},
};
use alloc::vec;
use consensus_machine_primitives::statement::{possession_payload, Body, Statement};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::Weight,
	traits::{fungible::Mutate, EnsureOrigin, Get},
};
use frame_system::RawOrigin;
use sp_runtime::{RuntimeAppPublic, Saturating};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, T::MinBond::get().saturating_mul(1_000u32.into()));
	who
}

fn sign_possession<T: Config>(who: &T::AccountId, key: &Public) -> Signature {
	key.sign(&possession_payload(who, &Pallet::<T>::genesis_hash())).expect("key in the keystore")
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

/// Moves to the second block of the next snapshot period: the benchmarked stake change is the
/// period's first write to the tree.
fn next_snapshot<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	let period = T::SnapshotPeriod::get().max(1u32.into());
	let next = now - now % period + period + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(next);
}

/// An equivocation by agent `who` with `key`: two different statements it signed for one round,
/// recorded (and so its agent suspended, its stake on its way out of the tree).
fn equivocation<T: Config>(who: &T::AccountId, key: &Public) -> Result<PenaltyId, BenchmarkError> {
	let statement = |to| Statement {
		genesis: Pallet::<T>::genesis_hash(),
		machine: 0,
		round: 0,
		instance: [0; 32],
		level: 0,
		body: Body::Transition { step: 0, from: [0; 32], output: [1; 32], to },
	};
	let signed = |s: Statement| {
		let signature = key.sign(&s.signing_payload()).expect("key in the keystore");
		(s, signature.into_inner())
	};
	let reporter = funded::<T>("reporter", 0);
	let offence = Offence::signed(
		OffenceKind::Equivocation,
		who.clone(),
		0,
		key.clone(),
		vec![signed(statement([2; 32])), signed(statement([3; 32]))],
	)
	.reported_by(Some(reporter));
	Pallet::<T>::record_offence(offence).map_err(|_| BenchmarkError::Stop("record"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let who = funded::<T>("new", 0);
		let key = Public::generate_pair(None);
		let proof = sign_possession::<T>(&who, &key);
		next_snapshot::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key, T::MinBond::get(), proof);
		assert!(Agents::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let (who, _) = agent::<T>(0);
		next_snapshot::<T>();
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
		next_snapshot::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Agents::<T>::get(&who).expect("agent").status != AgentStatus::Active);
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
	fn rejoin() {
		// Banned, and its stake not yet out of the tree: rejoining settles that first.
		let (who, _) = agent::<T>(0);
		let info = Agents::<T>::get(&who).expect("agent");
		Pallet::<T>::leave_draw_later(info.index, info.bond);
		let now = frame_system::Pallet::<T>::block_number();
		Agents::<T>::insert(&who, AgentInfo { status: AgentStatus::Banned { until: now }, ..info });
		next_snapshot::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert_eq!(Agents::<T>::get(&who).expect("agent").status, AgentStatus::Active);
	}

	#[benchmark]
	fn settle_exit() {
		// A banned agent's stake, still in the tree, leaves it.
		let (who, _) = agent::<T>(0);
		let info = Agents::<T>::get(&who).expect("agent");
		Pallet::<T>::leave_draw_later(info.index, info.bond);
		let before = TotalStake::<T>::get();
		next_snapshot::<T>();
		#[block]
		{
			Pallet::<T>::settle_pending_exits();
		}
		assert!(!PendingExits::<T>::contains_key(info.index));
		assert_eq!(TotalStake::<T>::get(), before - Pallet::<T>::stake_weight(info.bond));
	}

	#[benchmark]
	fn cancel_penalty() -> Result<(), BenchmarkError> {
		let (who, key) = agent::<T>(0);
		let id = equivocation::<T>(&who, &key)?;
		let origin =
			T::CancelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);
		assert_eq!(Penalties::<T>::get(id).expect("kept").status, PenaltyStatus::Cancelled);
		Ok(())
	}

	#[benchmark]
	fn apply_penalty() -> Result<(), BenchmarkError> {
		// Reported by a signed reporter (recorded with the penalty). The offender is back in the
		// draw when it applies (another penalty of its was cancelled, and it rejoined), so the
		// slash moves its stake in the tree.
		let (offender, key) = agent::<T>(0);
		let id = equivocation::<T>(&offender, &key)?;
		let info = Agents::<T>::get(&offender).ok_or(BenchmarkError::Stop("offender"))?;
		Pallet::<T>::settle_exit(info.index);
		Pallet::<T>::enter_draw(info.index, info.bond);
		Agents::<T>::insert(&offender, AgentInfo { status: AgentStatus::Active, ..info });
		let due = Penalties::<T>::get(id).expect("pending").apply_at;
		next_snapshot::<T>();
		let now = frame_system::Pallet::<T>::block_number().max(due);
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::apply_due_penalties(now, Weight::MAX);
		}
		assert_eq!(PenaltyCursor::<T>::get(), id + 1, "applied");
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().agents(alloc::vec![]).build_with_keystore(),
		crate::mock::Test
	);
}
