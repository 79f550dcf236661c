//! The parser: what it keeps, what it refuses and why, its limits, and that no input makes it
//! panic.

use std::time::{Duration, Instant};

use super::c14n::{canonicalize, Method};
use super::*;

fn parse(s: &str) -> Result<Document, XmlError> {
    Document::parse(s.as_bytes(), &Limits::default())
}

fn ok(s: &str) -> Document {
    parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn malformed(s: &str) -> String {
    match parse(s) {
        Err(XmlError::Malformed { what, .. }) => what,
        other => panic!("{s:?} should be malformed: {other:?}"),
    }
}

fn text_of(doc: &Document, id: NodeId) -> &str {
    match doc.node(id) {
        Node::Text(t) => t,
        other => panic!("not text: {other:?}"),
    }
}

fn root(doc: &Document) -> &Element {
    doc.element(doc.root()).expect("root element")
}

#[test]
fn a_document_in_order_with_parents_children_and_top_level_nodes() {
    let doc = ok("<?xml version=\"1.0\"?>\n<!--c--> <?pi x?>\n<a><b>t</b><c/>u</a>\n<!--d-->\n");
    // Whitespace between top-level nodes is not kept.
    assert_eq!(doc.top_level().len(), 4);
    assert!(matches!(doc.node(doc.top_level()[0]), Node::Comment(c) if c == "c"));
    assert!(matches!(doc.node(doc.top_level()[1]),
        Node::ProcessingInstruction { target, data } if target == "pi" && data == "x"));
    assert_eq!(doc.top_level()[2], doc.root());
    assert_eq!(doc.root(), NodeId(2));
    let a = root(&doc);
    assert_eq!(a.children, vec![NodeId(3), NodeId(5), NodeId(6)]);
    assert_eq!(doc.parent(NodeId(4)), Some(NodeId(3)));
    assert_eq!(text_of(&doc, NodeId(4)), "t");
    assert_eq!(text_of(&doc, NodeId(6)), "u");
    assert_eq!(doc.parent(doc.root()), None);
    assert_eq!(doc.subtree(NodeId(3)), 3..5);
    assert_eq!(doc.subtree(doc.root()), 2..7);
    assert_eq!(doc.text(doc.root()), "tu");
    assert_eq!(doc.path(NodeId(5)), "/a/c");
}

#[test]
fn spans_are_offsets_into_the_input_bom_included() {
    let input = "\u{FEFF}<a x='1'>\r\n<b/><c >z</c ></a>";
    let doc = Document::parse(input.as_bytes(), &Limits::default()).expect("parses");
    let bytes = input.as_bytes();
    let span = |r: &std::ops::Range<usize>| std::str::from_utf8(&bytes[r.clone()]).unwrap();
    let a = root(&doc);
    assert_eq!(span(&a.start_tag), "<a x='1'>");
    assert_eq!(a.start_tag.start, 3);
    assert_eq!(span(a.end_tag.as_ref().unwrap()), "</a>");
    let b = doc.element(NodeId(2)).unwrap();
    assert_eq!(span(&b.start_tag), "<b/>");
    assert_eq!(b.end_tag, None);
    let c = doc.element(NodeId(3)).unwrap();
    assert_eq!(span(&c.start_tag), "<c >");
    assert_eq!(span(c.end_tag.as_ref().unwrap()), "</c >");
}

#[test]
fn a_doctype_is_refused_whatever_it_holds() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"#;
    let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<foo>&xxe;</foo>"#;
    let parameter = r#"<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><r/>"#;
    let external = r#"<!DOCTYPE r SYSTEM "http://evil.example/r.dtd"><r/>"#;
    let after_comment = "<!-- hi --><!DOCTYPE r><r/>";
    let inside = "<r><!DOCTYPE r></r>";
    for s in [
        billion_laughs,
        xxe,
        parameter,
        external,
        after_comment,
        inside,
    ] {
        assert_eq!(parse(s).unwrap_err(), XmlError::Doctype, "{s}");
    }
}

#[test]
fn size_is_checked_before_anything_else() {
    let limits = Limits {
        max_bytes: 4,
        ..Limits::default()
    };
    let e = Document::parse(b"\xff\xfe<!DOCTYPE", &limits).unwrap_err();
    assert_eq!(e, XmlError::TooLarge { size: 11, limit: 4 });
    assert!(Document::parse(b"<a/>", &limits).is_ok());
}

