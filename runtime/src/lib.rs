//! Placeholder: the runtime is built by issue #6; this crate has no behaviour yet.
#![cfg_attr(not(feature = "std"), no_std)]
