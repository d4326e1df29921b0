//! Placeholder: the consensus-machine pallet is built by issue #3; this crate has no behaviour yet.
#![cfg_attr(not(feature = "std"), no_std)]
