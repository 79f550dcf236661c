//! Verification of signed requests: условие 3 of the регламент, one step per file —
//! format → signature → timestamp → chain → validity → revocation → key usage → identity → report.
//!
//! Door: [`Verifier::verify`]. A verification that ends "invalid" is not an error: it is a
//! [`Report`]. Steps never print or touch HTTP; the network and the database are reached only
//! through the revocation sources and fetcher the caller configures. Time is a parameter.

mod answer;
mod budget;
mod chain;
mod cms;
mod evidence;
mod fetch;
mod format;
mod identity;
mod input;
mod key_usage;
mod lane;
// pub(crate): `crate::fuzzing` reaches `ocsp::check_response`.
pub(crate) mod ocsp;
mod pipeline;
mod purpose;
mod refusal;
pub mod report;
mod revocation;
mod signature;
mod step;
mod timestamp;
mod validity;
mod xml;

use std::sync::Arc;
use std::time::Duration;

pub use answer::{Answer, BoxFuture, RevocationSource};
pub use budget::{MAX_HASHED_BYTES, MAX_KEY_OPERATIONS};
pub use cms::{MAX_CERTIFICATES, MAX_REVOCATION_VALUES, MAX_SIGNERS};
pub(crate) use fetch::said_briefly;
pub use fetch::Fetcher;
pub use identity::Pointers;
pub use purpose::Purpose;
pub use report::{Report, Status, Verdict};
pub use revocation::RevocationScope;
pub use step::{Step, TimeSource, ValidationTime};
pub use timestamp::{
    read_time_stamp_token, read_tst_info, TimeStampInfo, ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
    ID_CT_TST_INFO, MAX_TIMESTAMPS,
};

use crate::identity::{Bin, Iin};
use crate::x509::crl::Crl;
use crate::x509::Cert;
use budget::Budget;

/// Errors in configuring a verifier (not in verifying: that yields a report).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("trust anchor {0}: not a certificate (PEM or DER): {1}")]
    BadAnchor(String, String),
    #[error("intermediate certificate {0}: not a certificate (PEM or DER): {1}")]
    BadCertificate(String, String),
    #[error("CRL {0}: {1}")]
    BadCrl(String, String),
    #[error("no trust anchor configured")]
    NoAnchor,
}

/// What to verify.
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// CMS SignedData (DER, PEM or base64) or an XML document with XMLDSig signatures.
    pub signature: Vec<u8>,
    /// The signed content, for detached signatures.
    pub content: Option<Vec<u8>>,
    /// Expected IIN/BIN of the applicant (when absent, read from the signed content).
    pub iin: Option<Iin>,
    pub bin: Option<Bin>,
    /// Validation time, unix seconds (default: now).
    pub at: Option<i64>,
    /// Extra certificates (signer or intermediates), DER.
    pub certificates: Vec<Vec<u8>>,
    /// Extra CRLs, DER or PEM.
    pub crls: Vec<Vec<u8>>,
}

/// How the verifier is set up.
#[derive(Default)]
pub struct Settings {
    /// Trust anchors (DER), each with a label for error messages.
    pub anchors: Vec<(String, Vec<u8>)>,
    pub intermediates: Vec<(String, Vec<u8>)>,
    pub crls: Vec<(String, Vec<u8>)>,
    /// Forbid network fetches (OCSP, CDP).
    pub offline: bool,
    pub pointers: Pointers,
    /// A role the signer must have (name such as "first_head", or OID).
    pub required_role: Option<String>,
    pub fetch_timeout: Option<Duration>,
    pub sources: Vec<Arc<dyn RevocationSource>>,
    /// Whose revocation status must be known: the whole chain (default) or the signer only.
    pub revocation_scope: RevocationScope,
}

/// A configured verifier: anchors, intermediates, revocation sources and caches. Cheap to
/// share; its work runs on the blocking pool ([`lane`]), so the state lives behind an `Arc`.
pub struct Verifier {
    core: Arc<Core>,
}

