use super::*;

#[tokio::test]
async fn issuing_an_individual_certificate_returns_it_with_a_pkcs12_that_opens() {
    let t = pki().await;
    let before = serials(&t).await;
    let reply = post_json(&t, CERTS, &individual_json()).await;
    let v = reply.ok_json(StatusCode::CREATED);
    assert_eq!(
        reply.header(header::CACHE_CONTROL),
        "no-store",
        "the body holds a private key"
    );

    let serial = v["serial"].as_str().expect("serial");
    assert_eq!(serial.len(), 40, "20-byte serial: {serial}");
    assert!(serial
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
    assert_eq!(v["issuer"], t.pki.issuing().id.as_str());
    assert_eq!(v["profile"], "individual-sign");
    assert_eq!(v["iin"], valid_iin().as_str());
    assert_eq!(v["bin"], Value::Null);
    assert_eq!(v["status"], "good");
    assert_eq!(v["revoked_at"], Value::Null);
    assert_eq!(v["key_algorithm"], "rsa2048");
    assert_eq!(v["pkcs12_format"], "modern");
    let subject = v["subject"].as_str().expect("subject");
    for part in [
        "CN=ТЕСТОВ ТЕСТ",
        "SURNAME=ТЕСТОВ",
        &format!("SERIALNUMBER=IIN{}", valid_iin()),
        "C=KZ",
        "GIVENNAME=ТЕСТОВИЧ",
    ] {
        assert!(subject.contains(part), "{part:?} missing from {subject:?}");
    }

    // The certificate is the one described, and the key store holds it and the chain.
    let cert_der = pem_to_der(v["certificate_pem"].as_str().expect("certificate_pem"));
    assert_eq!(serial_of(&cert_der), serial);
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(v["pkcs12_base64"].as_str().expect("pkcs12_base64"))
        .expect("pkcs12_base64 is base64");
    let contents = qoltanba::keystore::open_pkcs12(&p12, P12_PASSWORD).expect("the PKCS#12 opens");
    assert_eq!(contents.certificate, cert_der);
    assert!(!contents.private_key_pkcs8.is_empty());
    let chain: Vec<Vec<u8>> = t.pki.ca_chain().into_iter().map(<[u8]>::to_vec).collect();
    assert_eq!(
        contents.chain, chain,
        "the key store carries issuing CA then root"
    );
    assert!(
        qoltanba::keystore::open_pkcs12(&p12, "not the password").is_err(),
        "a wrong password must not open the key store"
    );

    let ca_chain_pem = v["ca_chain_pem"].as_str().expect("ca_chain_pem");
    let ca_chain: Vec<Vec<u8>> = Certificate::load_pem_chain(ca_chain_pem.as_bytes())
        .expect("ca_chain_pem parses")
        .iter()
        .map(|c| c.to_der().expect("der"))
        .collect();
    assert_eq!(ca_chain, chain);

    // Stored: listed, and shown by serial — without the key store.
    let after = serials(&t).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.iter().any(|s| s == serial));
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["certificate_pem"], v["certificate_pem"]);
    assert!(
        shown.get("pkcs12_base64").is_none(),
        "the key store is returned once only"
    );
}

#[tokio::test]
async fn legacy_pkcs12_is_labelled_and_opens() {
    let t = pki().await;
    let body = with(
        with(individual_json(), "legacy", json!(true)),
        "key",
        json!("p256"),
    );
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["pkcs12_format"], "legacy");
    assert_eq!(v["key_algorithm"], "p256");
    let p12 = base64::engine::general_purpose::STANDARD
        .decode(v["pkcs12_base64"].as_str().expect("pkcs12_base64"))
        .expect("base64");
    let contents = qoltanba::keystore::open_pkcs12(&p12, P12_PASSWORD).expect("legacy opens");
    assert_eq!(
        contents.certificate,
        pem_to_der(v["certificate_pem"].as_str().expect("pem"))
    );
    // And OpenSSL 3 opens it with -legacy, as it would a real NCA key store.
    let p12_path = write(&t.path("legacy.p12"), &p12);
    let out = openssl_ok(&[
        "pkcs12",
        "-legacy",
        "-in",
        &p12_path,
        "-passin",
        &format!("pass:{P12_PASSWORD}"),
        "-nokeys",
    ]);
    assert!(out.contains("BEGIN CERTIFICATE"), "{out}");
}

