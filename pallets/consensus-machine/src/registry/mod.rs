//! The bond registry: the pickets this pallet supplies to its own machines.
//!
//! - [`bonds`]: agents register, bond, unbond, withdraw and rotate keys; the stake tree and
//!   its snapshots;
//! - [`penalties`]: offences recorded, penalties deferred, cancelled and applied; missed
//!   duties and bans;
//! - [`supply`]: the registry as a
//!   [`Pickets`](consensus_machine_primitives::pickets::Pickets) supplier.
//!
//! The machines reach the registry only through that trait (`Config::Pickets`), and the
//! registry reaches the machines only through
//! [`Accountability`](consensus_machine_primitives::pickets::Accountability): how long a
//! drawn committee stays accountable.

pub(crate) mod bonds;
pub(crate) mod penalties;
pub(crate) mod supply;
