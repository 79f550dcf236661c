//! The test PKI in NCA RK's profile: hierarchy and profiles declared in `pki/`, issuance,
//! revocation, full and delta CRLs, the OCSP responder and the time-stamping authority.
//!
//! Door: [`Pki`] with `init`/`open`, `issue`, `revoke`, `release_hold`, `crl`, `ocsp_respond`,
//! `tsp_respond`.

mod authority;
pub mod certificate;
mod crl;
pub mod declared;
mod error;
mod evidence;
mod evidence_horizon;
mod extension;
mod extensions;
mod issue;
mod log;
mod log_key;
mod log_registry;
mod ocsp;
mod official;
mod publish;
mod revocation_source;
mod stamping;
mod tsa;
mod tsa_renewal;
mod tsp;
pub(crate) mod tsp_client;
mod urls;

/// Names live below the PKI (verification reads them too); re-exported for callers.
pub use crate::x509::name;
pub use crate::x509::RevocationReason;
pub use authority::Authority;
pub use declared::{Declarations, Profile};
pub use error::PkiError;
pub use evidence::{Advanced, CurrentSignature};
pub use extension::{signature_level, Level};
pub use issue::{IssueRequest, MAX_DAYS};
pub use log::{DocumentInLog, LogProof};
pub use log_key::{LogDeclaration, LogSigner};
pub use stamping::TimeStamping;
pub use tsp::{TspAnswer, ID_CT_TST_INFO};
pub use tsp_client::TspClient;
pub use urls::Urls;

use zeroize::Zeroizing;

use crate::keystore;
use crate::store::{
    ActAudit, AuditEvent, AuthorityRecord, CertificateRecord, NewCertificate, StatusChange, Store,
};

/// A certificate issued just now: the only moment its private key exists outside the holder.
pub struct Issued {
    pub record: CertificateRecord,
    pub pkcs12: Vec<u8>,
}

/// The unlocked PKI.
pub struct Pki {
    store: Store,
    declarations: Declarations,
    urls: Urls,
    root: Authority,
    issuing: Authority,
    responder: Authority,
    /// The licensing authority's official, who signs documents.
    official: crate::sign::SignerIdentity,
    /// The time-stamping authority behind `POST /pki/tsp`.
    tsa: tsa::Tsa,
    /// Its signer once re-issued in this process (`tsa_renewal.rs`); tokens are signed with it.
    tsa_renewed: std::sync::RwLock<Option<std::sync::Arc<tsa_renewal::RenewedTsa>>>,
    /// The transparency log's signer (`log_key.rs`; its checkpoints and proofs: `log.rs`).
    log: log_key::LogSigner,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("root", &self.root.id)
            .field("issuing", &self.issuing.id)
            .finish_non_exhaustive()
    }
}

pub(crate) use crate::time::now;

impl Pki {
    /// Opens the stored PKI, creating it first if the database has none. Returns whether it was
    /// created. Safe when several instances start together on one database: one creates, the
    /// others find it.
    pub async fn init(
        store: Store,
        declarations: Declarations,
        public_url: &str,
        passphrase: &[u8],
    ) -> Result<(Pki, bool), PkiError> {
        if !store.authorities().await?.is_empty() {
            return Ok((
                Pki::open(store, declarations, public_url, passphrase).await?,
                false,
            ));
        }
        let urls = Urls::new(public_url, &declarations.hierarchy.urls.cps_path);
        let now = now();
        let h = &declarations.hierarchy;
        let root = authority::create_root(&h.root, now)?;
        let issuing = authority::create_issuing(&h.issuing, &root, &urls, now)?;
        let responder = authority::create_responder(&declarations, &issuing, &urls, now)?;
        let records = [
            root.record(authority::ROLE_ROOT, passphrase, now)?,
            issuing.record(authority::ROLE_ISSUING, passphrase, now)?,
            responder.record(authority::ROLE_OCSP, passphrase, now)?,
        ];
        let responder_entry =
            Self::certificate_entry(&responder, &issuing.id, &h.ocsp.profile, now)?;
        if !store.insert_authorities(&records, &responder_entry).await? {
            // Another instance won the race; use what it stored.
            return Ok((
                Pki::open(store, declarations, public_url, passphrase).await?,
                false,
            ));
        }
        let official = Pki::load_or_create_official(
            &store,
            &declarations,
            &issuing,
            &root,
            &urls,
            passphrase,
            now,
        )
        .await?;
        let tsa = Pki::load_or_create_tsa(&store, &declarations, &issuing, &urls, passphrase, now)
            .await?;
        let log = log_key::LogSigner::load_or_create(
            &store,
            &declarations.hierarchy.log,
            public_url,
            passphrase,
            now,
        )
        .await?;
        let pki = Pki {
            store,
            declarations,
            urls,
            root,
            issuing,
            responder,
            official,
            tsa,
            tsa_renewed: Default::default(),
            log,
        };
        pki.publish_all_crls(now).await?;
        tracing::info!(root = %pki.root.id, issuing = %pki.issuing.id, "created the test PKI");
        Ok((pki, true))
    }

