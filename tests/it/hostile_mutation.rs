//! A short seeded run of property-based hostile input: a valid CMS, certificate, CRL and PKCS#12
//! mutated (bit flips, truncation, splices, duplicated ranges, length fields set to 0x84 ff ff ff
//! ff or indefinite) and fed to `Verifier::verify`, `Cert::from_der`, `Crl::parse` and
//! `keystore::open_pkcs12`. Nothing may panic; every report lists all seven steps; a mutated CMS
//! may only be valid if the content it carries is still the original one.
//!
//! Deterministic: a fixed seed and a tiny xorshift generator. A failure names the case and
//! prints the input in hex, to replay by hand.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::OctetString;
use der::Decode;
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::verify::{Request, Status, Verdict};
use qoltanba::x509::crl::Crl;
use qoltanba::x509::Cert;

use super::build::*;
use super::{own_leaf, request_json};
use crate::common::*;

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Positions of the length fields of the (definite-length) TLVs in `der`, recursively, with
/// the field's size: where a length mutation bites.
fn length_fields(der: &[u8], base: usize, depth: usize, out: &mut Vec<(usize, usize)>) {
    let mut i = 0;
    while i + 2 <= der.len() && depth < 32 {
        let first = usize::from(der[i + 1]);
        let (len, field) = if first < 0x80 {
            (first, 1)
        } else {
            let n = first & 0x7f;
            if n == 0 || n > 4 || i + 2 + n > der.len() {
                return;
            }
            let len = der[i + 2..i + 2 + n]
                .iter()
                .fold(0usize, |a, b| a << 8 | usize::from(*b));
            (len, 1 + n)
        };
        let start = i + 1 + field;
        if start + len > der.len() {
            return;
        }
        out.push((base + i + 1, field));
        // Constructed, or an OCTET STRING / BIT STRING that may wrap DER.
        if der[i] & 0x20 != 0 || der[i] == 0x04 || der[i] == 0x03 {
            length_fields(&der[start..start + len], base + start, depth + 1, out);
        }
        i = start + len;
    }
}

/// One to three mutations of `input`.
fn mutate(rng: &mut XorShift, input: &[u8], lengths: &[(usize, usize)]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = out.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => out[rng.below(len)] ^= 1 << rng.below(8),
            1 => out.truncate(at),
            2 => {
                let end = (at + rng.below(16)).min(len);
                let fill: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                out.splice(at..end, fill);
            }
            3 => {
                let end = (at + 1 + rng.below(256)).min(len);
                let piece = out[at.min(end)..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, piece);
            }
            4 | 5 if !lengths.is_empty() && out.len() == input.len() => {
                // A length field of the original structure: huge, or indefinite.
                let (pos, field) = lengths[rng.below(lengths.len())];
                let new: &[u8] = if rng.below(2) == 0 {
                    &[0x84, 0xff, 0xff, 0xff, 0xff]
                } else {
                    &[0x80]
                };
                out.splice(pos..pos + field, new.iter().copied());
            }
            6 => {
                let end = (at + rng.below(64)).min(len);
                out.drain(at..end);
            }
            7 if len > 0 => {
                const EDGES: [u8; 8] = [0x00, 0x7f, 0x80, 0xff, 0x30, 0xa0, 0x31, 0x04];
                out[rng.below(len)] = EDGES[rng.below(EDGES.len())];
            }
            _ => {
                let (pos, field) = lengths
                    .get(rng.below(lengths.len()))
                    .copied()
                    .unwrap_or((0, 0));
                if pos + field <= out.len() && field == 1 && out[pos] < 0x7f {
                    // Off by one either way.
                    out[pos] = if rng.below(2) == 0 {
                        out[pos] + 1
                    } else {
                        out[pos].saturating_sub(1)
                    };
                }
            }
        }
    }
    out
}

/// Runs `parse` on `iterations` mutations of `input`; a panic fails with the input in hex.
fn run_sync(what: &str, input: &[u8], iterations: usize, seed: u64, parse: impl Fn(&[u8])) {
    let mut lengths = Vec::new();
    length_fields(input, 0, 0, &mut lengths);
    assert!(lengths.len() > 10, "{what}: the structure is walked");
    let mut rng = XorShift(seed);
    for i in 0..iterations {
        let mutated = mutate(&mut rng, input, &lengths);
        if catch_unwind(AssertUnwindSafe(|| parse(&mutated))).is_err() {
            panic!("{what} #{i} panicked on {}", hex::encode(&mutated));
        }
    }
}

