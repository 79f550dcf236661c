//! The time-stamping authority's key and certificate: created with the PKI, or at the first
//! start of a PKI that has none (a database from before the TSA existed), like the official's.

use der::asn1::ObjectIdentifier;

use super::authority::Authority;
use super::official::identity;
use super::{certificate, issue, name, Pki, PkiError, Urls};
use crate::crypto::SigningKey;
use crate::sign::SignerIdentity;
use crate::store::{AuthorityRecord, Store};

pub(super) const ROLE_TSA: &str = "tsa";

/// The unlocked TSA: who signs the tokens, under which policy, how accurate its time is.
pub(super) struct Tsa {
    pub(super) signer: SignerIdentity,
    pub(super) policy: ObjectIdentifier,
    /// TSTInfo.accuracy in seconds; 0: not stated.
    pub(super) accuracy_seconds: u32,
    /// The certificate's serial (upper-case hex), which the PKI refuses to revoke while in use.
    pub(super) serial: String,
    /// Where `Pki::time_stamp` gets tokens: a remote TSA, or None for this one in process.
    /// Kept here, beside the TSA it stands in for (`Pki::with_time_stamping`).
    pub(super) remote: Option<std::sync::Arc<super::TspClient>>,
}

impl Tsa {
    fn new(
        authority: &Authority,
        policy: ObjectIdentifier,
        accuracy: u32,
    ) -> Result<Tsa, PkiError> {
        // The token's certificates carry the TSA's own certificate only (certReq, RFC 3161).
        let signer = identity(authority, Vec::new())?;
        Ok(Tsa {
            serial: certificate::serial_hex(&signer.certificate.tbs_certificate.serial_number),
            signer,
            policy,
            accuracy_seconds: accuracy,
            remote: None,
        })
    }
}

/// Until when a TSA certificate issued at `now` runs: its declared validity, never beyond the
/// issuing CA's.
pub(super) fn tsa_not_after(
    decl: &super::declared::TsaDeclaration,
    issuing: &Authority,
    now: i64,
) -> i64 {
    (now + i64::from(decl.validity_days) * 86_400).min(issuing.not_after())
}

/// A new TSA key and its certificate (the `[tsa]` name and profile) issued by `issuing`: at the
/// PKI's creation, and again when the evidence job re-issues it (`tsa_renewal.rs`).
pub(super) fn issue_tsa(
    declarations: &super::Declarations,
    issuing: &Authority,
    urls: &Urls,
    now: i64,
    not_after: i64,
    id: String,
) -> Result<Authority, PkiError> {
    let decl = declarations.hierarchy.tsa();
    let profile = declarations.profile(&decl.profile)?;
    let key = SigningKey::generate(decl.key)?;
    let subject = name::build(&[("CN", decl.common_name.as_str()), ("C", "KZ")])?;
    let der = issue::sign_with_profile(profile, subject, &key, issuing, urls, now, not_after)?;
    Authority::from_parts(id, der, key)
}

impl Pki {
    /// Loads the TSA from the database, creating it (with the PKI's passphrase) if this PKI has
    /// none yet. Safe when several instances start together: one creates, the others use it.
    pub(super) async fn load_or_create_tsa(
        store: &Store,
        declarations: &super::Declarations,
        issuing: &Authority,
        urls: &Urls,
        passphrase: &[u8],
        now: i64,
    ) -> Result<Tsa, PkiError> {
        let decl = declarations.hierarchy.tsa();
        let policy = ObjectIdentifier::new(&decl.policy)
            .map_err(|e| PkiError::Config(format!("[tsa] policy {:?}: {e}", decl.policy)))?;
        let accuracy = decl.accuracy_seconds;
        // The newest: a TSA whose certificate was re-issued (tsa_renewal.rs) has several.
        let find = |records: &[AuthorityRecord]| {
            records.iter().rev().find(|r| r.role == ROLE_TSA).cloned()
        };
        if let Some(record) = find(&store.authorities().await?) {
            return Tsa::new(&Authority::unlock(&record, passphrase)?, policy, accuracy);
        }
        let not_after = tsa_not_after(&decl, issuing, now);
        let id = format!("{}-tsa", issuing.id);
        let tsa = issue_tsa(declarations, issuing, urls, now, not_after, id)?;
        let record = tsa.record(ROLE_TSA, passphrase, now)?;
        let entry = Pki::certificate_entry(&tsa, &issuing.id, &decl.profile, now)?;
        if !store.insert_authorities(&[record], &entry).await? {
            // Another instance created it meanwhile: use theirs.
            if let Some(record) = find(&store.authorities().await?) {
                return Tsa::new(&Authority::unlock(&record, passphrase)?, policy, accuracy);
            }
        }
        tracing::info!(subject = %name::display(&tsa.certificate.tbs_certificate.subject),
            policy = %policy, "created the time-stamping authority's key");
        Tsa::new(&tsa, policy, accuracy)
    }
}
