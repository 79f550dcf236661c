//! Hostile XML: signature wrapping, duplicate IDs, unsigned look-alikes of the signed IIN,
//! entities, external references, deep nesting and sheer size. Built from Kalkan's real
//! WS-Security message, whose Body is signed by ID with exclusive C14N — the shape wrapping
//! attacks target, because the Body's digest does not change when it is moved.

use std::time::{Duration, Instant};

use qoltanba::verify::{Report, Verdict};

use crate::verify_xml::{changed, check, kalkan, verify};

const WHEN: &str = "2021-06-01T00:00:00Z";
const SOAP: &str = "wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml";

fn soap() -> String {
    String::from_utf8(kalkan(SOAP)).expect("utf-8")
}

/// The signed Body, as it is in the message.
fn signed_body(message: &str) -> String {
    let start = message.find("<SOAP-ENV:Body").expect("body");
    let end = message.find("</SOAP-ENV:Body>").expect("body end") + "</SOAP-ENV:Body>".len();
    message[start..end].to_owned()
}

/// An attacker's Body: a request for another applicant, unsigned.
fn evil_body(id: Option<&str>) -> String {
    let id = id.map_or(String::new(), |id| {
        format!(" xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\" wsu:Id=\"{id}\"")
    });
    format!("<SOAP-ENV:Body{id}><ns3:SendMessage xmlns:ns3=\"http://bip.bee.kz/SyncChannel/v10/Types\"><iin>123456789011</iin></ns3:SendMessage></SOAP-ENV:Body>")
}

const BODY_ID: &str = "id-0ace83d4-0477-4890-90b2-50b3bd434949";

fn refused(report: &Report, code: &str) {
    assert_ne!(report.verdict, Verdict::Valid, "{report:#?}");
    let format = check(&report.checks, "format");
    assert_eq!(format.code, code, "{report:#?}");
    assert!(
        report.signers.is_empty(),
        "no signer is judged: {report:#?}"
    );
}

#[tokio::test]
async fn the_message_as_signed_passes_signature_so_the_variants_below_fail_for_their_wrapping() {
    let report = verify(soap().into_bytes(), WHEN).await;
    assert_eq!(
        check(&report.signers[0].checks, "signature").code,
        "OK",
        "{report:#?}"
    );
}

#[tokio::test]
async fn eight_wrapping_variants_of_a_ws_security_message_are_refused() {
    let message = soap();
    let original = signed_body(&message);
    let swapped = message.replace(&original, &evil_body(None));
    let wrapped = format!("<Wrapper>{original}</Wrapper>");
    let variants: Vec<(&str, String, &str)> = vec![
        (
            "1: original Body in a wrapper inside the Security header",
            swapped.replace("</wsse:Security>", &format!("{wrapped}</wsse:Security>")),
            "SIGNATURE_SCOPE",
        ),
        (
            "2: original Body in a wrapper directly in the Header",
            swapped.replace(
                "</SOAP-ENV:Header>",
                &format!("{wrapped}</SOAP-ENV:Header>"),
            ),
            "SIGNATURE_SCOPE",
        ),
        (
            "3: original Body inside the signature's ds:Object",
            swapped.replace(
                "</ds:Signature>",
                &format!("<ds:Object>{original}</ds:Object></ds:Signature>"),
            ),
            "SIGNATURE_SCOPE",
        ),
        (
            "4: the attacker's Body carries the signed ID too",
            message
                .replace(&original, &evil_body(Some(BODY_ID)))
                .replace(
                    "</SOAP-ENV:Header>",
                    &format!("{wrapped}</SOAP-ENV:Header>"),
                ),
            "XML_DUPLICATE_ID",
        ),
        (
            "5: the original inside the attacker's Body, both with the ID",
            message.replace(
                &original,
                &evil_body(Some(BODY_ID))
                    .replace("</SOAP-ENV:Body>", &format!("{wrapped}</SOAP-ENV:Body>")),
            ),
            "XML_DUPLICATE_ID",
        ),
        (
            "6: the original inside the attacker's Body",
            message.replace(
                &original,
                &evil_body(None).replace("</SOAP-ENV:Body>", &format!("{wrapped}</SOAP-ENV:Body>")),
            ),
            "SIGNATURE_SCOPE",
        ),
        (
            "7: two Bodies, the attacker's first",
            message.replace(&original, &format!("{}{original}", evil_body(None))),
            "SOAP_SHAPE",
        ),
        (
            "8: the original in a wrapper after the attacker's Body",
            swapped.replace(
                "</SOAP-ENV:Envelope>",
                &format!("{wrapped}</SOAP-ENV:Envelope>"),
            ),
            "SIGNATURE_SCOPE",
        ),
    ];
    for (name, variant, code) in variants {
        assert_ne!(variant, message, "{name}: the variant changed nothing");
        let report = verify(variant.into_bytes(), WHEN).await;
        assert_ne!(report.verdict, Verdict::Valid, "{name}: {report:#?}");
        assert_eq!(
            check(&report.checks, "format").code,
            code,
            "{name}: {report:#?}"
        );
    }
}

