//! The time-stamping authority (`POST /pki/tsp`, RFC 3161 with RFC 5816): OpenSSL asks for
//! tokens and verifies them as an independent client; unusable requests get RFC 3161's
//! rejection statuses, never a transport error; serials stay unique across instances sharing a
//! database; a database from before the TSA existed gets one at its first start.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use http_body_util::BodyExt;
use spki::AlgorithmIdentifier;
use tower::ServiceExt;
use x509_cert::Certificate;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion, TstInfo};

use crate::common::*;

mod gost;
mod storage;

const POLICY: &str = "1.3.6.1.4.1.32473.3161.1";
const QUERY: &str = "application/timestamp-query";
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const MD5: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// PKIFailureInfo bits (RFC 3161 §2.4.2).
const BAD_ALG: usize = 0;
const BAD_DATA_FORMAT: usize = 5;
const UNACCEPTED_POLICY: usize = 15;

/// TimeStampResp read here, not with x509-tsp: its PKIStatusInfo comes from cmpv2 0.2.0, whose
/// failInfo flags are declared by bit position as flag value and so decode to nothing.
#[derive(Sequence)]
struct Reply {
    status: StatusInfo,
    #[asn1(optional = "true")]
    token: Option<ContentInfo>,
}

#[derive(Sequence)]
struct StatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    text: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<BitString>,
}

/// POST /pki/tsp through the real router (no API key: the route is open by default).
async fn post_tsp(t: &TestPki, content_type: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/pki/tsp")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    let response = qoltanba::http::router(t.state())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}

/// A granted reply, through HTTP: its TSTInfo and the token's SignedData.
async fn granted(t: &TestPki, query: Vec<u8>) -> (TstInfo, SignedData) {
    let (status, content_type, body) = post_tsp(t, QUERY, query).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/timestamp-reply");
    token_of(&body)
}

fn token_of(reply: &[u8]) -> (TstInfo, SignedData) {
    let reply = Reply::from_der(reply).expect("a DER TimeStampResp");
    assert_eq!(reply.status.status, 0, "granted: {:?}", reply.status.text);
    assert!(reply.status.fail_info.is_none());
    let token = reply.token.expect("a granted reply carries a token");
    let signed = SignedData::from_der(&token.content.to_der().expect("der")).expect("SignedData");
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .expect("the TSTInfo is encapsulated");
    let info = TstInfo::from_der(
        OctetString::from_der(&econtent.to_der().expect("der"))
            .expect("eContent is an OCTET STRING")
            .as_bytes(),
    )
    .expect("TSTInfo");
    (info, signed)
}

/// A TimeStampReq for `imprint` under `algorithm`.
fn request(algorithm: ObjectIdentifier, imprint: &[u8]) -> TimeStampReq {
    TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier::<Any> {
                oid: algorithm,
                parameters: None,
            },
            hashed_message: OctetString::new(imprint).expect("octets"),
        },
        req_policy: None,
        nonce: Some(Int::new(&[0x01, 0x23, 0x45, 0x67, 0x89]).expect("int")),
        cert_req: true,
        extensions: None,
    }
}

fn der(request: &TimeStampReq) -> Vec<u8> {
    request.to_der().expect("encode request")
}

/// The rejection a request gets: (its one failInfo bit, statusString).
async fn rejected(t: &TestPki, body: Vec<u8>) -> (usize, String) {
    let (status, content_type, reply) = post_tsp(t, QUERY, body).await;
    assert_eq!(status, StatusCode::OK, "a rejection is still a reply");
    assert_eq!(content_type, "application/timestamp-reply");
    let reply = Reply::from_der(&reply).expect("a DER TimeStampResp");
    assert_eq!(reply.status.status, 2, "rejection");
    assert!(reply.token.is_none(), "no token with a rejection");
    let fail = reply.status.fail_info.expect("failInfo");
    let bits: Vec<usize> = fail
        .bits()
        .enumerate()
        .filter_map(|(i, set)| set.then_some(i))
        .collect();
    assert_eq!(bits.len(), 1, "one failInfo bit: {bits:?}");
    (bits[0], reply.status.text.unwrap_or_default().concat())
}

