//! Opening PKCS#12 key stores.

use const_oid::ObjectIdentifier;
use zeroize::Zeroizing;

use super::pbe::{self, bmp_password, Budget, Hash, Password};
use super::{invalid, KeyStoreContents, KeyStoreError, MAX_BAGS, MAX_INPUT_LEN};
use crate::x509::ber::{
    self, Tlv, TAG_BMP_STRING, TAG_CTX0_CONSTRUCTED, TAG_CTX0_PRIMITIVE, TAG_SET,
};

type Result<T> = std::result::Result<T, KeyStoreError>;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

pub(super) const DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.1");
const SIGNED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.2");
const ENVELOPED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.3");
pub(super) const ENCRYPTED_DATA: ObjectIdentifier = oid("1.2.840.113549.1.7.6");
pub(super) const KEY_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.1");
pub(super) const SHROUDED_KEY_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.2");
pub(super) const CERT_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.3");
const SAFE_CONTENTS_BAG: ObjectIdentifier = oid("1.2.840.113549.1.12.10.1.6");
pub(super) const X509_CERTIFICATE: ObjectIdentifier = oid("1.2.840.113549.1.9.22.1");
pub(super) const FRIENDLY_NAME: ObjectIdentifier = oid("1.2.840.113549.1.9.20");
pub(super) const LOCAL_KEY_ID: ObjectIdentifier = oid("1.2.840.113549.1.9.21");
const PBMAC1: ObjectIdentifier = oid("1.2.840.113549.1.5.14");

/// Deepest nesting of safeContentsBags accepted.
const MAX_NESTED_SAFE_CONTENTS: usize = 3;

pub(super) fn open(pfx: &[u8], password: &str) -> Result<KeyStoreContents> {
    if pfx.is_empty() {
        return Err(invalid("empty input"));
    }
    if pfx.len() > MAX_INPUT_LEN {
        return Err(invalid(format!(
            "input of {} bytes exceeds the limit of {MAX_INPUT_LEN}",
            pfx.len()
        )));
    }
    let top = ber::parse_exact(pfx)?.sequence("PFX")?;
    let (version, auth_safe, mac_data) = match top.as_slice() {
        [v, a] => (v, a, None),
        [v, a, m] => (v, a, Some(m)),
        _ => return Err(invalid("malformed PFX")),
    };
    if version.uint("PFX version")? != 3 {
        return Err(invalid("PFX version is not 3"));
    }
    let (content_type, content) = content_info(auth_safe)?;
    match content_type {
        DATA => {}
        SIGNED_DATA => {
            return Err(KeyStoreError::Unsupported(format!(
                "public-key integrity mode ({content_type})"
            )))
        }
        other => return Err(invalid(format!("authSafe of content type {other}"))),
    }
    let auth_safe = content
        .ok_or_else(|| invalid("authSafe without content"))?
        .octet_string("authSafe content")?;

    // The MAC is checked before anything is decrypted; it also tells which password form works.
    let mut budget = Budget::new();
    let (bmp, mac_verified) = match mac_data {
        Some(mac) => (verify_mac(mac, &auth_safe, password, &mut budget)?, true),
        None => (bmp_password(password), false),
    };
    let mut reader = Reader {
        password: Password {
            utf8: Zeroizing::new(password.as_bytes().to_vec()),
            bmp: Some(bmp),
        },
        budget,
        mac_verified,
        bags: 0,
        key: None,
        certs: Vec::new(),
    };
    let safes = ber::parse_exact(&auth_safe)?.sequence("AuthenticatedSafe")?;
    if safes.len() > MAX_BAGS {
        return Err(invalid("too many ContentInfos in the AuthenticatedSafe"));
    }
    for safe in &safes {
        reader.content_info(safe)?;
    }
    reader.finish()
}

/// `ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY OPTIONAL }`
fn content_info<'a>(tlv: &Tlv<'a>) -> Result<(ObjectIdentifier, Option<Tlv<'a>>)> {
    let items = tlv.sequence("ContentInfo")?;
    match items.as_slice() {
        [ct] => Ok((ct.oid("content type")?, None)),
        [ct, content] => Ok((
            ct.oid("content type")?,
            Some(explicit0(content, "content")?),
        )),
        _ => Err(invalid("malformed ContentInfo")),
    }
}

/// The single element inside an `[0] EXPLICIT` wrapper.
fn explicit0<'a>(tlv: &Tlv<'a>, what: &str) -> Result<Tlv<'a>> {
    match tlv
        .expect(TAG_CTX0_CONSTRUCTED, what)?
        .children()?
        .as_slice()
    {
        [inner] => Ok(*inner),
        _ => Err(invalid(format!("{what}: malformed [0] EXPLICIT"))),
    }
}

