//! Machines: creating unitary and hierarchical machines, each level's exact decision rule
//! computed once, here.

use crate::{
	pallet::*,
	types::{LevelConfig, LevelSpec, MachineInfo, MAX_LEVELS},
};
use alloc::vec::Vec;
use consensus_machine_primitives::{
	handover::{LevelRule, Rules},
	statement::{Hash, Label, MachineId},
	DecisionRule, Epsilon, EpsilonArg, Probability, ProbabilityArg,
};
use frame_support::{ensure, pallet_prelude::*, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Zero;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_create_machine(
		slots: u32,
		p: ProbabilityArg,
		epsilon: EpsilonArg,
		timeout: BlockNumberFor<T>,
		round_deposit: BalanceOf<T>,
		initial_state: Hash,
	) -> Result<MachineId, DispatchError> {
		let level = LevelSpec { slots, p, epsilon, timeout };
		Self::do_create_machine_with_levels(alloc::vec![level], round_deposit, initial_state)
	}

	pub(crate) fn do_create_hierarchical_machine(
		levels: Vec<LevelSpec<BlockNumberFor<T>>>,
		round_deposit: BalanceOf<T>,
	) -> Result<MachineId, DispatchError> {
		ensure!(levels.len() >= 2, Error::<T>::WrongLevelCount);
		Self::do_create_machine_with_levels(levels, round_deposit, [0; 32])
	}

	/// Validates every level, computes its exact rule, and stores the machine. A machine with
	/// several levels must end in a complete level.
	pub(crate) fn do_create_machine_with_levels(
		specs: Vec<LevelSpec<BlockNumberFor<T>>>,
		round_deposit: BalanceOf<T>,
		initial_state: Hash,
	) -> Result<MachineId, DispatchError> {
		ensure!(
			!specs.is_empty() && specs.len() <= MAX_LEVELS as usize,
			Error::<T>::WrongLevelCount
		);
		let mut levels = Vec::new();
		for LevelSpec { slots, p, epsilon, timeout } in specs {
			let p = Probability::try_from(p).map_err(|_| Error::<T>::ProbabilityOutOfRange)?;
			let epsilon = Epsilon::try_from(epsilon).map_err(|_| Error::<T>::EpsilonOutOfRange)?;
			ensure!(slots > 0, Error::<T>::ZeroSlots);
			ensure!(slots <= T::MaxCommittee::get(), Error::<T>::CommitteeTooLarge);
			ensure!(p.is_below_half(), Error::<T>::ProbabilityNotBelowHalf);
			ensure!(
				!timeout.is_zero() && timeout <= T::MaxRoundDuration::get(),
				Error::<T>::InvalidTimeout
			);
			let rule = DecisionRule::exact(slots, p, epsilon).map_err(|e| match e {
				consensus_machine_primitives::Error::UnsafeCommittee => Error::<T>::UnsafeCommittee,
				consensus_machine_primitives::Error::ZeroSlots => Error::<T>::ZeroSlots,
				_ => Error::<T>::CommitteeTooLarge,
			})?;
			levels.push(LevelConfig { p, epsilon, rule, timeout });
		}
		let (Some(first), Some(last)) = (levels.first(), levels.last()) else {
			return Err(Error::<T>::WrongLevelCount.into());
		};
		let first = first.rule;
		if levels.len() > 1 {
			ensure!(last.rule.is_complete(), Error::<T>::BackupNotComplete);
		}
		let machine = NextMachineId::<T>::get();
		let next = machine.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		let levels = BoundedVec::try_from(levels).map_err(|_| Error::<T>::WrongLevelCount)?;
		Machines::<T>::insert(
			machine,
			MachineInfo {
				levels,
				round_deposit,
				label: Label::genesis(machine, &initial_state),
				trace_start: 0,
				open_round: None,
			},
		);
		NextMachineId::<T>::put(next);
		Self::deposit_event(Event::MachineCreated {
			machine,
			slots: first.n,
			max_bad: first.max_bad,
			threshold: first.strong(),
		});
		Ok(machine)
	}

	/// The handover rules of `machine`'s levels.
	pub(crate) fn rules_of(machine: &MachineInfoOf<T>) -> Rules {
		Rules::new(machine.levels.iter().map(|l| LevelRule::from(l.rule)).collect())
	}
}
