//! Signature time-stamps (RFC 3161, id-aa-signatureTimeStampToken) verified by the `timestamp`
//! step. The tokens are OpenSSL's (`openssl ts -reply`, an independent peer) over the signature
//! value of a CMS OpenSSL signed, inserted as an unsigned attribute with the `cms` crate; and
//! NCA's real token, read.

use std::path::{Path, PathBuf};

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerInfos};
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode};
use qoltanba::verify::{Report, Request, Settings, Status, Verdict, Verifier};
use x509_cert::attr::Attribute;

use crate::common::openssl_ok;
use crate::openssl_pki::{LeafSpec, OpensslPki, SignOpts};
use crate::verify_openssl::{check, current_crls, json};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

pub(crate) fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

const POLICY: &str = "1.2.398.3.3.2.6.1";

/// A TSA key and certificate made by OpenSSL: issued by the PKI's intermediate (serial
/// 7A5A0001) with the extendedKeyUsage `eku`, or self-signed (an untrusted root); with the key
/// `reuse` (a second certificate for a key that already has one) or a new key.
pub(crate) fn tsa(
    pki: &OpensslPki,
    name: &str,
    eku: &str,
    self_signed: bool,
    reuse: Option<&Path>,
) -> (PathBuf, PathBuf) {
    // A twin (same key, serial and name) must still be another certificate: issued in the
    // same second with the same validity it would be byte-identical (RSA PKCS#1 v1.5 is
    // deterministic), and the mismatch case then passed by chance.
    let days = if reuse.is_some() { "31" } else { "30" };
    tsa_for_days(pki, name, eku, self_signed, reuse, days)
}

/// [`tsa`] with a certificate valid for `days`.
pub(crate) fn tsa_for_days(
    pki: &OpensslPki,
    name: &str,
    eku: &str,
    self_signed: bool,
    reuse: Option<&Path>,
    days: &str,
) -> (PathBuf, PathBuf) {
    let dir = pki.dir.path();
    let key = reuse.map_or_else(|| dir.join(format!("{name}.key.pem")), Path::to_path_buf);
    let cert = dir.join(format!("{name}.pem"));
    let ext = dir.join(format!("{name}.ext"));
    std::fs::write(
        &ext,
        format!(
            "[tsa]\nbasicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature, nonRepudiation\n\
             extendedKeyUsage = {eku}\nsubjectKeyIdentifier = hash\n"
        ),
    )
    .expect("ext");
    let subj = "/CN=СЕРВИС МЕТКИ ВРЕМЕНИ/C=KZ";
    if reuse.is_none() {
        openssl_ok(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            s(&key),
        ]);
    }
    if self_signed {
        openssl_ok(&[
            "req",
            "-new",
            "-x509",
            "-utf8",
            "-key",
            s(&key),
            "-subj",
            subj,
            "-days",
            "30",
            "-config",
            s(&ext),
            "-extensions",
            "tsa",
            "-out",
            s(&cert),
        ]);
    } else {
        let csr = dir.join(format!("{name}.csr"));
        openssl_ok(&[
            "req",
            "-new",
            "-utf8",
            "-key",
            s(&key),
            "-subj",
            subj,
            "-out",
            s(&csr),
        ]);
        openssl_ok(&[
            "x509",
            "-req",
            "-in",
            s(&csr),
            "-CA",
            s(&pki.issuing_pem()),
            "-CAkey",
            s(&pki.issuing_key()),
            "-set_serial",
            "0x7A5A0001",
            "-days",
            days,
            "-extfile",
            s(&ext),
            "-extensions",
            "tsa",
            "-out",
            s(&cert),
        ]);
    }
    let der = dir.join(format!("{name}.der"));
    openssl_ok(&["x509", "-in", s(&cert), "-outform", "DER", "-out", s(&der)]);
    (cert, key)
}

/// `openssl ts -query` over `digest` (SHA-256 hex), then `openssl ts -reply -token_out`; the
/// TSA's certificate in the token when `cert`.
pub(crate) fn openssl_token(
    pki: &OpensslPki,
    tsa: &(PathBuf, PathBuf),
    digest: &[u8],
    n: usize,
    cert: bool,
) -> Vec<u8> {
    let dir = pki.dir.path();
    let config = dir.join("ts.cnf");
    std::fs::write(
        &config,
        format!(
            "[tsa]\ndefault_tsa = tsa_config1\n[tsa_config1]\nserial = {}\n\
             crypto_device = builtin\ndefault_policy = {POLICY}\ndigests = sha256\n\
             accuracy = secs:1\nordering = no\ntsa_name = yes\nsigner_digest = sha256\n\
             ess_cert_id_alg = sha256\n",
            s(&dir.join("tsaserial"))
        ),
    )
    .expect("ts.cnf");
    let query = dir.join(format!("q{n}.tsq"));
    let token = dir.join(format!("t{n}.der"));
    let digest = hex::encode(digest);
    let mut args = vec!["ts", "-query", "-sha256", "-digest", &digest, "-no_nonce"];
    if cert {
        args.push("-cert");
    }
    args.extend(["-out", s(&query)]);
    openssl_ok(&args);
    openssl_ok(&[
        "ts",
        "-reply",
        "-config",
        s(&config),
        "-queryfile",
        s(&query),
        "-signer",
        s(&tsa.0),
        "-inkey",
        s(&tsa.1),
        "-token_out",
        "-out",
        s(&token),
    ]);
    read(&token)
}

