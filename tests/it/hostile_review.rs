//! The correctness gaps issue 11 found in review, each a case that was judged wrongly before:
//! a CA certificate with a malformed (or duplicated) extension, a CRL from an issuer that may
//! not sign CRLs, an OCSP responder outside its validity, an OCSP response whose encoding is
//! not canonical DER, and a CMS carrying an impostor next to the genuine signer certificate.

use const_oid::db::rfc5280;
use const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use qoltanba::crypto::SigningKey;
use qoltanba::verify::{Request, Verdict, Verifier};
use qoltanba::x509::Cert;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Validity;
use x509_cert::{Certificate, TbsCertificate};
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseBytes, ResponseData, SingleResponse,
};

use super::build::*;
use super::{check, impostor_of, own_leaf, request_json, verify};
use crate::common::*;

fn basic_constraints_ca() -> Extension {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: None,
    };
    extension(rfc5280::ID_CE_BASIC_CONSTRAINTS, true, &bc)
}

/// A CA under `root` with exactly these extensions.
fn ca_with(root: &Authority, subject: &str, serial: u32, extensions: Vec<Extension>) -> Authority {
    let key = p256();
    let name = name(subject);
    let der = root.issue(&name, &key, serial, extensions);
    Authority { key, name, der }
}

/// Signs the request with a fresh leaf of `ca`, carrying `carried` certificates; verifies it
/// with `supplied` certificates given beside it.
async fn sign_under(
    v: &Verifier,
    ca: &Authority,
    carried: &[Vec<u8>],
    supplied: &[Vec<u8>],
) -> qoltanba::verify::Report {
    let key = p256();
    // The applicant's IIN, so that the identity step passes and the case is about the chain.
    let subject = format!("CN=REVIEW LEAF,SERIALNUMBER=IIN{},C=KZ", valid_iin());
    let leaf = ca.issue(&name(&subject), &key, 77, leaf_extensions());
    let mut cms = Cms::new(&request_json(), &leaf, &key);
    cms.certificates.extend(carried.iter().cloned());
    v.verify(&Request {
        signature: cms.sign(&key),
        certificates: supplied.to_vec(),
        ..Request::default()
    })
    .await
}

#[tokio::test]
async fn a_ca_with_a_malformed_or_duplicated_extension_is_unusable() {
    let root = Authority::root("CN=REVIEW ROOT,C=KZ");
    // The twin: the same CA with a well-formed keyUsage verifies.
    let good = ca_with(&root, "CN=REVIEW CA,C=KZ", 2, ca_extensions());
    let v = verifier(&root, &[root.crl(&[]), good.crl(&[])]);
    let report = sign_under(&v, &good, std::slice::from_ref(&good.der), &[]).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // keyUsage that is not a BIT STRING: it used to be read as absent, so the CA passed as one
    // whose key may sign anything.
    let malformed_ku = extension(rfc5280::ID_CE_KEY_USAGE, true, &Null);
    let malformed = ca_with(
        &root,
        "CN=REVIEW CA,C=KZ",
        3,
        vec![basic_constraints_ca(), malformed_ku],
    );
    let err = Cert::from_der(&malformed.der).expect_err("a malformed keyUsage is refused");
    assert!(err.to_string().contains("keyUsage"), "{err}");
    // keyUsage twice (RFC 5280 §4.2: at most one instance of an extension).
    let mut twice = ca_extensions();
    twice.push(extension(
        rfc5280::ID_CE_KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::KeyCertSign.into()),
    ));
    let duplicated = ca_with(&root, "CN=REVIEW CA,C=KZ", 4, twice);
    let err = Cert::from_der(&duplicated.der).expect_err("a duplicated extension is refused");
    assert!(err.to_string().contains("more than once"), "{err}");

    for (what, ca) in [("malformed", &malformed), ("duplicated", &duplicated)] {
        let v = verifier(&root, &[root.crl(&[]), ca.crl(&[])]);
        // Carried in the CMS: the CMS is not readable as a whole.
        let report = sign_under(&v, ca, std::slice::from_ref(&ca.der), &[]).await;
        assert_eq!(report.verdict, Verdict::Invalid, "{what}: {report:#?}");
        assert_eq!(check(&report, "format").code, "UNREADABLE", "{what}");
        // Supplied beside it: not a candidate issuer, so no path.
        let report = sign_under(&v, ca, &[], std::slice::from_ref(&ca.der)).await;
        let chain = check(&report, "chain");
        assert_eq!(
            (report.verdict, chain.code.as_str()),
            (Verdict::Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"),
            "{what}: {report:#?}"
        );
    }
}

