//! The walk: nodes in document order, one loop, open elements on an explicit stack. A node set
//! here is always a subtree (the whole document, or one element's) with whole subtrees left
//! out, so every output element's parent is output too, except the apex's: only the apex
//! needs what the specifications say about omitted ancestors.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::{base, Method};
use crate::xml::{Document, Element, Node, NodeId, XML_NAMESPACE};

/// Namespace bindings, prefix (`""`: the default namespace) → URIs, innermost last, with a log
/// so that an element's end undoes what its start bound.
#[derive(Default)]
struct Bindings<'d> {
    map: HashMap<&'d str, Vec<&'d str>>,
    log: Vec<&'d str>,
}

impl<'d> Bindings<'d> {
    fn bind(&mut self, prefix: &'d str, uri: &'d str) {
        self.map.entry(prefix).or_default().push(uri);
        self.log.push(prefix);
    }

    fn pop_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some(uris) = self.log.pop().and_then(|p| self.map.get_mut(p)) {
                uris.pop();
            }
        }
    }

    /// The innermost binding, `""` included (an undeclared default namespace).
    fn get(&self, prefix: &str) -> Option<&'d str> {
        self.map.get(prefix)?.last().copied()
    }
}

/// An attribute as rendered: the element's own, or one inherited onto the apex.
pub(super) struct Attr<'d> {
    pub(super) prefix: Option<&'d str>,
    pub(super) local: &'d str,
    pub(super) namespace: Option<&'d str>,
    pub(super) value: Cow<'d, str>,
}

struct Walk<'d, 'o> {
    doc: &'d Document,
    method: &'d Method,
    out: &'o mut Vec<u8>,
    /// Every namespace in scope, the apex's ancestors' included.
    scope: Bindings<'d>,
    /// What output ancestors rendered (C14N's ns_rendered).
    rendered: Bindings<'d>,
    /// Open output elements and the binding marks to return to at their end.
    open: Vec<(&'d Element, usize, usize)>,
}

pub(super) fn run(
    doc: &Document,
    apex: Option<NodeId>,
    excluded: &[NodeId],
    method: &Method,
    out: &mut Vec<u8>,
) {
    let start = apex.map_or(0, |a| a.0 as usize);
    if start >= doc.nodes.len() {
        return;
    }
    let excluded: HashSet<NodeId> = excluded.iter().copied().collect();
    let mut w = Walk {
        doc,
        method,
        out,
        scope: Bindings::default(),
        rendered: Bindings::default(),
        open: Vec::new(),
    };
    if let Some(apex) = apex {
        // The apex's ancestors: outermost first, their declarations are in scope at the apex.
        // An apex under an excluded element leaves nothing to render.
        let mut chain = Vec::new();
        let mut at = Some(apex);
        while let Some(n) = at {
            if excluded.contains(&n) {
                return;
            }
            chain.push(n);
            at = doc.parents.get(n.0 as usize).copied().flatten();
        }
        for n in chain.iter().skip(1).rev() {
            if let Some(Node::Element(e)) = doc.nodes.get(n.0 as usize) {
                for d in &e.declarations {
                    w.scope
                        .bind(d.prefix.as_deref().unwrap_or_default(), &d.uri);
                }
            }
        }
    }
    // Depth relative to the apex (or to the document node), per node visited: a node's depth
    // is its parent's plus one, and the first node whose parent lies before `start` has left
    // the subtree.
    let mut depth: Vec<usize> = Vec::new();
    let mut skip: Option<usize> = None;
    for (i, node) in doc.nodes.iter().enumerate().skip(start) {
        let parent = doc.parents.get(i).copied().flatten();
        let d = match parent.map(|p| p.0 as usize) {
            _ if i == start => 0,
            Some(p) if p >= start => depth.get(p - start).map_or(0, |d| d + 1),
            _ if apex.is_some() => break,
            _ => 0,
        };
        depth.push(d);
        while w.open.len() > d {
            w.close();
        }
        match skip {
            Some(s) if d > s => continue,
            _ => skip = None,
        }
        let id = NodeId(i as u32);
        if excluded.contains(&id) {
            skip = Some(d);
            continue;
        }
        // Comments and PIs beside the document element: a line feed between them and it.
        let around_root = if apex.is_none() && parent.is_none() {
            Some(id < doc.root)
        } else {
            None
        };
        match node {
            Node::Element(e) => w.open_element(id, e, apex == Some(id)),
            Node::Text(t) => escape(w.out, t, Escape::Text),
            Node::Comment(c) if w.comments() => {
                w.line_feed(around_root == Some(false));
                w.out.extend_from_slice(b"<!--");
                w.out.extend_from_slice(c.as_bytes());
                w.out.extend_from_slice(b"-->");
                w.line_feed(around_root == Some(true));
            }
            Node::Comment(_) => {}
            Node::ProcessingInstruction { target, data } => {
                w.line_feed(around_root == Some(false));
                w.out.extend_from_slice(b"<?");
                w.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    w.out.push(b' ');
                    w.out.extend_from_slice(data.as_bytes());
                }
                w.out.extend_from_slice(b"?>");
                w.line_feed(around_root == Some(true));
            }
        }
    }
    while !w.open.is_empty() {
        w.close();
    }
}

