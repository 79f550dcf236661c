//! The DER walk. Header fields are decoded with x509-cert types; revokedCertificates is walked
//! by hand with der's `SliceReader`, one small piece at a time.
//!
//! ```text
//! CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
//! TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier,
//!     issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
//!     revokedCertificates SEQUENCE OF SEQUENCE {
//!         userCertificate INTEGER, revocationDate Time, crlEntryExtensions Extensions OPTIONAL
//!     } OPTIONAL,
//!     crlExtensions [0] EXPLICIT Extensions OPTIONAL }
//! ```

use std::collections::HashSet;

use const_oid::db::{rfc5280, DB};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, UtcTime};
use der::{Decode, Header, Reader, SliceReader, Tag, TagNumber};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber, FreshestCrl};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::AuthorityKeyIdentifier;
use x509_cert::name::Name;

use super::index::{canonical, Record, SerialIndex, BATCH, NO_REASON};
use super::{Crl, CrlError, CrlScope, MAX_CRL_BYTES};

const CRL_EXTENSIONS: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber::N0,
};

/// Longest serial accepted (RFC 5280 allows 20 octets; anything past 255 is not a serial).
const MAX_SERIAL_LEN: usize = u8::MAX as usize;

fn malformed(message: impl Into<String>) -> CrlError {
    CrlError::Malformed(message.into())
}

/// Maps a der error, naming the field being read.
fn bad(what: &'static str) -> impl Fn(der::Error) -> CrlError {
    move |e| CrlError::Malformed(format!("{what}: {e}"))
}

/// Names where an error happened, keeping its kind.
fn within(e: CrlError, place: &str) -> CrlError {
    match e {
        CrlError::Malformed(m) => CrlError::Malformed(format!("{place}: {m}")),
        CrlError::UnsupportedCritical(m) => CrlError::UnsupportedCritical(format!("{m} ({place})")),
        other => other,
    }
}

fn reader<'a>(bytes: &'a [u8], what: &'static str) -> Result<SliceReader<'a>, CrlError> {
    SliceReader::new(bytes).map_err(bad(what))
}

/// The tag of the next element, or `None` at the end.
fn peek(r: &SliceReader<'_>) -> Option<Tag> {
    if r.is_finished() {
        None
    } else {
        r.peek_tag().ok()
    }
}

/// Reads one element with `tag` and returns its content.
fn element<'a>(
    r: &mut SliceReader<'a>,
    tag: Tag,
    what: &'static str,
) -> Result<&'a [u8], CrlError> {
    let header = Header::decode(r).map_err(bad(what))?;
    if header.tag != tag {
        return Err(malformed(format!(
            "{what}: expected {tag}, found {}",
            header.tag
        )));
    }
    r.read_slice(header.length).map_err(bad(what))
}

fn finish(r: SliceReader<'_>, what: &'static str) -> Result<(), CrlError> {
    r.finish(()).map_err(bad(what))
}

/// UTCTime or GeneralizedTime (DER forms: seconds present, `Z`, no fraction) to unix seconds.
fn time(r: &mut SliceReader<'_>, what: &'static str) -> Result<i64, CrlError> {
    let since_epoch = match peek(r) {
        Some(Tag::UtcTime) => r.decode::<UtcTime>().map(|t| t.to_unix_duration()),
        Some(Tag::GeneralizedTime) => r.decode::<GeneralizedTime>().map(|t| t.to_unix_duration()),
        _ => {
            return Err(malformed(format!(
                "{what} is not a UTCTime or GeneralizedTime"
            )))
        }
    }
    .map_err(bad(what))?;
    i64::try_from(since_epoch.as_secs()).map_err(|_| malformed(format!("{what} out of range")))
}

/// Where `part` (a subslice of `base`) starts in `base`.
fn offset_in(base: &[u8], part: &[u8]) -> Option<u32> {
    let offset = (part.as_ptr() as usize).checked_sub(base.as_ptr() as usize)?;
    if offset.checked_add(part.len())? > base.len() {
        return None;
    }
    u32::try_from(offset).ok()
}

