//! The grinding opener: it predicts committees from what is known at the commitment and
//! opens rounds only when the prediction suits it; and how its rounds are judged.

use super::*;

/// A round the grinding opener committed: the seeds it could know at the commitment (the
/// round's seed from the randomness of the committing block and of the next `RandomnessLead`
/// blocks, which a colluding author knows that early), the committee it predicted from the
/// first, and the bad slots in that committee.
#[derive(Clone)]
pub(crate) struct Ground {
	pub(crate) known: Vec<Hash>,
	pub(crate) committee: Vec<(AccountId, u32)>,
	pub(crate) bad: u64,
}

/// The grinder opens a round when the committee it predicts gives the bad agents at least this
/// many of the oracle's primary slots (a fair draw at a 5 % bad share gives 0.4 on average),
/// at most one round in `GRIND_EVERY` blocks: it waits for a block whose prediction suits it.
pub(crate) const GRIND_BAD_SLOTS: u64 = 1;

pub(crate) const GRIND_EVERY: u32 = 8;

/// A subject's seed in a block whose VRF output is `output`, as the runtime's randomness
/// (`pallet_babe::ParentBlockRandomness`) gives it.
pub(crate) fn seed_from(subject: &[u8], output: &[u8; 32]) -> Hash {
	sp_io::hashing::blake2_256(&[subject, &output[..]].concat())
}

/// The stake snapshot draws use in the current snapshot period, read from storage as anyone
/// can: a tree page as it stood when the period began (kept beside its live sums once changed).
pub(crate) struct Snapshot {
	pub(crate) height: u32,
	pub(crate) period: u32,
}

impl Snapshot {
	pub(crate) fn current() -> Self {
		let period: u32 = <Runtime as pallet_pickets::Config>::SnapshotPeriod::get();
		Self {
			height: pallet_pickets::StakeTreeHeight::<Runtime>::get().into(),
			period: System::block_number() / period.max(1),
		}
	}
	pub(crate) fn total(&self) -> u128 {
		selection::total(self)
	}
}

impl selection::StakeTree for Snapshot {
	fn height(&self) -> u32 {
		self.height
	}
	fn page(&self, level: u32, index: u32) -> selection::Page {
		pallet_pickets::StakePages::<Runtime>::get((level as u8, index))
			.map(|page| page.snapshot(self.period))
			.unwrap_or_default()
	}
	fn set_page(&mut self, _: u32, _: u32, _: selection::Page) {
		unreachable!("a draw only reads the tree")
	}
}

/// The seed round `round` would be drawn from in this block: the runtime's randomness on the
/// pallet's subject for the round (its tag and the round id), as an opener computes it.
pub(crate) fn seed_now(round: RoundId) -> Option<Hash> {
	type R = <Runtime as pallet_consensus_machine::Config>::Randomness;
	let (seed, _) =
		<R as frame_support::traits::Randomness<_, _>>::random(&(*b"cm/round", round).encode());
	seed.map(|s| s.0)
}

/// The agents a draw of `slots` from `seed` over the current stake snapshot gives, with their
/// slots, in draw order (the pallet leaves the seats of agents not active at the draw empty).
pub(crate) fn draw_from(seed: &Hash, slots: u32) -> Vec<(AccountId, u32)> {
	let tree = Snapshot::current();
	let drawn = selection::draw(&tree, seed, slots, tree.total()).unwrap_or_default();
	selection::group(&drawn)
		.into_iter()
		.filter_map(|(index, slots)| Some((pallet_pickets::AgentAt::<Runtime>::get(index)?, slots)))
		.collect()
}

/// [`draw_from`]'s committee as drawn now: the seats of agents not active left out.
pub(crate) fn committee_from(seed: &Hash, slots: u32) -> Vec<(AccountId, u32)> {
	draw_from(seed, slots)
		.into_iter()
		.filter(|(agent, _)| {
			pallet_pickets::Agents::<Runtime>::get(agent)
				.is_some_and(|info| info.status == AgentStatus::Active)
		})
		.collect()
}

/// The least `k` with `P(X > k) <= eps` for `X ~ Binomial(n, q)`, `0 < q < 1`.
pub(crate) fn binomial_upper(n: u64, q: f64, eps: f64) -> u64 {
	let (ln_q, ln_rest) = (q.ln(), (1.0 - q).ln());
	let mut ln_pmf = n as f64 * ln_rest;
	let (mut cdf, mut k) = (ln_pmf.exp(), 0);
	while 1.0 - cdf > eps && k < n {
		ln_pmf += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + ln_q - ln_rest;
		k += 1;
		cdf += ln_pmf.exp();
	}
	k
}

