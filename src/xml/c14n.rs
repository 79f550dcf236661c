//! Canonical XML: inclusive C14N 1.0 and 1.1 and exclusive C14N 1.0, each with or without
//! comments, of a whole document or of one element's subtree, with subtrees left out (the
//! enveloped-signature transform, and Kalkan's later signatures).

mod base;
mod walk;

use super::{Document, NodeId};

/// A canonicalisation method, as XMLDSig names it by URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Canonical XML 1.0 (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`, `#WithComments`).
    Inclusive10 { comments: bool },
    /// Canonical XML 1.1 (`http://www.w3.org/2006/12/xml-c14n11`, `#WithComments`).
    Inclusive11 { comments: bool },
    /// Exclusive C14N 1.0 (`http://www.w3.org/2001/10/xml-exc-c14n#`, `#WithComments`), with
    /// the InclusiveNamespaces PrefixList (`#default` for the default namespace).
    Exclusive {
        comments: bool,
        inclusive_prefixes: Vec<String>,
    },
}

impl Method {
    /// The method an XMLDSig Algorithm URI names (PrefixList empty), or None.
    pub fn from_uri(uri: &str) -> Option<Method> {
        Some(match uri {
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315" => {
                Method::Inclusive10 { comments: false }
            }
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments" => {
                Method::Inclusive10 { comments: true }
            }
            "http://www.w3.org/2006/12/xml-c14n11" => Method::Inclusive11 { comments: false },
            "http://www.w3.org/2006/12/xml-c14n11#WithComments" => {
                Method::Inclusive11 { comments: true }
            }
            "http://www.w3.org/2001/10/xml-exc-c14n#" => Method::Exclusive {
                comments: false,
                inclusive_prefixes: Vec::new(),
            },
            "http://www.w3.org/2001/10/xml-exc-c14n#WithComments" => Method::Exclusive {
                comments: true,
                inclusive_prefixes: Vec::new(),
            },
            _ => return None,
        })
    }

    pub fn uri(&self) -> &'static str {
        match self {
            Method::Inclusive10 { comments: false } => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
            }
            Method::Inclusive10 { comments: true } => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
            Method::Inclusive11 { comments: false } => "http://www.w3.org/2006/12/xml-c14n11",
            Method::Inclusive11 { comments: true } => {
                "http://www.w3.org/2006/12/xml-c14n11#WithComments"
            }
            Method::Exclusive {
                comments: false, ..
            } => "http://www.w3.org/2001/10/xml-exc-c14n#",
            Method::Exclusive { comments: true, .. } => {
                "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
            }
        }
    }

    /// The same method with comments kept or dropped (XMLDSig: a same-document reference,
    /// `URI=""` or `#id`, drops comments whatever the method says).
    pub fn with_comments(&self, keep: bool) -> Method {
        let mut m = self.clone();
        match &mut m {
            Method::Inclusive10 { comments }
            | Method::Inclusive11 { comments }
            | Method::Exclusive { comments, .. } => *comments = keep,
        }
        m
    }
}

/// Appends to `out` the canonical form of the node set: the whole document when `apex` is
/// None (with the comments and PIs around the root, XML C14N §2.1's line feeds), else the
/// subtree of the element `apex` (its ancestors' namespaces and, for the inclusive methods,
/// inherited `xml:` attributes rendered on it, as the specifications say). Every node under an
/// element of `excluded` is left out, that element included.
pub fn canonicalize(
    doc: &Document,
    apex: Option<NodeId>,
    excluded: &[NodeId],
    method: &Method,
    out: &mut Vec<u8>,
) {
    walk::run(doc, apex, excluded, method, out);
}

/// xml:base joining, for the unit tests' comparison with libxml2's values.
#[cfg(test)]
pub(crate) fn join_for_tests(reference: &str, base: &str) -> String {
    base::join(reference, base)
}