/// Verify the MAC and return the PKCS#12-KDF password form that verified it.
fn verify_mac(
    mac_data: &Tlv<'_>,
    data: &[u8],
    password: &str,
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let items = mac_data.sequence("MacData")?;
    let (digest_info, salt, iterations) = match items.as_slice() {
        [d, s] => (d, s, None),
        [d, s, i] => (d, s, Some(i)),
        _ => return Err(invalid("malformed MacData")),
    };
    let [alg, digest] = digest_info.sequence("DigestInfo")?[..] else {
        return Err(invalid("malformed DigestInfo"));
    };
    let (digest_oid, _) = ber::algorithm(&alg, "MAC digest algorithm")?;
    if digest_oid == PBMAC1 {
        return Err(KeyStoreError::Unsupported(format!("PBMAC1 ({digest_oid})")));
    }
    let hash = Hash::from_digest_oid(digest_oid)
        .ok_or_else(|| KeyStoreError::Unsupported(format!("MAC digest {digest_oid}")))?;
    let expected = digest.octet_string("MAC digest")?;
    let salt = salt.octet_string("MAC salt")?;
    let iterations = match iterations {
        Some(i) => i.uint("MAC iteration count")?,
        None => 1, // DEFAULT 1
    };

    // UTF-16 as OpenSSL 3 writes; for "" also the absent password (OpenSSL tries both); for
    // non-ASCII also each UTF-8 byte widened, which older OpenSSL versions wrote.
    let mut candidates = vec![bmp_password(password)];
    if password.is_empty() {
        candidates.push(Zeroizing::new(Vec::new()));
    } else if !password.is_ascii() {
        let mut widened = Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
        for b in password.bytes() {
            widened.extend_from_slice(&[0, b]);
        }
        widened.extend_from_slice(&[0, 0]);
        candidates.push(widened);
    }
    for candidate in candidates {
        let rounds = budget.spend(iterations)?;
        if pbe::pkcs12_mac_verify(hash, &candidate, &salt, rounds, data, &expected) {
            return Ok(candidate);
        }
    }
    Err(KeyStoreError::WrongPassword)
}

#[derive(Default)]
struct BagAttributes {
    local_key_id: Option<Vec<u8>>,
    friendly_name: Option<String>,
}

struct Cert {
    der: Vec<u8>,
    attributes: BagAttributes,
}

struct Reader {
    password: Password,
    budget: Budget,
    mac_verified: bool,
    bags: usize,
    key: Option<(Zeroizing<Vec<u8>>, BagAttributes)>,
    certs: Vec<Cert>,
}

impl Reader {
    fn content_info(&mut self, tlv: &Tlv<'_>) -> Result<()> {
        let (content_type, content) = content_info(tlv)?;
        let content = content.ok_or_else(|| invalid("ContentInfo without content"));
        match content_type {
            DATA => {
                let bytes = content?.octet_string("data content")?;
                self.safe_contents(&ber::parse_exact(&bytes)?, 0)
            }
            ENCRYPTED_DATA => {
                let plain = self.encrypted_data(&content?)?;
                let parsed =
                    ber::parse_exact(&plain).map_err(|_| self.undecryptable("SafeContents"))?;
                self.safe_contents(&parsed, 0)
            }
            ENVELOPED_DATA => Err(KeyStoreError::Unsupported(format!(
                "public-key privacy mode ({content_type})"
            ))),
            other => Err(KeyStoreError::Unsupported(format!("content type {other}"))),
        }
    }

    /// `EncryptedData ::= SEQUENCE { version, EncryptedContentInfo, [1] attrs OPTIONAL }`
    fn encrypted_data(&mut self, tlv: &Tlv<'_>) -> Result<Zeroizing<Vec<u8>>> {
        let items = tlv.sequence("EncryptedData")?;
        let (version, info) = match items.as_slice() {
            [v, i] | [v, i, _] => (v, i),
            _ => return Err(invalid("malformed EncryptedData")),
        };
        version.uint("EncryptedData version")?;
        let [content_type, alg, content] = info.sequence("EncryptedContentInfo")?[..] else {
            return Err(invalid("EncryptedContentInfo without encrypted content"));
        };
        content_type.oid("encrypted content type")?;
        if content.tag & !0x20 != TAG_CTX0_PRIMITIVE {
            return Err(invalid("malformed encrypted content"));
        }
        let ciphertext = content.octets()?;
        self.decrypt(&alg, &ciphertext)
    }

