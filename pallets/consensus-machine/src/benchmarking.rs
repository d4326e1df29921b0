//! Benchmarks of `pallet-consensus-machine` (frame-benchmarking v2), one per [`WeightInfo`]
//! function, each on its worst case: committees of `n` slots over four times as many agents (so
//! that nearly every slot is a seat of its own), deciding statements that gather every seat, a
//! red that overturns every green, certificates whose signers equivocated, closes and handovers
//! that ban every silent seat and record its offence. Keys are generated in the benchmark's
//! keystore and sign for real.
//!
//! The pickets come from `pallet-pickets` (the benchmarks require the runtime to supply them
//! from it): its stake tree's depth, and so the reads of a draw, follows its `MaxAgents` (the
//! tree's capacity), not the population, so benchmarks run on the runtime's own `MaxAgents`.
//!
//! [`WeightInfo`]: crate::weights::WeightInfo

use super::*;
use crate::{
	crypto::{Public, Signature},
	types::{EquivocationProof, LevelSpec, SeatProof, StoredSignature},
};
use alloc::{vec, vec::Vec};
use consensus_machine_primitives::{
	light::{Light, MerkleChunks, ObjectRef, Verdict},
	statement::{Body, Hash, MachineId, RoundId, Statement},
	Epsilon, EpsilonArg, Probability, ProbabilityArg,
};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::{TransactionSource, Weight},
	traits::{fungible::Mutate, ConstU32, EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::{RuntimeAppPublic, SaturatedConversion, Saturating};

/// What the benchmarks need from the runtime and cannot build generically.
pub trait BenchmarkHelper {
	/// A bad object of at most `max_size` bytes, and red evidence proving it of about `len`
	/// bytes (more when the verifier's smallest proof is longer).
	fn red_evidence(max_size: u32, len: u32) -> (ObjectRef, Vec<u8>);
}

impl<const CHUNK: u32> BenchmarkHelper for MerkleChunks<CHUNK> {
	fn red_evidence(max_size: u32, len: u32) -> (ObjectRef, Vec<u8>) {
		let chunk = CHUNK.max(1);
		// As many chunks as the largest object has (the longest proof), within reason.
		let leaves = (max_size / chunk).clamp(1, 1 << 12);
		let mut chunks: Vec<Vec<u8>> = (0..leaves).map(|_| vec![0u8; chunk as usize]).collect();
		// The index, two lengths and the proof's hashes; the bad chunk fills the rest, of any
		// length but the one a chunk must have.
		let overhead = 4 + 4 + 1 + 32 * (32 - leaves.leading_zeros());
		let data = len.saturating_sub(overhead).max(1);
		chunks[0] = vec![1u8; if data == chunk { data + 1 } else { data } as usize];
		let object = ObjectRef { hash: Self::commit(&chunks), size: leaves * chunk };
		(object, Self::evidence(&chunks, 0).expect("chunk 0 of at least one"))
	}
}

/// The runtime's pickets come from `pallet-pickets`.
pub trait BenchConfig: Config + pallet_pickets::Config {}
impl<T: Config + pallet_pickets::Config> BenchConfig for T {}

type Registry<T> = pallet_pickets::Pallet<T>;

/// The smallest bond.
fn min_bond<T: BenchConfig>() -> pallet_pickets::BalanceOf<T> {
	<T as pallet_pickets::Config>::MinBond::get()
}

/// The most agents.
fn max_agents<T: BenchConfig>() -> u32 {
	<T as pallet_pickets::Config>::MaxAgents::get()
}

/// A round deposit the size of a bond.
fn deposit<T: BenchConfig>() -> BalanceOf<T> {
	min_bond::<T>().saturated_into::<u128>().saturated_into()
}

/// Enough for bonds, deposits and proposal bonds, and small enough that hundreds of funded
/// accounts do not overflow the total issuance.
fn plenty<T: BenchConfig>() -> BalanceOf<T> {
	deposit::<T>().saturating_add(T::ProposalBond::get()).saturating_mul(1_000u32.into())
}

fn funded<T: BenchConfig>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	<T as Config>::Currency::set_balance(&who, plenty::<T>());
	who
}

