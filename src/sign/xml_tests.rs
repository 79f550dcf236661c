use super::*;
use crate::crypto::SigningKey;
use crate::sign::identity_from_pkcs12;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// NCA's RSA test key that signed the Kalkan samples, inside its certificate's validity.
fn nca_rsa() -> SignerIdentity {
    let inside = crate::time::parse_rfc3339("2021-06-01T00:00:00Z").unwrap();
    identity_from_pkcs12(
        &fixture("nca/rsa/individual_valid_sign.p12"),
        "Qwerty12",
        inside,
    )
    .unwrap()
}

/// A fresh key of `algorithm` with NCA's RSA certificate: enough to see which algorithms are
/// written (nothing here checks the key against the certificate).
fn with_key(algorithm: crate::crypto::KeyAlgorithm) -> SignerIdentity {
    SignerIdentity {
        key: SigningKey::generate(algorithm).unwrap(),
        ..nca_rsa()
    }
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// The content of the first `<ds:{name}>` element.
fn content<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<ds:{name}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find(&format!("</ds:{name}>")).unwrap();
    &xml[start..end]
}

fn unwrap_base64(wrapped: &str) -> Vec<u8> {
    let joined: String = wrapped.replace("&#13;", "").split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(joined)
        .unwrap()
}

#[test]
fn base64_is_wrapped_at_76_characters_with_a_cr_reference() {
    assert_eq!(base64_wrapped(&[0u8; 57]), "A".repeat(76));
    assert_eq!(
        base64_wrapped(&[0u8; 58]),
        format!("{}&#13;\nAA==", "A".repeat(76))
    );
    assert_eq!(base64_wrapped(&[0u8; 114]).matches("&#13;\n").count(), 1);
    assert_eq!(base64_wrapped(&[]), "");
}

#[test]
fn xml_is_recognised_by_its_first_byte() {
    for xml in [
        &b"<a/>"[..],
        b"\xEF\xBB\xBF<a/>",
        b" \r\n\t<?xml version=\"1.0\"?><a/>",
        b"<",
    ] {
        assert!(looks_like_xml(xml), "{xml:?}");
    }
    for other in [
        &b""[..],
        b"   ",
        b"%PDF-1.7",
        b"\x0c<a/>",
        b"{\"a\":1}",
        b"\xEF\xBB",
    ] {
        assert!(!looks_like_xml(other), "{other:?}");
    }
}

