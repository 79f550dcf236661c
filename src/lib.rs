//! qoltanba (қолтаңба, "signature"): digital signatures (ЭЦП) and document integrity for
//! Kazakhstan's e-government licensing flow.
//!
//! Rooms, top to bottom; a room uses only rooms below it (`tests/it/layering.rs` checks it,
//! ARCHITECTURE.md describes each room's door):
//!
//! `cli`, `fuzzing` → `http` → `config` → `pki` → `sign`, `security`, `verify` (peers: none uses
//! another) → `store` → `keystore` → `x509`, `tlog` (peers) → `crypto` → `identity`,
//! `telemetry`, `time`, `xml`.

pub mod cli;
pub mod config;
pub mod crypto;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod identity;
pub mod keystore;
pub mod pki;
pub mod security;
pub mod sign;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod tlog;
pub mod verify;
pub mod x509;
pub mod xml;