/// Bonds agent `index` with a fresh key in the keystore, without the proof of possession
/// (`register` checks it; here it only slows the set-up).
fn bonded<T: BenchConfig>(index: u32) {
	let who = funded::<T>("agent", index);
	let key = Public::generate_pair(None);
	Registry::<T>::do_register(who, key, min_bond::<T>()).expect("a funded agent bonds");
}

/// Bonds benchmark agents `0..count` (capped by `MaxAgents`).
fn agents<T: BenchConfig>(count: u32) {
	for index in 0..count.min(max_agents::<T>()) {
		bonded::<T>(index);
	}
}

fn p() -> ProbabilityArg {
	Probability::new(1, 100).expect("valid").into()
}

fn eps() -> EpsilonArg {
	Epsilon::from_exponent(3).expect("valid").into()
}

/// A unitary machine of `n` slots.
fn machine<T: BenchConfig>(n: u32) -> Result<MachineId, BenchmarkError> {
	let origin =
		T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let id = NextMachineId::<T>::get();
	Pallet::<T>::create_machine(
		origin,
		n,
		p(),
		eps(),
		T::MaxRoundDuration::get(),
		deposit::<T>(),
		[0; 32],
	)
	.map_err(|_| BenchmarkError::Stop("create_machine"))?;
	Ok(id)
}

/// Opens a round of `machine` paid by a funded opener.
fn open<T: BenchConfig>(machine: MachineId) -> Result<RoundId, BenchmarkError> {
	let origin = T::RoundOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let opener =
		T::RoundOrigin::ensure_origin(origin.clone()).map_err(|_| BenchmarkError::Weightless)?;
	<T as Config>::Currency::set_balance(&opener, plenty::<T>());
	let id = NextRoundId::<T>::get();
	Pallet::<T>::commit_round(origin, machine, [9; 32])
		.map_err(|_| BenchmarkError::Stop("commit_round"))?;
	Ok(id)
}

/// Moves to the second block of the next snapshot period: stake changes made so far are in
/// its snapshot, and rounds committed so far may be drawn.
fn next_snapshot<T: BenchConfig>() {
	let now = frame_system::Pallet::<T>::block_number();
	let period = <T as pallet_pickets::Config>::SnapshotPeriod::get().max(1u32.into());
	let next = now - now % period + period + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(next);
}

/// A full population for a draw of `slots` from `seed`: every index below `MaxAgents` holds
/// equal stake in the current snapshot (the stake tree's pages written directly; registering
/// 100,000 agents would take the benchmark minutes), and each index the draw finds names one of
/// the first `named` benchmark agents (registered). The draw then reads as many distinct tree
/// pages, and as many agents, as the runtime's limits allow.
fn full_population<T: BenchConfig>(
	seed: &Hash,
	slots: u32,
	named: u32,
) -> Result<(), BenchmarkError> {
	let population = max_agents::<T>();
	let stake: u128 = min_bond::<T>().saturated_into::<u128>().max(1);
	Registry::<T>::set_equal_stakes(population, stake);
	let tree = pallet_pickets::bonds::SnapshotTree::<T>::current();
	assert_eq!(tree.total(), stake.saturating_mul(population.into()), "the full population");
	let drawn = consensus_machine_primitives::selection::draw(&tree, seed, slots, tree.total())
		.ok_or(BenchmarkError::Stop("no stake"))?;
	for (slot, index) in drawn.into_iter().enumerate() {
		let agent = account::<T::AccountId>("agent", slot as u32 % named, 0);
		pallet_pickets::AgentAt::<T>::insert(index, agent);
	}
	Ok(())
}

