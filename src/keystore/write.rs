//! Writing PKCS#12 key stores (DER), laid out as OpenSSL 3 does: an encryptedData with the
//! certificates (leaf first), then a data ContentInfo with the pkcs8ShroudedKeyBag.

use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode, Sequence, Tag};
use sha1::{Digest, Sha1};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use super::pbe::{self, bmp_password, Hash, PBE_SHA1_3DES, PBE_SHA1_RC2_40};
use super::pbes2::{self, Pbes2Kdf};
use super::read::{
    CERT_BAG, DATA, ENCRYPTED_DATA, FRIENDLY_NAME, LOCAL_KEY_ID, SHROUDED_KEY_BAG, X509_CERTIFICATE,
};
use super::{
    encoding, invalid, KeyStoreError, Pkcs12Flavour, LEGACY_ITERATIONS, MODERN_MAC_ITERATIONS,
    MODERN_PBKDF2_ITERATIONS,
};
use crate::x509::ber;

type Result<T> = std::result::Result<T, KeyStoreError>;

#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: Any,
}

#[derive(Sequence)]
struct SafeBag {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: Any,
    bag_attributes: Option<SetOfVec<Attribute>>,
}

#[derive(Sequence)]
struct CertBag {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    cert_value: OctetString,
}

#[derive(Sequence)]
pub(super) struct EncryptedPrivateKeyInfo {
    pub encryption_algorithm: AlgorithmIdentifierOwned,
    pub encrypted_data: OctetString,
}

#[derive(Sequence)]
struct EncryptedData {
    version: u8,
    encrypted_content_info: EncryptedContentInfo,
}

#[derive(Sequence)]
struct EncryptedContentInfo {
    content_type: ObjectIdentifier,
    content_encryption_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    encrypted_content: OctetString,
}

#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

#[derive(Sequence)]
struct MacData {
    mac: DigestInfo,
    mac_salt: OctetString,
    iterations: u32,
}

#[derive(Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ContentInfo,
    mac_data: MacData,
}

pub(super) fn octets(bytes: Vec<u8>) -> Result<OctetString> {
    OctetString::new(bytes).map_err(encoding)
}

