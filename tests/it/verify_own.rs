//! Verification (условие 3) of requests signed by OpenSSL with keys from our own test PKI,
//! through the library and through `POST /v1/verify`.

use base64::Engine;
use qoltanba::crypto::KeyAlgorithm;
use qoltanba::identity::{Bin, Iin};
use qoltanba::verify::{Report, Request, Status, Verdict};

use crate::common::*;
use crate::signing::Signer;

fn request_json(iin: &str) -> Vec<u8> {
    format!(r#"{{"service":"license","applicant":{{"iin":"{iin}","name":"ТЕСТОВ ТЕСТ"}}}}"#)
        .into_bytes()
}

async fn signer(t: &TestPki, profile: &str, key: KeyAlgorithm, name: &str) -> (Signer, String) {
    let mut request = if profile.starts_with("legal") {
        legal(profile)
    } else {
        individual(profile)
    };
    request.key = Some(key);
    let issued = t.issue(request).await;
    (
        Signer::from_pkcs12(&issued.pkcs12, P12_PASSWORD, t.dir.path(), name, false),
        issued.record.serial,
    )
}

fn check<'a>(report: &'a Report, id: &str) -> &'a qoltanba::verify::report::Check {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .expect("every step is reported")
}

async fn verify(t: &TestPki, request: Request) -> Report {
    t.state().verifier.verify(&request).await
}

#[tokio::test]
async fn attached_rsa_and_ecdsa_requests_verify_with_the_iin_from_the_content() {
    // (OpenSSL 3.0 cannot sign CMS with Ed25519 — fixed in 3.2 — so Ed25519 is not exercised here.)
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    for (key, name) in [(KeyAlgorithm::Rsa2048, "rsa"), (KeyAlgorithm::P256, "p256")] {
        let (s, serial) = signer(&t, "individual-sign", key, name).await;
        let content = request_json(&valid_iin());
        let signature = s.sign(&content, t.dir.path(), false, &[]);
        let report = verify(
            &t,
            Request {
                signature,
                ..Request::default()
            },
        )
        .await;
        assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
        assert_eq!(report.indication, "TOTAL_PASSED");
        assert!(report.refusal.is_none());
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
            ]
        );
        assert_eq!(report.expected_identity.source, "content");
        let signer = &report.signers[0];
        assert_eq!(signer.subject.iin.as_deref(), Some(valid_iin().as_str()));
        assert_eq!(signer.serial.as_deref(), Some(serial.as_str()));
        assert_eq!(signer.key_kind, "sign");
        assert!(
            signer.roles.contains(&"individual".to_owned()),
            "{:?}",
            signer.roles
        );
        assert!(signer.signing_time.is_some(), "OpenSSL adds signingTime");
        assert_eq!(
            signer.revocation_source.as_deref(),
            Some("qoltanba database")
        );
    }
}