#[tokio::test]
async fn a_crl_from_an_issuer_without_crl_sign_is_not_used() {
    let root = Authority::root("CN=REVIEW ROOT,C=KZ");
    let cert_sign_only = extension(
        rfc5280::ID_CE_KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::KeyCertSign.into()),
    );
    let ca = ca_with(
        &root,
        "CN=REVIEW CA,C=KZ",
        5,
        vec![basic_constraints_ca(), cert_sign_only],
    );
    let v = verifier(&root, &[root.crl(&[]), ca.crl(&[])]);
    let report = sign_under(&v, &ca, std::slice::from_ref(&ca.der), &[]).await;
    // Not valid for want of revocation information, and the detail says why.
    super::ocsp::assert_unused(&report, "cRLSign");
}

#[tokio::test]
async fn the_signer_is_the_candidate_whose_key_verifies() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (key, genuine) = own_leaf(&t, qoltanba::crypto::KeyAlgorithm::P256).await;
    let (impostor, _) = impostor_of(&genuine);
    let serial = Certificate::from_der(&genuine)
        .expect("certificate")
        .tbs_certificate
        .serial_number;
    // A genuine signature whose CMS carries the impostor first, then the genuine certificate.
    let mut cms = Cms::new(&request_json(), &genuine, &key);
    cms.certificates = vec![impostor, genuine.clone()];
    let report = verify(&t, cms.sign(&key)).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let signer = &report.signers[0];
    assert_eq!(
        signer.serial.as_deref(),
        Some(hex::encode_upper(serial.as_bytes()).as_str())
    );
}

/// A CA certificate for `key` under `subject`, issued by `root`, valid in `validity`.
fn ca_certificate(
    root: &Authority,
    subject: &x509_cert::name::Name,
    key: &SigningKey,
    serial: u8,
    validity: (u64, u64),
) -> Vec<u8> {
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&[serial]).expect("serial"),
        signature: root.key.signature_algorithm().identifier(),
        issuer: root.name.clone(),
        validity: Validity {
            not_before: time(validity.0),
            not_after: time(validity.1),
        },
        subject: subject.clone(),
        subject_public_key_info: key.public_key_info().expect("spki"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(ca_extensions()),
    };
    sign_certificate(tbs, &root.key)
}

#[tokio::test]
async fn the_path_search_backtracks_to_a_path_valid_at_the_validation_time() {
    // A CA re-certified with the same name and key: its first certificate expired in 2022, its
    // second runs to 2045. The CMS lists the expired one first.
    const Y2020: u64 = 1_577_836_800;
    const Y2021_06: u64 = 1_622_505_600;
    const Y2022: u64 = 1_640_995_200;
    const Y2045: u64 = 2_366_841_600;
    let root = Authority::root("CN=REVIEW ROOT,C=KZ");
    let ca_key = p256();
    let ca_name = name("CN=REVIEW RECERTIFIED CA,C=KZ");
    let expired = ca_certificate(&root, &ca_name, &ca_key, 2, (Y2020, Y2022));
    let current = ca_certificate(&root, &ca_name, &ca_key, 3, (Y2020 + 86_400, Y2045));
    let ca = Authority {
        key: ca_key,
        name: ca_name,
        der: current.clone(),
    };
    let v = verifier(&root, &[root.crl(&[]), ca.crl(&[])]);
    let key = p256();
    let subject = format!("CN=REVIEW LEAF,SERIALNUMBER=IIN{},C=KZ", valid_iin());
    let leaf = ca.issue(&name(&subject), &key, 88, leaf_extensions());
    let mut cms = Cms::new(&request_json(), &leaf, &key);
    cms.certificates.extend([expired.clone(), current.clone()]);
    let signature = cms.sign(&key);
    let at = |at: Option<u64>| Request {
        signature: signature.clone(),
        at: at.map(|a| a as i64),
        ..Request::default()
    };
    // In mid-2021 both CA certificates are valid: the first one found serves (and is cached).
    let report = v.verify(&at(Some(Y2021_06))).await;
    assert_eq!(report.verdict, Verdict::Valid, "2021: {report:#?}");
    // Today only the second is: neither the first candidate nor the cached path may be used.
    let report = v.verify(&at(None)).await;
    assert_eq!(report.verdict, Verdict::Valid, "now: {report:#?}");
    assert!(check(&report, "chain")
        .detail
        .contains("REVIEW RECERTIFIED CA"));
    // With only the expired CA certificate there is no valid path: the validity step says why.
    // (A fresh verifier: one that has met the current CA certificate remembers the path.)
    let mut only_expired = Cms::new(&request_json(), &leaf, &key);
    only_expired.certificates.push(expired);
    let report = verifier(&root, &[root.crl(&[]), ca.crl(&[])])
        .verify(&Request {
            signature: only_expired.sign(&key),
            ..Request::default()
        })
        .await;
    let validity = check(&report, "validity");
    assert_eq!(
        (report.verdict, validity.code.as_str()),
        (Verdict::Invalid, "EXPIRED"),
        "{report:#?}"
    );
}

