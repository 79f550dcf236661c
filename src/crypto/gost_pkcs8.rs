//! NCA's GOST keys in PKCS#8 and SubjectPublicKeyInfo: the OIDs and the scalar's encoding for
//! both generations, as NCA's own key stores and certificates write them.

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::algorithm::{
    GOST_2004_DIGEST_PARAMETERS, GOST_2004_PARAMETERS, GOST_2004_PUBLIC_KEY, GOST_512_DIGEST,
    GOST_512_PARAMETERS, GOST_512_PUBLIC_KEY,
};
use super::{gost, CryptoError, KeyAlgorithm};

/// The key type NCA's GOST key OID names.
pub(super) fn gost_key_algorithm(oid: ObjectIdentifier) -> Option<KeyAlgorithm> {
    match oid {
        GOST_512_PUBLIC_KEY => Some(KeyAlgorithm::Gost2015),
        GOST_2004_PUBLIC_KEY => Some(KeyAlgorithm::Gost2004),
        _ => None,
    }
}

/// NCA's key OID and SEQUENCE { curve, digest parameters } for a suite, as in its certificates
/// and key stores.
fn gost_oids(suite: gost::Suite) -> (ObjectIdentifier, GostKeyParameters) {
    match suite {
        gost::Suite::Gost2015 => (
            GOST_512_PUBLIC_KEY,
            GostKeyParameters {
                curve: GOST_512_PARAMETERS,
                digest: GOST_512_DIGEST,
            },
        ),
        gost::Suite::Gost2004 => (
            GOST_2004_PUBLIC_KEY,
            GostKeyParameters {
                curve: GOST_2004_PARAMETERS,
                digest: GOST_2004_DIGEST_PARAMETERS,
            },
        ),
    }
}

/// NCA's AlgorithmIdentifier for GOST keys: the key OID with SEQUENCE { curve parameters,
/// digest }, as in its certificates and key stores.
pub(super) fn gost_key_identifier(
    suite: gost::Suite,
) -> Result<AlgorithmIdentifierOwned, CryptoError> {
    let (oid, parameters) = gost_oids(suite);
    let parameters =
        Any::encode_from(&parameters).map_err(|e| CryptoError::BadPublicKey(e.to_string()))?;
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: Some(parameters),
    })
}

#[derive(der::Sequence)]
struct GostKeyParameters {
    curve: ObjectIdentifier,
    digest: ObjectIdentifier,
}

/// A PKCS#8 PrivateKeyInfo in NCA's GOST form. privateKey holds the scalar as NCA's key stores
/// do (measured): for GOST-2015 a DER OCTET STRING of the 64 bytes little-endian, for
/// GOST 34.310-2004 a DER INTEGER (big-endian, as any INTEGER).
pub(super) fn gost_pkcs8(
    suite: gost::Suite,
    d_le: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let failed = |e: der::Error| CryptoError::KeyGeneration(e.to_string());
    let inner = Zeroizing::new(match suite {
        gost::Suite::Gost2015 => der::asn1::OctetStringRef::new(d_le)
            .and_then(|o| o.to_der())
            .map_err(failed)?,
        gost::Suite::Gost2004 => {
            let d_be = Zeroizing::new(d_le.iter().rev().copied().collect::<Vec<u8>>());
            der::asn1::UintRef::new(&d_be)
                .and_then(|i| i.to_der())
                .map_err(failed)?
        }
    });
    let identifier = gost_key_identifier(suite)?;
    let parameters = identifier
        .parameters
        .as_ref()
        .map(Any::to_der)
        .transpose()
        .map_err(failed)?;
    let parameters = parameters
        .as_deref()
        .map(der::AnyRef::try_from)
        .transpose()
        .map_err(failed)?;
    let info = pkcs8::PrivateKeyInfo {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: identifier.oid,
            parameters,
        },
        private_key: &inner,
        public_key: None,
    };
    Ok(Zeroizing::new(info.to_der().map_err(failed)?))
}

/// The GOST key in a PKCS#8 PrivateKeyInfo: the curve must be the suite's (NCA's 512-bit set A,
/// or CryptoPro-A for GOST 34.310-2004), and the key an OCTET STRING of the little-endian scalar,
/// a DER INTEGER (NCA's 2004 key stores), or a bare little-endian value.
pub(super) fn gost_key_from_pkcs8(
    info: &pkcs8::PrivateKeyInfo<'_>,
    suite: gost::Suite,
) -> Result<gost::PrivateKey, CryptoError> {
    let parameters: Option<GostKeyParameters> = info
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as().ok());
    let (_, expected) = gost_oids(suite);
    if parameters.map(|p| p.curve) != Some(expected.curve) {
        return Err(CryptoError::UnsupportedKey(format!(
            "{} keys on curves other than NCA's ({})",
            suite.name(),
            expected.curve
        )));
    }
    if let Ok(integer) = der::asn1::UintRef::from_der(info.private_key) {
        let d_be = integer.as_bytes();
        if d_be.len() > suite.size() {
            return Err(CryptoError::BadPrivateKey(format!(
                "{}: the scalar is longer than {} bytes",
                suite.name(),
                suite.size()
            )));
        }
        let mut d_le = Zeroizing::new(vec![0u8; suite.size()]);
        for (to, from) in d_le.iter_mut().zip(d_be.iter().rev()) {
            *to = *from;
        }
        return gost::PrivateKey::from_le_bytes(suite.curve(), &d_le);
    }
    let scalar = match der::asn1::OctetStringRef::from_der(info.private_key) {
        Ok(octets) => octets.as_bytes(),
        Err(_) => info.private_key,
    };
    gost::PrivateKey::from_le_bytes(suite.curve(), scalar)
}
