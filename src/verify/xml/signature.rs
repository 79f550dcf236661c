//! One ds:Signature read and its References checked: the shape XMLDSig §4 gives (and nothing
//! else), each Reference dereferenced within the document, transformed only by the transforms
//! a signed request needs (enveloped-signature, the C14N methods) and digested.

use crate::xml::names::{ENVELOPED_SIGNATURE as ENVELOPED, EXCLUSIVE_C14N as EXCLUSIVE_NS};
use std::sync::Arc;

use super::{failed, Allowance, DSIG};
use crate::crypto::xml_digest;
use crate::verify::evidence::IntegrityFailure;
use crate::verify::report::{Check, SubIndication};
use crate::xml::c14n::{self, Method};
use crate::xml::{Document, NodeId};

/// References in one SignedInfo (a request signs one; WS-Security a Body and a Timestamp).
const MAX_REFERENCES: usize = 16;
const MAX_TRANSFORMS: usize = 4;

/// What a Reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::verify) enum Target {
    /// `URI=""`: the document the signature is in.
    Document,
    /// `URI="#id"`: the element with that ID.
    Element(NodeId),
}

/// A signature read: what the pipeline needs, and what its References cover.
pub(in crate::verify) struct Read {
    pub method: String,
    /// The canonical SignedInfo, when every Reference digest matched.
    pub signed: Result<Arc<[u8]>, IntegrityFailure>,
    pub value: Vec<u8>,
    pub targets: Vec<Target>,
}

/// The element children of `id`, refusing text other than whitespace between them (a
/// signature's structure has no mixed content).
fn structure(doc: &Document, id: NodeId, what: &str) -> Result<Vec<NodeId>, Check> {
    let element = doc
        .element(id)
        .ok_or_else(|| failed("XML_SIGNATURE_SHAPE", format!("{what} is not an element")))?;
    let mut out = Vec::new();
    for child in &element.children {
        match doc.node(*child) {
            crate::xml::Node::Element(_) => out.push(*child),
            crate::xml::Node::Text(t) if t.trim().is_empty() => {}
            crate::xml::Node::Comment(_) => {}
            _ => {
                return Err(failed(
                    "XML_SIGNATURE_SHAPE",
                    format!("{what} has content other than elements"),
                ))
            }
        }
    }
    Ok(out)
}

fn named(doc: &Document, id: NodeId) -> String {
    doc.element(id)
        .map(|e| match &e.prefix {
            Some(p) => format!("{p}:{}", e.local),
            None => e.local.clone(),
        })
        .unwrap_or_default()
}

fn expect(doc: &Document, id: Option<&NodeId>, local: &str, within: &str) -> Result<NodeId, Check> {
    match id {
        Some(&id) if doc.is(id, DSIG, local) => Ok(id),
        Some(&id) => Err(failed(
            "XML_SIGNATURE_SHAPE",
            format!("{within} has {} where ds:{local} belongs", named(doc, id)),
        )),
        None => Err(failed(
            "XML_SIGNATURE_SHAPE",
            format!("{within} has no ds:{local}"),
        )),
    }
}

fn algorithm(doc: &Document, id: NodeId) -> Result<&str, Check> {
    doc.attribute(id, "Algorithm").ok_or_else(|| {
        failed(
            "XML_SIGNATURE_SHAPE",
            format!("{} has no Algorithm", named(doc, id)),
        )
    })
}