#[test]
fn not_utf8_and_other_encodings() {
    assert_eq!(
        Document::parse(b"<a>\xff</a>", &Limits::default()).unwrap_err(),
        XmlError::NotUtf8 { offset: 3 }
    );
    assert_eq!(
        Document::parse(b"\xEF\xBB\xBF<a>\xC3</a>", &Limits::default()).unwrap_err(),
        XmlError::NotUtf8 { offset: 6 }
    );
    let latin = "<?xml version='1.0' encoding='ISO-8859-1'?><a/>";
    assert_eq!(
        parse(latin).unwrap_err(),
        XmlError::Encoding("ISO-8859-1".into())
    );
    for enc in ["UTF-8", "utf-8", "Utf-8"] {
        ok(&format!(
            "<?xml version=\"1.0\" encoding=\"{enc}\" standalone=\"no\"?><a/>"
        ));
    }
    malformed("<?xml version=\"2.0\"?><a/>");
    malformed("<?xml encoding=\"UTF-8\"?><a/>");
    malformed("<?xml version=\"1.0\" standalone=\"maybe\"?><a/>");
    // Only at the very start: anywhere else it is a PI named xml, which is reserved.
    malformed(" <?xml version=\"1.0\"?><a/>");
    malformed("<a><?XML x?></a>");
    malformed("<a><?xMl?></a>");
}

#[test]
fn only_the_predefined_entities_and_character_references() {
    let doc = ok("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&#xd7ff;</a>");
    assert_eq!(doc.text(doc.root()), "<>&\"'AB\u{1F600}\u{D7FF}");
    assert!(malformed("<a>&nbsp;</a>").contains("undeclared entity"));
    assert!(malformed("<a x='&foo;'/>").contains("undeclared entity"));
    for bad in [
        "&#0;",
        "&#x0;",
        "&#1;",
        "&#xD800;",
        "&#xFFFE;",
        "&#x110000;",
        "&#99999999999;",
        "&#x;",
        "&#X41;",
        "&#-1;",
        "& ;",
        "&;",
        "&amp",
    ] {
        malformed(&format!("<a>{bad}</a>"));
    }
    // A literal character outside XML's Char set.
    malformed("<a>\u{1}</a>");
    malformed("<a>\u{FFFF}</a>");
}

#[test]
fn line_ends_are_normalised_before_references_are_resolved() {
    let doc = ok("<a>1\r\n2\r3\n4&#13;5&#13;&#10;6\r\r\n</a>");
    assert_eq!(doc.text(doc.root()), "1\n2\n3\n4\r5\r\n6\n\n");
    let doc = ok("<a><![CDATA[x\r\ny\r]]><!--c\r\nd--><?p q\rr?></a>");
    assert_eq!(doc.text(doc.root()), "x\ny\n");
    let kids = &root(&doc).children;
    assert!(matches!(doc.node(kids[1]), Node::Comment(c) if c == "c\nd"));
    assert!(
        matches!(doc.node(kids[2]), Node::ProcessingInstruction { data, .. } if data == "q\nr")
    );
}

#[test]
fn attribute_values_are_normalised_as_cdata() {
    let doc = ok("<a x=\"1\t2\n3\r\n4\r5\" y=\"1&#9;2&#10;3&#13;4&#13;&#10;5\" z=' a  b '/>");
    assert_eq!(doc.attribute(doc.root(), "x"), Some("1 2 3 4 5"));
    assert_eq!(doc.attribute(doc.root(), "y"), Some("1\t2\n3\r4\r\n5"));
    assert_eq!(doc.attribute(doc.root(), "z"), Some(" a  b "));
    assert!(malformed("<a x='<'/>").contains("'<'"));
    malformed("<a x='1' x='2'/>");
    malformed("<a x='1'y='2'/>");
    malformed("<a x=1/>");
    malformed("<a x='1/>");
}

#[test]
fn cdata_and_adjacent_text_are_one_node() {
    let doc = ok("<a>x<![CDATA[<y>&]]>z<![CDATA[]]></a>");
    assert_eq!(root(&doc).children.len(), 1);
    assert_eq!(doc.text(doc.root()), "x<y>&z");
    malformed("<![CDATA[x]]><a/>");
    malformed("<a><![CDATA[x</a>");
}