/// The eContent of a CMS as the RustCrypto decoder reads it (DER, else BER re-encoded).
fn econtent(input: &[u8]) -> Option<Vec<u8>> {
    let der = qoltanba::verify::decode_signature_input(input)?;
    let read = |d: &[u8]| -> Option<Vec<u8>> {
        let info = ContentInfo::from_der(d).ok()?;
        let sd: SignedData = info.content.decode_as().ok()?;
        let any = sd.encap_content_info.econtent?;
        Some(any.decode_as::<OctetString>().ok()?.as_bytes().to_vec())
    };
    read(&der).or_else(|| read(&qoltanba::x509::ber_to_der(&der).ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_mutations_of_a_valid_cms_never_panic_nor_change_a_valid_content() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, cert) = own_leaf(&t, KeyAlgorithm::P256).await;
    let content = request_json();
    let original = Cms::new(&content, &cert, &key).sign(&key);
    let verifier = Arc::clone(&t.state().verifier);
    let baseline = verifier
        .verify(&Request {
            signature: original.clone(),
            ..Request::default()
        })
        .await;
    assert_eq!(baseline.verdict, Verdict::Valid, "{baseline:#?}");

    let mut lengths = Vec::new();
    length_fields(&original, 0, 0, &mut lengths);
    let mut rng = XorShift(SEED);
    let mut valid = 0;
    for i in 0..1200 {
        let mutated = mutate(&mut rng, &original, &lengths);
        let v = Arc::clone(&verifier);
        let input = mutated.clone();
        let report = tokio::spawn(async move {
            v.verify(&Request {
                signature: input,
                ..Request::default()
            })
            .await
        })
        .await
        .unwrap_or_else(|e| panic!("CMS #{i}: {e} on {}", hex::encode(&mutated)));
        assert_eq!(report.checks.len(), 8, "CMS #{i}: {report:#?}");
        if report.verdict == Verdict::Valid {
            valid += 1;
            assert!(
                report
                    .checks
                    .iter()
                    .all(|c| matches!(c.status, Status::Passed | Status::Skipped)),
                "CMS #{i}: {report:#?}"
            );
            if let Some(found) = econtent(&mutated) {
                assert_eq!(
                    found,
                    content,
                    "CMS #{i}: valid with another content: {}",
                    hex::encode(&mutated)
                );
            }
        } else {
            assert!(
                report
                    .checks
                    .iter()
                    .any(|c| c.status != Status::Passed && !c.code.is_empty()),
                "CMS #{i}: not valid without a reason: {report:#?}"
            );
        }
    }
    // Some mutations only touch unsigned parts (the version, digestAlgorithms): the run must
    // have exercised both outcomes.
    assert!(valid < 1200, "every mutation valid?");
}

#[tokio::test]
async fn seeded_mutations_of_a_certificate_a_crl_and_a_pkcs12_never_panic() {
    let root = Authority::root("CN=MUTATION ROOT,C=KZ");
    let key = p256();
    let leaf = root.issue(&name("CN=MUTATION LEAF,C=KZ"), &key, 3, leaf_extensions());
    let crl = root.crl(&[1, 2, 3, 0x0102_0304]);
    assert!(Cert::from_der(&leaf).is_ok() && Crl::parse(&crl).is_ok());
    run_sync("certificate", &leaf, 3000, SEED, |m| {
        if let Ok(c) = Cert::from_der(m) {
            // What the pipeline reads from a certificate must not panic either.
            let _ = (
                c.subject(),
                c.issuer(),
                c.key_usage(),
                c.basic_constraints(),
            );
            let _ = (c.unknown_critical_extensions(), c.authority_key_id());
            let _ = qoltanba::x509::KeyProfile::of(&c);
        }
    });
    run_sync("CRL", &crl, 3000, SEED ^ 1, |m| {
        if let Ok(c) = Crl::parse(m) {
            let _ = c.verify_signature(
                &x509_cert::Certificate::from_der(&root.der)
                    .expect("root")
                    .tbs_certificate
                    .subject_public_key_info,
            );
        }
    });
    let p12 = qoltanba::keystore::build_pkcs12(
        key.pkcs8_der(),
        &leaf,
        std::slice::from_ref(&root.der),
        P12_PASSWORD,
        Some("leaf"),
        qoltanba::keystore::Pkcs12Flavour::Modern,
    )
    .expect("PKCS#12");
    assert!(qoltanba::keystore::open_pkcs12(&p12, P12_PASSWORD).is_ok());
    run_sync("PKCS#12", &p12, 300, SEED ^ 2, |m| {
        let _ = qoltanba::keystore::open_pkcs12(m, P12_PASSWORD);
    });
}
