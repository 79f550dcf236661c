//! Deeply nested and absurdly long DER into every reader of outside bytes: the verifier (as the
//! signature, a supplied certificate and a supplied CRL), the certificate parser, the CRL parser
//! and the PKCS#12 reader. Each must refuse promptly; a length is never trusted to size a buffer
//! (a 2^62-byte claim would abort the process, not fail a test).

use std::time::{Duration, Instant};

use base64::Engine;
use qoltanba::verify::{Request, Verdict};
use qoltanba::x509::crl::Crl;
use qoltanba::x509::Cert;

use super::build::*;
use super::check;

/// `depth` SEQUENCEs, each holding the next, with definite lengths (built front to back: the
/// sizes from the inside out first, so that no level is copied).
fn nested_definite(depth: usize) -> Vec<u8> {
    fn length(n: usize) -> Vec<u8> {
        if n < 0x80 {
            return vec![n as u8];
        }
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        [vec![0x80 | bytes.len() as u8], bytes].concat()
    }
    let mut sizes = vec![0usize]; // content size of the innermost SEQUENCE
    for _ in 1..depth {
        let inner = *sizes.last().expect("one");
        sizes.push(1 + length(inner).len() + inner);
    }
    let mut out = Vec::new();
    for size in sizes.iter().rev() {
        out.push(0x30);
        out.extend(length(*size));
    }
    out
}

/// `depth` SEQUENCEs with indefinite lengths (BER), properly closed.
fn nested_indefinite(depth: usize) -> Vec<u8> {
    let mut out = [0x30, 0x80].repeat(depth);
    out.extend(vec![0u8; 2 * depth]);
    out
}

/// The inputs: name and bytes.
fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let signed_data_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    let claims = |length: &[u8]| {
        // A ContentInfo whose [0] claims `length` bytes it does not have.
        let mut inner = signed_data_oid.to_vec();
        inner.push(0xa0);
        inner.extend_from_slice(length);
        inner.extend_from_slice(&[0x30, 0x03, 0x02, 0x01, 0x01]);
        [vec![0x30, inner.len() as u8], inner].concat()
    };
    vec![
        ("100k nested SEQUENCEs", nested_definite(100_000)),
        (
            "100k nested indefinite SEQUENCEs",
            nested_indefinite(100_000),
        ),
        (
            "2^62-byte SEQUENCE",
            [0x30, 0x88, 0x40, 0, 0, 0, 0, 0, 0, 0].to_vec(),
        ),
        (
            "4 GiB SEQUENCE",
            [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30].to_vec(),
        ),
        (
            "2 GiB SEQUENCE",
            [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01].to_vec(),
        ),
        (
            "nine length bytes",
            [0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0].to_vec(),
        ),
        ("reserved length 0xff", [0x30, 0xff, 0x00].to_vec()),
        (
            "inner [0] of 2^62 bytes",
            claims(&[0x88, 0x40, 0, 0, 0, 0, 0, 0, 0]),
        ),
        (
            "inner [0] of 4 GiB",
            claims(&[0x84, 0xff, 0xff, 0xff, 0xff]),
        ),
        ("inner [0] indefinite, never closed", claims(&[0x80])),
    ]
}

#[test]
fn the_certificate_crl_and_pkcs12_readers_refuse_them() {
    for (what, input) in hostile_inputs() {
        let started = Instant::now();
        assert!(Cert::from_der(&input).is_err(), "certificate: {what}");
        assert!(
            qoltanba::verify::read_certificate(&input).is_err(),
            "read_certificate: {what}"
        );
        assert!(Crl::parse(&input).is_err(), "CRL: {what}");
        assert!(
            qoltanba::keystore::open_pkcs12(&input, "password").is_err(),
            "PKCS#12: {what}"
        );
        let _ = qoltanba::x509::ber_to_der(&input);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{what}: {took:?}");
    }
}

