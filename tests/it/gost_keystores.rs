//! Every one of NCA RK's 12 real GOST-2015 test key stores signs a request through
//! `qoltanba sign`'s library door (PKCS#12 import, CAdES-BES with Streebog-512 and GOST-2015),
//! and the request goes through the whole условие 3 pipeline anchored at NCA's real GOST root,
//! with NCA's real CRL: the same steps and report as RSA, one more row in the algorithm table.
//!
//! What the material itself says (checked with OpenSSL too, not only by us):
//! - NCA's CRL #166 (thisUpdate 2026-08-11) also lists two certificates of key stores named
//!   "valid": legal_valid_employee (revoked 2026-06-02T11:39:09Z) and legal_valid_infosystem
//!   (2026-06-02T11:25:49Z), both "superseded". They are revoked now, and valid before that.
//! - The names "infosystem" and "treasury_client" are swapped in the source material: the
//!   *_infosystem stores hold treasury-client certificates (EKU 1.2.398.5.19.1.2.2.1) and the
//!   *_treasury_client stores information-system ones (EKU 1.2.398.3.3.4.1.2.6, UID, no IIN).
//! - NCA's test root publishes its CRL only at crl.root.gov.kz, which tests cannot reach, so the
//!   issuing CA's own status is unknown here: with the default revocation scope (the whole
//!   chain) the verdict is indeterminate; with scope "leaf" the signer's status decides.

use qoltanba::sign::{cades, identity_from_pkcs12};
use qoltanba::verify::{Report, Request, RevocationScope, Settings, Verdict, Verifier};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/nca/gost/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn time(text: &str) -> i64 {
    qoltanba::time::parse_rfc3339(text).expect("time")
}

fn verifier(scope: RevocationScope) -> Verifier {
    Verifier::new(Settings {
        anchors: vec![(
            "root_test_gost_2022.cer".into(),
            fixture("root_test_gost_2022.cer"),
        )],
        intermediates: vec![(
            "nca_gost2022_test.cer".into(),
            fixture("nca_gost2022_test.cer"),
        )],
        crls: vec![(
            "nca_gost2022_test.crl".into(),
            fixture("nca_gost2022_test.crl"),
        )],
        offline: true,
        revocation_scope: scope,
        ..Settings::default()
    })
    .expect("verifier")
}

/// A request signed with a real NCA GOST key store at `when`.
fn signed_request(store: &str, when: i64) -> Vec<u8> {
    let identity =
        identity_from_pkcs12(&fixture(store), "Qwerty12", when).expect("a usable GOST key");
    assert_eq!(
        identity.key.algorithm(),
        qoltanba::crypto::KeyAlgorithm::Gost2015
    );
    cades::sign(
        br#"{"applicant":{"request":"license"}}"#,
        &identity,
        false,
        when,
    )
    .expect("sign")
}

fn code<'a>(report: &'a Report, id: &str) -> &'a str {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.code.as_str())
        .expect("step")
}

struct Expected {
    store: &'static str,
    valid: bool,
    roles: &'static [&'static str],
}

const ALL: [Expected; 12] = [
    Expected {
        store: "individual_valid.p12",
        valid: true,
        roles: &["individual"],
    },
    Expected {
        store: "individual_revoked.p12",
        valid: false,
        roles: &["individual"],
    },
    Expected {
        store: "legal_valid_head.p12",
        valid: true,
        roles: &["legal_entity", "first_head"],
    },
    Expected {
        store: "legal_revoked_head.p12",
        valid: false,
        roles: &["legal_entity", "first_head"],
    },
    Expected {
        store: "legal_valid_employee.p12",
        valid: false,
        roles: &["legal_entity", "employee"],
    },
    Expected {
        store: "legal_revoked_employee.p12",
        valid: false,
        roles: &["legal_entity", "employee"],
    },
    Expected {
        store: "legal_valid_employee_signright.p12",
        valid: true,
        roles: &["legal_entity", "signing_right"],
    },
    Expected {
        store: "legal_revoked_employee_signright.p12",
        valid: false,
        roles: &["legal_entity", "signing_right"],
    },
    Expected {
        store: "legal_valid_infosystem.p12",
        valid: false,
        roles: &["legal_entity", "treasury_client"],
    },
    Expected {
        store: "legal_revoked_infosystem.p12",
        valid: false,
        roles: &["legal_entity", "treasury_client"],
    },
    Expected {
        store: "legal_valid_treasury_client.p12",
        valid: true,
        roles: &["legal_entity", "information_system"],
    },
    Expected {
        store: "legal_revoked_treasury_client.p12",
        valid: false,
        roles: &["legal_entity", "information_system"],
    },
];