/// Draws committed round `round` from a fixed seed (the draw `on_initialize` makes once the
/// chain's randomness allows; a benchmark has no block randomness to wait for), then seats
/// benchmark agents `0..N` one slot each: `N` slots, `N` distinct seats, as a draw from a large
/// population gives (1,000 slots from 100,000 agents are about 995 seats), so that a cost per
/// seat is measured per seat.
fn draw<T: BenchConfig>(round: RoundId) -> Result<u32, BenchmarkError> {
	let info = Rounds::<T>::get(round).ok_or(BenchmarkError::Stop("committed"))?;
	let slots =
		Pallet::<T>::open_drawn(round, info, [7; 32]).map_err(|_| BenchmarkError::Stop("draw"))?;
	// A runtime whose `MaxAgents` is below its `MaxCommittee` (a test mock) spreads the slots.
	let seats = slots.min(max_agents::<T>()).max(1);
	let committee: Vec<_> = (0..seats)
		.map(|i| {
			let agent: T::AccountId = account("agent", i, 0);
			let key = pallet_pickets::Agents::<T>::get(&agent)
				.ok_or(BenchmarkError::Stop("too few agents"))?
				.key;
			let slots = slots / seats + u32::from(i < slots % seats);
			Ok(crate::types::Seat { agent, key, slots })
		})
		.collect::<Result<_, BenchmarkError>>()?;
	let _ = CommitteeChunks::<T>::clear_prefix(round, u32::MAX, None);
	for (chunk, seats) in (0u32..).zip(committee.chunks(SEATS_PER_CHUNK as usize)) {
		CommitteeChunks::<T>::insert(
			round,
			chunk,
			CommitteeChunkOf::<T>::truncate_from(seats.to_vec()),
		);
	}
	CommitteeRoots::<T>::mutate(round, |record| {
		if let Some(record) = record {
			record.root = consensus_machine_primitives::membership::committee_root(&committee);
			record.seats = seats;
		}
	});
	Ok(slots)
}

/// A fresh machine of `n` slots over enough agents, with a round open and its committee drawn.
fn commit_round_of<T: BenchConfig>(n: u32) -> Result<(MachineId, RoundId), BenchmarkError> {
	agents::<T>(n);
	let machine = machine::<T>(n)?;
	next_snapshot::<T>();
	let round = open::<T>(machine)?;
	draw::<T>(round)?;
	Ok((machine, round))
}

/// A hierarchical machine of `levels` levels of `n` slots each.
fn hierarchical<T: BenchConfig>(n: u32, levels: u32) -> Result<MachineId, BenchmarkError> {
	let origin =
		T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let id = NextMachineId::<T>::get();
	Pallet::<T>::create_hierarchical_machine(
		origin,
		level_specs::<T>(n, levels).into(),
		deposit::<T>(),
	)
	.map_err(|_| BenchmarkError::Stop("create_hierarchical_machine"))?;
	Ok(id)
}

fn level_specs<T: BenchConfig>(
	n: u32,
	levels: u32,
) -> BoundedVec<
	LevelSpec<frame_system::pallet_prelude::BlockNumberFor<T>>,
	ConstU32<{ crate::types::MAX_LEVELS }>,
> {
	let timeout = T::MaxRoundDuration::get();
	let spec = LevelSpec { slots: n, p: p(), epsilon: eps(), timeout };
	BoundedVec::truncate_from(vec![spec; levels as usize])
}

/// A hierarchical machine of two levels of `n` slots, with a round open and its primary
/// committee drawn.
fn open_family_of<T: BenchConfig>(n: u32) -> Result<(MachineId, RoundId), BenchmarkError> {
	agents::<T>(n);
	let machine = hierarchical::<T>(n, 2)?;
	next_snapshot::<T>();
	let round = open::<T>(machine)?;
	draw::<T>(round)?;
	Ok((machine, round))
}

/// A hierarchical machine of two levels of `n` slots whose primary stayed silent and handed
/// over, with the backup level's committee drawn: the level where a vote costs most (it reads
/// the family's root besides its own round). Returns the root and the backup round.
fn open_backup_of<T: BenchConfig>(n: u32) -> Result<(RoundId, RoundId), BenchmarkError> {
	let (_, root) = open_family_of::<T>(n)?;
	past_deadline::<T>(root);
	let backup =
		Pallet::<T>::do_start_handover(root).map_err(|_| BenchmarkError::Stop("handover"))?;
	draw::<T>(backup)?;
	Ok((root, backup))
}

