//! XML, read safely and canonicalised: the room under XMLDSig verification (`verify`) and XML
//! signing (`sign`). Pure Rust, no DTD ever: a DOCTYPE is refused, so nothing is expanded,
//! fetched or read from outside the input; size, depth, attributes and nodes are bounded.
//!
//! The door: [`Document::parse`] builds a read-only tree that keeps what canonicalisation needs
//! (each element's prefix as written, its namespace declarations as written, attribute values
//! normalised as XML 1.0 §3.3.3 says, text with references resolved and line ends normalised)
//! and what a signature check needs (ID attributes, unique; byte spans in the source).
//! [`c14n::canonicalize`] writes a node set in one of the C14N variants XMLDSig names.

pub mod c14n;
pub mod names;
mod parse;

use std::ops::Range;
use std::sync::Arc;

/// Bounds on what [`Document::parse`] accepts.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of input.
    pub max_bytes: usize,
    /// Element nesting.
    pub max_depth: usize,
    /// Attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Nodes (elements, texts, comments, PIs) in the whole document.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 256,
            max_attributes: 256,
            max_nodes: 1_000_000,
        }
    }
}

/// Why an input is not an XML document this service reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("a DOCTYPE is not accepted (no DTD, no entities: nothing is expanded or fetched)")]
    Doctype,
    #[error("the document is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("elements nest deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("an element has more than {limit} attributes")]
    TooManyAttributes { limit: usize },
    #[error("the document has more than {limit} nodes")]
    TooManyNodes { limit: usize },
    #[error("the document is not UTF-8 (byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("encoding {0:?} is not accepted: only UTF-8")]
    Encoding(String),
    #[error("malformed XML at line {line}, column {column}: {what}")]
    Malformed {
        line: usize,
        column: usize,
        what: String,
    },
    #[error("the namespace prefix {0:?} is not declared")]
    UndeclaredPrefix(String),
    #[error("the ID {0:?} is on two elements")]
    DuplicateId(String),
}

/// A node of a [`Document`]: an index into it, valid only for that document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    /// Character data and CDATA, references resolved, line ends normalised to LF (`&#13;`
    /// stays a CR). Adjacent text and CDATA are one node.
    Text(String),
    Comment(String),
    ProcessingInstruction {
        target: String,
        data: String,
    },
}

#[derive(Debug, Clone)]
pub struct Element {
    /// The prefix as written (`ds` in `ds:Signature`); None when unprefixed.
    pub prefix: Option<String>,
    pub local: String,
    /// The namespace URI the prefix (or the default namespace) resolves to: shared with the
    /// declaration, not copied into every element.
    pub namespace: Option<Arc<str>>,
    /// Attributes as written, without namespace declarations; values normalised.
    pub attributes: Vec<Attribute>,
    /// Namespace declarations as written on this element, in source order. `prefix` None is
    /// `xmlns="…"`; an empty `uri` with prefix None undeclares the default namespace.
    pub declarations: Vec<Namespace>,
    pub children: Vec<NodeId>,
    /// Bytes of the start tag in the source (`<a …>` or `<a …/>`).
    pub start_tag: Range<usize>,
    /// Bytes of the end tag in the source; None for an empty-element tag (`<a/>`).
    pub end_tag: Option<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub prefix: Option<String>,
    pub local: String,
    /// Unprefixed attributes are in no namespace (XML Namespaces §6.2).
    pub namespace: Option<Arc<str>>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub prefix: Option<String>,
    pub uri: String,
}

/// Whether `bytes` look like XML: after an optional UTF-8 byte order mark and whitespace, the
/// first byte is `<` (DER starts with 0x30, PEM with `-`, base64 with a letter); whitespace is
/// XML's own (space, TAB, CR, LF). Says nothing about well-formedness: it picks the format a
/// verifier reads and a signer writes.
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    let rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    rest.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        == Some(&b'<')
}

/// The namespace of `xml:` attributes.
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";
/// WS-Security's utility namespace, whose `wsu:Id` is an ID.
pub const WSU_NAMESPACE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// A parsed document: read-only, nodes in document order.
#[derive(Debug, Clone)]
pub struct Document {
    pub(crate) nodes: Vec<Node>,
    pub(crate) parents: Vec<Option<NodeId>>,
    /// Children of the document node: comments and PIs around the root, and the root.
    pub(crate) top: Vec<NodeId>,
    pub(crate) root: NodeId,
    /// ID attribute values (`Id`, `ID`, `id` in no namespace, `wsu:Id`, `xml:id`) → element.
    pub(crate) ids: std::collections::HashMap<String, NodeId>,
}