impl<'d> Walk<'d, '_> {
    fn comments(&self) -> bool {
        match self.method {
            Method::Inclusive10 { comments }
            | Method::Inclusive11 { comments }
            | Method::Exclusive { comments, .. } => *comments,
        }
    }

    fn line_feed(&mut self, yes: bool) {
        if yes {
            self.out.push(b'\n');
        }
    }

    fn open_element(&mut self, id: NodeId, e: &'d Element, is_apex: bool) {
        let marks = (self.scope.log.len(), self.rendered.log.len());
        for d in &e.declarations {
            self.scope
                .bind(d.prefix.as_deref().unwrap_or_default(), &d.uri);
        }
        let attributes = self.attributes(id, e, is_apex);
        // The namespace nodes that may need rendering here.
        let mut candidates: Vec<&'d str> = Vec::new();
        match self.method {
            Method::Inclusive10 { .. } | Method::Inclusive11 { .. } => {
                if is_apex {
                    // Its parent is not output: every namespace in scope is rendered here.
                    candidates.extend(self.scope.map.keys().copied());
                } else {
                    // The parent rendered its whole scope: only this element's declarations
                    // can differ from it.
                    candidates.extend(
                        e.declarations
                            .iter()
                            .map(|d| d.prefix.as_deref().unwrap_or_default()),
                    );
                }
            }
            Method::Exclusive {
                inclusive_prefixes, ..
            } => {
                // Visibly utilised: the element's prefix (or the default namespace) and its
                // attributes' prefixes; and the PrefixList's, handled as inclusive C14N would.
                candidates.push(e.prefix.as_deref().unwrap_or_default());
                candidates.extend(attributes.iter().filter_map(|a| a.prefix));
                candidates.extend(inclusive_prefixes.iter().map(|p| match p.as_str() {
                    "#default" => "",
                    p => p,
                }));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut namespaces: Vec<(&'d str, &'d str)> = Vec::new();
        for prefix in candidates {
            if prefix == "xml" {
                continue; // the xml namespace is never declared in canonical form
            }
            let in_scope = self.scope.get(prefix).filter(|u| !u.is_empty());
            let rendered = self.rendered.get(prefix);
            match in_scope {
                Some(uri) if rendered != Some(uri) => namespaces.push((prefix, uri)),
                // xmlns="" only to undo a non-empty default an output ancestor rendered.
                None if prefix.is_empty() && rendered.is_some_and(|r| !r.is_empty()) => {
                    namespaces.push(("", ""))
                }
                _ => {}
            }
        }
        for (prefix, uri) in &namespaces {
            self.rendered.bind(prefix, uri);
        }
        let out = &mut *self.out;
        out.push(b'<');
        qname(out, e.prefix.as_deref(), &e.local);
        for (prefix, uri) in namespaces {
            out.extend_from_slice(b" xmlns");
            if !prefix.is_empty() {
                out.push(b':');
                out.extend_from_slice(prefix.as_bytes());
            }
            out.extend_from_slice(b"=\"");
            escape(out, uri, Escape::Attribute);
            out.push(b'"');
        }
        for a in &attributes {
            out.push(b' ');
            qname(out, a.prefix, a.local);
            out.extend_from_slice(b"=\"");
            escape(out, &a.value, Escape::Attribute);
            out.push(b'"');
        }
        out.push(b'>');
        self.open.push((e, marks.0, marks.1));
    }

    fn close(&mut self) {
        if let Some((e, scope, rendered)) = self.open.pop() {
            self.out.extend_from_slice(b"</");
            qname(self.out, e.prefix.as_deref(), &e.local);
            self.out.push(b'>');
            self.scope.pop_to(scope);
            self.rendered.pop_to(rendered);
        }
    }

    /// The attribute axis, sorted: no namespace first, then by namespace URI, then local name.
    /// On the apex, the inclusive methods add the `xml:` attributes of its omitted ancestors.
    fn attributes(&self, id: NodeId, e: &'d Element, is_apex: bool) -> Vec<Attr<'d>> {
        let mut list: Vec<Attr<'d>> = e
            .attributes
            .iter()
            .map(|a| Attr {
                prefix: a.prefix.as_deref(),
                local: &a.local,
                namespace: a.namespace.as_deref(),
                value: Cow::Borrowed(&a.value),
            })
            .collect();
        if is_apex {
            let only: Option<&[&str]> = match self.method {
                // C14N 1.0: every xml:* attribute, the nearest ancestor's.
                Method::Inclusive10 { .. } => None,
                // C14N 1.1: the simple inheritable ones; xml:id is not, xml:base is fixed up.
                Method::Inclusive11 { .. } => Some(&["lang", "space"]),
                // Exclusive C14N inherits nothing.
                Method::Exclusive { .. } => return sorted(list),
            };
            let mut at = self.doc.parents.get(id.0 as usize).copied().flatten();
            while let Some(n) = at {
                if let Some(Node::Element(anc)) = self.doc.nodes.get(n.0 as usize) {
                    for a in &anc.attributes {
                        let wanted = a.namespace.as_deref() == Some(XML_NAMESPACE)
                            && only.is_none_or(|o| o.contains(&a.local.as_str()));
                        let present = list
                            .iter()
                            .any(|b| b.namespace == Some(XML_NAMESPACE) && b.local == a.local);
                        if wanted && !present {
                            list.push(Attr {
                                prefix: a.prefix.as_deref(),
                                local: &a.local,
                                namespace: Some(XML_NAMESPACE),
                                value: Cow::Borrowed(&a.value),
                            });
                        }
                    }
                }
                at = self.doc.parents.get(n.0 as usize).copied().flatten();
            }
            if matches!(self.method, Method::Inclusive11 { .. }) {
                base::fix_up(self.doc, id, &mut list);
            }
        }
        sorted(list)
    }
}

fn sorted(mut list: Vec<Attr<'_>>) -> Vec<Attr<'_>> {
    list.sort_by(|a, b| (a.namespace, a.local).cmp(&(b.namespace, b.local)));
    list
}

fn qname(out: &mut Vec<u8>, prefix: Option<&str>, local: &str) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    Text,
    Attribute,
}

/// C14N §2.3's escaping: in text `& < >` and CR; in attribute values `& < "`, TAB, LF, CR.
fn escape(out: &mut Vec<u8>, s: &str, how: Escape) {
    for &b in s.as_bytes() {
        let replacement: &[u8] = match (b, how) {
            (b'&', _) => b"&amp;",
            (b'<', _) => b"&lt;",
            (b'\r', _) => b"&#xD;",
            (b'>', Escape::Text) => b"&gt;",
            (b'"', Escape::Attribute) => b"&quot;",
            (b'\t', Escape::Attribute) => b"&#x9;",
            (b'\n', Escape::Attribute) => b"&#xA;",
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend_from_slice(replacement);
    }
}