#[tokio::test]
async fn all_twelve_real_gost_key_stores_sign_and_verify_against_the_real_root_and_crl() {
    let when = time("2026-09-01T09:00:00Z");
    let verifier = verifier(RevocationScope::Leaf);
    for expected in &ALL {
        let report = verifier
            .verify(&Request {
                signature: signed_request(expected.store, when),
                at: Some(when),
                ..Request::default()
            })
            .await;
        let store = expected.store;
        // Signature, the whole chain to the real root, validity and key usage hold for every
        // store; only revocation tells them apart.
        for step in ["format", "signature", "chain", "validity", "key_usage"] {
            assert_eq!(code(&report, step), "OK", "{store}: {step}: {report:#?}");
        }
        let signer = &report.signers[0];
        assert_eq!(signer.roles, expected.roles, "{store}");
        assert_eq!(signer.key_kind, "sign", "{store}");
        assert!(
            report.checks.iter().any(|c| c.id == "chain"
                && c.detail
                    .contains("НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022")),
            "{store}: the path ends at the real root"
        );
        if expected.valid {
            assert_eq!(report.verdict, Verdict::Valid, "{store}: {report:#?}");
            assert_eq!(signer.revocation_source.as_deref(), Some("CRL #166"));
        } else {
            assert_eq!(report.verdict, Verdict::Invalid, "{store}: {report:#?}");
            assert_eq!(code(&report, "revocation"), "REVOKED", "{store}");
            let refusal = report.refusal.as_ref().expect("a refusal text");
            assert!(refusal.ru.contains("отозван"), "{store}: {}", refusal.ru);
        }
    }
}

#[tokio::test]
async fn a_certificate_revoked_later_was_valid_before_its_revocation() {
    // legal_valid_employee was revoked on 2026-06-02; signed and checked in May it is valid.
    let when = time("2026-05-20T09:00:00Z");
    let report = verifier(RevocationScope::Leaf)
        .verify(&Request {
            signature: signed_request("legal_valid_employee.p12", when),
            at: Some(when),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let revocation = report
        .checks
        .iter()
        .find(|c| c.id == "revocation")
        .expect("step");
    assert!(
        revocation.detail.contains("revoked only later"),
        "{}",
        revocation.detail
    );
}

#[tokio::test]
async fn without_the_roots_crl_the_default_scope_is_indeterminate_and_names_the_ca() {
    let when = time("2026-09-01T09:00:00Z");
    let report = verifier(RevocationScope::Chain)
        .verify(&Request {
            signature: signed_request("individual_valid.p12", when),
            at: Some(when),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    let revocation = report
        .checks
        .iter()
        .find(|c| c.id == "revocation")
        .expect("step");
    assert_eq!(revocation.code, "NO_REVOCATION_INFO");
    assert!(revocation
        .detail
        .contains("ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"));
    // A revoked signer is still refused: a CRL entry is proof enough without the CA's status.
    let report = verifier(RevocationScope::Chain)
        .verify(&Request {
            signature: signed_request("individual_revoked.p12", when),
            at: Some(when),
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid);
}

#[tokio::test]
async fn a_gost_signature_over_changed_content_or_with_a_changed_value_fails() {
    let when = time("2026-09-01T09:00:00Z");
    let identity =
        identity_from_pkcs12(&fixture("individual_valid.p12"), "Qwerty12", when).expect("identity");
    let detached = cades::sign(b"original request", &identity, true, when).expect("sign");
    let verifier = verifier(RevocationScope::Leaf);
    let verify = |content: &'static [u8], signature: Vec<u8>| {
        let verifier = &verifier;
        async move {
            verifier
                .verify(&Request {
                    signature,
                    content: Some(content.to_vec()),
                    at: Some(when),
                    ..Request::default()
                })
                .await
        }
    };
    assert_eq!(
        verify(b"original request", detached.clone()).await.verdict,
        Verdict::Valid
    );
    let report = verify(b"changed request", detached.clone()).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(code(&report, "signature"), "HASH_FAILURE", "{report:#?}");
    // The signature value is the SignerInfo's last field: change its last byte (the top byte
    // of s, little-endian) and the GOST check itself must fail.
    let mut forged = detached;
    let last = forged.len() - 1;
    forged[last] ^= 0x01;
    let report = verify(b"original request", forged).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(
        code(&report, "signature"),
        "SIG_CRYPTO_FAILURE",
        "{report:#?}"
    );
}