#[tokio::test]
async fn legal_head_sign_puts_the_organisation_and_bin_in_the_subject() {
    let t = pki().await;
    let body = json!({
        "profile": "legal-head-sign",
        "iin": valid_iin(),
        "bin": "940140000385",
        "org": "АО \"ҚОЛТАҢБА ТЕСТ\"",
        "surname": "ТЕСТОВ",
        "given_name": "ТЕСТ",
        "patronymic": "ТЕСТОВИЧ",
        "password": P12_PASSWORD,
        "key": "ed25519",
    });
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["profile"], "legal-head-sign");
    assert_eq!(v["bin"], "940140000385");
    assert_eq!(v["iin"], valid_iin().as_str());
    let subject = v["subject"].as_str().expect("subject");
    assert!(subject.contains("OU=BIN940140000385"), "{subject}");
    assert!(subject.contains("O=АО \"ҚОЛТАҢБА ТЕСТ\""), "{subject}");
    // The certificate itself, not only the API's summary, says so.
    let der = pem_to_der(v["certificate_pem"].as_str().expect("pem"));
    let cert = Certificate::from_der(&der).expect("certificate");
    let name = &cert.tbs_certificate.subject;
    use qoltanba::pki::name::attribute;
    assert_eq!(attribute(name, "OU").as_deref(), Some("BIN940140000385"));
    assert_eq!(
        attribute(name, "O").as_deref(),
        Some("АО \"ҚОЛТАҢБА ТЕСТ\"")
    );
    assert_eq!(
        attribute(name, "SERIALNUMBER"),
        Some(format!("IIN{}", valid_iin()))
    );
}

#[tokio::test]
async fn bad_issue_requests_are_refused_with_400_and_store_nothing() {
    let t = pki().await;
    // The issuing CA lives the longest validity a request may ask (3650 days): a request made
    // a second after the CA was created outlives it by that second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut wrong_check = valid_iin().into_bytes();
    wrong_check[11] = b'0' + (wrong_check[11] - b'0' + 1) % 10;
    let wrong_check = String::from_utf8(wrong_check).expect("ascii");
    let ok = individual_json;
    let legal = |v: Value| {
        with(
            with(v, "profile", json!("legal-head-sign")),
            "key",
            json!("p256"),
        )
    };

    // (what, body, code, words the message must contain)
    let cases: Vec<(&str, Vec<u8>, &str, Vec<String>)> = vec![
        (
            "unknown profile",
            with(ok(), "profile", json!("nobody-sign")),
            "invalid_request",
            vec![
                "nobody-sign",
                "known profiles",
                "individual-sign",
                "legal-head-sign",
            ],
        ),
        (
            "IIN of 11 digits",
            with(ok(), "iin", json!("90051730123")),
            "invalid_request",
            vec!["IIN", "12 digits", "11 characters"],
        ),
        (
            "IIN with a letter",
            with(ok(), "iin", json!("9005173O1234")),
            "invalid_request",
            vec!["IIN", "only digits", "'O'"],
        ),
        (
            "IIN with a wrong check digit",
            with(ok(), "iin", json!(wrong_check)),
            "invalid_request",
            vec![&wrong_check, "check digit", "allow_invalid_check_digit"],
        ),
        (
            "NCA's test IIN without the flag",
            with(ok(), "iin", json!(NCA_TEST_IIN)),
            "invalid_request",
            vec![
                NCA_TEST_IIN,
                "wrong check digit (expected 3)",
                "allow_invalid_check_digit",
            ],
        ),
        (
            "missing password",
            without(ok(), "password"),
            "invalid_request",
            vec!["password", "required"],
        ),
        (
            "empty password",
            with(ok(), "password", json!("")),
            "invalid_request",
            vec!["password is empty"],
        ),
        (
            "BIN for an individual",
            with(ok(), "bin", json!("940140000385")),
            "invalid_request",
            vec!["individual-sign", "no place for a BIN"],
        ),
        (
            "legal profile without bin or org",
            legal(ok()),
            "invalid_request",
            vec!["legal-head-sign", "requires a BIN", "org"],
        ),
        (
            "legal profile with a malformed BIN",
            with(
                with(legal(ok()), "bin", json!("94014000038")),
                "org",
                json!("ТОО"),
            ),
            "invalid_request",
            vec!["BIN", "12 digits"],
        ),
        (
            "days 0",
            with(ok(), "days", json!(0)),
            "invalid_request",
            vec!["days must be between 1 and 3650", "got 0"],
        ),
        (
            "days 99999",
            with(ok(), "days", json!(99999)),
            "invalid_request",
            vec!["days must be between 1 and 3650", "got 99999"],
        ),
        (
            "days beyond the issuing CA",
            with(ok(), "days", json!(3650)),
            "invalid_request",
            vec!["days=3650", "outlive the issuing CA"],
        ),
        (
            "negative days",
            with(ok(), "days", json!(-1)),
            "bad_request",
            vec!["not valid JSON for this request", "-1"],
        ),
        (
            "the OCSP responder's profile",
            with(ok(), "profile", json!("ocsp-responder")),
            "invalid_request",
            vec!["OCSP responder profile"],
        ),
        (
            "unknown key type",
            with(ok(), "key", json!("rsa1024")),
            "bad_request",
            vec!["rsa1024", "rsa2048"],
        ),
        (
            "unknown JSON field",
            with(ok(), "colour", json!("blue")),
            "bad_request",
            vec!["unknown field", "colour"],
        ),
        (
            "days as a string",
            with(ok(), "days", json!("ten")),
            "bad_request",
            vec!["invalid type", "ten"],
        ),
        (
            "IIN as a number",
            with(ok(), "iin", json!(900517301234_u64)),
            "bad_request",
            vec!["invalid type", "expected a string"],
        ),
        (
            "no profile",
            without(ok(), "profile"),
            "bad_request",
            vec!["missing field", "profile"],
        ),
        (
            "a JSON array",
            json!([ok()]),
            "bad_request",
            vec!["not valid JSON for this request"],
        ),
        (
            "several problems at once",
            json!({
                "profile": "individual-sign",
                "iin": "12345",
                "surname": "  ",
                "given_name": "ТЕСТ",
                "bin": "940140000385",
                "password": "",
                "days": 0,
            }),
            "invalid_request",
            vec![
                "IIN must be exactly 12 digits",
                "surname is empty",
                "no place for a BIN",
                "password is empty",
                "got 0",
            ],
        ),
    ]
    .into_iter()
    .map(|(what, body, code, words)| {
        let words = words.into_iter().map(str::to_owned).collect();
        (what, serde_json::to_vec(&body).expect("json"), code, words)
    })
    .chain([
        (
            "garbage body",
            b"profile=individual-sign&iin=1".to_vec(),
            "bad_request",
            vec!["not valid JSON".to_owned()],
        ),
        (
            "truncated JSON",
            br#"{"profile": "individual-sign", "iin": "9005"#.to_vec(),
            "bad_request",
            vec!["not valid JSON".to_owned(), "EOF".to_owned()],
        ),
        (
            "empty body",
            Vec::new(),
            "bad_request",
            vec!["empty".to_owned()],
        ),
    ])
    .collect();

    let before = serials(&t).await;
    for (what, body, code, words) in cases {
        let reply = post(&t, CERTS, body).await;
        let message = reply.error(StatusCode::BAD_REQUEST, code);
        for word in &words {
            assert!(
                message.contains(word.as_str()),
                "{what}: message should mention {word:?}: {message}"
            );
        }
        assert!(
            !message.contains(P12_PASSWORD),
            "{what}: the password is echoed: {message}"
        );
        assert_eq!(
            serials(&t).await,
            before,
            "{what}: a refused request stored something"
        );
    }
}

