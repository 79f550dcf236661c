//! Arbitrary bytes as an XML document: `xml::Document::parse` with the default limits, and for
//! what it accepts, `xml::c14n::canonicalize` in every method, of the whole document and of the
//! subtree of each element with an ID, with and without that subtree excluded. The canonical
//! form of a whole document must read back as a document whose canonical form is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qoltanba::xml::c14n::{canonicalize, Method};
use qoltanba::xml::{Document, Limits};

fn methods() -> Vec<Method> {
    let mut all = Vec::new();
    for comments in [false, true] {
        all.push(Method::Inclusive10 { comments });
        all.push(Method::Inclusive11 { comments });
        all.push(Method::Exclusive {
            comments,
            inclusive_prefixes: Vec::new(),
        });
        all.push(Method::Exclusive {
            comments,
            inclusive_prefixes: vec!["#default".into(), "ds".into(), "soap".into()],
        });
    }
    all
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(doc) = Document::parse(data, &limits) else {
        return;
    };
    let ids = doc.ids();
    for method in methods() {
        let mut whole = Vec::new();
        canonicalize(&doc, None, &[], &method, &mut whole);
        let again = Document::parse(&whole, &limits).expect("a canonical form reads back");
        let mut twice = Vec::new();
        canonicalize(&again, None, &[], &method, &mut twice);
        assert_eq!(whole, twice, "canonicalisation is not a fixed point");
        for (_, id) in &ids {
            let mut out = Vec::new();
            canonicalize(&doc, Some(*id), &[], &method, &mut out);
            canonicalize(&doc, None, &[*id], &method, &mut out);
        }
    }
});
