//! # The dev chain's demo (dev and test networks only)
//!
//! What a consensus-machine chain needs to show itself working without a human, kept out of
//! the product. A runtime uses it only with its `demo` feature: without it, the runtime
//! declares no driver and its pickets' evaluator is its own.
//!
//! - [`DemoEvaluator`]: how the dev chain's agents judge its demo machines (a notary log, an
//!   oracle) and demo objects (well formed, or provably bad).
//! - [`behaviour`]: misbehaviour on request. [`Misbehaving`] wraps an evaluator so that a node
//!   may ask a share of its local pickets to be silent, equivocate, say a false red or a wrong
//!   green (the dev node's `--picket-behaviour`).
//! - [`driver`]: a pallet that opens and closes rounds every few blocks through the pallet's
//!   public calls, so that a dev chain is never idle.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod behaviour;
pub mod driver;
mod evaluator;

pub use behaviour::{parse_behaviour, Behaviour, Misbehaving, BEHAVIOUR_KEY};
pub use evaluator::{notary_step, oracle, DemoEvaluator, DemoObjects, MAX_DEMO_OBJECT};