/// Base64 text as XMLDSig writes it: wrapped, with `&#13;` line ends (CR LF in the text).
pub(in crate::verify) fn base64_text(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// A canonicalisation method named by `node`'s Algorithm, with the exclusive method's
/// InclusiveNamespaces PrefixList. Any other child is refused.
fn c14n_method(doc: &Document, node: NodeId, uri: &str) -> Result<Option<Method>, Check> {
    let Some(mut method) = Method::from_uri(uri) else {
        return Ok(None);
    };
    for child in structure(doc, node, "a canonicalisation method")? {
        match &mut method {
            Method::Exclusive {
                inclusive_prefixes, ..
            } if doc.is(child, EXCLUSIVE_NS, "InclusiveNamespaces") => {
                let list = doc.attribute(child, "PrefixList").unwrap_or_default();
                inclusive_prefixes.extend(list.split_ascii_whitespace().map(str::to_owned));
            }
            _ => {
                return Err(failed(
                    "XML_SIGNATURE_SHAPE",
                    format!("{uri} with an unexpected {}", named(doc, child)),
                ))
            }
        }
    }
    Ok(Some(method))
}

/// Reads the ds:Signature `node`. `later`: the signatures added after it beside it, which its
/// enveloped-signature transform leaves out with it (Kalkan's nesting).
pub(in crate::verify) fn read(
    doc: &Document,
    node: NodeId,
    later: &[NodeId],
    allowance: &mut Allowance,
) -> Result<Read, Check> {
    let parts = structure(doc, node, "ds:Signature")?;
    let signed_info = expect(doc, parts.first(), "SignedInfo", "ds:Signature")?;
    let value_node = expect(doc, parts.get(1), "SignatureValue", "ds:Signature")?;
    for extra in parts.iter().skip(2) {
        if !(doc.is(*extra, DSIG, "KeyInfo") || doc.is(*extra, DSIG, "Object")) {
            return Err(failed(
                "XML_SIGNATURE_SHAPE",
                format!("ds:Signature has an unexpected {}", named(doc, *extra)),
            ));
        }
    }
    let value = base64_text(&doc.text(value_node))
        .ok_or_else(|| failed("XML_SIGNATURE_SHAPE", "ds:SignatureValue is not base64"))?;
    let info = structure(doc, signed_info, "ds:SignedInfo")?;
    let c14n_node = expect(doc, info.first(), "CanonicalizationMethod", "ds:SignedInfo")?;
    let c14n_uri = algorithm(doc, c14n_node)?;
    let info_method = c14n_method(doc, c14n_node, c14n_uri)?.ok_or_else(|| {
        failed(
            "C14N_NOT_ALLOWED",
            format!("SignedInfo's canonicalisation {c14n_uri} is not one of the C14N methods"),
        )
    })?;
    let method_node = expect(doc, info.get(1), "SignatureMethod", "ds:SignedInfo")?;
    let method = algorithm(doc, method_node)?.to_owned();
    if !structure(doc, method_node, "ds:SignatureMethod")?.is_empty() {
        // HMACOutputLength and the like: parameters this service never uses.
        return Err(failed(
            "XML_SIGNATURE_SHAPE",
            "ds:SignatureMethod has parameters",
        ));
    }
    let references = &info[2..];
    if references.is_empty() || references.len() > MAX_REFERENCES {
        return Err(failed(
            "XML_SIGNATURE_SHAPE",
            format!(
                "ds:SignedInfo has {} references (1 to {MAX_REFERENCES} are read)",
                references.len()
            ),
        ));
    }
    let mut targets = Vec::new();
    let mut integrity = Ok(());
    for reference in references {
        let reference = expect(doc, Some(reference), "Reference", "ds:SignedInfo")?;
        let (target, outcome) = check_reference(doc, reference, node, later, allowance)?;
        targets.push(target);
        if integrity.is_ok() {
            integrity = outcome;
        }
    }
    let mut canonical = Vec::new();
    c14n::canonicalize(doc, Some(signed_info), &[], &info_method, &mut canonical);
    allowance.spend(canonical.len())?;
    Ok(Read {
        method,
        signed: integrity.map(|()| Arc::from(canonical)),
        value,
        targets,
    })
}

/// Dereferences, transforms and digests one Reference. `Err`: a shape or a transform this
/// service refuses (the whole document fails the format check); `Ok` with a failure: the
/// digest does not match, or its algorithm is refused (this signer fails).
fn check_reference(
    doc: &Document,
    reference: NodeId,
    signature: NodeId,
    later: &[NodeId],
    allowance: &mut Allowance,
) -> Result<(Target, Result<(), IntegrityFailure>), Check> {
    let uri = doc.attribute(reference, "URI").ok_or_else(|| {
        failed(
            "REFERENCE_NOT_ALLOWED",
            "a ds:Reference without URI: what it signs is left to the application",
        )
    })?;
    let target = match uri.strip_prefix('#') {
        None if uri.is_empty() => Target::Document,
        Some(id) if !id.is_empty() && !id.starts_with("xpointer(") => {
            let element = doc.by_id(id).ok_or_else(|| {
                failed(
                    "REFERENCE_NOT_FOUND",
                    format!("no element has the ID {id:?} the signature references"),
                )
            })?;
            Target::Element(element)
        }
        _ => {
            return Err(failed(
                "REFERENCE_NOT_ALLOWED",
                format!(
                    "the reference {uri:?} is not within the document (only URI=\"\" and \"#id\" are read; nothing is fetched)"
                ),
            ))
        }
    };
    if let Target::Element(element) = target {
        let mut at = doc.parent(element);
        while let Some(ancestor) = at {
            if doc.is(ancestor, DSIG, "Signature") {
                return Err(failed(
                    "SIGNATURE_SCOPE",
                    format!(
                        "the reference {uri:?} points inside a ds:Signature ({}): signed content must be the document's, not the signature's",
                        doc.path(element)
                    ),
                ));
            }
            at = doc.parent(ancestor);
        }
    }
    let parts = structure(doc, reference, "ds:Reference")?;
    let mut next = parts.iter();
    let mut first = next.next();
    let mut enveloped = false;
    let mut method = None;
    if let Some(&transforms) = first.filter(|t| doc.is(**t, DSIG, "Transforms")) {
        let list = structure(doc, transforms, "ds:Transforms")?;
        if list.len() > MAX_TRANSFORMS {
            return Err(failed(
                "TRANSFORM_NOT_ALLOWED",
                format!("{} transforms (at most {MAX_TRANSFORMS})", list.len()),
            ));
        }
        for transform in list {
            let transform = expect(doc, Some(&transform), "Transform", "ds:Transforms")?;
            let uri = algorithm(doc, transform)?;
            if uri == ENVELOPED && !enveloped && method.is_none() {
                if !structure(doc, transform, "a transform")?.is_empty() {
                    return Err(failed(
                        "XML_SIGNATURE_SHAPE",
                        "enveloped-signature with content",
                    ));
                }
                enveloped = true;
            } else if let (Some(m), None) = (c14n_method(doc, transform, uri)?, &method) {
                method = Some(m);
            } else {
                return Err(failed(
                    "TRANSFORM_NOT_ALLOWED",
                    format!(
                        "the transform {uri} is not accepted here (only enveloped-signature, then one C14N method)"
                    ),
                ));
            }
        }
        first = next.next();
    }
    let digest_node = expect(doc, first, "DigestMethod", "ds:Reference")?;
    let digest_value = expect(doc, next.next(), "DigestValue", "ds:Reference")?;
    if let Some(extra) = next.next() {
        return Err(failed(
            "XML_SIGNATURE_SHAPE",
            format!("ds:Reference has an unexpected {}", named(doc, *extra)),
        ));
    }
    let expected = base64_text(&doc.text(digest_value))
        .ok_or_else(|| failed("XML_SIGNATURE_SHAPE", "ds:DigestValue is not base64"))?;
    let digest = match xml_digest(algorithm(doc, digest_node)?) {
        Ok(d) if d.is_weak() => {
            let failure = IntegrityFailure::new(
                SubIndication::CryptoConstraintsFailure,
                "WEAK_DIGEST",
                format!(
                    "{} is not allowed for signatures (reference {uri:?})",
                    d.name()
                ),
            );
            return Ok((target, Err(failure)));
        }
        Ok(d) => d,
        Err(e) => {
            let failure = IntegrityFailure::new(
                SubIndication::CryptoConstraintsFailure,
                "UNSUPPORTED_ALGORITHM",
                e.to_string(),
            );
            return Ok((target, Err(failure)));
        }
    };
    let mut excluded = Vec::new();
    if enveloped {
        excluded.push(signature);
        excluded.extend_from_slice(later);
    }
    // A same-document reference drops comments before any transform (XMLDSig §4.4.3.3), so
    // "#WithComments" changes nothing here; the default is inclusive C14N 1.0.
    let method = method
        .unwrap_or(Method::Inclusive10 { comments: false })
        .with_comments(false);
    let apex = match target {
        Target::Document => None,
        Target::Element(e) => Some(e),
    };
    let mut canonical = Vec::new();
    c14n::canonicalize(doc, apex, &excluded, &method, &mut canonical);
    allowance.spend(canonical.len())?;
    let actual = digest.digest(&canonical).unwrap_or_default();
    if actual != expected {
        let failure = IntegrityFailure::new(
            SubIndication::HashFailure,
            "REFERENCE_DIGEST_MISMATCH",
            format!("the digest of the reference {uri:?} does not match: the signed content was changed"),
        );
        return Ok((target, Err(failure)));
    }
    Ok((target, Ok(())))
}
