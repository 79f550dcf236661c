//! CAdES baseline levels (ETSI EN 319 122-1): `Pki::extend` takes a signature to B-T, B-LT and
//! B-LTA; OpenSSL, as an independent peer, still verifies the signature after each step and
//! verifies the signature time-stamp over the signature value; the archive time-stamp's
//! imprint is recomputed from the parts §5.5.3 names; the TSP client refuses replies that do
//! not answer its request or come from a certificate that is not a TSA's; the CLI's
//! `sign --timestamp --tsa` asks a served TSA over HTTP.

use std::sync::Arc;

use axum::body::Bytes;
use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use qoltanba::crypto::Digest;
use qoltanba::pki::{TimeStamping, TspClient};
use qoltanba::sign::cades::{self, Certificates, Content};
use qoltanba::sign::levels::{self, level_of, Level};
use qoltanba::x509::cms_archive::{self, AtsHashIndexV3, SignedData};
use x509_tsp::TimeStampReq;

use crate::common::*;

const CONTENT: &[u8] = r#"{"license":"KZ-0001","holder":"ТОО Тест"}"#.as_bytes();

/// The values of the signer's unsigned attributes of type `oid` (DER).
fn unsigned(cms: &[u8], oid: &str) -> Vec<Vec<u8>> {
    let signed = SignedData::from_content_info(cms).expect("cms");
    let oid = der::asn1::ObjectIdentifier::new_unwrap(oid);
    signed
        .signer(0)
        .expect("signer")
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == oid)
        .flat_map(|a| a.values.iter())
        .map(|v| v.to_der().expect("der"))
        .collect()
}

const SIGNATURE_TIME_STAMP: &str = "1.2.840.113549.1.9.16.2.14";
const ARCHIVE_TIME_STAMP: &str = "0.4.0.1733.2.4";
const ATS_HASH_INDEX: &str = "0.4.0.19122.1.5";

/// `openssl cms -verify` of `cms` with only the root trusted; `content` for a detached one.
fn openssl_verifies(t: &TestPki, name: &str, cms: &[u8], content: Option<&str>, root: &str) {
    let file = write(&t.path(&format!("{name}.p7s")), cms);
    let out = t.path(&format!("{name}.out"));
    let mut args = vec![
        "cms", "-verify", "-binary", "-inform", "DER", "-in", &file, "-CAfile", root, "-purpose",
        "any", "-out",
    ];
    let out = out.to_str().expect("p");
    args.push(out);
    if let Some(content) = content {
        args.extend(["-content", content]);
    }
    openssl_ok(&args);
    assert_eq!(std::fs::read(out).expect("out"), CONTENT, "{name}");
}

/// The archive time-stamp's imprint is the hash of §5.5.3's input, rebuilt here from the
/// signature as it is now and the ats-hash-index-v3 in the token; the index still holds.
fn archive_time_stamp_holds(cms: &[u8], token: &[u8]) {
    let signed = SignedData::from_content_info(cms).expect("cms");
    let index = unsigned(token, ATS_HASH_INDEX);
    assert_eq!(index.len(), 1, "one ats-hash-index-v3 in the token");
    let parsed = AtsHashIndexV3::from_der(&index[0]).expect("index");
    cms_archive::check_ats_hash_index_v3(&signed, 0, &parsed).expect("index holds");
    let input = cms_archive::archive_time_stamp_v3_input(
        &signed,
        0,
        &qoltanba::crypto::sha256(CONTENT),
        &index[0],
    )
    .expect("input");
    let info = qoltanba::verify::read_time_stamp_token(token).expect("token");
    assert_eq!(info.imprint, qoltanba::crypto::sha256(&input));
}