impl Sim {
	/// Bad slots in a committee: those of the agents the harness plays as bad.
	pub(crate) fn bad_slots(&self, committee: &[(AccountId, u32)]) -> u64 {
		committee
			.iter()
			.filter(|(agent, _)| self.adversaries.iter().any(|a| a.bad && a.account == *agent))
			.map(|(_, slots)| u64::from(*slots))
			.sum()
	}

	/// A grinding opener: in each block it computes, from everything known then (the block's
	/// randomness, the stake snapshot, the next round id), the committee the next round would
	/// get if it were drawn at once, and opens a round of the harness's oracle only when that
	/// committee gives the bad agents at least `GRIND_BAD_SLOTS` slots, at most once in
	/// `GRIND_EVERY` blocks. [`Sim::check`] judges the committee each such round is drawn.
	pub(crate) fn grind(&mut self, now: u32) {
		if now < self.ground_at + GRIND_EVERY {
			return;
		}
		let round = NextRoundId::<Runtime>::get();
		let Some(seed) = seed_now(round) else { return };
		// What a colluding author knows: this block's VRF output and the next `lead` ones.
		let lead: u32 = <Runtime as pallet_consensus_machine::Config>::RandomnessLead::get();
		let subject = (*b"cm/round", round).encode();
		let known: Vec<Hash> =
			(now..=now + lead).map(|b| seed_from(&subject, &vrf_output(b, &[]))).collect();
		assert_eq!(known[0], seed, "the grinder's model of the runtime's randomness");
		let slots = self.oracle_slots();
		let committee = committee_from(&seed, slots);
		let bad = self.bad_slots(&committee);
		if bad < GRIND_BAD_SLOTS {
			return;
		}
		let open = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::commit_round {
			machine: self.oracle,
			subject: self.rng.hash(),
		});
		match open.dispatch_bypass_filter(RuntimeOrigin::signed(self.grinder.clone())) {
			Ok(_) => {
				assert_eq!(NextRoundId::<Runtime>::get(), round + 1, "the grinder's round id");
				self.ground.insert(round, Ground { known, committee, bad });
				self.ground_at = now;
				self.stats.ground_rounds += 1;
			}
			Err(e) => *self.stats.refused.entry(format!("grind: {:?}", e.error)).or_default() += 1,
		}
	}

	/// Judges the draw of a round the grinder opened: it must not come from any seed known at
	/// the commitment (the committing block's, nor one a colluding author knew up to
	/// `RandomnessLead` blocks early). The grinder's own computation is checked on the way: the seed it
	/// computes in the block of the draw is the one drawn from, and from it its draw gives the
	/// drawn committee.
	pub(crate) fn judge_ground(&mut self, now: u32, round: RoundId) {
		let seed = self.params.seed;
		let Some(ground) = self.ground.remove(&round) else { return };
		let info = Rounds::<Runtime>::get(round).expect("a round just drawn is live");
		let drawn_seed = info.draw().expect("a round just drawn is drawn").seed;
		assert!(
			!ground.known.contains(&drawn_seed),
			"seed {seed}, block {now}: round {round} was drawn from a seed known when it was \
			 committed"
		);
		assert_eq!(
			seed_now(round),
			Some(drawn_seed),
			"seed {seed}, block {now}: the grinder's seed derivation is not the pallet's"
		);
		let drawn: Vec<(AccountId, u32)> =
			ConsensusMachine::committee(round).into_iter().map(|s| (s.agent, s.slots)).collect();
		// The draw from the seed drawn with, the seats the pallet left empty (agents not
		// active at the draw, at the start of this block) aside.
		let reproduced: Vec<(AccountId, u32)> = draw_from(&drawn_seed, info.slots)
			.into_iter()
			.filter(|(agent, _)| drawn.iter().any(|(a, _)| a == agent))
			.collect();
		assert_eq!(
			reproduced, drawn,
			"seed {seed}, block {now}: the grinder's draw does not reproduce round {round}'s"
		);
		self.stats.predictor_reproduced += 1;
		let s = &mut self.stats;
		s.ground_drawn += 1;
		s.ground_slots += u64::from(info.slots);
		s.ground_predicted_bad += ground.bad;
		s.ground_as_predicted += u64::from(drawn == ground.committee);
		self.stats.ground_drawn_bad += self.bad_slots(&drawn);
	}

	/// The most bad slots a fair draw gives the grinder's rounds (exceeded by chance with
	/// probability at most 10⁻⁶), and the bad share it assumes: at most the bad budget over the
	/// good stake (never slashed, never withdrawn) plus the budget, in any snapshot.
	pub(crate) fn fair_bad_slots(&self) -> (f64, u64) {
		let q = self.bad_budget as f64 / (self.good_stake + self.bad_budget) as f64;
		let most = if q > 0.0 { binomial_upper(self.stats.ground_slots, q, 1e-6) } else { 0 };
		(q, most)
	}
}
