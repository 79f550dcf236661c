//! XML signing (issue 13) against NCA RK's own signatures (fixtures/kalkan/xml): with the key
//! that made them, RSA (deterministic) gives Kalkan's files byte for byte, enveloped and
//! WS-Security; GOST 2015 gives Kalkan's second signature but for its random SignatureValue,
//! which verifies, as Kalkan's does, over the same SignedInfo. And `qoltanba sign` on XML.

use std::process::Command;

use qoltanba::crypto::gost;
use qoltanba::sign::{identity_from_pkcs12, xml, SignerIdentity};
use qoltanba::xml::c14n::{canonicalize, Method};
use qoltanba::xml::{Document, Limits, NodeId};

use crate::common::*;

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const KALKAN_CONTENT: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?><a><b>test</b></a>\n";

pub(crate) fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8")
}

/// The NCA RSA test key that made the Kalkan samples, inside its certificate's validity.
fn nca_rsa() -> SignerIdentity {
    let inside = qoltanba::time::parse_rfc3339("2021-06-01T00:00:00Z").expect("time");
    identity_from_pkcs12(
        &fixture("nca/rsa/individual_valid_sign.p12"),
        "Qwerty12",
        inside,
    )
    .expect("NCA RSA key store")
}

/// The NCA GOST 2015 test key that made the samples' second signature.
fn nca_gost() -> SignerIdentity {
    let inside = qoltanba::time::parse_rfc3339("2023-01-01T00:00:00Z").expect("time");
    identity_from_pkcs12(
        &fixture("kalkan/test_keys/KEY_INDIVIDUAL_VALID_2015.p12"),
        "Aa123456",
        inside,
    )
    .expect("NCA GOST key store")
}

