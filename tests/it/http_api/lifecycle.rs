use super::*;

#[tokio::test]
async fn certificates_are_found_by_serial_in_the_forms_people_type() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let colons = serial
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join(":");
    for form in [
        serial.clone(),
        serial.to_ascii_lowercase(),
        colons.clone(),
        colons.to_ascii_lowercase(),
        format!("0x{serial}"),
    ] {
        let v = get(&t, &format!("{CERTS}/{form}"))
            .await
            .ok_json(StatusCode::OK);
        assert_eq!(v["serial"], serial.as_str(), "looked up as {form}");
        assert_eq!(v["status"], "good");
        assert_eq!(v["profile"], "individual-sign");
    }

    let unknown = "7F".repeat(20);
    let message = get(&t, &format!("{CERTS}/{unknown}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert!(message.contains(&unknown), "{message}");

    for bad in ["not-a-serial", "12G4", &"AB".repeat(40)] {
        let message = get(&t, &format!("{CERTS}/{bad}"))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("not a hexadecimal"), "{bad}: {message}");
    }
}

#[tokio::test]
async fn revoke_hold_and_release_follow_the_status_rules() {
    let t = pki().await;
    let a = issue_p256(&t).await;
    let b = issue_p256(&t).await;
    let revoke = |serial: &str| format!("{CERTS}/{serial}/revoke");
    let release = |serial: &str| format!("{CERTS}/{serial}/release");

    let v = post_json(&t, &revoke(&a), &json!({"reason": "keyCompromise"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["serial"], a.as_str());
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "keyCompromise");
    let revoked_at = v["revoked_at"].as_str().expect("revoked_at is set");
    assert!(
        revoked_at.ends_with('Z') && revoked_at.contains('T'),
        "{revoked_at}"
    );
    let shown = get(&t, &format!("{CERTS}/{a}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "revoked");

    // Revoked is final: again → 409, and neither a hold nor a release changes it.
    for body in [
        json!({"reason": "keyCompromise"}),
        json!({"reason": "certificateHold"}),
    ] {
        let message = post_json(&t, &revoke(&a), &body)
            .await
            .error(StatusCode::CONFLICT, "conflict");
        assert!(message.contains("already revoked"), "{message}");
    }
    let message = post(&t, &release(&a), Body::empty())
        .await
        .error(StatusCode::CONFLICT, "conflict");
    assert!(message.contains("not on hold"), "{message}");
    let shown = get(&t, &format!("{CERTS}/{a}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["revoked_at"], revoked_at);

    // Unknown serial → 404; a reason that is not one → 400, and b stays good.
    let unknown = "7F".repeat(20);
    post_json(&t, &revoke(&unknown), &json!({"reason": "keyCompromise"}))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    post(&t, &release(&unknown), Body::empty())
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    for reason in ["stolen", "removeFromCRL", "7"] {
        let message = post_json(&t, &revoke(&b), &json!({ "reason": reason }))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains(reason), "{reason}: {message}");
    }
    let message = post_json(
        &t,
        &revoke(&b),
        &json!({"reason": "keyCompromise", "why": "x"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("why"), "{message}");
    let shown = get(&t, &format!("{CERTS}/{b}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(shown["status"], "good");

    // Release of a good certificate → 409.
    let message = post(&t, &release(&b), Body::empty())
        .await
        .error(StatusCode::CONFLICT, "conflict");
    assert!(message.contains("not on hold"), "{message}");

    // Hold, release, good again — with the revocation fields cleared.
    let v = post_json(&t, &revoke(&b), &json!({"reason": "certificateHold"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "hold");
    assert_eq!(v["revocation_reason"], "certificateHold");
    assert!(v["revoked_at"].is_string());
    let v = post(&t, &release(&b), Body::empty())
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "good");
    assert_eq!(v["revoked_at"], Value::Null);
    assert_eq!(v["revocation_reason"], Value::Null);

    // A held certificate may be revoked for good.
    post_json(&t, &revoke(&b), &json!({"reason": "certificateHold"}))
        .await
        .ok_json(StatusCode::OK);
    let v = post_json(&t, &revoke(&b), &json!({"reason": "cessationOfOperation"}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "cessationOfOperation");
}

#[tokio::test]
async fn revoke_without_a_body_uses_reason_unspecified() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let v = post(&t, &format!("{CERTS}/{serial}/revoke"), Body::empty())
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "unspecified");
}

#[tokio::test]
async fn revoke_with_an_empty_object_uses_reason_unspecified() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let v = post_json(&t, &format!("{CERTS}/{serial}/revoke"), &json!({}))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["revocation_reason"], "unspecified");
}

#[tokio::test]
async fn json_endpoints_refuse_bodies_not_sent_as_json() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let app = router(t.state());
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{CERTS}/{serial}/revoke"))
            .header(header::CONTENT_TYPE, content_type)
            .header(header::AUTHORIZATION, format!("Bearer {}", t.admin_token))
            .body(Body::from(r#"{"reason":"keyCompromise"}"#))
            .expect("request");
        let status = app.oneshot(request).await.expect("infallible").status();
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
    }
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    assert_eq!(
        shown["status"], "good",
        "a text/plain POST revoked the certificate"
    );
}

#[tokio::test]
async fn the_certificate_alone_is_served_as_der() {
    let t = pki().await;
    let serial = issue_p256(&t).await;
    let shown = get(&t, &format!("{CERTS}/{serial}"))
        .await
        .ok_json(StatusCode::OK);
    let pem = shown["certificate_pem"].as_str().expect("pem");
    let reply = get(&t, &format!("{CERTS}/{serial}/certificate.cer")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/pkix-cert");
    assert_eq!(reply.body, pem_to_der(pem));
    let missing = get(&t, &format!("{CERTS}/0A0B0C/certificate.cer")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