/// Every seat of `round` outside `skip` votes or states `other(i)` for its index `i`: all
/// different, so none reaches the threshold, and a decision's gathering reads them all.
fn everyone_else<T: BenchConfig>(
	round: RoundId,
	skip: &[u32],
	other: impl Fn(u32) -> Statement,
) -> Result<(), BenchmarkError> {
	for (index, key, _) in seat_keys::<T>(round) {
		if !skip.contains(&index) {
			submit::<T>(&key, &other(index)).map_err(|_| BenchmarkError::Stop("other"))?;
		}
	}
	Ok(())
}

/// Every seat of `statement`'s round signs it: (seat index, signature).
fn signed_by_all<T: BenchConfig>(statement: &Statement) -> Vec<(u32, StoredSignature)> {
	seat_keys::<T>(statement.round)
		.into_iter()
		.map(|(i, key, _)| (i, sign(&key, statement).into_inner()))
		.collect()
}

/// A value of its own for seat `i`.
fn own(i: u32) -> Hash {
	sp_io::hashing::blake2_256(&i.to_le_bytes())
}

/// What `round`'s draw fixed.
fn draw_of<T: BenchConfig>(
	round: RoundId,
) -> crate::types::Draw<frame_system::pallet_prelude::BlockNumberFor<T>> {
	Rounds::<T>::get(round).and_then(|info| info.draw().cloned()).expect("drawn")
}

/// The decision statement for `value` in level round `round`.
fn decision<T: BenchConfig>(round: RoundId, value: Option<Hash>) -> Statement {
	let info = Rounds::<T>::get(round).expect("open");
	Statement {
		genesis: Pallet::<T>::genesis_hash(),
		machine: info.machine,
		round,
		instance: draw_of::<T>(round).instance,
		level: info.level,
		body: Body::Decision { value },
	}
}

/// The verdict statement on `object` in validity round `round`.
fn verdict<T: BenchConfig>(round: RoundId, object: &ObjectRef, verdict: Verdict) -> Statement {
	let info = Rounds::<T>::get(round).expect("open");
	Statement {
		genesis: Pallet::<T>::genesis_hash(),
		machine: info.machine,
		round,
		instance: draw_of::<T>(round).instance,
		level: 0,
		body: Body::Verdict { object: object.hash, verdict },
	}
}

/// A validity round of `n` slots on a bad object, drawn, with red evidence of about `len`
/// bytes.
fn proposed<T: BenchConfig>(
	n: u32,
	len: u32,
) -> Result<(RoundId, ObjectRef, EvidenceOf<T>), BenchmarkError> {
	// Objects are judged only by complete committees (a few sizes are not: 6 slots here).
	let complete = |n| {
		let p = Probability::new(1, 100).expect("valid");
		consensus_machine_primitives::DecisionRule::exact(
			n,
			p,
			Epsilon::from_exponent(3).expect("valid"),
		)
		.is_ok_and(|r| r.is_complete())
	};
	let n = (n..=T::MaxCommittee::get()).find(|n| complete(*n)).unwrap_or(n);
	agents::<T>(n);
	let machine = machine::<T>(n)?;
	next_snapshot::<T>();
	let (object, evidence) = T::BenchmarkHelper::red_evidence(T::MaxObjectSize::get(), len);
	let evidence = EvidenceOf::<T>::try_from(evidence).map_err(|_| BenchmarkError::Stop("len"))?;
	let proposer = funded::<T>("proposer", 0);
	let round = NextRoundId::<T>::get();
	Pallet::<T>::propose(RawOrigin::Signed(proposer).into(), machine, object.hash, object.size)
		.map_err(|_| BenchmarkError::Stop("propose"))?;
	draw::<T>(round)?;
	Ok((round, object, evidence))
}

/// Every seat of `round` has missed duties up to one short of a ban, and was banned once
/// recently: a miss now bans it again (a stake-tree update) and records an offence.
fn one_miss_from_a_second_ban<T: BenchConfig>(round: RoundId) {
	let now = frame_system::Pallet::<T>::block_number();
	let max = <T as pallet_pickets::Config>::MaxMisses::get();
	let misses = vec![now; max.saturating_sub(1) as usize];
	for seat in Pallet::<T>::committee(round) {
		pallet_pickets::Misses::<T>::insert(&seat.agent, BoundedVec::truncate_from(misses.clone()));
		pallet_pickets::Bans::<T>::insert(&seat.agent, (1, now));
	}
}