// --- OCSP ---------------------------------------------------------------------------------

const NOW: u64 = 1_800_000_000; // 2027-01-15
const YEAR: u64 = 365 * 86_400;

fn generalized(secs: u64) -> OcspGeneralizedTime {
    OcspGeneralizedTime::from(
        der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs)).expect("time"),
    )
}

fn cert_id(leaf: &Cert, issuer: &Cert) -> CertId {
    qoltanba::fuzzing::ocsp_cert_id(leaf, issuer).expect("CertID")
}

fn response_data(responder: ResponderId, id: CertId, nonce: &[u8]) -> ResponseData {
    ResponseData {
        version: x509_ocsp::Version::V1,
        responder_id: responder,
        produced_at: generalized(NOW),
        responses: vec![SingleResponse {
            cert_id: id,
            cert_status: CertStatus::Good(Null),
            this_update: generalized(NOW - 60),
            next_update: Some(generalized(NOW + 3600)),
            single_extensions: None,
        }],
        response_extensions: Some(vec![Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(nonce.to_vec()).expect("nonce"),
        }]),
    }
}

/// Wraps the signed `tbs` bytes, exactly as given, into an OCSPResponse.
fn ocsp_response(tbs: &[u8], key: &SigningKey, certs: Option<Vec<Certificate>>) -> Vec<u8> {
    let algorithm = key.signature_algorithm().identifier();
    let signature = key.sign(tbs).expect("sign");
    let mut body = tbs.to_vec();
    body.extend(algorithm.to_der().expect("alg"));
    body.extend(
        der::asn1::BitString::from_bytes(&signature)
            .expect("bits")
            .to_der()
            .expect("bits"),
    );
    if let Some(certs) = certs {
        let list = certs.to_der().expect("certs");
        body.extend(
            der::asn1::ContextSpecific {
                tag_number: der::TagNumber::N0,
                tag_mode: der::TagMode::Explicit,
                value: der::Any::from_der(&list).expect("any"),
            }
            .to_der()
            .expect("[0]"),
        );
    }
    let basic = sequence(&body);
    BasicOcspResponse::from_der(&basic).expect("our BasicOCSPResponse decodes");
    OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC,
            response: OctetString::new(basic).expect("octets"),
        }),
    }
    .to_der()
    .expect("OCSPResponse")
}

/// A DER SEQUENCE around `body`.
fn sequence(body: &[u8]) -> Vec<u8> {
    let header = der::Header::new(der::Tag::Sequence, body.len()).expect("length");
    let mut out = header.to_der().expect("header");
    out.extend_from_slice(body);
    out
}

struct OcspCase {
    root: Authority,
    root_cert: Cert,
    leaf: Cert,
    nonce: Vec<u8>,
}