/// Requests whose signature and content are each at most this large are read on the calling
/// thread, and their first signer tried there within [`INLINE_OPERATIONS`].
const INLINE_INPUT: usize = 128 * 1024;
/// Public-key operations a first signer may use on the calling thread: its signature and a
/// path of three certificates not yet cached. Four GOST-512 checks take about 2.5 ms.
const INLINE_OPERATIONS: usize = 4;

/// The same for an XML signature: reading XML costs per byte many times what walking DER does
/// (about 30 MB/s: 16 KiB is half a millisecond on the calling thread).
const INLINE_XML_INPUT: usize = 16 * 1024;

fn inline_sized(request: &Request) -> bool {
    let limit = if crate::xml::looks_like_xml(&request.signature) {
        INLINE_XML_INPUT
    } else {
        INLINE_INPUT
    };
    request.signature.len() <= limit
        && request
            .content
            .as_ref()
            .is_none_or(|c| c.len() <= INLINE_INPUT)
        && request.certificates.is_empty()
        && request.crls.is_empty()
}

/// What every verification reads.
struct Core {
    anchors: Vec<Arc<Cert>>,
    intermediates: Vec<Arc<Cert>>,
    revocation: revocation::Revocation,
    pointers: Pointers,
    required_role: Option<String>,
    paths: chain::PathCache,
    certs: input::CertCache,
    lane: lane::Lane,
}

/// DER bytes of a signature given as DER, PEM or base64.
pub fn decode_signature_input(input: &[u8]) -> Option<Vec<u8>> {
    crate::x509::decode_der(input)
}

/// Reads a certificate from PEM or DER.
pub fn read_certificate(bytes: &[u8]) -> Result<Cert, String> {
    let der = crate::x509::decode_der(bytes).ok_or("neither PEM nor DER")?;
    Cert::from_der(&der).map_err(|e| e.to_string())
}

