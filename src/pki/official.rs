//! The licensing authority's official: the key that signs the service's documents (процесс 11).

use x509_cert::Certificate;
use zeroize::Zeroizing;

use super::authority::Authority;
use super::{certificate, issue, name, Pki, PkiError, Urls};
use crate::crypto::SigningKey;
use crate::sign::SignerIdentity;
use crate::store::{AuthorityRecord, Store};

pub(super) const ROLE_OFFICIAL: &str = "official";

pub(super) fn identity(
    authority: &Authority,
    chain: Vec<Vec<u8>>,
) -> Result<SignerIdentity, PkiError> {
    Ok(SignerIdentity {
        key: SigningKey::from_pkcs8(authority.key.pkcs8_der())?,
        certificate: authority.certificate.clone(),
        certificate_der: authority.certificate_der.clone(),
        chain,
    })
}

impl Pki {
    /// Loads the official from the database, creating it (with the PKI's passphrase) if this PKI
    /// has none yet.
    pub(super) async fn load_or_create_official(
        store: &Store,
        declarations: &super::Declarations,
        issuing: &Authority,
        root: &Authority,
        urls: &Urls,
        passphrase: &[u8],
        now: i64,
    ) -> Result<SignerIdentity, PkiError> {
        let chain = vec![
            issuing.certificate_der.clone(),
            root.certificate_der.clone(),
        ];
        let find =
            |records: &[AuthorityRecord]| records.iter().find(|r| r.role == ROLE_OFFICIAL).cloned();
        if let Some(record) = find(&store.authorities().await?) {
            return identity(&Authority::unlock(&record, passphrase)?, chain);
        }
        let decl = &declarations.hierarchy.official;
        let profile = declarations.profile(&decl.profile)?;
        let request = issue::IssueRequest {
            profile: decl.profile.clone(),
            iin: Some(decl.iin.clone()),
            bin: Some(decl.authority_bin.clone()),
            org: Some(decl.authority_name.clone()),
            surname: Some(decl.surname.clone()),
            given_name: Some(decl.given_name.clone()),
            patronymic: decl.patronymic.clone(),
            key: Some(decl.key),
            password: Some(Zeroizing::new("unused".into())),
            ..issue::IssueRequest::default()
        };
        let checked = issue::check(&request, profile)
            .map_err(|e| PkiError::Config(format!("hierarchy.toml [official]: {e}")))?;
        let key = SigningKey::generate(decl.key)?;
        let not_after = (now + i64::from(checked.days) * 86_400).min(issuing.not_after());
        let der = issue::sign_with_profile(
            profile,
            checked.subject,
            &key,
            issuing,
            urls,
            now,
            not_after,
        )?;
        let cert: Certificate = certificate::parse(&der)?;
        let id = format!("{}-official", issuing.id);
        let official = Authority::from_parts(id, der, key)?;
        let record = official.record(ROLE_OFFICIAL, passphrase, now)?;
        let entry = Pki::certificate_entry(&official, &issuing.id, &decl.profile, now)?;
        if !store.insert_authorities(&[record], &entry).await? {
            // Another instance created it meanwhile: use theirs.
            if let Some(record) = find(&store.authorities().await?) {
                return identity(&Authority::unlock(&record, passphrase)?, chain);
            }
        }
        tracing::info!(subject = %name::display(&cert.tbs_certificate.subject), "created the licensing official's key");
        identity(&official, chain)
    }
}