/// `xml` with the base64 characters of every `<ds:{name}>` content replaced by `x`: the same
/// shape (line feeds, `&#13;`, lengths) whatever the value.
fn masked(xml: &str, name: &str) -> String {
    let open = format!("<ds:{name}>");
    let close = format!("</ds:{name}>");
    let mut out = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let start = start + open.len();
        let end = start + rest[start..].find(&close).expect("closed");
        out.push_str(&rest[..start]);
        out.push_str(&rest[start..end].replace("&#13;", "\r").replace(
            |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c),
            "x",
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The `ds:Signature` elements in document order.
fn signatures(doc: &Document) -> Vec<NodeId> {
    doc.child_elements(doc.root())
        .filter(|c| doc.is(*c, DSIG, "Signature"))
        .collect()
}

fn child(doc: &Document, parent: NodeId, ns: &str, local: &str) -> NodeId {
    doc.child_elements(parent)
        .find(|c| doc.is(*c, ns, local))
        .unwrap_or_else(|| panic!("no {local} under {}", doc.path(parent)))
}

fn base64(text: &str) -> Vec<u8> {
    use base64::Engine;
    let joined: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(joined)
        .expect("base64")
}

/// Whether the GOST SignatureValue of `signature` verifies over its canonical SignedInfo.
fn gost_signature_verifies(doc: &Document, signature: NodeId, public: &[u8; 128]) -> bool {
    let signed_info = child(doc, signature, DSIG, "SignedInfo");
    let mut canonical = Vec::new();
    canonicalize(
        doc,
        Some(signed_info),
        &[],
        &Method::Inclusive10 { comments: false },
        &mut canonical,
    );
    let value = base64(&doc.text(child(doc, signature, DSIG, "SignatureValue")));
    let value: &[u8; 128] = value.as_slice().try_into().expect("128 bytes");
    gost::verify_512(public, &canonical, value)
}

#[test]
fn rsa_gives_the_kalkan_sample_byte_for_byte() {
    let sample = fixture("kalkan/xml/xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    let signed = xml::sign_enveloped(KALKAN_CONTENT, &nca_rsa()).expect("sign");
    assert!(text(&signed)
        .contains("<ds:DigestValue>9KpJreFMA6K98mcu2hxdAe/vPzfl0uybYurT5DT/bTU=</ds:DigestValue>"));
    // Element by element, line by line first (a readable failure), then every byte.
    for (i, (ours, kalkan)) in text(&signed).lines().zip(text(&sample).lines()).enumerate() {
        assert_eq!(ours, kalkan, "line {}", i + 1);
    }
    assert_eq!(text(&signed), text(&sample));
}

#[test]
fn rsa_then_gost_nests_as_kalkan_does() {
    let sample = fixture("kalkan/xml/xml_enveloped_2signers_rsa-sha256_then_gost2015-512.xml");
    let once = xml::sign_enveloped(KALKAN_CONTENT, &nca_rsa()).expect("RSA");
    let gost = nca_gost();
    let twice = xml::sign_enveloped(&once, &gost).expect("GOST");
    // The same bytes, the GOST DigestValue (over the document with the RSA signature) too;
    // only the second SignatureValue, random in GOST, differs, in its value but not its shape.
    assert_eq!(
        masked(text(&twice), "SignatureValue"),
        masked(text(&sample), "SignatureValue")
    );
    let cut = |xml: &[u8]| {
        let xml = text(xml);
        xml[..xml.rfind("<ds:SignatureValue>").expect("value")].to_owned()
    };
    assert_eq!(cut(&twice), cut(&sample));

    let public = gost::public_key_512_from_spki_bits(gost.key.public_key_bytes()).expect("key");
    for xml in [&twice, &sample] {
        let doc = Document::parse(xml, &Limits::default()).expect("parse");
        let found = signatures(&doc);
        assert_eq!(found.len(), 2);
        assert!(gost_signature_verifies(&doc, found[1], &public));
    }
    // One changed character in the signed content: the digest no longer matches it.
    let changed = text(&twice).replacen("<b>test</b>", "<b>tesT</b>", 1);
    let doc = Document::parse(changed.as_bytes(), &Limits::default()).expect("parse");
    let last = signatures(&doc)[1];
    let mut canonical = Vec::new();
    canonicalize(
        &doc,
        None,
        &[last],
        &Method::Inclusive10 { comments: false },
        &mut canonical,
    );
    let digest = base64(&doc.text(child(
        &doc,
        child(
            &doc,
            child(&doc, last, DSIG, "SignedInfo"),
            DSIG,
            "Reference",
        ),
        DSIG,
        "DigestValue",
    )));
    assert_ne!(gost::streebog512(&canonical).to_vec(), digest);
}

/// The SmartBridge sample with its wsse:Security header taken out: the Body keeps its wsu:Id.
fn smartbridge_unsigned() -> String {
    let sample = fixture("kalkan/xml/wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml");
    let sample = text(&sample);
    let start = sample.find("<wsse:Security").expect("header");
    let end = sample.find("</wsse:Security>").expect("end") + "</wsse:Security>".len();
    format!("{}{}", &sample[..start], &sample[end..])
}

#[test]
fn wsse_signs_the_body_as_the_smartbridge_sample_does() {
    let sample = fixture("kalkan/xml/wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml");
    let sample = text(&sample);
    // The same Body and id: SignedInfo is the sample's, and so (RSA) is SignatureValue.
    let signed = xml::sign_wsse(smartbridge_unsigned().as_bytes(), &nca_rsa()).expect("sign");
    let signed = text(&signed);
    let signature = |xml: &str| {
        let start = xml.find("<ds:Signature ").expect("signature");
        xml[start..start + xml[start..].find("<ds:KeyInfo>").expect("KeyInfo")].to_owned()
    };
    assert_eq!(signature(signed), signature(sample));
    assert!(signed.contains("eqb07lP5ddRlF3l0RYWk7ZwYDjoifevOji7IqgtnX/I="));

    // From the unsigned input: the sample's structure, a new id, the certificate as a token.
    let input = fixture("kalkan/xml/wsse_soap_unsigned_input.xml");
    let signed = xml::sign_wsse(&input, &nca_rsa()).expect("sign");
    assert!(text(&signed).starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<SOAP-ENV:Envelope"
    ));
    let doc = Document::parse(&signed, &Limits::default()).expect("parse");
    let soap = "http://schemas.xmlsoap.org/soap/envelope/";
    let wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    let envelope = doc.root();
    let header = child(&doc, envelope, soap, "Header");
    let body = child(&doc, envelope, soap, "Body");
    let security = child(&doc, header, wsse, "Security");
    let security_element = doc.element(security).expect("element");
    assert!(security_element
        .attributes
        .iter()
        .any(|a| a.local == "mustUnderstand"
            && a.namespace.as_deref() == Some(soap)
            && a.value == "1"));
    let children: Vec<String> = doc
        .child_elements(security)
        .map(|c| doc.element(c).expect("e").local.clone())
        .collect();
    assert_eq!(children, ["BinarySecurityToken", "Signature"]);
    let token = child(&doc, security, wsse, "BinarySecurityToken");
    assert_eq!(base64(&doc.text(token)), nca_rsa().certificate_der);
    let signature_node = child(&doc, security, DSIG, "Signature");
    let body_id = doc
        .element(body)
        .expect("Body")
        .attributes
        .iter()
        .find(|a| a.local == "Id" && a.namespace.as_deref() == Some(qoltanba::xml::WSU_NAMESPACE))
        .expect("wsu:Id")
        .value
        .clone();
    assert!(
        body_id.starts_with("id-") && body_id.len() == 39,
        "{body_id}"
    );
    assert_eq!(doc.by_id(&body_id), Some(body));
    let token_id = doc
        .element(token)
        .expect("token")
        .attributes
        .iter()
        .find(|a| a.local == "Id")
        .expect("token id")
        .value
        .clone();
    let key_info = child(&doc, signature_node, DSIG, "KeyInfo");
    let reference = child(
        &doc,
        child(&doc, key_info, wsse, "SecurityTokenReference"),
        wsse,
        "Reference",
    );
    assert_eq!(
        doc.attribute(reference, "URI"),
        Some(format!("#{token_id}").as_str())
    );
    assert_eq!(doc.by_id(&token_id), Some(token));
    // The signature's lines are the sample's but for the values and the id.
    let ours = masked(&signature(text(&signed)), "DigestValue").replace(&body_id, "ID");
    let kalkan = masked(&signature(sample), "DigestValue")
        .replace("id-0ace83d4-0477-4890-90b2-50b3bd434949", "ID");
    assert_eq!(
        masked(&ours, "SignatureValue"),
        masked(&kalkan, "SignatureValue")
    );
}

/// Runs `qoltanba sign` with `args`; returns the exit code and stderr.
pub(crate) fn qoltanba_sign(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .arg("sign")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn qoltanba_sign_makes_xml_of_xml_and_refuses_what_it_cannot_sign() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    // NCA's GOST key store that is valid today.
    let key = format!(
        "{}/fixtures/nca/gost/individual_valid.p12",
        env!("CARGO_MANIFEST_DIR")
    );
    let pw = write(&dir.path().join("pw"), "Qwerty12\n");
    let input = write(&dir.path().join("doc.xml"), "\u{feff}\n <a><b>test</b></a>");
    let base = ["--key", &key, "--password-file", &pw, "--input"];
    let sign = |input: &str, out: &str, extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend([input, "--out", out]);
        args.extend_from_slice(extra);
        qoltanba_sign(&args)
    };

    let (code, err) = sign(&input, &path("doc.signed.xml"), &[]);
    assert_eq!(code, 0, "{err}");
    let signed = std::fs::read(path("doc.signed.xml")).expect("signed");
    assert!(text(&signed).starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\n <a><b>test</b><ds:Signature"
    ));
    assert!(text(&signed).contains("gostr34102015-gostr34112015-512"));
    // CMS when asked, or with --detached (as before --format existed).
    for (out, extra) in [
        ("doc.p7s", &["--format", "cms"][..]),
        ("doc.detached.p7s", &["--detached"][..]),
    ] {
        let (code, err) = sign(&input, &path(out), extra);
        assert_eq!(code, 0, "{extra:?}: {err}");
        assert_eq!(std::fs::read(path(out)).expect("cms")[0], 0x30, "DER");
    }

    let soap = write(
        &dir.path().join("soap.xml"),
        fixture("kalkan/xml/wsse_soap_unsigned_input.xml"),
    );
    let (code, err) = sign(&soap, &path("soap.signed.xml"), &["--wsse"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text(&std::fs::read(path("soap.signed.xml")).expect("signed"))
            .contains("<wsse:BinarySecurityToken ")
    );

    let not_xml = write(&dir.path().join("doc.txt"), "plain text");
    let doctype = write(
        &dir.path().join("doctype.xml"),
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
    );
    let malformed = write(&dir.path().join("bad.xml"), "<a><b></a>");
    for (input, extra, expect) in [
        (&input, &["--format", "xml", "--detached"][..], "--detached"),
        (&input, &["--wsse", "--format", "cms"][..], "--wsse"),
        (&input, &["--wsse"][..], "SOAP"),
        (&not_xml, &["--format", "xml"][..], "not XML"),
        (&doctype, &[][..], "DOCTYPE"),
        (&malformed, &[][..], "malformed"),
    ] {
        let out = path("refused.xml");
        let (code, err) = sign(input, &out, extra);
        assert_eq!(code, 2, "{input} {extra:?}: {err}");
        assert!(err.contains(expect), "{input} {extra:?}: {err}");
        assert!(
            !std::path::Path::new(&out).exists(),
            "{extra:?}: nothing is written"
        );
    }

    let help = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(["sign", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for option in ["--format", "--wsse", "--detached", "xml", "cms"] {
        assert!(help.contains(option), "{help}");
    }
}
