use serde_json::json;

use super::*;
use crate::sign::document::{document_json, Kind, Payload};
use crate::sign::identity_from_pkcs12;

fn license() -> Value {
    let payload: Payload = serde_json::from_value(json!({
        "authority": {"name": "ЛИЦЕНЗИАР", "bin": "950341000052"},
        "recipient": {"name": "ТОО \"Әлем & <Фарм>\"", "iin": "000101500011"},
        "activity": "Фармацевтика\nи 'прочее'",
        "issued_on": "2026-11-23",
        "request_id": "REQ-1"
    }))
    .unwrap();
    document_json(
        Kind::License,
        "950341000052-2026-000001",
        "2026-11-23T10:00:00Z",
        &payload,
        Some("abc"),
    )
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn the_mapping_writes_elements_in_canonical_order_escaped_and_indented() {
    let xml = to_xml(&license()).unwrap();
    let expected = "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\
<document xmlns=\"urn:qoltanba:document:1\">
  <issued_at>2026-11-23T10:00:00Z</issued_at>
  <kind>license</kind>
  <number>950341000052-2026-000001</number>
  <payload>
    <activity>Фармацевтика
и 'прочее'</activity>
    <authority>
      <bin>950341000052</bin>
      <name>ЛИЦЕНЗИАР</name>
    </authority>
    <issued_on>2026-11-23</issued_on>
    <recipient>
      <iin>000101500011</iin>
      <name>ТОО \"Әлем &amp; &lt;Фарм&gt;\"</name>
    </recipient>
    <request_id>REQ-1</request_id>
  </payload>
  <supersedes>abc</supersedes>
</document>";
    assert_eq!(text(&xml), expected);
}

#[test]
fn arrays_numbers_booleans_and_nulls() {
    let xml =
        to_xml(&json!({"reasons": ["a", "b"], "n": 7, "t": true, "gone": null, "e": []})).unwrap();
    assert!(text(&xml).ends_with(
        "\n  <e></e>\n  <n>7</n>\n  <reasons>\n    <item>a</item>\n    <item>b</item>\n  </reasons>\n  <t>true</t>\n</document>"
    ), "{}", text(&xml));
    assert!(to_xml(&json!({"1st": "x"})).is_err());
    assert!(to_xml(&json!({"xmlns": "x"})).is_err());
    assert!(to_xml(&json!({"a b": "x"})).is_err());
    assert!(to_xml(&json!({"a": "bell\u{7}"})).is_err());
    assert!(to_xml(&json!({"a": 1.5})).is_err());
    assert!(to_xml(&json!("not an object")).is_err());
    assert_eq!(
        text(&to_xml(&json!({"a": "x\ry"})).unwrap()),
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?><document xmlns=\"urn:qoltanba:document:1\">\n  <a>x&#xD;y</a>\n</document>"
    );
}

#[test]
fn documents_read_back_as_the_json_they_were_written_from() {
    let refusal: Payload = serde_json::from_value(json!({
        "authority": {"name": "A", "bin": "950341000052"},
        "recipient": {"name": "B", "bin": "940140000385"},
        "request_id": "R",
        "reasons": ["one", "two & <three>"]
    }))
    .unwrap();
    for doc in [
        license(),
        document_json(Kind::Refusal, "N", "2026-01-01T00:00:00Z", &refusal, None),
    ] {
        assert_eq!(to_json(&to_xml(&doc).unwrap()).unwrap(), doc);
    }
    let one = json!({"reasons": ["only"]});
    assert_eq!(to_json(&to_xml(&one).unwrap()).unwrap(), one);
    assert!(
        to_json(b"<document><a>x</a></document>").is_err(),
        "no namespace"
    );
    assert!(
        to_json(b"<document xmlns=\"urn:qoltanba:document:1\"><a>x</a><a>y</a></document>")
            .is_err()
    );
    assert!(to_json(b"<document xmlns=\"urn:qoltanba:document:1\">x<a>y</a></document>").is_err());
}

#[test]
fn the_body_is_its_own_canonical_form_and_the_registry_form_rebuilds_it() {
    let xml = to_xml(&license()).unwrap();
    let doc = Document::parse(&xml, &Limits::default()).unwrap();
    let mut c14n = Vec::new();
    c14n::canonicalize(
        &doc,
        None,
        &[],
        &Method::Inclusive10 { comments: false },
        &mut c14n,
    );
    assert_eq!(c14n, &xml[DECLARATION.len()..]);
    assert_eq!(registered_form(&xml).unwrap(), xml);

    // A copy re-serialised by some tool: CRLF, another declaration, references, `<a/>`-free
    // but commented. Same content, same form.
    let copy = text(&xml)
        .replacen(
            DECLARATION,
            "<?xml version='1.0' encoding='UTF-8'?>\r\n<!-- copy -->",
            1,
        )
        .replace('\n', "\r\n")
        .replace(
            "<kind>license</kind>",
            "<kind>lic<!-- x -->&#101;nse</kind>",
        );
    assert_eq!(registered_form(copy.as_bytes()).unwrap(), xml);

    // One character of content changed: another form.
    let changed = text(&xml).replace("REQ-1", "REQ-2");
    assert_ne!(registered_form(changed.as_bytes()).unwrap(), xml);
    // Not a document of this mapping, or not XML.
    assert!(registered_form(b"<document><a>x</a></document>").is_none());
    assert!(registered_form(b"{\"kind\":\"license\"}").is_none());
}

#[test]
fn a_signed_document_gives_back_its_unsigned_form_with_any_signatures_appended() {
    let p12 = std::fs::read(format!(
        "{}/fixtures/nca/rsa/individual_valid_sign.p12",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let inside = crate::time::parse_rfc3339("2021-06-01T00:00:00Z").unwrap();
    let signer = identity_from_pkcs12(&p12, "Qwerty12", inside).unwrap();
    let xml = to_xml(&license()).unwrap();
    let signed = crate::sign::xml::sign_enveloped(&xml, &signer).unwrap();
    let end = xml.len() - "</document>".len();
    assert_eq!(
        &signed[..end],
        &xml[..end],
        "only the signature is inserted"
    );
    assert!(signed.ends_with(b"</ds:Signature></document>"));
    assert_eq!(registered_form(&signed).unwrap(), xml);
    let twice = crate::sign::xml::sign_enveloped(&signed, &signer).unwrap();
    assert_eq!(registered_form(&twice).unwrap(), xml);
}
