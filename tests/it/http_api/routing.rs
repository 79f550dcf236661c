use super::*;

#[tokio::test]
async fn unknown_routes_are_404_json_and_healthz_is_200() {
    let t = pki().await;
    for path in [
        "/",
        "/v1/nothing",
        "/v1/pki/certificates/AB/unknown",
        "/pki/crl/a/b.crl",
    ] {
        let message = get(&t, path)
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
        assert!(message.contains("no such endpoint"), "{path}: {message}");
    }
    let reply = get(&t, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "ok");
    let reply = get(&t, "/pki/cps").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.text().contains(&t.pki.issuing().id),
        "{}",
        reply.text()
    );
    let message = get(&t, &format!("{CERTS}?limit=0"))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(message.contains("limit"), "{message}");
    get(&t, &format!("{CERTS}?colour=blue"))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn wrong_methods_get_405_in_the_error_shape() {
    let t = pki().await;
    for (method, path) in [
        (Method::GET, "/pki/ocsp"),
        (Method::DELETE, CERTS),
        (Method::GET, "/v1/pki/certificates/AB/revoke"),
    ] {
        let reply = call(&t, method.clone(), path, Body::empty()).await;
        reply.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

/// One plain HTTP/1.1 exchange with the served router.
async fn raw_http(base: &str, request: &str) -> String {
    let addr = base.strip_prefix("http://").expect("http URL");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("receive");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn the_served_router_answers_over_tcp() {
    let t = pki().await;
    let base = t.serve().await;
    let response = raw_http(
        &base,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    let body = serde_json::to_string(&with(individual_json(), "key", json!("p256"))).expect("json");
    let response = raw_http(
        &base,
        &format!(
            "POST {CERTS} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            t.admin_token,
            body.len()
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{response}"
    );

    let response = raw_http(
        &base,
        &format!(
            "GET /v1/pki/certificates/zz HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
            t.admin_token
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains(r#""code":"invalid_request""#),
        "{response}"
    );
}
