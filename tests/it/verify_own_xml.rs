//! The whole условие 3 on XML: requests signed as NCALayer's `signXml` signs them (our own
//! `sign::xml`, Kalkan's shape) with keys of our test PKI, judged with the same verdicts and
//! check ids as the CMS cases of `verify_own.rs`.

use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::identity::{Bin, Iin};
use qoltanba::sign::SignerIdentity;
use qoltanba::verify::{Report, Request, Verdict};

use crate::common::*;

fn request_xml(iin: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request xmlns=\"urn:example:license\" Id=\"req\">\n  \
         <service>license</service>\n  <applicant kind=\"individual\">\n    <iin>{iin}</iin>\n    \
         <name>ТЕСТОВ ТЕСТ</name>\n  </applicant>\n</request>\n"
    )
    .into_bytes()
}

/// A signer straight from the issued key store, without the signing policy (so an AUTH key
/// can sign, as an applicant's NCALayer would let it).
fn identity(pkcs12: &[u8]) -> SignerIdentity {
    let contents = qoltanba::keystore::open_pkcs12(pkcs12, P12_PASSWORD).expect("p12");
    let cert = qoltanba::x509::Cert::from_der(&contents.certificate).expect("cert");
    SignerIdentity {
        key: SigningKey::from_pkcs8(&contents.private_key_pkcs8).expect("key"),
        certificate: cert.parsed.clone(),
        certificate_der: cert.der.clone(),
        chain: contents.chain,
    }
}

async fn signer(t: &TestPki, profile: &str, key: KeyAlgorithm) -> (SignerIdentity, String) {
    let mut request = if profile.starts_with("legal") {
        legal(profile)
    } else {
        individual(profile)
    };
    request.key = Some(key);
    let issued = t.issue(request).await;
    (identity(&issued.pkcs12), issued.record.serial)
}

fn sign(signer: &SignerIdentity, xml: &[u8]) -> Vec<u8> {
    qoltanba::sign::xml::sign_enveloped(xml, signer).expect("sign")
}

fn check<'a>(report: &'a Report, id: &str) -> &'a qoltanba::verify::report::Check {
    report.checks.iter().find(|c| c.id == id).expect("step")
}

async fn verify(t: &TestPki, signature: Vec<u8>) -> Report {
    verify_with(
        t,
        Request {
            signature,
            ..Request::default()
        },
    )
    .await
}

async fn verify_with(t: &TestPki, request: Request) -> Report {
    t.state().verifier.verify(&request).await
}

#[tokio::test]
async fn xml_requests_signed_with_every_key_type_are_valid_with_the_iin_from_the_content() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    for key in [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::P256,
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::Gost2015,
    ] {
        let (s, _) = signer(&t, "individual-sign", key).await;
        let report = verify(&t, sign(&s, &request_xml(&valid_iin()))).await;
        assert_eq!(report.verdict, Verdict::Valid, "{key}: {report:#?}");
        assert_eq!(report.expected_identity.source, "content");
        assert_eq!(report.signers[0].covers, vec!["/request".to_owned()]);
        assert!(check(&report, "format").detail.starts_with("XML"));
    }
}

#[tokio::test]
async fn iin_and_bin_mismatches_on_xml_are_refused_like_cms() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::P256).await;
    let other = Iin::generate(1985, 3, 2, qoltanba::identity::Sex::Female, 77).expect("iin");
    let report = verify(&t, sign(&s, &request_xml(other.as_str()))).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(check(&report, "identity").code, "IIN_MISMATCH");
    assert_eq!(report.sub_indication, Some("SIG_CONSTRAINTS_FAILURE"));
    let signature = sign(&s, &request_xml(&valid_iin()));
    let report = verify_with(
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
    let report = verify_with(
        &t,
        Request {
            signature,
            bin: Some(Bin::parse("940140000385").expect("bin")),
            ..Request::default()
        },
    )
    .await;
    assert_eq!(check(&report, "identity").code, "BIN_MISMATCH");
}