fn ocsp_case() -> OcspCase {
    let root = Authority::root("CN=REVIEW OCSP ROOT,C=KZ");
    let leaf_der = root.issue(&name("CN=REVIEW LEAF,C=KZ"), &p256(), 9, leaf_extensions());
    OcspCase {
        root_cert: Cert::from_der(&root.der).expect("root"),
        leaf: Cert::from_der(&leaf_der).expect("leaf"),
        nonce: qoltanba::fuzzing::ocsp_nonce_value(b"review nonce 001").expect("nonce"),
        root,
    }
}

/// A delegated responder certificate (EKU OCSPSigning) issued by the root, valid in `validity`.
fn responder(root: &Authority, key: &SigningKey, validity: (u64, u64)) -> Certificate {
    let eku = ExtendedKeyUsage(vec![rfc5280::ID_KP_OCSP_SIGNING]);
    let tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&[0x42]).expect("serial"),
        signature: root.key.signature_algorithm().identifier(),
        issuer: root.name.clone(),
        validity: Validity {
            not_before: time(validity.0),
            not_after: time(validity.1),
        },
        subject: name("CN=REVIEW OCSP RESPONDER,C=KZ"),
        subject_public_key_info: key.public_key_info().expect("spki"),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![extension(rfc5280::ID_CE_EXT_KEY_USAGE, false, &eku)]),
    };
    Certificate::from_der(&sign_certificate(tbs, &root.key)).expect("responder")
}

#[test]
fn a_delegated_responder_outside_its_validity_is_not_trusted() {
    let case = ocsp_case();
    let key = p256();
    let check = |validity| {
        let cert = responder(&case.root, &key, validity);
        let by = ResponderId::ByName(cert.tbs_certificate.subject.clone());
        let data = response_data(by, cert_id(&case.leaf, &case.root_cert), &case.nonce);
        let response = ocsp_response(&data.to_der().expect("tbs"), &key, Some(vec![cert]));
        qoltanba::fuzzing::ocsp_check_response(
            &response,
            &case.leaf,
            &case.root_cert,
            &case.nonce,
            NOW as i64,
        )
    };
    // The twin: a responder valid now is trusted.
    let answer = check((NOW - YEAR, NOW + YEAR)).expect("a current responder is trusted");
    assert!(
        matches!(answer, qoltanba::verify::Answer::Good { .. }),
        "{answer:?}"
    );
    // Expired a year ago, or valid only from next year: its answers are not used.
    for validity in [(NOW - 3 * YEAR, NOW - YEAR), (NOW + YEAR, NOW + 2 * YEAR)] {
        let err = check(validity).expect_err("a responder outside its validity is refused");
        assert!(err.contains("not valid now"), "{err}");
    }
}

#[test]
fn an_ocsp_response_is_verified_over_the_bytes_received() {
    let case = ocsp_case();
    let key_hash = {
        use sha1::Digest;
        let spki = &case
            .root_cert
            .parsed
            .tbs_certificate
            .subject_public_key_info;
        sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
    };
    let by_key = ResponderId::ByKey(OctetString::new(key_hash).expect("hash"));
    let data = response_data(by_key, cert_id(&case.leaf, &case.root_cert), &case.nonce);
    let canonical = data.to_der().expect("tbs");
    // The same ResponseData with its DEFAULT version written out ([0] INTEGER 0): valid BER,
    // not DER. Decoding drops it, so a re-encoding is not what the responder signed.
    let mut body = vec![0xA0, 0x03, 0x02, 0x01, 0x00];
    let mut reader = der::SliceReader::new(&canonical).expect("reader");
    let header = der::Header::decode(&mut reader).expect("header");
    let header_len = u32::from(header.encoded_len().expect("length")) as usize;
    body.extend_from_slice(&canonical[header_len..]);
    let explicit_version = sequence(&body);
    assert_ne!(explicit_version, canonical);
    for (what, tbs) in [
        ("canonical", canonical),
        ("explicit version", explicit_version),
    ] {
        let response = ocsp_response(&tbs, &case.root.key, None);
        let answer = qoltanba::fuzzing::ocsp_check_response(
            &response,
            &case.leaf,
            &case.root_cert,
            &case.nonce,
            NOW as i64,
        );
        assert!(
            matches!(answer, Ok(qoltanba::verify::Answer::Good { .. })),
            "{what}: {answer:?}"
        );
    }
}
