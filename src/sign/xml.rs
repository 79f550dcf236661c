//! XMLDSig signatures as NCA RK's library (Kalkan) makes them: [`sign_enveloped`] is
//! `signXml`'s enveloped signature appended to the root, [`sign_wsse`] a SOAP envelope signed
//! with WS-Security for the e-government gateway (ШЭП / SmartBridge). The shapes, byte for byte
//! (line feeds, `&#13;`-wrapped base64), are those of `fixtures/kalkan/xml/`.
//!
//! The input is kept as it is, byte for byte, except its XML declaration (replaced by Kalkan's)
//! and the text inserted: the signature is written into a draft, the draft read back with the
//! `xml` room's parser, and the digest and SignedInfo canonicalised from what a verifier will
//! read, so what is signed is what is sent.

#[path = "xml_wsse.rs"]
mod wsse;

use crate::xml::names::{DSIG as DSIG_NAMESPACE, ENVELOPED_SIGNATURE};
use base64::Engine;

use super::{SignError, SignerIdentity};
use crate::crypto::{xml_digest_uri, Digest, KeyAlgorithm, SignatureAlgorithm, XmlSignatureMethod};
use crate::xml::c14n::{self, Method};
use crate::xml::{Document, Limits, NodeId};

pub use wsse::sign_wsse;

/// Kalkan's `signXml` output starts with this declaration.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8" standalone="no"?>"#;
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Kalkan wraps base64 at 76 characters (Java's MIME encoder: CR LF, the CR written `&#13;`).
const BASE64_LINE: usize = 76;
/// What a signature adds to a document, at most: room for reading the draft back when the
/// input was already close to the parser's limits.
const ROOM_BYTES: usize = 256 * 1024;
const ROOM_NODES: usize = 256;
const ROOM_DEPTH: usize = 8;

/// Whether `bytes` look like XML: decides `qoltanba sign`'s default format.
pub use crate::xml::looks_like_xml;

/// Signs `document` (UTF-8 XML, no DOCTYPE) as Kalkan's `signXml` does: a `ds:Signature`
/// appended as the last child of the root element, one `Reference URI=""` with the
/// enveloped-signature and inclusive C14N 1.0 (with comments) transforms, SignedInfo
/// canonicalised with inclusive C14N 1.0, the certificate in `X509Data`. Earlier signatures stay
/// where they are and are covered by the new one's reference.
pub fn sign_enveloped(document: &[u8], signer: &SignerIdentity) -> Result<Vec<u8>, SignError> {
    let doc = parse(document)?;
    let root = element(&doc, doc.root())?;
    let start = prolog_end(document);
    let draft = match &root.end_tag {
        Some(end) => Draft {
            head: concat(&[DECLARATION.as_bytes(), &document[start..end.start]]),
            tail: document[end.start..].to_vec(),
        },
        None => {
            // `<a …/>` becomes `<a …>` + signature + `</a>`.
            let tag = &document[root.start_tag.clone()];
            let open = tag
                .strip_suffix(b"/>")
                .ok_or(SignError::Internal("an empty-element tag without `/>`"))?;
            let close = format!("</{}>", qualified(root.prefix.as_deref(), &root.local));
            Draft {
                head: concat(&[
                    DECLARATION.as_bytes(),
                    &document[start..root.start_tag.start],
                    open,
                    b">",
                ]),
                tail: concat(&[close.as_bytes(), &document[root.start_tag.end..]]),
            }
        }
    };
    let certificate = base64_wrapped(&signer.certificate_der);
    let key_info = format!(
        "<ds:X509Data>\n<ds:X509Certificate>\n{certificate}\n</ds:X509Certificate>\n</ds:X509Data>"
    );
    let template = Template {
        canonicalization: Method::Inclusive10 { comments: false },
        reference_uri: "",
        transforms: &[
            ENVELOPED_SIGNATURE,
            Method::Inclusive10 { comments: true }.uri(),
        ],
        key_info: &key_info,
        before: "",
        after: "",
    };
    // XMLDSig §4.4.3.3: a same-document reference drops comments before the transforms; the
    // enveloped-signature transform leaves out this signature (and only this one).
    draft.complete(signer, &template, |doc, signature| {
        let mut out = Vec::new();
        c14n::canonicalize(
            doc,
            None,
            &[signature],
            &Method::Inclusive10 { comments: false },
            &mut out,
        );
        Ok(out)
    })
}

/// A document with a hole where the signature goes: `head`, then the signature's text, then
/// `tail`.
struct Draft {
    head: Vec<u8>,
    tail: Vec<u8>,
}

/// What the `ds:Signature` says besides its values.
struct Template<'a> {
    canonicalization: Method,
    reference_uri: &'a str,
    transforms: &'a [&'a str],
    /// The content of `ds:KeyInfo`.
    key_info: &'a str,
    /// Text written around the signature (in the same hole): WS-Security's header around it.
    before: &'a str,
    after: &'a str,
}

