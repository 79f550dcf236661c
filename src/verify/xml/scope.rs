//! What a signature must cover — the defence against signature wrapping. The IDs a Reference
//! names are unique (the parser refuses duplicates), and a reference into a ds:Signature is
//! refused (`signature`); here the element covered must be the one the document's kind makes
//! the content: the root of a plain request (`URI=""` or the root's ID), the Body of a SOAP
//! envelope (and its WS-Security Timestamp, when there is one) — by identity in the tree, so an
//! element moved into a wrapper, a header or an Object no longer counts.

use super::failed;
use super::signature::Target;
use crate::verify::report::Check;
use crate::xml::names::{SOAP_11, SOAP_12, WSSE};
use crate::xml::{Document, NodeId, WSU_NAMESPACE};

pub(super) enum Policy {
    /// A signed request: the whole document.
    Plain { root: NodeId },
    /// A SOAP message with WS-Security: the Body, and the security header's Timestamp.
    Soap {
        body: NodeId,
        timestamp: Option<NodeId>,
    },
}

fn soap_child(doc: &Document, parent: NodeId, namespace: &str, local: &str) -> Vec<NodeId> {
    doc.child_elements(parent)
        .filter(|c| doc.is(*c, namespace, local))
        .collect()
}

impl Policy {
    pub(super) fn of(doc: &Document) -> Result<Policy, Check> {
        let root = doc.root();
        let Some(namespace) = [SOAP_11, SOAP_12]
            .into_iter()
            .find(|ns| doc.is(root, ns, "Envelope"))
        else {
            return Ok(Policy::Plain { root });
        };
        let bodies = soap_child(doc, root, namespace, "Body");
        let headers = soap_child(doc, root, namespace, "Header");
        let [body] = bodies[..] else {
            return Err(failed(
                "SOAP_SHAPE",
                format!(
                    "the SOAP envelope has {} Body elements (one is expected)",
                    bodies.len()
                ),
            ));
        };
        if headers.len() > 1 {
            return Err(failed("SOAP_SHAPE", "the SOAP envelope has two Headers"));
        }
        let mut timestamps = Vec::new();
        for header in headers {
            for security in soap_child(doc, header, WSSE, "Security") {
                timestamps.extend(soap_child(doc, security, WSU_NAMESPACE, "Timestamp"));
            }
        }
        if timestamps.len() > 1 {
            return Err(failed(
                "SOAP_SHAPE",
                "the security header has two Timestamps",
            ));
        }
        Ok(Policy::Soap {
            body,
            timestamp: timestamps.first().copied(),
        })
    }

    pub(super) fn name(&self) -> &'static str {
        match self {
            Policy::Plain { .. } => "enveloped XMLDSig",
            Policy::Soap { .. } => "SOAP with WS-Security",
        }
    }

    /// Where the signed content is: the applicant's numbers are read there only.
    pub(super) fn content(&self) -> NodeId {
        match self {
            Policy::Plain { root } => *root,
            Policy::Soap { body, .. } => *body,
        }
    }

    /// Whether `targets` cover what this document's signatures must; the covered elements'
    /// paths for the report.
    pub(super) fn check(&self, doc: &Document, targets: &[Target]) -> Result<Vec<String>, Check> {
        let covered = |node: NodeId| {
            targets.iter().any(|t| match t {
                Target::Document => true,
                Target::Element(e) => *e == node,
            })
        };
        let paths: Vec<String> = targets
            .iter()
            .map(|t| match t {
                Target::Document => doc.path(doc.root()),
                Target::Element(e) => doc.path(*e),
            })
            .collect();
        let describe = || paths.join(", ");
        match self {
            Policy::Plain { root } if !covered(*root) => Err(failed(
                "SIGNATURE_SCOPE",
                format!(
                    "the signature covers {} but not the document element {}: a part of a request is not the request",
                    describe(),
                    doc.path(*root)
                ),
            )),
            Policy::Soap { body, .. } if !covered(*body) => Err(failed(
                "SIGNATURE_SCOPE",
                format!(
                    "the signature covers {} but not the SOAP Body {}",
                    describe(),
                    doc.path(*body)
                ),
            )),
            Policy::Soap {
                timestamp: Some(timestamp),
                ..
            } if !covered(*timestamp) => Err(failed(
                "SIGNATURE_SCOPE",
                format!(
                    "the signature covers {} but not the WS-Security Timestamp {}",
                    describe(),
                    doc.path(*timestamp)
                ),
            )),
            _ => Ok(paths),
        }
    }
}
