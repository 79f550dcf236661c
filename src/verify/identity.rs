//! Step 7, identity (условие 3): the IIN/BIN in the certificate equals the IIN/BIN of the
//! request, given by the caller or read from the signed content.

use super::evidence::SignedNumbers;
use super::report::{Check, ExpectedIdentity, Step, SubIndication, SubjectReport};
use crate::identity::{Bin, Iin};
use crate::x509::{Cert, SubjectNumbers, SubjectSummary};
use crate::xml::{Document, Limits, NodeId};

mod json;

/// Where the applicant's numbers are in signed content: RFC 6901 pointers into JSON, and
/// element local names (any namespace) in XML, the first in document order winning.
#[derive(Debug, Clone)]
pub struct Pointers {
    pub iin: Vec<String>,
    pub bin: Vec<String>,
    pub iin_elements: Vec<String>,
    pub bin_elements: Vec<String>,
}

impl Default for Pointers {
    fn default() -> Self {
        Pointers {
            iin: vec!["/applicant/iin".into()],
            bin: vec!["/applicant/bin".into()],
            iin_elements: vec!["iin".into()],
            bin_elements: vec!["bin".into()],
        }
    }
}

/// The expected numbers and any problem reading them.
pub(super) struct Expected {
    pub report: ExpectedIdentity,
    pub problems: Vec<String>,
}