#[tokio::test]
async fn a_detached_signature_verifies_with_its_content_and_fails_on_changed_content() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "det").await;
    let content = request_json(&valid_iin());
    let signature = s.sign(&content, t.dir.path(), true, &[]);
    let ok = verify(
        &t,
        Request {
            signature: signature.clone(),
            content: Some(content.clone()),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(ok.verdict, Verdict::Valid, "{ok:#?}");
    let mut changed = content.clone();
    changed[5] ^= 1;
    let bad = verify(
        &t,
        Request {
            signature: signature.clone(),
            content: Some(changed),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(bad.verdict, Verdict::Invalid);
    assert_eq!(bad.sub_indication, Some("HASH_FAILURE"));
    let none = verify(
        &t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(none.verdict, Verdict::Invalid);
    assert_eq!(check(&none, "format").code, "NO_CONTENT");
}

#[tokio::test]
async fn tampered_attached_content_is_a_hash_failure() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "tamper").await;
    let content = request_json(&valid_iin());
    let mut signature = s.sign(&content, t.dir.path(), false, &[]);
    let at = signature
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .expect("content inside");
    signature[at + 10] ^= 0x01;
    let report = verify(
        &t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"));
    let refusal = report.refusal.expect("a refusal");
    assert!(
        refusal.ru.contains("не подтверждением подлинности ЭЦП"),
        "{}",
        refusal.ru
    );
    assert!(!refusal.kk.is_empty() && !refusal.en.is_empty());
}

#[tokio::test]
async fn iin_and_bin_mismatches_are_refused_and_say_where_the_expected_values_came_from() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "id").await;
    let other = Iin::generate(1985, 3, 2, qoltanba::identity::Sex::Female, 77).expect("iin");
    // In the content.
    let signature = s.sign(&request_json(other.as_str()), t.dir.path(), false, &[]);
    let report = verify(
        &t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
    assert_eq!(report.expected_identity.source, "content");
    // From the caller, who wins over the content.
    let signature = s.sign(&request_json(&valid_iin()), t.dir.path(), false, &[]);
    let report = verify(
        &t,
        Request {
            signature: signature.clone(),
            iin: Some(other),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
    assert_eq!(report.expected_identity.source, "caller");
    // A BIN asked for, absent from an individual's certificate.
    let bin = Bin::parse("940140000385").expect("bin");
    let report = verify(
        &t,
        Request {
            signature,
            bin: Some(bin),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "identity").code, "BIN_MISMATCH");
    assert_eq!(report.sub_indication, Some("SIG_CONSTRAINTS_FAILURE"));
}

#[tokio::test]
async fn revoked_expired_not_yet_valid_and_auth_keys_are_refused() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, serial) = signer(&t, "individual-sign", KeyAlgorithm::P256, "life").await;
    let signature = s.sign(&request_json(&valid_iin()), t.dir.path(), false, &[]);
    let year = 366 * 86_400;
    let now = qoltanba::time::now();
    let later = verify(
        &t,
        Request {
            signature: signature.clone(),
            at: Some(now + 2 * year),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(later.sub_indication, Some("EXPIRED"), "{later:#?}");
    let earlier = verify(
        &t,
        Request {
            signature: signature.clone(),
            at: Some(now - year),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(earlier.sub_indication, Some("NOT_YET_VALID"));
    let inside = verify(
        &t,
        Request {
            signature: signature.clone(),
            at: Some(now + 86_400),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(inside.verdict, Verdict::Valid, "{inside:#?}");

    t.pki
        .revoke(&serial, "keyCompromise".parse().expect("r"), None)
        .await
        .expect("revoke");
    let revoked = verify(
        &t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(revoked.verdict, Verdict::Invalid);
    assert_eq!(revoked.sub_indication, Some("REVOKED"));
    assert!(check(&revoked, "revocation")
        .detail
        .contains("keyCompromise"));

    let (auth, _) = signer(&t, "individual-auth", KeyAlgorithm::P256, "auth").await;
    let signature = auth.sign(&request_json(&valid_iin()), t.dir.path(), false, &[]);
    let report = verify(
        &t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "key_usage").code, "AUTH_KEY");
    assert_eq!(report.signers[0].key_kind, "auth");
}

#[tokio::test]
async fn sha1_untrusted_roots_missing_signers_and_garbage_are_not_valid() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::Rsa2048, "misc").await;
    let content = request_json(&valid_iin());

    let sha1 = s.sign(&content, t.dir.path(), false, &["-md", "sha1"]);
    let report = verify(
        &t,
        Request {
            signature: sha1,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.sub_indication, Some("CRYPTO_CONSTRAINTS_FAILURE"));
    assert_eq!(check(&report, "signature").code, "WEAK_DIGEST");

    let signature = s.sign(&content, t.dir.path(), false, &[]);
    let stranger = TestPki::new(Backend::Sqlite).await.expect("another PKI");
    let report = stranger
        .state()
        .verifier
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await;
    assert_eq!(report.verdict, Verdict::Indeterminate);
    assert_eq!(report.sub_indication, Some("NO_CERTIFICATE_CHAIN_FOUND"));

    let bare = s.sign(&content, t.dir.path(), false, &["-nocerts"]);
    let report = verify(
        &t,
        Request {
            signature: bare.clone(),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.sub_indication, Some("NO_SIGNING_CERTIFICATE_FOUND"));
    let cert_der = qoltanba::verify::read_certificate(&std::fs::read(&s.cert).expect("cert"))
        .expect("parse")
        .der;
    let report = verify(
        &t,
        Request {
            signature: bare,
            certificates: vec![cert_der],
            ..Request::default()
        },
    )
    .await;
    assert_eq!(
        report.verdict,
        Verdict::Valid,
        "a supplied signer certificate is used: {report:#?}"
    );

    let report = verify(
        &t,
        Request {
            signature: b"not a signature at all".to_vec(),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "format").code, "UNREADABLE");
    assert!(report.signers.is_empty());
}

#[tokio::test]
async fn zero_signer_infos_is_never_valid() {
    use der::{Decode, Encode};
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "zero").await;
    let der = s.sign(&request_json(&valid_iin()), t.dir.path(), false, &[]);
    let info = cms::content_info::ContentInfo::from_der(&der).expect("ci");
    let mut sd: cms::signed_data::SignedData = info.content.decode_as().expect("sd");
    sd.signer_infos = cms::signed_data::SignerInfos(Default::default());
    let emptied = cms::content_info::ContentInfo {
        content_type: info.content_type,
        content: der::Any::encode_from(&sd).expect("any"),
    }
    .to_der()
    .expect("der");
    let report = verify(
        &t,
        Request {
            signature: emptied,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "format").code, "NO_SIGNER");
    assert!(
        report
            .checks
            .iter()
            .skip(1)
            .all(|c| c.status == Status::Skipped),
        "{report:#?}"
    );
}

#[tokio::test]
async fn post_v1_verify_returns_the_report_and_refuses_bad_requests() {
    use axum::body::Body;
    use axum::http::{Request as HttpRequest, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "http").await;
    let signature = s.sign(&request_json(&valid_iin()), t.dir.path(), false, &[]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&signature);
    let call = |body: serde_json::Value| {
        let app = qoltanba::http::router(t.state());
        async move {
            let response = app
                .oneshot(
                    HttpRequest::post("/v1/verify")
                        .header("content-type", "application/json")
                        .body(Body::from(body.to_string()))
                        .expect("request"),
                )
                .await
                .expect("response");
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&bytes).expect("json"),
            )
        }
    };
    let (status, report) = call(serde_json::json!({"signature": b64, "iin": valid_iin()})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["checks"].as_array().expect("checks").len(), 8);
    let (status, report) =
        call(serde_json::json!({"signature": b64, "at": "2000-01-01T00:00:00Z"})).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an invalid verdict is still a 200 report"
    );
    assert_eq!(report["sub_indication"], "NOT_YET_VALID");
    assert!(report["refusal"]["ru"]
        .as_str()
        .expect("ru")
        .contains("ЭЦП"));
    let (status, error) = call(serde_json::json!({"signature": "%%%", "iin": "12345"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = error["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("base64") && message.contains("12 digits"),
        "{message}"
    );
}

#[tokio::test]
async fn streamed_ber_cms_with_indefinite_lengths_verifies() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256, "ber").await;
    let content = request_json(&valid_iin());
    let ber = s.sign(&content, t.dir.path(), false, &["-stream"]);
    assert_eq!(
        ber.get(1),
        Some(&0x80),
        "OpenSSL's -stream output is indefinite-length BER"
    );
    let report = verify(
        &t,
        Request {
            signature: ber.clone(),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // Still tamper-evident after re-encoding.
    let mut changed = ber;
    let at = changed
        .windows(content.len())
        .position(|w| w == content.as_slice())
        .expect("content inside");
    changed[at + 8] ^= 0x01;
    let report = verify(
        &t,
        Request {
            signature: changed,
            ..Request::default()
        },
    )
    .await;
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"));
}
