//! Start tags: attributes, namespace declarations and their scope, prefixes resolved, IDs.

use std::collections::HashMap;
use std::sync::Arc;

use super::lex::{decode, is_ncname, malformed, split_qname, Run};
use super::{Open, Parser};
use crate::xml::{Attribute, Element, Namespace, Node, XmlError, WSU_NAMESPACE, XML_NAMESPACE};

/// The namespace that `xmlns` attributes themselves are in: nothing may be bound to it.
const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// The namespace bindings in force: prefix (`""` for the default namespace) → URIs, innermost
/// last, and a log of what each element bound so that its end tag can unbind it. Lookups are
/// constant-time whatever the depth.
pub(super) struct Scope {
    bindings: HashMap<String, Vec<Arc<str>>>,
    log: Vec<String>,
}

impl Scope {
    pub(super) fn new() -> Scope {
        // The xml prefix is bound by definition (Namespaces in XML §3).
        let bindings = HashMap::from([("xml".to_string(), vec![Arc::from(XML_NAMESPACE)])]);
        Scope {
            bindings,
            log: Vec::new(),
        }
    }

    fn mark(&self) -> usize {
        self.log.len()
    }

    fn bind(&mut self, prefix: &str, uri: &str) {
        self.bindings
            .entry(prefix.to_string())
            .or_default()
            .push(Arc::from(uri));
        self.log.push(prefix.to_string());
    }

    pub(super) fn pop_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some(prefix) = self.log.pop() {
                if let Some(uris) = self.bindings.get_mut(&prefix) {
                    uris.pop();
                }
            }
        }
    }

    /// The URI `prefix` is bound to; for the default namespace, None when undeclared.
    fn resolve(&self, prefix: &str) -> Option<&Arc<str>> {
        let uri = self.bindings.get(prefix)?.last()?;
        (!uri.is_empty()).then_some(uri)
    }
}

/// Whether an attribute is an ID: `Id`, `ID`, `id` in no namespace, `wsu:Id`, `xml:id`.
fn is_id(a: &Attribute) -> bool {
    match a.namespace.as_deref() {
        None => matches!(a.local.as_str(), "Id" | "ID" | "id"),
        Some(WSU_NAMESPACE) => a.local == "Id",
        Some(XML_NAMESPACE) => a.local == "id",
        Some(_) => false,
    }
}

