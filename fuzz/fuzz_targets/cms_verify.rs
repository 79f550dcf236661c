//! Arbitrary bytes as the CMS signature of a verification request, through the whole pipeline:
//! `Verifier::verify` (format → signature → chain → validity → revocation → key usage →
//! identity → report), offline, with NCA RK test anchors and CRLs.
#![no_main]

#[path = "common/nca_verifier.rs"]
mod nca_verifier;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nca_verifier::verify(data);
});