impl Document {
    /// Reads `input` (UTF-8, an optional BOM, no DOCTYPE) within `limits`.
    pub fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
        parse::parse(input, limits)
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Children of the document node, in order: comments and PIs before and after the root,
    /// and the root.
    pub fn top_level(&self) -> &[NodeId] {
        &self.top
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match self.node(id) {
            Node::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The parent element; None for the root and the nodes around it.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.parents[id.0 as usize]
    }

    /// Child elements of `id`, in order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let children = self
            .element(id)
            .map(|e| e.children.as_slice())
            .unwrap_or(&[]);
        children
            .iter()
            .copied()
            .filter(|c| self.element(*c).is_some())
    }

    /// `id` and every node under it, in document order (nodes are stored in that order, so a
    /// subtree is a contiguous range).
    pub fn subtree(&self, id: NodeId) -> Range<usize> {
        let start = id.0 as usize;
        let mut last = id;
        while let Some(child) = self.element(last).and_then(|e| e.children.last()) {
            last = *child;
        }
        start..last.0 as usize + 1
    }

    /// `id` and the nodes under it, in document order.
    pub fn descendants(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.subtree(id).map(|i| NodeId(i as u32))
    }

    /// Every element, in document order.
    pub fn elements(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len())
            .map(|i| NodeId(i as u32))
            .filter(|id| self.element(*id).is_some())
    }

    /// Whether `node` is `ancestor` or lies under it.
    pub fn is_within(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut at = Some(node);
        while let Some(n) = at {
            if n == ancestor {
                return true;
            }
            at = self.parent(n);
        }
        false
    }

    /// Whether `id` is the element `{namespace}local`.
    pub fn is(&self, id: NodeId, namespace: &str, local: &str) -> bool {
        self.element(id)
            .is_some_and(|e| e.local == local && e.namespace.as_deref() == Some(namespace))
    }

    /// The element whose ID attribute (`Id`, `ID`, `id`, `wsu:Id`, `xml:id`) is `value`.
    pub fn by_id(&self, value: &str) -> Option<NodeId> {
        self.ids.get(value).copied()
    }

    /// Every ID attribute value and its element, ordered by element (document order), then
    /// value.
    pub fn ids(&self) -> Vec<(&str, NodeId)> {
        let mut ids: Vec<(&str, NodeId)> = self.ids.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        ids.sort_unstable_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
        ids
    }

    /// The value of the attribute `local` in no namespace.
    pub fn attribute<'a>(&'a self, id: NodeId, local: &str) -> Option<&'a str> {
        self.element(id)?
            .attributes
            .iter()
            .find(|a| a.namespace.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// The text under `id` (text and CDATA of all descendants, not comments), concatenated.
    pub fn text(&self, id: NodeId) -> String {
        let mut text = String::new();
        for i in self.subtree(id) {
            if let Node::Text(t) = &self.nodes[i] {
                text.push_str(t);
            }
        }
        text
    }

    /// A readable path of local names from the root, with a 1-based position where siblings
    /// share the name: `/Envelope/Body`, `/request/item[2]`.
    pub fn path(&self, id: NodeId) -> String {
        let mut steps = Vec::new();
        let mut at = Some(id);
        while let Some(n) = at {
            let Some(e) = self.element(n) else { break };
            let parent = self.parent(n);
            let step = match parent {
                Some(p) => {
                    let same: Vec<NodeId> = self
                        .child_elements(p)
                        .filter(|c| self.element(*c).is_some_and(|s| s.local == e.local))
                        .collect();
                    match same.iter().position(|c| *c == n) {
                        Some(i) if same.len() > 1 => format!("{}[{}]", e.local, i + 1),
                        _ => e.local.clone(),
                    }
                }
                None => e.local.clone(),
            };
            steps.push(step);
            at = parent;
        }
        steps.reverse();
        format!("/{}", steps.join("/"))
    }

    /// The namespaces in scope at `id` (prefix None: the default), nearest declaration winning;
    /// an undeclared default namespace is left out. Sorted by prefix, default first.
    pub fn in_scope(&self, id: NodeId) -> Vec<Namespace> {
        let mut chain = Vec::new();
        let mut at = Some(id);
        while let Some(n) = at {
            chain.push(n);
            at = self.parent(n);
        }
        let mut scope: std::collections::BTreeMap<Option<String>, String> = Default::default();
        for n in chain.into_iter().rev() {
            if let Some(e) = self.element(n) {
                for d in &e.declarations {
                    scope.insert(d.prefix.clone(), d.uri.clone());
                }
            }
        }
        scope
            .into_iter()
            .filter(|(p, uri)| !(p.is_none() && uri.is_empty()))
            .map(|(prefix, uri)| Namespace { prefix, uri })
            .collect()
    }
}

#[cfg(test)]
mod c14n_tests;
#[cfg(test)]
mod tests;