    /// Opens and unlocks the stored PKI.
    pub async fn open(
        store: Store,
        declarations: Declarations,
        public_url: &str,
        passphrase: &[u8],
    ) -> Result<Pki, PkiError> {
        let records = store.authorities().await?;
        let find = |role: &str| -> Result<&AuthorityRecord, PkiError> {
            records
                .iter()
                .find(|r| r.role == role)
                .ok_or(PkiError::NotInitialised)
        };
        let root = Authority::unlock(find(authority::ROLE_ROOT)?, passphrase)?;
        let issuing = Authority::unlock(find(authority::ROLE_ISSUING)?, passphrase)?;
        let responder = Authority::unlock(find(authority::ROLE_OCSP)?, passphrase)?;
        let urls = Urls::new(public_url, &declarations.hierarchy.urls.cps_path);
        let official = Pki::load_or_create_official(
            &store,
            &declarations,
            &issuing,
            &root,
            &urls,
            passphrase,
            now(),
        )
        .await?;
        // A database from before the TSA existed gets one at its first start.
        let tsa =
            Pki::load_or_create_tsa(&store, &declarations, &issuing, &urls, passphrase, now())
                .await?;
        // A database from before the log gets its key at its first start too.
        let log = log_key::LogSigner::load_or_create(
            &store,
            &declarations.hierarchy.log,
            public_url,
            passphrase,
            now(),
        )
        .await?;
        Ok(Pki {
            store,
            declarations,
            urls,
            root,
            issuing,
            responder,
            official,
            tsa,
            tsa_renewed: Default::default(),
            log,
        })
    }

    /// The licensing authority's official who signs the service's documents.
    pub fn official(&self) -> &crate::sign::SignerIdentity {
        &self.official
    }

    pub fn declarations(&self) -> &Declarations {
        &self.declarations
    }

    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn root(&self) -> &Authority {
        &self.root
    }

    pub fn issuing(&self) -> &Authority {
        &self.issuing
    }

    /// The time-stamping authority's certificate (DER).
    pub fn tsa_certificate(&self) -> &[u8] {
        &self.tsa.signer.certificate_der
    }

    fn certificate_entry(
        subject: &Authority,
        issuer_id: &str,
        profile: &str,
        now: i64,
    ) -> Result<NewCertificate, PkiError> {
        let tbs = &subject.certificate.tbs_certificate;
        Ok(NewCertificate {
            serial: certificate::serial_hex(&tbs.serial_number),
            issuer_id: issuer_id.to_owned(),
            profile: profile.to_owned(),
            subject: name::display(&tbs.subject),
            iin: None,
            bin: None,
            key_algorithm: subject.key.algorithm().to_string(),
            not_before: certificate::unix(&tbs.validity.not_before),
            not_after: certificate::unix(&tbs.validity.not_after),
            certificate: subject.certificate_der.clone(),
            created_at: now,
        })
    }