#[tokio::test]
async fn deep_nesting_and_huge_lengths_are_refused() {
    let root = Authority::root("CN=HOSTILE ROOT,C=KZ");
    let v = qoltanba::verify::Verifier::new(qoltanba::verify::Settings {
        anchors: vec![("root".into(), root.der.clone())],
        offline: true,
        ..Default::default()
    })
    .expect("verifier");
    let key = p256();
    let leaf = root.issue(&name("CN=LEAF,C=KZ"), &key, 5, leaf_extensions());
    let good = Cms::new(&super::request_json(), &leaf, &key).sign(&key);
    for (what, input) in hostile_inputs() {
        let started = Instant::now();
        let base64 = base64::engine::general_purpose::STANDARD.encode(&input);
        for (form, signature) in [("DER", input.clone()), ("base64", base64.into_bytes())] {
            let report = v
                .verify(&Request {
                    signature,
                    ..Request::default()
                })
                .await;
            assert_eq!(
                report.verdict,
                Verdict::Invalid,
                "{what} ({form}): {report:#?}"
            );
            assert_eq!(
                check(&report, "format").code,
                "UNREADABLE",
                "{what} ({form})"
            );
            assert!(report.signers.is_empty());
        }
        // As a supplied certificate or CRL beside a good signature: ignored, not fatal.
        let report = v
            .verify(&Request {
                signature: good.clone(),
                certificates: vec![input.clone()],
                crls: vec![input.clone()],
                ..Request::default()
            })
            .await;
        assert_eq!(
            check(&report, "signature").code,
            "OK",
            "{what}: {report:#?}"
        );
        assert_eq!(check(&report, "chain").code, "OK", "{what}: {report:#?}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "{what}: {took:?}");
    }

    // Longer than the verifier reads at all.
    let huge = vec![0x30; 33 * 1024 * 1024];
    let report = v
        .verify(&Request {
            signature: huge,
            ..Request::default()
        })
        .await;
    let format = check(&report, "format");
    assert_eq!(format.code, "UNREADABLE");
    assert!(format.detail.contains("larger than"), "{}", format.detail);
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A SignedData whose one SignerInfo carries `count` signed attributes in descending DER order
/// (the decoder sorts a SET OF: insertion sort, quadratic in the worst case).
fn many_attributes(count: usize) -> Vec<u8> {
    use der::Encode;
    let mut attributes: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let oid = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999")
                .push_arc(i as u32)
                .expect("oid");
            let oid = oid.to_der().expect("oid");
            tlv(0x30, &[oid, tlv(0x31, &[0x05, 0x00])].concat())
        })
        .collect();
    attributes.sort();
    attributes.reverse();
    let int1 = [0x02, 0x01, 0x01];
    let sha256 = identifier(SHA256).to_der().expect("alg");
    let ecdsa = identifier(ECDSA_SHA256).to_der().expect("alg");
    let sid = tlv(
        0x30,
        &[tlv(0x30, &[]), [0x02, 0x01, 0x05].to_vec()].concat(),
    );
    let si = tlv(
        0x30,
        &[
            int1.to_vec(),
            sid,
            sha256.clone(),
            tlv(0xa0, &attributes.concat()),
            ecdsa,
            tlv(0x04, &[1; 64]),
        ]
        .concat(),
    );
    let encap = tlv(
        0x30,
        &[ID_DATA.to_der().expect("oid"), tlv(0xa0, &tlv(0x04, b"x"))].concat(),
    );
    let sd = tlv(
        0x30,
        &[int1.to_vec(), tlv(0x31, &sha256), encap, tlv(0x31, &si)].concat(),
    );
    tlv(
        0x30,
        &[ID_SIGNED_DATA.to_der().expect("oid"), tlv(0xa0, &sd)].concat(),
    )
}

/// A Name of one RDN holding `count` attributes in descending DER order.
fn wide_name(count: usize) -> Vec<u8> {
    use der::Encode;
    let mut atvs: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let value = format!("{i:06}");
            let cn = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3")
                .to_der()
                .expect("oid");
            tlv(0x30, &[cn, tlv(0x0c, value.as_bytes())].concat())
        })
        .collect();
    atvs.sort();
    atvs.reverse();
    tlv(0x30, &tlv(0x31, &atvs.concat()))
}

/// A certificate and a CRL, well formed but for a signature nobody checks here, whose subject
/// or issuer is `name`.
fn certificate_and_crl(name: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use der::Encode;
    let alg = identifier(ECDSA_SHA256).to_der().expect("alg");
    let time = |t: &str| tlv(0x17, t.as_bytes());
    let validity = tlv(
        0x30,
        &[time("200101000000Z"), time("450101000000Z")].concat(),
    );
    let spki = p256().public_key_info_der().expect("spki");
    let signature = tlv(0x03, &[0u8; 65]);
    let tbs = tlv(
        0x30,
        &[
            vec![0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x07],
            alg.clone(),
            name.to_vec(),
            validity,
            name.to_vec(),
            spki,
        ]
        .concat(),
    );
    let cert = tlv(0x30, &[tbs, alg.clone(), signature.clone()].concat());
    let tbs_list = tlv(
        0x30,
        &[
            vec![0x02, 0x01, 0x01],
            alg.clone(),
            name.to_vec(),
            time("250101000000Z"),
        ]
        .concat(),
    );
    let crl = tlv(0x30, &[tbs_list, alg, signature].concat());
    (cert, crl)
}

#[tokio::test]
async fn many_elements_in_a_set_of_are_refused_quickly() {
    let root = Authority::root("CN=HOSTILE ROOT,C=KZ");
    let v = qoltanba::verify::Verifier::new(qoltanba::verify::Settings {
        anchors: vec![("root".into(), root.der.clone())],
        offline: true,
        ..Default::default()
    })
    .expect("verifier");
    // A handful of attributes is read (the signer is then not found); 4,000 are refused.
    let report = v
        .verify(&Request {
            signature: many_attributes(60),
            ..Request::default()
        })
        .await;
    assert_eq!(check(&report, "format").code, "OK", "{report:#?}");
    assert_eq!(
        check(&report, "signature").code,
        "NO_SIGNING_CERTIFICATE_FOUND"
    );
    let started = Instant::now();
    let report = v
        .verify(&Request {
            signature: many_attributes(4000),
            ..Request::default()
        })
        .await;
    let format = check(&report, "format");
    assert_eq!(format.code, "UNREADABLE", "{report:#?}");
    assert!(
        format.detail.contains("SET of 4000 elements"),
        "{}",
        format.detail
    );
    // Before the bound: 20 s (debug build) to sort the attributes.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let (cert, crl) = certificate_and_crl(&wide_name(3));
    assert!(
        Cert::from_der(&cert).is_ok(),
        "the template certificate parses"
    );
    assert!(Crl::parse(&crl).is_ok(), "the template CRL parses");
    let (cert, crl) = certificate_and_crl(&wide_name(4000));
    let started = Instant::now();
    assert!(Cert::from_der(&cert).is_err());
    assert!(qoltanba::verify::read_certificate(&cert).is_err());
    let error = Crl::parse(&crl).expect_err("refused").to_string();
    assert!(error.contains("issuer"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