fn pem_file(t: &TestPki, name: &str, der: &[u8]) -> String {
    write(
        &t.path(name),
        qoltanba::pki::certificate::pem(der).expect("pem"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_asks_for_tokens_and_accepts_every_one_with_and_without_cert_and_nonce() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (issuing, root) = t.ca_files();
    let (issuing, root) = (issuing.to_str().expect("p"), root.to_str().expect("p"));
    let tsa = pem_file(&t, "tsa.pem", t.pki.tsa_certificate());
    let untrusted = write(
        &t.path("untrusted.pem"),
        format!(
            "{}{}",
            std::fs::read_to_string(&tsa).expect("tsa"),
            std::fs::read_to_string(issuing).expect("issuing")
        ),
    );
    let data = write(&t.path("license.json"), br#"{"license":"KZ-0001"}"#);
    let mut serials = HashSet::new();
    for (name, extra) in [
        ("cert", vec!["-cert"]),
        ("plain", vec![]),
        ("no-nonce", vec!["-no_nonce", "-cert"]),
    ] {
        let query = t.path(&format!("{name}.tsq"));
        let query = query.to_str().expect("p");
        let mut args = vec!["ts", "-query", "-data", &data, "-sha256", "-out", query];
        args.extend(extra.iter().copied());
        openssl_ok(&args);
        let asked = openssl_ok(&["ts", "-query", "-in", query, "-text"]);
        let (status, content_type, reply) =
            post_tsp(&t, QUERY, std::fs::read(query).expect("query")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(content_type, "application/timestamp-reply");
        let reply_file = write(&t.path(&format!("{name}.tsr")), &reply);

        let shown = openssl_ok(&["ts", "-reply", "-in", &reply_file, "-text"]);
        assert!(shown.contains("Status: Granted."), "{name}: {shown}");
        assert!(
            shown.contains(&format!("Policy OID: {POLICY}")),
            "{name}: {shown}"
        );
        assert!(shown.contains("Hash Algorithm: sha256"), "{name}: {shown}");
        assert!(shown.contains("Accuracy: 0x01 seconds"), "{name}: {shown}");
        assert!(
            shown.contains("СЕРВИС МЕТКИ ВРЕМЕНИ") || shown.contains("TSA: DirName:"),
            "{name}: {shown}"
        );
        let nonce_of = |text: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix("Nonce: ").map(str::to_owned))
        };
        let asked_nonce = nonce_of(&asked).expect("the query's nonce line");
        if name == "no-nonce" {
            assert_eq!(asked_nonce, "unspecified", "{asked}");
        } else {
            assert!(asked_nonce.starts_with("0x"), "{asked}");
        }
        assert_eq!(
            nonce_of(&shown),
            Some(asked_nonce),
            "{name}: the nonce is echoed: {shown}"
        );

        // The TSA's certificate is in the token iff the query asked for it (certReq).
        let (info, signed) = token_of(&reply);
        let carried = signed.certificates.as_ref().map_or(0, |c| c.0.len());
        assert_eq!(carried, usize::from(extra.contains(&"-cert")), "{name}");
        assert!(
            serials.insert(info.serial_number.as_bytes().to_vec()),
            "{name}: serial reused"
        );

        // OpenSSL verifies: the imprint over the data, the signature, the ESSCertIDv2 of the
        // signer (RFC 5816), the TSA certificate's critical timeStamping EKU and its chain.
        let verify = |what: &str, file: &str| {
            openssl(&[
                "ts",
                "-verify",
                what,
                file,
                "-in",
                &reply_file,
                "-CAfile",
                root,
                "-untrusted",
                &untrusted,
            ])
        };
        for (what, file) in [("-data", data.as_str()), ("-queryfile", query)] {
            let out = verify(what, file);
            let verified = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && verified.contains("Verification: OK"),
                "{name} {what}: {verified}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Other data: refused.
        let other = write(&t.path("other.json"), br#"{"license":"KZ-0002"}"#);
        let out = verify("-data", &other);
        assert!(
            !out.status.success(),
            "{name}: a token verified for other data"
        );
    }

    // Every token issued is in the audit trail with its serial.
    let trail = t.trail().await;
    let issued: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "POST /pki/tsp" && e.detail.starts_with("issued time-stamp serial"))
        .collect();
    assert_eq!(issued.len(), 3, "{trail:?}");
    assert!(issued
        .iter()
        .all(|e| e.outcome == "ok" && e.actor == "anonymous"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_signed_as_rfc_3161_and_5816_say() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let imprint = [0x5a; 32];
    let before = qoltanba::time::now();
    let (info, signed) = granted(&t, der(&request(SHA256, &imprint))).await;
    let after = qoltanba::time::now();
    assert_eq!(info.policy.to_string(), POLICY);
    assert_eq!(info.message_imprint.hashed_message.as_bytes(), imprint);
    assert_eq!(
        info.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
        Some(vec![0x01, 0x23, 0x45, 0x67, 0x89])
    );
    let gen = i64::try_from(info.gen_time.to_unix_duration().as_secs()).expect("time");
    assert!(
        (before..=after).contains(&gen),
        "genTime {gen} not from the clock"
    );
    assert_eq!(
        signed.encap_content_info.econtent_type,
        qoltanba::pki::ID_CT_TST_INFO
    );
    assert_eq!(signed.version, cms::content_info::CmsVersion::V3);
    let signer = signed.signer_infos.0.iter().next().expect("one signer");
    let attributes = signer.signed_attrs.as_ref().expect("signed attributes");
    let of = |oid: &str| {
        attributes
            .iter()
            .find(|a| a.oid == ObjectIdentifier::new_unwrap(oid))
            .unwrap_or_else(|| panic!("attribute {oid} missing"))
            .values
            .get(0)
            .expect("one value")
            .to_der()
            .expect("der")
    };
    // contentType id-ct-TSTInfo, messageDigest, signingCertificateV2 with the SHA-256 of the
    // TSA certificate (RFC 5816: ESSCertIDv2, default hash left out).
    assert_eq!(
        ObjectIdentifier::from_der(&of("1.2.840.113549.1.9.3")).expect("oid"),
        qoltanba::pki::ID_CT_TST_INFO
    );
    of("1.2.840.113549.1.9.4");
    let tsa_hash = qoltanba::crypto::sha256(t.pki.tsa_certificate());
    let signing_certificate = of("1.2.840.113549.1.9.16.2.47");
    assert!(
        signing_certificate
            .windows(32)
            .any(|w| w == tsa_hash.as_slice()),
        "ESSCertIDv2 names the TSA certificate"
    );
    // The TSA certificate: critical EKU timeStamping only; digitalSignature and nonRepudiation.
    let cert = Certificate::from_der(t.pki.tsa_certificate()).expect("cert");
    let extensions = cert.tbs_certificate.extensions.expect("extensions");
    let eku = extensions
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .expect("EKU");
    assert!(eku.critical);
    let tsa_pem = pem_file(&t, "tsa.pem", t.pki.tsa_certificate());
    let text = openssl_ok(&[
        "x509", "-in", &tsa_pem, "-noout", "-text", "-nameopt", "utf8",
    ]);
    assert!(
        text.contains("X509v3 Extended Key Usage: critical"),
        "{text}"
    );
    assert!(text.contains("Time Stamping"), "{text}");
    assert!(
        text.contains("Digital Signature, Non Repudiation"),
        "{text}"
    );
    assert!(
        text.contains("СЕРВИС МЕТКИ ВРЕМЕНИ ҚОЛТАҢБА TEST"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_requests_get_rfc_3161_rejections_not_errors() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let good = request(SHA256, &[7; 32]);

    let mut other_policy = good.clone();
    other_policy.req_policy = Some(ObjectIdentifier::new_unwrap("1.2.398.3.3.2.6.1"));
    let (fail, text) = rejected(&t, der(&other_policy)).await;
    assert_eq!(fail, UNACCEPTED_POLICY);
    assert!(text.contains(POLICY), "{text}");
    // Our own policy, named: granted.
    let mut own_policy = good.clone();
    own_policy.req_policy = Some(ObjectIdentifier::new_unwrap(POLICY));
    granted(&t, der(&own_policy)).await;

    for (oid, len) in [
        (MD5, 16),
        (SHA1, 20),
        (ObjectIdentifier::new_unwrap("1.2.3.4.5.6.7"), 32),
    ] {
        let (fail, text) = rejected(&t, der(&request(oid, &vec![1; len]))).await;
        assert_eq!(fail, BAD_ALG, "{oid}");
        assert!(text.contains(&oid.to_string()), "{text}");
    }
    let (fail, text) = rejected(&t, der(&request(SHA256, &[7; 31]))).await;
    assert_eq!(fail, BAD_DATA_FORMAT);
    assert!(text.contains("31 bytes"), "{text}");
    let (fail, _) = rejected(&t, der(&request(SHA256, &[]))).await;
    assert_eq!(fail, BAD_DATA_FORMAT);

    // Not DER at all, empty, or a TimeStampReq cut short: badDataFormat (RFC 3161 §2.4.2; the
    // reply is one a client can read, as for any other unusable request).
    let whole = der(&good);
    for body in [
        b"GET / HTTP/1.1\r\n".to_vec(),
        Vec::new(),
        whole[..whole.len() - 3].to_vec(),
        [whole.clone(), vec![0]].concat(),
    ] {
        let (fail, text) = rejected(&t, body).await;
        assert_eq!(fail, BAD_DATA_FORMAT);
        assert!(text.contains("TimeStampReq"), "{text}");
    }

    // OpenSSL, the independent client, reads a rejection as one.
    let reply = post_tsp(&t, QUERY, der(&request(MD5, &[1; 16]))).await.2;
    let file = write(&t.path("rejected.tsr"), reply);
    let shown = openssl_ok(&["ts", "-reply", "-in", &file, "-text"]);
    assert!(shown.contains("Status: Rejected."), "{shown}");
    assert!(
        shown.contains("unrecognized or unsupported algorithm identifier"),
        "{shown}"
    );

    // Not a time-stamp query by its content type: 415, as the API answers elsewhere.
    for content_type in ["application/json", "application/ocsp-request", ""] {
        let (status, _, body) = post_tsp(&t, content_type, der(&good)).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json error");
        assert_eq!(body["error"]["code"], "unsupported_media_type");
    }
    // No rejection took a serial or wrote an issuance to the trail; the two grants did.
    let issued = t
        .trail()
        .await
        .into_iter()
        .filter(|e| e.detail.starts_with("issued time-stamp"))
        .count();
    assert_eq!(issued, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_of_a_request_gets_a_reply_never_a_panic() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let mut good = request(SHA256, &[6; 32]);
    good.req_policy = Some(ObjectIdentifier::new_unwrap(POLICY));
    let whole = der(&good);
    let mut granted = 0;
    for at in 0..whole.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xff, whole[at] ^ 0x01] {
            let mut mutated = whole.clone();
            mutated[at] = value;
            let answer = t
                .pki
                .tsp_respond(&mutated, qoltanba::time::now(), None)
                .await;
            let reply = Reply::from_der(&answer.der).expect("always a DER TimeStampResp");
            assert_eq!(answer.granted, reply.status.status == 0);
            assert_eq!(answer.granted, reply.token.is_some());
            if answer.granted {
                granted += 1;
                // A granted token echoes the request's imprint and nonce as they were sent.
                let asked = TimeStampReq::from_der(&mutated).expect("a request it accepted");
                let (info, _) = token_of(&answer.der);
                assert_eq!(info.message_imprint, asked.message_imprint);
                assert_eq!(info.nonce, asked.nonce);
            } else {
                assert!(reply.status.fail_info.is_some(), "a rejection says why");
            }
        }
    }
    assert!(
        granted > 0,
        "some mutations (the imprint's bytes) stay valid"
    );
}