#[tokio::test]
async fn ncas_test_iin_is_accepted_with_allow_invalid_check_digit() {
    let t = pki().await;
    let body = with(
        with(
            with(individual_json(), "iin", json!(NCA_TEST_IIN)),
            "allow_invalid_check_digit",
            json!(true),
        ),
        "key",
        json!("p256"),
    );
    let v = post_json(&t, CERTS, &body)
        .await
        .ok_json(StatusCode::CREATED);
    assert_eq!(v["iin"], NCA_TEST_IIN);
    let subject = v["subject"].as_str().expect("subject");
    assert!(
        subject.contains("SERIALNUMBER=IIN123456789011"),
        "{subject}"
    );
    // The flag relaxes the check digit, not the shape.
    let reply = post_json(&t, CERTS, &with(body, "iin", json!("12345678901X"))).await;
    let message = reply.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("only digits"), "{message}");
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_error_shape_and_store_nothing() {
    let t = pki().await;
    let before = serials(&t).await;
    // 100 KiB of otherwise plausible JSON.
    let huge = with(individual_json(), "surname", json!("Ж".repeat(50 * 1024)));
    let reply = post_json(&t, CERTS, &huge).await;
    let message = reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(message.contains("too large"), "{message}");
    // Just under the 64 KiB limit the body is read and judged on its content instead.
    let big = with(individual_json(), "surname", json!("Ж".repeat(30 * 1024)));
    let message = post_json(&t, CERTS, &big)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("surname is longer than 128"), "{message}");
    // Revocation bodies share the limit; OCSP requests have their own, smaller one.
    let serial = serials(&t).await[0].clone();
    let reply = post(
        &t,
        &format!("{CERTS}/{serial}/revoke"),
        format!(r#"{{"reason":"{}"}}"#, "k".repeat(70 * 1024)),
    )
    .await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let reply = post(&t, "/pki/ocsp", vec![0x30; 20 * 1024]).await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(serials(&t).await, before);
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(
        shown["status"], "good",
        "an oversized revocation must not revoke"
    );
}
