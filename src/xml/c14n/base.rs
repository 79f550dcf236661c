//! C14N 1.1 §2.4's xml:base fix-up on the apex of a subtree: its xml:base (or, when it has
//! none, the nearest ancestor's) resolved against the xml:base of each omitted ancestor above,
//! innermost first, as libxml2 does it: RFC 3986 §5.2 resolution, except that a relative path
//! keeps the `..` segments it cannot remove (`../../q` against `a/` is `../q`), and a base
//! ending in `.` or `..` is read as a directory.

use std::borrow::Cow;

use super::walk::Attr;
use crate::xml::{Document, Node, NodeId, XML_NAMESPACE};

fn parent(doc: &Document, id: NodeId) -> Option<NodeId> {
    doc.parents.get(id.0 as usize).copied().flatten()
}

fn xml_base(doc: &Document, id: NodeId) -> Option<&str> {
    match doc.nodes.get(id.0 as usize)? {
        Node::Element(e) => e
            .attributes
            .iter()
            .find(|a| a.namespace.as_deref() == Some(XML_NAMESPACE) && a.local == "base")
            .map(|a| a.value.as_str()),
        _ => None,
    }
}

/// Replaces the apex's xml:base in `list` with the fixed-up value (none when it is empty).
pub(super) fn fix_up(doc: &Document, apex: NodeId, list: &mut Vec<Attr<'_>>) {
    let own = list
        .iter()
        .position(|a| a.namespace == Some(XML_NAMESPACE) && a.local == "base");
    let mut at = parent(doc, apex);
    let mut value = own.and_then(|i| list.get(i)).map(|a| a.value.to_string());
    while value.is_none() {
        let Some(n) = at else { return };
        at = parent(doc, n);
        value = xml_base(doc, n).map(str::to_string);
    }
    let Some(mut value) = value else { return };
    while let Some(n) = at {
        if let Some(base) = xml_base(doc, n) {
            value = join(&value, base);
        }
        at = parent(doc, n);
    }
    if let Some(i) = own {
        list.remove(i);
    }
    if !value.is_empty() {
        list.push(Attr {
            prefix: Some("xml"),
            local: "base",
            namespace: Some(XML_NAMESPACE),
            value: Cow::Owned(value),
        });
    }
}

/// A URI reference in its five parts (RFC 3986 Appendix B).
struct Uri<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split(s: &str) -> Uri<'_> {
    let (s, fragment) = match s.split_once('#') {
        Some((s, f)) => (s, Some(f)),
        None => (s, None),
    };
    let (s, query) = match s.split_once('?') {
        Some((s, q)) => (s, Some(q)),
        None => (s, None),
    };
    let (scheme, s) = match s.split_once(':') {
        Some((scheme, rest)) if is_scheme(scheme) => (Some(scheme), rest),
        _ => (None, s),
    };
    let (authority, path) = match s.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find('/').unwrap_or(rest.len());
            (rest.get(..end), rest.get(end..).unwrap_or_default())
        }
        None => (None, s),
    };
    Uri {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `reference` resolved against `base` (RFC 3986 §5.2.2).
pub(super) fn join(reference: &str, base: &str) -> String {
    let dir;
    let base = if base == "." || base == ".." || base.ends_with("/.") || base.ends_with("/..") {
        dir = format!("{base}/");
        dir.as_str()
    } else {
        base
    };
    let r = split(reference);
    let b = split(base);
    let (scheme, authority, path, query);
    if r.scheme.is_some() {
        (scheme, authority, path, query) = (r.scheme, r.authority, dots(r.path), r.query);
    } else if r.authority.is_some() {
        (scheme, authority, path, query) = (b.scheme, r.authority, dots(r.path), r.query);
    } else if r.path.is_empty() {
        let query_ = r.query.or(b.query);
        (scheme, authority, path, query) = (b.scheme, b.authority, b.path.to_string(), query_);
    } else if r.path.starts_with('/') {
        (scheme, authority, path, query) = (b.scheme, b.authority, dots(r.path), r.query);
    } else {
        let merged = if b.authority.is_some() && b.path.is_empty() {
            format!("/{}", r.path)
        } else {
            let dir = b
                .path
                .rfind('/')
                .map_or("", |i| b.path.get(..=i).unwrap_or_default());
            format!("{dir}{}", r.path)
        };
        (scheme, authority, path, query) = (b.scheme, b.authority, dots(&merged), r.query);
    }
    let mut out = String::new();
    if let Some(s) = scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = r.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// remove_dot_segments (RFC 3986 §5.2.4); a relative path keeps the `..` it cannot remove.
fn dots(path: &str) -> String {
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').skip(usize::from(absolute)).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
            }
            s => {
                out.push(s);
                continue;
            }
        }
        // A path ending in `.` or `..` names a directory.
        if last {
            out.push("");
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}
