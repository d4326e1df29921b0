//! What the consensus-machine pallets share: the picket key ([`crypto`]), which the pickets'
//! supplier registers and the machines verify, and the bookkeeping of the hooks' bounded
//! queues ([`sweep`]).
#![cfg_attr(not(feature = "std"), no_std)]

pub mod sweep;

/// The picket key: an sr25519 application key, key type `cmpk`.
pub mod crypto {
	use sp_application_crypto::{app_crypto, sr25519, KeyTypeId};
	/// The keystore key type of picket keys.
	pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"cmpk");
	app_crypto!(sr25519, KEY_TYPE);
}
