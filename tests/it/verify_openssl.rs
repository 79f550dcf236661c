//! The verifier (условие 3) against a PKI that our code did NOT make: CA hierarchy, leaves,
//! CRLs, OCSP responder and CMS signatures all made by the OpenSSL CLI (`openssl_pki.rs`).
//!
//! Revocation is checked for every certificate of the path but the anchor, so a verifier that
//! should say "valid" needs the root's CRL (for the intermediate) as well as the intermediate's
//! CRL (for the leaf). OpenSSL's CMS carries only the signer's certificate: the intermediate is
//! configured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use der::Decode;
use qoltanba::identity::{Bin, Iin};
use qoltanba::verify::report::Check;
use qoltanba::verify::{Report, Request, Settings, Status, Verdict, Verifier};

use crate::common::valid_iin;
use crate::openssl_pki::{
    free_local_url, FileServer, LeafKey, LeafKind, LeafSpec, OpensslPki, SignOpts,
};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub(crate) fn json(iin: &str) -> Vec<u8> {
    format!(r#"{{"service":"license","applicant":{{"iin":"{iin}","name":"ТЕСТОВ ТЕСТ"}}}}"#)
        .into_bytes()
}

fn other_iin() -> Iin {
    Iin::generate(1985, 3, 2, qoltanba::identity::Sex::Female, 77).expect("iin")
}

fn at(text: &str) -> Option<i64> {
    Some(qoltanba::time::parse_rfc3339(text).expect("time"))
}

pub(crate) fn check<'a>(report: &'a Report, id: &str) -> &'a Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .expect("every step is reported")
}

/// Anchored at the PKI's root, its intermediate configured, these CRLs configured.
fn settings(pki: &OpensslPki, crls: &[&Path], offline: bool) -> Settings {
    Settings {
        anchors: vec![("root.der".into(), read(&pki.root_der()))],
        intermediates: vec![("issuing.der".into(), read(&pki.issuing_der()))],
        crls: crls
            .iter()
            .map(|p| (p.display().to_string(), read(p)))
            .collect(),
        offline,
        fetch_timeout: Some(Duration::from_secs(5)),
        ..Settings::default()
    }
}

pub(crate) fn verifier(pki: &OpensslPki, crls: &[&Path]) -> Verifier {
    Verifier::new(settings(pki, crls, true)).expect("verifier")
}

/// The intermediate's CRL (`pub/issuing.crl`) and the root's (`pub/root.crl`), both current.
pub(crate) fn current_crls(pki: &OpensslPki) -> (PathBuf, PathBuf) {
    (pki.crl("issuing", 0).0, pki.root_crl())
}

/// CRLs of both CAs issued now with nextUpdate 2100-01-01: revocation information that speaks
/// for far-future validation times. PEM, in the PKI's `crl/` directory.
fn far_future_crls(pki: &OpensslPki) -> (PathBuf, PathBuf) {
    let gen = |ca: &str| {
        let out = pki.dir.path().join(format!("crl/{ca}-far.pem"));
        let config = pki.dir.path().join(format!("{ca}/ca.cnf"));
        crate::common::openssl_ok(&[
            "ca",
            "-gencrl",
            "-config",
            config.to_str().expect("utf-8"),
            "-crl_nextupdate",
            "21000101000000Z",
            "-out",
            out.to_str().expect("utf-8"),
        ]);
        out
    };
    (gen("issuing"), gen("root"))
}

pub(crate) fn request(signature: &Path) -> Request {
    Request {
        signature: read(signature),
        ..Request::default()
    }
}

pub(crate) fn assert_valid(report: &Report, what: &str) {
    assert_eq!(report.verdict, Verdict::Valid, "{what}: {report:#?}");
    assert_eq!(report.indication, "TOTAL_PASSED", "{what}");
    assert_eq!(report.sub_indication, None, "{what}");
    assert!(report.refusal.is_none(), "{what}");
}

