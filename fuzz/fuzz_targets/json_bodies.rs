//! Arbitrary bytes as the JSON bodies the HTTP API takes, then the validation each goes through:
//! - `POST /v1/pki/certificates`: `qoltanba::pki::IssueRequest` (and its redacting Debug);
//! - `POST /v1/documents` (`{kind, payload, ...}`): `Kind::parse`, `Payload` and
//!   `Payload::problems`, `document_json` and RFC 8785 `canonical`;
//! - `POST /v1/verify` (`{signature, iin, bin, at, ...}`): the field checks it makes (`Iin`/`Bin`
//!   parse, RFC 3339 time, signature input decoding);
//! - any JSON value: `canonical`, which must be idempotent and re-parse to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::identity::{Bin, Iin};
use qoltanba::pki::IssueRequest;
use qoltanba::sign::canonical::canonical;
use qoltanba::sign::document::{document_json, Kind, Payload};
use serde_json::Value;

fn payload(kind: Option<Kind>, value: &Value, supersedes: Option<&str>) {
    let Ok(payload) = serde_json::from_value::<Payload>(value.clone()) else {
        return;
    };
    for k in Kind::ALL {
        let _ = payload.problems(k);
        let _ = k.title();
    }
    let kind = kind.unwrap_or(Kind::ALL[0]);
    if payload.problems(kind).is_empty() {
        let doc = document_json(
            kind,
            "KZ00LAA00000001",
            "2024-06-01T00:00:00Z",
            &payload,
            supersedes,
        );
        // The signed form of an accepted payload always canonicalises (it holds only strings).
        let bytes = canonical(&doc).expect("an accepted document canonicalises");
        let back: Value = serde_json::from_slice(&bytes).expect("canonical JSON parses");
        assert_eq!(back, doc);
    }
}

fn verify_body(object: &serde_json::Map<String, Value>) {
    if let Some(Value::String(s)) = object.get("signature") {
        let _ = qoltanba::verify::decode_signature_input(s.as_bytes());
    }
    if let Some(Value::String(s)) = object.get("iin") {
        let _ = Iin::parse(s);
    }
    if let Some(Value::String(s)) = object.get("bin") {
        let _ = Bin::parse(s);
    }
    if let Some(Value::String(s)) = object.get("at") {
        if let Ok(t) = qoltanba::time::parse_rfc3339(s) {
            let _ = qoltanba::time::rfc3339(t);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<IssueRequest>(data) {
        let _ = format!("{request:?}");
    }
    if let Ok(payload) = serde_json::from_slice::<Payload>(data) {
        for k in Kind::ALL {
            let _ = payload.problems(k);
        }
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        if let Ok(s) = std::str::from_utf8(data) {
            let _ = Kind::parse(s);
        }
        return;
    };
    if let Ok(bytes) = canonical(&value) {
        let text = std::str::from_utf8(&bytes).expect("canonical JSON is UTF-8");
        let back: Value = serde_json::from_str(text).expect("canonical JSON parses");
        assert_eq!(back, value, "canonical JSON re-parses to another value");
        assert_eq!(
            canonical(&back).as_deref(),
            Ok(&bytes[..]),
            "not idempotent"
        );
    }
    if let Value::Object(object) = &value {
        let kind = match object.get("kind") {
            Some(Value::String(k)) => Kind::parse(k).ok(),
            _ => None,
        };
        let supersedes = match object.get("supersedes") {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        if let Some(p) = object.get("payload") {
            payload(kind, p, supersedes);
        }
        verify_body(object);
    }
});