pub(crate) fn signed_data(cms_der: &[u8]) -> SignedData {
    let info = ContentInfo::from_der(cms_der).expect("ContentInfo");
    info.content.decode_as().expect("SignedData")
}

pub(crate) fn signature_value(cms_der: &[u8]) -> Vec<u8> {
    let sd = signed_data(cms_der);
    let si = sd.signer_infos.0.get(0).expect("signer");
    si.signature.as_bytes().to_vec()
}

/// The CMS with `value` (any DER) as an id-aa-signatureTimeStampToken of its signer. Unsigned
/// attributes are not signed: the signature stays valid.
pub(crate) fn with_timestamp(cms_der: &[u8], value: &[u8]) -> Vec<u8> {
    let mut sd = signed_data(cms_der);
    let mut signers = sd.signer_infos.0.into_vec();
    let attr = Attribute {
        oid: qoltanba::verify::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values: SetOfVec::try_from(vec![Any::from_der(value).expect("DER value")]).expect("set"),
    };
    signers[0].unsigned_attrs = Some(SetOfVec::try_from(vec![attr]).expect("attrs"));
    sd.signer_infos = SignerInfos(SetOfVec::try_from(signers).expect("signers"));
    let info = ContentInfo {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&sd).expect("SignedData"),
    };
    info.to_der().expect("ContentInfo")
}

fn nca_token() -> Vec<u8> {
    let path = format!(
        "{}/fixtures/kalkan/tsp_ocsp/tsp_token_cms_gost2004_tsa.der",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture")
}

pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    qoltanba::crypto::sha256(bytes).to_vec()
}

fn timestamp_check(report: &Report) -> (&str, Status) {
    let c = check(report, "timestamp");
    (c.code.as_str(), c.status)
}