#[test]
fn the_prolog_ends_after_the_bom_and_the_declaration() {
    assert_eq!(prolog_end(b"<?xml version=\"1.0\"?>\n<a/>"), 21);
    assert_eq!(prolog_end(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><a/>"), 24);
    assert_eq!(prolog_end(b"\xEF\xBB\xBF<a/>"), 3);
    assert_eq!(prolog_end(b"<?xml-stylesheet href=\"s\"?><a/>"), 0);
    assert_eq!(prolog_end(b"<a/>"), 0);
}

#[test]
fn the_kalkan_sample_is_made_again_byte_for_byte() {
    let sample = fixture("kalkan/xml/xml_enveloped_rsa-sha256_c14n-inclusive.xml");
    for input in [
        &b"<a><b>test</b></a>\n"[..],
        b"<?xml version=\"1.0\"?><a><b>test</b></a>\n",
    ] {
        let signed = sign_enveloped(input, &nca_rsa()).unwrap();
        assert_eq!(text(&signed), text(&sample));
    }
}

#[test]
fn an_empty_root_is_opened_and_closed_around_the_signature() {
    let signed = sign_enveloped(b"<p:a xmlns:p=\"urn:p\" x=\"1\"/>", &nca_rsa()).unwrap();
    let signed = text(&signed);
    assert!(
        signed.starts_with(&format!(
            "{DECLARATION}<p:a xmlns:p=\"urn:p\" x=\"1\"><ds:Signature xmlns:ds="
        )),
        "{signed}"
    );
    assert!(signed.ends_with("</ds:Signature></p:a>"), "{signed}");
    // The digest is that of the canonical empty root.
    let expected = crate::crypto::sha256(b"<p:a xmlns:p=\"urn:p\" x=\"1\"></p:a>");
    assert_eq!(unwrap_base64(content(signed, "DigestValue")), expected);
}

#[test]
fn everything_but_the_declaration_is_kept_byte_for_byte() {
    let input = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- before -->\r\n\
                 <?pi data?><r  a = 'x' >\r\n  <c>&amp; &#x41; <![CDATA[<&>]]></c><!--in-->\r\n</r >\r\n<!--after-->";
    let signed = sign_enveloped(input.as_bytes(), &nca_rsa()).unwrap();
    let signed = text(&signed);
    let start = signed.find("<ds:Signature").unwrap();
    let end = signed.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let kept = format!("{}{}", &signed[..start], &signed[end..]);
    let body = &input[input.find("?>").unwrap() + 2..];
    assert_eq!(kept, format!("{DECLARATION}{body}"));
    assert!(signed[..end].ends_with("\n</ds:Signature>"));
    assert!(signed[end..].starts_with("</r >"));
}

#[test]
fn a_second_signature_follows_the_first_and_covers_it() {
    let once = sign_enveloped(b"<a><b>test</b></a>", &nca_rsa()).unwrap();
    let twice = sign_enveloped(&once, &nca_rsa()).unwrap();
    let twice = text(&twice);
    assert!(twice.starts_with(text(&once).trim_end_matches("</a>")));
    assert_eq!(twice.matches("<ds:Signature ").count(), 2);
    // The second digest covers the first signature: it differs from the first digest.
    let second = &twice[text(&once).len() - "</a>".len()..];
    assert_ne!(
        content(second, "DigestValue"),
        content(twice, "DigestValue")
    );
}

#[test]
fn each_key_writes_its_own_algorithms() {
    use crate::crypto::KeyAlgorithm::*;
    for (key, method, digest, value_len) in [
        (
            P256,
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            "http://www.w3.org/2001/04/xmlenc#sha256",
            64,
        ),
        (
            Ed25519,
            "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
            "http://www.w3.org/2001/04/xmlenc#sha256",
            64,
        ),
        (
            Gost2015,
            "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
            "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512",
            128,
        ),
    ] {
        let signed = sign_enveloped(b"<a/>", &with_key(key)).unwrap();
        let signed = text(&signed);
        assert!(
            signed.contains(&format!("<ds:SignatureMethod Algorithm=\"{method}\"/>")),
            "{key}"
        );
        assert!(
            signed.contains(&format!("<ds:DigestMethod Algorithm=\"{digest}\"/>")),
            "{key}"
        );
        assert_eq!(
            unwrap_base64(content(signed, "SignatureValue")).len(),
            value_len,
            "{key}"
        );
    }
}

#[test]
fn what_is_not_an_xml_document_is_refused_clearly() {
    let signer = nca_rsa();
    for input in [&b""[..], b"%PDF-1.7\n", b"{\"a\":1}"] {
        assert!(
            matches!(sign_enveloped(input, &signer), Err(SignError::NotXml)),
            "{input:?}"
        );
        assert!(matches!(sign_wsse(input, &signer), Err(SignError::NotXml)));
    }
    let doctype = b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>";
    assert!(matches!(
        sign_enveloped(doctype, &signer),
        Err(SignError::Xml(crate::xml::XmlError::Doctype))
    ));
    for malformed in [
        &b"<a><b></a>"[..],
        b"<a>",
        b"<a/><b/>",
        b"<a x='1' x='2'/>",
        b"<p:a/>",
        b"<a>\xff</a>",
    ] {
        match sign_enveloped(malformed, &signer) {
            Err(SignError::Xml(e)) => assert!(!e.to_string().is_empty()),
            other => panic!("{malformed:?}: {:?}", other.map(|_| ())),
        }
    }
}

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";

#[test]
fn soap_messages_are_checked_before_they_are_signed() {
    let signer = nca_rsa();
    let refused = |input: &str, expect: &str| match sign_wsse(input.as_bytes(), &signer) {
        Err(SignError::Soap(why)) => assert!(why.contains(expect), "{input}: {why}"),
        other => panic!("{input}: {:?}", other.map(|_| ())),
    };
    refused("<a/>", "not a SOAP");
    refused(
        "<e:Envelope xmlns:e=\"urn:other\"><e:Body/></e:Envelope>",
        "not a SOAP",
    );
    refused(&format!("<e:Envelope xmlns:e=\"{SOAP11}\"/>"), "no Body");
    refused(
        &format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Header/></e:Envelope>"),
        "no Body",
    );
    refused(
        &format!(
            "<e:Envelope xmlns:e=\"{SOAP11}\"><e:Header><s:Security xmlns:s=\"{WSSE}\"/>\
             </e:Header><e:Body/></e:Envelope>",
            WSSE =
                "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        ),
        "already",
    );
    refused(
        &format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Body/><e:Header/></e:Envelope>"),
        "Header",
    );
}

#[test]
fn the_header_is_made_where_there_is_none() {
    let signer = nca_rsa();
    let cases = [
        (
            format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Body><x/></e:Body></e:Envelope>"),
            format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Header><wsse:Security "),
            " e:mustUnderstand=\"1\">",
        ),
        (
            format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Header/><e:Body/></e:Envelope>"),
            format!("<e:Envelope xmlns:e=\"{SOAP11}\"><e:Header><wsse:Security "),
            " e:mustUnderstand=\"1\">",
        ),
        (
            "<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Body/></Envelope>"
                .to_owned(),
            "<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Header><wsse:Security "
                .to_owned(),
            " xmlns:soapenv=\"http://www.w3.org/2003/05/soap-envelope\" soapenv:mustUnderstand=\"true\">",
        ),
    ];
    for (input, start, security) in cases {
        let signed = sign_wsse(input.as_bytes(), &signer).unwrap();
        let signed = text(&signed);
        let body = &signed[signed.find("</wsse:Security>").unwrap()..];
        assert!(
            signed.starts_with(&format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>{start}"
            )),
            "{signed}"
        );
        assert!(signed.contains(security), "{signed}");
        assert!(
            body.starts_with("</wsse:Security></e:Header><e:Body xmlns:wsu=")
                || body.starts_with("</wsse:Security></Header><Body xmlns:wsu="),
            "{body}"
        );
        let id = &body[body.find("wsu:Id=\"").unwrap() + 8..];
        let id = &id[..id.find('"').unwrap()];
        assert!(id.starts_with("id-") && id.len() == 39, "{id}");
        assert!(signed.contains(&format!("<ds:Reference URI=\"#{id}\">")));
    }
}

#[test]
fn a_body_id_is_escaped_in_the_reference() {
    let input = format!(
        "<e:Envelope xmlns:e=\"{SOAP11}\"><e:Body xmlns:wsu=\"{}\" wsu:Id='a\"&amp;&lt;b'>x</e:Body></e:Envelope>",
        crate::xml::WSU_NAMESPACE
    );
    let signed = sign_wsse(input.as_bytes(), &nca_rsa()).unwrap();
    assert!(text(&signed).contains("<ds:Reference URI=\"#a&quot;&amp;&lt;b\">"));
}

#[test]
fn a_body_keeps_its_wsu_id() {
    let input = format!(
        "<e:Envelope xmlns:e=\"{SOAP11}\"><e:Body xmlns:wsu=\"{}\" wsu:Id=\"b-1\"/></e:Envelope>",
        crate::xml::WSU_NAMESPACE
    );
    let signed = sign_wsse(input.as_bytes(), &nca_rsa()).unwrap();
    let signed = text(&signed);
    assert!(signed.contains("<ds:Reference URI=\"#b-1\">"));
    assert!(signed.ends_with(&format!(
        "<e:Body xmlns:wsu=\"{}\" wsu:Id=\"b-1\"/></e:Envelope>",
        crate::xml::WSU_NAMESPACE
    )));
}

#[test]
fn no_truncation_or_changed_byte_makes_it_panic() {
    let signer = with_key(crate::crypto::KeyAlgorithm::P256);
    for sample in [
        fixture("kalkan/xml/xml_enveloped_2signers_rsa-sha256_then_gost2015-512.xml"),
        fixture("kalkan/xml/wsse_soap_rsa-sha256_exc-c14n_smartbridge.xml"),
    ] {
        for cut in (0..sample.len()).step_by(29) {
            let _ = sign_enveloped(&sample[..cut], &signer);
            let _ = sign_wsse(&sample[..cut], &signer);
        }
        for at in (0..sample.len()).step_by(67) {
            for byte in [b'<', b'>', b'/', b'"', b'&', b':', 0xff] {
                let mut changed = sample.clone();
                changed[at] = byte;
                if let Ok(signed) = sign_enveloped(&changed, &signer) {
                    assert!(crate::xml::Document::parse(&signed, &Limits::default()).is_ok());
                }
                if let Ok(signed) = sign_wsse(&changed, &signer) {
                    assert!(crate::xml::Document::parse(&signed, &Limits::default()).is_ok());
                }
            }
        }
    }
}