    /// Issues a certificate and its PKCS#12. Nothing is stored unless every input is valid;
    /// the subscriber's private key is returned once, inside the PKCS#12, and never kept.
    /// `audit`: the issuance's entry in the audit trail, stored with the certificate (None:
    /// not audited, for tests and benchmarks).
    pub async fn issue(
        &self,
        request: &IssueRequest,
        audit: Option<&ActAudit>,
    ) -> Result<Issued, PkiError> {
        let profile = self.declarations.profile(&request.profile)?;
        if profile.name == self.declarations.hierarchy.ocsp.profile {
            return Err(PkiError::invalid(
                "the OCSP responder profile is used by the service itself",
            ));
        }
        if profile.name == self.declarations.hierarchy.tsa().profile {
            return Err(PkiError::invalid(
                "the TSA profile is used by the service itself",
            ));
        }
        let checked = issue::check(request, profile)?;
        let now = now();
        let not_after = now + i64::from(checked.days) * 86_400;
        if not_after > self.issuing.not_after() {
            return Err(PkiError::invalid(format!(
                "days={} would outlive the issuing CA (valid until {}); ask for fewer days",
                checked.days, self.issuing.certificate.tbs_certificate.validity.not_after
            )));
        }
        // RSA key generation takes up to a second: keep it off the async workers.
        let algorithm = request.key.unwrap_or(self.issuing.key.algorithm());
        let key =
            tokio::task::spawn_blocking(move || crate::crypto::SigningKey::generate(algorithm))
                .await
                .map_err(|e| PkiError::Config(format!("key generation task failed: {e}")))??;
        let der = issue::sign_with_profile(
            profile,
            checked.subject,
            &key,
            &self.issuing,
            &self.urls,
            now,
            not_after,
        )?;
        let serial =
            certificate::serial_hex(&certificate::parse(&der)?.tbs_certificate.serial_number);
        let chain = vec![
            self.issuing.certificate_der.clone(),
            self.root.certificate_der.clone(),
        ];
        let pkcs12 = keystore::build_pkcs12(
            key.pkcs8_der(),
            &der,
            &chain,
            &checked.password,
            // ASCII, as NCA's are (hex): OpenSSL 3.0 mangles non-Latin BMPString names.
            Some(&serial),
            checked.flavour,
        )?;
        let entry = NewCertificate {
            serial,
            issuer_id: self.issuing.id.clone(),
            profile: profile.name.clone(),
            subject: checked.subject_text,
            iin: checked.iin.map(|i| i.as_str().to_owned()),
            bin: checked.bin.map(|b| b.as_str().to_owned()),
            key_algorithm: key.algorithm().to_string(),
            not_before: now,
            not_after,
            certificate: der,
            created_at: now,
        };
        let event = audit.map(|a| {
            a.entry(
                now,
                format!(
                    "issued serial {} profile {} key {}",
                    entry.serial, entry.profile, entry.key_algorithm
                ),
            )
        });
        self.store
            .insert_certificate(&entry, event.as_ref())
            .await?;
        let record = self
            .store
            .certificate(&entry.serial)
            .await?
            .ok_or_else(|| PkiError::NotFound(entry.serial.clone()))?;
        tracing::info!(serial = %record.serial, profile = %record.profile, "issued certificate");
        metrics::counter!(crate::telemetry::CERTIFICATES_ISSUED, "profile" => record.profile.clone())
            .increment(1);
        Ok(Issued { record, pkcs12 })
    }

    pub async fn certificate(&self, serial: &str) -> Result<CertificateRecord, PkiError> {
        let serial = certificate::normalise_serial(serial)?;
        self.store
            .certificate(&serial)
            .await?
            .ok_or_else(|| PkiError::NotFound(format!("no certificate with serial {serial}")))
    }

    pub async fn list(&self, limit: i64, offset: i64) -> Result<Vec<CertificateRecord>, PkiError> {
        Ok(self.store.list_certificates(limit, offset).await?)
    }