#[tokio::test]
async fn extend_takes_a_signature_to_t_lt_and_lta_and_openssl_still_verifies_it() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (_, root) = t.ca_files();
    let root = root.to_str().expect("p").to_owned();
    let content_file = write(&t.path("content.json"), CONTENT);
    // The token carries the TSA's certificate; OpenSSL gets it and the issuing CA as untrusted.
    let pem = |der: &[u8]| qoltanba::pki::certificate::pem(der).expect("pem");
    let untrusted = [pem(t.pki.tsa_certificate()), pem(t.pki.ca_chain()[0])].concat();
    let untrusted = write(&t.path("untrusted.pem"), untrusted);
    let now = qoltanba::time::now();
    for detached in [false, true] {
        let name = if detached { "detached" } else { "attached" };
        let given = detached.then_some(CONTENT);
        let content = detached.then_some(content_file.as_str());
        let b = cades::sign(CONTENT, t.pki.official(), detached, now).expect("sign");
        assert_eq!(level_of(&b).expect("level"), Level::B);

        let started = std::time::Instant::now();
        let tl = t.pki.extend(&b, given, Level::T, now).await.expect("T");
        let t_time = started.elapsed();
        assert_eq!(level_of(&tl).expect("level"), Level::T);
        openssl_verifies(&t, &format!("{name}-t"), &tl, content, &root);
        // Extending again to T or lower changes nothing: no second time-stamp.
        assert_eq!(
            t.pki.extend(&tl, given, Level::T, now).await.expect("T"),
            tl
        );
        assert_eq!(
            t.pki.extend(&tl, given, Level::B, now).await.expect("B"),
            tl
        );
        let tokens = unsigned(&tl, SIGNATURE_TIME_STAMP);
        assert_eq!(tokens.len(), 1);

        // OpenSSL verifies the signature time-stamp over the signature value.
        let value = levels::signature_time_stamp_data(&tl).expect("signature value");
        let value_file = write(&t.path(&format!("{name}-value.bin")), &value);
        let token_file = write(&t.path(&format!("{name}-token.der")), &tokens[0]);
        let verified = openssl_ok(&[
            "ts",
            "-verify",
            "-data",
            &value_file,
            "-in",
            &token_file,
            "-token_in",
            "-CAfile",
            &root,
            "-untrusted",
            &untrusted,
        ]);
        assert!(verified.contains("Verification: OK"), "{verified}");
        assert_eq!(
            levels::signature_time_stamp_imprint(&tl, Digest::Sha256).expect("imprint"),
            qoltanba::crypto::sha256(&value)
        );

        let started = std::time::Instant::now();
        let lt = t.pki.extend(&tl, given, Level::Lt, now).await.expect("LT");
        let lt_time = started.elapsed();
        assert_eq!(level_of(&lt).expect("level"), Level::Lt);
        openssl_verifies(&t, &format!("{name}-lt"), &lt, content, &root);
        let carried = SignedData::from_content_info(&lt).expect("lt");
        // The official, the issuing CA, the root and the TSA; two CRLs and one OCSP response.
        assert_eq!(carried.certificates.as_ref().expect("certs").0.len(), 4);
        assert_eq!(carried.crls.as_ref().expect("crls").len(), 3);
        assert_eq!(
            unsigned(&lt, SIGNATURE_TIME_STAMP),
            tokens,
            "the same time-stamp"
        );

        let started = std::time::Instant::now();
        let lta = t
            .pki
            .extend(&lt, given, Level::Lta, now)
            .await
            .expect("LTA");
        let lta_time = started.elapsed();
        assert_eq!(level_of(&lta).expect("level"), Level::Lta);
        openssl_verifies(&t, &format!("{name}-lta"), &lta, content, &root);
        assert_eq!(
            t.pki
                .extend(&lta, given, Level::Lta, now)
                .await
                .expect("LTA"),
            lta
        );
        let archive = unsigned(&lta, ARCHIVE_TIME_STAMP);
        assert_eq!(archive.len(), 1);
        archive_time_stamp_holds(&lta, &archive[0]);
        // OpenSSL reads the archive time-stamp token as a token (the index is unsigned).
        let archive_file = write(&t.path(&format!("{name}-ats.der")), &archive[0]);
        let text = openssl_ok(&["ts", "-reply", "-in", &archive_file, "-token_in", "-text"]);
        assert!(text.contains("Policy OID"), "{text}");

        // Renewal: a second archive time-stamp whose index covers the first; both hold.
        let renewed = t
            .pki
            .add_archive_time_stamp(&lta, given, now)
            .await
            .expect("renew");
        openssl_verifies(&t, &format!("{name}-renewed"), &renewed, content, &root);
        let archives = unsigned(&renewed, ARCHIVE_TIME_STAMP);
        assert_eq!(archives.len(), 2);
        let newest = archives
            .iter()
            .find(|a| **a != archive[0])
            .expect("the new one");
        archive_time_stamp_holds(&renewed, newest);
        let index = AtsHashIndexV3::from_der(&unsigned(newest, ATS_HASH_INDEX)[0]).expect("i");
        assert_eq!(
            index.unsigned_attrs_hash_index.len(),
            2,
            "the T and the first LTA"
        );
        let signed = SignedData::from_content_info(&renewed).expect("renewed");
        let first = AtsHashIndexV3::from_der(&unsigned(&archive[0], ATS_HASH_INDEX)[0]).expect("i");
        cms_archive::check_ats_hash_index_v3(&signed, 0, &first).expect("the first still holds");

        // Our own verifier reads every level (revocation values as `other` included).
        for (level, cms) in [("T", &tl), ("LT", &lt), ("LTA", &renewed)] {
            let report = t
                .verifier()
                .verify(&qoltanba::verify::Request {
                    signature: cms.clone(),
                    content: given.map(<[u8]>::to_vec),
                    ..Default::default()
                })
                .await;
            assert_eq!(
                report.verdict,
                qoltanba::verify::Verdict::Valid,
                "{name} {level}: {report:?}"
            );
            // Every token verified: the signature time-stamp, and for LTA both archive
            // time-stamps over their recomputed ats-hash-index-v3 input.
            let stamps = &report.signers[0].timestamps;
            let kinds: Vec<&str> = stamps.iter().map(|s| s.kind).collect();
            let expected = if level == "LTA" {
                vec!["signature", "archive", "archive"]
            } else {
                vec!["signature"]
            };
            assert_eq!(kinds, expected, "{name} {level}");
            for stamp in stamps {
                assert_eq!(
                    stamp.status,
                    qoltanba::verify::Status::Passed,
                    "{name} {level}: {stamp:?}"
                );
            }
        }

        // B straight to LTA in one call.
        let direct = t
            .pki
            .extend(&b, given, Level::Lta, now)
            .await
            .expect("B to LTA");
        openssl_verifies(&t, &format!("{name}-direct"), &direct, content, &root);
        assert_eq!(unsigned(&direct, SIGNATURE_TIME_STAMP).len(), 1);
        eprintln!(
            "{name}: T {t_time:?}, LT {lt_time:?}, LTA {lta_time:?}; sizes B {} T {} LT {} LTA {} bytes",
            b.len(),
            tl.len(),
            lt.len(),
            lta.len()
        );
    }
    // A detached signature needs its content for an archive time-stamp; XML is refused.
    let b = cades::sign(CONTENT, t.pki.official(), true, now).expect("sign");
    assert!(t.pki.extend(&b, None, Level::Lta, now).await.is_err());
    let xml = t
        .pki
        .extend(b"<a/>", None, Level::T, now)
        .await
        .expect_err("xml");
    assert!(xml.to_string().contains("XAdES"), "{xml}");
}