#[test]
fn structure_errors_name_line_and_column() {
    assert_eq!(
        parse("<a>\n  <b></c></a>").unwrap_err(),
        XmlError::Malformed {
            line: 2,
            column: 6,
            what: "end tag </c> does not match <b>".into()
        }
    );
    // Columns count characters, not bytes; CR LF is one line end.
    match parse("<a>\r\nжж</b>") {
        Err(XmlError::Malformed { line, column, .. }) => assert_eq!((line, column), (2, 3)),
        other => panic!("{other:?}"),
    }
    assert!(malformed("<a/><b/>").contains("after the root"));
    assert!(malformed("<a/>text").contains("after the root"));
    assert!(malformed("text<a/>").contains("outside the root"));
    assert!(malformed("").contains("no root"));
    assert!(malformed("<!--only a comment-->").contains("no root"));
    assert!(malformed("<a>x]]>y</a>").contains("]]>"));
    assert!(malformed("<a><!-- a -- b --></a>").contains("--"));
    malformed("<a><!-- a ---></a>");
    malformed("<a>");
    malformed("</a>");
    malformed("<a></a></a>");
    malformed("<a><b></a></b>");
    malformed("<1a/>");
    malformed("<a:/>");
    malformed("<a:b:c xmlns:a='urn:a'/>");
    malformed("<a><? x?></a>");
    malformed("<a><!ELEMENT a ANY></a>");
}

#[test]
fn namespaces_declared_resolved_and_checked() {
    let doc = ok(
        "<p:a xmlns:p='urn:p' xmlns='urn:d' x='1' p:y='2' xml:lang='kk'><b xmlns=''/><c/></p:a>",
    );
    let a = root(&doc);
    assert_eq!(a.namespace.as_deref(), Some("urn:p"));
    assert_eq!(a.prefix.as_deref(), Some("p"));
    assert_eq!(
        a.declarations,
        vec![
            Namespace {
                prefix: Some("p".into()),
                uri: "urn:p".into()
            },
            Namespace {
                prefix: None,
                uri: "urn:d".into()
            },
        ]
    );
    assert_eq!(a.attributes.len(), 3);
    assert_eq!(a.attributes[0].namespace, None); // the default namespace is not applied
    assert_eq!(a.attributes[1].namespace.as_deref(), Some("urn:p"));
    assert_eq!(a.attributes[2].namespace.as_deref(), Some(XML_NAMESPACE));
    assert_eq!(doc.element(NodeId(1)).unwrap().namespace, None);
    assert_eq!(
        doc.element(NodeId(2)).unwrap().namespace.as_deref(),
        Some("urn:d")
    );
    assert!(doc.is(NodeId(2), "urn:d", "c"));
    assert_eq!(doc.in_scope(NodeId(1)).len(), 1);

    assert_eq!(
        parse("<p:a/>").unwrap_err(),
        XmlError::UndeclaredPrefix("p".into())
    );
    assert_eq!(
        parse("<a q:x='1'/>").unwrap_err(),
        XmlError::UndeclaredPrefix("q".into())
    );
    // Out of scope after the element that declared it.
    assert_eq!(
        parse("<a><b xmlns:p='urn:p'/><p:c/></a>").unwrap_err(),
        XmlError::UndeclaredPrefix("p".into())
    );
    ok("<a xmlns:xml='http://www.w3.org/XML/1998/namespace'/>");
    malformed("<a xmlns:xml='urn:other'/>");
    malformed("<a xmlns:x='http://www.w3.org/XML/1998/namespace'/>");
    malformed("<a xmlns='http://www.w3.org/XML/1998/namespace'/>");
    malformed("<a xmlns:xmlns='urn:x'/>");
    malformed("<a xmlns:p='http://www.w3.org/2000/xmlns/'/>");
    malformed("<xmlns:a/>");
    assert!(malformed("<a xmlns:p=''/>").contains("XML 1.1"));
    // Two prefixes, one URI: the same expanded attribute name twice.
    assert!(malformed("<a xmlns:p='urn:x' xmlns:q='urn:x' p:n='1' q:n='2'/>").contains("{urn:x}n"));
    malformed("<a xmlns:p='urn:x' xmlns:p='urn:y'/>");
    malformed("<a xmlns='urn:x' xmlns='urn:y'/>");
}