/// The DER inside a PEM "X509 CRL" block (text around the block is ignored).
fn from_pem(input: &[u8]) -> Result<Vec<u8>, CrlError> {
    let text = std::str::from_utf8(input)
        .map_err(|_| malformed("neither DER (a SEQUENCE) nor PEM with the label \"X509 CRL\""))?;
    let (label, der) = crate::x509::pem::first_block(text).map_err(|e| match e {
        crate::x509::pem::PemError::NoBegin => {
            malformed("neither DER (a SEQUENCE) nor PEM with the label \"X509 CRL\"")
        }
        other => malformed(format!("PEM: {other}")),
    })?;
    if label != "X509 CRL" {
        return Err(malformed(format!(
            "PEM label {label:?}, expected \"X509 CRL\""
        )));
    }
    Ok(der)
}

pub(super) fn parse(input: &[u8]) -> Result<Crl, CrlError> {
    if input.len() > MAX_CRL_BYTES {
        return Err(CrlError::TooLarge(input.len()));
    }
    if input.first() == Some(&0x30) {
        parse_der(input)
    } else {
        parse_der(&from_pem(input)?)
    }
}

fn parse_der(der: &[u8]) -> Result<Crl, CrlError> {
    let mut outer = reader(der, "CertificateList")?;
    let list = element(&mut outer, Tag::Sequence, "CertificateList")?;
    finish(outer, "CertificateList")?;
    let mut r = reader(list, "CertificateList")?;
    let tbs_tlv = r.tlv_bytes().map_err(bad("tbsCertList"))?;
    let outer_algorithm: AlgorithmIdentifierOwned =
        r.decode().map_err(bad("signatureAlgorithm"))?;
    let signature: BitString = r.decode().map_err(bad("signatureValue"))?;
    finish(r, "CertificateList")?;
    let signature = signature
        .as_bytes()
        .ok_or_else(|| malformed("signatureValue is not whole bytes"))?;

    let tbs: Box<[u8]> = tbs_tlv.into();
    let mut t = reader(&tbs, "tbsCertList")?;
    let content = element(&mut t, Tag::Sequence, "tbsCertList")?;
    finish(t, "tbsCertList")?;
    let mut t = reader(content, "tbsCertList")?;

    let version = if peek(&t) == Some(Tag::Integer) {
        match t.decode::<u8>().map_err(bad("version"))? {
            0 => 1,
            1 => 2,
            v => {
                let shown = u16::from(v) + 1;
                return Err(malformed(format!(
                    "version v{shown} (only v1 and v2 exist)"
                )));
            }
        }
    } else {
        1
    };
    let tbs_algorithm: AlgorithmIdentifierOwned = t.decode().map_err(bad("signature"))?;
    let issuer_der = t.tlv_bytes().map_err(bad("issuer"))?;
    // A Name is a SEQUENCE of SETs, which the decoder sorts quadratically: bounded first.
    crate::x509::check_set_sizes(issuer_der).map_err(bad("issuer"))?;
    let issuer = Name::from_der(issuer_der).map_err(bad("issuer"))?;
    let this_update = time(&mut t, "thisUpdate")?;
    let next_update = match peek(&t) {
        Some(Tag::UtcTime | Tag::GeneralizedTime) => Some(time(&mut t, "nextUpdate")?),
        _ => None,
    };
    if next_update.is_some_and(|next| next < this_update) {
        return Err(malformed("nextUpdate is before thisUpdate"));
    }
    let revoked = match peek(&t) {
        Some(Tag::Sequence) => Some(element(&mut t, Tag::Sequence, "revokedCertificates")?),
        _ => None,
    };
    let extensions = match peek(&t) {
        Some(CRL_EXTENSIONS) => {
            let explicit = element(&mut t, CRL_EXTENSIONS, "crlExtensions")?;
            let mut e = reader(explicit, "crlExtensions")?;
            let list = element(&mut e, Tag::Sequence, "crlExtensions")?;
            finish(e, "crlExtensions")?;
            Some(list)
        }
        _ => None,
    };
    finish(t, "tbsCertList (fields out of order or unknown)")?;

    let mut header = CrlExtensions::default();
    if let Some(list) = extensions {
        if version == 1 {
            return Err(malformed("a v1 CRL carries crlExtensions"));
        }
        header.read(list)?;
    }
    let index = match revoked {
        Some(list) => entries(list, &tbs, version == 2)?,
        None => SerialIndex::with_capacity(0).ok_or_else(|| malformed("no index"))?,
    };

    // What this CRL is, by content: caches of checked signatures key on it (never on where the
    // CRL happens to sit in memory, which a later, different CRL may reuse).
    let fingerprint = crate::crypto::sha256_parts(&[&tbs, signature]);
    Ok(Crl {
        fingerprint,
        tbs_algorithm,
        outer_algorithm,
        signature: signature.into(),
        version,
        issuer,
        issuer_der: issuer_der.into(),
        this_update,
        next_update,
        extensions: header,
        index,
        tbs,
    })
}