// ---------------------------------------------------------------------------------------------
// 1. Valid signatures
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rsa_p256_p384_and_legal_leaves_verify_attached_and_detached() {
    let pki = OpensslPki::new(None, None);
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let iin = valid_iin();
    let content = json(&iin);

    for (name, key) in [
        ("rsa2048", LeafKey::Rsa2048),
        ("p256", LeafKey::P256),
        ("p384", LeafKey::P384),
    ] {
        let leaf = pki.leaf(&LeafSpec {
            key,
            ..LeafSpec::new(name)
        });
        for detached in [false, true] {
            let what = format!("{name} detached={detached}");
            let sig = pki.sign(
                &leaf,
                &content,
                &SignOpts {
                    detached,
                    ..SignOpts::default()
                },
            );
            let report = v
                .verify(&Request {
                    content: detached.then(|| content.clone()),
                    ..request(&sig)
                })
                .await;
            assert_valid(&report, &what);
            let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(
                ids,
                [
                    "format",
                    "signature",
                    "timestamp",
                    "chain",
                    "validity",
                    "revocation",
                    "key_usage",
                    "identity"
                ],
                "{what}"
            );
            assert!(
                report.checks.iter().all(|c| c.status == Status::Passed
                    || (c.id == "timestamp" && c.status == Status::Skipped)),
                "{what}: {report:#?}"
            );
            let kind = if detached { "detached" } else { "attached" };
            assert!(
                check(&report, "format").detail.contains(kind),
                "{what}: {:?}",
                check(&report, "format")
            );
            assert_eq!(report.signers.len(), 1, "{what}");
            let signer = &report.signers[0];
            assert_eq!(signer.subject.iin.as_deref(), Some(iin.as_str()), "{what}");
            assert_eq!(signer.subject.iin_check_digit_valid, Some(true), "{what}");
            assert_eq!(signer.subject.cn.as_deref(), Some("ТЕСТОВ ТЕСТ"), "{what}");
            assert_eq!(signer.subject.bin, None, "{what}");
            assert_eq!(signer.key_kind, "sign", "{what}");
            assert!(
                signer.roles.contains(&"individual".to_owned()),
                "{what}: {:?}",
                signer.roles
            );
            assert!(
                signer
                    .serial
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&leaf.serial_hex)),
                "{what}: {:?} vs {}",
                signer.serial,
                leaf.serial_hex
            );
            assert!(
                signer.signing_time.is_some(),
                "{what}: OpenSSL adds signingTime"
            );
            assert!(
                signer
                    .revocation_source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("CRL")),
                "{what}: {:?}",
                signer.revocation_source
            );
            assert_eq!(report.expected_identity.source, "content", "{what}");
            assert_eq!(signer.verdict, Verdict::Valid, "{what}");
        }
    }

    // A legal entity's first head: BIN in the subject, legal roles in the EKU.
    let legal = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        bin: Some("940140000385".into()),
        ..LeafSpec::new("legal")
    });
    let content = format!(r#"{{"applicant":{{"iin":"{iin}","bin":"940140000385"}}}}"#);
    let sig = pki.sign(&legal, content.as_bytes(), &SignOpts::default());
    let report = v.verify(&request(&sig)).await;
    assert_valid(&report, "legal");
    let signer = &report.signers[0];
    assert_eq!(signer.subject.iin.as_deref(), Some(iin.as_str()));
    assert_eq!(signer.subject.bin.as_deref(), Some("940140000385"));
    assert_eq!(signer.subject.organisation.as_deref(), Some("АО \"ТЕСТ\""));
    assert_eq!(signer.key_kind, "sign");
    for role in ["legal_entity", "first_head"] {
        assert!(
            signer.roles.contains(&role.to_owned()),
            "{role}: {:?}",
            signer.roles
        );
    }
    assert!(
        !signer.roles.contains(&"individual".to_owned()),
        "{:?}",
        signer.roles
    );
    assert_eq!(
        report.expected_identity.bin.as_deref(),
        Some("940140000385")
    );
    let identity = &check(&report, "identity").detail;
    assert!(identity.contains("BIN 940140000385"), "{identity}");
}

