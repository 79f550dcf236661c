//! A SOAP envelope signed with WS-Security (OASIS WSS 1.0, X.509 token profile) as the
//! e-government gateway (ШЭП / SmartBridge) takes it: a `wsse:Security` header holding the
//! certificate as a BinarySecurityToken and a `ds:Signature` over the Body, which gets a
//! `wsu:Id`; exclusive C14N for SignedInfo and as the Body reference's only transform.

use super::{concat, element, parse, prolog_end, qualified, Draft, Template};
use crate::sign::{SignError, SignerIdentity};
use crate::xml::c14n::{self, Method};
use crate::xml::names::{
    SOAP_11 as SOAP11, SOAP_12 as SOAP12, WSSE as WSSE_NAMESPACE,
    WSSE_BASE64_BINARY as BASE64_BINARY, WSSE_X509_V3 as X509V3,
};
use crate::xml::{Document, NodeId, WSU_NAMESPACE};

/// The gateway's output starts with this declaration.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#;

/// Signs a SOAP 1.1 (or 1.2) envelope for the e-government gateway: adds a `wsse:Security`
/// header (and the `Header` if there is none) with the signer's certificate as a
/// BinarySecurityToken and a signature over the Body, referenced by a new `wsu:Id` (an existing
/// one is kept). An envelope that already has a `wsse:Security` header is refused.
pub fn sign_wsse(envelope: &[u8], signer: &SignerIdentity) -> Result<Vec<u8>, SignError> {
    let doc = parse(envelope)?;
    let root = element(&doc, doc.root())?;
    let soap = match root.namespace.as_deref() {
        Some(ns @ (SOAP11 | SOAP12)) if root.local == "Envelope" => ns,
        _ => {
            return Err(SignError::Soap(format!(
                "the root element is {}, not a SOAP 1.1 or 1.2 Envelope",
                qualified(root.prefix.as_deref(), &root.local)
            )))
        }
    };
    let find = |local: &str| {
        doc.child_elements(doc.root())
            .find(|c| doc.is(*c, soap, local))
    };
    let body = find("Body").ok_or_else(|| SignError::Soap("the Envelope has no Body".into()))?;
    let header = find("Header");
    if let Some(h) = header {
        if doc
            .child_elements(h)
            .any(|c| doc.is(c, WSSE_NAMESPACE, "Security"))
        {
            return Err(SignError::Soap(
                "the Header already has a wsse:Security header; signing it again is not supported"
                    .into(),
            ));
        }
    }

    // The Body's wsu:Id: kept if it has one, else a new one declared on the Body.
    let body_element = element(&doc, body)?;
    let existing = body_element
        .attributes
        .iter()
        .find(|a| a.local == "Id" && a.namespace.as_deref() == Some(WSU_NAMESPACE));
    let (body_id, body_attributes) = match existing {
        Some(a) => (a.value.clone(), String::new()),
        None => {
            let clash = body_element
                .declarations
                .iter()
                .any(|d| d.prefix.as_deref() == Some("wsu") && d.uri != WSU_NAMESPACE)
                || body_element
                    .attributes
                    .iter()
                    .any(|a| a.prefix.as_deref() == Some("wsu") && a.local == "Id");
            if clash {
                return Err(SignError::Soap(
                    "the Body binds the prefix wsu to another namespace".into(),
                ));
            }
            let declared = body_element
                .declarations
                .iter()
                .any(|d| d.prefix.as_deref() == Some("wsu"));
            let id = format!("id-{}", uuid()?);
            let declaration = if declared {
                String::new()
            } else {
                format!(" xmlns:wsu=\"{WSU_NAMESPACE}\"")
            };
            (id.clone(), format!("{declaration} wsu:Id=\"{id}\""))
        }
    };
    // New attributes go before the start tag's `>` (or `/>`).
    let close = if body_element.end_tag.is_none() { 2 } else { 1 };
    let body_insert = body_element.start_tag.end - close;

    // The Security header: where it goes and the text around the signature.
    let token_id = format!("X509-{}", uuid()?);
    let certificate = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        &signer.certificate_der,
    );
    let (must_understand, soap_declaration) = soap_prefix(
        &doc,
        header.unwrap_or(doc.root()),
        root.prefix.as_deref(),
        soap,
    );
    let must_understand_value = if soap == SOAP12 { "true" } else { "1" };
    let before = format!(
        "<wsse:Security xmlns:wsse=\"{WSSE_NAMESPACE}\" xmlns:wsu=\"{WSU_NAMESPACE}\"{soap_declaration} \
         {must_understand}:mustUnderstand=\"{must_understand_value}\">\
         <wsse:BinarySecurityToken EncodingType=\"{BASE64_BINARY}\" ValueType=\"{X509V3}\" \
         wsu:Id=\"{token_id}\">{certificate}</wsse:BinarySecurityToken>"
    );
    let after = "</wsse:Security>";
    let start = prolog_end(envelope);
    let (head, between) = match header {
        Some(h) => {
            let h = element(&doc, h)?;
            match &h.end_tag {
                Some(_) => (envelope[start..h.start_tag.end].to_vec(), Vec::new()),
                None => {
                    let tag = &envelope[h.start_tag.clone()];
                    let open = tag
                        .strip_suffix(b"/>")
                        .ok_or(SignError::Internal("an empty-element tag without `/>`"))?;
                    let close = format!("</{}>", qualified(h.prefix.as_deref(), &h.local));
                    (
                        concat(&[&envelope[start..h.start_tag.start], open, b">"]),
                        close.into_bytes(),
                    )
                }
            }
        }
        None => {
            let header_name = qualified(root.prefix.as_deref(), "Header");
            (
                concat(&[
                    &envelope[start..root.start_tag.end],
                    format!("<{header_name}>").as_bytes(),
                ]),
                format!("</{header_name}>").into_bytes(),
            )
        }
    };
    let resume = match header.and_then(|h| doc.element(h)) {
        Some(h) => h.start_tag.end,
        None => root.start_tag.end,
    };
    if resume > body_insert {
        return Err(SignError::Soap(
            "the Header comes after the Body; SOAP puts it first".into(),
        ));
    }
    let draft = Draft {
        head: concat(&[DECLARATION.as_bytes(), &head]),
        tail: concat(&[
            &between,
            &envelope[resume..body_insert],
            body_attributes.as_bytes(),
            &envelope[body_insert..],
        ]),
    };
    let key_info = format!(
        "<wsse:SecurityTokenReference><wsse:Reference URI=\"#{token_id}\" ValueType=\"{X509V3}\"/>\
         </wsse:SecurityTokenReference>"
    );
    let exclusive = Method::Exclusive {
        comments: false,
        inclusive_prefixes: Vec::new(),
    };
    let reference_uri = format!("#{}", escape_attribute(&body_id));
    let template = Template {
        canonicalization: exclusive.clone(),
        reference_uri: &reference_uri,
        transforms: &[exclusive.uri()],
        key_info: &key_info,
        before: &before,
        after,
    };
    draft.complete(signer, &template, |doc, _signature| {
        let body = doc
            .by_id(&body_id)
            .ok_or(SignError::Internal("the Body's wsu:Id does not read back"))?;
        let mut out = Vec::new();
        c14n::canonicalize(doc, Some(body), &[], &exclusive, &mut out);
        Ok(out)
    })
}

/// The prefix the Security header's `mustUnderstand` attribute uses for the SOAP namespace:
/// the envelope's own where it is in scope there (and not one the header redeclares), else
/// `soapenv` declared on the header.
fn soap_prefix(
    doc: &Document,
    parent: NodeId,
    envelope_prefix: Option<&str>,
    soap: &str,
) -> (String, String) {
    let scope = doc.in_scope(parent);
    match envelope_prefix {
        Some(p)
            if p != "wsse"
                && p != "wsu"
                && scope
                    .iter()
                    .any(|ns| ns.prefix.as_deref() == Some(p) && ns.uri == soap) =>
        {
            (p.to_owned(), String::new())
        }
        _ => ("soapenv".into(), format!(" xmlns:soapenv=\"{soap}\"")),
    }
}

/// `value` fit to stand between double quotes.
fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// A random (version 4) UUID, as the gateway's messages name their Body.
fn uuid() -> Result<String, SignError> {
    let mut b = crate::crypto::random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}
