//! RFC 8785 JSON Canonicalization Scheme: the exact bytes a document is signed as, so anyone can
//! rebuild them from the JSON.
//!
//! Documents hold strings, integers, booleans, arrays and objects; a fractional number is refused
//! rather than risk a formatting that differs from ECMAScript's.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot canonicalise: {0}")]
pub struct CanonicalError(pub String);

/// The canonical UTF-8 bytes of `value`.
pub fn canonical(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out.into_bytes())
}

fn write(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) if i.unsigned_abs() <= (1 << 53) => out.push_str(&i.to_string()),
            (None, Some(u)) if u <= (1 << 53) => out.push_str(&u.to_string()),
            _ => {
                return Err(CanonicalError(format!(
                    "number {n} is not an integer within ±2^53"
                )))
            }
        },
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let keys = key_order(map);
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(key, out);
                out.push(':');
                write(&map[*key], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// An object's keys in canonical order: by their UTF-16 code units (RFC 8785 §3.2.3). The XML
/// form of a document ([`super::document_xml`]) writes its elements in this order too.
pub fn key_order(map: &serde_json::Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    keys
}

/// ECMAScript's JSON.stringify string form: only `"`, `\` and control characters are escaped.
fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_sorted_by_utf16_and_strings_escaped_as_ecmascript_does() {
        // RFC 8785 §3.2.3's sorting example: keys compared as UTF-16 code units.
        let v = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh", "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis"});
        let text = String::from_utf8(canonical(&v).expect("canonical")).expect("utf-8");
        let order: Vec<&str> = [
            "\\r",
            "1",
            "\u{80}",
            "\u{f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .to_vec();
        let mut last = 0;
        for key in order {
            let at = text.find(&format!("\"{key}\":")).expect("key present");
            assert!(at >= last, "{key} out of order in {text}");
            last = at;
        }
        assert_eq!(
            String::from_utf8(
                canonical(&json!({"b": [1, true, null], "a": "қ\"\\\u{1}\n"})).expect("c")
            )
            .expect("utf-8"),
            "{\"a\":\"қ\\\"\\\\\\u0001\\n\",\"b\":[1,true,null]}"
        );
    }

    #[test]
    fn fractional_and_huge_numbers_are_refused() {
        assert!(canonical(&json!({"x": 1.5})).is_err());
        assert!(canonical(&json!({"x": 9_007_199_254_740_993u64})).is_err());
        assert_eq!(canonical(&json!(-42)).expect("int"), b"-42");
    }
}
