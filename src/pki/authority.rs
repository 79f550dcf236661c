//! The CAs and the OCSP responder: created once, stored with encrypted keys, unlocked at start.

use flagset::FlagSet;
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::Certificate;

use super::certificate::{self, CertificateContent};
use super::declared::{CaDeclaration, Declarations};
use super::{extensions as ext, issue, name, PkiError, Urls};
use crate::crypto::SigningKey;
use crate::keystore::{self, KeyStoreError};
use crate::store::AuthorityRecord;

pub(super) const ROLE_ROOT: &str = "root";
pub(super) const ROLE_ISSUING: &str = "issuing";
pub(super) const ROLE_OCSP: &str = "ocsp";

/// An unlocked signer: its certificate and private key.
#[derive(Debug)]
pub struct Authority {
    pub id: String,
    pub certificate_der: Vec<u8>,
    pub certificate: Certificate,
    pub key: SigningKey,
    /// Subject key identifier, the AKI of everything it signs.
    pub key_id: [u8; 20],
}

impl Authority {
    pub(super) fn from_parts(
        id: String,
        certificate_der: Vec<u8>,
        key: SigningKey,
    ) -> Result<Self, PkiError> {
        Self::new(id, certificate_der, key)
    }

    fn new(id: String, certificate_der: Vec<u8>, key: SigningKey) -> Result<Self, PkiError> {
        let certificate = certificate::parse(&certificate_der)?;
        let key_id =
            certificate::key_identifier(&certificate.tbs_certificate.subject_public_key_info);
        Ok(Authority {
            id,
            certificate_der,
            certificate,
            key,
            key_id,
        })
    }

    pub fn not_before(&self) -> i64 {
        certificate::unix(&self.certificate.tbs_certificate.validity.not_before)
    }

    pub fn not_after(&self) -> i64 {
        certificate::unix(&self.certificate.tbs_certificate.validity.not_after)
    }

    /// Decrypts a stored authority. A wrong passphrase is reported as such, nothing else.
    pub fn unlock(record: &AuthorityRecord, passphrase: &[u8]) -> Result<Self, PkiError> {
        let pkcs8 = keystore::decrypt_private_key(&record.encrypted_key, passphrase).map_err(
            |e| match e {
                KeyStoreError::WrongPassword => PkiError::WrongPassphrase,
                other => PkiError::KeyStore(other),
            },
        )?;
        let key = SigningKey::from_pkcs8(&pkcs8)?;
        let authority = Authority::new(record.id.clone(), record.certificate.clone(), key)?;
        let spki = &authority
            .certificate
            .tbs_certificate
            .subject_public_key_info;
        if spki.subject_public_key.raw_bytes() != authority.key.public_key_bytes() {
            return Err(PkiError::Config(format!(
                "stored key of {} does not match its certificate",
                record.id
            )));
        }
        Ok(authority)
    }

    pub fn record(
        &self,
        role: &str,
        passphrase: &[u8],
        now: i64,
    ) -> Result<AuthorityRecord, PkiError> {
        Ok(AuthorityRecord {
            id: self.id.clone(),
            role: role.to_owned(),
            certificate: self.certificate_der.clone(),
            encrypted_key: keystore::encrypt_private_key(self.key.pkcs8_der(), passphrase)?,
            created_at: now,
        })
    }
}

fn ca_name(decl: &CaDeclaration) -> Result<x509_cert::name::Name, PkiError> {
    let pairs: Vec<(&str, &str)> = decl
        .subject
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(name::build(&pairs)?)
}

const DAY: i64 = 86_400;

/// A new root CA, self-signed, shaped like NCA's: SKI, keyUsage keyCertSign+cRLSign (critical),
/// basicConstraints CA (critical).
pub(super) fn create_root(decl: &CaDeclaration, now: i64) -> Result<Authority, PkiError> {
    let key = SigningKey::generate(decl.key)?;
    let public_key = key.public_key_info()?;
    let key_id = certificate::key_identifier(&public_key);
    let subject = ca_name(decl)?;
    let der = certificate::sign(
        CertificateContent {
            serial: certificate::random_serial()?,
            issuer: subject.clone(),
            subject,
            not_before: now,
            not_after: now + i64::from(decl.validity_days) * DAY,
            public_key,
            extensions: vec![
                ext::subject_key_identifier(&key_id)?,
                ext::key_usage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)?,
                ext::basic_constraints_ca(None)?,
            ],
        },
        &key,
    )?;
    Authority::new(decl.id.clone(), der, key)
}

/// A new issuing CA under `root`, in the extension order of NCA's "ҰКО 3.0 (RSA TEST)".
pub(super) fn create_issuing(
    decl: &CaDeclaration,
    root: &Authority,
    urls: &Urls,
    now: i64,
) -> Result<Authority, PkiError> {
    let key = SigningKey::generate(decl.key)?;
    let public_key = key.public_key_info()?;
    let key_id = certificate::key_identifier(&public_key);
    let not_after = (now + i64::from(decl.validity_days) * DAY).min(root.not_after());
    let mut extensions = vec![
        ext::subject_key_identifier(&key_id)?,
        ext::authority_key_identifier(&root.key_id)?,
        ext::basic_constraints_ca(Some(0))?,
        ext::key_usage(FlagSet::from(KeyUsages::KeyCertSign) | KeyUsages::CRLSign)?,
        ext::authority_info_access(&urls.ca_certificate(&root.id), None)?,
    ];
    if let Some(policy) = &decl.policy {
        let oid = der::asn1::ObjectIdentifier::new(policy)
            .map_err(|e| PkiError::Config(format!("issuing CA policy {policy:?}: {e}")))?;
        extensions.push(ext::certificate_policies(oid, &urls.cps(), false)?);
    }
    extensions.push(ext::crl_distribution_points(&urls.crl(&root.id))?);
    let der = certificate::sign(
        CertificateContent {
            serial: certificate::random_serial()?,
            issuer: root.certificate.tbs_certificate.subject.clone(),
            subject: ca_name(decl)?,
            not_before: now,
            not_after,
            public_key,
            extensions,
        },
        &root.key,
    )?;
    Authority::new(decl.id.clone(), der, key)
}

/// The OCSP responder's delegated certificate, issued by the issuing CA from its profile.
pub(super) fn create_responder(
    declarations: &Declarations,
    issuing: &Authority,
    urls: &Urls,
    now: i64,
) -> Result<Authority, PkiError> {
    let decl = &declarations.hierarchy.ocsp;
    let profile = declarations.profile(&decl.profile)?;
    let key = SigningKey::generate(decl.key)?;
    let subject = name::build(&[("CN", decl.common_name.as_str()), ("C", "KZ")])?;
    let not_after = (now + i64::from(decl.validity_days) * DAY).min(issuing.not_after());
    let der = issue::sign_with_profile(profile, subject, &key, issuing, urls, now, not_after)?;
    Authority::new(format!("{}-ocsp", issuing.id), der, key)
}