/// One Extension: `SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`.
struct Extension<'a> {
    oid: &'a [u8],
    critical: bool,
    value: &'a [u8],
}

/// Calls `each` for every Extension in the content of an Extensions SEQUENCE.
fn for_each_extension<'a>(
    list: &'a [u8],
    mut each: impl FnMut(Extension<'a>) -> Result<(), CrlError>,
) -> Result<(), CrlError> {
    let mut r = reader(list, "Extensions")?;
    while !r.is_finished() {
        let body = element(&mut r, Tag::Sequence, "Extension")?;
        let mut e = reader(body, "Extension")?;
        let oid = element(&mut e, Tag::ObjectIdentifier, "extnID")?;
        let critical = match peek(&e) {
            Some(Tag::Boolean) => e.decode::<bool>().map_err(bad("critical"))?,
            _ => false,
        };
        let value = element(&mut e, Tag::OctetString, "extnValue")?;
        finish(e, "Extension")?;
        each(Extension {
            oid,
            critical,
            value,
        })?;
    }
    Ok(())
}

/// An extension's OID for messages: dotted, with its name when the OID database knows it.
fn describe(oid: &[u8]) -> String {
    match ObjectIdentifier::from_bytes(oid) {
        Ok(oid) => match DB.by_oid(&oid) {
            Some(name) => format!("{oid} ({name})"),
            None => oid.to_string(),
        },
        Err(_) => format!("with a malformed OID {}", hex::encode(oid)),
    }
}

/// An unsigned INTEGER's magnitude bytes as u64, if it fits.
fn to_u64(magnitude: &[u8]) -> Option<u64> {
    if magnitude.len() > 8 {
        return None;
    }
    Some(magnitude.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)))
}

/// What the CRL-level extensions say.
#[derive(Default, Clone)]
pub(super) struct CrlExtensions {
    pub(super) number: Option<u64>,
    pub(super) delta_base: Option<u64>,
    pub(super) is_delta: bool,
    pub(super) authority_key_id: Option<Box<[u8]>>,
    pub(super) freshest_crl_urls: Vec<String>,
    pub(super) scope: Option<CrlScope>,
    /// The issuingDistributionPoint extension value as encoded, to compare full and delta.
    pub(super) scope_der: Option<Box<[u8]>>,
    /// ExpiredCertsOnCRL (X.509 (10/2012) §9.6.2.9; OID 2.5.29.60): the CRL still lists
    /// certificates that expired at or after this time. Unix seconds.
    pub(super) expired_certs_on_crl: Option<i64>,
}