// ---------------------------------------------------------------------------------------------
// 2. Identity
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn identity_comes_from_the_content_or_the_caller_and_mismatches_are_refused() {
    let pki = OpensslPki::new(None, None);
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let iin = valid_iin();
    let other = other_iin();
    let person = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("person")
    });
    let legal = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        bin: Some("940140000385".into()),
        ..LeafSpec::new("legal")
    });
    let sign = |leaf, content: &[u8]| pki.sign(leaf, content, &SignOpts::default());

    // From the signed JSON.
    let report = v.verify(&request(&sign(&person, &json(&iin)))).await;
    assert_valid(&report, "IIN from JSON");
    assert_eq!(report.expected_identity.source, "content");
    assert_eq!(report.expected_identity.iin.as_deref(), Some(iin.as_str()));
    assert_eq!(check(&report, "identity").status, Status::Passed);

    let report = v
        .verify(&request(&sign(&person, &json(other.as_str()))))
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("SIG_CONSTRAINTS_FAILURE"));
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
    assert_eq!(report.expected_identity.source, "content");
    assert!(report.refusal.is_some());

    // From the caller, who wins over the content.
    let no_iin = sign(&person, br#"{"applicant":{"name":"x"}}"#);
    let report = v
        .verify(&Request {
            iin: Some(Iin::parse(&iin).expect("iin")),
            ..request(&no_iin)
        })
        .await;
    assert_valid(&report, "IIN from the caller");
    assert_eq!(report.expected_identity.source, "caller");
    let report = v
        .verify(&Request {
            iin: Some(other.clone()),
            ..request(&sign(&person, &json(&iin)))
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
    assert_eq!(report.expected_identity.source, "caller");
    // Nothing to compare: identity skipped, the rest decides.
    let report = v.verify(&request(&no_iin)).await;
    assert_valid(&report, "no IIN anywhere");
    assert_eq!(check(&report, "identity").status, Status::Skipped);
    assert_eq!(report.expected_identity.source, "none");

    // BIN: the legal leaf's own BIN passes, another valid BIN does not.
    let legal_sig = sign(&legal, &json(&iin));
    let report = v
        .verify(&Request {
            bin: Some(Bin::parse("940140000385").expect("bin")),
            ..request(&legal_sig)
        })
        .await;
    assert_valid(&report, "legal, own BIN");
    let report = v
        .verify(&Request {
            bin: Some(Bin::parse("950341000052").expect("bin")),
            ..request(&legal_sig)
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("SIG_CONSTRAINTS_FAILURE"));
    assert_eq!(check(&report, "identity").code, "BIN_MISMATCH");
    let content_bin = sign(
        &legal,
        format!(r#"{{"applicant":{{"iin":"{iin}","bin":"950341000052"}}}}"#).as_bytes(),
    );
    let report = v.verify(&request(&content_bin)).await;
    assert_eq!(check(&report, "identity").code, "BIN_MISMATCH");
    assert_eq!(report.expected_identity.source, "content");

    // A BIN asked of an individual's certificate.
    let report = v
        .verify(&Request {
            iin: Some(Iin::parse(&iin).expect("iin")),
            bin: Some(Bin::parse("940140000385").expect("bin")),
            ..request(&sign(&person, &json(&iin)))
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(check(&report, "identity").code, "BIN_MISMATCH");
    assert!(
        check(&report, "identity").detail.contains("no BIN"),
        "{:?}",
        check(&report, "identity")
    );

    // XML content.
    let xml = format!("<?xml version=\"1.0\"?><request><iin>{iin}</iin></request>");
    let report = v.verify(&request(&sign(&person, xml.as_bytes()))).await;
    assert_valid(&report, "XML");
    assert_eq!(report.expected_identity.source, "content");
    assert_eq!(report.expected_identity.iin.as_deref(), Some(iin.as_str()));
    let xml = format!("<request><iin>{}</iin></request>", other.as_str());
    let report = v.verify(&request(&sign(&person, xml.as_bytes()))).await;
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
}

// ---------------------------------------------------------------------------------------------
// 3. Validity
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_and_not_yet_valid_leaves_are_refused_now_and_valid_inside_their_validity() {
    let pki = OpensslPki::new(None, None);
    let expired = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        start: Some("20200101000000Z".into()),
        end: Some("20201231235959Z".into()),
        ..LeafSpec::new("expired")
    });
    let future = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        start: Some("20990101000000Z".into()),
        end: Some("20991231235959Z".into()),
        ..LeafSpec::new("future")
    });
    let content = json(&valid_iin());
    let expired_sig = pki.sign(&expired, &content, &SignOpts::default());
    let future_sig = pki.sign(&future, &content, &SignOpts::default());
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);

    let report = v.verify(&request(&expired_sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("EXPIRED"));
    let validity = check(&report, "validity");
    assert_eq!(
        (validity.status, validity.code.as_str()),
        (Status::Failed, "EXPIRED")
    );
    assert!(
        validity.detail.contains("2020-12-31T23:59:59Z"),
        "{validity:?}"
    );
    assert_eq!(
        report.signers[0].not_after.as_deref(),
        Some("2020-12-31T23:59:59Z")
    );

    // In 2020 it was valid, but a CRL issued after the leaf expired may have dropped it: its
    // silence says nothing about 2020 (issue 15) ...
    let in_2020 = Request {
        at: at("2020-06-01T00:00:00Z"),
        ..request(&expired_sig)
    };
    let report = v.verify(&in_2020).await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(
        report.sub_indication,
        Some("REVOCATION_OUT_OF_BOUNDS_NO_POE")
    );
    // ... unless the CRL says it keeps expired certificates (ExpiredCertsOnCRL, written by
    // OpenSSL here): then it speaks for that earlier time.
    let keeping = pki.crl_keeping_expired("keeping");
    let v = verifier(&pki, &[&keeping, &root_crl]);
    let report = v.verify(&in_2020).await;
    assert_valid(&report, "expired leaf at 2020-06-01");
    assert_eq!(report.validation_time, "2020-06-01T00:00:00Z");
    assert_eq!(check(&report, "revocation").status, Status::Passed);
    // Before its notBefore, it was not yet valid.
    let report = v
        .verify(&Request {
            at: at("2019-06-01T00:00:00Z"),
            ..request(&expired_sig)
        })
        .await;
    assert_eq!(report.sub_indication, Some("NOT_YET_VALID"), "{report:#?}");

    let report = v.verify(&request(&future_sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("NOT_YET_VALID"));
    let validity = check(&report, "validity");
    assert_eq!(
        (validity.status, validity.code.as_str()),
        (Status::Failed, "NOT_YET_VALID")
    );
    assert!(
        validity.detail.contains("2099-01-01T00:00:00Z"),
        "{validity:?}"
    );

    // In 2099 the CRLs issued now (nextUpdate tomorrow) no longer speak: no revocation
    // information for that time, never "valid".
    let in_2099 = at("2099-06-01T00:00:00Z");
    let report = v
        .verify(&Request {
            at: in_2099,
            ..request(&future_sig)
        })
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("TRY_LATER"));
    assert_eq!(check(&report, "validity").status, Status::Passed);
    // CRLs whose nextUpdate is after the validation time do.
    let (far_issuing, far_root) = far_future_crls(&pki);
    let far = verifier(&pki, &[&far_issuing, &far_root]);
    let report = far
        .verify(&Request {
            at: in_2099,
            ..request(&future_sig)
        })
        .await;
    assert_valid(&report, "future leaf in 2099");
    assert_eq!(report.validation_time, "2099-06-01T00:00:00Z");
}

// ---------------------------------------------------------------------------------------------
// 4. Revocation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn revoked_and_held_leaves_and_a_revoked_intermediate_are_revoked_by_crl() {
    let pki = OpensslPki::new(None, None);
    let content = json(&valid_iin());
    let good = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("good")
    });
    // Valid since 2020, so that there is a time before its revocation (which is now).
    let compromised = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        start: Some("20200101000000Z".into()),
        end: Some("20400101000000Z".into()),
        ..LeafSpec::new("compromised")
    });
    let held = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("held")
    });
    let good_sig = pki.sign(&good, &content, &SignOpts::default());
    let compromised_sig = pki.sign(&compromised, &content, &SignOpts::default());
    let held_sig = pki.sign(&held, &content, &SignOpts::default());

    // Before any revocation: all valid.
    let (issuing_crl, root_crl) = current_crls(&pki);
    let before = verifier(&pki, &[&issuing_crl, &root_crl]);
    for sig in [&good_sig, &compromised_sig, &held_sig] {
        assert_valid(&before.verify(&request(sig)).await, "before revocation");
    }

    pki.revoke(&compromised, "keyCompromise");
    pki.revoke(&held, "certificateHold");
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    assert_valid(&v.verify(&request(&good_sig)).await, "the good leaf");

    let report = v.verify(&request(&compromised_sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let revocation = check(&report, "revocation");
    assert_eq!(
        (revocation.status, revocation.code.as_str()),
        (Status::Failed, "REVOKED")
    );
    assert!(
        revocation.detail.contains("keyCompromise"),
        "{revocation:?}"
    );
    assert!(revocation.detail.contains("CRL #"), "{revocation:?}");
    let refusal = report.refusal.as_ref().expect("refusal");
    assert!(refusal.ru.contains("отозван"), "{}", refusal.ru);

    let report = v.verify(&request(&held_sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let revocation = check(&report, "revocation");
    assert_eq!(revocation.code, "REVOKED");
    assert!(
        revocation.detail.contains("certificateHold"),
        "{revocation:?}"
    );

    // Before the revocation time, the same CRL says the leaf was still good.
    let report = v
        .verify(&Request {
            at: Some(qoltanba::time::now() - 3600),
            ..request(&compromised_sig)
        })
        .await;
    assert_valid(&report, "an hour before the revocation");
    assert!(
        check(&report, "revocation")
            .detail
            .contains("revoked only later"),
        "{:?}",
        check(&report, "revocation")
    );

    // The intermediate revoked in the root's CRL: every leaf under it is revoked.
    pki.revoke_issuing("cACompromise");
    let root_crl = pki.root_crl();
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let report = v.verify(&request(&good_sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let revocation = check(&report, "revocation");
    assert!(
        revocation.detail.contains("OSSL TEST ISSUING")
            && revocation.detail.contains("cACompromise"),
        "{revocation:?}"
    );
}

#[tokio::test]
async fn a_stale_crl_or_no_revocation_source_offline_is_try_later() {
    let pki = OpensslPki::new(None, None);
    // Valid since 2020, so that the stale CRL's period lies inside its validity.
    let leaf = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        start: Some("20200101000000Z".into()),
        end: Some("20400101000000Z".into()),
        ..LeafSpec::new("leaf")
    });
    let sig = pki.sign(&leaf, &json(&valid_iin()), &SignOpts::default());
    let (issuing_crl, root_crl) = current_crls(&pki);
    let (stale, next_update) = pki.stale_crl("stale");
    assert!(next_update < qoltanba::time::now());

    assert_valid(
        &verifier(&pki, &[&issuing_crl, &root_crl])
            .verify(&request(&sig))
            .await,
        "current CRLs",
    );

    let report = verifier(&pki, &[&stale, &root_crl])
        .verify(&request(&sig))
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("TRY_LATER"));
    let revocation = check(&report, "revocation");
    assert_eq!(revocation.status, Status::Indeterminate);
    assert!(revocation.detail.contains("stale"), "{revocation:?}");
    let refusal = report.refusal.as_ref().expect("refusal");
    assert!(refusal.en.contains("revocation status"), "{}", refusal.en);
    // The stale CRL still speaks for a time before its nextUpdate.
    let report = verifier(&pki, &[&stale, &root_crl])
        .verify(&Request {
            at: Some(next_update - 3600),
            ..request(&sig)
        })
        .await;
    assert_valid(&report, "the stale CRL's own period");

    // Nothing at all, offline.
    let report = verifier(&pki, &[]).verify(&request(&sig)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("TRY_LATER"));
    let revocation = check(&report, "revocation");
    assert_eq!(revocation.code, "NO_REVOCATION_INFO");
    assert!(revocation.detail.contains("offline"), "{revocation:?}");

    // The leaf's CRL alone: the intermediate's status is unknown, so still not valid.
    let report = verifier(&pki, &[&issuing_crl]).verify(&request(&sig)).await;
    assert_eq!(report.sub_indication, Some("TRY_LATER"), "{report:#?}");
    assert!(
        check(&report, "revocation")
            .detail
            .contains("OSSL TEST ISSUING"),
        "{:?}",
        check(&report, "revocation")
    );

    // CRLs given with the request count like configured ones.
    let report = verifier(&pki, &[&root_crl])
        .verify(&Request {
            crls: vec![read(&issuing_crl)],
            ..request(&sig)
        })
        .await;
    assert_valid(&report, "the leaf's CRL in the request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocsp_from_the_aia_says_good_then_revoked() {
    let url = free_local_url();
    let pki = OpensslPki::new(None, Some(&url));
    let leaf = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("ocsp")
    });
    let sig = pki.sign(&leaf, &json(&valid_iin()), &SignOpts::default());
    let _responder = pki.ocsp_responder();
    // No CRL of the intermediate: the leaf's status must come from OCSP. The root's CRL covers
    // the intermediate, which names no responder.
    let root_crl = pki.root_crl();
    let v = Verifier::new(settings(&pki, &[&root_crl], false)).expect("verifier");

    let report = v.verify(&request(&sig)).await;
    assert_valid(&report, "OCSP good");
    let source = report.signers[0]
        .revocation_source
        .clone()
        .expect("a revocation source");
    assert!(source.starts_with("OCSP"), "{source}");
    assert!(source.contains(url.trim_end_matches('/')), "{source}");

    // Offline, the same verifier setup has nothing for the leaf.
    let offline = Verifier::new(settings(&pki, &[&root_crl], true)).expect("verifier");
    let report = offline.verify(&request(&sig)).await;
    assert_eq!(report.sub_indication, Some("TRY_LATER"), "{report:#?}");

    pki.revoke(&leaf, "keyCompromise");
    let report = v.verify(&request(&sig)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let revocation = check(&report, "revocation");
    assert!(
        revocation.detail.contains("OCSP") && revocation.detail.contains("keyCompromise"),
        "{revocation:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crls_from_the_distribution_points_are_fetched_once_and_cached_until_next_update() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let server = FileServer::start(scratch.path().to_path_buf()).await;
    let pki = OpensslPki::new(Some(&server.url()), None);
    server.set_dir(pki.pub_dir());
    let leaf = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("cdp")
    });
    let sig = pki.sign(&leaf, &json(&valid_iin()), &SignOpts::default());
    current_crls(&pki);

    // Offline, nothing is fetched and nothing is known.
    let offline = Verifier::new(settings(&pki, &[], true)).expect("verifier");
    let report = offline.verify(&request(&sig)).await;
    assert_eq!(report.sub_indication, Some("TRY_LATER"), "{report:#?}");
    assert_eq!(server.hits("/issuing.crl"), 0);

    let v = Verifier::new(settings(&pki, &[], false)).expect("verifier");
    let report = v.verify(&request(&sig)).await;
    assert_valid(&report, "CRLs from the CDPs");
    assert!(
        report.signers[0]
            .revocation_source
            .as_deref()
            .is_some_and(|s| s.starts_with("CRL")),
        "{:?}",
        report.signers[0].revocation_source
    );
    assert_eq!(server.hits("/issuing.crl"), 1);
    assert_eq!(server.hits("/root.crl"), 1, "the intermediate's CDP too");

    let report = v.verify(&request(&sig)).await;
    assert_valid(&report, "second verification");
    assert_eq!(server.hits("/issuing.crl"), 1, "cached until nextUpdate");
    assert_eq!(server.hits("/root.crl"), 1, "cached until nextUpdate");
}

// ---------------------------------------------------------------------------------------------
// 5. Key usage and algorithms
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_keys_rsa_1024_and_sha1_are_refused() {
    let pki = OpensslPki::new(None, None);
    let content = json(&valid_iin());
    let auth = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        kind: LeafKind::Auth,
        ..LeafSpec::new("auth")
    });
    let weak = pki.leaf(&LeafSpec {
        key: LeafKey::Rsa1024,
        ..LeafSpec::new("rsa1024")
    });
    let rsa = pki.leaf(&LeafSpec::new("rsa2048"));
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);

    let report = v
        .verify(&request(&pki.sign(&auth, &content, &SignOpts::default())))
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("SIG_CONSTRAINTS_FAILURE"));
    let key_usage = check(&report, "key_usage");
    assert_eq!(
        (key_usage.status, key_usage.code.as_str()),
        (Status::Failed, "AUTH_KEY")
    );
    assert_eq!(report.signers[0].key_kind, "auth");
    for id in ["signature", "chain", "validity", "revocation", "identity"] {
        assert_eq!(
            check(&report, id).status,
            Status::Passed,
            "{id}: {report:#?}"
        );
    }

    let report = v
        .verify(&request(&pki.sign(&weak, &content, &SignOpts::default())))
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("CRYPTO_CONSTRAINTS_FAILURE"));
    let signature = check(&report, "signature");
    assert_eq!(
        (signature.status, signature.code.as_str()),
        (Status::Failed, "WEAK_KEY")
    );
    assert!(signature.detail.contains("1024"), "{signature:?}");

    let sha1 = pki.sign(
        &rsa,
        &content,
        &SignOpts {
            md: "sha1",
            ..SignOpts::default()
        },
    );
    let report = v.verify(&request(&sha1)).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("CRYPTO_CONSTRAINTS_FAILURE"));
    assert_eq!(check(&report, "signature").code, "WEAK_DIGEST");

    // The same key with SHA-384 is fine.
    let sha384 = pki.sign(
        &rsa,
        &content,
        &SignOpts {
            md: "sha384",
            ..SignOpts::default()
        },
    );
    assert_valid(&v.verify(&request(&sha384)).await, "RSA-2048 with SHA-384");
}