#[tokio::test]
async fn an_unsigned_iin_before_the_signed_one_is_not_read() {
    // Header is not signed: an <iin> there must not become the applicant's number.
    let message = soap().replace(
        "<SOAP-ENV:Header>",
        "<SOAP-ENV:Header><iin>123456789011</iin>",
    );
    let report = verify(message.into_bytes(), WHEN).await;
    assert_eq!(
        check(&report.signers[0].checks, "signature").code,
        "OK",
        "{report:#?}"
    );
    assert_eq!(
        report.expected_identity.iin.as_deref(),
        Some("931002451325")
    );
    assert_eq!(
        check(&report.signers[0].checks, "identity").code,
        "IIN_MISMATCH"
    );
    // Nor inside a signature's Object, which its enveloped-signature transform leaves out.
    let sample = kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    let report = verify(
        changed(
            &sample,
            "</ds:Signature>",
            "<ds:Object><iin>123456789011</iin></ds:Object></ds:Signature>",
        ),
        WHEN,
    )
    .await;
    // Valid but for revocation: NCA's only CRL is from after the certificate expired.
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
    assert_eq!(report.expected_identity.source, "none");
}

#[tokio::test]
async fn an_iin_split_by_a_comment_or_written_with_a_reference_is_read_whole() {
    // Same-document references drop comments, and C14N writes references out: the signature
    // still verifies, and the number read is the one signed.
    for (from, to) in [
        (
            "<iin>931002451325",
            "<iin>931002<!-- 123456789011 -->451325",
        ),
        ("<iin>931002451325", "<iin>&#57;3100245132&#x35;"),
    ] {
        let message = changed(&kalkan(SOAP), from, to);
        let report = verify(message, WHEN).await;
        assert_eq!(
            check(&report.signers[0].checks, "signature").code,
            "OK",
            "{to}: {report:#?}"
        );
        assert_eq!(
            report.expected_identity.iin.as_deref(),
            Some("931002451325"),
            "{to}"
        );
    }
}

