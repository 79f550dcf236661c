//! The XML form of a document (issue 13): the content of the canonical JSON that
//! [`document_json`](super::document::document_json) and [`canonical`](super::canonical::canonical)
//! build, written as elements, for those who take XML signed as Kalkan's `signXml` signs it
//! ([`sign_enveloped`](super::xml::sign_enveloped)).
//!
//! The mapping is deterministic, so anyone can rebuild the bytes from the document's JSON:
//!
//! - Kalkan's declaration `<?xml version="1.0" encoding="utf-8" standalone="no"?>`, then at once
//!   (as in Kalkan's output) the root `<document xmlns="urn:qoltanba:document:1">`. The signer
//!   replaces the declaration by this very one, so the signed file is the unsigned one with the
//!   signature inserted before `</document>` and nothing else changed. The namespace names the
//!   mapping and its version, so a later change of it cannot be mistaken for this one.
//! - An object's keys become child elements of that name, in the canonical JSON's key order
//!   (UTF-16 code units, RFC 8785); an object nests; an array is a run of `<item>` elements; a
//!   string is text, an integer its canonical digits, a boolean `true`/`false`; null is left
//!   out. Numbers, IINs and BINs are JSON strings, so they keep their text (leading zeros too).
//! - Each child starts a line indented two spaces per level, so the file reads well in a
//!   browser; a leaf's text is exact.
//! - Text escapes exactly what C14N escapes (`&`, `<`, `>`, and CR as `&#xD;`), there are no
//!   attributes and no empty-element tags: the body after the declaration is its own inclusive
//!   canonical form. [`registered_form`] relies on that to rebuild these bytes from any copy of
//!   a signed document.
//!
//! Identity: the verifier reads the first `<iin>` and the first `<bin>` in document order as
//! the numbers the signer's certificate must carry. In canonical order `authority` comes before
//! `recipient`, so the first `<bin>` is `/document/payload/authority/bin`: the authority's BIN,
//! which the official's certificate carries (issuing checks they are equal) — what an auditor
//! expects of a document an authority signs (процесс 11). The authority has no IIN, so a
//! recipient who is a person puts the first `<iin>` in: the licensee's, not the signer's. The
//! service's own checks of registered documents therefore give the verifier the authority's BIN
//! themselves (`http::documents`); a bare verification of such a document compares the
//! licensee's IIN with the official's and fails on identity.

use crate::xml::names::DSIG as DSIG_NAMESPACE;
use serde_json::{Map, Value};

use super::canonical::{canonical, key_order};
use crate::xml::c14n::{self, Method};
use crate::xml::{Document, Limits, Node, NodeId};

/// The namespace of the root and of every element under it (a default namespace).
pub const NAMESPACE: &str = "urn:qoltanba:document:1";
/// The root element's local name; the verifier's `covers` names it `/document`.
pub const ROOT: &str = "document";
/// What sign_enveloped writes at the top of every document it signs.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="no"?>"#;
/// An array's members.
const ITEM: &str = "item";

/// Why a document has no XML form, or XML is not a document's form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("XML form of the document: {0}")]
pub struct XmlFormError(pub String);

/// The unsigned XML form of `document` (a JSON object): the bytes that are registered and whose
/// SHA-256 the registry keeps.
pub fn to_xml(document: &Value) -> Result<Vec<u8>, XmlFormError> {
    let Value::Object(map) = document else {
        return Err(XmlFormError("a document is a JSON object".into()));
    };
    let mut out = format!("{DECLARATION}<{ROOT} xmlns=\"{NAMESPACE}\">");
    children(map, 1, &mut out)?;
    out.push_str(&format!("\n</{ROOT}>"));
    Ok(out.into_bytes())
}

fn children(map: &Map<String, Value>, depth: usize, out: &mut String) -> Result<(), XmlFormError> {
    for key in key_order(map) {
        element(key, &map[key], depth, out)?;
    }
    Ok(())
}

fn element(name: &str, value: &Value, depth: usize, out: &mut String) -> Result<(), XmlFormError> {
    if !is_name(name) {
        return Err(XmlFormError(format!("{name:?} cannot be an element name")));
    }
    let indent = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let nested = match value {
        Value::Null => return Ok(()),
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => items.iter().any(|i| !i.is_null()),
        _ => false,
    };
    indent(out, depth);
    out.push_str(&format!("<{name}>"));
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => {
            let digits = canonical(value).map_err(|e| XmlFormError(e.to_string()))?;
            out.push_str(&String::from_utf8_lossy(&digits));
        }
        Value::String(s) => text(s, out)?,
        Value::Object(map) => children(map, depth + 1, out)?,
        Value::Array(items) => {
            for item in items {
                element(ITEM, item, depth + 1, out)?;
            }
        }
    }
    if nested {
        indent(out, depth);
    }
    out.push_str(&format!("</{name}>"));
    Ok(())
}