impl Verifier {
    pub fn new(settings: Settings) -> Result<Verifier, VerifyError> {
        let anchors = settings
            .anchors
            .iter()
            .map(|(label, der)| {
                read_certificate(der)
                    .map(Arc::new)
                    .map_err(|e| VerifyError::BadAnchor(label.clone(), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if anchors.is_empty() {
            return Err(VerifyError::NoAnchor);
        }
        let intermediates = settings
            .intermediates
            .iter()
            .map(|(label, der)| {
                read_certificate(der)
                    .map(Arc::new)
                    .map_err(|e| VerifyError::BadCertificate(label.clone(), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let crls = settings
            .crls
            .iter()
            .map(|(label, bytes)| {
                Crl::parse(bytes)
                    .map(Arc::new)
                    .map_err(|e| VerifyError::BadCrl(label.clone(), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut fetcher = Fetcher::default();
        if let Some(t) = settings.fetch_timeout {
            fetcher.timeout = t;
        }
        let core = Core {
            anchors,
            intermediates,
            revocation: revocation::Revocation::new(
                settings.sources,
                crls,
                settings.offline,
                fetcher,
            )
            .with_scope(settings.revocation_scope),
            pointers: settings.pointers,
            required_role: settings.required_role,
            paths: chain::PathCache::default(),
            certs: input::CertCache::default(),
            lane: lane::Lane::new(),
        };
        Ok(Verifier {
            core: Arc::new(core),
        })
    }

    /// Verifies a signed request. Always returns a report.
    pub async fn verify(&self, request: &Request) -> Report {
        self.verify_owned(request.clone()).await
    }

    /// [`Verifier::verify`] without copying the request: a 16 MiB signature is not held twice.
    pub async fn verify_owned(&self, request: Request) -> Report {
        let report = self.run(request).await;
        let verdict = match report.verdict {
            Verdict::Valid => "valid",
            Verdict::Indeterminate => "indeterminate",
            Verdict::Invalid => "invalid",
        };
        metrics::counter!(crate::telemetry::VERIFICATIONS, "verdict" => verdict,
            "sub_indication" => report.sub_indication.unwrap_or("none"))
        .increment(1);
        report
    }

    /// Checks one RFC 3161 time-stamp token over `stamped` (the bytes whose hash it must
    /// carry) as the `timestamp` step checks a signature time-stamp: imprint, the token's
    /// signature, the TSA certificate (critical EKU timeStamping), its chain to this verifier's
    /// anchors, validity and revocation at genTime. For a TSP client checking a reply before
    /// using it. The report's status is `Passed` only when every check passed.
    pub async fn check_time_stamp(&self, token: &[u8], stamped: &[u8]) -> report::TimestampReport {
        let budget = Budget::new();
        let paths = chain::Paths {
            pool: &self.core.intermediates,
            anchors: &self.core.anchors,
            cache: &self.core.paths,
            budget: &budget,
        };
        let sources = timestamp::Sources {
            paths,
            certs: &self.core.certs,
        };
        let judged = timestamp::judge_offline(&[token.to_vec()], stamped, &sources);
        let now = crate::time::now();
        let none = evidence::RevocationValues::default();
        let online = timestamp::Online {
            revocation: &self.core.revocation,
            values: &none,
            now,
            not_before: None,
            validation_time: now,
        };
        let outcome = timestamp::finish(judged, &online).await;
        let mut reports = outcome.timestamps;
        match reports.len() {
            1 => reports.remove(0),
            _ => report::TimestampReport {
                kind: "signature",
                gen_time: None,
                tsa: None,
                policy: None,
                status: Status::Failed,
                detail: "not one time-stamp token".into(),
            },
        }
    }

    /// Format, then each signer in turn: the CPU's part in the lane, the revocation sources'
    /// on the runtime. Dropping this future (a timed-out HTTP request) cancels what is left.
    async fn run(&self, request: Request) -> Report {
        let now = crate::time::now();
        let at = ValidationTime::requested(request.at.unwrap_or(now));
        let budget = Arc::new(Budget::new());
        let _cancel = budget.cancel_on_drop();
        let (work, mut first) = if inline_sized(&request) {
            // A small request is read and its first signer tried on this thread, within an
            // allowance of a few operations: what a genuine one-signer request needs, and
            // cheaper than the trip to the blocking pool. A first signer that needs more is
            // judged again in the lane, from the request's own budget.
            let work = match self.core.prepare(request, at, now) {
                Ok(work) => Arc::new(work),
                Err(report) => return *report,
            };
            let trial = Budget::of(INLINE_OPERATIONS, INLINE_INPUT);
            let first = (work.signers.first())
                .map(|evidence| self.core.judge_offline(&work.ctx, evidence, &trial))
                .filter(|_| !trial.ran_out());
            (work, first)
        } else {
            // The first unit reads the request and judges its first signer: a request of one
            // signer costs one trip to the blocking pool, not two.
            let (core, first_budget) = (Arc::clone(&self.core), Arc::clone(&budget));
            let first_unit = move || {
                let work = core.prepare(request, at, now)?;
                let first = (work.signers.first())
                    .map(|evidence| core.judge_offline(&work.ctx, evidence, &first_budget));
                Ok::<_, Box<Report>>((work, first))
            };
            match self.core.lane.run(first_unit).await {
                Some(Ok((work, first))) => (Arc::new(work), first),
                Some(Err(report)) => return *report,
                None => return pipeline::interrupted(at),
            }
        };
        let mut signers = Vec::with_capacity(work.signers.len());
        for index in 0..work.signers.len() {
            let offline = match first.take() {
                Some(offline) => offline,
                None => {
                    let (core, shared, budget) = (
                        Arc::clone(&self.core),
                        Arc::clone(&work),
                        Arc::clone(&budget),
                    );
                    let unit =
                        move || core.judge_offline(&shared.ctx, &shared.signers[index], &budget);
                    let Some(offline) = self.core.lane.run(unit).await else {
                        return pipeline::interrupted(at);
                    };
                    offline
                }
            };
            signers.push(self.core.finish(&work.ctx, offline).await);
        }
        // The lane's units are done with the request: its format check and expected identity
        // move into the report rather than being copied.
        let (format, expected) = match Arc::try_unwrap(work) {
            Ok(work) => (work.ctx.format, work.ctx.expected.report),
            Err(work) => (work.ctx.format.clone(), work.ctx.expected.report.clone()),
        };
        report::assemble(format, signers, expected, crate::time::rfc3339(at.at))
    }
}