    /// Revokes (or, with certificateHold, suspends) a certificate and republishes the CRLs.
    /// `audit`: the revocation's entry in the audit trail, stored with the change.
    pub async fn revoke(
        &self,
        serial: &str,
        reason: RevocationReason,
        audit: Option<&ActAudit>,
    ) -> Result<CertificateRecord, PkiError> {
        if reason.0 == x509_cert::ext::pkix::crl::CrlReason::RemoveFromCRL {
            return Err(PkiError::invalid(
                "removeFromCRL is not a revocation reason; release a hold instead",
            ));
        }
        let serial = certificate::normalise_serial(serial)?;
        let responder_serial =
            certificate::serial_hex(&self.responder.certificate.tbs_certificate.serial_number);
        if responder_serial == serial {
            // Revoking it would leave the responder signing with a revoked certificate and no
            // way to re-key: refuse until re-keying the responder exists.
            return Err(PkiError::Conflict(format!(
                "certificate {serial} is this service's OCSP responder certificate; \
                 it cannot be revoked while in use"
            )));
        }
        if self.tsa.serial == serial || self.renewed_tsa().is_some_and(|r| r.serial == serial) {
            return Err(PkiError::Conflict(format!(
                "certificate {serial} is this service's time-stamping authority certificate; \
                 it cannot be revoked while in use"
            )));
        }
        let at = now();
        let event = audit.map(|a| {
            a.entry(
                at,
                format!("revoked serial {serial} reason {}", reason.name()),
            )
        });
        let change = StatusChange::Revoke {
            reason: reason.name().to_owned(),
            at,
        };
        let record = self.apply(&serial, change, event.as_ref()).await?;
        metrics::counter!(crate::telemetry::CERTIFICATES_REVOKED, "reason" => reason.name())
            .increment(1);
        Ok(record)
    }

    /// Releases a certificate from hold (it becomes good again; delta CRLs say removeFromCRL).
    /// `audit`: the release's entry in the audit trail, stored with the change.
    pub async fn release_hold(
        &self,
        serial: &str,
        audit: Option<&ActAudit>,
    ) -> Result<CertificateRecord, PkiError> {
        let serial = certificate::normalise_serial(serial)?;
        let event = audit.map(|a| a.entry(now(), format!("released serial {serial} from hold")));
        self.apply(&serial, StatusChange::Release, event.as_ref())
            .await
    }

    /// Changes the status, with its audit entry if it changed, then republishes the CRLs.
    async fn apply(
        &self,
        serial: &str,
        change: StatusChange,
        audit: Option<&AuditEvent>,
    ) -> Result<CertificateRecord, PkiError> {
        let Some((before, changed)) = self.store.change_status(serial, &change, audit).await?
        else {
            return Err(PkiError::NotFound(format!(
                "no certificate with serial {serial}"
            )));
        };
        if !changed {
            let what = match (&change, before.status) {
                (StatusChange::Release, _) => format!(
                    "certificate {serial} is not on hold (status: {})",
                    before.status.as_str()
                ),
                (StatusChange::Revoke { .. }, status) => format!(
                    "certificate {serial} is already {} ({})",
                    status.as_str(),
                    before.revocation_reason.as_deref().unwrap_or("unspecified")
                ),
            };
            return Err(PkiError::Conflict(what));
        }
        tracing::info!(serial, ?change, "certificate status changed");
        // The change is committed; OCSP already answers from it. A failure to republish is
        // logged and retried by the periodic refresh rather than reported as a failed revocation.
        if let Err(e) = self.publish_crls(&before.issuer_id, now()).await {
            tracing::error!(error = %e, "republishing CRLs after a status change failed");
        }
        self.certificate(serial).await
    }

    /// The CA certificates, issuing CA first, then the root (DER).
    pub fn ca_chain(&self) -> Vec<&[u8]> {
        vec![&self.issuing.certificate_der, &self.root.certificate_der]
    }

    /// A CA's certificate by id.
    pub fn ca_certificate(&self, id: &str) -> Option<&[u8]> {
        [&self.root, &self.issuing]
            .into_iter()
            .find(|a| a.id == id)
            .map(|a| a.certificate_der.as_slice())
    }
}

/// Passphrases come in as text; keys are encrypted with its UTF-8 bytes.
pub type Passphrase = Zeroizing<String>;