#[tokio::test]
async fn a_signature_transplanted_onto_another_document_fails_its_digest() {
    let sample =
        String::from_utf8(kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml")).expect("utf-8");
    let start = sample.find("<ds:Signature").expect("signature");
    let end = sample.find("</ds:Signature>").expect("end") + "</ds:Signature>".len();
    let other = format!("<a><b>licence refused</b>{}</a>", &sample[start..end]);
    let report = verify(other.into_bytes(), WHEN).await;
    assert_eq!(report.sub_indication, Some("HASH_FAILURE"), "{report:#?}");
}

#[tokio::test]
async fn a_second_certificate_in_key_info_is_only_a_path_candidate() {
    let ca = std::fs::read(format!(
        "{}/fixtures/nca/rsa/nca_rsa_test.crt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("ca");
    let ca = qoltanba::x509::decode_der(&ca).expect("der");
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca);
    let sample = kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    // The CA's certificate first: its key does not verify the signature, the signer's does.
    let both = changed(
        &sample,
        "<ds:X509Certificate>",
        &format!("<ds:X509Certificate>{ca}</ds:X509Certificate>\n<ds:X509Certificate>"),
    );
    let report = verify(both, WHEN).await;
    // Valid but for revocation: NCA's only CRL is from after the certificate expired.
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
    assert_eq!(
        report.signers[0].subject.iin.as_deref(),
        Some("123456789011")
    );
    // Only a certificate that does not verify: the signature fails, it is not "not found".
    let start = String::from_utf8(sample.clone()).expect("utf-8");
    let s = start.find("<ds:X509Certificate>").expect("cert") + "<ds:X509Certificate>".len();
    let e = start.find("</ds:X509Certificate>").expect("end");
    let wrong = format!("{}{ca}{}", &start[..s], &start[e..]);
    let report = verify(wrong.into_bytes(), WHEN).await;
    assert_eq!(
        report.sub_indication,
        Some("SIG_CRYPTO_FAILURE"),
        "{report:#?}"
    );
}

#[tokio::test]
async fn xxe_and_entity_expansion_are_refused_and_nothing_is_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let sample =
        String::from_utf8(kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml")).expect("utf-8");
    let body = sample
        .trim_start_matches(|c| c != '>')
        .trim_start_matches('>');
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"http://127.0.0.1:{port}/x\">]>{}",
        body.replacen("<b>test</b>", "<b>&x;</b>", 1)
    );
    let laughs = {
        let mut dtd = String::from("<!DOCTYPE a [<!ENTITY l0 \"ha\">");
        for i in 1..10 {
            dtd += &format!("<!ENTITY l{i} \"{}\">", format!("&l{};", i - 1).repeat(10));
        }
        format!("<?xml version=\"1.0\"?>{dtd}]><a>&l9;</a>")
    };
    for (name, input) in [("XXE", xxe), ("billion laughs", laughs)] {
        let started = Instant::now();
        let report = verify(input.into_bytes(), WHEN).await;
        refused(&report, "XML_DOCTYPE_REFUSED");
        assert!(started.elapsed() < Duration::from_secs(1), "{name}");
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        listener.accept().is_err(),
        "the external entity's URL was requested"
    );
}

#[tokio::test]
async fn deep_nesting_and_a_30_mb_document_are_refused_quickly() {
    let depth = 100_000;
    let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let started = Instant::now();
    let report = verify(deep.into_bytes(), WHEN).await;
    refused(&report, "XML_TOO_LARGE");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut big = String::from("<a><b>");
    big.push_str(&"x".repeat(30 * 1024 * 1024));
    big.push_str("</b></a>");
    let report = verify(big.into_bytes(), WHEN).await;
    refused(&report, "XML_TOO_LARGE");
}

#[tokio::test]
async fn malformed_xml_and_bad_utf8_are_format_failures() {
    for input in [
        b"<a><b></a>".to_vec(),
        b"<a>\xff\xfe</a>".to_vec(),
        b"<a x='1' x='2'/>".to_vec(),
        b"<p:a/>".to_vec(),
        b"<a>&unknown;</a>".to_vec(),
    ] {
        let report = verify(input.clone(), WHEN).await;
        assert_eq!(report.verdict, Verdict::Invalid, "{input:?}");
        assert_eq!(report.sub_indication, Some("FORMAT_FAILURE"), "{input:?}");
        assert!(report.unreadable(), "{input:?}: {report:#?}");
    }
    // Readable XML without a signature is a format failure too, but not "unreadable".
    let report = verify(b"<a><b>test</b></a>".to_vec(), WHEN).await;
    assert_eq!(check(&report.checks, "format").code, "NO_SIGNATURE");
}

#[tokio::test]
async fn transforms_and_references_outside_the_allowed_set_are_refused_by_name() {
    let sample = kalkan("xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    let c14n = "<ds:Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments\"/>";
    for (name, from, to, code) in [
        (
            "XPath",
            c14n,
            "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>",
            "TRANSFORM_NOT_ALLOWED",
        ),
        (
            "XSLT",
            c14n,
            "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>",
            "TRANSFORM_NOT_ALLOWED",
        ),
        (
            "base64",
            c14n,
            "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#base64\"/>",
            "TRANSFORM_NOT_ALLOWED",
        ),
        ("an external URI", "URI=\"\"", "URI=\"http://127.0.0.1:9/x.xml\"", "REFERENCE_NOT_ALLOWED"),
        ("a relative URI", "URI=\"\"", "URI=\"request.xml\"", "REFERENCE_NOT_ALLOWED"),
        ("an XPointer", "URI=\"\"", "URI=\"#xpointer(/)\"", "REFERENCE_NOT_ALLOWED"),
        ("an ID nobody has", "URI=\"\"", "URI=\"#nobody\"", "REFERENCE_NOT_FOUND"),
    ] {
        let report = verify(changed(&sample, from, to), WHEN).await;
        assert_ne!(report.verdict, Verdict::Valid, "{name}");
        let format = check(&report.checks, "format");
        assert_eq!(format.code, code, "{name}: {report:#?}");
        assert!(!format.detail.is_empty(), "{name}: the reason is given");
    }
}

#[tokio::test]
async fn a_certificate_named_by_issuer_and_serial_is_found_among_the_supplied_ones() {
    // The gateway's own answers name the certificate by X509IssuerSerial only. KeyInfo is not
    // signed, so the sample's token can be swapped for that form.
    let message = soap();
    let start = message
        .find("<wsse:SecurityTokenReference>")
        .expect("reference");
    let end = message.find("</wsse:SecurityTokenReference>").expect("end")
        + "</wsse:SecurityTokenReference>".len();
    let token = &message[start..end];
    let b64 = &token
        [token.find("\">").expect("value") + 2..token.find("</wsse:KeyIdentifier>").expect("end")];
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let cert = qoltanba::x509::Cert::from_der(&der).expect("cert");
    let serial = num_from_be(cert.parsed.tbs_certificate.serial_number.as_bytes());
    let named = message.replacen(
        token,
        &format!(
            "<wsse:SecurityTokenReference><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>C=KZ,CN=ҰКО 3.0 (RSA TEST)</ds:X509IssuerName><ds:X509SerialNumber>{serial}</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></wsse:SecurityTokenReference>"
        ),
        1,
    );
    let report = verify(named.clone().into_bytes(), WHEN).await;
    assert_eq!(
        report.sub_indication,
        Some("NO_SIGNING_CERTIFICATE_FOUND"),
        "{report:#?}"
    );
    let report = crate::verify_xml::nca_verifier()
        .verify(&qoltanba::verify::Request {
            signature: named.into_bytes(),
            certificates: vec![der],
            at: crate::verify_xml::at(WHEN),
            iin: Some(qoltanba::identity::Iin::parse("123456789011").expect("iin")),
            ..qoltanba::verify::Request::default()
        })
        .await;
    // Valid but for revocation: NCA's only CRL is from after the certificate expired.
    crate::common::assert_valid_but_for_crl_after_expiry(&report.checks);
}

/// A big-endian unsigned integer in decimal (X509SerialNumber's form).
fn num_from_be(bytes: &[u8]) -> String {
    let mut digits = vec![0u8]; // little-endian decimal digits
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}