fn uris(name: Option<DistributionPointName>) -> Vec<String> {
    match name {
        Some(DistributionPointName::FullName(names)) => names
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl CrlExtensions {
    fn read(&mut self, list: &[u8]) -> Result<(), CrlError> {
        // A set, not a list: the extensions are read before the signature can be checked, and
        // a quadratic duplicate check over a crafted list would be a way to stall us.
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for_each_extension(list, |ext| {
            if !seen.insert(ext.oid) {
                return Err(malformed(format!(
                    "crlExtensions: extension {} appears twice",
                    describe(ext.oid)
                )));
            }
            self.one(&ext)
        })
    }

    fn one(&mut self, ext: &Extension<'_>) -> Result<(), CrlError> {
        let oid = ext.oid;
        if oid == rfc5280::ID_CE_CRL_NUMBER.as_bytes() {
            let n = CrlNumber::from_der(ext.value).map_err(bad("CRL Number"))?;
            self.number = to_u64(n.0.as_bytes());
        } else if oid == rfc5280::ID_CE_DELTA_CRL_INDICATOR.as_bytes() {
            let base = BaseCrlNumber::from_der(ext.value).map_err(bad("Delta CRL Indicator"))?;
            self.is_delta = true;
            self.delta_base = to_u64(base.0.as_bytes());
        } else if oid == rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER.as_bytes() {
            let aki = AuthorityKeyIdentifier::from_der(ext.value)
                .map_err(bad("Authority Key Identifier"))?;
            self.authority_key_id = aki.key_identifier.map(|id| id.as_bytes().into());
        } else if oid == rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT.as_bytes() {
            let idp = IssuingDistributionPoint::from_der(ext.value)
                .map_err(bad("issuingDistributionPoint"))?;
            if idp.indirect_crl {
                return Err(CrlError::UnsupportedCritical(
                    "issuingDistributionPoint with indirectCRL (indirect CRLs are not supported)"
                        .into(),
                ));
            }
            if idp.only_some_reasons.is_some() {
                return Err(CrlError::UnsupportedCritical(
                    "issuingDistributionPoint with onlySomeReasons (CRLs partitioned by reason \
                     are not supported)"
                        .into(),
                ));
            }
            self.scope = Some(CrlScope {
                distribution_point_urls: uris(idp.distribution_point),
                only_user_certs: idp.only_contains_user_certs,
                only_ca_certs: idp.only_contains_ca_certs,
                only_attribute_certs: idp.only_contains_attribute_certs,
            });
            self.scope_der = Some(ext.value.into());
        } else if oid == rfc5280::ID_CE_FRESHEST_CRL.as_bytes() {
            let freshest = FreshestCrl::from_der(ext.value).map_err(bad("Freshest CRL"))?;
            self.freshest_crl_urls = freshest
                .0
                .into_iter()
                .flat_map(|dp| uris(dp.distribution_point))
                .collect();
        } else if oid == super::ID_CE_EXPIRED_CERTS_ON_CRL.as_bytes() {
            let since = GeneralizedTime::from_der(ext.value).map_err(bad("ExpiredCertsOnCRL"))?;
            self.expired_certs_on_crl = Some(crate::time::unix(&since.to_unix_duration()));
        } else if oid == rfc5280::ID_PE_AUTHORITY_INFO_ACCESS.as_bytes() {
            // Recognised: where the issuer's certificate is; the path builder reads it elsewhere.
        } else if ext.critical {
            return Err(CrlError::UnsupportedCritical(describe(oid)));
        }
        Ok(())
    }
}

/// Walks revokedCertificates into the index: a first pass counts the entries so the table is
/// allocated once, at its final size.
fn entries(list: &[u8], tbs: &[u8], v2: bool) -> Result<SerialIndex, CrlError> {
    let mut count = 0usize;
    let mut r = reader(list, "revokedCertificates")?;
    while !r.is_finished() {
        element(&mut r, Tag::Sequence, "revokedCertificates")?;
        count += 1;
    }
    let mut index =
        SerialIndex::with_capacity(count).ok_or_else(|| malformed("too many entries"))?;
    let mut r = reader(list, "revokedCertificates")?;
    let mut number = 0usize;
    let mut batch = [Record::default(); BATCH];
    let mut filled = 0;
    while !r.is_finished() {
        number += 1;
        let body = element(&mut r, Tag::Sequence, "revokedCertificates")?;
        let record =
            entry(body, tbs, v2).map_err(|e| within(e, &format!("revoked entry #{number}")))?;
        if let Some(slot) = batch.get_mut(filled) {
            *slot = record;
            filled += 1;
        }
        if filled == BATCH || r.is_finished() {
            if !index.insert(tbs, batch.get(..filled).unwrap_or_default()) {
                return Err(malformed(format!(
                    "entries up to #{number} could not be indexed"
                )));
            }
            filled = 0;
        }
    }
    Ok(index)
}

fn entry(body: &[u8], tbs: &[u8], v2: bool) -> Result<Record, CrlError> {
    let mut r = reader(body, "revoked entry")?;
    let serial = element(&mut r, Tag::Integer, "userCertificate")?;
    if serial.is_empty() {
        return Err(malformed("userCertificate: empty INTEGER"));
    }
    let serial = canonical(serial);
    if serial.len() > MAX_SERIAL_LEN {
        return Err(malformed(format!(
            "userCertificate: a {}-byte serial number",
            serial.len()
        )));
    }
    let revoked_at = time(&mut r, "revocationDate")?;
    let mut reason = NO_REASON;
    if !r.is_finished() {
        if !v2 {
            return Err(malformed("a v1 CRL entry carries crlEntryExtensions"));
        }
        let list = element(&mut r, Tag::Sequence, "crlEntryExtensions")?;
        reason = entry_extensions(list)?;
    }
    finish(r, "revoked entry")?;
    let at = offset_in(tbs, serial).ok_or_else(|| malformed("serial outside the TBS"))?;
    Ok(Record::new(revoked_at, at, serial.len() as u8, reason))
}

/// Returns the reasonCode (or [`NO_REASON`]); refuses indirect-CRL entries and unknown critical
/// extensions.
fn entry_extensions(list: &[u8]) -> Result<u8, CrlError> {
    let mut reason = NO_REASON;
    let mut seen = 0u8;
    for_each_extension(list, |ext| {
        let (bit, known) = if ext.oid == rfc5280::ID_CE_CRL_REASONS.as_bytes() {
            reason = reason_code(ext.value)?;
            (1, true)
        } else if ext.oid == rfc5280::ID_CE_INVALIDITY_DATE.as_bytes() {
            (2, true) // when the key was compromised: informative only
        } else if ext.oid == rfc5280::ID_CE_HOLD_INSTRUCTION_CODE.as_bytes() {
            (4, true) // what to do with a held certificate: informative only
        } else if ext.oid == rfc5280::ID_CE_CERTIFICATE_ISSUER.as_bytes() {
            // It changes whose certificates this and the following entries list (RFC 5280
            // §5.3.3): an indirect CRL. It can be neither ignored nor honoured here.
            return Err(if ext.critical {
                CrlError::UnsupportedCritical(
                    "certificateIssuer (indirect CRLs are not supported)".into(),
                )
            } else {
                malformed("certificateIssuer entry extension not marked critical")
            });
        } else {
            (0, false)
        };
        if !known && ext.critical {
            return Err(CrlError::UnsupportedCritical(describe(ext.oid)));
        }
        if seen & bit != 0 {
            return Err(malformed(format!(
                "crlEntryExtensions: extension {} appears twice",
                describe(ext.oid)
            )));
        }
        seen |= bit;
        Ok(())
    })?;
    Ok(reason)
}

/// `CRLReason ::= ENUMERATED`, DER: `0A 01 nn` with nn one of RFC 5280's codes (7 is unused).
fn reason_code(value: &[u8]) -> Result<u8, CrlError> {
    match value {
        [0x0A, 0x01, code @ (0..=6 | 8..=10)] => Ok(*code),
        _ => Err(malformed(format!(
            "reasonCode is not an RFC 5280 CRLReason: {}",
            hex::encode(value)
        ))),
    }
}