impl Draft {
    fn with(&self, template: &Template, signature: &str) -> Vec<u8> {
        concat(&[
            &self.head,
            template.before.as_bytes(),
            signature.as_bytes(),
            template.after.as_bytes(),
            &self.tail,
        ])
    }

    /// Writes the signature: reads the draft back, digests what `reference` makes of it (given
    /// the new `ds:Signature` element), then canonicalises and signs SignedInfo as it stands in
    /// the final document.
    fn complete(
        &self,
        signer: &SignerIdentity,
        template: &Template,
        reference: impl Fn(&Document, NodeId) -> Result<Vec<u8>, SignError>,
    ) -> Result<Vec<u8>, SignError> {
        let algorithms = Algorithms::of(signer)?;
        let at = self.head.len() + template.before.len();
        let text = |digest: &str, value: &str| signature_text(template, &algorithms, digest, value);

        let draft = self.with(template, &text("", ""));
        let doc = reparse(&draft)?;
        let signature = element_at(&doc, doc.root(), at)
            .filter(|s| doc.is(*s, DSIG_NAMESPACE, "Signature"))
            .ok_or(SignError::Internal(
                "the new signature is not where it was written",
            ))?;
        let digest = algorithms
            .digest
            .digest(&reference(&doc, signature)?)
            .ok_or(SignError::Internal("the reference digest"))?;
        let digest = base64_wrapped(&digest);

        let draft = self.with(template, &text(&digest, ""));
        let doc = reparse(&draft)?;
        let signed_info = element_at(&doc, doc.root(), at)
            .and_then(|s| doc.child_elements(s).next())
            .filter(|s| doc.is(*s, DSIG_NAMESPACE, "SignedInfo"))
            .ok_or(SignError::Internal(
                "the new SignedInfo is not where it was written",
            ))?;
        let mut canonical = Vec::new();
        c14n::canonicalize(
            &doc,
            Some(signed_info),
            &[],
            &template.canonicalization,
            &mut canonical,
        );
        let value = signer.key.sign(&canonical)?;
        let value = algorithms
            .method
            .value_for_xml(&value, algorithms.field_len)?;
        Ok(self.with(template, &text(&digest, &base64_wrapped(&value))))
    }
}

/// The algorithms a key signs XML with, from the algorithm table.
struct Algorithms {
    method: &'static XmlSignatureMethod,
    digest: Digest,
    digest_uri: &'static str,
    /// ECDSA's r‖s: bytes of each half.
    field_len: usize,
}

impl Algorithms {
    fn of(signer: &SignerIdentity) -> Result<Algorithms, SignError> {
        let algorithm = signer.key.signature_algorithm();
        // The Reference digest goes with the key as in CMS, but Ed25519 has no RFC 8419 rule in
        // XML: SHA-256 as for the other non-GOST keys.
        let digest = match signer.key.algorithm() {
            KeyAlgorithm::Ed25519 => Digest::Sha256,
            other => other.cms_digest(),
        };
        let field_len = match algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => 32,
            SignatureAlgorithm::EcdsaP384Sha384 => 48,
            _ => 0,
        };
        Ok(Algorithms {
            method: XmlSignatureMethod::for_signing(algorithm),
            digest,
            digest_uri: xml_digest_uri(digest)
                .ok_or(SignError::Internal("a digest XMLDSig has no URI for"))?,
            field_len,
        })
    }
}