    fn decrypt(&mut self, alg: &Tlv<'_>, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        match pbe::decrypt(alg, ciphertext, &self.password, &mut self.budget) {
            Err(KeyStoreError::WrongPassword) => Err(self.undecryptable("encrypted data")),
            other => other,
        }
    }

    /// What a failed decryption means: with a verified MAC the password was right, so the
    /// store is broken; without a MAC it is most likely the password.
    fn undecryptable(&self, what: &str) -> KeyStoreError {
        if self.mac_verified {
            invalid(format!("{what} does not decrypt although the MAC verified"))
        } else {
            KeyStoreError::WrongPassword
        }
    }

    fn safe_contents(&mut self, tlv: &Tlv<'_>, depth: usize) -> Result<()> {
        for bag in tlv.sequence("SafeContents")? {
            self.bags += 1;
            if self.bags > MAX_BAGS {
                return Err(invalid(format!("more than {MAX_BAGS} bags")));
            }
            self.safe_bag(&bag, depth)?;
        }
        Ok(())
    }

    fn safe_bag(&mut self, bag: &Tlv<'_>, depth: usize) -> Result<()> {
        let items = bag.sequence("SafeBag")?;
        let (id, value, attributes) = match items.as_slice() {
            [id, v] => (id, v, None),
            [id, v, a] => (id, v, Some(a)),
            _ => return Err(invalid("malformed SafeBag")),
        };
        let id = id.oid("bag id")?;
        let value = explicit0(value, "bag value")?;
        let attributes = match attributes {
            Some(a) => bag_attributes(a)?,
            None => BagAttributes::default(),
        };
        match id {
            KEY_BAG => {
                if !ber::is_single_sequence(value.raw) {
                    return Err(invalid("keyBag holds no PrivateKeyInfo"));
                }
                self.add_key(Zeroizing::new(value.raw.to_vec()), attributes);
            }
            // Only the first key is used: later ones are not decrypted (no work spent on them).
            SHROUDED_KEY_BAG if self.key.is_none() => {
                let [alg, data] = value.sequence("EncryptedPrivateKeyInfo")?[..] else {
                    return Err(invalid("malformed EncryptedPrivateKeyInfo"));
                };
                let ciphertext = data.octet_string("encrypted private key")?;
                let key = self.decrypt(&alg, &ciphertext)?;
                if !ber::is_single_sequence(&key) {
                    return Err(self.undecryptable("private key"));
                }
                self.add_key(key, attributes);
            }
            CERT_BAG => {
                let [cert_type, cert_value] = value.sequence("CertBag")?[..] else {
                    return Err(invalid("malformed CertBag"));
                };
                if cert_type.oid("certificate type")? != X509_CERTIFICATE {
                    return Ok(()); // e.g. SDSI certificates: not ours
                }
                let der = explicit0(&cert_value, "certificate")?
                    .octet_string("certificate")?
                    .into_owned();
                if !ber::is_single_sequence(&der) {
                    return Err(invalid("certificate bag holds no DER certificate"));
                }
                self.certs.push(Cert { der, attributes });
            }
            SAFE_CONTENTS_BAG => {
                if depth >= MAX_NESTED_SAFE_CONTENTS {
                    return Err(invalid("safeContentsBags nested too deep"));
                }
                self.safe_contents(&value, depth + 1)?;
            }
            _ => {} // CRL, secret and further key bags
        }
        Ok(())
    }

    fn add_key(&mut self, key: Zeroizing<Vec<u8>>, attributes: BagAttributes) {
        if self.key.is_none() {
            self.key = Some((key, attributes));
        }
    }

    fn finish(mut self) -> Result<KeyStoreContents> {
        let (private_key_pkcs8, key_attributes) =
            self.key.take().ok_or(KeyStoreError::NoPrivateKey)?;
        if self.certs.is_empty() {
            return Err(KeyStoreError::NoCertificate);
        }
        let leaf = key_attributes
            .local_key_id
            .as_ref()
            .and_then(|id| {
                self.certs
                    .iter()
                    .position(|c| c.attributes.local_key_id.as_ref() == Some(id))
            })
            .unwrap_or(0);
        let leaf = self.certs.remove(leaf);
        Ok(KeyStoreContents {
            private_key_pkcs8,
            certificate: leaf.der,
            chain: self.certs.into_iter().map(|c| c.der).collect(),
            friendly_name: key_attributes
                .friendly_name
                .or(leaf.attributes.friendly_name),
        })
    }
}

/// `SET OF Attribute`: picks out localKeyId and friendlyName, ignores the rest.
fn bag_attributes(tlv: &Tlv<'_>) -> Result<BagAttributes> {
    let mut out = BagAttributes::default();
    for attribute in tlv.expect(TAG_SET, "bag attributes")?.children()? {
        let [attr_type, values] = attribute.sequence("attribute")?[..] else {
            return Err(invalid("malformed bag attribute"));
        };
        let attr_type = attr_type.oid("attribute type")?;
        let values = values.expect(TAG_SET, "attribute values")?.children()?;
        let Some(first) = values.first() else {
            continue;
        };
        match attr_type {
            LOCAL_KEY_ID => out.local_key_id = Some(first.octet_string("localKeyId")?.into_owned()),
            FRIENDLY_NAME if first.tag == TAG_BMP_STRING => {
                out.friendly_name = bmp_to_string(first.content)
            }
            _ => {}
        }
    }
    Ok(out)
}

/// BMPString (UTF-16BE) to a String; `None` if it is not valid UTF-16. A trailing NUL, which
/// some writers add, is dropped.
fn bmp_to_string(bytes: &[u8]) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let s = String::from_utf16(&units).ok()?;
    Some(s.trim_end_matches('\0').to_owned())
}