/// Moves past `round`'s deadline.
fn past_deadline<T: BenchConfig>(round: RoundId) {
	let deadline = draw_of::<T>(round).deadline;
	frame_system::Pallet::<T>::set_block_number(deadline.saturating_add(1u32.into()));
}

type Signed = (Statement, StoredSignature);

/// An equivocation proof, as the call takes it.
fn pair(first: Signed, second: Signed) -> alloc::boxed::Box<EquivocationProof> {
	alloc::boxed::Box::new(EquivocationProof { first, second })
}

/// The membership proof of a seat of a fresh round of the largest committee (the longest
/// path), and two different statements its key signed for that round.
fn equivocation<T: BenchConfig>(
) -> Result<(SeatProof<T::AccountId>, Signed, Signed), BenchmarkError> {
	let (machine, round) = commit_round_of::<T>(T::MaxCommittee::get())?;
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
fn transition<T: BenchConfig>(machine: MachineId, round: RoundId) -> Statement {
	let label = Machines::<T>::get(machine).expect("machine exists").label;
	Statement {
		genesis: Pallet::<T>::genesis_hash(),
		machine,
		round,
		instance: draw_of::<T>(round).instance,
		level: 0,
		body: Body::Transition { step: label.step, from: label.hash, output: [1; 32], to: [2; 32] },
	}
}

fn seat_keys<T: BenchConfig>(round: RoundId) -> Vec<(u32, Public, u32)> {
	Pallet::<T>::committee(round)
		.iter()
		.enumerate()
		.map(|(i, s)| (i as u32, s.key.clone(), s.slots))
		.collect()
}

fn sign(key: &Public, statement: &Statement) -> Signature {
	key.sign(&statement.signing_payload()).expect("key in the keystore")
}

/// The seat `key` holds in `round`.
fn seat_of<T: BenchConfig>(round: RoundId, key: &Public) -> u32 {
	Pallet::<T>::committee(round).iter().position(|s| &s.key == key).expect("a member") as u32
}

/// `key`'s signed statement, submitted as the block would after its authorisation.
fn submit<T: BenchConfig>(key: &Public, statement: &Statement) -> sp_runtime::DispatchResult {
	let signature = sign(key, statement);
	Pallet::<T>::submit_statement(
		RawOrigin::Authorized.into(),
		statement.clone(),
		seat_of::<T>(statement.round, key),
		signature,
		None,
	)
	.map(|_| ())
	.map_err(|e| e.error)
}

/// Seats submit `statement`, as many as stay below the threshold, but the last (largest) one,
/// which would decide. Returns that seat's index and key, and the seats that submitted.
fn all_but_the_deciding_seat<T: BenchConfig>(statement: &Statement) -> (u32, Public, Vec<u32>) {
	let round = statement.round;
	let mut seats = seat_keys::<T>(round);
	let threshold = Rounds::<T>::get(round).expect("open").threshold;
	// Put the largest seat last, so that the others stay below the threshold for sure.
	seats.sort_by_key(|(_, _, slots)| *slots);
	let (index, last, _) = seats.pop().expect("a seat");
	let (mut slots, mut submitted) = (0, vec![index]);
	for (i, key, s) in seats {
		if slots + s >= threshold {
			break;
		}
		slots += s;
		submit::<T>(&key, statement).expect("a seat's statement is accepted");
		submitted.push(i);
	}
	(index, last, submitted)
}

#[benchmarks(where T: BenchConfig)]
mod benchmarks {
	use super::*;

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
			deposit::<T>(),
			[0; 32],
		);
		assert!(Machines::<T>::contains_key(NextMachineId::<T>::get() - 1));
		Ok(())
	}

	#[benchmark]
	fn create_hierarchical_machine(
		n: Linear<10, { T::MaxCommittee::get() }>,
	) -> Result<(), BenchmarkError> {
		// Every level as large: the exact thresholds of each.
		let origin =
			T::MachineOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let levels = level_specs::<T>(n, crate::types::MAX_LEVELS);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, levels.into(), deposit::<T>());
		assert!(Machines::<T>::contains_key(NextMachineId::<T>::get() - 1));
		Ok(())
	}

	/// The exact decision rule of a committee of `n` slots, beyond `MaxCommittee` (up to
	/// 10,000): what the capacity report states for large committees. No call is charged by
	/// it.
	#[benchmark]
	fn exact_rule(n: Linear<4, 10_000>) -> Result<(), BenchmarkError> {
		let (p, epsilon) =
			(Probability::new(1, 100).expect("valid"), Epsilon::from_exponent(3).expect("valid"));
		let rule;
		#[block]
		{
			rule = consensus_machine_primitives::rule::DecisionRule::exact(n, p, epsilon);
		}
		assert!(rule.is_ok());
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
	fn commit_round() -> Result<(), BenchmarkError> {
		let n = T::MaxCommittee::get();
		agents::<T>(n);
		let machine = machine::<T>(n)?;
		next_snapshot::<T>();
		let origin =
			T::RoundOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let opener = T::RoundOrigin::ensure_origin(origin.clone())
			.map_err(|_| BenchmarkError::Weightless)?;
		<T as Config>::Currency::set_balance(&opener, plenty::<T>());
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, machine, [9; 32]);
		assert!(
			Rounds::<T>::get(NextRoundId::<T>::get() - 1).is_some_and(|r| !r.is_drawn()),
			"committed"
		);
		Ok(())
	}

	#[benchmark]
	fn propose() -> Result<(), BenchmarkError> {
		let n = T::MaxCommittee::get();
		agents::<T>(4);
		let machine = machine::<T>(n)?;
		next_snapshot::<T>();
		let proposer = funded::<T>("proposer", 0);
		let size = T::MaxObjectSize::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(proposer), machine, [5; 32], size);
		assert!(Validity::<T>::contains_key(machine, ObjectRef { hash: [5; 32], size }));
		Ok(())
	}

	#[benchmark]
	fn draw_committee(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// From `MaxAgents` agents of equal stake: every slot descends the stake tree apart from
		// the others as early as it can (the most distinct nodes), nearly every slot a seat
		// of its own (each seat reads its agent).
		let named = n.min(max_agents::<T>());
		agents::<T>(named);
		let machine = machine::<T>(n)?;
		next_snapshot::<T>();
		let round = open::<T>(machine)?;
		let info = Rounds::<T>::get(round).ok_or(BenchmarkError::Stop("committed"))?;
		full_population::<T>(&[7; 32], n, named)?;
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
		// Every other seat stated another value: the decision's gathering reads them all.
		let (machine, round) = commit_round_of::<T>(n)?;
		let statement = transition::<T>(machine, round);
		let (seat, last, submitted) = all_but_the_deciding_seat::<T>(&statement);
		everyone_else::<T>(round, &submitted, |i| {
			let mut other = statement.clone();
			if let Body::Transition { to, .. } = &mut other.body {
				*to = own(i);
			}
			other
		})?;
		let signature = sign(&last, &statement);
		#[extrinsic_call]
		_(RawOrigin::Authorized, statement, seat, signature, None);
		assert!(Certificates::<T>::contains_key(round), "the last statement decides");
		Ok(())
	}

	#[benchmark]
	fn submit_decision(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A backup level's deciding vote, every other seat having voted another value: the
		// family's certificate reads every vote.
		let (_, round) = open_backup_of::<T>(n)?;
		let statement = decision::<T>(round, Some([7; 32]));
		let (seat, last, submitted) = all_but_the_deciding_seat::<T>(&statement);
		everyone_else::<T>(round, &submitted, |i| decision::<T>(round, Some(own(i))))?;
		let signature = sign(&last, &statement);
		#[extrinsic_call]
		submit_statement(RawOrigin::Authorized, statement, seat, signature, None);
		assert!(Certificates::<T>::contains_key(round), "the last vote decides");
		Ok(())
	}

	#[benchmark]
	fn submit_vote() -> Result<(), BenchmarkError> {
		// A backup level's vote that decides nothing (the first): the fee-less statement's usual
		// cost.
		let (_, round) = open_backup_of::<T>(T::MaxCommittee::get())?;
		let (seat, key, _) = seat_keys::<T>(round).pop().expect("a seat");
		let statement = decision::<T>(round, Some([7; 32]));
		let signature = sign(&key, &statement);
		#[extrinsic_call]
		submit_statement(RawOrigin::Authorized, statement, seat, signature, None);
		assert!(Statements::<T>::contains_key(round, seat));
		assert!(!Certificates::<T>::contains_key(round));
		Ok(())
	}

	#[benchmark]
	fn submit_red(
		n: Linear<4, { T::MaxCommittee::get() }>,
		e: Linear<512, { T::MaxEvidenceLen::get() }>,
	) -> Result<(), BenchmarkError> {
		// Every seat but one says green (the object turns green), then the last seat's red,
		// with `e` bytes of evidence, overturns it: an offence for every green.
		let (round, object, evidence) = proposed::<T>(n, e)?;
		let mut seats = seat_keys::<T>(round);
		seats.sort_by_key(|(_, _, slots)| *slots);
		let (seat, last, _) = seats.remove(0);
		let green = verdict::<T>(round, &object, Verdict::Green);
		for (_, key, _) in seats {
			// Greens after the decision are refused: the round took all it could.
			let _ = submit::<T>(&key, &green);
		}
		let hash = sp_io::hashing::blake2_256(&evidence);
		let red = verdict::<T>(round, &object, Verdict::Red { evidence: hash });
		let signature = sign(&last, &red);
		#[extrinsic_call]
		submit_statement(RawOrigin::Authorized, red, seat, signature, Some(evidence.into()));
		let machine = Rounds::<T>::get(round).expect("a live round").machine;
		assert_eq!(Validity::<T>::get(machine, object).and_then(|r| r.light), Some(Light::Red));
		Ok(())
	}

	#[benchmark]
	fn authorize_statement(
		e: Linear<512, { T::MaxEvidenceLen::get() }>,
	) -> Result<(), BenchmarkError> {
		// A red: its `e` bytes of evidence are hashed before the signature is checked.
		let (round, object, evidence) = proposed::<T>(4, e)?;
		let (seat, key, _) = seat_keys::<T>(round).pop().expect("a seat");
		let hash = sp_io::hashing::blake2_256(&evidence);
		let statement = verdict::<T>(round, &object, Verdict::Red { evidence: hash });
		let signature = sign(&key, &statement);
		let evidence = Some(evidence);
		let result;
		#[block]
		{
			result = Pallet::<T>::authorize_statement(
				TransactionSource::External,
				&statement,
				&seat,
				&signature,
				&evidence.as_ref().map(|e| e.to_vec()),
			);
		}
		assert!(result.is_ok());
		Ok(())
	}

	#[benchmark]
	fn submit_certificate(s: Linear<1, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A backup level of `s` seats (the costliest votes to record); every seat signs, and
		// the certificate decides.
		let (_, round) = open_backup_of::<T>(s.max(4))?;
		let statement = decision::<T>(round, Some([7; 32]));
		let signatures = signed_by_all::<T>(&statement);
		let caller = funded::<T>("submitter", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), statement, signatures);
		assert!(Certificates::<T>::contains_key(round));
		Ok(())
	}

	#[benchmark]
	fn certificate_equivocations(
		q: Linear<0, { T::MaxCommittee::get() }>,
	) -> Result<(), BenchmarkError> {
		// The largest backup level; every seat signs, and `q` of them had voted another value
		// each before: the certificate proves each an equivocation (an offence and a
		// suspension each). A certificate of `s` signers proving `q` costs `submit_certificate
		// (s)` and this benchmark's slope in `q`.
		let (_, round) = open_backup_of::<T>(T::MaxCommittee::get())?;
		let statement = decision::<T>(round, Some([7; 32]));
		let signatures = signed_by_all::<T>(&statement);
		for (index, key, _) in seat_keys::<T>(round).into_iter().take(q as usize) {
			submit::<T>(&key, &decision::<T>(round, Some(own(index))))
				.map_err(|_| BenchmarkError::Stop("earlier vote"))?;
		}
		let caller = funded::<T>("submitter", 0);
		#[extrinsic_call]
		submit_certificate(RawOrigin::Signed(caller), statement, signatures);
		let seats = Pallet::<T>::committee_size(round) as usize;
		assert!(
			pallet_pickets::Penalties::<T>::iter().count() >= seats.min(q as usize),
			"every earlier vote proven"
		);
		Ok(())
	}

	#[benchmark]
	fn report_equivocation() -> Result<(), BenchmarkError> {
		let (key, first, second) = equivocation::<T>()?;
		let reporter = funded::<T>("reporter", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(reporter), key, pair(first, second));
		assert_eq!(pallet_pickets::NextPenaltyId::<T>::get(), 1);
		Ok(())
	}

	#[benchmark]
	fn authorize_equivocation_report() -> Result<(), BenchmarkError> {
		let (key, first, second) = equivocation::<T>()?;
		let proof = pair(first, second);
		let result;
		#[block]
		{
			result = Pallet::<T>::authorize_equivocation_report(
				TransactionSource::External,
				&key,
				&proof,
			);
		}
		assert!(result.is_ok());
		Ok(())
	}

	#[benchmark]
	fn report_backup_vote() -> Result<(), BenchmarkError> {
		// The primary pre-decided one value, short of deciding; a backup seat votes another.
		let n = T::MaxCommittee::get();
		let (_, root) = open_family_of::<T>(n)?;
		let _ = all_but_the_deciding_seat::<T>(&decision::<T>(root, Some([7; 32])));
		past_deadline::<T>(root);
		let backup =
			Pallet::<T>::do_start_handover(root).map_err(|_| BenchmarkError::Stop("handover"))?;
		draw::<T>(backup)?;
		let (seat, key, _) = seat_keys::<T>(backup).pop().expect("a seat");
		let bad = decision::<T>(backup, Some([8; 32]));
		let signature = sign(&key, &bad).into_inner();
		let reporter = funded::<T>("reporter", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(reporter), seat, bad, signature);
		assert_eq!(pallet_pickets::NextPenaltyId::<T>::get(), 1);
		Ok(())
	}

	#[benchmark]
	fn close_round(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A validity round nobody judged (it turns amber: the proposer's fee is taken), and
		// every seat's miss is its second ban: a ban and an offence each.
		let (round, _, _) = proposed::<T>(n, 512)?;
		past_deadline::<T>(round);
		one_miss_from_a_second_ban::<T>(round);
		let caller = funded::<T>("closer", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), round);
		assert!(Rounds::<T>::get(round).expect("kept").is_closed());
		Ok(())
	}

	#[benchmark]
	fn start_handover(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// The primary level stayed silent, every seat one miss from a second ban.
		let (_, root) = open_family_of::<T>(n)?;
		past_deadline::<T>(root);
		one_miss_from_a_second_ban::<T>(root);
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), root);
		assert!(Rounds::<T>::contains_key(root + 1), "the backup level is committed");
		Ok(())
	}

	#[benchmark]
	fn authorize_handover() -> Result<(), BenchmarkError> {
		let (_, root) = open_family_of::<T>(4)?;
		past_deadline::<T>(root);
		let result;
		#[block]
		{
			result = Pallet::<T>::authorize_handover(TransactionSource::External, &root);
		}
		assert!(result.is_ok());
		Ok(())
	}

	#[benchmark]
	fn prune_round(n: Linear<4, { T::MaxCommittee::get() }>) -> Result<(), BenchmarkError> {
		// A validity round nobody closed and nobody judged: pruning closes it first (amber),
		// and every seat's miss is its second ban.
		let (round, _, _) = proposed::<T>(n, 512)?;
		let now = draw_of::<T>(round)
			.deadline
			.saturating_add(T::RoundRetention::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		one_miss_from_a_second_ban::<T>(round);
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
