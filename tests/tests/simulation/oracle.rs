//! The harness's own hierarchical oracle: its rounds, opened by the reporter.

use super::*;

impl Sim {
	/// The reporter opens a round of the harness's oracle on a fresh subject.
	pub(crate) fn open_oracle_round(&mut self) {
		let now = System::block_number();
		let round = NextRoundId::<Runtime>::get();
		let open = RuntimeCall::ConsensusMachine(pallet_consensus_machine::Call::commit_round {
			machine: self.oracle,
			subject: self.rng.hash(),
		});
		match open.dispatch_bypass_filter(RuntimeOrigin::signed(self.reporter.clone())) {
			Ok(_) => {
				self.stats.oracle_rounds += 1;
				// Its wait counts from its first attempt.
				let since = self.reporter_retry.take().unwrap_or(now);
				self.reporter_opened.insert(round, since);
			}
			Err(e) => {
				let error = format!("{:?}", e.error);
				// A full queue (or its own share full): the reporter tries again next block.
				if error.contains("PendingDraws") || error.contains("DrawsOfAccount") {
					self.reporter_retry.get_or_insert(now);
				}
				*self.stats.refused.entry(format!("open: {error}")).or_default() += 1
			}
		}
	}

	/// Slots of the harness oracle's primary level.
	pub(crate) fn oracle_slots(&self) -> u32 {
		pallet_consensus_machine::Machines::<Runtime>::get(self.oracle)
			.and_then(|m| m.levels.first().map(|l| l.rule.n))
			.expect("the harness's oracle has a primary level")
	}
}