impl<'a> Parser<'a> {
    /// A start tag or empty-element tag at the cursor.
    pub(super) fn start_tag(&mut self) -> Result<(), XmlError> {
        let text: &'a str = self.text;
        let start = self.pos;
        if self.open.is_empty() && self.root.is_some() {
            return Err(self.err("content after the root element"));
        }
        // Depth before anything of the element is read: a deep document is refused at the
        // first element too deep, in time proportional to what was read.
        if self.open.len() >= self.limits.max_depth {
            return Err(XmlError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        self.pos += 1;
        let name = self.name()?;
        let mut written: Vec<(&'a str, String, usize)> = Vec::new();
        let mut declarations: Vec<Namespace> = Vec::new();
        let empty = loop {
            let spaced = self.skip_space();
            match self.rest().first() {
                Some(b'>') => {
                    self.pos += 1;
                    break false;
                }
                Some(b'/') => {
                    self.expect("/>")?;
                    break true;
                }
                None => return Err(self.err("unterminated start tag")),
                Some(_) if !spaced => return Err(self.err("expected whitespace or '>'")),
                Some(_) => {}
            }
            let at = self.pos;
            let qname = text.get(self.name()?).unwrap_or_default();
            self.skip_space();
            self.expect("=")?;
            self.skip_space();
            let raw = self.quoted()?;
            if written.len() + declarations.len() >= self.limits.max_attributes {
                return Err(XmlError::TooManyAttributes {
                    limit: self.limits.max_attributes,
                });
            }
            // A tag has a handful of attributes: a scan costs less than hashing them.
            let seen = written.iter().any(|(q, _, _)| *q == qname)
                || declarations
                    .iter()
                    .any(|d| match (&d.prefix, qname.strip_prefix("xmlns:")) {
                        (Some(p), Some(q)) => p == q,
                        (None, None) => qname == "xmlns",
                        _ => false,
                    });
            if seen {
                return Err(malformed(text, at, format!("attribute {qname} twice")));
            }
            let mut value = String::new();
            let raw_text = text.get(raw.clone()).unwrap_or_default();
            decode(text, raw.start, raw_text, Run::Attribute, &mut value)?;
            if qname == "xmlns" {
                check_declaration(None, &value).map_err(|what| malformed(text, at, what))?;
                declarations.push(Namespace {
                    prefix: None,
                    uri: value,
                });
            } else if let Some(prefix) = qname.strip_prefix("xmlns:") {
                check_declaration(Some(prefix), &value)
                    .map_err(|what| malformed(text, at, what))?;
                declarations.push(Namespace {
                    prefix: Some(prefix.to_string()),
                    uri: value,
                });
            } else {
                written.push((qname, value, at));
            }
        };
        let qname = text.get(name.clone()).unwrap_or_default();
        let Some((prefix, local)) = split_qname(qname) else {
            return Err(malformed(
                text,
                start,
                format!("{qname} is not a qualified name"),
            ));
        };
        if prefix == Some("xmlns") {
            return Err(malformed(text, start, "an element with the xmlns prefix"));
        }
        let mark = self.scope.mark();
        for d in &declarations {
            self.scope
                .bind(d.prefix.as_deref().unwrap_or_default(), &d.uri);
        }
        let namespace = self.resolve(prefix)?.cloned();
        let mut attributes = Vec::with_capacity(written.len());
        for (qname, value, at) in written {
            let Some((prefix, local)) = split_qname(qname) else {
                return Err(malformed(
                    text,
                    at,
                    format!("{qname} is not a qualified name"),
                ));
            };
            // Unprefixed attributes are in no namespace: the default one does not apply.
            let namespace = match prefix {
                Some(_) => self.resolve(prefix)?.cloned(),
                None => None,
            };
            attributes.push(Attribute {
                prefix: prefix.map(str::to_string),
                local: local.to_string(),
                namespace,
                value,
            });
        }
        // Two prefixes bound to one URI can make two attributes one expanded name.
        let mut expanded: Vec<(&str, &str)> = attributes
            .iter()
            .filter_map(|a| Some((a.namespace.as_deref()?, a.local.as_str())))
            .collect();
        expanded.sort_unstable();
        let twice = expanded.windows(2).find_map(|w| match w {
            [a, b] if a == b => Some(*a),
            _ => None,
        });
        if let Some((uri, local)) = twice {
            let what = format!("two attributes are {{{uri}}}{local}");
            return Err(malformed(text, start, what));
        }
        let ids: Vec<String> = attributes
            .iter()
            .filter(|a| is_id(a))
            .map(|a| a.value.clone())
            .collect();
        let element = Element {
            prefix: prefix.map(str::to_string),
            local: local.to_string(),
            namespace,
            attributes,
            declarations,
            children: Vec::new(),
            start_tag: self.base + start..self.base + self.pos,
            end_tag: None,
        };
        let id = self.push(Node::Element(element))?;
        for value in ids {
            if self.ids.contains_key(&value) {
                return Err(XmlError::DuplicateId(value));
            }
            self.ids.insert(value, id);
        }
        if self.open.is_empty() {
            self.root = Some(id);
        }
        if empty {
            self.scope.pop_to(mark);
        } else {
            self.open.push(Open {
                id,
                name,
                scope_mark: mark,
            });
        }
        Ok(())
    }

    /// The namespace of a prefix (None: the default namespace, or none if undeclared).
    fn resolve(&self, prefix: Option<&str>) -> Result<Option<&Arc<str>>, XmlError> {
        match prefix {
            Some(p) => self
                .scope
                .resolve(p)
                .map(Some)
                .ok_or_else(|| XmlError::UndeclaredPrefix(p.to_string())),
            None => Ok(self.scope.resolve("")),
        }
    }
}

/// Namespaces in XML 1.0 §3: what a declaration may not bind.
fn check_declaration(prefix: Option<&str>, uri: &str) -> Result<(), String> {
    match prefix {
        Some(p) if !is_ncname(p) => Err(format!("xmlns:{p} declares a malformed prefix")),
        Some("xmlns") => Err("the xmlns prefix cannot be declared".into()),
        Some("xml") if uri != XML_NAMESPACE => Err("xml prefix bound to another URI".into()),
        Some("xml") => Ok(()),
        _ if uri == XML_NAMESPACE => Err("the XML namespace bound to another prefix".into()),
        _ if uri == XMLNS_NAMESPACE => Err("the xmlns namespace cannot be declared".into()),
        Some(p) if uri.is_empty() => {
            Err(format!("xmlns:{p}=\"\" (undeclaring a prefix is XML 1.1)"))
        }
        _ => Ok(()),
    }
}
