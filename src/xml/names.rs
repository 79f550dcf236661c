//! The namespaces and identifiers XML signatures are written in, named once for the signer
//! (`sign`) and the verifier (`verify`), which may not share code with each other.

/// XMLDSig (W3C XML Signature Syntax and Processing).
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The enveloped-signature transform (XMLDSig §6.6.4).
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// Exclusive C14N's namespace, where its InclusiveNamespaces element lives.
pub const EXCLUSIVE_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const SOAP_11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP_12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Security's header elements (Security, BinarySecurityToken, SecurityTokenReference).
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// A token or key identifier that is base64 text.
pub const WSSE_BASE64_BINARY: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
/// A token that is an X.509 v3 certificate.
pub const WSSE_X509_V3: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
/// A key identifier that is a subject key identifier.
pub const WSSE_X509_SKI: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier";