/// The `ds:Signature` element, with line feeds where Kalkan writes them.
fn signature_text(
    template: &Template,
    algorithms: &Algorithms,
    digest_value: &str,
    signature_value: &str,
) -> String {
    let transforms: String = template
        .transforms
        .iter()
        .map(|t| format!("<ds:Transform Algorithm=\"{t}\"/>\n"))
        .collect();
    format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NAMESPACE}\">\n\
         <ds:SignedInfo>\n\
         <ds:CanonicalizationMethod Algorithm=\"{canonicalization}\"/>\n\
         <ds:SignatureMethod Algorithm=\"{method}\"/>\n\
         <ds:Reference URI=\"{uri}\">\n\
         <ds:Transforms>\n\
         {transforms}\
         </ds:Transforms>\n\
         <ds:DigestMethod Algorithm=\"{digest}\"/>\n\
         <ds:DigestValue>{digest_value}</ds:DigestValue>\n\
         </ds:Reference>\n\
         </ds:SignedInfo>\n\
         <ds:SignatureValue>\n{signature_value}\n</ds:SignatureValue>\n\
         <ds:KeyInfo>\n{key_info}\n</ds:KeyInfo>\n\
         </ds:Signature>",
        canonicalization = template.canonicalization.uri(),
        method = algorithms.method.uri,
        uri = template.reference_uri,
        digest = algorithms.digest_uri,
        key_info = template.key_info,
    )
}

/// Base64 as Kalkan writes it: lines of 76 characters ending `&#13;` and a line feed, the last
/// without either.
fn base64_wrapped(bytes: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(text.len() + text.len() / BASE64_LINE * 6);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % BASE64_LINE == 0 {
            out.push_str("&#13;\n");
        }
        out.push(c);
    }
    out
}

/// Reads the input, within the parser's default limits.
fn parse(input: &[u8]) -> Result<Document, SignError> {
    if !looks_like_xml(input) {
        return Err(SignError::NotXml);
    }
    Ok(Document::parse(input, &Limits::default())?)
}

/// Reads a draft back: with room for what the signature added.
fn reparse(draft: &[u8]) -> Result<Document, SignError> {
    let limits = Limits::default();
    let limits = Limits {
        max_bytes: limits.max_bytes + ROOM_BYTES,
        max_depth: limits.max_depth + ROOM_DEPTH,
        max_nodes: limits.max_nodes + ROOM_NODES,
        ..limits
    };
    Document::parse(draft, &limits)
        .map_err(|_| SignError::Internal("the signed document does not read back"))
}

fn element(doc: &Document, id: NodeId) -> Result<&crate::xml::Element, SignError> {
    doc.element(id)
        .ok_or(SignError::Internal("an element expected"))
}

/// The element under `within` (or `within` itself) whose start tag begins at byte `offset`.
fn element_at(doc: &Document, within: NodeId, offset: usize) -> Option<NodeId> {
    let mut at = within;
    loop {
        let e = doc.element(at)?;
        if e.start_tag.start == offset {
            return Some(at);
        }
        at = doc.child_elements(at).find(|c| {
            doc.element(*c).is_some_and(|e| {
                let end = e.end_tag.as_ref().map_or(e.start_tag.end, |t| t.end);
                (e.start_tag.start..end).contains(&offset)
            })
        })?;
    }
}

/// Where the document proper begins: after the BOM and the XML declaration, if any.
fn prolog_end(input: &[u8]) -> usize {
    let bom = if input.starts_with(BOM) { BOM.len() } else { 0 };
    let rest = &input[bom..];
    if rest.starts_with(b"<?xml") && rest.get(5).is_some_and(|b| is_space(*b)) {
        if let Some(end) = rest.windows(2).position(|w| w == b"?>") {
            return bom + end + 2;
        }
    }
    bom
}

fn qualified(prefix: Option<&str>, local: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{local}"),
        None => local.to_owned(),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
