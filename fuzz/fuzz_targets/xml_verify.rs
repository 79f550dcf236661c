//! Arbitrary bytes as an XML signed document, through the whole pipeline (XML parsing,
//! canonicalisation, references, wrapping policy, KeyInfo, then the steps every format shares),
//! offline, with NCA RK test anchors and CRLs. Every input is made to look like XML, so the
//! fuzzer spends no time on the CMS adapter; the seeds are Kalkan's samples.
#![no_main]

#[path = "common/nca_verifier.rs"]
mod nca_verifier;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + 1);
    if !data.starts_with(b"<") {
        input.push(b'<');
    }
    input.extend_from_slice(data);
    let report = nca_verifier::verify(&input);
    // Nothing that is not a well-formed signed document can be valid.
    if report.verdict == qoltanba::verify::Verdict::Valid {
        assert!(report.signers.iter().all(|s| !s.covers.is_empty()));
    }
});
