//! Hostile certificates in a hand-made P-256 hierarchy (`hostile_build.rs`): unknown critical
//! extensions, lying algorithm identifiers, chains too deep or too wide, and names that are not
//! UTF-8. Every case has a twin that passes, so that the refusal is the lie's doing.

use std::time::{Duration, Instant};

use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Decode, Encode, Tag};
use qoltanba::verify::{Report, Request, Status, Verdict, Verifier};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::Certificate;

use super::build::*;
use super::{check, request_json};

const UNKNOWN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

/// Signs the request content with `key`/`leaf`, carrying `leaf` and `extra` certificates.
async fn verify_with(
    v: &Verifier,
    leaf: &[u8],
    key: &qoltanba::crypto::SigningKey,
    extra: &[Vec<u8>],
) -> Report {
    let mut cms = Cms::new(&request_json(), leaf, key);
    cms.certificates.extend(extra.iter().cloned());
    v.verify(&Request {
        signature: cms.sign(key),
        ..Request::default()
    })
    .await
}

fn unknown_extension(critical: bool) -> x509_cert::ext::Extension {
    extension(UNKNOWN, critical, &der::asn1::Null)
}

#[tokio::test]
async fn unknown_critical_extensions_in_the_signer_or_a_ca_are_refused() {
    let root = Authority::root("CN=HOSTILE ROOT,C=KZ");
    let good_ca = root.subordinate("CN=HOSTILE CA,C=KZ", 2, vec![]);
    let bad_ca = root.subordinate("CN=HOSTILE CA,C=KZ", 3, vec![unknown_extension(true)]);
    let crls = [root.crl(&[]), good_ca.crl(&[])];
    let v = verifier(&root, &crls);
    let key = p256();
    let with = |ca: &Authority, serial, critical: Option<bool>| {
        let mut extensions = leaf_extensions();
        extensions.extend(critical.map(unknown_extension));
        ca.issue(&leaf_name(), &key, serial, extensions)
    };

    for (what, leaf) in [
        ("plain leaf", with(&good_ca, 10, None)),
        (
            "unknown extension, not critical",
            with(&good_ca, 11, Some(false)),
        ),
    ] {
        let report = verify_with(&v, &leaf, &key, std::slice::from_ref(&good_ca.der)).await;
        assert_eq!(
            check(&report, "chain").status,
            Status::Passed,
            "{what}: {report:#?}"
        );
        assert_eq!(
            check(&report, "revocation").status,
            Status::Passed,
            "{what}"
        );
    }

    let leaf = with(&good_ca, 12, Some(true));
    let report = verify_with(&v, &leaf, &key, std::slice::from_ref(&good_ca.der)).await;
    let chain = check(&report, "chain");
    assert_eq!(
        (report.verdict, chain.status, chain.code.as_str()),
        (
            Verdict::Invalid,
            Status::Failed,
            "UNKNOWN_CRITICAL_EXTENSION"
        ),
        "{report:#?}"
    );
    assert!(
        chain.detail.contains("1.3.6.1.4.1.99999.1"),
        "{}",
        chain.detail
    );

    // The same leaf name under a CA that carries the unknown critical extension.
    let leaf = bad_ca.issue(&leaf_name(), &key, 13, leaf_extensions());
    let report = verify_with(&v, &leaf, &key, std::slice::from_ref(&bad_ca.der)).await;
    let chain = check(&report, "chain");
    assert_eq!(
        (report.verdict, chain.code.as_str()),
        (Verdict::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"),
        "{report:#?}"
    );
    assert!(
        chain.detail.contains("unknown critical extensions"),
        "{}",
        chain.detail
    );
}

#[tokio::test]
async fn certificate_algorithms_that_lie_break_the_chain() {
    let root = Authority::root("CN=HOSTILE ROOT,C=KZ");
    let v = verifier(&root, &[root.crl(&[])]);
    let key = p256();
    let spec = |serial: u8, claimed: Option<ObjectIdentifier>| CertSpec {
        subject: leaf_name(),
        spki: key.public_key_info().expect("spki"),
        issuer: root.name.clone(),
        issuer_key: &root.key,
        serial: vec![serial],
        extensions: leaf_extensions(),
        claimed_algorithm: claimed.map(identifier),
    };
    let report = verify_with(&v, &spec(20, None).sign(), &key, &[]).await;
    assert_eq!(
        check(&report, "chain").status,
        Status::Passed,
        "{report:#?}"
    );

    // ECDSA-signed, but the certificate says sha256WithRSAEncryption (inside and out).
    let report = verify_with(&v, &spec(21, Some(RSA_SHA256)).sign(), &key, &[]).await;
    let chain = check(&report, "chain");
    assert_eq!(chain.code, "NO_CERTIFICATE_CHAIN_FOUND", "{report:#?}");
    assert!(chain.detail.contains("does not fit"), "{}", chain.detail);

    // The outer algorithm differs from the signed inner one.
    let mut cert = Certificate::from_der(&spec(22, None).sign()).expect("cert");
    cert.signature_algorithm = identifier(ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"));
    let report = verify_with(&v, &cert.to_der().expect("der"), &key, &[]).await;
    let chain = check(&report, "chain");
    assert_eq!(chain.code, "NO_CERTIFICATE_CHAIN_FOUND", "{report:#?}");
    assert!(chain.detail.contains("differ"), "{}", chain.detail);

    // The leaf's key claims to be RSA but is a P-256 point: the CMS's ECDSA signature does not
    // fit it, and its RSA claim does not verify.
    let mut rsa_claim = spec(23, None);
    rsa_claim.spki.algorithm = spki::AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
        parameters: Some(Any::null()),
    };
    let leaf = rsa_claim.sign();
    let report = verify_with(&v, &leaf, &key, &[]).await;
    let signature = check(&report, "signature");
    assert_eq!(
        (report.verdict, signature.code.as_str()),
        (Verdict::Invalid, "UNSUPPORTED_ALGORITHM"),
        "{report:#?}"
    );
    let mut cms = Cms::new(&request_json(), &leaf, &key);
    cms.signature_algorithm = identifier(RSA_SHA256);
    let report = v
        .verify(&Request {
            signature: cms.sign(&key),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_ne!(check(&report, "signature").status, Status::Passed);
}

/// root → `levels` CAs → a leaf: returns the verifier's report and how long it took.
async fn chain_of(levels: usize) -> (Report, Duration) {
    let root = Authority::root("CN=DEEP ROOT,C=KZ");
    let mut cas: Vec<Authority> = Vec::new();
    for i in 0..levels {
        let parent = cas.last().unwrap_or(&root);
        let ca = parent.subordinate(&format!("CN=DEEP CA {i},C=KZ"), 100 + i as u32, vec![]);
        cas.push(ca);
    }
    let key = p256();
    let issuer = cas.last().unwrap_or(&root);
    let leaf = issuer.issue(&leaf_name(), &key, 7, leaf_extensions());
    let v = verifier(&root, &[]);
    let extra: Vec<Vec<u8>> = cas.iter().map(|c| c.der.clone()).collect();
    let started = Instant::now();
    let report = verify_with(&v, &leaf, &key, &extra).await;
    (report, started.elapsed())
}

#[tokio::test]
async fn a_30_level_chain_is_refused_quickly() {
    // Eight certificates, anchor included, is the limit (chain::MAX_DEPTH).
    let (report, _) = chain_of(6).await;
    assert_eq!(
        check(&report, "chain").status,
        Status::Passed,
        "{report:#?}"
    );
    let (report, _) = chain_of(7).await;
    let chain = check(&report, "chain");
    assert_eq!(chain.code, "NO_CERTIFICATE_CHAIN_FOUND", "{report:#?}");
    assert!(
        chain.detail.contains("within 8 certificates"),
        "{}",
        chain.detail
    );

    let (report, took) = chain_of(29).await;
    let chain = check(&report, "chain");
    assert_eq!(
        (report.verdict, chain.code.as_str()),
        (Verdict::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"),
        "{report:#?}"
    );
    assert!(
        chain.detail.contains("within 8 certificates"),
        "{}",
        chain.detail
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

/// Seven levels of `width` CAs each, every CA of a level sharing its name and key, so that each
/// is a valid issuer of every CA below: a path search that tries them all does width^7 steps.
/// The top level is issued by a CA nobody trusts. (70 certificates: a 40 KB CMS.)
#[tokio::test]
async fn a_wide_chain_does_not_explode() {
    let width = 10;
    let root = Authority::root("CN=WIDE ROOT,C=KZ");
    let ghost = Authority::root("CN=WIDE GHOST,C=KZ");
    let mut pool = Vec::new();
    let mut above = ghost;
    let mut serial = 1000;
    for level in 0..7 {
        let key = p256();
        let level_name = name(&format!("CN=WIDE CA {level},C=KZ"));
        for _ in 0..width {
            serial += 1;
            pool.push(above.issue(&level_name, &key, serial, ca_extensions()));
        }
        let der = pool.last().expect("one").clone();
        above = Authority {
            key,
            name: level_name,
            der,
        };
    }
    let key = p256();
    let leaf = above.issue(&leaf_name(), &key, 9, leaf_extensions());
    let v = verifier(&root, &[]);
    let started = Instant::now();
    let report = verify_with(&v, &leaf, &key, &pool).await;
    let took = started.elapsed();
    let chain = check(&report, "chain");
    assert_eq!(
        (report.verdict, chain.code.as_str()),
        (Verdict::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"),
        "{report:#?}"
    );
    assert!(
        chain.detail.contains("gave up after checking 64"),
        "{}",
        chain.detail
    );
    // Before the candidate limit: 10^7 paths, some twenty minutes.
    assert!(
        took < Duration::from_secs(5),
        "the path search took {took:?}"
    );
}

/// The leaf's subject: CN, serialNumber "IIN…" (the request's IIN) and C, as NCA's.
fn leaf_name() -> Name {
    let serial_number = format!("IIN{}", crate::common::valid_iin());
    raw_name(&[
        ("2.5.4.3", Tag::Utf8String, "HOSTILE LEAF".as_bytes()),
        ("2.5.4.5", Tag::PrintableString, serial_number.as_bytes()),
        ("2.5.4.6", Tag::PrintableString, b"KZ"),
    ])
}

/// A name whose attributes are given raw: (OID, tag, value bytes).
fn raw_name(attributes: &[(&str, Tag, &[u8])]) -> Name {
    RdnSequence(
        attributes
            .iter()
            .map(|(oid, tag, value)| {
                let atv = AttributeTypeAndValue {
                    oid: ObjectIdentifier::new_unwrap(oid),
                    value: Any::new(*tag, value.to_vec()).expect("any"),
                };
                RelativeDistinguishedName(SetOfVec::try_from(vec![atv]).expect("rdn"))
            })
            .collect(),
    )
}

#[tokio::test]
async fn invalid_utf8_in_the_signers_name_does_not_panic() {
    let root = Authority::root("CN=HOSTILE ROOT,C=KZ");
    let v = verifier(&root, &[root.crl(&[])]);
    let key = p256();
    let iin = crate::common::valid_iin();
    let serial_number = format!("IIN{iin}");
    let bad: &[u8] = b"\xff\xfe\xc3\x28 \xed\xa0\x80";
    let cases = [
        (
            "CN not UTF-8",
            raw_name(&[
                ("2.5.4.3", Tag::Utf8String, bad),
                ("2.5.4.5", Tag::PrintableString, serial_number.as_bytes()),
                ("2.5.4.6", Tag::PrintableString, b"KZ"),
            ]),
        ),
        (
            "serialNumber not UTF-8",
            raw_name(&[
                ("2.5.4.3", Tag::Utf8String, "ТЕСТОВ ТЕСТ".as_bytes()),
                (
                    "2.5.4.5",
                    Tag::Utf8String,
                    &[b"IIN".as_slice(), bad].concat(),
                ),
            ]),
        ),
    ];
    for (i, (what, subject)) in cases.into_iter().enumerate() {
        let leaf = root.issue(&subject, &key, 30 + i as u32, leaf_extensions());
        let report = verify_with(&v, &leaf, &key, &[]).await;
        assert_eq!(
            check(&report, "signature").status,
            Status::Passed,
            "{what}: {report:#?}"
        );
        assert_eq!(
            check(&report, "chain").status,
            Status::Passed,
            "{what}: {report:#?}"
        );
        let shown = &report.signers[0].subject;
        let all = format!("{:?} {:?} {:?}", shown.cn, shown.iin, shown.surname);
        assert!(!all.contains("\\xff"), "{what}: {all}");
        let json = serde_json::to_string(&report).expect("the report serialises");
        assert!(!json.contains("IIN\u{fffd}"), "{what}: {json}");
        if what.starts_with("serialNumber") {
            // No readable IIN: the request's IIN cannot be matched, so not valid.
            assert_eq!(shown.iin, None, "{what}");
            let identity = check(&report, "identity");
            assert_eq!(identity.status, Status::Failed, "{what}: {identity:?}");
            assert_ne!(report.verdict, Verdict::Valid, "{what}");
        } else {
            assert_eq!(shown.iin.as_deref(), Some(iin.as_str()), "{what}");
            assert!(
                shown.cn.as_deref().is_none_or(|cn| cn.contains('\u{fffd}')),
                "{what}: {all}"
            );
        }
    }
}