/// The numbers in a signed content that is JSON or XML (CMS content; read whole).
pub(super) fn numbers_in(content: &[u8], pointers: &Pointers) -> SignedNumbers {
    let lists = [pointers.iin.as_slice(), pointers.bin.as_slice()];
    let found = match pointers.iin.len() + pointers.bin.len() <= json::MAX_POINTERS {
        true => json::find(content, lists),
        false => serde_json::from_slice::<serde_json::Value>(content)
            .ok()
            .map(|json| {
                let all = lists.iter().flat_map(|list| list.iter());
                all.map(|p| json.pointer(p).cloned()).collect()
            }),
    };
    if let Some(mut found) = found {
        let (iin, bin) = found.split_at_mut(pointers.iin.len());
        let first = |found: &mut [Option<serde_json::Value>]| {
            found.iter_mut().find_map(|value| match value.take() {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        return SignedNumbers {
            iin: first(iin),
            bin: first(bin),
        };
    }
    if crate::xml::looks_like_xml(content) {
        if let Ok(doc) = Document::parse(content, &Limits::default()) {
            return numbers_in_xml(&doc, doc.root(), &[], pointers);
        }
    }
    SignedNumbers::default()
}

/// The numbers under `scope` in an XML document, outside the `excluded` subtrees (signatures,
/// which are not their own content). An element's text is read whole: text split by a comment
/// or written with references counts as the one value it is.
pub(super) fn numbers_in_xml(
    doc: &Document,
    scope: NodeId,
    excluded: &[NodeId],
    pointers: &Pointers,
) -> SignedNumbers {
    let find = |names: &[String]| {
        doc.descendants(scope).find_map(|id| {
            let element = doc.element(id)?;
            if !names.contains(&element.local) || excluded.iter().any(|x| doc.is_within(id, *x)) {
                return None;
            }
            Some(doc.text(id).trim().to_owned())
        })
    };
    SignedNumbers {
        iin: find(&pointers.iin_elements),
        bin: find(&pointers.bin_elements),
    }
}

/// The caller's numbers win; else those in the signed content.
pub(super) fn expected(
    caller_iin: Option<&Iin>,
    caller_bin: Option<&Bin>,
    content: Option<&SignedNumbers>,
) -> Expected {
    let mut problems = Vec::new();
    let (source, iin, bin) = if caller_iin.is_some() || caller_bin.is_some() {
        (
            "caller",
            caller_iin.map(|i| i.to_string()),
            caller_bin.map(|b| b.to_string()),
        )
    } else {
        match content {
            Some(n) if n.iin.is_some() || n.bin.is_some() => {
                ("content", n.iin.clone(), n.bin.clone())
            }
            _ => ("none", None, None),
        }
    };
    let iin_valid = iin.as_deref().map(|s| match Iin::parse(s) {
        Ok(i) => i.check_digit_valid(),
        Err(e) => {
            problems.push(format!("expected {e}"));
            false
        }
    });
    let bin_valid = bin.as_deref().map(|s| match Bin::parse(s) {
        Ok(b) => b.check_digit_valid(),
        Err(e) => {
            problems.push(format!("expected {e}"));
            false
        }
    });
    Expected {
        report: ExpectedIdentity {
            source: source.into(),
            iin,
            iin_check_digit_valid: iin_valid,
            bin,
            bin_check_digit_valid: bin_valid,
        },
        problems,
    }
}

pub(super) fn subject(cert: &Cert) -> SubjectReport {
    // Cut like the certificate's rendered names: one report may name a signer 64 times.
    let SubjectSummary {
        cn,
        surname,
        given_name,
        organisation,
        numbers: SubjectNumbers { iin, bin },
    } = cert.subject_summary();
    SubjectReport {
        cn: cn.clone(),
        surname: surname.clone(),
        given_name: given_name.clone(),
        iin_check_digit_valid: iin.as_ref().map(Iin::check_digit_valid),
        iin: iin.as_ref().map(|i| i.to_string()),
        bin_check_digit_valid: bin.as_ref().map(Bin::check_digit_valid),
        bin: bin.as_ref().map(|b| b.to_string()),
        organisation: organisation.clone(),
    }
}

/// `found`: the signer certificate's [`subject`], which the signer's report also shows.
pub(super) fn check(found: &SubjectReport, expected: &Expected) -> Check {
    let id = Step::Identity;
    let fail = |code: &'static str, detail: String| {
        Check::failed(id, SubIndication::SigConstraintsFailure, code, detail)
    };
    if !expected.problems.is_empty() {
        return fail("EXPECTED_MALFORMED", expected.problems.join("; "));
    }
    let e = &expected.report;
    if e.iin.is_none() && e.bin.is_none() {
        return Check::skipped(
            id,
            "no IIN/BIN given by the caller or found in the signed content",
        );
    }
    // "IIN … and BIN … match the certificate (…)", written in one string.
    let mut detail = String::with_capacity(128);
    if let Some(want) = &e.iin {
        match &found.iin {
            Some(have) if have == want => {
                detail.push_str("IIN ");
                detail.push_str(want);
            }
            Some(have) => {
                return fail(
                    "IIN_MISMATCH",
                    format!(
                        "the request's IIN {want} ({}) is not the certificate's IIN {have}",
                        e.source
                    ),
                )
            }
            None => {
                return fail(
                    "IIN_MISMATCH",
                    format!(
                        "the request's IIN {want} ({}) but the certificate carries no IIN",
                        e.source
                    ),
                )
            }
        }
    }
    if let Some(want) = &e.bin {
        match &found.bin {
            Some(have) if have == want => {
                if !detail.is_empty() {
                    detail.push_str(" and ");
                }
                detail.push_str("BIN ");
                detail.push_str(want);
            }
            Some(have) => {
                return fail(
                    "BIN_MISMATCH",
                    format!(
                        "the request's BIN {want} ({}) is not the certificate's BIN {have}",
                        e.source
                    ),
                )
            }
            None => {
                return fail(
                    "BIN_MISMATCH",
                    format!(
                        "the request names BIN {want} ({}) but the certificate carries no BIN",
                        e.source
                    ),
                )
            }
        }
    }
    detail.push_str(" match the certificate (expected values from the ");
    detail.push_str(&e.source);
    detail.push(')');
    let flagged = match (e.iin_check_digit_valid, e.bin_check_digit_valid) {
        (Some(false), Some(false)) => Some("IIN/BIN"),
        (Some(false), _) => Some("IIN"),
        (_, Some(false)) => Some("BIN"),
        _ => None,
    };
    if let Some(flagged) = flagged {
        detail.push_str(" (note: the ");
        detail.push_str(flagged);
        detail.push_str(" check digit is wrong, compared as given)");
    }
    Check::passed(id, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_numbers_come_from_json_or_xml_content() {
        let p = Pointers::default();
        let from = |content: &[u8]| expected(None, None, Some(&numbers_in(content, &p)));
        let e = from(br#"{"applicant":{"iin":"900517312343","bin":"940140000385"}}"#);
        assert_eq!(e.report.source, "content");
        assert_eq!(e.report.iin.as_deref(), Some("900517312343"));
        assert_eq!(e.report.bin_check_digit_valid, Some(true));
        let xml = b"<?xml version=\"1.0\"?><r:request xmlns:r=\"x\"><r:iin>123456789011</r:iin></r:request>";
        let e = from(xml);
        assert_eq!(e.report.iin.as_deref(), Some("123456789011"));
        assert_eq!(e.report.iin_check_digit_valid, Some(false));
        // Split by a comment, or written with a character reference: read whole.
        let e = from(b"<r><iin>9005173<!-- x -->12343</iin></r>");
        assert_eq!(e.report.iin.as_deref(), Some("900517312343"));
        let e = from(b"<r><iin>&#57;00517312343</iin></r>");
        assert_eq!(e.report.iin.as_deref(), Some("900517312343"));
        let e = from(b"plain text");
        assert_eq!(e.report.source, "none");
        let e = from(br#"{"applicant":{"iin":"12345"}}"#);
        assert!(!e.problems.is_empty());
    }

    #[test]
    fn many_pointers_are_followed_in_order() {
        // More pointers than are followed at once in one parse: read from the whole document.
        let mut p = Pointers {
            iin: (0..70).map(|i| format!("/a{i}")).collect(),
            ..Pointers::default()
        };
        p.iin.push("/applicant/iin".into());
        let content = br#"{"a69":900517312343,"applicant":{"iin":"940140000385"}}"#;
        let numbers = numbers_in(content, &p);
        assert_eq!(numbers.iin.as_deref(), Some("900517312343"));
        p.iin.truncate(3);
        p.iin.push("/applicant/iin".into());
        assert_eq!(numbers_in(content, &p).iin.as_deref(), Some("940140000385"));
    }
}
