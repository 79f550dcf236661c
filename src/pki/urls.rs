//! The service's public URLs, built from its public base URL.

/// Every public URL of this service: what certificates point at, and where a document's
/// verification page and PDF are. Built from the public base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
    cps_path: String,
}

impl Urls {
    pub fn new(public_url: &str, cps_path: &str) -> Urls {
        Urls {
            base: public_url.trim_end_matches('/').to_owned(),
            cps_path: cps_path.to_owned(),
        }
    }
    pub fn ca_certificate(&self, ca: &str) -> String {
        format!("{}/pki/{ca}.cer", self.base)
    }
    pub fn crl(&self, ca: &str) -> String {
        format!("{}/pki/crl/{ca}.crl", self.base)
    }
    pub fn delta_crl(&self, ca: &str) -> String {
        format!("{}/pki/crl/{ca}-delta.crl", self.base)
    }
    pub fn ocsp(&self) -> String {
        format!("{}/pki/ocsp", self.base)
    }
    /// The public base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }
    pub fn cps(&self) -> String {
        format!("{}{}", self.base, self.cps_path)
    }
    /// The auditor page for a registration number: what the QR code on a document's PDF opens.
    pub fn document_verification(&self, number: &str) -> String {
        format!("{}/verify?number={number}", self.base)
    }
    /// A registered document's printable PDF.
    pub fn document_pdf(&self, id: &str) -> String {
        format!("{}/v1/documents/{id}.pdf", self.base)
    }
    /// A document signed as XML, with its signature inside.
    pub fn document_signed_xml(&self, id: &str) -> String {
        format!("{}/v1/documents/{id}/signed.xml", self.base)
    }
}