/// What the fake TSA does to the client's request before the real TSA answers it.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    None,
    Nonce,
    Imprint,
    /// The token signed by the official, whose certificate has no timeStamping EKU.
    NotATsa,
    /// The requested policy dropped: the token comes under the TSA's default policy.
    Policy,
}

/// A TSA on loopback answering through the PKI's own TSA after `tamper`.
async fn fake_tsa(t: &TestPki, tamper: Tamper) -> String {
    let pki = Arc::clone(&t.pki);
    let handler = move |body: Bytes| {
        let pki = Arc::clone(&pki);
        async move {
            let mut request = TimeStampReq::from_der(&body).expect("request");
            match tamper {
                Tamper::Nonce => {
                    request.nonce = Some(der::asn1::Int::new(&[0x01, 0x02]).expect("int"))
                }
                Tamper::Imprint => {
                    request.message_imprint.hashed_message =
                        OctetString::new(vec![7_u8; 32]).expect("o")
                }
                Tamper::Policy => request.req_policy = None,
                Tamper::None | Tamper::NotATsa => {}
            }
            let now = qoltanba::time::now();
            let answer = pki
                .tsp_respond(&request.to_der().expect("der"), now, None)
                .await;
            if let Tamper::NotATsa = tamper {
                return not_a_tsa_reply(&pki, &answer.der, now);
            }
            answer.der
        }
    };
    let app = axum::Router::new().route("/tsp", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/tsp", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// The granted reply's TSTInfo signed again by the official instead of the TSA.
fn not_a_tsa_reply(pki: &qoltanba::pki::Pki, reply: &[u8], now: i64) -> Vec<u8> {
    let outer = Any::from_der(reply).expect("reply");
    let mut reader = der::SliceReader::new(outer.value()).expect("reader");
    let status: Any = der::Decode::decode(&mut reader).expect("status");
    let token: Any = der::Decode::decode(&mut reader).expect("token");
    let token = SignedData::from_content_info(&token.to_der().expect("der")).expect("token");
    let econtent = token.encap_content_info.econtent.expect("tstinfo");
    let info = econtent.decode_as::<OctetString>().expect("octets");
    let forged = cades::signed_data(
        &Content {
            content_type: qoltanba::pki::ID_CT_TST_INFO,
            bytes: info.as_bytes(),
            detached: false,
        },
        pki.official(),
        Some(now),
        Certificates::Chain,
    )
    .expect("forged");
    let body = [status.to_der().expect("s"), forged].concat();
    Any::new(der::Tag::Sequence, body)
        .expect("reply")
        .to_der()
        .expect("der")
}

#[tokio::test]
async fn the_tsp_client_takes_a_checked_token_and_refuses_replies_that_do_not_answer_it() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let verifier = Arc::new(t.verifier());
    let client = |url: String| {
        let mut client = TspClient::new(url, Arc::clone(&verifier));
        client.retries = 0;
        client.timeout = std::time::Duration::from_secs(5);
        client
    };
    let data = b"the signature value";
    let good = client(fake_tsa(&t, Tamper::None).await);
    let token = good.stamp(Digest::Sha256, data).await.expect("a token");
    let info = qoltanba::verify::read_time_stamp_token(&token).expect("token");
    assert_eq!(info.imprint, qoltanba::crypto::sha256(data));
    for (tamper, expected) in [
        (Tamper::Nonce, "nonce"),
        (Tamper::Imprint, "imprint"),
        (Tamper::NotATsa, "does not verify"),
    ] {
        let refused = client(fake_tsa(&t, tamper).await)
            .stamp(Digest::Sha256, data)
            .await
            .expect_err("refused");
        let text = refused.to_string();
        assert!(
            matches!(refused, qoltanba::pki::PkiError::TimeStamp(_)) && text.contains(expected),
            "{tamper:?}: {text}"
        );
    }
    // A policy other than the TSA's: the TSA rejects it, the client says so.
    let mut wrong_policy = client(fake_tsa(&t, Tamper::None).await);
    wrong_policy.policy = Some(der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4"));
    let text = wrong_policy
        .stamp(Digest::Sha256, data)
        .await
        .expect_err("policy")
        .to_string();
    assert!(text.contains("refused"), "{text}");
    // A token under another policy than the one asked for is not taken.
    let mut other_policy = client(fake_tsa(&t, Tamper::Policy).await);
    other_policy.policy = wrong_policy.policy;
    let text = other_policy
        .stamp(Digest::Sha256, data)
        .await
        .expect_err("policy")
        .to_string();
    assert!(text.contains("not the 1.2.3.4 asked for"), "{text}");
    // Nobody listening: an error after the retries, not a hang.
    let mut gone = client("http://127.0.0.1:9/tsp".into());
    gone.retries = 1;
    let text = gone
        .stamp(Digest::Sha256, data)
        .await
        .expect_err("gone")
        .to_string();
    assert!(text.contains("2 attempts"), "{text}");

    // The PKI configured with the client gets its tokens through it.
    let pki = qoltanba::pki::Pki::open(
        qoltanba::store::Store::connect(&t.url)
            .await
            .expect("store"),
        qoltanba::pki::Declarations::load(None).expect("declarations"),
        "http://127.0.0.1:9",
        PASSPHRASE,
    )
    .await
    .expect("open")
    .with_time_stamping(TimeStamping::Remote(good));
    let b = cades::sign(CONTENT, pki.official(), false, qoltanba::time::now()).expect("sign");
    let tl = pki
        .extend(&b, None, Level::T, qoltanba::time::now())
        .await
        .expect("T");
    assert_eq!(level_of(&tl).expect("level"), Level::T);
}

// Multi-threaded: the served TSA answers while the test waits for the CLI.
#[tokio::test(flavor = "multi_thread")]
async fn cli_sign_timestamp_asks_the_served_tsa_and_adds_lt_for_a_local_signer() {
    let (t, base) = TestPki::served(Backend::Sqlite).await.expect("sqlite");
    let (issuing, root) = t.ca_files();
    let (issuing, root) = (
        issuing.to_str().expect("p").to_owned(),
        root.to_str().expect("p").to_owned(),
    );
    let p12 = write(
        &t.path("signer.p12"),
        t.issue(legal("official-sign")).await.pkcs12,
    );
    let pw = write(&t.path("signer.pw"), P12_PASSWORD);
    let input = write(&t.path("content.json"), CONTENT);
    let run = |out: &str, extra: &[&str], database: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"));
        command
            .args([
                "sign",
                "--input",
                &input,
                "--key",
                &p12,
                "--password-file",
                &pw,
            ])
            .args(["--out", out])
            .args(extra)
            .env_remove("QOLTANBA_CONFIG")
            .env("QOLTANBA_DATA_DIR", t.path("data"))
            .env("QOLTANBA_VERIFY_TRUST", &root)
            // The token carries the TSA's certificate only (certReq): its issuer comes from here.
            .env("QOLTANBA_VERIFY_INTERMEDIATES", &issuing)
            .env("NO_COLOR", "1");
        if database {
            command.env("QOLTANBA_DATABASE_URL", &t.url).env(
                "QOLTANBA_CA_PASSPHRASE",
                std::str::from_utf8(PASSPHRASE).expect("utf-8"),
            );
        } else {
            command.env("QOLTANBA_DATABASE_URL", "sqlite:///nonexistent/dir/q.db");
        }
        let output = command.output().expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    };
    let tsa = format!("{base}/pki/tsp");
    // With the local PKI: B-LT (the signer is its), the token from the served TSA over HTTP.
    let lt = t.path("lt.p7s");
    let (code, text) = run(
        lt.to_str().expect("p"),
        &["--timestamp", "--tsa", &tsa],
        true,
    );
    assert_eq!(code, 0, "{text}");
    let lt = std::fs::read(&lt).expect("lt");
    assert_eq!(level_of(&lt).expect("level"), Level::Lt);
    openssl_verifies(&t, "cli-lt", &lt, None, &root);
    // Without a local PKI: B-T from the TSA, its token checked against [verify] trust.
    let tl = t.path("t.p7s");
    let (code, text) = run(
        tl.to_str().expect("p"),
        &["--detached", "--tsa", &tsa],
        false,
    );
    assert_eq!(code, 0, "{text}");
    let tl = std::fs::read(&tl).expect("t");
    assert_eq!(level_of(&tl).expect("level"), Level::T);
    openssl_verifies(&t, "cli-t", &tl, Some(&input), &root);
    // XML with --timestamp: refused before anything is signed.
    let xml_in = write(&t.path("doc.xml"), "<doc/>");
    let out = t.path("x.xml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args([
            "sign",
            "--input",
            &xml_in,
            "--key",
            &p12,
            "--password-file",
            &pw,
        ])
        .args(["--out", out.to_str().expect("p"), "--timestamp"])
        .env_remove("QOLTANBA_CONFIG")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("XAdES"));
    assert!(!out.exists());
}
