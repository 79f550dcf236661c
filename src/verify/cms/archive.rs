//! Archive time-stamps of a CMS signer (archive-time-stamp-v3, ETSI EN 319 122-1 §5.5.3): for
//! each token, the exact bytes its message imprint must be the hash of, recomputed from the
//! signature as it is now and the token's own ats-hash-index-v3 — whose listed certificates,
//! revocation values and unsigned attributes must all still be there. The `timestamp` step
//! then checks the token over those bytes as it checks a signature time-stamp.

use der::{Decode, Encode};

use super::super::evidence::ArchiveStamp;
use crate::crypto::Digest;
use crate::verify::timestamp::read_tst_info;
use crate::x509::cms_archive::{
    archive_time_stamp_v3_input, check_ats_hash_index_v3, AtsHashIndexV3, SignedData,
    ID_AA_ATS_HASH_INDEX_V3, ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
};

/// Does a SignerInfo with these unsigned attributes carry archive time-stamps?
pub(super) fn has_archive_stamps(unsigned_attrs: &super::attributes::Attributes<'_>) -> bool {
    (unsigned_attrs.iter()).any(|a| a.oid == ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
}

/// The archive time-stamps of signer `index` of the SignedData in `der`, each with the bytes
/// it must stamp (or why they cannot be had). `content`: the signed content.
pub(super) fn stamps(der: &[u8], index: usize, content: Option<&[u8]>) -> Vec<ArchiveStamp> {
    let signed = match SignedData::from_content_info(der) {
        Ok(signed) => signed,
        Err(e) => return vec![unreadable(Vec::new(), format!("the SignedData: {e}"))],
    };
    let Ok(signer) = signed.signer(index) else {
        return Vec::new();
    };
    let tokens: Vec<Vec<u8>> = (signer.unsigned_attrs.iter())
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
        .flat_map(|a| a.values.iter())
        .map(|v| v.to_der().unwrap_or_default())
        .collect();
    tokens
        .into_iter()
        .map(|token| {
            let stamped = stamped_bytes(&signed, index, &token, content);
            ArchiveStamp { token, stamped }
        })
        .collect()
}

fn unreadable(token: Vec<u8>, why: String) -> ArchiveStamp {
    ArchiveStamp {
        token,
        stamped: Err(why),
    }
}

fn stamped_bytes(
    signed: &SignedData,
    index: usize,
    token: &[u8],
    content: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let token_data = SignedData::from_content_info(token).map_err(|e| format!("the token: {e}"))?;
    let token_signer = token_data.signer(0).map_err(|e| e.to_string())?;
    let index_value = (token_signer.unsigned_attrs.iter())
        .flat_map(|a| a.iter())
        .find(|a| a.oid == ID_AA_ATS_HASH_INDEX_V3)
        .and_then(|a| a.values.iter().next())
        .ok_or("the archive time-stamp carries no ats-hash-index-v3 (EN 319 122-1 §5.5.2)")?;
    let index_der = index_value.to_der().map_err(|e| e.to_string())?;
    let hash_index = AtsHashIndexV3::from_der(&index_der)
        .map_err(|e| format!("malformed ats-hash-index-v3: {e}"))?;
    check_ats_hash_index_v3(signed, index, &hash_index)?;
    // The content is hashed with the token's own imprint algorithm (§5.5.3 b).
    let tst = (token_data.encap_content_info.econtent.as_ref())
        .ok_or("the archive time-stamp token has no TSTInfo")?;
    let tst = der::asn1::OctetString::from_der(&tst.to_der().map_err(|e| e.to_string())?)
        .map_err(|e| format!("the token's eContent: {e}"))?;
    let info = read_tst_info(tst.as_bytes())?;
    let digest = Digest::from_oid(&info.imprint_algorithm).ok_or_else(|| {
        format!(
            "the imprint's hash algorithm {} is not known",
            info.imprint_algorithm
        )
    })?;
    let content = content.ok_or("no content to hash for the archive time-stamp")?;
    let content_hash = digest
        .digest(content)
        .ok_or_else(|| format!("{} is not computed here", digest.name()))?;
    archive_time_stamp_v3_input(signed, index, &content_hash, &index_der).map_err(|e| e.to_string())
}