#[tokio::test]
async fn expired_not_yet_valid_revoked_and_auth_keys_on_xml_are_refused_like_cms() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, serial) = signer(&t, "individual-sign", KeyAlgorithm::Rsa2048).await;
    let signature = sign(&s, &request_xml(&valid_iin()));
    let year = 366 * 86_400;
    let now = qoltanba::time::now();
    for (at, expected) in [(now + 2 * year, "EXPIRED"), (now - year, "NOT_YET_VALID")] {
        let report = verify_with(
            &t,
            Request {
                signature: signature.clone(),
                at: Some(at),
                ..Request::default()
            },
        )
        .await;
        assert_eq!(report.sub_indication, Some(expected), "{report:#?}");
    }
    t.pki
        .revoke(&serial, "keyCompromise".parse().expect("reason"), None)
        .await
        .expect("revoke");
    let report = verify(&t, signature.clone()).await;
    assert_eq!(report.sub_indication, Some("REVOKED"), "{report:#?}");
    // The same from the published CRL alone, offline, as an outside verifier sees it.
    let issuing = t.pki.issuing().id.clone();
    t.pki
        .publish_crls(&issuing, qoltanba::time::now())
        .await
        .expect("publish");
    let crl = t.pki.crl(&issuing, false).await.expect("crl");
    let outside = qoltanba::verify::Verifier::new(qoltanba::verify::Settings {
        anchors: vec![("root".into(), t.pki.root().certificate_der.clone())],
        intermediates: vec![("issuing".into(), t.pki.issuing().certificate_der.clone())],
        crls: vec![("crl".into(), crl)],
        offline: true,
        revocation_scope: qoltanba::verify::RevocationScope::Leaf,
        ..Default::default()
    })
    .expect("verifier");
    let report = outside
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await;
    assert_eq!(report.sub_indication, Some("REVOKED"), "{report:#?}");
    assert!(report.signers[0]
        .revocation_source
        .as_deref()
        .is_some_and(|s| s.starts_with("CRL")));

    let (auth, _) = signer(&t, "individual-auth", KeyAlgorithm::P256).await;
    let report = verify(&t, sign(&auth, &request_xml(&valid_iin()))).await;
    assert_eq!(check(&report, "key_usage").code, "AUTH_KEY", "{report:#?}");
}

#[tokio::test]
async fn untrusted_roots_tampered_text_and_attributes_on_xml_are_not_valid() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::Rsa2048).await;
    let signed = String::from_utf8(sign(&s, &request_xml(&valid_iin()))).expect("utf-8");
    let stranger = TestPki::new(Backend::Sqlite).await.expect("another PKI");
    let report = verify(&stranger, signed.clone().into_bytes()).await;
    assert_eq!(report.sub_indication, Some("NO_CERTIFICATE_CHAIN_FOUND"));
    for (from, to) in [
        ("<service>license</service>", "<service>licensE</service>"),
        ("kind=\"individual\"", "kind=\"legal\""),
    ] {
        let tampered = signed.replacen(from, to, 1);
        assert_ne!(tampered, signed);
        let report = verify(&t, tampered.into_bytes()).await;
        assert_eq!(report.verdict, Verdict::Invalid, "{to}");
        assert_eq!(
            report.sub_indication,
            Some("HASH_FAILURE"),
            "{to}: {report:#?}"
        );
        assert_eq!(
            check(&report, "signature").code,
            "REFERENCE_DIGEST_MISMATCH"
        );
    }
}

#[tokio::test]
async fn a_second_signature_in_kalkans_order_is_a_second_signer() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (applicant, _) = signer(&t, "individual-sign", KeyAlgorithm::Rsa2048).await;
    let (head, _) = signer(&t, "legal-head-sign", KeyAlgorithm::Gost2015).await;
    let once = sign(&applicant, &request_xml(&valid_iin()));
    let twice = sign(&head, &once);
    let report = verify(&t, twice.clone()).await;
    assert_eq!(report.signers.len(), 2, "{report:#?}");
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // A changed first signature value breaks the first signer and the second's digest.
    let text = String::from_utf8(twice).expect("utf-8");
    let at = text.find("<ds:SignatureValue>").expect("value") + "<ds:SignatureValue>\n".len();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let report = verify(&t, bytes).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
}

#[tokio::test]
async fn a_soap_message_we_sign_for_the_gateway_verifies_and_post_v1_verify_takes_xml() {
    use crate::http_api::post_json;
    use axum::http::StatusCode;
    use base64::Engine;
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (s, _) = signer(&t, "individual-sign", KeyAlgorithm::Rsa2048).await;
    let envelope = format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header/>\
         <soap:Body><m:Request xmlns:m=\"urn:gateway\"><m:iin>{}</m:iin></m:Request></soap:Body>\
         </soap:Envelope>",
        valid_iin()
    );
    let signed = qoltanba::sign::xml::sign_wsse(envelope.as_bytes(), &s).expect("wsse");
    let report = verify(&t, signed.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(report.signers[0].covers, vec!["/Envelope/Body".to_owned()]);
    assert_eq!(report.expected_identity.source, "content");

    // Over HTTP: the same document, base64, in "signature"; "content" is refused for XML.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&signed);
    let report = post_json(&t, "/v1/verify", &serde_json::json!({"signature": b64}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(report["verdict"], "valid", "{report}");
    assert_eq!(report["signers"][0]["covers"][0], "/Envelope/Body");
    let with_content = serde_json::json!({"signature": b64, "content": "dGVzdA=="});
    let report = post_json(&t, "/v1/verify", &with_content)
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(
        report["checks"][0]["code"], "CONTENT_NOT_EXPECTED",
        "{report}"
    );
}