// ---------------------------------------------------------------------------------------------
// 6. Chain
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_untrusted_root_a_missing_intermediate_and_a_missing_signer_certificate() {
    let pki = OpensslPki::new(None, None);
    let leaf = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("leaf")
    });
    let content = json(&valid_iin());
    let sig = pki.sign(&leaf, &content, &SignOpts::default());
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    assert_valid(&v.verify(&request(&sig)).await, "our own root");

    // Another OpenSSL PKI: same CA names, other keys.
    let stranger = OpensslPki::new(None, None);
    let untrusted = Verifier::new(Settings {
        anchors: vec![("stranger root".into(), read(&stranger.root_der()))],
        ..settings(&pki, &[&issuing_crl, &root_crl], true)
    })
    .expect("verifier");
    let report = untrusted.verify(&request(&sig)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("NO_CERTIFICATE_CHAIN_FOUND"));
    let chain = check(&report, "chain");
    assert_eq!(
        (chain.status, chain.code.as_str()),
        (Status::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND")
    );
    assert_eq!(check(&report, "revocation").status, Status::Skipped);

    // The intermediate neither in the CMS nor configured.
    let no_intermediate = Verifier::new(Settings {
        intermediates: Vec::new(),
        ..settings(&pki, &[&issuing_crl, &root_crl], true)
    })
    .expect("verifier");
    let report = no_intermediate.verify(&request(&sig)).await;
    assert_eq!(
        report.sub_indication,
        Some("NO_CERTIFICATE_CHAIN_FOUND"),
        "{report:#?}"
    );
    // …but given with the request.
    let report = no_intermediate
        .verify(&Request {
            certificates: vec![read(&pki.issuing_der())],
            ..request(&sig)
        })
        .await;
    assert_valid(&report, "intermediate in the request");

    // No certificate in the CMS.
    let bare = pki.sign(
        &leaf,
        &content,
        &SignOpts {
            with_certs: false,
            ..SignOpts::default()
        },
    );
    let report = v.verify(&request(&bare)).await;
    assert_eq!(report.verdict, Verdict::Indeterminate, "{report:#?}");
    assert_eq!(report.sub_indication, Some("NO_SIGNING_CERTIFICATE_FOUND"));
    assert_eq!(
        check(&report, "signature").code,
        "NO_SIGNING_CERTIFICATE_FOUND"
    );
    assert_eq!(report.signers[0].key_kind, "unknown");
    let report = v
        .verify(&Request {
            certificates: vec![read(&leaf.cert_der)],
            ..request(&bare)
        })
        .await;
    assert_valid(&report, "signer certificate supplied");
    let report = v
        .verify(&Request {
            certificates: vec![read(&stranger.issuing_der())],
            ..request(&bare)
        })
        .await;
    assert_eq!(
        report.sub_indication,
        Some("NO_SIGNING_CERTIFICATE_FOUND"),
        "another certificate is not the signer's: {report:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Tampering
// ---------------------------------------------------------------------------------------------

fn position(haystack: &[u8], needle: &[u8]) -> usize {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("found");
    assert!(
        haystack[at + 1..]
            .windows(needle.len())
            .all(|w| w != needle),
        "found twice"
    );
    at
}

/// The signature value of the only SignerInfo.
fn signature_value(cms_der: &[u8]) -> Vec<u8> {
    let info = cms::content_info::ContentInfo::from_der(cms_der).expect("ContentInfo");
    let sd: cms::signed_data::SignedData = info.content.decode_as().expect("SignedData");
    assert_eq!(sd.signer_infos.0.len(), 1);
    let si = sd.signer_infos.0.get(0).expect("signer");
    assert!(si.unsigned_attrs.is_none());
    si.signature.as_bytes().to_vec()
}

#[tokio::test]
async fn tampered_content_and_signatures_fail() {
    let pki = OpensslPki::new(None, None);
    let leaf = pki.leaf(&LeafSpec::new("rsa"));
    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let content = json(&valid_iin());
    let service = b"\"license\"";

    // Attached content changed inside the CMS.
    let sig = read(&pki.sign(&leaf, &content, &SignOpts::default()));
    assert_valid(
        &v.verify(&Request {
            signature: sig.clone(),
            ..Request::default()
        })
        .await,
        "untouched",
    );
    let mut tampered = sig.clone();
    let i = position(&tampered, service);
    tampered[i + 1] ^= 0x20; // "license" → "License"
    let report = v
        .verify(&Request {
            signature: tampered,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"));
    assert_eq!(check(&report, "signature").code, "HASH_FAILURE");

    // Detached, verified against changed content.
    let detached = pki.sign(
        &leaf,
        &content,
        &SignOpts {
            detached: true,
            ..SignOpts::default()
        },
    );
    let mut changed = content.clone();
    let i = position(&changed, service);
    changed[i + 1] ^= 0x20;
    let report = v
        .verify(&Request {
            content: Some(changed),
            ..request(&detached)
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"));
    assert_eq!(check(&report, "signature").code, "HASH_FAILURE");
    let report = v.verify(&request(&detached)).await;
    assert_eq!(check(&report, "format").code, "NO_CONTENT", "{report:#?}");
    assert_valid(
        &v.verify(&Request {
            content: Some(content.clone()),
            ..request(&detached)
        })
        .await,
        "detached with its content",
    );

    // One bit of the RSA signature value: at the very end of OpenSSL's DER.
    let value = signature_value(&sig);
    assert_eq!(value.len(), 256);
    assert!(sig.ends_with(&value), "the signature value ends the CMS");
    let mut tampered = sig.clone();
    let last = tampered.len() - 1;
    tampered[last - 100] ^= 0x01;
    let report = v
        .verify(&Request {
            signature: tampered,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("SIG_CRYPTO_FAILURE"));
    assert_eq!(check(&report, "signature").code, "SIG_CRYPTO_FAILURE");

    // No signed attributes: the signature covers the content itself.
    let noattr = read(&pki.sign(
        &leaf,
        &content,
        &SignOpts {
            with_attrs: false,
            ..SignOpts::default()
        },
    ));
    let report = v
        .verify(&Request {
            signature: noattr.clone(),
            ..Request::default()
        })
        .await;
    assert_valid(&report, "-noattr");
    assert_eq!(report.signers[0].signing_time, None);
    let mut tampered = noattr.clone();
    let i = position(&tampered, service);
    tampered[i + 1] ^= 0x20;
    let report = v
        .verify(&Request {
            signature: tampered,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("SIG_CRYPTO_FAILURE"));
    assert_eq!(check(&report, "signature").code, "SIG_CRYPTO_FAILURE");
}

// ---------------------------------------------------------------------------------------------
// 8. Two signers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_signers_are_both_reported_and_the_worst_verdict_wins() {
    let pki = OpensslPki::new(None, None);
    let alice = pki.leaf(&LeafSpec::new("alice"));
    let bob = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("bob")
    });
    let sig = pki.sign_two(&alice, &bob, &json(&valid_iin()));
    let (issuing_crl, root_crl) = current_crls(&pki);

    let report = verifier(&pki, &[&issuing_crl, &root_crl])
        .verify(&request(&sig))
        .await;
    assert_valid(&report, "two good signers");
    assert_eq!(report.signers.len(), 2);
    let serials: Vec<String> = report
        .signers
        .iter()
        .map(|s| s.serial.clone().expect("serial").to_ascii_uppercase())
        .collect();
    assert!(serials.contains(&alice.serial_hex), "{serials:?}");
    assert!(serials.contains(&bob.serial_hex), "{serials:?}");
    assert!(
        check(&report, "format").detail.contains("2 signer(s)"),
        "{:?}",
        check(&report, "format")
    );

    pki.revoke(&bob, "keyCompromise");
    let (issuing_crl, root_crl) = current_crls(&pki);
    let report = verifier(&pki, &[&issuing_crl, &root_crl])
        .verify(&request(&sig))
        .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    let bob_index = report
        .signers
        .iter()
        .position(|s| {
            s.serial
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(&bob.serial_hex))
        })
        .expect("bob reported");
    let alice_index = 1 - bob_index;
    assert_eq!(report.signers[bob_index].verdict, Verdict::Invalid);
    assert_eq!(report.signers[alice_index].verdict, Verdict::Valid);
    let revocation = check(&report, "revocation");
    assert_eq!(
        (revocation.status, revocation.code.as_str()),
        (Status::Failed, "REVOKED")
    );
    let detail = &revocation.detail;
    let bob_part = format!("signer {}: ", bob_index + 1);
    let alice_part = format!("signer {}: ", alice_index + 1);
    assert!(
        detail.contains(&bob_part) && detail.contains(&alice_part),
        "{detail}"
    );
    let rest = &detail[detail.find(&bob_part).expect("bob's part")..];
    let end = rest[bob_part.len()..]
        .find("signer ")
        .map_or(rest.len(), |e| e + bob_part.len());
    let bob_detail = &rest[..end];
    assert!(bob_detail.contains("keyCompromise"), "{detail}");
}

// ---------------------------------------------------------------------------------------------
// 9. The CLI
// ---------------------------------------------------------------------------------------------

use crate::verify_cli::verify as cli;

#[test]
fn the_cli_exit_status_follows_the_verdict_over_the_openssl_pki() {
    let pki = OpensslPki::new(None, None);
    let iin = valid_iin();
    let content = json(&iin);
    let good = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("good")
    });
    let revoked = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("revoked")
    });
    let expired = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        start: Some("20200101000000Z".into()),
        end: Some("20201231235959Z".into()),
        ..LeafSpec::new("expired")
    });
    let good_sig = pki.sign(&good, &content, &SignOpts::default());
    let revoked_sig = pki.sign(&revoked, &content, &SignOpts::default());
    let expired_sig = pki.sign(&expired, &content, &SignOpts::default());
    pki.revoke(&revoked, "keyCompromise");
    let (issuing_crl, root_crl) = current_crls(&pki);
    let (stale, _) = pki.stale_crl("stale");
    let garbage = pki.dir.path().join("garbage.p7s");
    std::fs::write(&garbage, b"this is not CMS").expect("write");

    let p = |x: &Path| x.to_str().expect("utf-8").to_owned();
    let (root, issuing) = (p(&pki.root_pem()), p(&pki.issuing_pem()));
    let run = |sig: &Path, crl: &Path, extra: &[&str]| {
        let (sig, crl, root_crl) = (p(sig), p(crl), p(&root_crl));
        let mut args = vec![
            "--signature",
            &sig,
            "--trust",
            &root,
            "--intermediate",
            &issuing,
            "--crl",
            &crl,
            "--crl",
            &root_crl,
            "--offline",
        ];
        args.extend_from_slice(extra);
        cli(&args)
    };

    let (code, out, err) = run(&good_sig, &issuing_crl, &[]);
    assert_eq!(code, 0, "valid: {out}{err}");
    assert!(out.starts_with("verdict: valid"), "{out}");
    assert!(out.contains(&format!("IIN {iin}")), "{out}");

    let (code, out, err) = run(&good_sig, &issuing_crl, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("stdout is the JSON report");
    assert_eq!(report["verdict"], "valid");
    assert_eq!(report["signers"][0]["subject"]["iin"], iin.as_str());
    assert_eq!(report["checks"].as_array().expect("checks").len(), 8);

    let (code, out, _) = run(&good_sig, &issuing_crl, &["--iin", &iin]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&good_sig, &issuing_crl, &["--iin", other_iin().as_str()]);
    assert_eq!(code, 1, "IIN mismatch: {out}");

    let (code, out, err) = run(&revoked_sig, &issuing_crl, &[]);
    assert_eq!(code, 1, "revoked: {out}{err}");
    assert!(out.contains("keyCompromise"), "{out}");
    assert!(out.contains("refusal (ru)"), "{out}");
    let (code, out, _) = run(&revoked_sig, &issuing_crl, &["--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["sub_indication"], "REVOKED");

    let (code, out, err) = run(&expired_sig, &issuing_crl, &[]);
    assert_eq!(code, 1, "expired now: {out}{err}");
    // A CRL of today says nothing of 2020 for a certificate expired since (indeterminate, 2);
    // one that keeps expired certificates does.
    let (code, out, err) = run(
        &expired_sig,
        &issuing_crl,
        &["--at", "2020-06-01T00:00:00Z"],
    );
    assert_eq!(code, 2, "no revocation evidence for 2020: {out}{err}");
    let keeping = pki.crl_keeping_expired("keeping");
    let (code, out, err) = run(&expired_sig, &keeping, &["--at", "2020-06-01T00:00:00Z"]);
    assert_eq!(code, 0, "inside its validity: {out}{err}");
    assert!(out.contains("2020-06-01T00:00:00Z"), "{out}");

    let (code, out, err) = run(&good_sig, &stale, &[]);
    assert_eq!(code, 2, "stale CRL: {out}{err}");
    assert!(out.contains("stale"), "{out}");

    let (code, _, err) = run(&good_sig, &issuing_crl, &["--iin", "123"]);
    assert_eq!(code, 64, "a malformed IIN: {err}");
    let (code, _, err) = run(&garbage, &issuing_crl, &[]);
    assert_eq!(code, 65, "garbage: {err}");
    let (code, _, err) = run(&good_sig, &garbage, &[]);
    assert_eq!(code, 65, "a garbage CRL: {err}");
}

// ---------------------------------------------------------------------------------------------
// Found while writing these tests
// ---------------------------------------------------------------------------------------------

/// A CRL of another CA with the same name (the stranger's "OSSL TEST ISSUING", other key) must
/// never vouch for our leaf, whatever was verified before.
///
/// Fails today: `Revocation::authentic` caches "signature verified" under
/// `(Arc::as_ptr(crl) as usize, issuer fingerprint)`. A request's CRLs are parsed into fresh
/// `Arc`s and freed when the request ends, so the next request's CRL of the same size class
/// lands at the same address and is taken as verified without checking its signature: after
/// one genuine CRL (REVOKED), the forged CRL makes the revoked leaf VALID.
#[tokio::test]
async fn a_crl_signed_by_another_key_is_never_trusted_even_after_a_genuine_one() {
    let pki = OpensslPki::new(None, None);
    let stranger = OpensslPki::new(None, None);
    let leaf = pki.leaf(&LeafSpec {
        key: LeafKey::P256,
        ..LeafSpec::new("leaf")
    });
    let sig = pki.sign(&leaf, &json(&valid_iin()), &SignOpts::default());
    pki.revoke(&leaf, "keyCompromise");
    let (genuine, root_crl) = current_crls(&pki);
    let (forged, _) = stranger.crl("issuing", 0);
    // Same issuer name, different signer.
    let issuer = |p: &Path| {
        crate::common::openssl_ok(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            p.to_str().expect("utf-8"),
            "-noout",
            "-issuer",
        ])
    };
    assert_eq!(issuer(&genuine), issuer(&forged));
    let v = verifier(&pki, &[&root_crl]);

    // Alone, the forged CRL is refused.
    let report = v
        .verify(&Request {
            crls: vec![read(&forged)],
            ..request(&sig)
        })
        .await;
    assert_eq!(report.sub_indication, Some("TRY_LATER"), "{report:#?}");

    for round in 0..5 {
        let report = v
            .verify(&Request {
                crls: vec![read(&genuine)],
                ..request(&sig)
            })
            .await;
        assert_eq!(
            report.sub_indication,
            Some("REVOKED"),
            "round {round}: {report:#?}"
        );
        let report = v
            .verify(&Request {
                crls: vec![read(&forged)],
                ..request(&sig)
            })
            .await;
        assert_ne!(
            report.verdict,
            Verdict::Valid,
            "round {round}: a revoked leaf passed on a CRL signed by another key: {report:#?}"
        );
        assert_eq!(
            report.sub_indication,
            Some("TRY_LATER"),
            "round {round}: {report:#?}"
        );
    }
}