#[tokio::test]
async fn signature_time_stamps_from_an_openssl_tsa() {
    let pki = OpensslPki::new(None, None);
    let (issuing_crl, root_crl) = current_crls(&pki);
    let verifier = Verifier::new(Settings {
        anchors: vec![("root.der".into(), read(&pki.root_der()))],
        intermediates: vec![("issuing.der".into(), read(&pki.issuing_der()))],
        crls: [issuing_crl, root_crl]
            .iter()
            .map(|p| (p.display().to_string(), read(p)))
            .collect(),
        offline: true,
        ..Settings::default()
    })
    .expect("verifier");
    let leaf = pki.leaf(&LeafSpec::new("signer"));
    let content = json(&crate::common::valid_iin());
    let cms_der = read(&pki.sign(&leaf, &content, &SignOpts::default()));
    let imprint = sha256(&signature_value(&cms_der));
    let verify = |signature: Vec<u8>| {
        let v = &verifier;
        async move {
            v.verify(&Request {
                signature,
                ..Request::default()
            })
            .await
        }
    };

    // No time-stamp: skipped, the checks list has the step right after `signature`.
    let report = verify(cms_der.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(report.checks[2].id, "timestamp");
    assert_eq!(timestamp_check(&report), ("SKIPPED", Status::Skipped));
    assert_eq!(check(&report, "timestamp").detail, "no time-stamp");
    assert!(report.signers[0].timestamps.is_empty());
    assert_eq!(report.signers[0].proof_of_existence, None);

    // A genuine token over this signature value: passed, and the proof of existence is its
    // genTime.
    let good_tsa = tsa(&pki, "tsa", "critical, timeStamping", false, None);
    let token = openssl_token(&pki, &good_tsa, &imprint, 1, true);
    let stamped = with_timestamp(&cms_der, &token);
    if let Some(out) = std::env::var_os("QOLTANBA_TIMESTAMP_SEED_OUT") {
        std::fs::write(out, &stamped).expect("seed");
    }
    let report = verify(stamped).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(
        timestamp_check(&report),
        ("OK", Status::Passed),
        "{report:#?}"
    );
    let signer = &report.signers[0];
    let info = qoltanba::verify::read_time_stamp_token(&token).expect("OpenSSL's TSTInfo");
    assert_eq!(info.policy.to_string(), POLICY);
    assert_eq!(info.imprint, imprint);
    let gen_time = qoltanba::time::rfc3339(info.gen_time);
    assert_eq!(
        signer.proof_of_existence.as_deref(),
        Some(gen_time.as_str())
    );
    let json_report = serde_json::to_value(signer).expect("json");
    let stamp = &json_report["timestamps"][0];
    assert_eq!(stamp["kind"], "signature");
    assert_eq!(stamp["gen_time"], gen_time.as_str());
    assert_eq!(stamp["policy"], POLICY);
    assert_eq!(stamp["status"], "passed");
    assert!(
        stamp["tsa"]
            .as_str()
            .unwrap()
            .contains("СЕРВИС МЕТКИ ВРЕМЕНИ"),
        "{stamp}"
    );
    assert_eq!(json_report["proof_of_existence"], gen_time.as_str());
    assert!(stamp["detail"].is_string());

    // A token over other bytes: the time-stamp fails, the signature is still judged (valid),
    // and nothing is proven.
    let other = openssl_token(&pki, &good_tsa, &sha256(b"other bytes"), 2, true);
    let report = verify(with_timestamp(&cms_der, &other)).await;
    assert_eq!(
        timestamp_check(&report),
        ("IMPRINT_MISMATCH", Status::Failed)
    );
    assert_eq!(report.signers[0].timestamps[0].status, Status::Failed);
    assert_eq!(report.signers[0].proof_of_existence, None);
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(report.refusal.is_none());

    // A TSA certificate without the timeStamping EKU, or with it but not critical (RFC 3161
    // §2.3): not a TSA. OpenSSL refuses to sign with such a certificate, so the token is signed
    // with the genuine one's key and carries no certificate; the caller supplies a second
    // certificate for the same key, issuer and serial.
    let bare = openssl_token(&pki, &good_tsa, &imprint, 3, false);
    for (name, eku) in [
        ("not-tsa", "critical, emailProtection"),
        ("lax-tsa", "timeStamping"),
    ] {
        tsa(&pki, name, eku, false, Some(&good_tsa.1));
        let report = verifier
            .verify(&Request {
                signature: with_timestamp(&cms_der, &bare),
                certificates: vec![read(&pki.dir.path().join(format!("{name}.der")))],
                ..Request::default()
            })
            .await;
        assert_eq!(
            timestamp_check(&report),
            ("NOT_A_TSA", Status::Failed),
            "{name}: {report:#?}"
        );
        assert_eq!(report.signers[0].proof_of_existence, None);
    }
    // A second certificate with the EKU for the same key, issuer and serial: the token's
    // signingCertificate attribute names another certificate.
    tsa(
        &pki,
        "twin-tsa",
        "critical, timeStamping",
        false,
        Some(&good_tsa.1),
    );
    let report = verifier
        .verify(&Request {
            signature: with_timestamp(&cms_der, &bare),
            certificates: vec![read(&pki.dir.path().join("twin-tsa.der"))],
            ..Request::default()
        })
        .await;
    assert_eq!(
        timestamp_check(&report),
        ("SIGNING_CERTIFICATE_MISMATCH", Status::Failed),
        "{report:#?}"
    );
    // The same token with the genuine certificate supplied: passed.
    let report = verifier
        .verify(&Request {
            signature: with_timestamp(&cms_der, &bare),
            certificates: vec![read(&pki.dir.path().join("tsa.der"))],
            ..Request::default()
        })
        .await;
    assert_eq!(
        timestamp_check(&report),
        ("OK", Status::Passed),
        "{report:#?}"
    );

    // A TSA from a root that is not an anchor: no path, never a proof.
    let rogue = tsa(&pki, "rogue-tsa", "critical, timeStamping", true, None);
    let report = verify(with_timestamp(
        &cms_der,
        &openssl_token(&pki, &rogue, &imprint, 5, true),
    ))
    .await;
    let (code, status) = timestamp_check(&report);
    assert_eq!(code, "NO_CERTIFICATE_CHAIN_FOUND", "{report:#?}");
    assert_eq!(status, Status::Indeterminate);
    assert_eq!(report.signers[0].proof_of_existence, None);
    assert_eq!(
        report.verdict,
        Verdict::Valid,
        "judged as without a time-stamp"
    );

    // NCA's real token on our signature: reported with its genTime, TSA and policy, and
    // refused (its SHA-1 imprint is weak, and over another signature anyway).
    let report = verify(with_timestamp(&cms_der, &nca_token())).await;
    assert_eq!(timestamp_check(&report), ("WEAK_DIGEST", Status::Failed));
    let stamp = &report.signers[0].timestamps[0];
    assert_eq!(stamp.gen_time.as_deref(), Some("2022-09-18T13:20:14Z"));
    assert_eq!(stamp.policy.as_deref(), Some("1.2.398.3.3.2.6.1"));
    assert!(stamp
        .tsa
        .as_deref()
        .unwrap_or_default()
        .contains("СЕРВИС МЕТКИ ВРЕМЕНИ"));
    assert_eq!(report.verdict, Verdict::Valid);

    // Two tokens, one good and one over other bytes: the worst is the step's status, the good
    // one still proves existence.
    let mut sd = signed_data(&with_timestamp(&cms_der, &token));
    let mut signers = sd.signer_infos.0.into_vec();
    let attrs = signers[0].unsigned_attrs.as_mut().expect("attrs");
    let mut values = attrs.get(0).expect("attr").values.clone().into_vec();
    values.push(Any::from_der(&other).expect("token"));
    let attr = Attribute {
        oid: qoltanba::verify::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values: SetOfVec::try_from(values).expect("set"),
    };
    signers[0].unsigned_attrs = Some(SetOfVec::try_from(vec![attr]).expect("attrs"));
    sd.signer_infos = SignerInfos(SetOfVec::try_from(signers).expect("signers"));
    let two = ContentInfo {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&sd).expect("SignedData"),
    };
    let report = verify(two.to_der().expect("DER")).await;
    assert_eq!(
        timestamp_check(&report),
        ("IMPRINT_MISMATCH", Status::Failed)
    );
    assert_eq!(report.signers[0].timestamps.len(), 2);
    assert_eq!(
        report.signers[0].proof_of_existence.as_deref(),
        Some(gen_time.as_str())
    );

    // A genuine token older than the signer's certificate (valid only from tomorrow): it
    // verifies, but proves nothing about a signature made with that certificate.
    let tomorrow = crate::openssl_pki::unix_now() + 86_400;
    let later = pki.leaf(&LeafSpec {
        start: Some(crate::openssl_pki::generalized_time(tomorrow)),
        ..LeafSpec::new("later")
    });
    let early = read(&pki.sign(&later, &content, &SignOpts::default()));
    let early_token = openssl_token(&pki, &good_tsa, &sha256(&signature_value(&early)), 6, true);
    let report = verifier
        .verify(&Request {
            signature: with_timestamp(&early, &early_token),
            at: Some(tomorrow + 3_600),
            ..Request::default()
        })
        .await;
    let stamp = check(&report, "timestamp");
    assert_eq!(stamp.status, Status::Passed, "{report:#?}");
    assert!(stamp.detail.contains("no proof of existence"), "{stamp:?}");
    assert_eq!(report.signers[0].proof_of_existence, None);

    // Garbage in the attribute, and a token changed by one bit: failed, no panic.
    for garbage in [
        der::asn1::OctetString::new(vec![1, 2, 3])
            .unwrap()
            .to_der()
            .unwrap(),
        der::asn1::Null.to_der().unwrap(),
        cms_der.clone(),
    ] {
        let report = verify(with_timestamp(&cms_der, &garbage)).await;
        assert_eq!(
            timestamp_check(&report),
            ("TIMESTAMP_UNREADABLE", Status::Failed),
            "{report:#?}"
        );
        assert_eq!(report.verdict, Verdict::Valid);
    }
    let serial_at = token.len() / 2;
    for i in [serial_at, token.len() - 3] {
        let mut changed = token.clone();
        changed[i] ^= 0x01;
        if Any::from_der(&changed).is_err() {
            continue;
        }
        let report = verify(with_timestamp(&cms_der, &changed)).await;
        assert_ne!(timestamp_check(&report).1, Status::Passed, "{report:#?}");
        assert_eq!(report.signers[0].proof_of_existence, None);
    }
}

#[tokio::test]
async fn ncas_time_stamp_token_is_read() {
    let token = nca_token();
    let info = qoltanba::verify::read_time_stamp_token(&token).expect("NCA's TSTInfo");
    assert_eq!(
        qoltanba::time::rfc3339(info.gen_time),
        "2022-09-18T13:20:14Z"
    );
    assert_eq!(info.policy.to_string(), "1.2.398.3.3.2.6.1");
    assert_eq!(info.serial_hex, "5E846DD75D861154DB10F13C54DC1F8D33FE6ADC");
    // Kalkan asked for a SHA-1 imprint.
    assert_eq!(info.imprint_algorithm.to_string(), "1.3.14.3.2.26");
    assert_eq!(
        info.imprint,
        hex::decode("1465DAD126D32BF7AA5D3B95A5C7C331CDFF34DF").unwrap()
    );
    assert_eq!(info.tsa, None, "NCA's TSTInfo names no tsa");
    assert_eq!(
        info.signer
            .as_deref()
            .map(|s| s.contains("СЕРВИС МЕТКИ ВРЕМЕНИ")),
        Some(true)
    );
    assert_eq!(
        info.nonce.map(hex::encode),
        Some("0183 50c022d7".replace(' ', ""))
    );
}