/// Escaped as C14N escapes text; a character XML 1.0 cannot carry is refused (payloads refuse
/// control characters but line feeds before they get here).
fn text(s: &str, out: &mut String) -> Result<(), XmlFormError> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(XmlFormError(format!(
                    "U+{:04X} cannot be written in XML",
                    c as u32
                )))
            }
            c => out.push(c),
        }
    }
    Ok(())
}

/// A name this mapping writes: ASCII letters, digits and `_ . -`, not starting with a digit,
/// `.`, `-` or `xml` (reserved). Document keys are snake_case.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !name.to_ascii_lowercase().starts_with("xml")
}

/// The document's JSON read back from its unsigned XML form: what the API shows and the PDF
/// prints. Leaves come back as strings (a document's are); an element whose children are all
/// `<item>` is an array (no document key is named `item`); an empty element is an empty string
/// (a valid document has no empty object or array).
pub fn to_json(xml: &[u8]) -> Result<Value, XmlFormError> {
    let doc = Document::parse(xml, &Limits::default()).map_err(|e| XmlFormError(e.to_string()))?;
    let root = doc.root();
    if !doc.is(root, NAMESPACE, ROOT) {
        return Err(XmlFormError(format!(
            "the root is not {{{NAMESPACE}}}{ROOT}"
        )));
    }
    // Depth is bounded by the parser's limit (256), so recursion here is bounded too.
    value(&doc, root)
}

fn value(doc: &Document, id: NodeId) -> Result<Value, XmlFormError> {
    let kids: Vec<NodeId> = doc.child_elements(id).collect();
    if kids.is_empty() {
        return Ok(Value::String(doc.text(id)));
    }
    // Between elements only the indentation (or whatever whitespace a re-serialiser wrote).
    let stray = doc.element(id).into_iter().flat_map(|e| &e.children).any(|c| {
        matches!(doc.node(*c), Node::Text(t) if !t.chars().all(|ch| matches!(ch, ' ' | '\t' | '\n' | '\r')))
    });
    if stray {
        return Err(XmlFormError(format!(
            "text beside elements in {}",
            doc.path(id)
        )));
    }
    let mut names = Vec::with_capacity(kids.len());
    for kid in &kids {
        match doc.element(*kid) {
            Some(e) if e.namespace.as_deref() == Some(NAMESPACE) && e.attributes.is_empty() => {
                names.push(e.local.as_str())
            }
            _ => return Err(XmlFormError(format!("unexpected {}", doc.path(*kid)))),
        }
    }
    if names.iter().all(|n| *n == ITEM) {
        return kids
            .iter()
            .map(|k| value(doc, *k))
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    let mut map = Map::new();
    for (name, kid) in names.into_iter().zip(kids) {
        if map.insert(name.to_owned(), value(doc, kid)?).is_some() {
            return Err(XmlFormError(format!("{name} twice in {}", doc.path(id))));
        }
    }
    Ok(Value::Object(map))
}

/// The unsigned form of a copy of a signed XML document, rebuilt for the registry: the
/// declaration, then the inclusive C14N 1.0 (without comments) of the root with every XMLDSig
/// signature directly under it left out — ours and any a later signer appended beside it, as
/// Kalkan appends. Because the unsigned form is its own canonical form, a document issued here
/// comes back byte for byte, and so does a copy a tool re-serialised (line ends, quoting,
/// character references, `<a/>`, comments, another declaration), while any change to the
/// content changes it. None when `signed` is not XML or not a document of this mapping.
pub fn registered_form(signed: &[u8]) -> Option<Vec<u8>> {
    let doc = Document::parse(signed, &Limits::default()).ok()?;
    let root = doc.root();
    if !doc.is(root, NAMESPACE, ROOT) {
        return None;
    }
    let signatures: Vec<NodeId> = doc
        .child_elements(root)
        .filter(|c| doc.is(*c, DSIG_NAMESPACE, "Signature"))
        .collect();
    let mut out = DECLARATION.as_bytes().to_vec();
    c14n::canonicalize(
        &doc,
        Some(root),
        &signatures,
        &Method::Inclusive10 { comments: false },
        &mut out,
    );
    Some(out)
}

#[cfg(test)]
#[path = "document_xml_tests.rs"]
mod tests;