pub(super) fn build(
    private_key_pkcs8: &[u8],
    certificate: &[u8],
    chain: &[Vec<u8>],
    password: &str,
    friendly_name: Option<&str>,
    flavour: Pkcs12Flavour,
) -> Result<Vec<u8>> {
    if password.is_empty() {
        return Err(invalid("empty password"));
    }
    if !ber::is_single_sequence(private_key_pkcs8) {
        return Err(invalid("the private key is not a DER PrivateKeyInfo"));
    }
    if !ber::is_single_sequence(certificate) {
        return Err(invalid("the certificate is not DER"));
    }
    if !chain.iter().all(|c| ber::is_single_sequence(c)) {
        return Err(invalid("a chain certificate is not DER"));
    }
    let bmp = bmp_password(password);
    let friendly_name = friendly_name.filter(|n| !n.is_empty());
    // localKeyId ties the key to its certificate: SHA-1 of the certificate, as OpenSSL does.
    let local_key_id = Sha1::digest(certificate).to_vec();
    let attributes = leaf_attributes(&local_key_id, friendly_name)?;

    // Certificates: leaf (with the attributes) first, then the chain without them.
    let mut cert_bags = vec![cert_bag(certificate, Some(attributes.clone()))?];
    for c in chain {
        cert_bags.push(cert_bag(c, None)?);
    }
    let certs_plain = cert_bags.to_der().map_err(encoding)?;

    let (key_alg, key_ct, certs_alg, certs_ct) = match flavour {
        Pkcs12Flavour::Modern => {
            let kdf = || Pbes2Kdf::Pbkdf2Sha256 {
                iterations: MODERN_PBKDF2_ITERATIONS,
            };
            let utf8 = password.as_bytes();
            let (ka, kc) = pbes2::encrypt(kdf(), utf8, private_key_pkcs8)?;
            let (ca, cc) = pbes2::encrypt(kdf(), utf8, &certs_plain)?;
            (ka, kc, ca, cc)
        }
        Pkcs12Flavour::Legacy => {
            let (ka, kc) =
                pbe::pkcs12_pbe_encrypt(PBE_SHA1_3DES, &bmp, private_key_pkcs8, LEGACY_ITERATIONS)?;
            let (ca, cc) =
                pbe::pkcs12_pbe_encrypt(PBE_SHA1_RC2_40, &bmp, &certs_plain, LEGACY_ITERATIONS)?;
            (ka, kc, ca, cc)
        }
    };

    let key_bag = SafeBag {
        bag_id: SHROUDED_KEY_BAG,
        bag_value: Any::encode_from(&EncryptedPrivateKeyInfo {
            encryption_algorithm: key_alg,
            encrypted_data: octets(key_ct)?,
        })
        .map_err(encoding)?,
        bag_attributes: Some(attributes),
    };
    let key_safe = vec![key_bag].to_der().map_err(encoding)?;
    let certs_safe = EncryptedData {
        version: 0,
        encrypted_content_info: EncryptedContentInfo {
            content_type: DATA,
            content_encryption_algorithm: certs_alg,
            encrypted_content: octets(certs_ct)?,
        },
    };
    let auth_safe = vec![
        ContentInfo {
            content_type: ENCRYPTED_DATA,
            content: Any::encode_from(&certs_safe).map_err(encoding)?,
        },
        ContentInfo {
            content_type: DATA,
            content: Any::encode_from(&octets(key_safe)?).map_err(encoding)?,
        },
    ]
    .to_der()
    .map_err(encoding)?;

    let (hash, mac_iterations) = match flavour {
        Pkcs12Flavour::Modern => (Hash::Sha256, MODERN_MAC_ITERATIONS),
        Pkcs12Flavour::Legacy => (Hash::Sha1, LEGACY_ITERATIONS),
    };
    let mac_salt: [u8; 16] = pbe::random_bytes()?;
    let mac = pbe::pkcs12_mac(hash, &bmp, &mac_salt, mac_iterations, &auth_safe);
    let pfx = Pfx {
        version: 3,
        auth_safe: ContentInfo {
            content_type: DATA,
            content: Any::encode_from(&octets(auth_safe)?).map_err(encoding)?,
        },
        mac_data: MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: hash.digest_oid(),
                    parameters: Some(Any::null()),
                },
                digest: octets(mac)?,
            },
            mac_salt: octets(mac_salt.to_vec())?,
            iterations: mac_iterations,
        },
    };
    pfx.to_der().map_err(encoding)
}

fn cert_bag(der: &[u8], attributes: Option<SetOfVec<Attribute>>) -> Result<SafeBag> {
    let bag = CertBag {
        cert_id: X509_CERTIFICATE,
        cert_value: octets(der.to_vec())?,
    };
    Ok(SafeBag {
        bag_id: CERT_BAG,
        bag_value: Any::encode_from(&bag).map_err(encoding)?,
        bag_attributes: attributes,
    })
}

/// localKeyId and, if given, friendlyName (BMPString; UTF-16 so names outside the BMP survive).
fn leaf_attributes(
    local_key_id: &[u8],
    friendly_name: Option<&str>,
) -> Result<SetOfVec<Attribute>> {
    let mut set = SetOfVec::new();
    let single = |tag: Tag, value: Vec<u8>| -> Result<SetOfVec<Any>> {
        let mut values = SetOfVec::new();
        values
            .insert(Any::new(tag, value).map_err(encoding)?)
            .map_err(encoding)?;
        Ok(values)
    };
    set.insert(Attribute {
        oid: LOCAL_KEY_ID,
        values: single(Tag::OctetString, local_key_id.to_vec())?,
    })
    .map_err(encoding)?;
    if let Some(name) = friendly_name {
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
        set.insert(Attribute {
            oid: FRIENDLY_NAME,
            values: single(Tag::BmpString, utf16)?,
        })
        .map_err(encoding)?;
    }
    Ok(set)
}