#[test]
fn id_attributes_are_unique() {
    let wsu = format!("xmlns:wsu='{WSU_NAMESPACE}'");
    let doc = ok(&format!(
        "<r {wsu} xmlns:o='urn:o'><a Id='1'/><b ID='2'/><c id='3'/><d wsu:Id='4'/><e xml:id='5'/><f o:Id='6'/></r>"
    ));
    for (value, n) in [("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 5)] {
        assert_eq!(doc.by_id(value), Some(NodeId(n)), "{value}");
    }
    assert_eq!(doc.by_id("6"), None); // Id in another namespace is no ID
    assert_eq!(doc.ids().len(), 5);
    assert_eq!(
        parse("<r><a Id='x'/><b ID='x'/></r>").unwrap_err(),
        XmlError::DuplicateId("x".into())
    );
    assert_eq!(
        parse("<r Id='x' xml:id='x'/>").unwrap_err(),
        XmlError::DuplicateId("x".into())
    );
}

#[test]
fn limits_on_attributes_and_nodes() {
    let limits = Limits {
        max_attributes: 2,
        ..Limits::default()
    };
    assert!(Document::parse(b"<a x='1' xmlns='urn:a'/>", &limits).is_ok());
    assert_eq!(
        Document::parse(b"<a x='1' xmlns='urn:a' y='2'/>", &limits).unwrap_err(),
        XmlError::TooManyAttributes { limit: 2 }
    );
    let limits = Limits {
        max_nodes: 3,
        ..Limits::default()
    };
    assert!(Document::parse(b"<a><b/>t</a>", &limits).is_ok());
    assert_eq!(
        Document::parse(b"<a><b/>t<!---->", &limits).unwrap_err(),
        XmlError::TooManyNodes { limit: 3 }
    );
}

#[test]
fn a_hundred_thousand_levels_are_refused_fast_or_handled_without_recursion() {
    let n = 100_000;
    let deep = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let started = Instant::now();
    assert_eq!(parse(&deep).unwrap_err(), XmlError::TooDeep { limit: 256 });
    assert!(started.elapsed() < Duration::from_secs(2));
    // Allowed that deep, parsing and canonicalisation still use no call stack per level.
    let limits = Limits {
        max_depth: n,
        ..Limits::default()
    };
    let doc = Document::parse(deep.as_bytes(), &limits).expect("parses");
    let mut out = Vec::new();
    canonicalize(
        &doc,
        None,
        &[],
        &Method::Inclusive10 { comments: false },
        &mut out,
    );
    assert_eq!(out, deep.as_bytes());
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(Document::parse(b"<a><b><c/></b></a>", &limits).is_ok());
    assert!(Document::parse(b"<a><b><c><d/></c></b></a>", &limits).is_err());
}

/// Every method on the whole document and on each element with an ID.
fn canonicalize_all(doc: &Document) {
    let methods = [
        Method::Inclusive10 { comments: true },
        Method::Inclusive11 { comments: false },
        Method::Exclusive {
            comments: true,
            inclusive_prefixes: vec!["#default".into(), "ds".into()],
        },
    ];
    for m in &methods {
        let mut whole = Vec::new();
        canonicalize(doc, None, &[], m, &mut whole);
        // The canonical form of a whole document is a document with the same canonical form.
        let again = Document::parse(&whole, &Limits::default()).expect("reads back");
        let mut twice = Vec::new();
        canonicalize(&again, None, &[], m, &mut twice);
        assert_eq!(whole, twice);
        for (_, id) in doc.ids() {
            let mut out = Vec::new();
            canonicalize(doc, Some(id), &[], m, &mut out);
            canonicalize(doc, None, &[id], m, &mut out);
        }
    }
}

#[test]
fn no_prefix_or_mutation_of_a_document_makes_it_panic() {
    let samples: [&[u8]; 4] = [
        include_bytes!("../../fixtures/xml/c14n/05-line-ends.xml"),
        include_bytes!("../../fixtures/xml/c14n/15-unicode.xml"),
        include_bytes!("../../fixtures/xml/c14n/17-xml-base.xml"),
        b"\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?><!--c--><p:a xmlns:p='urn:p' \
          xmlns:wsu='http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd' \
          wsu:Id='i' x='&amp;&#x9;'><![CDATA[d]]>&#13;<b xml:base='q/'/><?pi d?></p:a>",
    ];
    for sample in samples {
        for end in 0..=sample.len() {
            if let Ok(doc) = Document::parse(&sample[..end], &Limits::default()) {
                canonicalize_all(&doc);
            }
        }
        for at in 0..sample.len() {
            for b in [
                b'<', b'>', b'&', b'"', b'\'', b'/', b':', b';', b'=', b'!', b'?', 0xFF, 0,
            ] {
                let mut mutated = sample.to_vec();
                mutated[at] = b;
                if let Ok(doc) = Document::parse(&mutated, &Limits::default()) {
                    canonicalize_all(&doc);
                }
            }
        }
    }
}
