use super::*;

#[tokio::test]
async fn ca_certificates_are_published_as_der() {
    let t = pki().await;
    let chain = t.pki.ca_chain();
    for (id, der) in [
        (&t.pki.issuing().id, chain[0]),
        (&t.pki.root().id, chain[1]),
    ] {
        let reply = get(&t, &format!("/pki/{id}.cer")).await;
        assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.text());
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/pkix-cert");
        assert_eq!(reply.body, der, "{id}");
        Certificate::from_der(&reply.body).expect("DER certificate");
    }
    let message = get(&t, "/pki/nobody.cer")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains("nobody"), "{message}");
    let issuing = &t.pki.issuing().id;
    get(&t, &format!("/pki/{issuing}.pem"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    get(&t, &format!("/pki/{issuing}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

fn crl_serials(der: &[u8]) -> Vec<String> {
    let crl = CertificateList::from_der(der).expect("a DER CRL");
    crl.tbs_cert_list
        .revoked_certificates
        .unwrap_or_default()
        .iter()
        .map(|r| hex::encode_upper(r.serial_number.as_bytes()))
        .collect()
}

#[tokio::test]
async fn crls_are_published_and_list_revoked_certificates() {
    let t = pki().await;
    let issuing = t.pki.issuing().id.clone();
    let root = t.pki.root().id.clone();
    let full_url = format!("/pki/crl/{issuing}.crl");
    let delta_url = format!("/pki/crl/{issuing}-delta.crl");

    for url in [&full_url, &delta_url, &format!("/pki/crl/{root}.crl")] {
        let reply = get(&t, url).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.text());
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/pkix-crl");
        assert!(
            crl_serials(&reply.body).is_empty(),
            "{url}: nothing revoked yet"
        );
    }

    let serial = issue_p256(&t).await;
    let held = issue_p256(&t).await;
    post_json(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        &json!({"reason": "keyCompromise"}),
    )
    .await
    .ok_json(StatusCode::OK);
    post_json(
        &t,
        &format!("{CERTS}/{held}/revoke"),
        &json!({"reason": "certificateHold"}),
    )
    .await
    .ok_json(StatusCode::OK);

    let full = get(&t, &full_url).await;
    assert_eq!(full.status, StatusCode::OK);
    let listed = crl_serials(&full.body);
    assert!(listed.contains(&serial), "{serial} not in {listed:?}");
    assert!(
        listed.contains(&held),
        "a held certificate is listed too: {listed:?}"
    );
    let delta = get(&t, &delta_url).await;
    assert_eq!(delta.status, StatusCode::OK);
    assert!(crl_serials(&delta.body).contains(&serial));

    // OpenSSL checks the signature and reads the reason.
    let (issuing_pem, _) = t.ca_files();
    let crl_path = write(&t.path("full.crl"), &full.body);
    let text = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &crl_path,
        "-CAfile",
        issuing_pem.to_str().expect("utf-8"),
        "-noout",
        "-text",
    ]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("Certificate Hold"), "{text}");

    // The root's CRL does not list subscriber certificates; it publishes no delta.
    let root_crl = get(&t, &format!("/pki/crl/{root}.crl")).await;
    assert!(crl_serials(&root_crl.body).is_empty());
    get(&t, &format!("/pki/crl/{root}-delta.crl"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");

    get(&t, "/pki/crl/nope.crl")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    get(&t, &format!("/pki/crl/{issuing}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
}

const MALFORMED_REQUEST: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, 0x01];

#[tokio::test]
async fn ocsp_answers_garbage_with_malformed_request() {
    let t = pki().await;
    for body in [b"hello, OCSP".to_vec(), Vec::new(), vec![0x30, 0x00]] {
        let reply = post(&t, "/pki/ocsp", body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "RFC 6960: errors are OCSP responses"
        );
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/ocsp-response"
        );
        assert_eq!(reply.body, MALFORMED_REQUEST, "for {body:?}");
    }
    for path in ["not*base64", "aGVsbG8sIE9DU1A%3D", "%%%"] {
        let reply = get(&t, &format!("/pki/ocsp/{path}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.body, MALFORMED_REQUEST, "GET {path}");
    }
}

/// Percent-encodes base64 for a URL path segment, as RFC 6960 appendix A.1 asks.
fn url_encode_base64(b64: &str) -> String {
    b64.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Asks OpenSSL to verify an OCSP response against the request and the chain; returns its text.
fn openssl_verify_ocsp(t: &TestPki, name: &str, request: &str, response: &[u8]) -> String {
    let (issuing, root) = t.ca_files();
    let resp_path = write(&t.path(&format!("{name}.resp.der")), response);
    openssl_ok(&[
        "ocsp",
        "-respin",
        &resp_path,
        "-reqin",
        request,
        "-issuer",
        issuing.to_str().expect("utf-8"),
        "-CAfile",
        root.to_str().expect("utf-8"),
        "-verify_other",
        issuing.to_str().expect("utf-8"),
        "-resp_text",
    ])
}

#[tokio::test]
async fn ocsp_answers_real_requests_that_openssl_verifies() {
    let t = pki().await;
    let issued = t
        .issue(IssueRequest {
            key: Some(KeyAlgorithm::P256),
            ..individual("individual-sign")
        })
        .await;
    let serial = issued.record.serial.clone();
    let cert_path = write(
        &t.path("cert.pem"),
        qoltanba::pki::certificate::pem(&issued.record.certificate).expect("pem"),
    );
    let (issuing, _) = t.ca_files();
    let issuing = issuing.to_str().expect("utf-8").to_owned();

    let make_request = |name: &str, nonce: bool| -> (String, Vec<u8>) {
        let path = t.path(name).to_str().expect("utf-8").to_owned();
        let mut args = vec![
            "ocsp", "-issuer", &issuing, "-cert", &cert_path, "-reqout", &path,
        ];
        if !nonce {
            args.push("-no_nonce");
        }
        openssl_ok(&args);
        let der = std::fs::read(&path).expect("request written");
        (path, der)
    };
    let (plain_path, plain) = make_request("plain.req", false);
    let (nonce_path, with_nonce) = make_request("nonce.req", true);

    // POST, without and with a nonce.
    for (name, path, der) in [
        ("plain", &plain_path, &plain),
        ("nonce", &nonce_path, &with_nonce),
    ] {
        let reply = post(&t, "/pki/ocsp", der.clone()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/ocsp-response"
        );
        let text = openssl_verify_ocsp(&t, name, path, &reply.body);
        assert!(text.contains("Response verify OK"), "{name}: {text}");
        assert!(text.contains("Cert Status: good"), "{name}: {text}");
        assert!(text.contains(&serial), "{name}: serial missing: {text}");
        if name == "nonce" {
            assert!(text.contains("OCSP Nonce"), "the nonce is echoed: {text}");
            assert!(!text.contains("WARNING"), "{text}");
        }
    }

    // GET with the URL-encoded base64 request gives the same answer.
    let encoded = b64(&with_nonce);
    let reply = get(&t, &format!("/pki/ocsp/{}", url_encode_base64(&encoded))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "application/ocsp-response"
    );
    let text = openssl_verify_ocsp(&t, "get", &nonce_path, &reply.body);
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: good"), "{text}");

    // After revocation the responder says so, with the reason.
    post_json(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        &json!({"reason": "keyCompromise"}),
    )
    .await
    .ok_json(StatusCode::OK);
    let reply = post(&t, "/pki/ocsp", plain.clone()).await;
    let text = openssl_verify_ocsp(&t, "revoked", &plain_path, &reply.body);
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: revoked"), "{text}");
    assert!(text.contains("keyCompromise"), "{text}");
    let reply = get(
        &t,
        &format!("/pki/ocsp/{}", url_encode_base64(&b64(&plain))),
    )
    .await;
    let text = openssl_verify_ocsp(&t, "revoked-get", &plain_path, &reply.body);
    assert!(text.contains("Cert Status: revoked"), "{text}");

    // A certificate the service never issued (a CA certificate's serial under our issuer is
    // fine; a foreign issuer is not ours): openssl asks about the root, issued by itself.
    let (_, root) = t.ca_files();
    let root = root.to_str().expect("utf-8").to_owned();
    let foreign = t.path("foreign.req").to_str().expect("utf-8").to_owned();
    openssl_ok(&[
        "ocsp",
        "-issuer",
        &root,
        "-cert",
        &root,
        "-reqout",
        &foreign,
        "-no_nonce",
    ]);
    let reply = post(&t, "/pki/ocsp", std::fs::read(&foreign).expect("read")).await;
    assert_eq!(reply.status, StatusCode::OK);
    // unauthorized (6): this responder does not answer for the root's certificates.
    assert_eq!(reply.body, [0x30, 0x03, 0x0a, 0x01, 0x06]);
}
